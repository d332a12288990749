"""Daily rollups of the responses, so that the dashboard's figures cost what the days and segments
cost, not what the responses do (issue 12: a million responses).

``DailyCount`` holds per day, stream, answer-time team and score the responses and how many wrote a
reason, in all and per value of each segment dimension. A day is
always rebuilt whole from the responses (DELETE and INSERT … SELECT … GROUP BY in one transaction),
never incremented, so a rebuilt day is exact, and rebuilding it twice changes nothing.

Only *sealed* days are rolled up: days before ``seal_day()``, when no answer on them can still be
edited. The selectors read the rollups for sealed days up to ``RollupState.built_through`` and the
responses themselves for the rest, so a figure is exact whatever state the rollups are in. What can
still change a sealed day is rare and caught here, by the analytics tick (``refresh``):

* a change that sets ``updated_at`` (erasure and retention blank the reason; an edit window raised
  after the fact) — the sealed days of the responses changed since the last run are rebuilt;
* anything else (rows deleted with their contact, a team deleted, a bulk load) — once a day every
  rolled-up day is compared with the responses and rebuilt if it differs (``verify``).
"""

from __future__ import annotations

import logging
import math
from datetime import date, datetime, time, timedelta

from django.db import connection, transaction
from django.db.models import CharField, Count, Max, Min, Q, Value
from django.db.models.functions import Cast, Coalesce, TruncDate
from django.utils import timezone

from surveys.models import Program, Response, Stream

from .models import DailyCount, RollupState
from .selectors import DIMENSIONS, TRANSACTIONAL_ONLY, dimension_column

logger = logging.getLogger(__name__)
CHUNK_DAYS = 31  # days rebuilt per statement while catching up
SLACK = timedelta(minutes=10)  # a change committed this long after it was stamped is still seen


def midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=timezone.get_default_timezone())


def seal_day(now: datetime | None = None) -> date:
    """The first day that is not sealed: answers on earlier days are past every edit window."""
    hours = Program.objects.aggregate(longest=Max("edit_window_hours"))["longest"] or 0
    today = timezone.localdate(now or timezone.now(), timezone.get_default_timezone())
    return today - timedelta(days=math.ceil(hours / 24) + 1)


def _locked_state() -> RollupState:
    """The one state row, locked: whoever rebuilds the rollups holds it."""
    RollupState.objects.get_or_create(pk=1)
    return RollupState.objects.select_for_update().get(pk=1)


def _build(first: date, end: date) -> None:
    """Replace the rollups of the days [first, end) by the responses' counts; inside a transaction."""
    DailyCount.objects.filter(day__gte=first, day__lt=end).delete()
    days = (
        Response.objects.filter(submitted_at__gte=midnight(first), submitted_at__lt=midnight(end), is_test=False)
        .annotate(day=TruncDate("submitted_at", tzinfo=timezone.get_default_timezone()))
        .order_by()
    )
    fields = ["dimension", "day", "stream", "team_id", "value", "score"]
    counts = {"responses": Count("pk"), "commented": Count("pk", filter=~Q(reason=""))}
    _insert(fields, days.annotate(dimension=Value(""), value=Value("")).values(*fields).annotate(**counts))
    for dimension in DIMENSIONS:
        rows = days.filter(stream=Stream.TRANSACTIONAL) if dimension in TRANSACTIONAL_ONLY else days
        rows = rows.annotate(
            dimension=Value(dimension),
            value=Coalesce(Cast(dimension_column(dimension), CharField()), Value("")),
        )
        _insert(fields, rows.values(*fields).annotate(**counts))


def _insert(fields: list[str], rows) -> None:
    """INSERT … SELECT the grouped rows: the `fields`, then the responses and how many commented."""
    sql, params = rows.query.sql_with_params()
    columns = ", ".join([*fields, "responses", "commented"])
    statement = f"INSERT INTO {DailyCount._meta.db_table} ({columns}) {sql}"  # noqa: S608 (names from the models)
    with connection.cursor() as cursor:
        cursor.execute(statement, params)


def _chunks(first: date, end: date):
    day = first
    while day < end:
        yield day
        day += timedelta(days=CHUNK_DAYS)


def _days(queryset) -> list[date]:
    day = TruncDate("submitted_at", tzinfo=timezone.get_default_timezone())
    return sorted(queryset.annotate(day=day).order_by().values_list("day", flat=True).distinct())


def refresh(now: datetime | None = None) -> dict[str, int]:
    """The analytics tick: rebuild the sealed days changed since the last run, roll up the days
    sealed since, and once a day compare every rolled-up day with the responses."""
    now = now or timezone.now()
    done = {"changed": 0, "added": 0, "repaired": 0}
    with transaction.atomic():
        current = _locked_state()
        built = current.built_through
        if built is not None and current.checked_at is not None:
            changed = Response.objects.filter(
                updated_at__gte=current.checked_at - SLACK, submitted_at__lt=midnight(built)
            )
            for day in _days(changed):
                _build(day, day + timedelta(days=1))
                done["changed"] += 1
        sealed = seal_day(now)
        if built is None:
            first = Response.objects.aggregate(first=Min("submitted_at"))["first"]
            built = timezone.localdate(first, timezone.get_default_timezone()) if first else sealed
            built = min(built, sealed)
        for start in _chunks(built, sealed):
            end = min(start + timedelta(days=CHUNK_DAYS), sealed)
            _build(start, end)
            done["added"] += (end - start).days
        current.built_through = max(built, sealed)
        current.checked_at = now
        today = timezone.localdate(now, timezone.get_default_timezone())
        if current.verified_on != today:
            for day in verify(current.built_through):
                _build(day, day + timedelta(days=1))
                done["repaired"] += 1
            current.verified_on = today
        current.save()
    if done["repaired"]:
        logger.warning("Rebuilt %s rolled-up days that differed from their responses", done["repaired"])
    return done


def verify(built_through: date) -> list[date]:
    """The rolled-up days whose counts differ from the responses' (one pass over each table)."""
    tz = timezone.get_default_timezone()
    key = ("day", "stream", "team_id", "score")
    actual = {
        tuple(row[k] for k in key): (row["responses"], row["commented"])
        for row in Response.objects.filter(submitted_at__lt=midnight(built_through), is_test=False)
        .annotate(day=TruncDate("submitted_at", tzinfo=tz))
        .order_by()
        .values(*key)
        .annotate(responses=Count("pk"), commented=Count("pk", filter=~Q(reason="")))
    }
    rolled = {
        tuple(row[k] for k in key): (row["responses"], row["commented"])
        for row in DailyCount.objects.filter(dimension="", day__lt=built_through).values(*key, "responses", "commented")
    }
    return sorted({key[0] for key in actual.keys() | rolled.keys() if actual.get(key) != rolled.get(key)})
