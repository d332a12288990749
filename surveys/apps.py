from django.apps import AppConfig


class SurveysConfig(AppConfig):
    name = "surveys"

    def ready(self) -> None:
        from . import emails  # noqa: F401 - registers the survey email renderer with the outbox
