from django.apps import AppConfig


class IntegrationsConfig(AppConfig):
    """What Rebound tells other systems: signed outgoing webhooks (and, built on them, chat alerts)."""

    name = "integrations"
