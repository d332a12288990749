from django.apps import AppConfig


class SurveysConfig(AppConfig):
    name = "surveys"

    def ready(self) -> None:
        from customers.importing import IMPORTERS

        from . import emails  # noqa: F401 - registers the survey email renderer with the outbox
        from .history import import_file

        # Survey history imports run as customer import jobs (progress, report, recovery).
        for kind in ("delighted", "responses"):
            IMPORTERS[kind] = lambda data, options, progress, kind=kind: import_file(
                kind=kind, data=data, stream=options.get("stream", "relationship"), progress=progress
            )
