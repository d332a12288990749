"""Insight reads. All aggregation happens in the database (conditional counts, GROUP BY); the
dashboard, the API and the exports call these same functions."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db.models import Aggregate, Count, Q, QuerySet
from django.db.models.functions import TruncMonth, TruncQuarter

from accounts import scoping
from accounts.models import Team, User
from outbox.models import EmailStatus
from surveys.models import Category, Response, Stream

from .nps import Score

DIMENSIONS = {
    "segment": "Segment", "plan_tier": "Plan tier", "industry": "Industry", "company_size": "Company size",
    "region": "Region", "arr_tier": "ARR tier", "csm": "CSM", "team": "Team", "cohort": "Cohort",
    "product_line": "Product line", "touchpoint": "Touchpoint", "channel": "Channel", "agent": "Agent",
}  # fmt: skip
TRANSACTIONAL_ONLY = {"touchpoint", "channel", "agent"}
SCORE_COUNTS = {
    "promoters": Count("pk", filter=Q(category=Category.PROMOTER)),
    "passives": Count("pk", filter=Q(category=Category.PASSIVE)),
    "detractors": Count("pk", filter=Q(category=Category.DETRACTOR)),
}


@dataclass(frozen=True)
class Filters:
    stream: str
    start: datetime
    end: datetime
    dims: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.stream not in Stream.values:
            raise ValueError(f"Unknown stream {self.stream!r}")

    def lookups(self) -> dict[str, str]:
        return {(f"{k}_id" if k in ("csm", "team") else k): v for k, v in self.dims.items() if k in DIMENSIONS}


def dimensions_for(stream: str) -> dict[str, str]:
    return {k: v for k, v in DIMENSIONS.items() if stream == Stream.TRANSACTIONAL or k not in TRANSACTIONAL_ONLY}


def responses(user, filters: Filters) -> QuerySet[Response]:
    """The responses of one stream in [start, end) with the dimension filters, scoped to the user:
    Admins see every team, others their own team's."""
    return scoping.responses(user).filter(
        stream=filters.stream, submitted_at__gte=filters.start, submitted_at__lt=filters.end, **filters.lookups()
    )


@dataclass(frozen=True)
class Overview:
    score: Score
    distribution: list[int]
    comment_rate: float | None


def overview(qs: QuerySet[Response]) -> Overview:
    """Score, the 0–10 distribution and the comment rate in one pass over the responses."""
    counts = qs.aggregate(
        **{f"s{n}": Count("pk", filter=Q(score=n)) for n in range(11)},
        commented=Count("pk", filter=~Q(reason="")),
    )
    dist = [counts[f"s{n}"] for n in range(11)]
    score = Score(promoters=sum(dist[9:]), passives=sum(dist[7:9]), detractors=sum(dist[:7]))
    return Overview(score, dist, counts["commented"] / score.responses if score.responses else None)


def delivery(user, filters: Filters) -> dict[str, int | float | None]:
    """Delivered invitations of the stream sent in the period, and how many were answered."""
    invitations = scoping.invitations(user).filter(
        stream=filters.stream,
        email__status=EmailStatus.SENT,
        email__sent_at__gte=filters.start,
        email__sent_at__lt=filters.end,
    )
    dims = {f"response__{k}": v for k, v in filters.lookups().items()}
    totals = invitations.aggregate(delivered=Count("pk"), answered=Count("response", filter=Q(**dims) if dims else Q()))
    rate = totals["answered"] / totals["delivered"] if totals["delivered"] else None
    return {**totals, "rate": rate}


def trend(qs: QuerySet[Response], period: str = "month") -> list[tuple[datetime, Score]]:
    trunc = TruncQuarter if period == "quarter" else TruncMonth
    rows = qs.annotate(period=trunc("submitted_at")).order_by("period").values("period").annotate(**SCORE_COUNTS)
    return [(row.pop("period"), Score(**row)) for row in rows]


