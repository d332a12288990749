"""Recording a customer's answer, and handing it on after the commit.

The customer waits only for what must be true when their page says "thank you": the invitation is
claimed and the response row stored, in one short transaction. Everything else a response sets
off — follow-up tasks and their emails, theme tags — happens after the commit, in the worker, and
durably: a response whose consumers have not run yet has ``routed_at`` NULL. The commit wakes a
worker (``routing_wake``); the tick sweeps whatever a lost message, a dead worker or a crash left
(``responses_route_pending``). Consumers are listed in settings.RESPONSE_CONSUMERS, in order, so
surveys never imports the apps that build on it.
"""

from __future__ import annotations

import logging
import time
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from typing import Any

from celery import current_app
from django.conf import settings
from django.db import connection, models, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.module_loading import import_string

from config.db import bound_cursor
from customers.models import ARR_TIERS, COMPANY_SIZES, Account, Contact, band_sql
from outbox.services import emails_wake

from . import cadence
from .emails import supported_language
from .models import (
    DeviceClass,
    Invitation,
    LatestAnswer,
    Referral,
    Response,
    Stream,
    category_for,
    token_hash,
    verbatim,
)

logger = logging.getLogger(__name__)

# Answers committed in the same slice of time share one wake-up message per process.
ROUTE_BATCH_SECONDS = 0.25


class AnswerClosed(Exception):
    """The invitation was answered and its edit window is over."""


@dataclass(frozen=True)
class SubmitResult:
    response: Response
    created: bool
    previous_category: str  # "" on the first answer


# What the POST of an answer reads, and nothing more: one indexed query, compiled once.
ANSWER_COLUMNS = (
    (Invitation, ("id", "program", "stream", "wave", "contact", "account", "responded_at", "expires_at", "properties",
                    "is_test", "via")),
    (Contact, ("id", "unsubscribed_at", "locale")),
    (Account, ("id", "segment", "plan_tier", "industry", "employee_count", "arr", "region", "product_line", "csm",
               "team", "customer_since")),
)  # fmt: skip


@cache
def _answer_query() -> tuple[str, list]:
    plan, columns = [], []
    for model, names in ANSWER_COLUMNS:
        # Model.from_db takes the values in the model's own field order.
        order = {field.name: n for n, field in enumerate(model._meta.concrete_fields)}
        fields = sorted((model._meta.get_field(name) for name in names), key=lambda field: order[field.name])
        alias = model._meta.db_table
        columns += [f'"{alias}"."{field.column}"' for field in fields]
        converters = [getattr(field, "from_db_value", None) for field in fields]
        plan.append((model, [field.attname for field in fields], converters))
    invitation, contact, account = (m._meta.db_table for m, _ in ANSWER_COLUMNS)
    # Names from the models' metadata; the token is a parameter.
    sql = (
        f'SELECT {", ".join(columns)} FROM "{invitation}" '  # noqa: S608
        f'JOIN "{contact}" ON "{contact}"."id" = "{invitation}"."contact_id" '
        f'JOIN "{account}" ON "{account}"."id" = "{invitation}"."account_id" '
        f'WHERE "{invitation}"."token_hash" = %s'
    )
    return sql, plan


def invitation_for_answer(token: str) -> Invitation | None:
    """The invitation behind a link with its contact and account, as much of them as storing an
    answer needs (the rest loads on access). The ORM's select_related builds the same query in
    three times the time; this is the hot path of every answer."""
    if not token or len(token) > 100:
        return None
    if connection.vendor != "postgresql":  # other backends convert values (dates on SQLite) in the ORM
        fields = [f"{prefix}{name}" for (model, names), prefix in zip(ANSWER_COLUMNS, ("", "contact__", "account__"),
                  strict=True) for name in names]  # fmt: skip
        found = Invitation.objects.select_related("contact", "account").only(*fields)
        return found.filter(token_hash=token_hash(token)).first()
    sql, plan = _answer_query()
    with bound_cursor() as cursor:
        cursor.execute(sql, [token_hash(token)])
        row = cursor.fetchone()
    if row is None:
        return None
    objects, start = [], 0
    for model, attnames, converters in plan:
        values = [
            convert(value, None, connection) if convert else value
            for convert, value in zip(converters, row[start : start + len(converters)], strict=True)
        ]
        objects.append(model.from_db(connection.alias, attnames, values))
        start += len(converters)
    invitation, contact, account = objects
    invitation.contact, invitation.account = contact, account
    return invitation


# The event properties the snapshot copies, and their length there.
SNAPSHOT_PROPERTIES = {"touchpoint": 64, "channel": 64, "agent": 200}


