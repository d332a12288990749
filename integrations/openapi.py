"""The webhook events in the OpenAPI document: their bodies as components, and each event as an
operation under ``x-webhooks`` (OpenAPI 3.0's extension for what 3.1 calls ``webhooks``).

The schemas describe exactly what ``payloads.py`` builds (``additionalProperties: false``; a test
checks real events against them), so a field added there must be added here.
"""

from __future__ import annotations

from .models import EventType


def _nullable(schema: dict) -> dict:
    return {**schema, "nullable": True}


def _object(properties: dict, description: str = "") -> dict:
    schema = {"type": "object", "properties": properties, "required": list(properties), "additionalProperties": False}
    return {**schema, "description": description} if description else schema


STRING, INTEGER, BOOLEAN = {"type": "string"}, {"type": "integer"}, {"type": "boolean"}
TIME = {"type": "string", "format": "date-time"}
NAMED = _object({"external_id": STRING, "name": STRING})

SCHEMAS = {
    "WebhookResponse": _object(
        {
            "id": INTEGER,
            "stream": {"type": "string", "enum": ["relationship", "transactional"]},
            "program": _object({"id": INTEGER, "name": STRING}),
            "wave": _nullable({**STRING, "description": "The wave's period, e.g. 2026-Q4; null for transactional."}),
            "score": {"type": "integer", "minimum": 0, "maximum": 10},
            "category": {"type": "string", "enum": ["detractor", "passive", "promoter"]},
            "reason": STRING,
            "submitted_at": TIME,
            "updated_at": TIME,
            "contact": _object({"id": INTEGER, "email": STRING, "name": STRING}),
            "account": _object({"id": INTEGER, "external_id": STRING, "name": STRING}),
            "segment": STRING,
            "follow_up": {
                "type": "object",
                "additionalProperties": True,
                "description": "Answers to the program's follow-up questions by question id: an option, a list of "
                "options, a rating 1–5 or a short text.",
            },
            "is_test": {**BOOLEAN, "description": "A staff member's test send: counts in no figure."},
        },
        "An answer, as it is after the event.",
    ),
    "WebhookTask": _object(
        {
            "id": INTEGER,
            "queue": {"type": "string", "enum": ["recovery", "checkin", "referral", "advocacy"]},
            "status": STRING,
            "urgent": {**BOOLEAN, "description": "Scores 0–3."},
            "due_at": TIME,
            "escalated_at": _nullable(TIME),
            "closed_at": _nullable(TIME),
            "outcome": STRING,
            "assignee": _nullable({**STRING, "description": "The assignee's email."}),
            "response": _object({"id": INTEGER, "score": INTEGER, "reason": STRING}),
            "account": _object(
                {"external_id": STRING, "name": STRING, "arr": _nullable({**STRING, "description": "A decimal."})}
            ),
            "contact": _object({"email": STRING, "name": STRING}),
            "team": _nullable(STRING),
            "url": {**STRING, "description": "The task's page in Rebound."},
        },
        "A follow-up task, as it is after the event.",
    ),
    "WebhookContact": _object(
        {
            "id": INTEGER,
            "email": STRING,
            "name": STRING,
            "account": NAMED,
            "unsubscribed_at": _nullable(TIME),
            "bounced_at": _nullable(TIME),
            "bounce_reason": STRING,
        },
        "A contact after an unsubscribe or a bounce.",
    ),
    "WebhookAlert": _object(
        {
            "id": INTEGER,
            "stream": STRING,
            "dimension": STRING,
            "value": STRING,
            "period": {**STRING, "description": "The period whose decline raised it, e.g. 2026-Q3."},
            "nps_values": {"type": "array", "items": {"type": "number"}, "description": "Three periods, oldest first."},
            "team": _nullable({**STRING, "description": "Null: company-wide."}),
        },
        "A segment's NPS declined two periods in a row beyond the margin.",
    ),
    "WebhookPing": _object({"subscription": INTEGER}, "The test event sent from the webhook's page."),
}
DATA = {
    "response": "WebhookResponse",
    "task": "WebhookTask",
    "contact": "WebhookContact",
    "alert": "WebhookAlert",
    "ping": "WebhookPing",
}


def event_schema(event_type: str) -> dict:
    """The whole body of one event type: the envelope and its data."""
    data = DATA[event_type.split(".", 1)[0]]
    return _object(
        {
            "id": {**STRING, "description": "Unique per event: a receiver that sees it twice ignores the second."},
            "type": {"type": "string", "enum": [event_type]},
            "created_at": TIME,
            "data": {"$ref": f"#/components/schemas/{data}"},
        }
    )


SIGNATURE = {
    "name": "Rebound-Signature",
    "in": "header",
    "required": True,
    "description": (
        '`t=<unix time>,v1=<hex HMAC-SHA256 of "<t>.<raw body>" with the subscription\'s secret>`. '
        "Reject a body whose signature does not match, or whose t is more than five minutes old."
    ),
    "schema": {
        "type": "string",
        "example": "t=1767225600,v1=5257a869e7ecebeda32affa62cdca3fa51cad7e77a0e56ff536d0ce8e1",
    },
}


def webhooks_hook(result, generator, request, public):
    """drf-spectacular postprocessing hook: the event bodies and the x-webhooks operations."""
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas.update(SCHEMAS)
    hooks = {}
    for event_type, label in EventType.choices:
        name = "WebhookEvent" + "".join(part.title() for part in event_type.replace(".", "_").split("_"))
        schemas[name] = event_schema(event_type)
        hooks[event_type] = {
            "post": {
                "operationId": f"webhook_{event_type.replace('.', '_')}",
                "summary": label,
                "tags": ["webhooks (sent by Rebound)"],
                "parameters": [SIGNATURE],
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{name}"}}},
                },
                "responses": {
                    "2XX": {"description": "Received. Anything else, or no answer within 10 s, is retried."},
                },
            }
        }
    result["x-webhooks"] = hooks
    return result
