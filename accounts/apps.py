from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Staff"

    def ready(self) -> None:
        # Site-wide deployment checks live in config/checks.py; registering them needs an app.
        import config.checks  # noqa: F401
