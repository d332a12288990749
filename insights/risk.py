"""Detractor risk before the survey: which contacts are likely to answer 0–6 at the next
relationship wave, learned from Rebound's own history, so that a CSM can reach out first.

**Examples.** Every relationship answer is one: its label is "answered 0–6", its features are
what Rebound knew *before that wave was sent* (the cut-off), never after — earlier scores in both
streams and their trend, recent transactional detractor answers, open and breached recovery
tasks, events received through the API, days since the last contact, tenure, renewal proximity,
ARR, segment and how often the contact left invitations unanswered.

**Model.** Logistic regression on standardised features (scikit-learn): each contact's reasons are
the features that raise their risk most (coefficient × standardised value), in words.

**Validation, in time order.** Trained on the older 75 % of the examples, measured on the newest
25 % (ROC AUC, precision in the top decile, calibration by fifths, Brier score), then refitted on
all. Below ``MIN_LABELLED`` answers or ``MIN_DETRACTORS`` detractors it says "too little history";
when the AUC's 95 % lower bound (Hanley & McNeil) does not clear 0.5 it says "no skill". Either
way it predicts nothing rather than guess.
"""

from __future__ import annotations

import math
from bisect import bisect_left
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import numpy as np
from django.db import transaction
from django.utils import timezone

from customers.models import Account, AccountStatus, Contact
from surveys.models import Category, Event, Invitation, Response, Stream, Wave

from .models import RiskModel, RiskScore, RiskStatus

MIN_LABELLED = 200
MIN_DETRACTORS = 30
HOLDOUT = 0.25
TOP_REASONS = 3
LEAD_DAYS = 14  # score this long before a relationship wave
SEGMENTS = ["smb", "mid_market", "enterprise"]

FEATURES = [
    # (name, what a high value means, in words)
    ("last_score", "Last relationship score"),
    ("no_history", "Never answered a relationship survey"),
    ("previous_score", "Relationship score before that"),
    ("trend", "Change in relationship score"),
    ("tx_answers_180d", "Transactional answers, last 180 days"),
    ("tx_mean_180d", "Mean transactional score, last 180 days"),
    ("tx_detractors_90d", "Transactional detractor answers, last 90 days"),
    ("open_recovery", "Open recovery tasks"),
    ("breached_180d", "Recovery tasks past their SLA, last 180 days"),
    ("events_90d", "Events from other systems (tickets …), last 90 days"),
    ("days_since_contact", "Days since the last survey or answer"),
    ("tenure_years", "Years as a customer"),
    ("renewal_soon", "Renewal within 90 days"),
    ("log_arr", "ARR (log)"),
    ("unanswered_share", "Share of invitations left unanswered"),
    *[(f"segment_{s}", f"Segment {s.replace('_', ' ')}") for s in SEGMENTS],
]
NAMES = [name for name, _ in FEATURES]
LABELS = dict(FEATURES)
MEAN_SCORE = 7.0  # stands in for a score never given (with `no_history` saying so)


# Loading the history once -------------------------------------------------------------------------


