"""Survey history imports (surveys/history.py): Delighted's JSON and CSV, any tool's CSV — the samples in
docs/samples/ import with the counts expected, twice without change, and count where they should."""

from datetime import UTC, date, datetime
from io import StringIO
from pathlib import Path

from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from customers.models import Contact, ImportJob
from followups.models import Task
from insights import selectors
from insights.filters import Filters
from surveys.models import Invitation, LatestAnswer, Response, Stream
from surveys.selectors import eligibility

from .factories import ContactFactory, ProgramFactory

SAMPLES = Path(__file__).resolve().parent.parent / "docs" / "samples"


def _run(command: str, sample: str, *args) -> str:
    out = StringIO()
    call_command(command, str(SAMPLES / sample), *args, stdout=out, stderr=StringIO())
    return out.getvalue()


def test_delighted_json_imports_once_keeps_dates_opens_no_task_and_honours_unsubscribes(db, admin_user):
    report = _run("import_delighted", "delighted.json")
    assert report.splitlines()[0] == "5 rows: 2 created, 1 updated, 1 unchanged, 1 with errors."
    assert "line 3: survey_responses[3]: email is missing" in report
    ada = Response.objects.get(contact__email="ada@analytical.example")
    assert (ada.score, ada.category, ada.source, ada.source_id) == (3, "detractor", "delighted", "delighted:5001")
    assert ada.submitted_at == datetime(2024, 7, 1, tzinfo=UTC) and ada.stream == Stream.RELATIONSHIP
    assert ada.account.name == "Analytical Engines" and ada.reason == "Exports time out every Monday morning."
    properties = Invitation.objects.get(response=ada).properties
    assert properties["tags"] == ["exports", "performance"] and properties["notes"][0]["text"].startswith("Called")
    assert properties["delighted"] == {"Delighted Source": "Email"} and properties["properties"]["Plan"] == "Pro"
    assert not Task.objects.exists()  # history opens no follow-up
    assert LatestAnswer.objects.count() == 2
    assert Contact.objects.get(email="ada@analytical.example").unsubscribed_at is not None
    # Twice: nothing changes.
    again = _run("import_delighted", "delighted.json")
    assert again.splitlines()[0] == "5 rows: 0 created, 0 updated, 4 unchanged, 1 with errors."
    assert Response.objects.count() == 2
    # They count in the figures of their period, and the unsubscribe holds from the first wave.
    figures = selectors.summary(admin_user, Filters(Stream.RELATIONSHIP, datetime(2024, 1, 1, tzinfo=UTC),
                                                    datetime(2025, 1, 1, tzinfo=UTC))).score  # fmt: skip
    assert (figures.responses, figures.detractors, figures.promoters) == (2, 1, 1)
    ProgramFactory(send_day=1)
    eligible, skipped = eligibility(ProgramFactory(), timezone.now())
    assert "ada@analytical.example" not in {c.email for c in eligible} and skipped.get("unsubscribed") == 1


def test_delighted_csv_and_any_tools_csv_through_the_upload_page(
    client, admin_user, django_capture_on_commit_callbacks
):
    client.force_login(admin_user)
    ContactFactory(email="pat@initech.example", name="Pat Known")  # an existing contact keeps its account
    for kind, sample, stream in (("delighted", "delighted.csv", "transactional"), ("responses", "responses.csv", "")):
        upload = SimpleUploadedFile(sample, (SAMPLES / sample).read_bytes(), content_type="text/csv")
        with django_capture_on_commit_callbacks(execute=True):
            client.post(reverse("customers:import_list"), {"kind": kind, "stream": stream, "file": upload})
    delighted, generic = ImportJob.objects.order_by("pk")
    assert (delighted.status, delighted.created_count, delighted.error_count) == ("done", 2, 1)
    assert delighted.errors == [{"line": 4, "reason": "date 'not a date' is not a date"}]
    assert (generic.status, generic.created_count, generic.error_count) == ("done", 3, 1)
    assert generic.errors[0]["line"] == 5 and "not an email address" in generic.errors[0]["reason"]
    lin = Response.objects.get(contact__email="lin@acme.example")
    assert lin.stream == "transactional" and lin.source == "delighted"  # the stream picked for the file
    assert (lin.contact.name, lin.account.name) == ("Lin Wu", "Acme")
    assert Invitation.objects.get(response=lin).properties["tags"] == ["billing", "support"]
    robin = Response.objects.get(contact__email="robin@initech.example")
    assert robin.stream == "transactional" and robin.submitted_at == datetime(2025, 9, 5, 8, tzinfo=UTC)
    pats = Response.objects.filter(contact__email="pat@initech.example").order_by("submitted_at")
    assert [r.score for r in pats] == [6, 9] and pats[0].account.name != "Initech"  # matched, not duplicated
    assert pats[0].submitted_at.date() == date(2025, 3, 3)
    page = client.get(reverse("customers:import_detail", args=[generic.pk])).content.decode()
    assert "not an email address" in page
    refused = client.post(
        reverse("customers:import_list"),
        {"kind": "responses", "file": SimpleUploadedFile("h.json", b"[]", content_type="application/json")},
    )
    assert "Only a Delighted history import takes JSON" in str(refused.context["form"].errors["file"])
