"""Full export and restore (issue 14): everything out as one zip, and back into an empty instance
with every count and every NPS figure unchanged."""

import io
import json
import os
import zipfile
from datetime import timedelta

import pytest
from django.apps import apps
from django.core.management import call_command
from django.core.management.base import CommandError
from django.core.management.color import no_style
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from accounts.models import AuditEntry, Role, SecuritySettings, User
from customers.models import Account
from followups.models import LoopTemplate, SlaPolicy
from insights import selectors
from insights.models import Alert, Theme, ThemeExample
from integrations import exporting, portability
from integrations.models import ExportJob, ExportStatus, Subscription
from outbox.models import MailEvent, OutgoingEmail
from surveys.models import Branding, Event, Question, Referral, Response, Stream

from .factories import InvitationFactory, submit_answer

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256))


def every_figure():
    """What the dashboard shows, for every stream: summary, quarterly trend, every segment table, delivery."""
    admin = User.objects.get(email="admin@example.com")
    start, end = timezone.now() - timedelta(days=3 * 365), timezone.now() + timedelta(days=1)
    figures = {}
    for stream in Stream.values:
        filters = selectors.Filters(stream=stream, start=start, end=end)
        figures[stream] = {
            "summary": selectors.summary(admin, filters),
            "trend": selectors.score_trend(admin, filters, "quarter"),
            "segments": {d: selectors.segments(admin, filters, d) for d in selectors.dimensions_for(stream)},
            "delivery": selectors.delivery(admin, filters),
        }
    return figures


def counts():
    return {part.label: part.model._base_manager.count() for part in portability.PARTS}


def data_files(blob: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(blob)) as archive:
        return {name: archive.read(name) for name in archive.namelist() if name.startswith(("data/", "csv/"))}


def export() -> bytes:
    target = io.BytesIO()
    portability.write_export(target)
    return target.getvalue()


def wipe():
    """An empty instance, as after `migrate`: every table of Rebound's apps emptied, sequences reset,
    and the default themes a fresh install seeds put back."""
    tables = [m._meta.db_table for app in portability.OWN_APPS for m in apps.get_app_config(app).get_models()]
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # the test's transaction has pending FK checks
        for sql in connection.ops.sql_flush(no_style(), tables, reset_sequences=True, allow_cascade=True):
            cursor.execute(sql)
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")
    Theme.objects.create(name="Pricing", keywords="price")


def add_the_rest(admin, response):
    """One row at least of every table the demo does not fill."""
    Referral.objects.create(response=response, name="Ana", email="ana@example.com", company="Acme", note="=1+1")
    SecuritySettings.objects.create(require_two_factor=True)
    SlaPolicy.objects.create(segment="enterprise", detractor_hours=12)
    LoopTemplate.objects.create(queue="recovery", subject="Sorry", body="Hello {first_name}")
    Branding.objects.create(company_name="Acme", accent="#0b5ed7", logo=PNG, logo_type="image/png")
    Event.objects.create(
        type="ticket.resolved", contact=response.contact, account=response.account, occurred_at=timezone.now(),
        properties={"touchpoint": "support", "ünïcode": "✓"}, idempotency_key="evt-1", outcome="skipped",
    )  # fmt: skip
    email = OutgoingEmail.objects.create(
        key="x:1", kind="survey", to=response.contact.email, from_email="nps@example.com", subject="How likely …",
        status="sent", sent_at=timezone.now(),
    )  # fmt: skip
    MailEvent.objects.create(kind="bounced", recipient=email.to, email=email, source="smtp", occurred_at=timezone.now())
    Alert.objects.create(
        stream="relationship", dimension="region", value="EMEA", period="2026-Q3", nps_values=[30, 20, 5]
    )
    Subscription.objects.create(url="https://hooks.example.com/x", events=["task.created"], created_by=admin)
    AuditEntry.objects.create(actor=admin, actor_email=admin.email, action="demo.note", after={"x": 1}, ip="10.0.0.1")
    theme = Theme.objects.first()
    response.themes.add(theme, through_defaults={"how": "manual", "why": {"corrected": True, "text": "Set by hand."}})
    ThemeExample.objects.create(theme=theme, response=response, text=response.reason or "x", source="correction",
                                created_by=admin)  # fmt: skip
    question = Question.objects.create(program=response.program, kind="choice", text="Why?", options="A\nB")
    Response.objects.filter(pk=response.pk).update(follow_up={str(question.pk): "B"})


