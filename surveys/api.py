"""POST /api/v1/events/: transactional surveys triggered by other systems."""

from datetime import timedelta

from django.utils import timezone
from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import ADMIN_ONLY, StaffApiMixin

from .models import SkipReason
from .services import event_record


class ContactIn(serializers.Serializer):
    email = serializers.EmailField(max_length=254)
    name = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")


class AccountIn(serializers.Serializer):
    external_id = serializers.CharField(max_length=100)
    name = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")


class EventIn(serializers.Serializer):
    type = serializers.RegexField(r"^[A-Za-z0-9_.\-]{1,64}$", error_messages={"invalid": "Use letters, digits, _ . -"})
    contact = ContactIn()
    account = AccountIn()
    occurred_at = serializers.DateTimeField()
    properties = serializers.DictField(required=False, default=dict)
    idempotency_key = serializers.CharField(max_length=200, required=False, allow_null=True, allow_blank=True)
    delay_minutes = serializers.IntegerField(required=False, min_value=0, max_value=60 * 24 * 30)

    def validate_occurred_at(self, value):
        if value > timezone.now() + timedelta(hours=1):
            raise serializers.ValidationError("occurred_at is in the future.")
        return value

    def validate_properties(self, value):
        if len(str(value)) > 10_000:
            raise serializers.ValidationError("properties is larger than 10,000 characters.")
        _check_json(value, depth=0)
        return value


MAX_DEPTH = 10


def _check_json(value, depth: int) -> None:
    """Properties are stored as JSON in the database: no NUL characters, at most 10 levels deep."""
    if depth > MAX_DEPTH:
        raise serializers.ValidationError(f"properties is nested more than {MAX_DEPTH} levels deep.")
    if isinstance(value, str) and "\x00" in value:
        raise serializers.ValidationError("properties contains a NUL character.")
    if isinstance(value, dict):
        for key, item in value.items():
            _check_json(str(key), depth)
            _check_json(item, depth + 1)
    elif isinstance(value, list):
        for item in value:
            _check_json(item, depth + 1)


class EventScheduled(serializers.Serializer):
    status = serializers.ChoiceField(choices=["scheduled"])
    invitation = serializers.IntegerField()
    send_at = serializers.DateTimeField()


class EventSkipped(serializers.Serializer):
    status = serializers.ChoiceField(choices=["skipped"])
    reason = serializers.ChoiceField(choices=SkipReason.choices)
    detail = serializers.CharField()


class EventView(StaffApiMixin, APIView):
    """Something happened to a customer (a ticket resolved, onboarding done): survey them after the
    program's delay, unless a rule says not to (quiet period, cap, unsubscribed …). Admin tokens."""

    allowed_roles = ADMIN_ONLY

    @extend_schema(
        request=EventIn,
        responses={202: EventScheduled, 200: EventSkipped},
        examples=[
            OpenApiExample(
                "Ticket resolved",
                request_only=True,
                value={
                    "type": "ticket_resolved",
                    "contact": {"email": "pat@customer.example", "name": "Pat"},
                    "account": {"external_id": "CRM-42", "name": "Customer Inc"},
                    "occurred_at": "2026-11-23T09:00:00Z",
                    "idempotency_key": "zendesk-18231",
                },  # fmt: skip
            )
        ],
    )
    def post(self, request):
        payload = EventIn(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        outcome = event_record(
            type=data["type"],
            contact_email=data["contact"]["email"],
            contact_name=data["contact"]["name"],
            account_external_id=data["account"]["external_id"],
            account_name=data["account"]["name"],
            occurred_at=data["occurred_at"],
            properties=data["properties"],
            idempotency_key=data.get("idempotency_key") or None,
            delay_minutes=data.get("delay_minutes"),
        )
        if outcome.status == "skipped":
            return Response(
                {"status": "skipped", "reason": outcome.reason, "detail": SkipReason(outcome.reason).label},
                status=status.HTTP_200_OK,
            )
        invitation = outcome.invitation
        return Response(
            {"status": "scheduled", "invitation": invitation.pk, "send_at": invitation.send_at.isoformat()},
            status=status.HTTP_202_ACCEPTED,
        )
