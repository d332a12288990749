"""Accounts and contacts through the API, and data-protection requests.

/api/v1/accounts/ and /contacts/: list (cursor pages, `updated_since`), retrieve, create, update, upsert
by natural key, bulk upsert, unsubscribe. Everyone reads what their role may see; Admins write.
GET  /api/v1/contacts/export/?email=…   everything held about the contact (JSON)
POST /api/v1/contacts/erase/  {"email": …} or {"id": …}   erase their personal data
Admin tokens only for the last two; all writes are recorded in the audit trail.
"""

from django.db import transaction
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import generics, serializers
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import audit, scoping
from accounts.models import Team, User
from accounts.permissions import ADMIN_ONLY, ALL_STAFF, StaffApiMixin

from . import dataprotection
from .models import Account, Contact
from .services import contacts_unsubscribe


class ContactRef(serializers.Serializer):
    email = serializers.EmailField(required=False, max_length=254)
    id = serializers.IntegerField(required=False, min_value=1, max_value=2**63 - 1)

    def validate(self, data):
        if not data.get("email") and not data.get("id"):
            raise serializers.ValidationError({"email": ["Give the contact's email or id."]})
        return data


def _contact(request, data):
    """The contact named by `data` (email or id) among those the token's user may see; 404 otherwise."""
    ref = ContactRef(data=data)
    ref.is_valid(raise_exception=True)
    found = ref.validated_data
    lookup = {"pk": found["id"]} if found.get("id") else {"email__iexact": found["email"]}
    contact = scoping.contacts(request.user).select_related("account").filter(**lookup).first()
    if contact is None:
        raise NotFound("No such contact.")
    return contact


class Erased(serializers.Serializer):
    id = serializers.IntegerField()
    erased_at = serializers.DateTimeField()


class ContactExport(StaffApiMixin, APIView):
    """Everything held about one contact (a data subject's access request). Admin tokens."""

    allowed_roles = ADMIN_ONLY

    @extend_schema(
        parameters=[
            OpenApiParameter("email", str, description="The contact's address (or give id)."),
            OpenApiParameter("id", int, description="The contact's id."),
        ],
        responses=OpenApiTypes.OBJECT,
    )
    def get(self, request):
        contact = _contact(request, request.query_params)
        return Response(dataprotection.contact_export(contact, actor=request.user))


class ContactErase(StaffApiMixin, APIView):
    """Erase a contact's personal data; scores and segment snapshots stay, so no figure moves. Admin tokens."""

    allowed_roles = ADMIN_ONLY

    @extend_schema(request=ContactRef, responses=Erased)
    def post(self, request):
        contact = dataprotection.contact_erase(_contact(request, request.data), actor=request.user)
        return Response({"id": contact.pk, "erased_at": contact.erased_at.isoformat()})


# Accounts and contacts: every staff member reads what they may see; Admins create and change them.
# Upserts take the natural keys (an account's external_id, a contact's email); bulk upserts take up to
# 1,000 items and answer per item (the valid ones are kept, each invalid one is named with its errors).

BULK_MAX = 1000


class UpdatedSince(serializers.Serializer):
    updated_since = serializers.DateTimeField(required=False, help_text="Only rows changed at or after this time.")


def _updated_since(request, queryset):
    params = UpdatedSince(data=request.query_params)
    params.is_valid(raise_exception=True)
    since = params.validated_data.get("updated_since")
    return queryset.filter(updated_at__gte=since) if since else queryset


UPDATED_SINCE = OpenApiParameter("updated_since", OpenApiTypes.DATETIME, description="Rows changed since (ISO 8601).")


class AccountSerializer(serializers.ModelSerializer):
    csm = serializers.SlugRelatedField(
        slug_field="email", queryset=User.objects.filter(is_active=True), allow_null=True, required=False
    )
    team = serializers.SlugRelatedField(slug_field="name", queryset=Team.objects.all(), allow_null=True, required=False)

    class Meta:
        model = Account
        fields = [
            "id", "external_id", "name", "segment", "plan_tier", "industry", "employee_count", "arr", "region",
            "product_line", "csm", "team", "customer_since", "renewal_date", "status", "properties", "created_at",
            "updated_at",
        ]  # fmt: skip
        read_only_fields = ["created_at", "updated_at"]


class ContactSerializer(serializers.ModelSerializer):
    account = serializers.SlugRelatedField(slug_field="external_id", queryset=Account.objects.filter(is_test=False))

    class Meta:
        model = Contact
        fields = [
            "id", "email", "name", "title", "account", "locale", "timezone", "decision_maker", "external_id",
            "properties", "unsubscribed_at", "bounced_at", "created_at", "updated_at",
        ]  # fmt: skip
        read_only_fields = ["unsubscribed_at", "bounced_at", "created_at", "updated_at"]

    def validate_email(self, value: str) -> str:
        value = value.strip().lower()
        clash = Contact.objects.filter(email__iexact=value)
        if self.instance is not None:
            clash = clash.exclude(pk=self.instance.pk)
        if clash.exists():
            raise serializers.ValidationError("A contact with this email exists; upsert it by email instead.")
        return value


class _Rows(StaffApiMixin):
    allowed_roles = ALL_STAFF
    write_roles = ADMIN_ONLY
    cursor_ordering = ("updated_at", "pk")


@extend_schema_view(get=extend_schema(parameters=[UPDATED_SINCE]))
class AccountList(_Rows, generics.ListCreateAPIView):
    serializer_class = AccountSerializer

    def get_queryset(self):
        return _updated_since(self.request, scoping.accounts(self.request.user).filter(is_test=False))

    def perform_create(self, serializer):
        account = serializer.save()
        audit.record(self.request.user, "account.create", account, after={"external_id": account.external_id})


