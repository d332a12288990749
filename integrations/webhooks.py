"""Signed outgoing webhooks, delivered from a durable table like the outbox's emails.

Emitting (inside the change's transaction, through config.events.publish) stores one Delivery per
active subscription that wants the event type. A sender claims due rows with a lease, POSTs the JSON
with `Rebound-Signature: t=<unix>,v1=<hex HMAC-SHA256 of "t.body">`, and records the answer. A non-2xx
answer or no answer retries with backoff (1, 2, 4 … 64 minutes, 8 attempts in all); after DISABLE_AFTER
failed attempts in a row the subscription is turned off and the Admins are emailed. A redelivery (the
page's button) is the same event id again, so receivers can deduplicate on `Rebound-Delivery`.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import logging
import socket
import time
from datetime import datetime, timedelta
from urllib.parse import urlsplit

import requests
from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from .chat import BODIES
from .models import Delivery, DeliveryStatus, EventType, Format, Subscription
from .payloads import BUILDERS

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
DISABLE_AFTER = 20  # failed attempts in a row, across deliveries
LEASE = timedelta(minutes=2)
TIMEOUT = (3.05, 10)  # connect, read (seconds)
CLAIM_SIZE = 10


# Signing ------------------------------------------------------------------------------------------


def body_of(payload: dict) -> bytes:
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()


def signature(secret: str, body: bytes, timestamp: int) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


def verify(secret: str, body: bytes, header: str, *, tolerance: int = 300, now: float | None = None) -> bool:
    """What a receiver does (README, "Webhooks"): recompute the MAC, compare in constant time, refuse old ones."""
    try:
        parts = dict(item.split("=", 1) for item in header.split(","))
        timestamp = int(parts["t"])
    except (ValueError, KeyError):
        return False
    if abs((now or time.time()) - timestamp) > tolerance:
        return False
    expected = signature(secret, body, timestamp).split("v1=", 1)[1]
    return hmac.compare_digest(expected, parts.get("v1", ""))


# Where a webhook may go ---------------------------------------------------------------------------


class UnsafeURL(ValueError):
    pass


def check_url(url: str) -> None:
    """HTTPS to a public address. WEBHOOK_ALLOW_PRIVATE (tests, an intranet receiver) also allows http
    and private, loopback and link-local addresses; otherwise a webhook could probe the internal network."""
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise UnsafeURL("Use an https:// URL.")
    if settings.WEBHOOK_ALLOW_PRIVATE:
        return
    if parts.scheme != "https":
        raise UnsafeURL("Use an https:// URL.")
    try:
        infos = socket.getaddrinfo(parts.hostname, parts.port or 443, proto=socket.IPPROTO_TCP)
    except OSError:
        raise UnsafeURL(f"{parts.hostname} does not resolve.") from None
    for info in infos:
        address = ipaddress.ip_address(info[4][0])
        if not address.is_global:
            raise UnsafeURL(f"{parts.hostname} is a private or local address ({address}).")


# Emitting -----------------------------------------------------------------------------------------


def event_emit(event_type: str, *objs, version: str = "") -> int:
    """The events sink (settings.EVENT_SINKS): for each object, a delivery row per subscription that
    wants it. The subscriptions are read once per call, and the rows written in one INSERT."""
    # Active ones, and those turned off for failing (events wait for the receiver to be fixed);
    # not those an Admin turned off.
    wanted = [
        s for s in Subscription.objects.filter(Q(is_active=True) | ~Q(disabled_reason="")) if event_type in s.events
    ]
    if not wanted:
        return 0
    build = BUILDERS[event_type.split(".", 1)[0]]
    rows = []
    for obj in objs:
        subscriptions = [s for s in wanted if _concerns(s, event_type, obj)]
        if not subscriptions:
            continue
        event_id = f"evt_{event_type}_{obj.pk}" + (f"_{version}" if version else "")
        payload = {"id": event_id, "type": event_type, "created_at": timezone.now().isoformat(), "data": build(obj)}
        rows += [
            Delivery(subscription=s, event_id=event_id, event_type=event_type, payload=payload) for s in subscriptions
        ]
    if not rows:
        return 0
    created = Delivery.objects.bulk_create(rows, ignore_conflicts=True)
    transaction.on_commit(wake)
    return len(created)


def _concerns(subscription: Subscription, event_type: str, obj) -> bool:
    """A team's subscription hears of its team's tasks and alerts only; a chat channel of new
    Detractors only (a recovery task), not of every check-in and referral."""
    if subscription.format != Format.JSON and event_type == EventType.TASK_CREATED and obj.queue != "recovery":
        return False
    if subscription.team_id is None:
        return True
    team_id = obj.team_id if hasattr(obj, "team_id") else getattr(getattr(obj, "account", None), "team_id", None)
    return team_id == subscription.team_id


def response_consumer(*, response, previous_category: str) -> None:
    """A RESPONSE_CONSUMERS entry: response.created on the first routing, response.updated on an edit."""
    if response.is_test:
        return
    if response.routed_category:
        event_emit(EventType.RESPONSE_UPDATED, response, version=str(int(response.updated_at.timestamp() * 1000)))
    else:
        event_emit(EventType.RESPONSE_CREATED, response)


def wake() -> None:
    """Ask a worker to deliver now; if the broker is down the tick delivers within a minute."""
    from .tasks import deliver_due

    try:
        deliver_due.delay()
    except Exception:  # noqa: BLE001 - the tick is the fallback
        logger.warning("Could not wake a webhook sender; the tick will deliver.", exc_info=True)


# Delivering ---------------------------------------------------------------------------------------


def _claim(now: datetime) -> list[Delivery]:
    with transaction.atomic():
        due = Delivery.objects.filter(
            status=DeliveryStatus.PENDING, next_attempt_at__lte=now, subscription__is_active=True
        ).order_by("next_attempt_at", "pk")
        ids = list(due.select_for_update(skip_locked=True, of=("self",)).values_list("pk", flat=True)[:CLAIM_SIZE])
        Delivery.objects.filter(pk__in=ids).update(status=DeliveryStatus.SENDING, lease_until=now + LEASE)
    return list(Delivery.objects.filter(pk__in=ids).select_related("subscription").order_by("next_attempt_at", "pk"))


def recover(now: datetime) -> int:
    """Rows a killed sender held go back to pending when their lease ends."""
    return Delivery.objects.filter(status=DeliveryStatus.SENDING, lease_until__lt=now).update(
        status=DeliveryStatus.PENDING
    )


def attempt(delivery: Delivery) -> Delivery:
    """One POST of one delivery; records the outcome and schedules a retry or gives up."""
    subscription = delivery.subscription
    formatted = BODIES[subscription.format](delivery.payload) if subscription.format in BODIES else delivery.payload
    body = body_of(formatted)
    code, excerpt, error = None, "", ""
    try:
        check_url(subscription.url)
        answer = requests.post(
            subscription.url,
            data=body,
            timeout=TIMEOUT,
            allow_redirects=False,
            headers={
                "Content-Type": "application/json",
                "User-Agent": "Rebound-Webhooks/1",
                "Rebound-Event": delivery.event_type,
                "Rebound-Delivery": delivery.event_id,
                "Rebound-Signature": signature(subscription.secret, body, int(time.time())),
            },
        )
        code, excerpt = answer.status_code, answer.text[:500]
    except UnsafeURL as exc:
        error = str(exc)
    except requests.RequestException as exc:
        error = f"{type(exc).__name__}: {exc}"[:500]
    now = timezone.now()
    delivery.attempts += 1
    delivery.last_status_code, delivery.last_response, delivery.last_error = code, excerpt, error
    delivery.lease_until = None
    if code is not None and 200 <= code < 300:
        delivery.status, delivery.delivered_at = DeliveryStatus.SUCCEEDED, now
        Subscription.objects.filter(pk=subscription.pk).update(consecutive_failures=0)
    else:
        if delivery.attempts >= MAX_ATTEMPTS:
            delivery.status = DeliveryStatus.FAILED
        else:
            delivery.status = DeliveryStatus.PENDING
            delivery.next_attempt_at = now + timedelta(minutes=2 ** (delivery.attempts - 1))
        _count_failure(subscription, code, error)
    delivery.save(
        update_fields=["attempts", "last_status_code", "last_response", "last_error", "lease_until", "status",
                       "delivered_at", "next_attempt_at"]
    )  # fmt: skip
    return delivery


def _count_failure(subscription: Subscription, code: int | None, error: str) -> None:
    from django.db.models import F

    Subscription.objects.filter(pk=subscription.pk).update(consecutive_failures=F("consecutive_failures") + 1)
    subscription.refresh_from_db(fields=["consecutive_failures", "is_active"])
    if subscription.is_active and subscription.consecutive_failures >= DISABLE_AFTER:
        reason = f"Turned off after {DISABLE_AFTER} failed attempts in a row (last: {code or error})."
        if Subscription.objects.filter(pk=subscription.pk, is_active=True).update(
            is_active=False, disabled_reason=reason[:300]
        ):
            _tell_admins(subscription, reason)


def _tell_admins(subscription: Subscription, reason: str) -> None:
    from django.urls import reverse

    from accounts.models import Role, User
    from outbox.services import email_from_templates, emails_queue_and_send

    url = settings.SITE_URL + reverse("integrations:webhook_detail", args=[subscription.pk])
    emails_queue_and_send([
        email_from_templates(
            "webhook_disabled", key=f"webhook_disabled:{subscription.pk}:{int(time.time())}", to=admin.email,
            context={"subscription": subscription, "reason": reason, "url": url}, zone=admin.zone,
        )
        for admin in User.objects.filter(role=Role.ADMIN, is_active=True).select_related("team")
    ])  # fmt: skip


def deliver_due(*, seconds: float = 50, now: datetime | None = None) -> dict[str, int]:
    """Deliver what is due for a while. Safe to run any number of times at once (leases)."""
    started = time.monotonic()
    recover(now or timezone.now())
    counts = {"delivered": 0, "retrying": 0, "failed": 0}
    while time.monotonic() - started < seconds:
        batch = _claim(now or timezone.now())
        if not batch:
            break
        for delivery in batch:
            status = attempt(delivery).status
            key = {"succeeded": "delivered", "pending": "retrying"}.get(status, "failed")
            counts[key] += 1
    return counts


def redeliver(delivery: Delivery) -> None:
    """The page's button: the same event again, now, with its attempts counted afresh."""
    Delivery.objects.filter(pk=delivery.pk).update(
        status=DeliveryStatus.PENDING, next_attempt_at=timezone.now(), attempts=0, lease_until=None
    )
    transaction.on_commit(wake)


def ping(subscription: Subscription) -> Delivery:
    """A test event for one subscription (the page's "Send a test event")."""
    now = timezone.now()
    event_id = f"evt_ping_{subscription.pk}_{int(now.timestamp() * 1000)}"
    payload = {"id": event_id, "type": "ping", "created_at": now.isoformat(), "data": {"subscription": subscription.pk}}
    delivery = Delivery.objects.create(subscription=subscription, event_id=event_id, event_type="ping", payload=payload)
    transaction.on_commit(wake)
    return delivery
