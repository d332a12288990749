"""Data-protection requests through the API: export or erase one contact, found by email or id.

GET  /api/v1/contacts/export/?email=…   everything held about the contact (JSON)
POST /api/v1/contacts/erase/  {"email": …} or {"id": …}   erase their personal data
Admin tokens only; both are recorded in the audit trail.
"""

from rest_framework import serializers, status
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


def _contact(user, data):
    lookup = {"pk": data["id"]} if data.get("id") else {"email__iexact": data["email"]}
    return scoping.contacts(user).select_related("account").filter(**lookup).first()


def _not_found():
    return Response({"detail": "No such contact."}, status=status.HTTP_404_NOT_FOUND)


class ContactExport(StaffApiMixin, APIView):
    allowed_roles = ADMIN_ONLY

    def get(self, request):
        ref = ContactRef(data=request.query_params)
        ref.is_valid(raise_exception=True)
        contact = _contact(request.user, ref.validated_data)
        if contact is None:
            return _not_found()
        return Response(dataprotection.contact_export(contact, actor=request.user))


class ContactErase(StaffApiMixin, APIView):
    allowed_roles = ADMIN_ONLY

    def post(self, request):
        ref = ContactRef(data=request.data)
        ref.is_valid(raise_exception=True)
        contact = _contact(request.user, ref.validated_data)
        if contact is None:
            return _not_found()
        contact = dataprotection.contact_erase(contact, actor=request.user)
        return Response({"id": contact.pk, "erased_at": contact.erased_at.isoformat()})
