"""Full export and restore: everything a team owns in Rebound as one zip, and back into an empty instance.

The zip holds, per table, ``data/<app>.<model>.jsonl`` (one JSON object per row, every column: the
exact copy a restore reads) and ``csv/<app>.<model>.csv`` (the same rows for a spreadsheet; a cell
that starts like a formula gets an apostrophe), with ``manifest.json`` (format version, the
migrations it was taken at, the row count of every table and the NPS of each stream) and a
``README.txt``. It is read in one snapshot (REPEATABLE READ on PostgreSQL), so every reference in it
points at a row that is in it.

What stays behind, on purpose (``LEFT_OUT``): credentials (password hashes, API tokens, two-factor
devices, webhook secrets), and records that are only plumbing (webhook deliveries, import jobs and
their files, sessions, the dev outbox) or that a restore rebuilds from the responses (daily
rollups, each contact's latest answer). A restore gives staff unusable passwords (an Admin runs
``manage.py changepassword``, then sets the others') and pauses webhook subscriptions under a new secret.

A restore needs an instance with no data yet (it refuses otherwise and names what it found): it
replaces the settings a fresh install seeds (themes, SLA policies, loop templates, security and
branding), inserts every row with its original id and timestamps in one transaction — all or
nothing — moves the id sequences past them, and rebuilds the derived tables.
"""

from __future__ import annotations

import base64
import contextlib
import csv
import io
import json
import logging
import tempfile
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import IO, Any
from uuid import UUID

from django.apps import apps
from django.contrib.auth.hashers import make_password
from django.core.management.color import no_style
from django.db import connection, models, transaction
from django.db.migrations.recorder import MigrationRecorder
from django.utils import timezone
from django.utils.duration import duration_iso_string

from config.db import analyze
from insights.export import csv_safe

logger = logging.getLogger(__name__)

FORMAT = "rebound-export"
VERSION = 1
BATCH = 2_000
Progress = Callable[[int, int], None]


class RestoreRefused(Exception):
    """The file or the instance is not fit for a restore; nothing was written."""


@dataclass(frozen=True)
class Part:
    """One table in the export. ``settings``: seeded by a fresh install, replaced by a restore."""

    label: str
    omit: frozenset[str] = frozenset()
    settings: bool = False
    formerly: str = ""  # the file's name in exports of an older Rebound

    @property
    def model(self) -> type[models.Model]:
        return apps.get_model(self.label)

    def columns(self) -> list[models.Field]:
        return [f for f in self.model._meta.concrete_fields if f.attname not in self.omit]


# In an order where every reference points backwards (PostgreSQL checks them at commit anyway).
PARTS = [
    Part("accounts.team"),
    Part("accounts.user", omit=frozenset({"password"})),
    Part("accounts.securitysettings", settings=True),
    Part("customers.account"),
    Part("customers.contact"),
    Part("followups.slapolicy", settings=True),
    Part("followups.looptemplate", settings=True),
    Part("surveys.branding", settings=True),
    Part("surveys.program"),
    Part("surveys.question"),
    Part("surveys.wave"),
    Part("surveys.event"),
    Part("outbox.outgoingemail"),
    Part("outbox.mailevent"),
    Part("surveys.invitation"),
    Part("surveys.response"),
    Part("surveys.referral"),
    Part("insights.theme", settings=True),
    Part("insights.tag", formerly="insights.theme_responses"),
    Part("insights.themeexample"),
    Part("insights.alert"),
    Part("followups.task"),
    Part("followups.taskevent"),
    Part("integrations.subscription", omit=frozenset({"secret"})),
    Part("accounts.auditentry"),
]