@dataclass
class History:
    """Everything the features read, per contact, sorted by time."""

    relationship: dict[int, list[tuple[datetime, int]]] = field(default_factory=lambda: defaultdict(list))
    transactional: dict[int, list[tuple[datetime, int]]] = field(default_factory=lambda: defaultdict(list))
    invitations: dict[int, list[tuple[datetime, datetime, datetime | None]]] = field(
        default_factory=lambda: defaultdict(list)
    )
    tasks: dict[int, list[tuple[datetime, datetime, datetime | None, datetime | None]]] = field(
        default_factory=lambda: defaultdict(list)
    )
    events: dict[int, list[datetime]] = field(default_factory=lambda: defaultdict(list))
    accounts: dict[int, tuple] = field(default_factory=dict)
    contact_account: dict[int, int] = field(default_factory=dict)

    @classmethod
    def load(cls, contact_ids=None) -> History:
        from followups.models import Queue, Task

        h = cls()

        def of(qs):
            return qs if contact_ids is None else qs.filter(contact_id__in=contact_ids)

        rows = of(Response.objects.filter(is_test=False)).values_list("contact_id", "stream", "submitted_at", "score")
        for contact_id, stream, at, score in rows.order_by("submitted_at").iterator(chunk_size=5000):
            (h.relationship if stream == Stream.RELATIONSHIP else h.transactional)[contact_id].append((at, score))
        invitations = of(Invitation.objects.filter(stream=Stream.RELATIONSHIP, is_test=False, skipped_reason=""))
        for contact_id, sent, expires, answered in (
            invitations.values_list("contact_id", "send_at", "expires_at", "responded_at")
            .order_by("send_at")
            .iterator(chunk_size=5000)
        ):
            h.invitations[contact_id].append((sent, expires, answered))
        tasks = of(Task.objects.filter(queue=Queue.RECOVERY)).values_list(
            "contact_id", "created_at", "due_at", "first_contact_at", "closed_at"
        )
        for contact_id, *times in tasks.order_by("created_at").iterator(chunk_size=5000):
            h.tasks[contact_id].append(tuple(times))
        for contact_id, at in of(Event.objects.all()).values_list("contact_id", "occurred_at").order_by("occurred_at"):
            h.events[contact_id].append(at)
        contacts = Contact.objects.all() if contact_ids is None else Contact.objects.filter(pk__in=contact_ids)
        h.contact_account = dict(contacts.values_list("pk", "account_id"))
        for pk, since, renewal, arr, segment in Account.objects.filter(
            pk__in=set(h.contact_account.values())
        ).values_list("pk", "customer_since", "renewal_date", "arr", "segment"):
            h.accounts[pk] = (since, renewal, float(arr) if arr is not None else None, segment)
        return h

    def features(self, contact_id: int, at: datetime) -> list[float]:
        """The contact's features as known just before `at`."""
        rel = _before(self.relationship.get(contact_id, []), at)
        tx = _before(self.transactional.get(contact_id, []), at)
        last = rel[-1][1] if rel else MEAN_SCORE
        previous = rel[-2][1] if len(rel) > 1 else last
        tx180 = [s for t, s in tx if t >= at - timedelta(days=180)]
        tx90_detractors = sum(1 for t, s in tx if t >= at - timedelta(days=90) and s <= 6)
        open_recovery = breached = 0
        for created, due, first_contact, closed in self.tasks.get(contact_id, []):
            if created >= at:
                break
            if closed is None or closed > at:
                open_recovery += 1
            if created >= at - timedelta(days=180):
                reached = first_contact if first_contact and first_contact < at else None
                if (reached and reached > due) or (reached is None and due < at):
                    breached += 1
        events = self.events.get(contact_id, [])
        events90 = bisect_left(events, at) - bisect_left(events, at - timedelta(days=90))
        invitations = [i for i in self.invitations.get(contact_id, []) if i[0] < at]
        touches = [i[0] for i in invitations] + [t for t, _ in rel] + [t for t, _ in tx]
        days_since = min(730.0, (at - max(touches)).total_seconds() / 86400) if touches else 730.0
        closed = [i for i in invitations if i[1] < at]
        unanswered = sum(1 for _, _, answered in closed if answered is None or answered >= at)
        since, renewal, arr, segment = self.accounts.get(self.contact_account.get(contact_id), (None, None, None, ""))
        day = at.date()
        tenure = (day - since).days / 365.25 if since and since <= day else 0.0
        return [
            float(last),
            0.0 if rel else 1.0,
            float(previous),
            float(last - previous),
            float(len(tx180)),
            float(np.mean(tx180)) if tx180 else MEAN_SCORE,
            float(tx90_detractors),
            float(open_recovery),
            float(breached),
            float(events90),
            days_since,
            tenure,
            1.0 if renewal and 0 <= _days_to_anniversary(renewal, day) <= 90 else 0.0,
            math.log1p(arr) if arr else 0.0,
            unanswered / len(closed) if closed else 0.0,
            *[1.0 if segment == s else 0.0 for s in SEGMENTS],
        ]


def _before(points: list[tuple[datetime, int]], at: datetime) -> list[tuple[datetime, int]]:
    return points[: bisect_left(points, (at, -1))]


def _days_to_anniversary(renewal: date, day: date) -> int:
    """Days from `day` to the renewal date's next anniversary (renewals recur yearly)."""
    for year in (day.year, day.year + 1):
        try:
            candidate = renewal.replace(year=year)
        except ValueError:  # 29 February
            candidate = date(year, 2, 28)
        if candidate >= day:
            return (candidate - day).days
    return 366


# Training ------------------------------------------------------------------------------------------


@dataclass
class Dataset:
    X: np.ndarray
    y: np.ndarray
    at: list[datetime]


