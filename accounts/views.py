from django.contrib import messages
from django.db.models import Count
from django.shortcuts import get_object_or_404, redirect, render

from customers.selectors import accounts_visible_to, contacts_visible_to

from .forms import TeamForm, UserForm
from .models import Team, User
from .permissions import ADMIN_ONLY, ALL_STAFF, roles


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
