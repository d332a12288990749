from django.contrib import messages
from django.core.paginator import Paginator
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from accounts import audit, scoping
from accounts.permissions import ADMIN_ONLY, ALL_STAFF, roles

from . import dataprotection, selectors, services
from .forms import ImportForm
from .models import AccountStatus, ImportJob, Segment

ACCOUNT_FILTERS = ("segment", "plan_tier", "region", "industry", "status")


@roles(*ALL_STAFF)
def account_list(request):
    q = request.GET.get("q", "").strip()
    filters = {name: request.GET.get(name, "") for name in ACCOUNT_FILTERS}
    accounts = selectors.account_list(request.user, q=q, filters=filters)
    visible = selectors.accounts_visible_to(request.user)
    choices = {
        name: visible.exclude(**{name: ""}).order_by(name).values_list(name, flat=True).distinct()
        for name in ("plan_tier", "region", "industry")
    }
    page = Paginator(accounts, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "customers/account_list.html",
        {
            "page": page,
            "q": q,
            "filters": filters,
            "choices": choices,
            "segments": Segment.choices,
            "statuses": AccountStatus.choices,
        },
    )


@roles(*ALL_STAFF)
def account_detail(request, pk: int):
    account = get_object_or_404(selectors.accounts_visible_to(request.user).select_related("csm", "team"), pk=pk)
    # The loop around the account (a page that composes every app's reads, like Home).
    from insights.risk import current_scores
    from insights.selectors import account_360, latest_relationship_answers

    # Each contact's latest relationship answer (LatestAnswer: test sends never count).
    latest = {r.contact_id: r for r in latest_relationship_answers(request.user).filter(account=account)}
    contacts = list(account.contacts.order_by("name", "email"))
    for contact in contacts:
        answer = latest.get(contact.pk)
        contact.latest_score = answer.score if answer else None
        contact.latest_at = answer.submitted_at if answer else None
        contact.latest_reason = answer.reason if answer else ""
    risk = {s.contact_id: s for s in current_scores(request.user).filter(account=account)}
    for contact in contacts:
        contact.risk = risk.get(contact.pk)

    context = {
        "account": account, "contacts": contacts, "loop": account_360(request.user, account), "now": timezone.now()
    }  # fmt: skip
    return render(request, "customers/account_detail.html", context)


@roles(*ALL_STAFF)
def contact_list(request):
    q = request.GET.get("q", "").strip()
    page = Paginator(selectors.contact_list(request.user, q=q), 50).get_page(request.GET.get("page"))
    return render(request, "customers/contact_list.html", {"page": page, "q": q})


@roles(*ALL_STAFF)
def contact_detail(request, pk: int):
    contact = get_object_or_404(selectors.contacts_visible_to(request.user).select_related("account"), pk=pk)
    from insights.selectors import contact_360
    from surveys.models import Program, SkipReason
    from surveys.selectors import contact_skip_reason

    now = timezone.now()
    why_not = [
        (program, SkipReason(reason).label)
        for program in Program.objects.filter(is_active=True).order_by("name")
        if (reason := contact_skip_reason(program, contact, now))
    ]
    context = {"contact": contact, "loop": contact_360(request.user, contact), "why_not": why_not}
    return render(request, "customers/contact_detail.html", context)


@roles(*ALL_STAFF)
@require_POST
def contact_unsubscribe(request, pk: int):
    """Staff stop surveys to a contact (they asked by phone, left the company, …)."""
    contacts = selectors.contacts_visible_to(request.user).filter(pk=pk)
    contact = get_object_or_404(contacts)
    if services.contacts_unsubscribe(contacts):
        audit.record(request.user, "contact.unsubscribe", contact)
        messages.success(request, f"{contact} won't be surveyed any more.")
    return redirect("customers:contact_detail", pk=pk)


@roles(*ADMIN_ONLY)
def contact_export(request, pk: int):
    """Everything held about one contact, as a JSON download (a data subject access request)."""
    contact = get_object_or_404(scoping.contacts(request.user).select_related("account"), pk=pk)
    data = dataprotection.contact_export(contact, actor=request.user)
    response = JsonResponse(data, json_dumps_params={"indent": 2, "ensure_ascii": False})
    response["Content-Disposition"] = f'attachment; filename="contact-{contact.pk}.json"'
    return response


@roles(*ADMIN_ONLY)
def contact_erase(request, pk: int):
    """Erase a contact's personal data on request, after a confirmation page."""
    contact = get_object_or_404(scoping.contacts(request.user).select_related("account"), pk=pk)
    if request.method == "POST":
        if request.POST.get("confirm") != "erase":
            messages.error(request, "Type erase to confirm.")
        else:
            dataprotection.contact_erase(contact, actor=request.user)
            messages.success(request, f"Contact #{contact.pk} erased. Their scores stay in the figures, anonymised.")
            return redirect("customers:contact_detail", pk=pk)
    return render(request, "customers/contact_erase.html", {"contact": contact})


@roles(*ADMIN_ONLY)
def import_list(request):
    form = ImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        job = services.import_job_create(
            kind=form.cleaned_data["kind"],
            upload=form.cleaned_data["file"],
            user=request.user,
            options={"stream": form.cleaned_data.get("stream") or "relationship"},
        )
        audit.record(request.user, "import.start", job, after={"kind": job.kind, "file": job.filename})
        messages.info(request, f"Importing {job.filename}. This page shows its progress.")
        return redirect("customers:import_detail", pk=job.pk)
    jobs = ImportJob.objects.select_related("created_by")[:20]
    return render(request, "customers/import_list.html", {"form": form, "jobs": jobs})


@roles(*ADMIN_ONLY)
def import_detail(request, pk: int):
    job = get_object_or_404(ImportJob, pk=pk)
    template = "customers/_import_progress.html" if request.htmx else "customers/import_detail.html"
    return render(request, template, {"job": job})


@roles(*ADMIN_ONLY)
@require_POST
def import_retry(request, pk: int):
    job = get_object_or_404(ImportJob, pk=pk)
    if services.import_job_retry(job=job):
        audit.record(request.user, "import.retry", job)
        messages.info(request, f"Importing {job.filename} again.")
    else:
        messages.warning(request, "Only a failed import can be run again.")
    return redirect("customers:import_detail", pk=job.pk)
