"""Turning query parameters into insight filters, shared by the dashboard, the exports and the API."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from django.utils import timezone

from config.inputs import whole_number
from surveys.cadence import quarter_start
from surveys.models import Stream

from .selectors import DIMENSIONS, Filters

PERIODS = {"30d": "Last 30 days", "90d": "Last 90 days", "quarter": "This quarter", "year": "Last 12 months"}


class BadFilter(ValueError):
    """A parameter that cannot be used; the message names it."""


EARLIEST, LATEST = date(2000, 1, 1), date(2999, 12, 31)
MAX_VALUE = 200


def _day(value: str, name: str) -> date:
    try:
        day = date.fromisoformat(value)
    except ValueError:
        raise BadFilter(f"{name}: expected a date like 2026-01-31") from None
    if not EARLIEST <= day <= LATEST:
        raise BadFilter(f"{name}: expected a date between {EARLIEST} and {LATEST}")
    return day


def _dimensions(params) -> dict[str, str]:
    dims = {}
    for name in DIMENSIONS:
        value = params.get(name)
        if not value:
            continue
        if name in ("csm", "team") and whole_number(value) is None:
            raise BadFilter(f"{name}: expected the id of a {'user' if name == 'csm' else 'team'}")
        if "\x00" in value or len(value) > MAX_VALUE:
            raise BadFilter(f"{name}: not a value this field can have")
        dims[name] = value
    return dims


def period_bounds(params, now: datetime | None = None) -> tuple[datetime, datetime, str]:
    now = now or timezone.now()
    tz = timezone.get_current_timezone()
    if params.get("from") or params.get("to"):
        start = _day(params.get("from") or "2000-01-01", "from")
        end = _day(params.get("to") or timezone.localdate(now).isoformat(), "to")
        if end < start:
            raise BadFilter("to: must not be before from")
        return (
            datetime.combine(start, time(0), tzinfo=tz),
            datetime.combine(end + timedelta(days=1), time(0), tzinfo=tz),
            "custom",
        )
    period = params.get("period") or "year"  # enough answers to mean something; 90 days is often noise
    if period not in PERIODS:
        raise BadFilter(f"period: choose {', '.join(PERIODS.values()).lower()} (or dates)")
    today = timezone.localdate(now)
    end = datetime.combine(today + timedelta(days=1), time(0), tzinfo=tz)
    if period == "quarter":
        return datetime.combine(quarter_start(today), time(0), tzinfo=tz), end, period
    days = {"30d": 30, "90d": 90, "year": 365}[period]
    return end - timedelta(days=days), end, period


def filters_from(params, *, default_stream: str = Stream.RELATIONSHIP) -> tuple[Filters, str]:
    stream = params.get("stream") or default_stream
    if stream not in Stream.values:
        raise BadFilter("stream: relationship or transactional")
    start, end, period = period_bounds(params)
    dims = _dimensions(params)
    return Filters(stream=stream, start=start, end=end, dims=dims), period