def training_set(history: History) -> Dataset:
    """One example per relationship answer, featured as of its wave's send (or a day before the
    answer when it came without a wave)."""
    wave_times = dict(Wave.objects.values_list("pk", "scheduled_at"))
    rows = Response.objects.filter(stream=Stream.RELATIONSHIP, is_test=False).values_list(
        "contact_id", "wave_id", "submitted_at", "category"
    )
    X, y, at = [], [], []
    for contact_id, wave_id, submitted, category in rows.order_by("submitted_at").iterator(chunk_size=5000):
        cutoff = wave_times.get(wave_id) or submitted - timedelta(days=1)
        cutoff = min(cutoff, submitted)
        X.append(history.features(contact_id, cutoff))
        y.append(1 if category == Category.DETRACTOR else 0)
        at.append(cutoff)
    order = np.argsort(np.array([a.timestamp() for a in at])) if at else np.array([], dtype=int)
    return Dataset(
        np.array(X, dtype=float).reshape(-1, len(NAMES))[order], np.array(y, dtype=int)[order], [at[i] for i in order]
    )


def _fit(X: np.ndarray, y: np.ndarray):
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    scaler = StandardScaler().fit(X)
    model = LogisticRegression(C=1.0, max_iter=2000).fit(scaler.transform(X), y)
    return scaler, model


def auc_lower_bound(auc: float, positives: int, negatives: int) -> float:
    """The AUC's 95 % lower bound (Hanley & McNeil 1982)."""
    q1, q2 = auc / (2 - auc), 2 * auc * auc / (1 + auc)
    variance = (auc * (1 - auc) + (positives - 1) * (q1 - auc * auc) + (negatives - 1) * (q2 - auc * auc)) / (
        positives * negatives
    )
    return auc - 1.96 * math.sqrt(max(variance, 0.0))


