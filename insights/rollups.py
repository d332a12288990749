"""Daily rollups of the responses, so that the dashboard's figures cost what the days and segments
cost, not what the responses do (issue 12: a million responses).

``DailyCount`` holds per day, stream, answer-time team and score the responses and how many wrote a
reason, in all and per value of each segment dimension. A day is
always rebuilt whole from the responses (DELETE and INSERT … SELECT … GROUP BY in one transaction),
never incremented, so a rebuilt day is exact, and rebuilding it twice changes nothing.

``DailyThemeCount`` holds per day, stream, team, theme and score how many responses carry the theme's
tag, built with the counts of the same days. A re-tagging rewrites every tag: it clears
``RollupState.themes_through`` first (``themes_changed``), the theme figures are counted from the
responses meanwhile, and the next refresh rebuilds every day's theme rows. A tag corrected by hand
rebuilds its day at once (``theme_day_changed``) and sets the response's ``updated_at``.

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

from django.db import DatabaseError, connection, transaction
from django.db.models import CharField, Count, F, Max, Min, Q, Value
from django.db.models.functions import Cast, Coalesce, TruncDate
from django.utils import timezone

from surveys.models import Program, Response, Stream

from .models import DailyCount, DailyThemeCount, RollupState, Tag
from .selectors import DIMENSIONS, TRANSACTIONAL_ONLY, dimension_column

logger = logging.getLogger(__name__)
CHUNK_DAYS = 31  # days rebuilt per statement while catching up
SLACK = timedelta(minutes=10)  # a change committed this long after it was stamped is still seen
THEME_KEY = ["day", "stream", "team_id", "theme_id", "score"]  # a theme rollup row, without its count


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
    _build_counts(first, end)
    _build_themes(first, end)


def _build_counts(first: date, end: date) -> None:
    DailyCount.objects.filter(day__gte=first, day__lt=end).delete()
    days = (
        Response.objects.filter(submitted_at__gte=midnight(first), submitted_at__lt=midnight(end), is_test=False)
        .annotate(day=TruncDate("submitted_at", tzinfo=timezone.get_default_timezone()))
        .order_by()
    )
    fields = ["dimension", "day", "stream", "team_id", "value", "score"]
    counts = {"responses": Count("pk"), "commented": Count("pk", filter=~Q(reason=""))}
    columns = [*fields, *counts]
    _insert(DailyCount, columns, days.annotate(dimension=Value(""), value=Value("")).values(*fields).annotate(**counts))
    for dimension in DIMENSIONS:
        rows = days.filter(stream=Stream.TRANSACTIONAL) if dimension in TRANSACTIONAL_ONLY else days
        rows = rows.annotate(
            dimension=Value(dimension),
            value=Coalesce(Cast(dimension_column(dimension), CharField()), Value("")),
        )
        _insert(DailyCount, columns, rows.values(*fields).annotate(**counts))


def _themes_of_days(first: date, end: date):
    """Tags of the responses of the days [first, end), counted per day, stream, team, theme and score."""
    return (
        Tag.objects.filter(
            response__submitted_at__gte=midnight(first),
            response__submitted_at__lt=midnight(end),
            response__is_test=False,
        )
        .annotate(
            day=TruncDate("response__submitted_at", tzinfo=timezone.get_default_timezone()),
            stream=F("response__stream"),
            team_id=F("response__team_id"),
            score=F("response__score"),
        )
        .order_by()
        .values(*THEME_KEY)
        .annotate(mentions=Count("pk"))
    )


def _build_themes(first: date, end: date) -> None:
    """Replace the theme rollups of the days [first, end) by the tags' counts; inside a transaction."""
    DailyThemeCount.objects.filter(day__gte=first, day__lt=end).delete()
    _insert(DailyThemeCount, [*THEME_KEY, "mentions"], _themes_of_days(first, end))