@pytest.fixture
def everything(db, settings):
    """The demo's history (2,500 answers, their tasks and emails) and the rest."""
    settings.EMAIL_BACKEND = "outbox.backends.OutboxBackend"
    call_command("seed_demo", stdout=io.StringIO())
    admin = User.objects.get(email="admin@example.com")
    add_the_rest(admin, Response.objects.filter(category="promoter").first())
    return admin


@pytest.fixture
def some(admin_user, contact, settings):
    """A few rows in every table: quicker, for the tests that are not about the figures."""
    settings.EMAIL_BACKEND = "outbox.backends.OutboxBackend"
    invitation = InvitationFactory(contact=contact)
    add_the_rest(admin_user, submit_answer(invitation=invitation, score=3, reason="Slow").response)
    return admin_user


def test_every_table_is_exported_or_left_out_for_a_stated_reason():
    labels = {part.label for part in portability.PARTS} | set(portability.LEFT_OUT)
    for app in portability.OWN_APPS:
        for model in apps.get_app_config(app).get_models():
            assert model._meta.label_lower in labels, f"{model._meta.label_lower}: export it, or say why not"


def test_round_trip_keeps_every_row_count_figure_and_value(everything):
    before_counts, before_figures = counts(), every_figure()
    assert all(before_counts.values()), {k: v for k, v in before_counts.items() if not v}  # every table has rows
    blob = export()

    manifest = json.loads(zipfile.ZipFile(io.BytesIO(blob)).read("manifest.json"))
    assert manifest["counts"] == before_counts
    assert manifest["nps"]["relationship"]["responses"] == Response.objects.filter(stream="relationship").count()

    wipe()
    assert Account.objects.count() == 0
    result = portability.restore(io.BytesIO(blob))

    assert result.counts == before_counts
    assert counts() == before_counts
    assert every_figure() == before_figures
    # Byte for byte the same data when exported again, timestamps and ids included; the one
    # difference is deliberate: webhook subscriptions come back paused (and with a new secret).
    again = data_files(export())
    first = data_files(blob)
    assert again.keys() == first.keys()
    paused = {"data/integrations.subscription.jsonl", "csv/integrations.subscription.csv"}
    assert {name for name in first if first[name] != again[name]} == paused
    subscription = Subscription.objects.get()
    assert not subscription.is_active and subscription.secret and "restore" in subscription.disabled_reason

    assert bytes(Branding.objects.get().logo) == PNG
    assert not User.objects.get(email="admin@example.com").has_usable_password()
    # The sequences moved past the restored ids: new rows do not collide.
    new = Account.objects.create(name="After the restore")
    assert new.pk > max(Account.objects.exclude(pk=new.pk).values_list("pk", flat=True))


def test_the_csv_is_safe_to_open_in_a_spreadsheet(some):
    files = data_files(export())
    referrals = files["csv/surveys.referral.csv"].decode("utf-8-sig")
    assert "'=1+1" in referrals  # a formula in customer text is neutralised in the CSV …
    assert '"note":"=1+1"' in files["data/surveys.referral.jsonl"].decode()  # … and exact in the JSON


def test_restore_refuses_an_instance_that_holds_data_and_writes_nothing(some):
    blob = export()
    before = counts()
    with pytest.raises(portability.RestoreRefused, match="already holds data"):
        portability.restore(io.BytesIO(blob))
    assert counts() == before


def _edited(blob: bytes, name: str, edit) -> bytes:
    source, target = zipfile.ZipFile(io.BytesIO(blob)), io.BytesIO()
    with zipfile.ZipFile(target, "w") as out:
        for item in source.namelist():
            data = source.read(item)
            out.writestr(item, edit(data) if item == name else data)
    return target.getvalue()


def _drop_last_line(data: bytes) -> bytes:
    return b"\n".join(data.rstrip(b"\n").split(b"\n")[:-1]) + b"\n"


def _newer(data: bytes) -> bytes:
    manifest = json.loads(data)
    manifest["migrations"]["surveys"] = "9999_from_the_future"
    return json.dumps(manifest).encode()


