"""Deployment checks (`manage.py check --deploy`): the embedded defaults are for trying Rebound only."""

from django.conf import settings
from django.core.checks import Warning, register


@register("rebound", deploy=True)
def embedded_defaults(app_configs=None, **kwargs):
    problems = []
    if settings.DATABASES["default"]["ENGINE"].endswith("sqlite3"):
        problems.append(
            Warning(
                "The database is SQLite, the embedded default for trying Rebound.",
                hint="Set DATABASE_URL=postgres://… : SQLite serialises every write (answers, sends, ticks), "
                "so a busy wave blocks customers' answers.",
                id="rebound.W001",
            )
        )
    if settings.CELERY_BROKER_URL.startswith("filesystem://"):
        problems.append(
            Warning(
                "The Celery broker is kombu's filesystem transport, the embedded default.",
                hint="Set REDIS_URL=redis://… : the filesystem broker works for one machine and one worker only.",
                id="rebound.W002",
            )
        )
    return problems
