"""GET /api/v1/nps/: the dashboard's numbers, from the same functions."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import ALL_STAFF, StaffApiMixin

from . import selectors
from .filters import BadFilter, filters_from


class _FromTo(serializers.Serializer):
    # A period's first and last day, as `from` and `to` (`from` is a Python keyword, hence from_).
    from_ = serializers.DateField()
    to = serializers.DateField()

    def get_fields(self):
        fields = super().get_fields()
        fields["from"] = fields.pop("from_")
        return fields


def _filters(request):
    """The dashboard's filters from the query string, or the 400 answer naming the bad one."""
    try:
        return filters_from(request.query_params)[0], None
    except BadFilter as exc:
        name, _, message = str(exc).partition(": ")
        return None, Response({name: [message]}, status=status.HTTP_400_BAD_REQUEST)


class NpsOut(_FromTo):
    stream = serializers.ChoiceField(choices=["relationship", "transactional"])
    filters = serializers.DictField(child=serializers.CharField())
    nps = serializers.FloatField(allow_null=True, help_text="-100 to 100; null without answers")
    responses = serializers.IntegerField()
    promoters = serializers.IntegerField()
    passives = serializers.IntegerField()
    detractors = serializers.IntegerField()
    margin_of_error = serializers.FloatField(allow_null=True, help_text="± at 95 %, in NPS points")
    response_rate = serializers.FloatField(allow_null=True, help_text="answered ÷ delivered, 0 to 1")


PARAMETERS = [
    OpenApiParameter("stream", str, enum=["relationship", "transactional"], description="Default: relationship."),
    OpenApiParameter("period", str, enum=["30d", "90d", "quarter", "year"], description="Default: 90d."),
    OpenApiParameter("from", OpenApiTypes.DATE, description="A custom period's first day (with `to`)."),
    OpenApiParameter("to", OpenApiTypes.DATE, description="A custom period's last day."),
    *[
        OpenApiParameter(name, str, description=f"Only answers with this {label.lower()}.")
        for name, label in (
            ("segment", "Segment"),
            ("plan_tier", "Plan tier"),
            ("region", "Region"),
            ("industry", "Industry"),
            ("product_line", "Product line"),
        )
    ],  # fmt: skip
]


class NpsView(StaffApiMixin, APIView):
    """The dashboard's figures for one stream and period, scoped like the dashboard."""

    allowed_roles = ALL_STAFF

    @extend_schema(parameters=PARAMETERS, responses=NpsOut)
    def get(self, request):
        filters, refusal = _filters(request)
        if refusal:
            return refusal
        score = selectors.summary(request.user, filters).score  # the dashboard's own function
        delivery = selectors.delivery(request.user, filters)
        return Response({
            "stream": filters.stream,
            "from": filters.start.date().isoformat(),
            "to": filters.end.date().isoformat(),
            "filters": filters.dims,
            "nps": score.nps,
            "responses": score.responses,
            "promoters": score.promoters,
            "passives": score.passives,
            "detractors": score.detractors,
            "margin_of_error": score.margin,
            "response_rate": delivery["rate"],
        })  # fmt: skip


# Verbatim intelligence and detractor risk ----------------------------------------------------------


class SuggestionExampleOut(serializers.Serializer):
    response = serializers.IntegerField()
    score = serializers.IntegerField()
    text = serializers.CharField()


