"""SLA clocks: due times in a team's business hours, or on the wall clock when it sets none."""

from __future__ import annotations

import zoneinfo
from datetime import date, datetime, time, timedelta

from accounts.models import Team

WEEKDAYS = [0, 1, 2, 3, 4]


def team_tz(team: Team | None) -> zoneinfo.ZoneInfo:
    """The team's time zone; UTC for work without a team."""
    return zoneinfo.ZoneInfo(team.timezone if team else "UTC")


def _at(day: date, hour: int, tz: zoneinfo.ZoneInfo) -> datetime:
    if hour >= 24:
        return datetime.combine(day + timedelta(days=1), time(0), tzinfo=tz)
    return datetime.combine(day, time(hour), tzinfo=tz)


def add_business_hours(start: datetime, hours: float, team: Team | None) -> datetime:
    """`hours` of working time after `start`, counted only inside the team's working hours."""
    if team is None or not team.has_business_hours:
        return start + timedelta(hours=hours)
    tz = team_tz(team)
    cursor = start.astimezone(tz)
    remaining = timedelta(hours=hours)
    for _ in range(3660):  # ten years of days: a bound, never reached with a sane policy
        day = cursor.date()
        opens, closes = _at(day, team.work_start, tz), _at(day, team.work_end, tz)
        if day.weekday() in team.work_days and cursor < closes:
            cursor = max(cursor, opens)
            available = closes - cursor
            if remaining <= available:
                return cursor + remaining
            remaining -= available
        cursor = _at(day + timedelta(days=1), 0, tz)
    raise ValueError("No working hours found: check the team's working days.")


def add_business_days(start: datetime, days: int, team: Team | None) -> datetime:
    """The same local time `days` working days later (Monday–Friday when the team sets no days)."""
    tz = team_tz(team)
    work_days = team.work_days if team and team.work_days else WEEKDAYS
    local = start.astimezone(tz)
    day = local.date()
    added = 0
    while added < days:
        day += timedelta(days=1)
        if day.weekday() in work_days:
            added += 1
    return datetime.combine(day, local.timetz().replace(tzinfo=None), tzinfo=tz)


def humanize_due(due_at: datetime, now: datetime) -> tuple[str, str]:
    """("due in 3 h" or "overdue 5 h", a Bootstrap colour) for the SLA countdown."""
    delta = due_at - now
    seconds = abs(delta.total_seconds())
    if seconds < 3600:
        amount = f"{max(int(seconds // 60), 1)} min"
    elif seconds < 48 * 3600:
        amount = f"{int(seconds // 3600)} h"
    else:
        amount = f"{int(seconds // 86400)} d"
    if delta.total_seconds() < 0:
        return f"overdue {amount}", "danger"
    if seconds < 4 * 3600:
        return f"due in {amount}", "warning"
    return f"due in {amount}", "success"
