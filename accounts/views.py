from django.contrib import messages
from django.db.models import Count
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from customers.selectors import accounts_visible_to, contacts_visible_to

from .forms import ApiTokenForm, TeamForm, UserForm
from .models import ApiToken, Team, User
from .permissions import ADMIN_ONLY, ALL_STAFF, roles
from .services import api_token_create, api_token_revoke


@roles(*ALL_STAFF)
def home(request):
    context = {
        "account_count": accounts_visible_to(request.user).count(),
        "contact_count": contacts_visible_to(request.user).count(),
    }
    return render(request, "accounts/home.html", context)


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
        saved = form.save()
        messages.success(request, f"Saved {saved}.")
        return redirect("accounts:user_list")
    return render(request, "accounts/user_form.html", {"form": form, "object": user})


@roles(*ADMIN_ONLY)
def team_edit(request, pk: int | None = None):
    team = get_object_or_404(Team, pk=pk) if pk else None
    form = TeamForm(request.POST or None, instance=team)
    if request.method == "POST" and form.is_valid():
        saved = form.save()
        messages.success(request, f"Saved team {saved}.")
        return redirect("accounts:user_list")
    return render(request, "accounts/team_form.html", {"form": form, "object": team})


@roles(*ADMIN_ONLY)
def token_list(request):
    form = ApiTokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        token, key = api_token_create(
            user=form.cleaned_data["user"], name=form.cleaned_data["name"], created_by=request.user
        )
        # Shown once, on this response only; never stored, never put in a message or the session.
        return render(request, "accounts/token_created.html", {"token": token, "key": key})
    tokens = ApiToken.objects.select_related("user", "created_by")
    return render(request, "accounts/token_list.html", {"form": form, "tokens": tokens})


@roles(*ADMIN_ONLY)
@require_POST
def token_revoke(request, pk: int):
    token = get_object_or_404(ApiToken, pk=pk)
    api_token_revoke(token=token)
    messages.success(request, f"Revoked {token}.")
    return redirect("accounts:token_list")
