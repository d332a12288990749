"""Reading what a browser or API client sent, without trusting it.

Query strings and form fields reach the ORM through these helpers, so a value such as ``²`` (a
digit to ``str.isdigit`` but not to ``int``), a year 9999 date or a foreign ``next`` URL ends as
a clear refusal or a safe default, never as an exception.
"""

from __future__ import annotations

import datetime

import django_filters
from django.http import HttpRequest
from django.shortcuts import resolve_url
from django.utils.http import url_has_allowed_host_and_scheme

MAX_ID = 2**63 - 1


def whole_number(value: object, *, maximum: int = MAX_ID) -> int | None:
    """A non-negative ASCII whole number that fits a database id, else None."""
    text = str(value).strip() if value is not None else ""
    if not (text.isascii() and text.isdigit()) or len(text) > 19:
        return None
    number = int(text)
    return number if number <= maximum else None


def safe_next(request: HttpRequest, fallback: str, *, field: str = "next") -> str:
    """The ``next`` target from the POST or GET data if it stays on this site, else ``fallback``."""
    target = request.POST.get(field) or request.GET.get(field) or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return resolve_url(fallback)


class UtcDateTimeFilter(django_filters.IsoDateTimeFilter):
    """An ISO 8601 date-time filter that queries in UTC: PostgreSQL refuses offsets beyond ±15:59,
    which ISO 8601 (and Python) allow, so "…-20:40" would otherwise fail in the database."""

    def filter(self, qs, value):
        return super().filter(qs, value.astimezone(datetime.UTC) if value is not None else value)
