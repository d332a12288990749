from django.core.mail.backends.base import BaseEmailBackend


class OutboxBackend(BaseEmailBackend):
    """Store each message in the database; the staff Outbox page shows them."""

    def send_messages(self, email_messages) -> int:
        from .models import CaughtEmail

        for message in email_messages:
            html = ""
            for content, mimetype in getattr(message, "alternatives", []):
                if mimetype == "text/html":
                    html = content
            mime = message.message()
            headers = {key: str(value) for key, value in mime.items() if key.lower() not in {"content-type"}}
            CaughtEmail.objects.create(
                subject=message.subject,
                from_email=message.from_email,
                to=", ".join(message.recipients()),
                body_text=message.body,
                body_html=html,
                headers=headers,
            )
        return len(email_messages)
