"""Domain events for other systems: each app says what happened, without knowing who listens.

`publish("task.created", task)` inside the transaction that made the change calls every sink named in
settings.EVENT_SINKS (integrations.webhooks queues a signed delivery per subscription), so an event
is stored exactly when its change is, and never for a change that rolled back.
"""

from __future__ import annotations

from functools import cache

from django.conf import settings
from django.utils.module_loading import import_string


@cache
def _sinks() -> tuple:
    return tuple(import_string(path) for path in getattr(settings, "EVENT_SINKS", ()))


def publish(event_type: str, *objs, version: str = "") -> None:
    """One event per object (many at once: a bulk unsubscribe is one call, not one per contact).
    `version` tells two events of the same type about the same object apart (an answer edited
    twice); the same (type, object, version) is one event however often it is published."""
    if objs:
        for sink in _sinks():
            sink(event_type, *objs, version=version)
