"""Insight reads. All aggregation happens in the database (conditional counts, GROUP BY); the
dashboard, the API and the exports call these same functions."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta

from django.db.models import Aggregate, Count, Q, QuerySet, Sum
from django.db.models.functions import TruncMonth, TruncQuarter
from django.utils import timezone

from accounts import scoping
from accounts.models import Team, User
from customers.models import Segment
from outbox.models import EmailStatus
from surveys.models import Category, LatestAnswer, Response, Stream, Via, category_for

from .nps import Score, display

DIMENSIONS = {
    "segment": "Segment", "plan_tier": "Plan tier", "industry": "Industry", "company_size": "Company size",
    "region": "Region", "arr_tier": "ARR tier", "csm": "CSM", "team": "Team", "cohort": "Cohort",
    "product_line": "Product line", "touchpoint": "Touchpoint", "channel": "Channel", "agent": "Agent",
    "via": "Survey channel",
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
        return {dimension_column(k): v for k, v in self.dims.items() if k in DIMENSIONS}


def dimension_column(dimension: str) -> str:
    """The response column holding a dimension's snapshot value."""
    return f"{dimension}_id" if dimension in ("csm", "team") else dimension


def scores_of(category: str) -> list[int]:
    return [n for n in range(11) if category_for(n) == category]


def dimensions_for(stream: str) -> dict[str, str]:
    return {k: v for k, v in DIMENSIONS.items() if stream == Stream.TRANSACTIONAL or k not in TRANSACTIONAL_ONLY}


def responses(user, filters: Filters) -> QuerySet[Response]:
    """The responses of one stream in [start, end) with the dimension filters, scoped to the user:
    Admins see every team, others their own team's."""
    return scoping.responses(user).filter(
        stream=filters.stream,
        submitted_at__gte=filters.start,
        submitted_at__lt=filters.end,
        is_test=False,
        **filters.lookups(),
    )


@dataclass(frozen=True)
class Overview:
    score: Score
    distribution: list[int]
    comment_rate: float | None


def overview(qs: QuerySet[Response]) -> Overview:
    """Score, the 0–10 distribution and the comment rate in one pass over the responses."""
    return _overview(*_distribution(qs))


def _distribution(qs: QuerySet[Response]) -> tuple[list[int], int]:
    counts = qs.aggregate(
        **{f"s{n}": Count("pk", filter=Q(score=n)) for n in range(11)},
        commented=Count("pk", filter=~Q(reason="")),
    )
    return [counts[f"s{n}"] for n in range(11)], counts["commented"]


def _overview(distribution: list[int], commented: int) -> Overview:
    score = Score(**{f"{c}s": sum(distribution[n] for n in scores_of(c)) for c in Category.values})
    return Overview(score, distribution, commented / score.responses if score.responses else None)


# The dashboard's figures: sealed days from the daily rollups (insights.rollups), the rest from the
# responses, so each costs what the days and segments cost. Exact in every state of the rollups.


def _split(
    filters: Filters, *, themes: bool = False
) -> tuple[tuple[date, date] | None, Filters | None, tuple[str, str]]:
    """The rolled-up days [first, end) the figures may read, the filters left for the responses, and
    the (dimension, value) the rollup rows are read for: ("", "") for all, or the one dimension filter
    (team aside, a column of the rollups); with two, or days not whole, everything is read from the responses.
    `themes`: for the theme rollups, which are kept in all only and may lag (a re-tagging)."""
    from .models import RollupState

    tz = timezone.get_default_timezone()
    start, end = filters.start.astimezone(tz), filters.end.astimezone(tz)
    narrowing = sorted(set(filters.dims) - {"team"})
    built = None
    if len(narrowing) <= (0 if themes else 1) and start.time() == time(0) and end.time() == time(0):
        through = "themes_through" if themes else "built_through"
        built = RollupState.objects.filter(pk=1).values_list(through, flat=True).first()
    if built is None or start.date() >= built:
        return None, filters, ("", "")
    key = (narrowing[0], filters.dims[narrowing[0]]) if narrowing else ("", "")
    rest = replace(filters, start=datetime.combine(built, time(0), tzinfo=tz)) if end.date() > built else None
    return (start.date(), min(end.date(), built)), rest, key


