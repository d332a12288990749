"""Settings for benchmarks: the dev settings on PostgreSQL and Redis, with a baseline view added."""

import os as _os

from config.settings.dev import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
LOGGING["root"]["level"] = "WARNING"  # noqa: F405
# As in production: persistent connections (CONN_MAX_AGE=0 measures a new connection per request).
DATABASES["default"]["CONN_MAX_AGE"] = int(_os.environ.get("CONN_MAX_AGE", "60"))  # noqa: F405

if _os.environ.get("BENCH_PEER"):  # bench_insights.py: django-nps, the peer it compares the overall NPS with
    INSTALLED_APPS = [*INSTALLED_APPS, "net_promoter_score"]  # noqa: F405
