"""Two-factor sign-in with an authenticator app (TOTP, django-otp), and login helpers.

A staff member who has set up an authenticator is asked for a code after their password, on
every new sign-in; until they give it, every staff page sends them to that question. When an
Admin requires two-factor for all staff, anyone without an authenticator is sent to set one up
first. Customer pages, the API (token auth) and the ESP webhooks are not affected.
"""

from __future__ import annotations

import base64

import segno
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import urlencode
from django_otp import devices_for_user, user_has_device
from django_otp.plugins.otp_totp.models import TOTPDevice

from .models import SecuritySettings

# Pages a signed-in but not yet verified user may open.
OPEN_BEFORE_VERIFIED = {"two_factor_verify", "two_factor_setup", "logout"}


def login_username(request, credentials) -> str:
    """The name django-axes counts failures under: the email as typed, lower-cased."""
    value = (credentials or {}).get("username") or getattr(request, "POST", {}).get("username") or ""
    return str(value).strip().lower()


class TwoFactorMiddleware:
    """Send signed-in staff who owe a second factor to the code (or setup) page."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated or getattr(view_func, "login_required", True) is False:
            return None
        match = request.resolver_match
        if match is not None and match.url_name in OPEN_BEFORE_VERIFIED:
            return None
        if user.is_verified():
            return None
        if user_has_device(user, confirmed=True):
            target = "two_factor_verify"
        elif SecuritySettings.current().require_two_factor:
            target = "two_factor_setup"
        else:
            return None
        return redirect(f"{reverse(target)}?{urlencode({'next': request.get_full_path()})}")


def pending_device(user) -> TOTPDevice:
    """The unconfirmed authenticator being set up (a new secret each time setup starts over)."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).first()
    return device or TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=False)


def qr_svg(device: TOTPDevice) -> str:
    """The otpauth:// URI as an inline SVG QR code (no script, no external image)."""
    return segno.make(device.config_url, error="m").svg_inline(scale=5, dark="#1f2328", light="#ffffff")


def secret_text(device: TOTPDevice) -> str:
    """The secret in the base32 form authenticator apps accept when typed, in groups of four."""
    raw = base64.b32encode(device.bin_key).decode().rstrip("=")
    return " ".join(raw[i : i + 4] for i in range(0, len(raw), 4))


def verify(user, token: str, *, confirmed: bool = True) -> TOTPDevice | None:
    """The device the token is valid for, or None. django-otp throttles repeated failures."""
    token = "".join(token.split())
    if not (token.isascii() and token.isdigit() and len(token) == 6):
        return None
    for device in devices_for_user(user, confirmed=confirmed):
        if device.verify_is_allowed()[0] and device.verify_token(token):
            return device
    return None
