from django.core.management.base import BaseCommand

from insights.models import RiskStatus
from insights.risk import MIN_DETRACTORS, MIN_LABELLED, train_and_score


class Command(BaseCommand):
    help = (
        "Train the detractor-risk model on this instance's history (time-ordered validation), print its "
        "evaluation, and score every eligible contact; the Likely detractors page lists them."
    )

    def handle(self, *args, **options) -> None:
        model = train_and_score(trigger="command")
        m = model.metrics
        self.stdout.write(f"{model.labelled} labelled answers, {model.detractors} detractors.")
        if model.status == RiskStatus.TOO_LITTLE:
            self.stdout.write(
                f"Too little history to predict: at least {MIN_LABELLED} answers and {MIN_DETRACTORS} detractors "
                "are needed. Nothing was scored."
            )
            return
        self.stdout.write(
            f"Validation on the newest {m.get('test_size')} answers (trained on {m.get('train_size')}): "
            f"ROC AUC {m.get('auc')}, 95% lower bound {m.get('auc_lower')}, precision in the top decile "
            f"{m.get('precision_top_decile')} (base rate {m.get('test_base_rate')}), Brier {m.get('brier')}."
        )
        if model.status == RiskStatus.NO_SKILL:
            self.stdout.write(
                "No skill: the model does no better than chance on the newest answers. Nothing was scored."
            )
            return
        self.stdout.write(f"Scored {model.scored} contacts.")