def _insert(model, columns: list[str], rows) -> None:
    """INSERT … SELECT the grouped rows into `model`; `columns` name the SELECT's columns in order."""
    sql, params = rows.query.sql_with_params()
    statement = f"INSERT INTO {model._meta.db_table} ({', '.join(columns)}) {sql}"  # noqa: S608 (names from the models)
    with connection.cursor() as cursor:
        cursor.execute(statement, params)


def _chunks(first: date, end: date):
    """[start, stop) spans of at most CHUNK_DAYS days covering [first, end)."""
    day = first
    while day < end:
        stop = min(day + timedelta(days=CHUNK_DAYS), end)
        yield day, stop
        day = stop


def _first_day() -> date | None:
    """The day of the first response, in TIME_ZONE."""
    first = Response.objects.aggregate(first=Min("submitted_at"))["first"]
    return timezone.localdate(first, timezone.get_default_timezone()) if first else None


def _days(queryset) -> list[date]:
    day = TruncDate("submitted_at", tzinfo=timezone.get_default_timezone())
    return sorted(queryset.annotate(day=day).order_by().values_list("day", flat=True).distinct())


def refresh(now: datetime | None = None) -> dict[str, int]:
    """The analytics tick: rebuild the sealed days changed since the last run, roll up the days
    sealed since, and once a day compare every rolled-up day with the responses."""
    now = now or timezone.now()
    done = {"changed": 0, "added": 0, "repaired": 0, "themes": 0}
    with transaction.atomic():
        current = _locked_state()
        built = current.built_through
        themes_cleared = built is not None and current.themes_through is None
        if built is not None and current.checked_at is not None:
            changed = Response.objects.filter(
                updated_at__gte=current.checked_at - SLACK, submitted_at__lt=midnight(built)
            )
            for day in _days(changed):
                _build(day, day + timedelta(days=1))
                done["changed"] += 1
        sealed = seal_day(now)
        if built is None:
            built = min(_first_day() or sealed, sealed)
        for start, end in _chunks(built, sealed):
            _build(start, end)
            done["added"] += (end - start).days
        current.built_through = max(built, sealed)
        if themes_cleared:  # a re-tagging rewrote the tags: every rolled-up day's theme rows again
            for start, end in _chunks(_first_day() or current.built_through, current.built_through):
                _build_themes(start, end)
                done["themes"] += (end - start).days
        current.themes_through = current.built_through
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
    differ = {key[0] for key in actual.keys() | rolled.keys() if actual.get(key) != rolled.get(key)}
    first = _first_day()
    if first is not None:
        tagged = {tuple(row[k] for k in THEME_KEY): row["mentions"] for row in _themes_of_days(first, built_through)}
        themes = {
            tuple(row[k] for k in THEME_KEY): row["mentions"]
            for row in DailyThemeCount.objects.filter(day__lt=built_through).values(*THEME_KEY, "mentions")
        }
        differ |= {key[0] for key in tagged.keys() | themes.keys() if tagged.get(key) != themes.get(key)}
    return sorted(differ)


def themes_changed() -> None:
    """Tags were rewritten in bulk (a re-tagging): the theme figures are counted from the responses
    until the next refresh has rebuilt every day's theme rows. Call it first in the writer's
    transaction: it waits for a refresh under way, and a refresh waits for the writer."""
    RollupState.objects.filter(pk=1).update(themes_through=None)


def theme_day_changed(moment: datetime) -> None:
    """One response's tags changed by hand (its `updated_at` set in the same transaction): rebuild
    its day's theme rows now if the day is rolled up and no refresh holds the rollups; otherwise the
    refresh sees the change through `updated_at`."""
    day = timezone.localdate(moment, timezone.get_default_timezone())
    try:
        with transaction.atomic():
            state = RollupState.objects.select_for_update(nowait=True).filter(pk=1).first()
    except DatabaseError:  # a refresh is running; it or the next one rebuilds the day
        return
    if state is not None and state.themes_through is not None and day < state.themes_through:
        _build_themes(day, day + timedelta(days=1))