# Every other table of Rebound's own apps, and why it is not in the zip (a test keeps this complete).
LEFT_OUT = {
    "accounts.apitoken": "credentials: create new tokens after a restore",
    "accounts.passwordresetrequest": "credentials (reset links)",
    "customers.importjob": "plumbing: past import jobs and their uploaded files",
    "followups.digestsent": "plumbing: which morning digests went out",
    "insights.dailycount": "derived: rebuilt from the responses by the restore",
    "insights.dailythemecount": "derived: rebuilt from the tags by the restore",
    "insights.discovery": "derived: run a theme discovery again (its accepted themes and examples are exported)",
    "insights.suggestion": "derived: the candidates of a discovery",
    "insights.riskmodel": "derived: retrained from the history by `manage.py score_risk`",
    "insights.riskscore": "derived: rescored by `manage.py score_risk`",
    "insights.rollupstate": "derived: rebuilt from the responses by the restore",
    "surveys.latestanswer": "derived: rebuilt from the responses by the restore",
    "integrations.delivery": "plumbing: the webhook delivery log",
    "integrations.exportjob": "plumbing: the exports themselves",
    "outbox.caughtemail": "plumbing: the development outbox",
}
OWN_APPS = ("accounts", "customers", "surveys", "followups", "insights", "integrations", "outbox")


# Values ---------------------------------------------------------------------------------------------


def to_json(value: Any) -> Any:
    """A column's value as JSON: ISO 8601 times, decimals as strings, bytes as base64."""
    if value is None or isinstance(value, (bool, int, float, str, list, dict)):
        return value
    if isinstance(value, (datetime, date, time)):
        return value.isoformat()
    if isinstance(value, timedelta):
        return duration_iso_string(value)
    if isinstance(value, (Decimal, UUID)):
        return str(value)
    if isinstance(value, (bytes, memoryview)):
        return base64.b64encode(bytes(value)).decode("ascii")
    raise TypeError(f"No JSON form for {type(value).__name__}")


def from_json(field: models.Field, value: Any) -> Any:
    if value is None or isinstance(field, models.JSONField):
        return value
    return field.to_python(value)


def csv_cell(value: Any) -> str:
    value = to_json(value)
    if value is None:
        return ""
    if isinstance(value, (list, dict)):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, bool):
        return "true" if value else "false"
    return csv_safe(value)


# Export ---------------------------------------------------------------------------------------------


def applied_migrations() -> dict[str, str]:
    """The last migration applied of each of Rebound's apps."""
    latest: dict[str, str] = {}
    for app, name in MigrationRecorder(connection).applied_migrations():
        if app in OWN_APPS and name > latest.get(app, ""):
            latest[app] = name
    return latest


def nps_figures() -> dict[str, dict[str, int]]:
    """Per stream: promoters, passives, detractors and the NPS over every answer (test sends left out)."""
    from surveys.models import Category, Response, Stream

    figures = {}
    for stream in Stream.values:
        rows = (
            Response.objects.filter(stream=stream, is_test=False).values_list("category").annotate(n=models.Count("pk"))
        )
        counts = dict.fromkeys(Category.values, 0)
        counts.update(dict(rows.order_by()))
        total = sum(counts.values())
        nps = round(100 * (counts[Category.PROMOTER] - counts[Category.DETRACTOR]) / total, 1) if total else None
        figures[stream] = {**counts, "responses": total, "nps": nps}
    return figures


@contextlib.contextmanager
def snapshot() -> Iterator[None]:
    """One consistent view of the database for the whole export."""
    outermost = not connection.in_atomic_block
    with transaction.atomic():
        if outermost and connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        yield


def _rows(part: Part) -> Iterator[list[Any]]:
    names = [f.attname for f in part.columns()]
    yield from part.model._base_manager.order_by("pk").values_list(*names).iterator(chunk_size=BATCH)


README = """Rebound export ({created_at})

data/*.jsonl   one JSON object per row and every column: what `manage.py restore_all` reads.
csv/*.csv      the same rows for a spreadsheet (a cell starting like a formula has a leading ').
manifest.json  format version, the migrations it was taken at, row counts, NPS per stream.

Not included: passwords, API tokens, two-factor devices and webhook secrets (credentials), and
{left_out}.
Survey links in past emails keep working after a restore only under the same SECRET_KEY.
"""


