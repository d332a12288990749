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


class Priority(models.IntegerChoices):
    """Staff notifications and one-off mails go before the bulk of a wave."""

    HIGH = 0, "High"
    BULK = 5, "Bulk"


class OutgoingEmailQuerySet(models.QuerySet):
    def due(self, now) -> "OutgoingEmailQuerySet":
        """Queued rows whose retry time (if any) has come."""
        return self.filter(status=EmailStatus.QUEUED).filter(
            models.Q(next_attempt_at__isnull=True) | models.Q(next_attempt_at__lte=now)
        )

    def lease_expired(self, now) -> "OutgoingEmailQuerySet":
        """Rows a sender claimed and then stopped renewing: it died, or lost the database."""
        return self.filter(status=EmailStatus.SENDING, lease_until__lt=now)


class OutgoingEmail(models.Model):
    """One email to send, with its status: queued → sending → sent / failed.

    A sender claims rows (queued → sending) with a lease it renews while it works, and records each
    message as sent right after the mail server accepted it, so a retried or duplicated task finds
    nothing to do, and a sender that dies leaves at most the one message it was handing over in
    doubt; its other rows go back to the queue when the lease runs out. ``key`` makes each logical
    email unique (e.g. one survey email per invitation), enforced by the database.
    """

    key = models.CharField(max_length=100)  # unique: Meta.constraints
    kind = models.CharField(max_length=32)
    to = models.EmailField(max_length=254)
    from_email = models.CharField(max_length=320)
    subject = models.CharField(max_length=998)
    body_text = models.TextField(blank=True, help_text="Empty for bulk kinds rendered when sent.")
    body_html = models.TextField(blank=True)
    headers = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=16, choices=EmailStatus.choices, default=EmailStatus.QUEUED)
    priority = models.PositiveSmallIntegerField(choices=Priority.choices, default=Priority.HIGH)
    attempts = models.PositiveSmallIntegerField(default=0, help_text="Times a mail server answered with a refusal.")
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    claimed_by = models.CharField(max_length=40, blank=True, help_text="The claim of the sender holding the row.")
    lease_until = models.DateTimeField(null=True, blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    provider_message_id = models.CharField(max_length=255, blank=True)

    objects = OutgoingEmailQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"]),
            # The claim: queued rows in priority order.
            models.Index(fields=["priority", "id"], condition=models.Q(status="queued"), name="outbox_queued_claim"),
            models.Index(fields=["lease_until"], condition=models.Q(status="sending"), name="outbox_sending_lease"),
            # ESP webhooks find the row by the ESP's message id; SMTP rows have none.
            models.Index(
                fields=["provider_message_id"], condition=~models.Q(provider_message_id=""), name="outbox_provider_id"
            ),
        ]
        # Each status change of a wave's thousands of rows rewrites every index of the table (status
        # is indexed, so no HOT update): only the indexes that a query uses. A UniqueConstraint, not
        # unique=True, so PostgreSQL gets no second "LIKE" index on the key.
        constraints = [models.UniqueConstraint(fields=["key"], name="outbox_key_unique")]

    def __str__(self) -> str:
        return f"{self.kind} to {self.to} ({self.status})"


class MailEventKind(models.TextChoices):
    BOUNCED = "bounced", "Bounced"
    COMPLAINED = "complained", "Marked as spam"
    UNSUBSCRIBED = "unsubscribed", "Unsubscribed"


class MailEvent(models.Model):
    """A delivery problem: a permanent refusal from our mail server, or an ESP's tracking event.

    Append-only. ``email`` links the outgoing row when it is known (so a complaint counts against
    the program that sent it); ``event_id`` makes an ESP's retried webhook a no-op.
    """

    kind = models.CharField(max_length=16, choices=MailEventKind.choices)
    recipient = models.EmailField(max_length=254)
    email = models.ForeignKey(OutgoingEmail, null=True, blank=True, on_delete=models.SET_NULL, related_name="events")
    source = models.CharField(max_length=32, help_text="smtp, or the ESP whose webhook reported it.")
    event_id = models.CharField(max_length=255, null=True, blank=True, unique=True)
    detail = models.TextField(blank=True)
    occurred_at = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-occurred_at", "-id"]
        indexes = [models.Index(fields=["kind", "occurred_at"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.recipient}"
