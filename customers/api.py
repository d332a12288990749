"""Data-protection requests through the API: export or erase one contact, found by email or id.

GET  /api/v1/contacts/export/?email=…   everything held about the contact (JSON)
POST /api/v1/contacts/erase/  {"email": …} or {"id": …}   erase their personal data
Admin tokens only; both are recorded in the audit trail.
"""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import NotFound
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import scoping
from accounts.permissions import ADMIN_ONLY, StaffApiMixin

from . import dataprotection


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