def _write_part(archive: zipfile.ZipFile, part: Part) -> Iterator[None]:
    """The table as JSON lines, then as CSV (kept aside meanwhile: a zip takes one file at a time)."""
    header = [f.attname for f in part.columns()]
    with tempfile.TemporaryFile("w+", encoding="utf-8", newline="") as sheet:
        writer = csv.writer(sheet)
        writer.writerow(header)
        with archive.open(f"data/{part.label}.jsonl", "w", force_zip64=True) as raw:
            lines = io.TextIOWrapper(raw, encoding="utf-8", newline="\n")
            for row in _rows(part):
                values = [to_json(v) for v in row]
                lines.write(
                    json.dumps(dict(zip(header, values, strict=True)), ensure_ascii=False, separators=(",", ":"))
                )
                lines.write("\n")
                writer.writerow([csv_cell(v) for v in values])
                yield
            lines.flush()
            lines.detach()
        sheet.seek(0)
        with archive.open(f"csv/{part.label}.csv", "w", force_zip64=True) as raw:
            raw.write("\ufeff".encode())
            while chunk := sheet.read(1 << 16):
                raw.write(chunk.encode("utf-8"))


def write_export(target: IO[bytes], progress: Progress | None = None) -> dict[str, Any]:
    """Write the zip to ``target``; return its manifest. Memory stays flat: rows are streamed."""
    with snapshot():
        counts = {part.label: part.model._base_manager.count() for part in PARTS}
        total, done = sum(counts.values()), 0
        manifest = {
            "format": FORMAT,
            "version": VERSION,
            "created_at": timezone.now().isoformat(),
            "migrations": applied_migrations(),
            "counts": counts,
            "nps": nps_figures(),
            "left_out": {**LEFT_OUT, "credentials": "password hashes, two-factor devices, webhook secrets"},
        }
        with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=6) as archive:
            for part in PARTS:
                for _ in _write_part(archive, part):
                    done += 1
                    if progress and done % BATCH == 0:
                        progress(done, total)
            archive.writestr("manifest.json", json.dumps(manifest, indent=2, ensure_ascii=False))
            left_out = "; ".join(f"{label} ({why})" for label, why in LEFT_OUT.items())
            archive.writestr("README.txt", README.format(created_at=manifest["created_at"], left_out=left_out))
    if progress:
        progress(total, total)
    return manifest


# Restore --------------------------------------------------------------------------------------------


@dataclass
class RestoreResult:
    counts: dict[str, int] = field(default_factory=dict)
    queued_emails: int = 0

    @property
    def users(self) -> int:
        return self.counts.get("accounts.user", 0)

    @property
    def paused_webhooks(self) -> int:
        return self.counts.get("integrations.subscription", 0)  # every one comes back paused


def read_manifest(archive: zipfile.ZipFile) -> dict[str, Any]:
    try:
        manifest = json.loads(archive.read("manifest.json"))
    except KeyError:
        raise RestoreRefused("Not a Rebound export: the zip has no manifest.json.") from None
    except ValueError as exc:
        raise RestoreRefused(f"manifest.json is not valid JSON ({exc}).") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise RestoreRefused("Not a Rebound export: manifest.json does not say format rebound-export.")
    if manifest.get("version") != VERSION:
        raise RestoreRefused(
            f"Export format version {manifest.get('version')!r}; this Rebound reads version {VERSION}."
        )
    applied = set(MigrationRecorder(connection).applied_migrations())
    missing = [
        f"{app} {name}" for app, name in (manifest.get("migrations") or {}).items() if (app, name) not in applied
    ]
    if missing:
        here = applied_migrations()
        raise RestoreRefused(
            "The export comes from a newer Rebound: migrations " + ", ".join(sorted(missing)) + " are not applied "
            f"here (this instance is at {', '.join(f'{a} {n}' for a, n in sorted(here.items()))}). "
            "Upgrade this instance, run `manage.py migrate`, then restore."
        )
    return manifest


def existing_data() -> dict[str, int]:
    """Rows already in the tables a restore fills (settings tables left out: they are replaced)."""
    found = {}
    for part in PARTS:
        if not part.settings and (n := part.model._base_manager.count()):
            found[part.label] = n
    return found


@contextlib.contextmanager
def timestamps_as_given(parts: list[Part]) -> Iterator[None]:
    """Let auto_now / auto_now_add keep the exported times instead of stamping the restore's."""
    flags = []
    for part in parts:
        for f in part.model._meta.concrete_fields:
            if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
                flags.append((f, f.auto_now, f.auto_now_add))
                f.auto_now = f.auto_now_add = False
    try:
        yield
    finally:
        for f, auto_now, auto_now_add in flags:
            f.auto_now, f.auto_now_add = auto_now, auto_now_add


