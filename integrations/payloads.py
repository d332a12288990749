"""The stable JSON of each webhook event's `data` (described in the OpenAPI document by integrations/openapi.py).

Fields are only ever added, never renamed or removed, within v1.
"""

from __future__ import annotations

from django.conf import settings
from django.urls import reverse


def _iso(value) -> str | None:
    return value.isoformat() if value else None


def response_data(response) -> dict:
    return {
        "id": response.pk,
        "stream": response.stream,
        "program": {"id": response.program_id, "name": response.program.name},
        "wave": response.invitation.wave.period if response.invitation.wave_id else None,
        "score": response.score,
        "category": response.category,
        "reason": response.reason,
        "submitted_at": _iso(response.submitted_at),
        "updated_at": _iso(response.updated_at),
        "contact": {"id": response.contact_id, "email": response.contact.email, "name": response.contact.name},
        "account": {
            "id": response.account_id,
            "external_id": response.account.external_id,
            "name": response.account.name,
        },
        "segment": response.segment,
        "follow_up": response.follow_up,
        "is_test": response.is_test,
    }


def task_data(task) -> dict:
    return {
        "id": task.pk,
        "queue": task.queue,
        "status": task.status,
        "urgent": task.urgent,
        "due_at": _iso(task.due_at),
        "escalated_at": _iso(task.escalated_at),
        "closed_at": _iso(task.closed_at),
        "outcome": task.outcome,
        "assignee": task.assignee.email if task.assignee_id else None,
        "response": {"id": task.response_id, "score": task.response.score, "reason": task.response.reason},
        "account": {
            "external_id": task.account.external_id,
            "name": task.account.name,
            "arr": str(task.account.arr) if task.account.arr is not None else None,
        },
        "contact": {"email": task.contact.email, "name": task.contact.name},
        "team": task.team.name if task.team_id else None,
        "url": settings.SITE_URL + reverse("followups:task_detail", args=[task.pk]),
    }


def contact_data(contact) -> dict:
    return {
        "id": contact.pk,
        "email": contact.email,
        "name": contact.name,
        "account": {"external_id": contact.account.external_id, "name": contact.account.name},
        "unsubscribed_at": _iso(contact.unsubscribed_at),
        "bounced_at": _iso(contact.bounced_at),
        "bounce_reason": contact.bounce_reason,
    }


def alert_data(alert) -> dict:
    return {
        "id": alert.pk,
        "stream": alert.stream,
        "dimension": alert.dimension,
        "value": alert.value,
        "period": alert.period,
        "nps_values": alert.nps_values,
        "team": alert.team.name if alert.team_id else None,
    }


BUILDERS = {
    "response": response_data,
    "task": task_data,
    "contact": contact_data,
    "alert": alert_data,
}
