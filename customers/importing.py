"""CSV import of accounts and contacts: one service behind the command, the upload page and the task.

Rules (the README repeats them):
- Accounts are matched by ``external_id``, contacts by ``email`` (case-insensitive): a match is
  updated, anything else is created. Re-importing the same file changes nothing.
- Header names are matched case-insensitively (spaces and dashes count as underscores); a column
  Rebound does not know is kept on the record as a custom property.
- A column that is present is applied, including blank cells, which clear the value; a column
  that is absent leaves the field alone. Unsubscribes are never undone by an import.
- Every bad row is reported with its line number and reason, and the good rows are kept: values
  out of range are row errors, and a row the database still refuses is reported alone (its chunk
  is then written row by row), never taking the other rows of its chunk with it.
  Rows are committed in chunks, so a crash part-way leaves whole chunks; re-running is safe.
- A file that cannot be read at all (not UTF-8, empty, a required column missing, over the size
  or row limit) is refused as a whole with one clear message, and nothing is written.
"""

from __future__ import annotations

import csv
import io
import zoneinfo
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import DatabaseError, transaction
from django.utils import timezone

from accounts.models import Team

from .models import Account, AccountStatus, Contact, ImportKind, Segment

CHUNK_SIZE = 500
MAX_REPORTED_ERRORS = 1000
# The largest whole number the database keeps in a PositiveIntegerField (PostgreSQL's integer).
MAX_WHOLE_NUMBER = 2_147_483_647

ALIASES = {
    "id": "external_id",
    "crm_id": "external_id",
    "account_id": "external_id",
    "company": "name",
    "company_name": "name",
    "account_name": "name",
    "csm": "csm_email",
    "owner": "csm_email",
    "owner_email": "csm_email",
    "plan": "plan_tier",
    "employees": "employee_count",
    "contact_email": "email",
    "account": "account_external_id",
    "contact_external_id": "external_id",
    "full_name": "name",
    "job_title": "title",
    "language": "locale",
    "time_zone": "timezone",
}
ACCOUNT_FIELDS = {
    "external_id", "name", "segment", "plan_tier", "industry", "employee_count", "arr", "region",
    "product_line", "csm_email", "team", "customer_since", "renewal_date", "status",
}  # fmt: skip
CONTACT_FIELDS = {
    "email", "account_external_id", "name", "title", "locale", "timezone", "decision_maker",
    "external_id", "unsubscribed",
}  # fmt: skip
REQUIRED = {
    ImportKind.ACCOUNTS: ["external_id", "name"],
    ImportKind.CONTACTS: ["email", "account_external_id"],
}
TRUE_WORDS = {"1", "true", "yes", "y", "x"}
FALSE_WORDS = {"", "0", "false", "no", "n"}
SEGMENT_WORDS = {
    "smb": Segment.SMB,
    "small business": Segment.SMB,
    "mid-market": Segment.MID_MARKET,
    "mid_market": Segment.MID_MARKET,
    "mid market": Segment.MID_MARKET,
    "midmarket": Segment.MID_MARKET,
    "mm": Segment.MID_MARKET,
    "enterprise": Segment.ENTERPRISE,
    "ent": Segment.ENTERPRISE,
}


class FileRefused(Exception):
    """The file as a whole cannot be imported; the message says why, for a person."""


class RowError(ValueError):
    pass


@dataclass
class ImportResult:
    total: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)
    error_count: int = 0

    def add_error(self, line: int, reason: str) -> None:
        self.error_count += 1
        if len(self.errors) < MAX_REPORTED_ERRORS:
            self.errors.append({"line": line, "reason": reason})


def normalise_header(name: str) -> str:
    key = name.strip().lower().replace("-", "_").replace(" ", "_")
    return ALIASES.get(key, key)


def rfc4180_dialect(header_line: str) -> type[csv.Dialect]:
    """RFC 4180 (quotes doubled inside quoted fields, quoted line breaks, CRLF or LF), with the
    delimiter spreadsheets in some locales use instead of the comma (";" or a tab), taken from
    the header line. Only the delimiter is guessed: csv.Sniffer also guesses the quoting from the
    header, which has no quotes, and then reads "Smith, ""Bob"" & Co" wrongly without a word."""
    counts = {d: header_line.count(d) for d in (",", ";", "\t")}
    delimiter = max(counts, key=lambda d: counts[d]) if any(counts.values()) else ","
    return type("Rfc4180", (csv.excel,), {"delimiter": delimiter})