def _lines(archive: zipfile.ZipFile, part: Part) -> Iterator[tuple[int, dict]]:
    names = [f"data/{label}.jsonl" for label in (part.label, part.formerly) if label]
    name = next((n for n in names if n in archive.namelist()), None)
    if name is None:
        return
    raw = archive.open(name)
    with raw, io.TextIOWrapper(raw, encoding="utf-8") as text:
        for number, line in enumerate(text, start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except ValueError as exc:
                raise RestoreRefused(f"{name} line {number}: not JSON ({exc}).") from None
            if not isinstance(row, dict):
                raise RestoreRefused(f"{name} line {number}: not a JSON object.")
            yield number, row


def _build(part: Part, columns: dict[str, models.Field], number: int, row: dict) -> models.Model:
    name = f"data/{part.label}.jsonl line {number}"
    unknown = set(row) - set(columns)
    if unknown:
        raise RestoreRefused(f"{name}: unknown column(s) {', '.join(sorted(unknown))}.")
    values = {}
    for attname, raw in row.items():
        try:
            values[attname] = from_json(columns[attname], raw)
        except Exception as exc:  # noqa: BLE001 - a ValidationError or a decoding error: name the cell
            raise RestoreRefused(f"{name}: column {attname}: {exc}") from None
    if part.label == "accounts.user":
        values["password"] = make_password(None)
    elif part.label == "integrations.subscription":
        values["is_active"], values["disabled_reason"] = False, "Paused by the restore: check the URL, then activate."
    return part.model(**values)


def restore(source: str | IO[bytes], progress: Progress | None = None) -> RestoreResult:
    """Restore an export into this instance, which must hold no data yet. All or nothing."""
    try:
        archive = zipfile.ZipFile(source)
    except (zipfile.BadZipFile, OSError) as exc:
        raise RestoreRefused(f"Not a zip file ({exc}).") from None
    result = RestoreResult()
    with archive:
        manifest = read_manifest(archive)
        expected = manifest.get("counts") or {}
        total, done = sum(int(n) for n in expected.values() if isinstance(n, int)), 0
        with transaction.atomic(), timestamps_as_given(PARTS):
            found = existing_data()
            if found:
                listed = ", ".join(f"{n} {label}" for label, n in found.items())
                raise RestoreRefused(f"This instance already holds data ({listed}); restore into an empty one.")
            for part in reversed(PARTS):
                if part.settings:
                    part.model._base_manager.all().delete()
            for part in PARTS:
                columns = {f.attname: f for f in part.model._meta.concrete_fields}
                batch, count = [], 0
                for number, row in _lines(archive, part):
                    batch.append(_build(part, columns, number, row))
                    if len(batch) >= BATCH:
                        part.model._base_manager.bulk_create(batch)
                        count, done, batch = count + len(batch), done + len(batch), []
                        if progress:
                            progress(done, total)
                if batch:
                    part.model._base_manager.bulk_create(batch)
                    count, done = count + len(batch), done + len(batch)
                listed = expected.get(part.label, expected.get(part.formerly, 0))
                if count != listed:
                    raise RestoreRefused(
                        f"data/{part.label}.jsonl holds {count} rows; the manifest says {listed}. "
                        "The file is incomplete or was edited: nothing was restored."
                    )
                result.counts[part.label] = count
            _reset_sequences()
            _rebuild_derived()
        from outbox.models import EmailStatus, OutgoingEmail

        result.queued_emails = OutgoingEmail.objects.filter(
            status__in=[EmailStatus.QUEUED, EmailStatus.SENDING]
        ).count()
    if progress:
        progress(total, total)
    return result


def _reset_sequences() -> None:
    """Move each id sequence past the restored ids, so the next row does not collide with one."""
    statements = connection.ops.sequence_reset_sql(no_style(), [part.model for part in PARTS])
    with connection.cursor() as cursor:
        for sql in statements:
            cursor.execute(sql)


def _rebuild_derived() -> None:
    from insights.models import DailyCount, DailyThemeCount, RollupState
    from insights.rollups import refresh
    from surveys.answers import latest_answers_rebuild

    analyze(*(part.model for part in PARTS))  # every table was just filled
    latest_answers_rebuild()
    DailyCount.objects.all().delete()
    DailyThemeCount.objects.all().delete()
    RollupState.objects.all().delete()
    refresh()
