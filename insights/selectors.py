"""Insight reads. All aggregation happens in the database (conditional counts, GROUP BY); the
dashboard, the API and the exports call these same functions."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import Count, Q, QuerySet
from django.db.models.functions import TruncMonth, TruncQuarter

from accounts.models import Team, User
from surveys.models import Category, Invitation, Response, Stream

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
    qs = Response.objects.filter(
        stream=filters.stream, submitted_at__gte=filters.start, submitted_at__lt=filters.end, **filters.lookups()
    )
    if user is not None and not (user.is_superuser or user.is_admin):
        qs = qs.filter(team_id=user.team_id) if user.team_id else qs.none()
    return qs


def score(qs: QuerySet[Response]) -> Score:
    return Score(**qs.aggregate(**SCORE_COUNTS))


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


def distribution(qs: QuerySet[Response]) -> list[int]:
    counts = dict(qs.order_by().values_list("score").annotate(n=Count("pk")))
    return [counts.get(n, 0) for n in range(11)]


def comment_rate(qs: QuerySet[Response]) -> float | None:
    totals = qs.aggregate(n=Count("pk"), commented=Count("pk", filter=~Q(reason="")))
    return totals["commented"] / totals["n"] if totals["n"] else None


def delivery(user, filters: Filters) -> dict[str, int | float | None]:
    """Delivered invitations of the stream sent in the period, and how many were answered."""
    invitations = Invitation.objects.filter(
        stream=filters.stream,
        email__status="sent",
        email__sent_at__gte=filters.start,
        email__sent_at__lt=filters.end,
    )
    dims = {f"response__{k}": v for k, v in filters.lookups().items()}
    if user is not None and not (user.is_superuser or user.is_admin):
        invitations = invitations.filter(account__team_id=user.team_id)
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
