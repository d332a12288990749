"""Bring survey history in: Delighted's exports (API JSON or CSV) and any tool's responses as CSV.

Rules (the README and docs/samples/ repeat them):
- Every response keeps its original date, counts in trends, segments and themes, is marked with its
  source (`Response.source`: "delighted" or "csv") and opens **no** follow-up task (it is stored as
  already routed). Each lands on an inactive program per source and stream ("Imported from
  Delighted (relationship)"), which never sends.
- Idempotent: a response is keyed by (source, its id in the file: Delighted's response id, or for a
  CSV without an id the email, date and score), so importing the same file twice changes nothing.
- People are matched to contacts by email (case-insensitive) and created when new, in the account
  named by a Company/Account column or property (else one per email domain).
- Unsubscribes and bounces are honoured from the first wave: the contact is marked as such.
- Every bad row or item is reported with its line (CSV) or position (JSON), and the good ones are
  kept. A file that cannot be read at all is refused whole with one message.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from dateutil import parser as date_parser
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone
from django.utils.module_loading import import_string

from config.db import analyze_after_bulk_write
from customers.importing import FileRefused, ImportResult, read_rows
from customers.models import Account, Contact

from .answers import latest_answers_rebuild, response_snapshot
from .models import REASON_MAX_LENGTH, Invitation, Program, Response, Stream, category_for
from .services import invitation_fields

CHUNK = 500
COMPANY_KEYS = ("company", "company_name", "account", "account_name", "organization", "organisation")


class BadItem(ValueError):
    pass


def _key(name: str) -> str:
    """A header or property name as a key: "Response ID" → "response_id" (no customer-import aliases)."""
    return name.strip().lower().replace("-", "_").replace(" ", "_")


@dataclass
class Item:
    where: int  # the CSV line, or the position in a JSON list (1-based)
    source_id: str
    email: str
    score: int
    submitted_at: datetime
    name: str = ""
    comment: str = ""
    stream: str = Stream.RELATIONSHIP
    company: str = ""
    account_external_id: str = ""
    properties: dict[str, Any] = field(default_factory=dict)


@dataclass
class Parsed:
    items: list[Item] = field(default_factory=list)
    unsubscribes: list[tuple[int, str, datetime]] = field(default_factory=list)
    bounces: list[tuple[int, str, datetime]] = field(default_factory=list)
    errors: list[tuple[int, str]] = field(default_factory=list)
    total: int = 0


# Reading values ------------------------------------------------------------------------------------


def _email(raw: Any) -> str:
    value = str(raw or "").strip().lower()
    try:
        validate_email(value)
    except ValidationError:
        raise BadItem(f"email {value!r} is not an email address" if value else "email is missing") from None
    return value


def _score(raw: Any) -> int:
    text = str(raw if raw is not None else "").strip()
    if not re.fullmatch(r"\d{1,2}", text) or int(text) > 10:
        raise BadItem(f"score {text!r} is not a whole number from 0 to 10" if text else "score is missing")
    return int(text)


def _when(raw: Any) -> datetime:
    """A unix time (Delighted's API) or a date/time string (CSV exports); UTC when no zone is given."""
    if raw is None or str(raw).strip() == "":
        raise BadItem("date is missing")
    text = str(raw).strip()
    try:
        if re.fullmatch(r"\d{9,11}(\.\d+)?", text):
            value = datetime.fromtimestamp(float(text), tz=UTC)
        else:
            value = date_parser.parse(text)
            if value.tzinfo is None:
                value = value.replace(tzinfo=UTC)
    except (ValueError, OverflowError, OSError):
        raise BadItem(f"date {text!r} is not a date") from None
    if not datetime(2000, 1, 1, tzinfo=UTC) <= value <= timezone.now() + timedelta(days=1):
        raise BadItem(f"date {text!r} is before 2000 or in the future")
    return value.astimezone(UTC)


def _stream(raw: Any, default: str) -> str:
    value = str(raw or "").strip().lower() or default
    if value not in Stream.values:
        raise BadItem(f"stream {value!r} is not relationship or transactional")
    return value


def _text(raw: Any, limit: int) -> str:
    text = str(raw or "").replace("\x00", "").strip()
    return text[:limit]


# Delighted ------------------------------------------------------------------------------------------


def _delighted_item(where: int, raw: dict, people: dict[str, dict], stream: str) -> Item:
    if not isinstance(raw, dict):
        raise BadItem("not an object")
    person = raw.get("person")
    if not isinstance(person, dict):
        person = people.get(str(person), {})
    properties = raw.get("person_properties") or {}
    if not isinstance(properties, dict):
        raise BadItem("person_properties is not an object")
    response_id = str(raw.get("id") or "").strip()
    if not response_id:
        raise BadItem("id is missing")
    company = next(
        (str(v) for k, v in properties.items() if _key(str(k)) in COMPANY_KEYS and v), ""
    )  # fmt: skip
    metadata: dict[str, Any] = {"delighted": {k: v for k, v in properties.items() if str(k).startswith("Delighted")}}
    metadata["properties"] = {k: v for k, v in properties.items() if not str(k).startswith("Delighted")}
    if raw.get("tags"):
        metadata["tags"] = [str(t)[:100] for t in raw["tags"]][:50] if isinstance(raw["tags"], list) else []
    if raw.get("notes"):
        notes = raw["notes"] if isinstance(raw["notes"], list) else []
        metadata["notes"] = [
            {"text": _text(n.get("text"), 2000), "by": _text(n.get("user_email"), 254), "at": n.get("created_at")}
            for n in notes
            if isinstance(n, dict)
        ][:50]
    return Item(
        where=where,
        source_id=f"delighted:{response_id}",
        email=_email(person.get("email") or raw.get("email")),
        name=_text(person.get("name") or raw.get("name"), 200),
        score=_score(raw.get("score")),
        comment=_text(raw.get("comment"), REASON_MAX_LENGTH),
        submitted_at=_when(raw.get("created_at")),
        stream=stream,
        company=_text(company, 200),
        properties={"source": "delighted", **metadata},
    )


def parse_delighted_json(data: bytes, *, stream: str) -> Parsed:
    limit = settings.CUSTOMER_IMPORT_MAX_BYTES
    if len(data) > limit:
        raise FileRefused(f"The file is {len(data) / 1_048_576:.1f} MB; the limit is {limit // 1_048_576} MB.")
    try:
        document = json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise FileRefused(f"The file is not JSON: {exc}.") from None
    if isinstance(document, list):
        document = {"survey_responses": document}
    if not isinstance(document, dict) or not any(
        k in document for k in ("survey_responses", "unsubscribes", "bounces", "people")
    ):
        raise FileRefused(
            "Expected Delighted's export: a list of survey responses, or an object with "
            "survey_responses, people, unsubscribes and bounces."
        )
    people = {str(p.get("id")): p for p in document.get("people") or [] if isinstance(p, dict)}
    parsed = Parsed()
    responses = document.get("survey_responses") or []
    parsed.total = len(responses)
    for position, raw in enumerate(responses, start=1):
        try:
            parsed.items.append(_delighted_item(position, raw, people, stream))
        except BadItem as exc:
            parsed.errors.append((position, f"survey_responses[{position}]: {exc}"))
    for key, target in (("unsubscribes", parsed.unsubscribes), ("bounces", parsed.bounces)):
        for position, raw in enumerate(document.get(key) or [], start=1):
            parsed.total += 1
            try:
                if not isinstance(raw, dict):
                    raise BadItem("not an object")
                person = people.get(str(raw.get("person_id")), {})
                at = raw.get("unsubscribed_at" if key == "unsubscribes" else "bounced_at")
                target.append((position, _email(raw.get("email") or person.get("email")), _when(at)))
            except BadItem as exc:
                parsed.errors.append((position, f"{key}[{position}]: {exc}"))
    return parsed


# CSV (Delighted's export, or any tool's) -------------------------------------------------------------

CSV_ALIASES = {
    "response_id": "id", "response": "id", "survey_response_id": "id",
    "nps": "score", "nps_score": "score", "rating": "score", "likelihood_to_recommend": "score",
    "comments": "comment", "reason": "comment", "feedback": "comment", "verbatim": "comment",
    "response_timestamp": "date", "created_at": "date", "created": "date", "timestamp": "date",
    "submitted_at": "date", "response_date": "date", "date_submitted": "date",
    "email_address": "email", "person_email": "email", "customer_email": "email",
    "person_name": "name", "full_name": "name", "customer_name": "name",
    "account": "account_external_id", "account_id": "account_external_id",
}  # fmt: skip


def parse_csv(data: bytes, *, source: str, stream: str) -> Parsed:
    header, rows = read_rows(data)
    columns = [CSV_ALIASES.get(_key(h), _key(h)) for h in header]
    missing = [c for c in ("email", "score", "date") if c not in columns]
    if missing:
        found = ", ".join(h.strip() for h in header if h.strip()) or "none"
        raise FileRefused(f"Missing required column(s): {', '.join(missing)}. Columns found: {found}.")
    known = {"id", "email", "score", "date", "comment", "name", "stream", "program", *COMPANY_KEYS,
             "account_external_id", "tags", "notes"}  # fmt: skip
    parsed = Parsed(total=len(rows))
    for line, cells in rows:
        if len(cells) != len(columns):
            parsed.errors.append((line, f"expected {len(columns)} values as in the header, found {len(cells)}"))
            continue
        values = dict(zip(columns, (c.strip() for c in cells), strict=True))
        extra = {h.strip(): c.strip() for h, col, c in zip(header, columns, cells, strict=True)
                 if col not in known and c.strip()}  # fmt: skip
        try:
            email, score, when = _email(values["email"]), _score(values["score"]), _when(values["date"])
            source_id = values.get("id") or f"{email}|{when.isoformat()}|{score}"
            metadata: dict[str, Any] = {"source": source}
            delighted = {k: v for k, v in extra.items() if k.lower().startswith("delighted")}
            if delighted:
                metadata["delighted"] = delighted
            others = {k: v for k, v in extra.items() if k not in delighted}
            if others:
                metadata["properties"] = others
            if values.get("tags"):
                metadata["tags"] = [t.strip() for t in values["tags"].split(",") if t.strip()][:50]
            if values.get("notes"):
                metadata["notes"] = [{"text": _text(values["notes"], 2000)}]
            parsed.items.append(
                Item(
                    where=line,
                    source_id=f"{source}:{source_id}"[:200],
                    email=email,
                    name=_text(values.get("name"), 200),
                    score=score,
                    comment=_text(values.get("comment"), REASON_MAX_LENGTH),
                    submitted_at=when,
                    stream=_stream(values.get("stream"), stream),
                    company=_text(next((values[k] for k in COMPANY_KEYS if values.get(k)), ""), 200),
                    account_external_id=_text(values.get("account_external_id"), 100),
                    properties=metadata,
                )
            )
        except BadItem as exc:
            parsed.errors.append((line, str(exc)))
    return parsed


# Writing -------------------------------------------------------------------------------------------


def _program(source: str, stream: str) -> Program:
    label = {"delighted": "Delighted", "csv": "CSV import"}.get(source, source)
    program, _ = Program.objects.get_or_create(
        name=f"Imported from {label} ({stream})",
        stream=stream,
        defaults={
            "product_name": "us",
            "sender_name": label,
            "sender_email": "imports@localhost",
            "is_active": False,
        },  # fmt: skip
    )
    return program


def _account_for(item: Item) -> Account:
    if item.account_external_id:
        account = Account.objects.filter(external_id=item.account_external_id).first()
        if account:
            return account
        external_id, name = item.account_external_id, item.company or item.account_external_id
    elif item.company:
        external_id, name = f"import:{item.company.lower()}"[:100], item.company
    else:
        domain = item.email.rsplit("@", 1)[1]
        external_id, name = f"domain:{domain}"[:100], domain
    account, _ = Account.objects.get_or_create(external_id=external_id, defaults={"name": name[:200]})
    return account


def _contact_for(item: Item) -> Contact:
    contact = Contact.objects.filter(email__iexact=item.email).select_related("account").first()
    if contact is None:
        contact = Contact.objects.create(email=item.email, name=item.name, account=_account_for(item))
    return contact


def _store(item: Item, source: str, programs: dict) -> bool:
    """Store one response; False when it was imported before (nothing changes)."""
    key = (source, item.stream)
    if key not in programs:
        programs[key] = _program(source, item.stream)
    program = programs[key]
    if Response.objects.filter(source=source, source_id=item.source_id).exists():
        return False
    contact = _contact_for(item)
    invitation = Invitation.objects.create(
        **invitation_fields(program, contact, item.submitted_at),
        properties=item.properties,
        responded_at=item.submitted_at,
    )
    invitation.contact, invitation.account = contact, contact.account
    now = timezone.now()
    category = category_for(item.score)
    Response.objects.create(
        invitation=invitation, program=program, stream=item.stream, wave=None, contact=contact,
        account=contact.account, score=item.score, category=category, reason=item.comment,
        submitted_at=item.submitted_at, updated_at=now, routed_at=now, routed_category=category,
        source=source, source_id=item.source_id, **response_snapshot(invitation, item.submitted_at),
    )  # fmt: skip
    return True


def import_history(parsed: Parsed, *, source: str, progress: Callable[[int, int], None] | None = None) -> ImportResult:
    """Write what parse_* read: responses, then unsubscribes and bounces. Bad items are in the report."""
    result = ImportResult(total=parsed.total)
    for where, reason in parsed.errors:
        result.add_error(where, reason)
    programs: dict = {}
    for start in range(0, len(parsed.items), CHUNK):
        for item in parsed.items[start : start + CHUNK]:
            try:
                with transaction.atomic():
                    stored = _store(item, source, programs)
            except Exception as exc:  # noqa: BLE001 - the database refused this one: report it, keep the others
                result.add_error(item.where, f"not stored: {type(exc).__name__}: {str(exc)[:200]}")
                continue
            if stored:
                result.created += 1
            else:
                result.unchanged += 1
        if progress:
            progress(min(start + CHUNK, len(parsed.items)), len(parsed.items))
    for _where, email, at in parsed.unsubscribes:
        changed = Contact.objects.filter(email__iexact=email, unsubscribed_at__isnull=True).update(
            unsubscribed_at=at, updated_at=timezone.now()
        )
        result.updated += changed
        result.unchanged += 0 if changed else 1
    for _where, email, at in parsed.bounces:
        changed = Contact.objects.filter(email__iexact=email, bounced_at__isnull=True).update(
            bounced_at=at, bounce_reason="Bounced (imported)", updated_at=timezone.now()
        )
        result.updated += changed
        result.unchanged += 0 if changed else 1
    if result.created:
        analyze_after_bulk_write(Account, Contact, Invitation, Response, rows=result.created)
        latest_answers_rebuild()  # account figures read each contact's latest answer
        for path in getattr(settings, "HISTORY_IMPORTED_HOOKS", ()):
            import_string(path)()  # theme tags of the imported verbatims (insights)
    return result


def import_file(*, kind: str, data: bytes, stream: str = Stream.RELATIONSHIP, progress=None) -> ImportResult:
    """kind: "delighted" (JSON or CSV, told apart by the first character) or "responses" (CSV)."""
    if kind == "delighted":
        first = data.lstrip(b"\xef\xbb\xbf \r\n\t")[:1]
        parsed = (
            parse_delighted_json(data, stream=stream) if first in (b"{", b"[") else
            parse_csv(data, source="delighted", stream=stream)
        )  # fmt: skip
        return import_history(parsed, source="delighted", progress=progress)
    return import_history(parse_csv(data, source="csv", stream=stream), source="csv", progress=progress)
