"""/healthz: is this instance able to do its work? Database, cache (Redis) and Celery broker.

Answered before host validation and the HTTPS redirect, for container and load-balancer checks.
200 with {"status": "ok", ...} when all answer; 503 naming each failing one otherwise. Cheap: one
SELECT 1, one PING, one broker connection, each with a short timeout.
"""

from __future__ import annotations

import os

from django.conf import settings
from django.db import connection
from django.http import JsonResponse

TIMEOUT = 2.0


def _database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")


def _cache() -> None:
    from django.core.cache import cache

    client = getattr(cache, "_cache", None)
    if client is not None and hasattr(client, "get_client"):  # Redis: a PING, no key written
        client.get_client(write=True).ping()
    else:
        cache.get("healthz")


def _broker() -> None:
    url = settings.CELERY_BROKER_URL
    if url.startswith("filesystem://"):
        folder = settings.CELERY_BROKER_TRANSPORT_OPTIONS["data_folder_in"]
        if not os.access(folder, os.W_OK):
            raise OSError(f"{folder} is not writable")
        return
    from config.celery import app

    with app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=1, timeout=TIMEOUT)


CHECKS = {"database": _database, "cache": _cache, "broker": _broker}


def health() -> tuple[bool, dict[str, str]]:
    results = {}
    for name, check in CHECKS.items():
        try:
            check()
        except Exception as exc:  # noqa: BLE001 - any failure means that part is unhealthy
            results[name] = f"failing: {type(exc).__name__}: {str(exc)[:200]}"
        else:
            results[name] = "ok"
    return all(value == "ok" for value in results.values()), results


class HealthCheckMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path != "/healthz":
            return self.get_response(request)
        healthy, results = health()
        failing = [name for name, value in results.items() if value != "ok"]
        body = {"status": "ok" if healthy else "failing", "failing": failing, "checks": results}
        return JsonResponse(body, status=200 if healthy else 503)