def _daily(user, filters: Filters, days: tuple[date, date], dimension: str, value: str | None) -> QuerySet:
    """The rollup rows of the days for one dimension ('' for all responses), one value of it or all."""
    from .models import DailyCount

    rows = DailyCount.objects.filter(stream=filters.stream, dimension=dimension, day__gte=days[0], day__lt=days[1])
    if value is not None:
        rows = rows.filter(value=value)
    if "team" in filters.dims:
        rows = rows.filter(team_id=filters.dims["team"])
    return scoping.visible(user, rows).order_by()


def _by_category() -> dict:
    """Rollup rows summed into the three categories."""
    return {f"{c}s": Sum("responses", filter=Q(score__in=scores_of(c)), default=0) for c in Category.values}


def summary(user, filters: Filters) -> Overview:
    """The overview of the user's responses under the filters."""
    days, rest, key = _split(filters)
    distribution, commented = [0] * 11, 0
    if days:
        for row in _daily(user, filters, days, *key).values("score").annotate(n=Sum("responses"), c=Sum("commented")):
            distribution[row["score"]] += row["n"]
            commented += row["c"]
    if rest:
        more, more_commented = _distribution(responses(user, rest))
        distribution = [a + b for a, b in zip(distribution, more, strict=True)]
        commented += more_commented
    return _overview(distribution, commented)


def score_trend(user, filters: Filters, period: str = "month") -> list[tuple[datetime, Score]]:
    """The NPS per month (or quarter) of the user's responses under the filters."""
    days, rest, key = _split(filters)
    merged: dict[datetime, Score] = {}
    if days:
        trunc = TruncQuarter if period == "quarter" else TruncMonth
        rows = _daily(user, filters, days, *key).annotate(period=trunc("day")).values("period")
        tz = timezone.get_default_timezone()
        for row in rows.annotate(**_by_category()):
            start = datetime.combine(row.pop("period"), time(0), tzinfo=tz)
            merged[start] = Score(**row)
    if rest:
        for start, score in trend(responses(user, rest), period):
            merged[start] = _add(merged.get(start), score)
    return sorted(merged.items())


def segments(user, filters: Filters, dimension: str) -> list[tuple[str, str, Score]]:
    """(value, label, score) per value of the dimension among the user's responses under the filters."""
    days, rest, (narrowed, value) = _split(filters)
    if narrowed and narrowed != dimension:  # two dimensions at once: not in the rollups
        days, rest = None, filters
    merged: dict[str, Score] = {}
    if days:
        rows = _daily(user, filters, days, dimension, value if narrowed else None)
        for row in rows.values("value").annotate(**_by_category()):
            value = row.pop("value")
            merged[value] = Score(**row)
    if rest:
        for value, score in _segment_rows(responses(user, rest), dimension):
            merged[value] = _add(merged.get(value), score)
    return _labelled(dimension, merged)


def _add(one: Score | None, other: Score) -> Score:
    if one is None:
        return other
    return Score(one.promoters + other.promoters, one.passives + other.passives, one.detractors + other.detractors)