def evaluate(data: Dataset) -> dict:
    """Train on the older examples, measure on the newest; the split falls between two cut-offs."""
    from sklearn.metrics import brier_score_loss, roc_auc_score

    n = len(data.y)
    split = int(n * (1 - HOLDOUT))
    while 0 < split < n and data.at[split] == data.at[split - 1]:
        split += 1  # never one wave on both sides
    train, test = slice(0, split), slice(split, n)
    y_test = data.y[test]
    metrics = {"train_size": split, "test_size": n - split, "base_rate": round(float(data.y.mean()), 4)}
    if split == 0 or len(set(data.y[train])) < 2 or len(set(y_test)) < 2:
        metrics["auc"] = None
        return metrics
    scaler, model = _fit(data.X[train], data.y[train])
    p = model.predict_proba(scaler.transform(data.X[test]))[:, 1]
    auc = float(roc_auc_score(y_test, p))
    top = np.argsort(-p)[: max(1, len(p) // 10)]
    bins = np.array_split(np.argsort(p), 5)
    metrics.update(
        auc=round(auc, 4),
        auc_lower=round(auc_lower_bound(auc, int(y_test.sum()), int(len(y_test) - y_test.sum())), 4),
        precision_top_decile=round(float(y_test[top].mean()), 4),
        test_base_rate=round(float(y_test.mean()), 4),
        brier=round(float(brier_score_loss(y_test, p)), 4),
        calibration=[
            {"predicted": round(float(p[b].mean()), 3), "observed": round(float(y_test[b].mean()), 3), "n": len(b)}
            for b in bins
            if len(b)
        ],
        test_from=data.at[split].date().isoformat(),
    )
    return metrics


def train(*, trigger: str = "manual", history: History | None = None) -> RiskModel:
    """Train and evaluate a model from the whole history; saved whatever the verdict."""
    history = history or History.load()
    data = training_set(history)
    labelled, detractors = len(data.y), int(data.y.sum())
    if labelled < MIN_LABELLED or detractors < MIN_DETRACTORS:
        return RiskModel.objects.create(
            status=RiskStatus.TOO_LITTLE, labelled=labelled, detractors=detractors, trigger=trigger,
            metrics={"needed": {"labelled": MIN_LABELLED, "detractors": MIN_DETRACTORS}},
        )  # fmt: skip
    metrics = evaluate(data)
    skilful = metrics.get("auc") is not None and metrics.get("auc_lower", 0) > 0.5
    weights = {}
    if skilful:
        scaler, model = _fit(data.X, data.y)
        weights = {
            "features": NAMES,
            "mean": scaler.mean_.tolist(),
            "scale": [s or 1.0 for s in scaler.scale_.tolist()],
            "coef": model.coef_[0].tolist(),
            "intercept": float(model.intercept_[0]),
        }
    return RiskModel.objects.create(
        status=RiskStatus.READY if skilful else RiskStatus.NO_SKILL, labelled=labelled, detractors=detractors,
        metrics=metrics, weights=weights, trigger=trigger,
    )  # fmt: skip


# Scoring -------------------------------------------------------------------------------------------


def eligible_contacts():
    """Who the next relationship wave may ask: reachable contacts of active, real accounts."""
    return Contact.objects.reachable().filter(account__is_test=False, account__status=AccountStatus.ACTIVE)


def _reason(name: str, value: float) -> str:
    if name in ("last_score", "previous_score"):
        return f"{LABELS[name]}: {value:.0f}"
    if name == "trend":
        return f"Relationship score {'fell' if value < 0 else 'rose'} by {abs(value):.0f}"
    if name == "days_since_contact":
        return f"{value:.0f} days since the last survey or answer"
    if name == "unanswered_share":
        return f"Left {value:.0%} of invitations unanswered"
    if name == "tenure_years":
        return f"Customer for {value:.1f} years"
    if name == "tx_mean_180d":
        return f"Mean transactional score {value:.1f} (180 days)"
    if name in ("no_history", "renewal_soon") or name.startswith("segment_"):
        return LABELS[name]
    if name == "log_arr":
        return f"ARR about {math.expm1(value):,.0f}"
    return f"{LABELS[name]}: {value:g}"


def score(model: RiskModel, *, history: History | None = None, now: datetime | None = None) -> int:
    """Score every eligible contact with a ready model; replaces the earlier scores."""
    if model.status != RiskStatus.READY:
        return 0
    now = now or timezone.now()
    w = model.weights
    mean, scale, coef = np.array(w["mean"]), np.array(w["scale"]), np.array(w["coef"])
    contacts = list(eligible_contacts().values_list("pk", "account_id"))
    history = history or History.load([pk for pk, _ in contacts] if len(contacts) < 5000 else None)
    rows = []
    for start in range(0, len(contacts), 5000):
        chunk = contacts[start : start + 5000]
        X = np.array([history.features(pk, now) for pk, _ in chunk], dtype=float).reshape(-1, len(NAMES))
        contributions = coef * (X - mean) / scale
        p = 1 / (1 + np.exp(-(contributions.sum(axis=1) + w["intercept"])))
        for (pk, account_id), prob, contrib, x in zip(chunk, p, contributions, X, strict=True):
            top = [j for j in np.argsort(-contrib)[:TOP_REASONS] if contrib[j] > 0.05]
            reasons = [{"feature": NAMES[j], "label": _reason(NAMES[j], x[j]), "effect": round(float(contrib[j]), 3)}
                       for j in top]  # fmt: skip
            rows.append(RiskScore(model=model, contact_id=pk, account_id=account_id, probability=float(prob),
                                  reasons=reasons))  # fmt: skip
    with transaction.atomic():
        RiskScore.objects.exclude(model=model).delete()
        RiskScore.objects.filter(model=model).delete()
        RiskScore.objects.bulk_create(rows, batch_size=2000)
        RiskModel.objects.filter(pk=model.pk).update(scored=len(rows))
    model.scored = len(rows)
    return len(rows)


def train_and_score(*, trigger: str = "manual") -> RiskModel:
    history = History.load()
    model = train(trigger=trigger, history=history)
    if model.status == RiskStatus.READY:
        score(model, history=history)
    else:
        RiskScore.objects.all().delete()  # no guess is better than an old one from a model now refused
    return model


def latest_model() -> RiskModel | None:
    return RiskModel.objects.first()


def current_scores(user):
    """The latest ready model's scores that the user may see (by account), highest first."""
    from customers.selectors import accounts_visible_to

    model = RiskModel.objects.filter(status=RiskStatus.READY).first()
    if model is None:
        return RiskScore.objects.none()
    return (
        RiskScore.objects.filter(model=model, account__in=accounts_visible_to(user))
        .select_related("contact", "account", "account__csm", "account__team")
        .order_by("-probability", "pk")
    )


def due_before_wave(now: datetime | None = None) -> bool:
    """Whether a relationship wave is due within LEAD_DAYS and no model was trained in the last week."""
    from surveys.cadence import next_wave
    from surveys.models import Program

    now = now or timezone.now()
    latest = RiskModel.objects.first()
    if latest and latest.trained_at > now - timedelta(days=7):
        return False
    for program in Program.objects.filter(stream=Stream.RELATIONSHIP, is_active=True):
        _, at = next_wave(program, now)
        if at <= now + timedelta(days=LEAD_DAYS):  # a time past means: at the next tick
            return True
    return False
