from .import_delighted import Command as DelightedCommand


class Command(DelightedCommand):
    help = (
        "Import any tool's survey history from CSV: email, score, comment, date, and optionally stream, name, "
        "company or account_external_id, id, tags, notes; other columns are kept as metadata. Answers keep their "
        "dates, open no tasks and are imported once. Bad rows are reported by line; the good ones are kept."
    )
    kind = "responses"
