"""Admins manage webhook subscriptions and read each one's delivery log."""

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from accounts import audit
from accounts.permissions import ADMIN_ONLY, roles

from . import exporting, webhooks
from .forms import SubscriptionForm
from .models import Delivery, ExportJob, ExportStatus, Subscription

AUDITED = ["url", "description", "events", "is_active"]


@roles(*ADMIN_ONLY)
def webhook_list(request):
    return render(request, "integrations/webhook_list.html", {"subscriptions": Subscription.objects.all()})


@roles(*ADMIN_ONLY)
def webhook_edit(request, pk: int | None = None):
    subscription = get_object_or_404(Subscription, pk=pk) if pk else None
    form = SubscriptionForm(request.POST or None, instance=subscription)
    if request.method == "POST" and form.is_valid():
        action = "webhook.update" if subscription else "webhook.create"
        with audit.change(request.user, action, subscription, fields=AUDITED) as box:
            saved = form.save(commit=False)
            if subscription is None:
                saved.created_by = request.user
            if saved.is_active:
                saved.consecutive_failures, saved.disabled_reason = 0, ""
            saved.save()
            box["obj"] = saved
        if subscription is None:
            # The secret is shown once, on the page that follows creation; afterwards it is never displayed.
            request.session["webhook_secret"] = {"id": saved.pk, "secret": saved.secret}
        messages.success(request, f"Saved the webhook to {saved.url}.")
        return redirect("integrations:webhook_detail", pk=saved.pk)
    return render(request, "integrations/webhook_form.html", {"form": form, "subscription": subscription})


@roles(*ADMIN_ONLY)
def webhook_detail(request, pk: int):
    subscription = get_object_or_404(Subscription, pk=pk)
    shown = request.session.pop("webhook_secret", None)
    secret = shown["secret"] if shown and shown.get("id") == subscription.pk else None
    page = Paginator(subscription.deliveries.order_by("-created_at", "-pk"), 50).get_page(request.GET.get("page"))
    context = {"subscription": subscription, "page": page, "secret": secret}
    return render(request, "integrations/webhook_detail.html", context)


@roles(*ADMIN_ONLY)
@require_POST
def webhook_test(request, pk: int):
    """A ping (event type `ping`) through the same table and sender, to check the receiver."""
    subscription = get_object_or_404(Subscription, pk=pk)
    webhooks.ping(subscription)
    messages.success(request, "A test event is on its way; its delivery shows below.")
    return redirect("integrations:webhook_detail", pk=pk)


@roles(*ADMIN_ONLY)
@require_POST
def delivery_redeliver(request, pk: int):
    delivery = get_object_or_404(Delivery.objects.select_related("subscription"), pk=pk)
    webhooks.redeliver(delivery)
    audit.record(request.user, "webhook.redeliver", delivery.subscription, after={"event": delivery.event_id})
    messages.success(request, f"{delivery.event_type} will be delivered again now.")
    return redirect("integrations:webhook_detail", pk=delivery.subscription_id)


# Full export ----------------------------------------------------------------------------------------


@roles(*ADMIN_ONLY)
def export_list(request):
    """Start a full export (POST); the exports of the last days, with their progress and downloads."""
    if request.method == "POST":
        running = ExportJob.objects.filter(status__in=[ExportStatus.QUEUED, ExportStatus.RUNNING]).first()
        if running:
            messages.info(request, "An export is already being written; it is below.")
            return redirect("integrations:export_list")
        job = exporting.export_job_create(user=request.user)
        audit.record(request.user, "export.start", job)
        messages.success(request, "The export has started. It takes a few seconds per 100,000 answers.")
        return redirect("integrations:export_list")
    jobs = ExportJob.objects.select_related("created_by")[:20]
    busy = any(not job.is_finished for job in jobs)
    template = "integrations/_export_jobs.html" if request.htmx else "integrations/export_list.html"
    return render(request, template, {"jobs": jobs, "busy": busy, "keep_days": settings.EXPORT_KEEP_DAYS})


@roles(*ADMIN_ONLY)
def export_download(request, pk: int):
    job = get_object_or_404(ExportJob, pk=pk)
    if job.status != ExportStatus.DONE or not job.file:
        raise Http404("This export is not ready, or was deleted.")
    audit.record(request.user, "export.download", job)
    return FileResponse(job.file.open("rb"), as_attachment=True, filename=job.filename, content_type="application/zip")