def read_rows(data: bytes) -> tuple[list[str], list[tuple[int, list[str]]]]:
    """Decode and parse a CSV file, refusing it whole when it cannot be read."""
    limit = settings.CUSTOMER_IMPORT_MAX_BYTES
    if len(data) > limit:
        raise FileRefused(f"The file is {len(data) / 1_048_576:.1f} MB; the limit is {limit // 1_048_576} MB.")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise FileRefused(
            f"The file is not UTF-8 text (the first unreadable byte is on line {line}). "
            "Export it as “CSV UTF-8” and upload it again."
        ) from None
    if not text.strip():
        raise FileRefused("The file is empty.")
    if "\x00" in text:
        raise FileRefused("The file contains binary data; upload a CSV text file.")
    reader = csv.reader(io.StringIO(text, newline=""), rfc4180_dialect(text.split("\n", 1)[0]))
    max_rows = settings.CUSTOMER_IMPORT_MAX_ROWS
    rows: list[tuple[int, list[str]]] = []
    try:
        header = next(reader)
        line = reader.line_num + 1
        for cells in reader:
            if any(cell.strip() for cell in cells):
                rows.append((line, cells))
                if len(rows) > max_rows:
                    raise FileRefused(
                        f"The file has more than {max_rows:,} rows; split it into files of at most {max_rows:,} rows."
                    )
            line = reader.line_num + 1
    except csv.Error as exc:
        raise FileRefused(f"The file is not valid CSV near line {reader.line_num}: {exc}.") from None
    return header, rows


# Importers of other kinds, registered by the apps that own them (surveys: survey history), so that the
# import job, its page and its recovery serve them too: kind → f(data=, options=, progress=) → ImportResult.
IMPORTERS: dict[str, Callable[..., ImportResult]] = {}


def import_customers(*, kind: str, data: bytes, progress: Callable[[int, int], None] | None = None) -> ImportResult:
    """Upsert accounts or contacts from CSV bytes. Raises FileRefused for an unreadable file."""
    header, rows = read_rows(data)
    columns = [normalise_header(name) for name in header]
    missing = [name for name in REQUIRED[kind] if name not in columns]
    if missing:
        found = ", ".join(h.strip() for h in header if h.strip()) or "none"
        raise FileRefused(f"Missing required column(s): {', '.join(missing)}. Columns found: {found}.")
    duplicated = sorted({c for c in columns if c and columns.count(c) > 1})
    if duplicated:
        raise FileRefused(f"Column(s) appear more than once: {', '.join(duplicated)}.")

    importer = _AccountImporter(columns, header) if kind == ImportKind.ACCOUNTS else _ContactImporter(columns, header)
    result = ImportResult(total=len(rows))
    for start in range(0, len(rows), CHUNK_SIZE):
        importer.run_chunk(rows[start : start + CHUNK_SIZE], result)
        if progress:
            progress(min(start + CHUNK_SIZE, len(rows)), len(rows))
    return result


class _Importer:
    model: type[Account] | type[Contact]
    known: set[str]
    key: str

    def __init__(self, columns: list[str], header: list[str]) -> None:
        self.columns = columns
        self.header = header
        self.seen: dict[str, int] = {}

    def run_chunk(self, rows: list[tuple[int, list[str]]], result: ImportResult) -> None:
        cleaned: list[tuple[int, dict[str, Any], dict[str, str]]] = []
        for line, cells in rows:
            try:
                values, extra = self.clean_row(line, cells)
            except RowError as exc:
                result.add_error(line, str(exc))
                continue
            cleaned.append((line, values, extra))
        self.prepare(cleaned, result)
        existing = self.existing([values[self.key] for _, values, _ in cleaned])
        to_create, to_update, update_fields = [], [], set()
        lines: dict[int, int] = {}  # id(obj) → line, for errors the database reports
        for line, values, extra in cleaned:
            obj = existing.get(values[self.key])
            if obj is None:
                obj = self.build(values, extra)
                to_create.append(obj)
                lines[id(obj)] = line
                continue
            changed = self.apply(obj, values, extra)
            if changed:
                update_fields |= changed
                to_update.append(obj)
                lines[id(obj)] = line
            else:
                result.unchanged += 1
        now = timezone.now()
        for obj in to_update:
            obj.updated_at = now
        fields = sorted(update_fields | {"updated_at"})
        try:
            with transaction.atomic():
                self.model.objects.bulk_create(to_create)
                if to_update:
                    self.model.objects.bulk_update(to_update, fields)
        except DatabaseError:
            # Something the checks above let through: find the rows one by one, keep the others.
            to_create, to_update = self._one_by_one(to_create, to_update, fields, lines, result)
        result.created += len(to_create)
        result.updated += len(to_update)

    def _one_by_one(self, to_create, to_update, fields, lines, result: ImportResult):
        saved_new, saved_old = [], []
        for obj in to_create:
            obj.pk = None  # the rolled-back bulk insert may have set one
            if self._save_row(lambda o=obj: o.save(force_insert=True), lines[id(obj)], result):
                saved_new.append(obj)
        for obj in to_update:
            if self._save_row(lambda o=obj: o.save(update_fields=fields), lines[id(obj)], result):
                saved_old.append(obj)
        return saved_new, saved_old

    @staticmethod
    def _save_row(save, line: int, result: ImportResult) -> bool:
        try:
            with transaction.atomic():
                save()
        except DatabaseError as exc:
            reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            result.add_error(line, f"the database refused this row: {reason[:300]}")
            return False
        return True

    def clean_row(self, line: int, cells: list[str]) -> tuple[dict[str, Any], dict[str, str]]:
        if len(cells) != len(self.columns):
            raise RowError(f"expected {len(self.columns)} values as in the header, found {len(cells)}")
        values: dict[str, Any] = {}
        extra: dict[str, str] = {}
        for column, original, cell in zip(self.columns, self.header, cells, strict=True):
            cell = cell.strip()
            if column in self.known:
                values[column] = cell
            elif original.strip() and cell:
                extra[original.strip()] = cell
        values = self.clean_values(values)
        key = str(values[self.key]).lower()
        if key in self.seen:
            raise RowError(f"{self.key} {values[self.key]!r} already appears on line {self.seen[key]}")
        self.seen[key] = line
        return values, extra

    def clean_values(self, values: dict[str, str]) -> dict[str, Any]:
        raise NotImplementedError

    def prepare(self, cleaned, result: ImportResult) -> None:
        """Resolve references across the chunk; drop rows whose reference is missing."""

    def existing(self, keys: list[str]) -> dict[str, Any]:
        raise NotImplementedError

    def build(self, values: dict[str, Any], extra: dict[str, str]):
        return self.model(**values, properties=extra)

    def apply(self, obj, values: dict[str, Any], extra: dict[str, str]) -> set[str]:
        changed = set()
        for name, value in values.items():
            if getattr(obj, name) != value:
                setattr(obj, name, value)
                changed.add(name)
        merged = {**obj.properties, **extra}
        if merged != obj.properties:
            obj.properties = merged
            changed.add("properties")
        return changed


