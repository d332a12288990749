from django.apps import AppConfig


class CustomersConfig(AppConfig):
    name = "customers"

    def ready(self) -> None:
        # Registers what a bounce or complaint does to a contact (outbox.services.mail_event_handler).
        from . import services  # noqa: F401
