"""Admins manage webhook subscriptions and read each one's delivery log."""

from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from accounts import audit
from accounts.permissions import ADMIN_ONLY, roles

from . import webhooks
from .forms import SubscriptionForm
from .models import Delivery, Subscription

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
