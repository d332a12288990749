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