def response_snapshot(invitation: Invitation, now: datetime) -> dict[str, Any]:
    """The segment values of the account (and the event, for transactional) at answer time."""
    account = invitation.account
    started = account.customer_since
    properties = invitation.properties or {}
    return {
        "segment": account.segment,
        "plan_tier": account.plan_tier,
        "industry": account.industry,
        "company_size": account.company_size,
        "region": account.region,
        "arr_tier": account.arr_tier,
        "product_line": account.product_line,
        "csm_id": account.csm_id,
        "team_id": account.team_id,
        "cohort": cadence.quarter_label(started) if started else "",
        "tenure_months": months_between(started, timezone.localdate(now)) if started else None,
        **{name: str(properties.get(name, ""))[:length] for name, length in SNAPSHOT_PROPERTIES.items()},
        "via": invitation.via,
    }


def months_between(start: date, end: date) -> int:
    return max((end.year - start.year) * 12 + end.month - start.month - (end.day < start.day), 0)


def _months_between_sql(start: str, end: str) -> str:
    """months_between as a SQL expression over two date expressions."""

    def part(name: str, day: str) -> str:
        return f"EXTRACT({name} FROM {day})::int"

    return (
        f"GREATEST(({part('YEAR', end)} - {part('YEAR', start)}) * 12 + {part('MONTH', end)} - {part('MONTH', start)}"
        f" - CASE WHEN {part('DAY', end)} < {part('DAY', start)} THEN 1 ELSE 0 END, 0)"
    )


def response_submit(
    *, invitation: Invitation, score: int, reason: str, device_class: str = "", language: str = ""
) -> SubmitResult:
    """Save the answer to an invitation: the first one, or a change inside the edit window.

    Claiming the invitation (a conditional UPDATE, which takes its row lock) decides who answers
    first; a concurrent post waits on that lock and, once the first commits, finds it answered
    and edits. The one-to-one constraint is the last guard. Raises AnswerClosed after the edit
    window. The consumers run after the commit (``routing_wake``).
    """
    category = category_for(score)
    now = timezone.now()
    response = Response(
        invitation_id=invitation.pk,  # not invitation=: that would cache this unsaved row on the invitation
        program_id=invitation.program_id,
        stream=invitation.stream,
        wave_id=invitation.wave_id,
        contact_id=invitation.contact_id,
        account_id=invitation.account_id,
        score=score,
        category=category,
        reason=reason,
        device_class=device_class or DeviceClass.UNKNOWN,
        language=language,
        is_test=invitation.is_test,
        submitted_at=now,
        updated_at=now,
        **text_sentiment(reason, language=language),
        **response_snapshot(invitation, now),
    )
    if _claim_and_store(invitation, response, now):
        transaction.on_commit(routing_wake)
        return SubmitResult(response, created=True, previous_category="")
    with transaction.atomic():
        Invitation.objects.select_for_update().filter(pk=invitation.pk).values_list("pk").get()
        response = Response.objects.select_related("program").get(invitation=invitation)
        if now >= response.editable_until():
            raise AnswerClosed
        previous = response.category
        response.score, response.category, response.reason, response.updated_at = score, category, reason, now
        response.routed_at = None
        for name, value in text_sentiment(reason, response.improvement, language=response.language).items():
            setattr(response, name, value)
        response.save(
            update_fields=["score", "category", "reason", "updated_at", "routed_at", "sentiment", "sentiment_score"]
        )
        transaction.on_commit(routing_wake)
    return SubmitResult(response, created=False, previous_category=previous)


def _claim_and_store(invitation: Invitation, response: Response, now: datetime) -> bool:
    """Claim the invitation and insert the first response, both or neither; False if it was
    answered already. On PostgreSQL one statement does both (a data-modifying WITH: atomic on its
    own, one round trip, no transaction to open and commit); elsewhere two, in a transaction."""
    if connection.vendor != "postgresql":
        with transaction.atomic():
            if not Invitation.objects.filter(pk=invitation.pk, responded_at__isnull=True).update(responded_at=now):
                return False
            response.save(force_insert=True)
            return True
    sql, fields = _claim_and_insert_sql()
    params = [now, invitation.pk, *(_db_value(response, field, plain) for field, plain in fields)]
    with bound_cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    if row is None:
        return False
    response.pk = row[0]
    response._state.adding, response._state.db = False, connection.alias
    return True


def _db_value(response: Response, field, plain: bool):
    """A field's value as the database takes it (see _PLAIN_FIELDS)."""
    value = getattr(response, field.attname) if plain else field.pre_save(response, add=True)
    if not plain or value.__class__ not in _PLAIN_VALUES:
        value = field.get_db_prep_save(value, connection)
    return value


