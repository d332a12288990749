from axes.models import AccessAttempt
from axes.utils import reset as axes_reset
from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Count
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice

from config.inputs import safe_next

from . import audit, twofactor
from .forms import (
    ApiTokenForm,
    AuditFilterForm,
    ProfileForm,
    SecuritySettingsForm,
    TeamForm,
    TwoFactorCodeForm,
    UserForm,
)
from .models import ApiToken, AuditEntry, SecuritySettings, Team, User
from .permissions import ADMIN_ONLY, ALL_STAFF, roles
from .services import api_token_create, api_token_revoke

USER_FIELDS = ["email", "name", "role", "team", "timezone", "is_active"]


@roles(*ADMIN_ONLY)
def user_list(request):
    users = User.objects.select_related("team").order_by("role", "name", "email")
    teams = Team.objects.annotate(member_count=Count("members"))
    return render(request, "accounts/user_list.html", {"users": users, "teams": teams})


@roles(*ADMIN_ONLY)
def user_edit(request, pk: int | None = None):
    user = get_object_or_404(User, pk=pk) if pk else None
    form = UserForm(request.POST or None, instance=user)
    if request.method == "POST" and form.is_valid():
        action = "user.update" if user else "user.create"
        with transaction.atomic(), audit.change(request.user, action, user, fields=USER_FIELDS) as box:
            box["obj"] = saved = form.save()
        if form.cleaned_data.get("password"):
            audit.record(request.user, "user.password_set", saved)
        messages.success(request, f"Saved {saved}.")
        return redirect("accounts:user_list")
    context = {"form": form, "object": user}
    if user:
        context["has_two_factor"] = TOTPDevice.objects.filter(user=user, confirmed=True).exists()
    return render(request, "accounts/user_form.html", context)


@roles(*ADMIN_ONLY)
def team_edit(request, pk: int | None = None):
    team = get_object_or_404(Team, pk=pk) if pk else None
    form = TeamForm(request.POST or None, instance=team)
    if request.method == "POST" and form.is_valid():
        with transaction.atomic(), audit.change(request.user, "team.update" if team else "team.create", team) as box:
            box["obj"] = saved = form.save()
        messages.success(request, f"Saved team {saved}.")
        return redirect("accounts:user_list")
    return render(request, "accounts/team_form.html", {"form": form, "object": team})


@roles(*ADMIN_ONLY)
def token_list(request):
    form = ApiTokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        token, key = api_token_create(
            user=form.cleaned_data["user"],
            name=form.cleaned_data["name"],
            scope=form.cleaned_data["scope"],
            created_by=request.user,
        )
        audit.record(request.user, "api_token.create", token, after=audit.snapshot(token))
        # Shown once, on this response only; never stored, never put in a message or the session.
        return render(request, "accounts/token_created.html", {"token": token, "key": key})
    tokens = ApiToken.objects.select_related("user", "created_by")
    return render(request, "accounts/token_list.html", {"form": form, "tokens": tokens})


@roles(*ADMIN_ONLY)
@require_POST
def token_revoke(request, pk: int):
    token = get_object_or_404(ApiToken, pk=pk)
    with audit.change(request.user, "api_token.revoke", token, fields=["revoked_at"]):
        api_token_revoke(token=token)
    messages.success(request, f"Revoked {token}.")
    return redirect("accounts:token_list")


# Two-factor sign-in ------------------------------------------------------------------------------


@roles(*ALL_STAFF)
def two_factor_verify(request):
    """After the password: the six-digit code from the authenticator app."""
    if request.user.is_verified() or not TOTPDevice.objects.filter(user=request.user, confirmed=True).exists():
        return redirect(safe_next(request, "home"))
    form = TwoFactorCodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        device = twofactor.verify(request.user, form.cleaned_data["code"])
        if device:
            otp_login(request, device)
            return redirect(safe_next(request, "home"))
        audit.record(request.user, "two_factor.failed", request.user)
        form.add_error("code", "That code isn't right, or it has expired. Codes change every 30 seconds.")
    return render(request, "registration/two_factor_verify.html", {"form": form, "next": request.GET.get("next", "")})