def _text(values: dict[str, str], name: str, max_length: int, required: bool = False) -> str:
    value = values[name]
    if required and not value:
        raise RowError(f"{name} is required")
    if len(value) > max_length:
        raise RowError(f"{name} is longer than {max_length} characters")
    return value


class _AccountImporter(_Importer):
    model = Account
    known = ACCOUNT_FIELDS
    key = "external_id"

    def __init__(self, columns: list[str], header: list[str]) -> None:
        super().__init__(columns, header)
        self.csms = {u.email.lower(): u for u in get_user_model().objects.filter(is_active=True)}
        self.teams = {t.name.lower(): t for t in Team.objects.all()}

    def clean_values(self, values: dict[str, str]) -> dict[str, Any]:
        out: dict[str, Any] = {
            "external_id": _text(values, "external_id", 100, required=True),
            "name": _text(values, "name", 200, required=True),
        }
        for name in ("plan_tier", "region"):
            if name in values:
                out[name] = _text(values, name, 50)
        for name in ("industry", "product_line"):
            if name in values:
                out[name] = _text(values, name, 100)
        if "segment" in values:
            raw = values["segment"]
            if raw and raw.lower() not in SEGMENT_WORDS:
                raise RowError(f"segment {raw!r} is not one of SMB, Mid-Market, Enterprise")
            out["segment"] = SEGMENT_WORDS.get(raw.lower(), "")
        if "status" in values:
            raw = values["status"].lower() or AccountStatus.ACTIVE
            if raw not in AccountStatus.values:
                raise RowError(f"status {values['status']!r} is not one of active, churned")
            out["status"] = raw
        if "employee_count" in values:
            out["employee_count"] = _whole_number(values["employee_count"], "employee_count")
        if "arr" in values:
            out["arr"] = _money(values["arr"], "arr")
        for name in ("customer_since", "renewal_date"):
            if name in values:
                out[name] = _date(values[name], name)
        if "csm_email" in values:
            raw = values["csm_email"].lower()
            if raw and raw not in self.csms:
                raise RowError(f"csm_email {values['csm_email']!r} is not a staff user")
            out["csm"] = self.csms.get(raw)
        if "team" in values:
            raw = values["team"].lower()
            if raw and raw not in self.teams:
                raise RowError(f"team {values['team']!r} does not exist")
            out["team"] = self.teams.get(raw)
        return out

    def existing(self, keys: list[str]) -> dict[str, Account]:
        return {a.external_id: a for a in Account.objects.filter(external_id__in=keys)}


