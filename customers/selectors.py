"""Reads for customers, always narrowed to what the user may see."""

from __future__ import annotations

from django.db.models import Count, Q, QuerySet

from accounts import scoping

from .models import Account, Contact


def accounts_visible_to(user) -> QuerySet[Account]:
    """The accounts the user may see, without the test-sends account (staff as contacts)."""
    return scoping.accounts(user).filter(is_test=False)


def contacts_visible_to(user) -> QuerySet[Contact]:
    return scoping.contacts(user).filter(account__is_test=False)


def account_list(user, *, q: str = "", filters: dict[str, str] | None = None) -> QuerySet[Account]:
    qs = accounts_visible_to(user).select_related("csm", "team").annotate(contact_count=Count("contacts"))
    if q:
        qs = qs.filter(Q(name__icontains=q) | Q(external_id__icontains=q))
    for name, value in (filters or {}).items():
        if value:
            qs = qs.filter(**{name: value})
    return qs.order_by("name")


def contact_list(user, *, q: str = "", account_id: int | None = None) -> QuerySet[Contact]:
    qs = contacts_visible_to(user).select_related("account")
    if q:
        qs = qs.filter(Q(name__icontains=q) | Q(email__icontains=q) | Q(account__name__icontains=q))
    if account_id:
        qs = qs.filter(account_id=account_id)
    return qs.order_by("account__name", "name", "email")
