"""Tests: PostgreSQL and Redis at their default local addresses when they answer.

DATABASE_URL / REDIS_URL override the probe. Without the services the suite falls back to
SQLite and a local cache with a notice, except under CI=true, where a missing service fails.
"""

import os
import socket
import sys

from django.core.exceptions import ImproperlyConfigured

from config import env

from .base import *  # noqa: F403

LOCAL_POSTGRES = "postgres://postgres@127.0.0.1:5432/rebound"
# Database 9, so that a test run never flushes a developer's data in database 0.
LOCAL_REDIS = "redis://127.0.0.1:6379/9"


def _answers(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


_in_ci = env.boolean("CI", False)


def _fallback(service: str) -> None:
    if _in_ci:
        raise ImproperlyConfigured(f"CI=true but {service} does not answer at its local address.")
    print(f"NOTICE: {service} does not answer; the tests fall back and skip what needs it.", file=sys.stderr)


if "DATABASE_URL" in os.environ:
    DATABASES = {"default": env.database("DATABASE_URL", "")}
elif _answers("127.0.0.1", 5432):
    DATABASES = {"default": env.database("DATABASE_URL", LOCAL_POSTGRES)}
else:
    _fallback("PostgreSQL")
    DATABASES = {"default": env.database("DATABASE_URL", "sqlite:///:memory:")}

REDIS_URL = env.redis_url("REDIS_URL")
if REDIS_URL is None and _answers("127.0.0.1", 6379):
    REDIS_URL = LOCAL_REDIS
if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    CELERY_BROKER_TRANSPORT_OPTIONS = {"socket_timeout": 5, "socket_connect_timeout": 2}
    CACHES = {"default": env.redis_cache(REDIS_URL)}
else:
    _fallback("Redis")
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

SECRET_KEY = "test-only-secret-key-not-for-anything-else-0123456789"  # noqa: S105
DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# Worker processes that the fault tests start send to a real SMTP sink through EMAIL_URL.
if "EMAIL_URL" not in os.environ:
    EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
SITE_URL = "http://testserver"
ALLOWED_HOSTS = ["testserver", "localhost", "127.0.0.1"]
# Unit tests run tasks in-process; the integration tests start a real worker and turn this off.
# (TEST_CELERY_EAGER=false for the worker processes those tests start.)
CELERY_TASK_ALWAYS_EAGER = env.boolean("TEST_CELERY_EAGER", True)
CELERY_TASK_EAGER_PROPAGATES = True
MEDIA_ROOT = BASE_DIR / "var" / "test-media"  # noqa: F405
WHITENOISE_AUTOREFRESH = True  # serve from the finders; no collectstatic needed for tests

# ESP tracking webhooks are mounted when a secret is set: the tests post to them.
ANYMAIL_WEBHOOK_SECRET = "hook:test-webhook-secret"  # noqa: S105
ANYMAIL = {"WEBHOOK_SECRET": ANYMAIL_WEBHOOK_SECRET}
