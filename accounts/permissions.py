"""Every role check in Rebound lives here.

Each staff view declares the roles that may open it with ``@roles(...)`` (or ``allowed_roles``
on a class-based view); ``RoleMiddleware`` enforces it for every request. A view that declares
nothing is refused (fail closed), and a test walks the URL conf so that no page is forgotten.
Which rows a user sees is decided in one place, ``accounts.scoping``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest
from rest_framework.permissions import SAFE_METHODS, BasePermission

from .models import Role

logger = logging.getLogger(__name__)

ADMIN_ONLY = (Role.ADMIN,)
MANAGERS = (Role.ADMIN, Role.MANAGER)
ALL_STAFF = (Role.ADMIN, Role.MANAGER, Role.CSM)

V = TypeVar("V", bound=Callable[..., Any])
Q = TypeVar("Q", bound=QuerySet)


def roles(*allowed: str) -> Callable[[V], V]:
    """Declare which roles may open a view (function view, or the result of ``as_view()``)."""

    def decorate(view: V) -> V:
        view.allowed_roles = tuple(allowed)  # type: ignore[attr-defined]
        return view

    return decorate


def public(view: V) -> V:
    """A page for customers or anonymous visitors: no login, no role."""
    return login_not_required(view)


def view_roles(view_func: Callable) -> tuple[str, ...] | None:
    allowed = getattr(view_func, "allowed_roles", None)
    if allowed is None:
        allowed = getattr(getattr(view_func, "view_class", None), "allowed_roles", None)
    if allowed is None:
        allowed = getattr(getattr(view_func, "cls", None), "allowed_roles", None)  # DRF
    return allowed


def has_role(user: Any, allowed: Iterable[str]) -> bool:
    if not (user and user.is_authenticated and user.is_active):
        return False
    return user.is_superuser or user.role in allowed


class RoleMiddleware:
    """Refuse a staff view to a user whose role the view did not declare."""

    def __init__(self, get_response: Callable) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest):
        return self.get_response(request)

    def process_view(self, request: HttpRequest, view_func: Callable, view_args, view_kwargs):
        if getattr(view_func, "login_required", True) is False:
            return None  # public pages, and the API, which checks roles through HasRole
        match = request.resolver_match
        if match is not None and match.app_name == "admin":
            return None  # Django admin checks is_staff itself, which only Admins have
        allowed = view_roles(view_func)
        if allowed is None:
            logger.error("View %s declares no roles; refusing.", getattr(view_func, "__name__", view_func))
            raise PermissionDenied("This page has no role policy.")
        if not has_role(request.user, allowed):
            raise PermissionDenied("Your role does not give access to this page.")
        return None


class HasRole(BasePermission):
    """DRF permission: the API view's ``allowed_roles`` must include the token owner's role, and a
    read-only token may only read."""

    message = "Your role does not give access to this endpoint."

    def has_permission(self, request, view) -> bool:
        allowed = getattr(view, "allowed_roles", None)
        if request.method not in SAFE_METHODS:
            allowed = getattr(view, "write_roles", allowed)  # e.g. everyone reads accounts, Admins change them
        if allowed is None or not has_role(request.user, allowed):
            return False
        token = request.auth
        if request.method not in SAFE_METHODS and getattr(token, "scope", "write") == "read":
            self.message = "This token is read-only; create a read-and-write token to change data."
            return False
        return True


class StaffApiMixin:
    """Base for API views: DRF authenticates (token or session) and HasRole checks ``allowed_roles``.

    The login middleware is told to stand aside (``login_not_required``) because an API client
    sends a token, not a session; the API answers 401/403 itself, never a login redirect.
    """

    allowed_roles: tuple[str, ...] = ()

    @classmethod
    def as_view(cls, **initkwargs):
        return login_not_required(super().as_view(**initkwargs))  # type: ignore[misc]