class SuggestionOut(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    terms = serializers.ListField(child=serializers.CharField())
    size = serializers.IntegerField()
    detractor_share = serializers.FloatField()
    passive_share = serializers.FloatField()
    promoter_share = serializers.FloatField()
    overlaps_theme = serializers.CharField(allow_null=True)
    examples = SuggestionExampleOut(many=True, help_text="Representative verbatims the caller may see.")


class SuggestionsOut(serializers.Serializer):
    stream = serializers.CharField(allow_null=True)
    discovered_at = serializers.DateTimeField(allow_null=True)
    verbatims = serializers.IntegerField()
    results = SuggestionOut(many=True)


class ThemeSuggestionsView(StaffApiMixin, APIView):
    """The open candidate themes of the latest discovery; example verbatims only from answers the
    caller may see."""

    allowed_roles = ALL_STAFF

    @extend_schema(
        parameters=[OpenApiParameter("stream", str, enum=["relationship", "transactional"])],
        responses=SuggestionsOut,
    )
    def get(self, request):
        from accounts import scoping

        from .discovery import current_suggestions

        stream = request.query_params.get("stream") or None
        if stream not in (None, "relationship", "transactional"):
            return Response({"stream": ["relationship or transactional"]}, status=status.HTTP_400_BAD_REQUEST)
        job, suggestions = current_suggestions(stream)
        suggestions = list(suggestions)
        ids = {e["response"] for s in suggestions for e in s.examples}
        visible = set(scoping.responses(request.user).filter(pk__in=ids).values_list("pk", flat=True))
        return Response({
            "stream": job.stream if job else stream,
            "discovered_at": job.finished_at if job else None,
            "verbatims": job.verbatims if job else 0,
            "results": [
                {"id": s.pk, "name": s.name, "terms": s.terms, "size": s.size, "detractor_share": s.detractor_share,
                 "passive_share": s.passive_share, "promoter_share": s.promoter_share,
                 "overlaps_theme": s.overlap.get("name") if s.overlap else None,
                 "examples": [e for e in s.examples if e["response"] in visible]}
                for s in suggestions
            ],
        })  # fmt: skip


class DriverOut(serializers.Serializer):
    theme = serializers.CharField()
    mentions = serializers.IntegerField()
    share = serializers.FloatField(help_text="Of the period's answers, 0 to 1.")
    theme_nps = serializers.FloatField(allow_null=True)
    impact = serializers.FloatField(allow_null=True, help_text="NPS minus the NPS without the theme, in points.")
    margin = serializers.FloatField(allow_null=True, help_text="± at 95 % of the impact.")
    previous_impact = serializers.FloatField(allow_null=True)
    moved = serializers.FloatField(allow_null=True)


class DriversOut(_FromTo):
    stream = serializers.CharField()
    nps = serializers.FloatField(allow_null=True)
    responses = serializers.IntegerField()
    drivers = DriverOut(many=True)


class DriversView(StaffApiMixin, APIView):
    """Each theme's NPS impact in the period, biggest first, scoped like the dashboard."""

    allowed_roles = ALL_STAFF

    @extend_schema(parameters=PARAMETERS, responses=DriversOut)
    def get(self, request):
        from .drivers import drivers

        filters, refusal = _filters(request)
        if refusal:
            return refusal
        found = drivers(request.user, filters)
        total = found[0].total if found else selectors.summary(request.user, filters).score
        return Response({
            "stream": filters.stream, "from": filters.start.date().isoformat(), "to": filters.end.date().isoformat(),
            "nps": total.nps, "responses": total.responses,
            "drivers": [
                {"theme": d.name, "mentions": d.score.responses, "share": d.share, "theme_nps": d.score.nps,
                 "impact": d.impact, "margin": d.margin, "previous_impact": d.previous, "moved": d.moved}
                for d in found
            ],
        })  # fmt: skip


class RiskReasonOut(serializers.Serializer):
    feature = serializers.CharField()
    label = serializers.CharField()
    effect = serializers.FloatField(help_text="Its push on the log-odds.")


class RiskContactOut(serializers.Serializer):
    contact = serializers.EmailField()
    contact_id = serializers.IntegerField()
    account = serializers.CharField(help_text="The account's external id.")
    team = serializers.CharField(allow_null=True)
    probability = serializers.FloatField()
    reasons = RiskReasonOut(many=True)


class RiskOut(serializers.Serializer):
    status = serializers.ChoiceField(choices=["none", "ready", "too_little", "no_skill"])
    message = serializers.CharField()
    trained_at = serializers.DateTimeField(allow_null=True)
    labelled = serializers.IntegerField(help_text="Relationship answers learned from.")
    detractors = serializers.IntegerField()
    needed = serializers.DictField(child=serializers.IntegerField())
    evaluation = serializers.DictField(help_text="auc, auc_lower, precision_top_decile, brier, calibration, sizes.")
    contacts = RiskContactOut(many=True)


class RiskView(StaffApiMixin, APIView):
    """Contacts likely to answer 0–6 at the next relationship wave (those the caller may see), with
    the model's evaluation; or why nothing is predicted."""

    allowed_roles = ALL_STAFF

    @extend_schema(
        parameters=[OpenApiParameter("limit", int, description="At most this many contacts (default 100, max 1000).")],
        responses=RiskOut,
    )
    def get(self, request):
        from .models import RiskStatus
        from .risk import MIN_DETRACTORS, MIN_LABELLED, current_scores, latest_model

        limit = request.query_params.get("limit", "100")
        if not limit.isdigit() or not 1 <= int(limit) <= 1000:
            return Response({"limit": ["a whole number from 1 to 1000"]}, status=status.HTTP_400_BAD_REQUEST)
        model = latest_model()
        messages = {
            None: "No model has been trained yet.",
            RiskStatus.READY: "Scored with the latest model.",
            RiskStatus.TOO_LITTLE: f"Too little history: at least {MIN_LABELLED} relationship answers and "
            f"{MIN_DETRACTORS} detractors are needed. Nothing is predicted.",
            RiskStatus.NO_SKILL: "The model did no better than chance on the newest answers. Nothing is predicted.",
        }
        scores = current_scores(request.user)[: int(limit)] if model and model.status == RiskStatus.READY else []
        return Response({
            "status": model.status if model else "none",
            "message": messages[model.status if model else None],
            "trained_at": model.trained_at if model else None,
            "labelled": model.labelled if model else 0,
            "detractors": model.detractors if model else 0,
            "needed": {"labelled": MIN_LABELLED, "detractors": MIN_DETRACTORS},
            "evaluation": model.metrics if model else {},
            "contacts": [
                {"contact": s.contact.email, "contact_id": s.contact_id, "account": s.account.external_id,
                 "team": s.account.team.name if s.account.team else None, "probability": s.probability,
                 "reasons": s.reasons}
                for s in scores
            ],
        })  # fmt: skip