# Fields whose values of these exact types psycopg takes as they are (get_db_prep_save returns them
# unchanged on PostgreSQL; it costs more than the statement's other client work). JSON always goes
# through its field, even a str.
_PLAIN_FIELDS = (models.CharField, models.TextField, models.IntegerField, models.BooleanField,
                 models.FloatField, models.DateTimeField, models.ForeignKey)  # fmt: skip
_PLAIN_VALUES = frozenset({str, int, float, bool, type(None), datetime})


@cache
def _claim_and_insert_sql() -> tuple[str, list]:
    """The statement, and each column's field with whether its plain values need no preparing."""
    fields = [field for field in Response._meta.concrete_fields if not field.primary_key]
    columns = ", ".join(f'"{field.column}"' for field in fields)
    values = ", ".join(["%s"] * len(fields))
    # Names from the models' metadata; every value is a parameter.
    sql = (
        f'WITH claimed AS (UPDATE "{Invitation._meta.db_table}" SET "responded_at" = %s '  # noqa: S608
        f'WHERE "id" = %s AND "responded_at" IS NULL RETURNING "id") '
        f'INSERT INTO "{Response._meta.db_table}" ({columns}) SELECT {values} FROM claimed RETURNING "id"'
    )
    return sql, [(field, isinstance(field, _PLAIN_FIELDS) and not _sets_itself(field)) for field in fields]


def response_create_for_token(
    *, token: str, locale: str, score: int, reason: str, device_class: str = ""
) -> int | None:
    """The usual answer in one statement (PostgreSQL): the first answer to an open link, posted
    from a page written for the contact's locale. The statement finds the invitation by its token,
    claims it, snapshots the account's segment values and inserts the response — both or neither,
    atomic on its own, one round trip. `locale` is the page's hint (the form's hidden field): the
    text's tone is read in its language before the statement runs, and the statement stores
    nothing when the contact's locale is no longer that.

    Returns the new response's id, or None when the full path must decide: an unknown token; a
    link answered, expired or unsubscribed; a changed locale; an event property that is not text
    (the snapshot's rule for those is Python's str()); another database. The rules it shares with
    response_snapshot are each written once, in SQL beside their Python: band_sql,
    quarter_label_sql, _months_between_sql.
    """
    if connection.vendor != "postgresql" or not token or len(token) > 100:
        return None
    language = supported_language(locale)
    now = timezone.now()
    sql, defaults = _create_for_token_sql()
    params = {
        **defaults,
        "token_hash": token_hash(token),
        "locale": locale,
        "now": now,
        "today": timezone.localdate(now),
        # The answer's own columns; every other column is the invitation's, the account's or its default.
        "score": score,
        "category": category_for(score),
        "reason": reason,
        "device_class": device_class or DeviceClass.UNKNOWN,
        "language": language,
        "submitted_at": now,
        "updated_at": now,
        **text_sentiment(reason, language=language),
    }
    with bound_cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    if row is None:
        return None
    transaction.on_commit(routing_wake)
    return row[0]


# The response's columns that response_create_for_token's caller gives.
_ANSWER_FIELDS = ("score", "category", "reason", "device_class", "language", "submitted_at", "updated_at",
                  "sentiment", "sentiment_score")  # fmt: skip