class _ContactImporter(_Importer):
    model = Contact
    known = CONTACT_FIELDS
    key = "email"

    def clean_values(self, values: dict[str, str]) -> dict[str, Any]:
        email = _text(values, "email", 254, required=True).lower()
        try:
            validate_email(email)
        except ValidationError:
            raise RowError(f"email {values['email']!r} is not a valid address") from None
        out: dict[str, Any] = {
            "email": email,
            "account_external_id": _text(values, "account_external_id", 100, required=True),
        }
        for name, length in (("name", 200), ("title", 200), ("external_id", 100)):
            if name in values:
                out[name] = _text(values, name, length)
        if "locale" in values:
            out["locale"] = _text(values, "locale", 16).replace("_", "-").lower() or "en"
        if "timezone" in values:
            raw = values["timezone"]
            if raw:
                try:
                    zoneinfo.ZoneInfo(raw)
                except (zoneinfo.ZoneInfoNotFoundError, ValueError):
                    raise RowError(f"timezone {raw!r} is not a known time zone such as Europe/Berlin") from None
            out["timezone"] = raw
        if "decision_maker" in values:
            out["decision_maker"] = _yes_no(values["decision_maker"], "decision_maker")
        if "unsubscribed" in values:
            out["unsubscribed"] = _yes_no(values["unsubscribed"], "unsubscribed")
        return out

    def prepare(self, cleaned, result: ImportResult) -> None:
        wanted = {values["account_external_id"] for _, values, _ in cleaned}
        accounts = {a.external_id: a for a in Account.objects.filter(external_id__in=wanted)}
        kept = []
        for line, values, extra in cleaned:
            account = accounts.get(values.pop("account_external_id"))
            if account is None:
                result.add_error(line, "account_external_id does not match any account; import the accounts first")
                continue
            values["account"] = account
            kept.append((line, values, extra))
        cleaned[:] = kept

    def existing(self, keys: list[str]) -> dict[str, Contact]:
        return {c.email: c for c in Contact.objects.filter(email__in=keys)}

    def build(self, values: dict[str, Any], extra: dict[str, str]) -> Contact:
        unsubscribe = values.pop("unsubscribed", False)
        return Contact(**values, properties=extra, unsubscribed_at=timezone.now() if unsubscribe else None)

    def apply(self, obj, values: dict[str, Any], extra: dict[str, str]) -> set[str]:
        unsubscribe = values.pop("unsubscribed", False)
        changed = super().apply(obj, values, extra)
        if unsubscribe and obj.unsubscribed_at is None:
            obj.unsubscribed_at = timezone.now()
            changed.add("unsubscribed_at")
        return changed


def _whole_number(raw: str, name: str) -> int | None:
    if not raw:
        return None
    try:
        value = int(raw.replace(",", "").replace("_", "").replace(" ", ""))
    except ValueError:
        raise RowError(f"{name} {raw!r} is not a whole number") from None
    if value < 0:
        raise RowError(f"{name} must not be negative")
    if value > MAX_WHOLE_NUMBER:
        raise RowError(f"{name} {raw!r} is out of range (at most {MAX_WHOLE_NUMBER:,})")
    return value


def _money(raw: str, name: str) -> Decimal | None:
    if not raw:
        return None
    try:
        value = Decimal(raw.replace(",", "").replace("$", "").replace("€", "").replace(" ", ""))
    except InvalidOperation:
        raise RowError(f"{name} {raw!r} is not a number") from None
    if not value.is_finite() or value < 0 or value >= Decimal("1e12"):
        raise RowError(f"{name} {raw!r} is out of range")
    return value.quantize(Decimal("0.01"))


def _date(raw: str, name: str) -> date | None:
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise RowError(f"{name} {raw!r} is not a date in YYYY-MM-DD form") from None


def _yes_no(raw: str, name: str) -> bool:
    lowered = raw.lower()
    if lowered in TRUE_WORDS:
        return True
    if lowered in FALSE_WORDS:
        return False
    raise RowError(f"{name} {raw!r} is not yes or no")


def iter_report(result: ImportResult) -> Iterator[str]:
    yield (
        f"{result.total} rows: {result.created} created, {result.updated} updated, "
        f"{result.unchanged} unchanged, {result.error_count} with errors."
    )
    for error in result.errors:
        yield f"line {error['line']}: {error['reason']}"
    if result.error_count > len(result.errors):
        yield f"… and {result.error_count - len(result.errors)} more errors."


def run_from_command(command, path, run: Callable[..., ImportResult]) -> None:
    """What every import command does: read the file, import it with progress on stderr, print the
    report; an unreadable or refused file is a CommandError saying nothing was imported."""
    from django.core.management.base import CommandError

    try:
        data = path.read_bytes()
    except OSError as exc:
        raise CommandError(f"Cannot read {path}: {exc.strerror}") from None
    try:
        result = run(data=data, progress=lambda done, total: command.stderr.write(f"\r{done}/{total}", ending=""))
    except FileRefused as exc:
        raise CommandError(f"{path.name} was refused and nothing was imported: {exc}") from None
    command.stderr.write("")
    for line in iter_report(result):
        command.stdout.write(line)