@pytest.mark.parametrize(
    ("name", "edit", "reason"),
    [
        ("data/surveys.response.jsonl", _drop_last_line, "the manifest says"),
        ("data/customers.account.jsonl", lambda d: d.replace(b'"name":', b'"nom":', 1), "unknown column"),
        ("data/customers.account.jsonl", lambda d: d.replace(b'"created_at":"', b'"created_at":"x', 1), "created_at"),
        ("data/customers.contact.jsonl", lambda d: b"{not json\n" + d, "line 1: not JSON"),
        ("manifest.json", _newer, "newer Rebound"),
        ("manifest.json", lambda d: b"[]", "Not a Rebound export"),
    ],
    ids=["row missing", "unknown column", "bad value", "not json", "newer version", "no manifest"],
)
def test_a_damaged_or_foreign_file_is_refused_whole(some, name, edit, reason):
    blob = _edited(export(), name, edit)
    wipe()
    with pytest.raises(portability.RestoreRefused, match=reason):
        portability.restore(io.BytesIO(blob))
    assert Account.objects.count() == 0 and Response.objects.count() == 0
    assert Theme.objects.filter(name="Pricing").exists()  # the settings were not touched either


def test_commands_export_and_restore(some, tmp_path):
    path = tmp_path / "all.zip"
    out = io.StringIO()
    call_command("export_all", "--output", str(path), stdout=out)
    assert "NPS -100" in out.getvalue() and path.stat().st_size > 0
    with pytest.raises(CommandError, match="exists"):
        call_command("export_all", "--output", str(path), stdout=io.StringIO())
    with pytest.raises(CommandError, match="already holds data"):
        call_command("restore_all", str(path), stdout=io.StringIO())
    before = counts()
    wipe()
    out = io.StringIO()
    call_command("restore_all", str(path), stdout=out)
    assert counts() == before
    assert "changepassword" in out.getvalue() and "paused" in out.getvalue()
    (tmp_path / "junk.zip").write_bytes(b"not a zip")
    with pytest.raises(CommandError, match="Not a zip"):
        call_command("restore_all", str(tmp_path / "junk.zip"), stdout=io.StringIO())


def test_admin_starts_downloads_and_the_export_expires(some, client, csm, settings, django_capture_on_commit_callbacks):
    admin = some
    client.force_login(admin)
    with django_capture_on_commit_callbacks(execute=False):
        page = client.post(reverse("integrations:export_list"), follow=True)
    assert "has started" in page.content.decode()
    job = ExportJob.objects.get()
    assert job.status == ExportStatus.QUEUED and job.dispatched_at
    client.post(reverse("integrations:export_list"))  # a second click while it runs starts nothing
    assert ExportJob.objects.count() == 1

    exporting.export_job_run(job.pk)
    job.refresh_from_db()
    assert job.status == ExportStatus.DONE and job.size > 0 and job.counts == counts()
    listing = client.get(reverse("integrations:export_list")).content.decode()
    assert reverse("integrations:export_download", args=[job.pk]) in listing

    download = client.get(reverse("integrations:export_download", args=[job.pk]))
    assert download["Content-Disposition"].startswith('attachment; filename="rebound-export-')
    blob = b"".join(download.streaming_content)
    assert json.loads(zipfile.ZipFile(io.BytesIO(blob)).read("manifest.json"))["counts"] == job.counts
    assert AuditEntry.objects.filter(action="export.download", target_id=str(job.pk)).exists()

    client.force_login(csm)
    assert client.get(reverse("integrations:export_download", args=[job.pk])).status_code == 403

    path = job.file.path
    assert exporting.tick(now=job.expires_at + timedelta(seconds=1))["expired"] == 1
    job.refresh_from_db()
    assert job.status == ExportStatus.EXPIRED and not job.file
    assert not os.path.exists(path)
    client.force_login(admin)
    assert client.get(reverse("integrations:export_download", args=[job.pk])).status_code == 404


def test_an_export_whose_worker_died_is_run_again(db, admin_user, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        job = exporting.export_job_create(user=admin_user)
    ExportJob.objects.filter(pk=job.pk).update(status=ExportStatus.RUNNING, attempts=1, heartbeat_at=timezone.now())
    later = timezone.now() + exporting.EXPORT_RECOVERY.stale_after + timedelta(minutes=1)
    with django_capture_on_commit_callbacks(execute=False) as queued:
        assert exporting.tick(now=later)["requeued"] == 1
    assert len(queued) == 1
    assert exporting.export_job_run(job.pk).status == ExportStatus.DONE
    assert exporting.export_job_run(job.pk) is None  # a duplicated message finds nothing to do


def test_admins_only(client, users_by_role):
    for role, user in users_by_role.items():
        client.force_login(user)
        status = client.get(reverse("integrations:export_list")).status_code
        assert status == (200 if role == Role.ADMIN else 403)