@cache
def _create_for_token_sql() -> tuple[str, dict]:
    """response_create_for_token's statement, and the database values of the defaults of the
    response's other parameter columns (named by their attname)."""
    invitation, contact, account = Invitation._meta, Contact._meta, Account._meta

    def column(meta, name: str) -> str:
        return f'"{meta.db_table}"."{meta.get_field(name).column}"'

    started = column(account, "customer_since")
    # The response's columns that the statement fills from the invitation and the account.
    derived = {
        **{name: column(invitation, name) for name in ("program", "stream", "wave", "contact", "account", "is_test",
                                                       "via")},
        "invitation": column(invitation, "id"),
        **{name: column(account, name) for name in ("segment", "plan_tier", "industry", "region", "product_line",
                                                    "csm", "team")},
        "company_size": band_sql(column(account, "employee_count"), COMPANY_SIZES),
        "arr_tier": band_sql(column(account, "arr"), ARR_TIERS),
        "cohort": cadence.quarter_label_sql(started),
        "tenure_months": f"CASE WHEN {started} IS NOT NULL THEN {_months_between_sql(started, '%(today)s::date')} END",
        **{
            name: f"LEFT(COALESCE({column(invitation, 'properties')} ->> '{name}', ''), {length})"
            for name, length in SNAPSHOT_PROPERTIES.items()
        },
    }  # fmt: skip
    fields = [field for field in Response._meta.concrete_fields if not field.primary_key]
    assert set(derived) <= {field.name for field in fields}  # noqa: S101 - a renamed field fails here, not in a customer's answer
    columns = ", ".join(f'"{field.column}"' for field in fields)
    values = ", ".join(derived.get(field.name) or f"%({field.attname})s" for field in fields)
    properties = column(invitation, "properties")
    text_only = " AND ".join(
        f"COALESCE(jsonb_typeof({properties} -> '{name}'), 'string') = 'string'" for name in SNAPSHOT_PROPERTIES
    )
    # Names from the models' metadata; every value is a parameter. The claimed row is named like its
    # table, so that the SELECT's column names read as the invitation's.
    sql = (
        f'WITH "{invitation.db_table}" AS (UPDATE "{invitation.db_table}" SET "responded_at" = %(now)s '  # noqa: S608
        f'FROM "{contact.db_table}" WHERE {column(invitation, "token_hash")} = %(token_hash)s '
        f"AND {column(invitation, 'responded_at')} IS NULL AND {column(invitation, 'expires_at')} > %(now)s "
        f"AND {column(contact, 'id')} = {column(invitation, 'contact')} AND {column(contact, 'locale')} = %(locale)s "
        f'AND {column(contact, "unsubscribed_at")} IS NULL AND {text_only} RETURNING "{invitation.db_table}".*) '
        f'INSERT INTO "{Response._meta.db_table}" ({columns}) SELECT {values} FROM "{invitation.db_table}" '
        f'JOIN "{account.db_table}" ON {column(account, "id")} = {column(invitation, "account")} '
        f'RETURNING "id"'
    )
    given = [field for field in fields if field.name not in derived]
    assert {field.attname for field in given} >= set(_ANSWER_FIELDS)  # noqa: S101
    defaults = {
        field.attname: field.get_db_prep_save(field.get_default(), connection)
        for field in given
        if field.attname not in _ANSWER_FIELDS
    }
    return sql, defaults


def _sets_itself(field) -> bool:
    """A field whose pre_save sets its value (auto_now, auto_now_add)."""
    return getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False)


def response_improvement_add(*, response: Response, text: str) -> None:
    """A passive's answer to "what would make it a 10?" (re-tagged after the commit)."""
    tone = text_sentiment(response.reason, text, language=response.language)
    Response.objects.filter(pk=response.pk).update(improvement=text, updated_at=timezone.now(), routed_at=None, **tone)
    response.improvement = text
    for name, value in tone.items():
        setattr(response, name, value)
    transaction.on_commit(routing_wake)


def response_follow_up_save(*, response: Response, values: dict) -> None:
    """The answers to the program's follow-up questions (``FollowUpForm.answers``), replacing earlier ones."""
    if timezone.now() >= response.editable_until():
        raise AnswerClosed
    now = timezone.now()
    # Routed again after the commit, as an edit: webhooks hear response.updated with the answers.
    Response.objects.filter(pk=response.pk).update(follow_up=values, updated_at=now, routed_at=None)
    response.follow_up, response.updated_at = values, now
    transaction.on_commit(routing_wake)


def referral_create(*, response: Response, name: str, email: str, company: str = "", note: str = "") -> Referral:
    """Record a colleague a promoter referred; the same email twice is one referral."""
    referral, _ = Referral.objects.get_or_create(
        response=response,
        email=email.strip().lower(),
        defaults={"name": name, "company": company, "note": note},
    )
    return referral


# After the commit -----------------------------------------------------------------------------------


@cache
def _sentiment_reader():
    path = getattr(settings, "RESPONSE_SENTIMENT", "")
    return import_string(path) if path else None


def text_sentiment(reason: str, improvement: str = "", *, language: str = "") -> dict[str, Any]:
    """The written text's tone (settings.RESPONSE_SENTIMENT: insights reads it, on this machine),
    as the response's fields. Read while the answer is saved, so the router never writes the row
    twice (a second write in its transaction would take the invitation's key lock at commit, which
    an edit holds)."""
    reader = _sentiment_reader()
    found = reader(verbatim(reason, improvement), language) if reader else None
    return {"sentiment": found.label if found else "", "sentiment_score": found.score if found else None}


def consumers() -> list:
    return [import_string(path) for path in settings.RESPONSE_CONSUMERS]


_last_wake_slice: int | None = None
_batch: ContextVar[dict | None] = ContextVar("routing_batch", default=None)