def segment_table(qs: QuerySet[Response], dimension: str) -> list[tuple[str, str, Score]]:
    """(value, label, score) per value of the dimension."""
    column = f"{dimension}_id" if dimension in ("csm", "team") else dimension
    rows = qs.order_by().values(column).annotate(**SCORE_COUNTS)
    names = {}
    if dimension == "csm":
        names = {u.pk: str(u) for u in User.objects.all()}
    elif dimension == "team":
        names = {t.pk: t.name for t in Team.objects.all()}
    table = []
    for row in rows:
        value = row.pop(column)
        label = names.get(value, value) if names else value
        table.append(("" if value is None else str(value), str(label or "(none)"), Score(**row)))
    return table


def theme_table(qs: QuerySet[Response]) -> list[dict]:
    """Mentions of each theme among the responses, by category: what drives detractors vs promoters."""
    from .models import Theme

    through = Theme.responses.through.objects.filter(response__in=qs.order_by().values("pk"))
    rows = (
        through.order_by()
        .values("theme_id", "theme__name")
        .annotate(
            mentions=Count("pk"),
            promoters=Count("pk", filter=Q(response__category=Category.PROMOTER)),
            passives=Count("pk", filter=Q(response__category=Category.PASSIVE)),
            detractors=Count("pk", filter=Q(response__category=Category.DETRACTOR)),
        )
        .order_by("-mentions")
    )
    return list(rows)


def theme_trend(qs: QuerySet[Response]) -> dict:
    """Mentions of each theme per quarter: how the themes shift over time."""
    from .models import Theme

    rows = (
        Theme.responses.through.objects.filter(response__in=qs.order_by().values("pk"))
        .annotate(q=TruncQuarter("response__submitted_at"))
        .order_by()
        .values("theme__name", "q")
        .annotate(n=Count("pk"))
    )
    quarters = sorted({r["q"] for r in rows})
    table: dict[str, dict] = {}
    for r in rows:
        table.setdefault(r["theme__name"], {})[r["q"]] = r["n"]
    return {
        "quarters": quarters,
        "rows": [(name, [counts.get(q, 0) for q in quarters]) for name, counts in sorted(table.items())],
    }


# Accounts (B2B) -------------------------------------------------------------------------------------


def latest_relationship_answers(user) -> QuerySet[Response]:
    """Each contact's latest relationship response (kept in LatestAnswer as answers are routed)."""
    return scoping.responses(user).filter(stream=Stream.RELATIONSHIP, latest_for__isnull=False)


def account_table(user, account_ids: list[int]) -> dict[int, dict]:
    """For the given accounts: account NPS from each contact's latest answer, coverage (answered ÷
    surveyed contacts) and open tasks, all counted in the database."""
    from followups.models import TaskStatus

    scores = {
        row.pop("account_id"): row
        for row in latest_relationship_answers(user)
        .filter(account_id__in=account_ids)
        .order_by()
        .values("account_id")
        .annotate(**SCORE_COUNTS)
    }

    def per_account(qs: QuerySet, measure: Aggregate) -> dict[int, int]:
        rows = qs.filter(account_id__in=account_ids).order_by().values("account_id").annotate(n=measure)
        return {row["account_id"]: row["n"] for row in rows}

    # Each figure from the rows the user may see (an answer given under another team is not counted).
    surveyed = per_account(
        scoping.invitations(user).filter(stream=Stream.RELATIONSHIP), Count("contact_id", distinct=True)
    )
    answered = per_account(
        scoping.responses(user).filter(stream=Stream.RELATIONSHIP), Count("contact_id", distinct=True)
    )
    open_tasks = per_account(scoping.tasks(user).filter(status=TaskStatus.OPEN), Count("pk"))
    table = {}
    for pk in account_ids:
        score = Score(**scores.get(pk, {"promoters": 0, "passives": 0, "detractors": 0}))
        coverage = answered.get(pk, 0) / surveyed[pk] if surveyed.get(pk) else None
        table[pk] = {"score": score, "coverage": coverage, "open_tasks": open_tasks.get(pk, 0)}
    return table