def delivery(user, filters: Filters) -> dict[str, int | float | None]:
    """Delivered invitations of the stream sent in the period, and how many were answered."""
    invitations = scoping.invitations(user).filter(
        stream=filters.stream,
        is_test=False,
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
    return _labelled(dimension, dict(_segment_rows(qs, dimension)))


def _segment_rows(qs: QuerySet[Response], dimension: str) -> list[tuple[str, Score]]:
    column = dimension_column(dimension)
    rows = qs.order_by().values(column).annotate(**SCORE_COUNTS)
    return [("" if (value := row.pop(column)) is None else str(value), Score(**row)) for row in rows]


def _labelled(dimension: str, scores: dict[str, Score]) -> list[tuple[str, str, Score]]:
    names: dict[str, str] = {}
    if dimension == "csm":
        names = {str(u.pk): str(u) for u in User.objects.all()}
    elif dimension == "team":
        names = {str(t.pk): t.name for t in Team.objects.all()}
    elif dimension == "segment":
        names = dict(Segment.choices)
    elif dimension == "via":
        names = dict(Via.choices)
    rows = [(value, str(names.get(value, value) or "(none)"), score) for value, score in scores.items()]
    # By label: a GROUP BY returns its groups in whatever order the plan leaves them (a hash or a sort),
    # and the plan changes with the table's statistics.
    return sorted(rows, key=lambda row: (row[1].casefold(), row[0]))


# Themes: mentions per theme and category, per quarter. `theme_figures` reads the theme rollups for
# sealed days (in all, or one team; a segment filter counts from the responses) and the tags for the rest.

Cells = dict[tuple[int, str], dict]  # (theme id, name) → {quarter start: [promoters, passives, detractors]}


def theme_figures(user, filters: Filters, *, theme: int | None = None) -> tuple[list[dict], dict]:
    """The theme table and its quarterly trend of the user's responses under the filters (of one
    theme if given), in three queries: how far the theme rollups reach, their rows for the sealed
    days, the tags of the rest."""
    days, rest, _ = _split(filters, themes=True)
    cells: Cells = {}
    if days:
        tz = timezone.get_default_timezone()
        rows = (
            _daily_themes(user, filters, days, theme)
            .annotate(q=TruncQuarter("day"))
            .values_list("theme_id", "theme__name", "q")
            .annotate(**{c: Sum("mentions", filter=Q(score__in=scores_of(c)), default=0) for c in Category.values})
        )
        _add_cells(cells, ((pk, name, datetime.combine(q, time(0), tzinfo=tz), *n) for pk, name, q, *n in rows))
    if rest:
        _add_cells(cells, _tag_cells(responses(user, rest), theme))
    return _theme_table(cells), _theme_trend(cells)


def theme_table(qs: QuerySet[Response]) -> list[dict]:
    """Mentions of each theme among the responses, by category: what drives detractors vs promoters."""
    return _theme_table(_add_cells({}, _tag_cells(qs)))


def theme_trend(qs: QuerySet[Response]) -> dict:
    """Mentions of each theme per quarter among the responses: how the themes shift over time."""
    return _theme_trend(_add_cells({}, _tag_cells(qs)))


def _daily_themes(user, filters: Filters, days: tuple[date, date], theme: int | None) -> QuerySet:
    from .models import DailyThemeCount

    rows = DailyThemeCount.objects.filter(stream=filters.stream, day__gte=days[0], day__lt=days[1])
    if theme is not None:
        rows = rows.filter(theme_id=theme)
    if "team" in filters.dims:
        rows = rows.filter(team_id=filters.dims["team"])
    return scoping.visible(user, rows).order_by()


def _tag_cells(qs: QuerySet[Response], theme: int | None = None):
    """(theme id, name, quarter start, promoters, passives, detractors) counted from the responses' tags."""
    from .models import Tag

    tags = Tag.objects.filter(response__in=qs.order_by().values("pk"))
    return (
        (tags if theme is None else tags.filter(theme_id=theme))
        .annotate(q=TruncQuarter("response__submitted_at"))
        .order_by()
        .values_list("theme_id", "theme__name", "q")
        .annotate(**{c: Count("pk", filter=Q(response__category=c)) for c in Category.values})
    )


def _add_cells(cells: Cells, rows) -> Cells:
    for theme_id, name, quarter, *counts in rows:
        cell = cells.setdefault((theme_id, name), {}).setdefault(quarter, [0, 0, 0])
        cell[:] = [a + b for a, b in zip(cell, counts, strict=True)]
    return cells


def _theme_table(cells: Cells) -> list[dict]:
    """Per theme: mentions and the categories; most mentioned first, then by name."""
    rows = []
    for (theme_id, name), quarters in cells.items():
        by_category = [sum(column) for column in zip(*quarters.values(), strict=True)]
        counts = dict(zip([f"{c}s" for c in Category.values], by_category, strict=True))
        rows.append({"theme_id": theme_id, "theme__name": name, "mentions": sum(by_category), **counts})
    return sorted(rows, key=lambda row: (-row["mentions"], row["theme__name"].casefold(), row["theme_id"]))


def _theme_trend(cells: Cells) -> dict:
    """The quarters, and per theme (by name) its mentions in each."""
    quarters = sorted({q for by_quarter in cells.values() for q in by_quarter})
    rows = [
        (name, [sum(by_quarter.get(q, [0])) for q in quarters])
        for (_, name), by_quarter in sorted(cells.items(), key=lambda item: item[0][1])
    ]
    return {"quarters": quarters, "rows": rows}


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
    """Per team (or CSM): Detractor tasks opened, SLA met % (of the tasks whose SLA is decided:
    contacted, or closed or due without contact; None before any is), median hours to first contact,
    recovered % and confirmed-recovered %. Counted in the database."""
    from django.db import connection
    from django.db.models import Avg, DurationField, ExpressionWrapper, F

    from followups.models import Outcome, Queue, TaskStatus

    tasks = scoping.tasks(user).filter(
        response__is_test=False,
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
        # The SLA is decided once the customer was contacted, or the task was closed or fell due without it.
        "decided": Count(
            "pk",
            filter=Q(first_contact_at__isnull=False) | Q(status=TaskStatus.CLOSED) | Q(due_at__lt=timezone.now()),
        ),
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
        row["sla_met"] = row["met"] / row["decided"] if row["decided"] else None
        row["recovered_rate"] = row["recovered"] / row["closed"] if row["closed"] else None
        row["confirmed_rate"] = row["confirmed"] / row["reasked"] if row["reasked"] else None
        typical = row.get("median_to_contact") or row["mean_to_contact"]
        row["hours_to_contact"] = typical.total_seconds() / 3600 if typical else None
    return rows


def outcomes_by_category(user) -> list[dict]:
    """Churn and retention of accounts by the category of the account's latest relationship answer,
    each account counted once; accounts without an answer in a row of their own (category None)."""
    from django.db.models import OuterRef, Subquery

    from customers.models import AccountStatus

    latest = (
        scoping.visible(user, LatestAnswer.objects.filter(account=OuterRef("pk")))
        .order_by("-submitted_at")
        .values("response__category")[:1]
    )
    rows = (
        scoping.accounts(user)
        .annotate(category=Subquery(latest))
        .order_by()
        .values("category")
        .annotate(accounts=Count("pk"), churned=Count("pk", filter=Q(status=AccountStatus.CHURNED)))
    )
    out = []
    for row in rows:
        row["churn_rate"] = row["churned"] / row["accounts"] if row["accounts"] else None
        row["retention_rate"] = 1 - row["churn_rate"] if row["churn_rate"] is not None else None
        out.append(row)
    order = [Category.DETRACTOR, Category.PASSIVE, Category.PROMOTER, None]
    return sorted(out, key=lambda r: order.index(r["category"]))


def accounts_answered(user) -> QuerySet:
    """The accounts with a relationship answer the user may see."""
    from django.db.models import Exists, OuterRef

    return scoping.accounts(user).filter(
        Exists(scoping.visible(user, LatestAnswer.objects.filter(account=OuterRef("pk"))))
    )


class Median(Aggregate):
    """PostgreSQL's percentile_cont(0.5)."""

    function = "percentile_cont"
    name = "Median"
    template = "%(function)s(0.5) WITHIN GROUP (ORDER BY %(expressions)s)"
    allow_distinct = False

    def __init__(self, expression, **extra):
        from django.db.models import DurationField

        super().__init__(expression, output_field=DurationField(), **extra)


# Account and contact 360 ------------------------------------------------------------------------------


def account_360(user, account) -> dict:
    """The loop around one account: NPS per stream (relationship from each contact's latest answer,
    transactional over the last 12 months) with the quarterly trend, who has never answered, the
    answers and the tasks with their outreach. Test answers are left out like everywhere."""
    from followups.models import EventKind, TaskStatus

    answers = scoping.responses(user).filter(account=account, is_test=False)
    latest = answers.filter(stream=Stream.RELATIONSHIP, latest_for__isnull=False).aggregate(**SCORE_COUNTS)
    year_ago = timezone.now() - timedelta(days=365)
    transactional = answers.filter(stream=Stream.TRANSACTIONAL, submitted_at__gte=year_ago).aggregate(**SCORE_COUNTS)
    from .charts import period_label

    trend_rows = [
        (period_label(p, "quarter"), s) for p, s in trend(answers.filter(stream=Stream.RELATIONSHIP), "quarter")[-8:]
    ]
    answered = set(answers.values_list("contact_id", flat=True).distinct())
    contacts = list(account.contacts.order_by("name", "email"))
    tasks = list(  # one query for the open and the closed lists
        scoping.tasks(user)
        .filter(account=account)
        .select_related("response", "contact", "assignee")
        .annotate(outreach=Count("events", filter=Q(events__kind=EventKind.OUTREACH)))
        .order_by("-created_at")[:100]
    )
    return {
        "relationship": Score(**latest),
        "transactional": Score(**transactional),
        "trend": trend_rows,
        "never_answered": [c for c in contacts if c.pk not in answered],
        "answers": answers.select_related("contact", "program").order_by("-submitted_at")[:20],
        "open_tasks": [t for t in tasks if t.status == TaskStatus.OPEN],
        "past_tasks": [t for t in tasks if t.status != TaskStatus.OPEN][:20],
    }


def contact_360(user, contact) -> dict:
    """One contact's invitations (with their email's status), answers and tasks."""
    return {
        "invitations": scoping.invitations(user)
        .filter(contact=contact)
        .select_related("program", "email", "wave")
        .order_by("-send_at")[:30],
        "answers": scoping.responses(user)
        .filter(contact=contact)
        .select_related("program")
        .order_by("-submitted_at")[:30],
        "tasks": scoping.tasks(user).filter(contact=contact).select_related("assignee").order_by("-created_at")[:30],
    }


def wave_results(wave) -> dict:
    """A wave's outcome: NPS ± margin of its answers, response rate (answered ÷ delivered), reminders,
    and who has not answered yet (the first 50 of them)."""
    from outbox.models import EmailStatus

    score = Score(**Response.objects.filter(wave=wave, is_test=False).aggregate(**SCORE_COUNTS))
    invitations = wave.invitations.filter(skipped_reason="")
    counts = invitations.aggregate(
        delivered=Count("pk", filter=Q(email__status=EmailStatus.SENT)),
        answered=Count("pk", filter=Q(responded_at__isnull=False)),
        reminded=Count("pk", filter=Q(reminder_email__status=EmailStatus.SENT)),
    )
    waiting = invitations.filter(email__status=EmailStatus.SENT, responded_at__isnull=True)
    return {
        "score": score,
        "shown": display(score.nps),
        "margin": display(score.margin),
        "rate": counts["answered"] / counts["delivered"] if counts["delivered"] else None,
        **counts,
        "non_responders": waiting.select_related("contact", "account").order_by("account__name", "contact__email")[:50],
        "non_responder_count": waiting.count(),
    }


def follow_up_summary(qs: QuerySet[Response], stream: str) -> list[dict]:
    """Per follow-up question of the stream's programs: how its answers split by category (choices and
    ratings counted per option; short texts counted, the latest few quoted), among `qs`."""
    from surveys.models import Category, Question, QuestionKind

    questions = list(Question.objects.filter(program__stream=stream).select_related("program"))
    if not questions:
        return []
    categories = [Category.DETRACTOR, Category.PASSIVE, Category.PROMOTER]
    summary = {}
    for q in questions:
        options = [str(n) for n in range(1, 6)] if q.kind == QuestionKind.RATING else q.option_list
        summary[q.pk] = {
            "question": q, "answered": 0, "texts": [],
            "rows": {o: dict.fromkeys(categories, 0) for o in options},
        }  # fmt: skip
    rows = qs.exclude(follow_up={}).order_by("-submitted_at").values_list("program_id", "category", "follow_up")
    for program_id, category, values in rows.iterator(chunk_size=2000):
        for key, value in values.items():
            entry = summary.get(int(key)) if str(key).isdigit() else None
            if entry is None or entry["question"].program_id != program_id:
                continue
            entry["answered"] += 1
            if entry["question"].kind == QuestionKind.TEXT:
                if len(entry["texts"]) < 5:
                    entry["texts"].append(str(value))
                continue
            for option in value if isinstance(value, list) else [value]:
                counts = entry["rows"].get(str(option))
                if counts is not None:
                    counts[category] += 1
    return [
        {
            **entry,
            "rows": [(option, [c[k] for k in categories], sum(c.values())) for option, c in entry["rows"].items()],
        }
        for entry in summary.values()
    ]