def batch_memo(name: str, load):
    """Inside a routing batch, `load()` once per batch and name (the taxonomy, the SLA policies:
    what every response of a batch reads and nobody edits mid-batch); outside one, `load()`."""
    memo = _batch.get()
    if memo is None:
        return load()
    if name not in memo:
        memo[name] = load()
    return memo[name]


def routing_wake() -> None:
    """Ask a worker to route what was just committed. One message per process and time slice,
    due when the slice ends: every answer this process commits in the slice is committed by then,
    so the task sees it. Never raises (the tick sweeps if the broker is down)."""
    global _last_wake_slice
    now = time.time()
    current = int(now / ROUTE_BATCH_SECONDS)
    eager = current_app.conf.task_always_eager  # tests and `dispatch_due`: route now, in this process
    if current == _last_wake_slice and not eager:
        return
    from config.queueing import enqueue

    from .tasks import route_responses

    if eager:
        enqueue(route_responses)
        return
    _last_wake_slice = current
    enqueue(route_responses, countdown=(current + 1) * ROUTE_BATCH_SECONDS - now + 0.05)


def responses_route_pending(limit: int = 10_000, batch: int = 100) -> int:
    """Run the consumers of the responses marked pending, oldest change first: up to `batch`
    rows locked at once (a concurrent router skips them; an edit waits, then marks its row
    pending again), each routed in a savepoint, the batch committed together. A consumer that
    fails leaves only its response pending, for the next tick. Returns how many were routed."""
    routed, failed = 0, []
    while routed < limit:
        marker = _batch.set({})  # per-batch memo: batch_memo()
        try:
            with transaction.atomic():
                pending = list(
                    Response.objects.select_for_update(skip_locked=True, of=("self",))
                    .select_related("program", "team", "csm")
                    .filter(routed_at__isnull=True)
                    .exclude(pk__in=failed)
                    .order_by("updated_at", "pk")[: min(batch, limit - routed)]
                )
                if not pending:
                    return routed
                done = []
                for response in pending:
                    try:
                        with transaction.atomic():
                            _route(response)
                    except Exception:
                        logger.exception("Routing response %s failed; the next tick tries again.", response.pk)
                        failed.append(response.pk)
                    else:
                        done.append(response.pk)
                # The rows are locked: the category routed is the category stored.
                Response.objects.filter(pk__in=done).update(routed_at=timezone.now(), routed_category=F("category"))
                emails_wake()  # one sender for whatever mail the consumers queued in this batch
        finally:
            _batch.reset(marker)
        routed += len(done)
    return routed


def latest_answer_record(*, response: Response, previous_category: str) -> None:
    """settings.RESPONSE_CONSUMERS: keep each contact's latest relationship answer (LatestAnswer)."""
    if response.stream != Stream.RELATIONSHIP or response.is_test:
        return
    current = LatestAnswer.objects.filter(contact_id=response.contact_id).first()
    if current is None:
        LatestAnswer.objects.bulk_create(
            [LatestAnswer(contact_id=response.contact_id, response_id=response.pk, account_id=response.account_id,
                          submitted_at=response.submitted_at)],
            ignore_conflicts=True,
        )  # fmt: skip
    elif (response.submitted_at, response.pk) > (current.submitted_at, current.response_id):
        LatestAnswer.objects.filter(contact_id=response.contact_id).update(
            response_id=response.pk, account_id=response.account_id, submitted_at=response.submitted_at
        )


def latest_answers_rebuild() -> int:
    """Recompute LatestAnswer from every relationship response (after a bulk load that bypassed
    routing: the demo history, benchmarks). Returns how many contacts have one."""
    with transaction.atomic():
        LatestAnswer.objects.all().delete()
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(
                    "INSERT INTO surveys_latestanswer (contact_id, response_id, account_id, submitted_at) "
                    "SELECT DISTINCT ON (contact_id) contact_id, id, account_id, submitted_at FROM surveys_response "
                    "WHERE stream = 'relationship' ORDER BY contact_id, submitted_at DESC, id DESC"
                )
        else:
            latest: dict[int, tuple] = {}
            rows = Response.objects.filter(stream=Stream.RELATIONSHIP).values_list(
                "contact_id", "submitted_at", "id", "account_id"
            )
            for row in rows.iterator():
                if row[0] not in latest or row[1:3] > latest[row[0]][1:3]:
                    latest[row[0]] = row
            LatestAnswer.objects.bulk_create(
                [
                    LatestAnswer(contact_id=c, submitted_at=t, response_id=r, account_id=a)
                    for c, t, r, a in latest.values()
                ],
                batch_size=2000,
            )
    return LatestAnswer.objects.count()


def _route(response: Response) -> None:
    for consumer in consumers():
        consumer(response=response, previous_category=response.routed_category)