def accounts_at_risk(user, today, days: int = 90) -> QuerySet:
    """Accounts renewing within `days` whose decision makers' latest answer is a Detractor's."""
    from customers.models import AccountStatus

    detractor_accounts = (
        latest_relationship_answers(user)
        .filter(category=Category.DETRACTOR, contact__decision_maker=True)
        .values("account_id")
    )
    return (
        scoping.accounts(user)
        .filter(
            pk__in=detractor_accounts,
            status=AccountStatus.ACTIVE,
            renewal_date__gte=today,
            renewal_date__lte=today + timedelta(days=days),
        )
        .select_related("csm")
        .order_by("renewal_date")
    )


# Loop metrics and outcomes ---------------------------------------------------------------------------


def loop_metrics(user, filters: Filters, by: str = "team") -> list[dict]:
    """Per team (or CSM): Detractor tasks opened, SLA met %, median hours to first contact,
    recovered % and confirmed-recovered %. Counted in the database."""
    from django.db import connection
    from django.db.models import Avg, DurationField, ExpressionWrapper, F

    from followups.models import Outcome, Queue, TaskStatus

    tasks = scoping.tasks(user).filter(
        queue=Queue.RECOVERY,
        response__stream=filters.stream,
        created_at__gte=filters.start,
        created_at__lt=filters.end,
    )
    key = "team__name" if by == "team" else "assignee__name"
    to_contact = ExpressionWrapper(F("first_contact_at") - F("created_at"), output_field=DurationField())
    aggregates = {
        "opened": Count("pk"),
        "contacted": Count("pk", filter=Q(first_contact_at__isnull=False)),
        "met": Count("pk", filter=Q(first_contact_at__lte=F("due_at"))),
        "closed": Count("pk", filter=Q(status=TaskStatus.CLOSED)),
        "recovered": Count("pk", filter=Q(outcome=Outcome.RECOVERED)),
        "reasked": Count("pk", filter=Q(outcome=Outcome.RECOVERED, reask_invitation__response__isnull=False)),
        "confirmed": Count("pk", filter=Q(outcome=Outcome.RECOVERED, reask_invitation__response__score__gte=7)),
        "mean_to_contact": Avg(to_contact, filter=Q(first_contact_at__isnull=False)),
    }
    if connection.vendor == "postgresql":
        aggregates["median_to_contact"] = Median(to_contact, filter=Q(first_contact_at__isnull=False))
    rows = list(tasks.order_by().values(key).annotate(**aggregates).order_by(key))
    for row in rows:
        row["name"] = row.pop(key) or "(none)"
        due_known = row["opened"]
        row["sla_met"] = row["met"] / due_known if due_known else None
        row["recovered_rate"] = row["recovered"] / row["closed"] if row["closed"] else None
        row["confirmed_rate"] = row["confirmed"] / row["reasked"] if row["reasked"] else None
        typical = row.get("median_to_contact") or row["mean_to_contact"]
        row["hours_to_contact"] = typical.total_seconds() / 3600 if typical else None
    return rows


def outcomes_by_category(user) -> list[dict]:
    """Churn and retention of accounts by the category of their latest relationship answer."""
    from customers.models import AccountStatus

    rows = (
        latest_relationship_answers(user)
        .order_by()
        .values("category")
        .annotate(
            accounts=Count("account", distinct=True),
            churned=Count("account", filter=Q(account__status=AccountStatus.CHURNED), distinct=True),
        )
    )
    out = []
    for row in rows:
        row["churn_rate"] = row["churned"] / row["accounts"] if row["accounts"] else None
        row["retention_rate"] = 1 - row["churn_rate"] if row["churn_rate"] is not None else None
        out.append(row)
    order = [Category.DETRACTOR, Category.PASSIVE, Category.PROMOTER]
    return sorted(out, key=lambda r: order.index(r["category"]))


class Median(Aggregate):
    """PostgreSQL's percentile_cont(0.5)."""

    function = "percentile_cont"
    name = "Median"
    template = "%(function)s(0.5) WITHIN GROUP (ORDER BY %(expressions)s)"
    allow_distinct = False

    def __init__(self, expression, **extra):
        from django.db.models import DurationField

        super().__init__(expression, output_field=DurationField(), **extra)
