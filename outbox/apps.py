from django.apps import AppConfig


class OutboxConfig(AppConfig):
    name = "outbox"

    def ready(self) -> None:
        from . import webhooks  # noqa: F401 - connects the ESP tracking signal
