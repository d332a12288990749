from django.db import models


class CaughtEmail(models.Model):
    """An email as the dev outbox backend received it, instead of sending it."""

    subject = models.CharField(max_length=998)
    from_email = models.CharField(max_length=320)
    to = models.TextField(help_text="Comma-separated recipients.")
    body_text = models.TextField(blank=True)
    body_html = models.TextField(blank=True)
    headers = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.subject} → {self.to}"


class EmailStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    SENDING = "sending", "Sending"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"


class OutgoingEmailQuerySet(models.QuerySet):
    def due(self, now) -> "OutgoingEmailQuerySet":
        """Queued rows whose retry time (if any) has come."""
        return self.filter(status=EmailStatus.QUEUED).filter(
            models.Q(next_attempt_at__isnull=True) | models.Q(next_attempt_at__lte=now)
        )


class OutgoingEmail(models.Model):
    """One email to send, with its status: queued → sending → sent / failed.

    A send task claims the row (queued → sending) before it sends, so a retried or duplicated
    task finds nothing to do. ``key`` makes each logical email unique (e.g. one survey email per
    invitation), enforced by the database.
    """

    key = models.CharField(max_length=100, unique=True)
    kind = models.CharField(max_length=32, db_index=True)
    to = models.EmailField(max_length=254)
    from_email = models.CharField(max_length=320)
    subject = models.CharField(max_length=998)
    body_text = models.TextField(blank=True, help_text="Empty for bulk kinds rendered when sent.")
    body_html = models.TextField(blank=True)
    headers = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=16, choices=EmailStatus.choices, default=EmailStatus.QUEUED)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    dispatched_at = models.DateTimeField(null=True, blank=True, help_text="When a send task was last queued.")
    claimed_at = models.DateTimeField(null=True, blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    objects = OutgoingEmailQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["status", "next_attempt_at"])]

    def __str__(self) -> str:
        return f"{self.kind} to {self.to} ({self.status})"
