"""Every environment variable Rebound reads is read here, and only here.

A malformed value stops the process at start with the variable's name in the message,
rather than surfacing later as a confusing runtime error.
"""

from __future__ import annotations

import os
import zoneinfo
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def _bad(name: str, value: str, why: str) -> ImproperlyConfigured:
    return ImproperlyConfigured(f"Environment variable {name}={value!r} is malformed: {why}")


def raw(name: str, default: str | None = None) -> str | None:
    return os.environ.get(name, default)


def string(name: str, default: str) -> str:
    return os.environ.get(name, default)


def boolean(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    lowered = value.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise _bad(name, value, "expected one of true/false, yes/no, on/off, 1/0")


def integer(name: str, default: int) -> int:
    value = os.environ.get(name)
    if value is None:
        return default
    try:
        return int(value)
    except ValueError:
        raise _bad(name, value, "expected a whole number") from None


def rate(name: str, default: str) -> str:
    """A rate limit such as "10/m" (per second, minute, hour or day)."""
    value = os.environ.get(name, default)
    count, _, period = value.partition("/")
    if not count.isdigit() or period not in {"s", "m", "h", "d"}:
        raise _bad(name, value, 'expected a count per period, like "10/m" (s, m, h or d)')
    return value


def string_list(name: str, default: list[str]) -> list[str]:
    value = os.environ.get(name)
    if value is None:
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


def networks(name: str) -> list[str]:
    """Comma-separated IP addresses or networks (CIDR), e.g. "10.0.0.0/8,172.17.0.1"."""
    import ipaddress

    items = string_list(name, [])
    for item in items:
        try:
            ipaddress.ip_network(item, strict=False)
        except ValueError:
            raise _bad(name, ",".join(items), f"{item!r} is not an IP address or network") from None
    return items


def timezone(name: str, default: str) -> str:
    value = os.environ.get(name, default)
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise _bad(name, value, "not a known IANA time zone such as Europe/Berlin") from None
    return value


def url(name: str, default: str) -> str:
    value = os.environ.get(name, default)
    parts = urlsplit(value)
    if parts.scheme not in {"http", "https"} or not parts.netloc:
        raise _bad(name, value, "expected an absolute http(s) URL such as https://nps.example.com")
    return value.rstrip("/")


def database(name: str, default: str) -> dict[str, Any]:
    value = os.environ.get(name, default)
    try:
        config = environ.Env.db_url_config(value)
    except (KeyError, ValueError, ImproperlyConfigured) as exc:
        raise _bad(name, value, f"not a database URL ({exc})") from None
    if "." not in config.get("ENGINE", ""):
        raise _bad(name, value, "unknown database scheme; use postgres:// or sqlite:///")
    return config


def redis_url(name: str) -> str | None:
    value = os.environ.get(name)
    if not value:
        return None
    if urlsplit(value).scheme not in {"redis", "rediss"}:
        raise _bad(name, value, "expected redis://host:port/db")
    return value


def redis_cache(location: str) -> dict[str, Any]:
    """Django's Redis cache, failing fast: a Redis that is down or hung costs a request at most a
    fraction of a second (callers that can do without the cache then carry on)."""
    return {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": location,
        "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
    }


def email(name: str, default: str | None) -> dict[str, Any]:
    """EMAIL_URL to Django email settings.

    Schemes: smtp:// (plain, port 25), smtp+tls:// (STARTTLS, port 587), smtps:// or smtp+ssl://
    (implicit TLS, port 465), console://, outbox:// (the dev outbox: every mail stored and readable
    in the app), memory://, dummymail:// (drops every message), and anymail+<esp>://?api_key=...
    for an email service provider through django-anymail. SMTP URLs take ``?timeout=SECONDS``
    (default: EMAIL_TIMEOUT, else 30).
    """
    value = os.environ.get(name, default)
    if value is None:
        return {}
    scheme = urlsplit(value).scheme
    if scheme == "outbox":
        return {"EMAIL_BACKEND": "outbox.backends.OutboxBackend"}
    if scheme == "console":
        return {"EMAIL_BACKEND": "django.core.mail.backends.console.EmailBackend"}
    if scheme == "memory":
        return {"EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend"}
    if scheme == "dummymail":  # accepts and drops every message (benchmarks)
        return {"EMAIL_BACKEND": "django.core.mail.backends.dummy.EmailBackend"}
    if scheme.startswith("anymail+"):
        esp = scheme.removeprefix("anymail+")
        params = parse_qs(urlsplit(value).query)
        api_key = params.get("api_key", [""])[0]
        if not esp.isidentifier() or not api_key:
            raise _bad(name, "anymail+" + esp + "://…", "expected anymail+<esp>://?api_key=KEY")
        return {
            "EMAIL_BACKEND": f"anymail.backends.{esp}.EmailBackend",
            "ANYMAIL": {f"{esp.upper()}_API_KEY": api_key},
        }
    if scheme not in SMTP_SCHEMES:
        raise _bad(name, value, f"unknown scheme {scheme!r}; use one of {', '.join(SMTP_SCHEMES)}, outbox, console")
    parts = urlsplit(value)
    try:
        port = parts.port
    except ValueError:
        raise _bad(name, value, "the port is not a number") from None
    if not parts.hostname:
        raise _bad(name, value, "no host, as in smtp://mail.example.com:25")
    params = parse_qs(parts.query)
    timeout = params.get("timeout", [None])[0]
    if timeout is None:
        seconds = integer("EMAIL_TIMEOUT", 30)
    elif timeout.isdigit():
        seconds = int(timeout)
    else:
        raise _bad(name, value, "timeout= takes whole seconds")
    if seconds <= 0:
        raise _bad(name, value, "the timeout must be at least one second")
    tls = SMTP_SCHEMES[scheme]
    return {
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": parts.hostname,
        "EMAIL_PORT": port or {"starttls": 587, "implicit": 465}.get(tls, 25),
        "EMAIL_HOST_USER": unquote(parts.username or ""),
        "EMAIL_HOST_PASSWORD": unquote(parts.password or ""),
        "EMAIL_USE_TLS": tls == "starttls",
        "EMAIL_USE_SSL": tls == "implicit",
        "EMAIL_TIMEOUT": seconds,
    }


# Scheme → how TLS is used: none, STARTTLS after connecting, or TLS from the first byte.
SMTP_SCHEMES = {"smtp": "none", "smtp+tls": "starttls", "smtps": "implicit", "smtp+ssl": "implicit"}