class AccountDetail(_Rows, generics.RetrieveUpdateAPIView):
    serializer_class = AccountSerializer

    def get_queryset(self):
        return scoping.accounts(self.request.user).filter(is_test=False)


@extend_schema_view(get=extend_schema(parameters=[UPDATED_SINCE]))
class ContactList(_Rows, generics.ListCreateAPIView):
    serializer_class = ContactSerializer

    def get_queryset(self):
        contacts = scoping.contacts(self.request.user).filter(account__is_test=False).select_related("account")
        return _updated_since(self.request, contacts)


class ContactDetail(_Rows, generics.RetrieveUpdateAPIView):
    serializer_class = ContactSerializer

    def get_queryset(self):
        return scoping.contacts(self.request.user).filter(account__is_test=False).select_related("account")


def _account_by(external_id) -> Account | None:
    return Account.objects.filter(external_id=str(external_id or ""), is_test=False).first()


def _contact_by(email) -> Contact | None:
    email = str(email or "").strip()
    return Contact.objects.filter(email__iexact=email, account__is_test=False).first() if email else None


def _require_object(data) -> None:
    if not isinstance(data, dict):
        raise ValidationError({"non_field_errors": ["Send a JSON object."]})


def _upsert(serializer_class, instance, data, user) -> tuple[dict, int]:
    """(the saved row, or its errors; the HTTP status) for one item of an upsert."""
    serializer = serializer_class(instance, data=data, partial=instance is not None)
    if not serializer.is_valid():
        return serializer.errors, 400
    row = serializer.save()
    action = "update" if instance else "create"
    audit.record(user, f"{row._meta.model_name}.{action}", row, after={"via": "api upsert"})
    return serializer_class(row).data, 200 if instance else 201


class AccountUpsert(_Rows, APIView):
    """PUT /accounts/by-external-id/<external_id>/: create the account, or change the given fields."""

    allowed_roles = ADMIN_ONLY

    @extend_schema(request=AccountSerializer, responses={200: AccountSerializer, 201: AccountSerializer})
    def put(self, request, external_id: str):
        _require_object(request.data)
        body, code = _upsert(
            AccountSerializer, _account_by(external_id), {**request.data, "external_id": external_id}, request.user
        )
        return Response(body, status=code)


class ContactUpsert(_Rows, APIView):
    """PUT /contacts/by-email/<email>/: create the contact, or change the given fields."""

    allowed_roles = ADMIN_ONLY

    @extend_schema(request=ContactSerializer, responses={200: ContactSerializer, 201: ContactSerializer})
    def put(self, request, email: str):
        _require_object(request.data)
        body, code = _upsert(ContactSerializer, _contact_by(email), {**request.data, "email": email}, request.user)
        return Response(body, status=code)


class BulkResult(serializers.Serializer):
    index = serializers.IntegerField()
    status = serializers.ChoiceField(choices=["created", "updated", "error"])
    id = serializers.IntegerField(required=False)
    errors = serializers.DictField(required=False)


class BulkOut(serializers.Serializer):
    created = serializers.IntegerField()
    updated = serializers.IntegerField()
    errors = serializers.IntegerField()
    results = BulkResult(many=True)


def _bulk(request, serializer_class, find) -> Response:
    items = request.data
    if not isinstance(items, list) or not 1 <= len(items) <= BULK_MAX:
        return Response({"items": [f"Send a JSON list of 1 to {BULK_MAX} objects."]}, status=400)
    results, totals = [], {"created": 0, "updated": 0, "errors": 0}
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            results.append({"index": index, "status": "error", "errors": {"item": ["Not an object."]}})
            totals["errors"] += 1
            continue
        with transaction.atomic():
            body, code = _upsert(serializer_class, find(item), item, request.user)
        status_name = {201: "created", 200: "updated"}.get(code, "error")
        totals["errors" if status_name == "error" else status_name] += 1
        results.append(
            {"index": index, "status": status_name, **({"errors": body} if code == 400 else {"id": body["id"]})}
        )
    return Response({**totals, "results": results}, status=200)


class AccountBulk(_Rows, APIView):
    """POST /accounts/bulk/: upsert up to 1,000 accounts by external_id; one result per item."""

    @extend_schema(request=AccountSerializer(many=True), responses=BulkOut)
    def post(self, request):
        return _bulk(request, AccountSerializer, lambda item: _account_by(item.get("external_id")))


class ContactBulk(_Rows, APIView):
    """POST /contacts/bulk/: upsert up to 1,000 contacts by email; one result per item."""

    @extend_schema(request=ContactSerializer(many=True), responses=BulkOut)
    def post(self, request):
        return _bulk(request, ContactSerializer, lambda item: _contact_by(item.get("email")))


class ContactUnsubscribe(_Rows, APIView):
    """POST /contacts/<id>/unsubscribe/: no program mails them again (contact.unsubscribed webhook)."""

    @extend_schema(request=None, responses=ContactSerializer)
    def post(self, request, pk: int):
        contact = scoping.contacts(request.user).filter(pk=pk, account__is_test=False).first()
        if contact is None:
            raise NotFound("No such contact.")
        contacts_unsubscribe(Contact.objects.filter(pk=contact.pk))
        audit.record(request.user, "contact.unsubscribe", contact)
        contact.refresh_from_db()
        return Response(ContactSerializer(contact).data)