@roles(*ALL_STAFF)
def two_factor_setup(request):
    """Set up (or see, or turn off) the authenticator app for one's own sign-in."""
    user = request.user
    confirmed = TOTPDevice.objects.filter(user=user, confirmed=True).exists()
    required = SecuritySettings.current().require_two_factor
    if confirmed:
        return render(request, "accounts/two_factor.html", {"confirmed": True, "required": required})
    device = twofactor.pending_device(user)
    form = TwoFactorCodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if twofactor.verify(user, form.cleaned_data["code"], confirmed=False) == device:
            with transaction.atomic():
                device.confirmed = True
                device.save(update_fields=["confirmed"])
                TOTPDevice.objects.filter(user=user, confirmed=False).delete()
                audit.record(user, "two_factor.enable", user)
            otp_login(request, device)
            messages.success(request, "Two-factor sign-in is on. You'll be asked for a code at each new sign-in.")
            return redirect(safe_next(request, "home"))
        form.add_error("code", "That code doesn't match. Check the app shows “Rebound” and try the current code.")
    context = {
        "form": form, "required": required, "qr": twofactor.qr_svg(device), "secret": twofactor.secret_text(device),
        "next": request.GET.get("next", ""),
    }  # fmt: skip
    return render(request, "accounts/two_factor.html", context)


@roles(*ALL_STAFF)
@require_POST
def two_factor_disable(request):
    if SecuritySettings.current().require_two_factor:
        messages.error(request, "Two-factor sign-in is required for all staff here; it can't be turned off.")
    else:
        TOTPDevice.objects.filter(user=request.user).delete()
        audit.record(request.user, "two_factor.disable", request.user)
        messages.success(request, "Two-factor sign-in is off.")
    return redirect("two_factor_setup")


# Security settings, lockouts and the audit trail (Admins) ------------------------------------


@roles(*ADMIN_ONLY)
def security(request):
    current = SecuritySettings.current()
    form = SecuritySettingsForm(request.POST or None, instance=current)
    if request.method == "POST" and form.is_valid():
        with audit.change(request.user, "security.update", current, fields=["require_two_factor"]):
            form.save()
        messages.success(request, "Security settings saved.")
        return redirect("accounts:security")
    lockouts = AccessAttempt.objects.filter(failures_since_start__gte=settings.AXES_FAILURE_LIMIT).order_by(
        "-attempt_time"
    )
    without_2fa = User.objects.filter(is_active=True).exclude(totpdevice__confirmed=True).order_by("email")
    context = {
        "form": form, "lockouts": lockouts, "without_2fa": without_2fa, "limit": settings.AXES_FAILURE_LIMIT,
        "cooloff_minutes": int(settings.AXES_COOLOFF_TIME.total_seconds() // 60),
    }  # fmt: skip
    return render(request, "accounts/security.html", context)


@roles(*ADMIN_ONLY)
@require_POST
def lockout_reset(request):
    username, ip = request.POST.get("username", "").strip(), request.POST.get("ip", "").strip()
    if username:
        axes_reset(username=username)
        audit.record(request.user, "login.unlock", label=f"account {username}")
        messages.success(request, f"{username} can sign in again.")
    elif ip:
        axes_reset(ip=ip)
        audit.record(request.user, "login.unlock", label=f"IP address {ip}")
        messages.success(request, f"Sign-ins from {ip} are allowed again.")
    return redirect("accounts:security")


@roles(*ADMIN_ONLY)
@require_POST
def user_two_factor_reset(request, pk: int):
    """For someone who lost their phone: they set up a new authenticator at their next sign-in."""
    user = get_object_or_404(User, pk=pk)
    deleted, _ = TOTPDevice.objects.filter(user=user).delete()
    if deleted:
        audit.record(request.user, "two_factor.reset", user)
        messages.success(request, f"Two-factor sign-in reset for {user}.")
    return redirect("accounts:user_edit", pk=user.pk)


@roles(*ADMIN_ONLY)
def audit_list(request):
    form = AuditFilterForm(request.GET or None)
    entries = AuditEntry.objects.select_related("actor")
    if form.is_valid():
        data = form.cleaned_data
        if data.get("actor"):
            entries = entries.filter(actor=data["actor"])
        if data.get("action"):
            entries = entries.filter(action__startswith=data["action"])
        if data.get("target"):
            entries = entries.filter(target_label__icontains=data["target"])
        if data.get("since"):
            entries = entries.filter(at__date__gte=data["since"])
        if data.get("until"):
            entries = entries.filter(at__date__lte=data["until"])
    page = Paginator(entries, 50).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "form": form, "page": page, "query": query.urlencode(), "retention_days": settings.AUDIT_RETENTION_DAYS,
    }  # fmt: skip
    return render(request, "accounts/audit_list.html", context)


@roles(*ALL_STAFF)
def my_settings(request):
    """Each staff member's own settings: name, time zone, daily digest; links to password and two-factor."""
    # A copy: a form being corrected must not change the user the rest of the page reads.
    form = ProfileForm(request.POST or None, instance=User.objects.select_related("team").get(pk=request.user.pk))
    if request.method == "POST" and form.is_valid():
        user = form.save()
        messages.success(request, f"Saved. Dates and times now show in {user.zone}.")
        return redirect("accounts:my_settings")
    return render(request, "accounts/my_settings.html", {"form": form})
