"""Outgoing webhooks: subscriptions, and one durable delivery row per event and subscription."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone

from config.jobs import Job


class EventType(models.TextChoices):
    RESPONSE_CREATED = "response.created", "A customer answered"
    RESPONSE_UPDATED = "response.updated", "A customer changed their answer"
    TASK_CREATED = "task.created", "A follow-up task was opened"
    TASK_BREACHED = "task.breached", "A task passed its SLA without contact"
    TASK_CLOSED = "task.closed", "A task was closed"
    CONTACT_UNSUBSCRIBED = "contact.unsubscribed", "A contact unsubscribed"
    CONTACT_BOUNCED = "contact.bounced", "A contact's address bounced"
    ALERT_DECLINE = "alert.decline", "A segment's NPS declined"
    PING = "ping", "Test event (the page's button)"


SUBSCRIBABLE = [(value, label) for value, label in EventType.choices if value != EventType.PING]


def new_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(32)


class Format(models.TextChoices):
    JSON = "json", "Rebound events (signed JSON)"
    SLACK = "slack", "Slack (incoming webhook)"
    TEAMS = "teams", "Microsoft Teams (incoming webhook)"


# What a chat channel hears of: new Detractors (a recovery task opened), SLA breaches, decline alerts.
CHAT_EVENTS = ["task.created", "task.breached", "alert.decline"]


class Subscription(models.Model):
    url = models.URLField("URL", max_length=500, help_text="Where Rebound POSTs the events (HTTPS).")
    format = models.CharField(
        max_length=8,
        choices=Format.choices,
        default=Format.JSON,
        help_text="Slack and Teams get a formatted message about new Detractors, SLA breaches and decline alerts.",
    )
    team = models.ForeignKey(
        "accounts.Team",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        help_text="Only this team's tasks and alerts. Empty: every team's, and company-wide alerts.",
    )
    events = models.JSONField(default=list, help_text="The event types sent to this URL.")
    description = models.CharField(max_length=200, blank=True)
    secret = models.CharField(max_length=100, default=new_secret, editable=False)
    is_active = models.BooleanField("active", default=True)
    consecutive_failures = models.PositiveIntegerField(default=0)
    disabled_reason = models.CharField(max_length=300, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.description or self.url


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    SENDING = "sending", "Sending"
    SUCCEEDED = "succeeded", "Delivered"
    FAILED = "failed", "Failed"


class Delivery(models.Model):
    """One event for one subscription. The (subscription, event_id) pair is unique, so an event
    emitted twice (a retried task, a re-run consumer) is delivered once; a redelivery is a new attempt
    of the same row, and the receiver sees the same event id."""

    subscription = models.ForeignKey(Subscription, on_delete=models.CASCADE, related_name="deliveries")
    event_id = models.CharField(max_length=120)
    event_type = models.CharField(max_length=40, choices=EventType.choices)
    payload = models.JSONField()
    status = models.CharField(max_length=16, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    lease_until = models.DateTimeField(null=True, blank=True)
    last_status_code = models.PositiveIntegerField(null=True, blank=True)
    last_response = models.CharField(max_length=500, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [models.UniqueConstraint(fields=["subscription", "event_id"], name="delivery_once_per_event")]
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="delivery_due")]

    def __str__(self) -> str:
        return f"{self.event_type} → {self.subscription}"


class ExportStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    DONE = "done", "Ready to download"
    FAILED = "failed", "Failed"
    EXPIRED = "expired", "Deleted (expired)"


class ExportJob(Job):
    """One full export (integrations.portability): its progress, then the zip until it expires."""

    status = models.CharField(max_length=16, choices=ExportStatus.choices, default=ExportStatus.QUEUED)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(null=True, blank=True, help_text="When the zip is deleted.")
    total_rows = models.PositiveBigIntegerField(default=0)
    processed_rows = models.PositiveBigIntegerField(default=0)
    file = models.FileField(upload_to="exports/", blank=True)
    size = models.PositiveBigIntegerField(default=0, help_text="Bytes.")
    counts = models.JSONField(default=dict, blank=True, help_text="Rows per table, as in the manifest.")
    message = models.TextField(blank=True, help_text="Why it failed.")

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"Export of {self.created_at:%Y-%m-%d %H:%M}"

    @property
    def percent(self) -> int:
        if self.status == ExportStatus.DONE:
            return 100
        return min(99, int(100 * self.processed_rows / self.total_rows)) if self.total_rows else 0

    @property
    def is_finished(self) -> bool:
        return self.status not in (ExportStatus.QUEUED, ExportStatus.RUNNING)

    @property
    def filename(self) -> str:
        return f"rebound-export-{self.created_at:%Y%m%d-%H%M%S}.zip"
