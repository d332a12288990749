"""Relationship cadence: periods ("2026-Q4") and the moment each period's wave is due.

Periods are aligned to the calendar year: quarterly waves fall in January, April, July and
October; every 4 months in January, May, September; twice a year in January and July. The wave
goes out on the program's day of the month at its hour, in its time zone (so 09:00 stays 09:00
local across daylight-saving changes).
"""

from __future__ import annotations

from datetime import date, datetime, time
from typing import TypeVar

from django.utils import timezone

from .models import Program

PERIOD_LETTER = {3: "Q", 4: "T", 6: "H"}
D = TypeVar("D", date, datetime)


def period_label(year: int, index: int, months: int) -> str:
    return f"{year}-{PERIOD_LETTER.get(months, 'P')}{index + 1}"


def quarter_label(day: date) -> str:
    """The calendar quarter of a date or datetime, named like a quarterly wave: "2026-Q4"."""
    return period_label(day.year, (day.month - 1) // 3, 3)


def quarter_label_sql(column: str) -> str:
    """quarter_label as a SQL expression over a date column (a quoted name); "" where it is NULL."""
    return (
        f"CASE WHEN {column} IS NULL THEN '' ELSE EXTRACT(YEAR FROM {column})::int::text "
        f"|| '-{PERIOD_LETTER[3]}' || EXTRACT(QUARTER FROM {column})::int::text END"
    )


def quarter_start(moment: D) -> D:
    """The first day (for a datetime: midnight of it, same tzinfo) of the moment's calendar quarter."""
    first = moment.replace(month=3 * ((moment.month - 1) // 3) + 1, day=1)
    return first.replace(hour=0, minute=0, second=0, microsecond=0) if isinstance(first, datetime) else first


def period_containing(program: Program, day: date) -> tuple[int, int]:
    """(year, zero-based period index) of the period that contains a local date."""
    return day.year, (day.month - 1) // program.cadence_months


def wave_time(program: Program, year: int, index: int) -> datetime:
    """When the wave of a period is due, as an aware datetime."""
    month = index * program.cadence_months + 1
    local = datetime.combine(date(year, month, program.send_day), time(program.send_hour), tzinfo=program.tz)
    return local


def period_start(program: Program, year: int, index: int) -> datetime:
    return datetime(year, index * program.cadence_months + 1, 1, tzinfo=program.tz)


def _taken(program: Program, year: int, index: int, labels: set[str], last_wave_at: datetime | None) -> bool:
    """A period is done if it has its wave, or any wave went out inside it (say, before a cadence edit)."""
    if period_label(year, index, program.cadence_months) in labels:
        return True
    return last_wave_at is not None and last_wave_at >= period_start(program, year, index)


def _history(program: Program) -> tuple[set[str], datetime | None]:
    if program.pk is None:
        return set(), None
    waves = list(program.waves.values_list("period", "scheduled_at"))
    return {p for p, _ in waves}, max((at for _, at in waves), default=None)


def following(program: Program, year: int, index: int) -> tuple[int, int]:
    per_year = 12 // program.cadence_months
    return (year + 1, 0) if index + 1 >= per_year else (year, index + 1)


def current_period(program: Program, now: datetime | None = None) -> tuple[str, datetime]:
    """The period now falls in, and when its wave is (or was) due."""
    now = now or timezone.now()
    year, index = period_containing(program, now.astimezone(program.tz).date())
    return period_label(year, index, program.cadence_months), wave_time(program, year, index)


def due_period(program: Program, now: datetime | None = None) -> tuple[str, datetime] | None:
    """The current period, if its wave time has come, it is on or after the start date, and it has no wave."""
    now = now or timezone.now()
    label, at = next_wave(program, now)
    return (label, at) if at <= now else None


def next_wave(program: Program, now: datetime | None = None) -> tuple[str, datetime]:
    """The next period without a wave, and when it goes out (a time in the past means: at the next tick)."""
    now = now or timezone.now()
    labels, last_wave_at = _history(program)
    current = period_containing(program, now.astimezone(program.tz).date())
    year, index = current
    for _ in range(12):
        at = wave_time(program, year, index)
        starts_ok = at.astimezone(program.tz).date() >= program.start_date
        if (
            starts_ok
            and not _taken(program, year, index, labels, last_wave_at)
            and (at > now or (year, index) == current)
        ):
            return period_label(year, index, program.cadence_months), at
        year, index = following(program, year, index)
    raise ValueError("no wave within three years")  # unreachable with valid settings
