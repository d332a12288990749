"""When a survey may go out: inside the program's send window, in the recipient's own time zone.

A program sends on its weekdays (``send_days``, none: every day) between two local hours
(``window_start_hour`` to ``window_end_hour``) of each recipient: the contact's own time zone, else
the zone of their account's region (``settings.REGION_TIME_ZONES``, or a region that is itself a zone
name), else the program's. Windows are computed per local date with ``zoneinfo``, so "09:00" is
09:00 on both sides of a daylight-saving change, in either hemisphere; an hour that a change skips
(02:30 when clocks go forward) is the instant right after the gap.
"""

from __future__ import annotations

import math
import zoneinfo
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache

from django.conf import settings

MAX_DAYS_AHEAD = 400  # a window that never comes (no weekday ticked is "any day") ends the search


@lru_cache(maxsize=512)
def _zone(name: str) -> zoneinfo.ZoneInfo | None:
    if not name:
        return None
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return None


_REGIONS: list = [None, {}]  # the settings' mapping, and its keys case-folded (made once, not per contact)


def _regions() -> dict[str, str]:
    source = settings.REGION_TIME_ZONES
    if _REGIONS[0] is not source:
        _REGIONS[:] = [source, {k.casefold(): v for k, v in source.items()}]
    return _REGIONS[1]


def recipient_zone(contact_zone: str, region: str, program_zone: str) -> zoneinfo.ZoneInfo:
    """The contact's zone, else their account region's, else the program's (else UTC)."""
    regions = _regions()
    for name in (contact_zone, regions.get((region or "").strip().casefold(), ""), region, program_zone):
        zone = _zone((name or "").strip())
        if zone is not None:
            return zone
    return zoneinfo.ZoneInfo("UTC")


def contact_zone(program, contact) -> zoneinfo.ZoneInfo:
    """Where the contact reads their email: their zone, their account region's, the program's."""
    region = contact.account.region if contact.account_id else ""
    return recipient_zone(contact.timezone, region, program.timezone)


def _at(day: date, hour: int, zone: zoneinfo.ZoneInfo) -> datetime:
    if hour >= 24:
        day, hour = day + timedelta(days=1), 0
    return datetime.combine(day, time(hour), tzinfo=zone).astimezone(UTC)


def windows(program, zone: zoneinfo.ZoneInfo, start: datetime) -> Iterator[tuple[datetime, datetime]]:
    """The program's windows in `zone` that end after `start`, in order, as (opens, closes) in UTC;
    the first one opens no earlier than `start`."""
    days = set(program.send_days or range(7))
    day = start.astimezone(zone).date()
    for _ in range(MAX_DAYS_AHEAD):
        if day.weekday() in days:
            opens, closes = _at(day, program.window_start_hour, zone), _at(day, program.window_end_hour, zone)
            if closes > start:
                yield max(opens, start), closes
        day += timedelta(days=1)


def slot(program, zone: zoneinfo.ZoneInfo, start: datetime, day_index: int = 0, fraction: float = 0.0) -> datetime:
    """The moment `fraction` (0 … 1) into the `day_index`-th window from `start`."""
    for index, (opens, closes) in enumerate(windows(program, zone, start)):
        if index == day_index:
            return opens + (closes - opens) * fraction
    return start  # no window within MAX_DAYS_AHEAD: send rather than never


def next_window(program, zone: zoneinfo.ZoneInfo, at: datetime) -> datetime:
    """`at` if it is inside a window, else the opening of the next one."""
    return slot(program, zone, at) if program.has_window else at


class WavePlan:
    """Where the i-th of a wave's `total` invitations goes: spread evenly over `spread_days` send
    days and within each day's window, at most `daily_cap` a day (the rest on the following days)."""

    def __init__(self, program, total: int, start: datetime) -> None:
        self.program, self.start = program, start
        per_day = math.ceil(total / program.spread_days) if total else 1
        if program.daily_cap:
            per_day = min(per_day, program.daily_cap)
        self.per_day = max(per_day, 1)
        self.days = math.ceil(total / self.per_day) if total else 0
        self.immediate = not program.has_window and self.days <= 1

    def send_at(self, index: int, program, contact) -> datetime:
        if self.immediate:
            return self.start  # the common case costs nothing per contact
        zone = contact_zone(program, contact)
        day, position = divmod(index, self.per_day)
        return slot(program, zone, self.start, day, position / self.per_day)
