"""The pages of verbatim intelligence and detractor risk: discovered themes, tag corrections,
drivers with their summaries, and the likely detractors."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from accounts import audit, scoping
from accounts.models import Team
from accounts.permissions import ADMIN_ONLY, ALL_STAFF, roles
from config.inputs import safe_next, whole_number
from config.queueing import enqueue_on_commit
from surveys.models import Stream

from . import discovery, drivers, risk, selectors
from .filters import PERIODS, period_bounds
from .models import Discovery, JobStatus, RiskStatus, Suggestion, SuggestionStatus, Theme
from .nps import display
from .services import tag_correct
from .vectors import ai_available, backend
from .views import with_filters

SUMMARIES_ON_DRIVERS = 3


@roles(*ADMIN_ONLY)
def theme_discovery(request):
    """Start a discovery; review the latest one's candidate themes."""
    stream = request.GET.get("stream") if request.GET.get("stream") in Stream.values else Stream.RELATIONSHIP
    latest = Discovery.objects.filter(stream=stream).first()
    shown = Discovery.objects.filter(stream=stream, status=JobStatus.DONE).first()
    context = {
        "stream": stream,
        "streams": Stream.choices,
        "periods": PERIODS,
        "latest": latest,
        "running": latest is not None and latest.status in (JobStatus.QUEUED, JobStatus.RUNNING),
        "shown": shown,
        "suggestions": shown.suggestions.all() if shown else [],
        "themes": Theme.objects.all(),
        "engine": backend().label,
        "ai_available": ai_available(),
    }
    return render(request, "insights/discovery.html", context)


@roles(*ADMIN_ONLY)
@require_POST
def discovery_start(request):
    stream = request.POST.get("stream")
    if stream not in Stream.values:
        messages.error(request, "Choose a stream.")
        return redirect("insights:discovery")
    try:
        start, end, _ = period_bounds({"period": request.POST.get("period") or "year"})
    except ValueError as exc:
        messages.error(request, str(exc))
        return redirect("insights:discovery")
    job = discovery.discovery_start(stream=stream, start=start, end=end, user=request.user)
    if job is None:
        messages.info(request, "A discovery of this stream is running already.")
    else:
        audit.record(request.user, "themes.discover", label=f"Theme discovery, {stream}")
        messages.success(request, "Discovery started. This page shows its progress.")
    return redirect(f"{redirect('insights:discovery').url}?stream={stream}")


@roles(*ADMIN_ONLY)
@require_POST
def suggestion_decide(request, pk: int):
    suggestion = get_object_or_404(Suggestion.objects.select_related("discovery"), pk=pk)
    back = f"{redirect('insights:discovery').url}?stream={suggestion.discovery.stream}"
    if suggestion.status != SuggestionStatus.OPEN:
        messages.info(request, "This suggestion was decided already.")
        return redirect(back)
    action = request.POST.get("action")
    if action == "accept":
        theme = discovery.suggestion_accept(suggestion, user=request.user, name=request.POST.get("name", "")[:60])
        audit.record(request.user, "themes.accept", label=theme.name)
        messages.success(request, f"Theme “{theme.name}” created. Every response is being re-tagged.")
    elif action == "merge":
        theme_id = whole_number(request.POST.get("theme", ""))
        theme = Theme.objects.filter(pk=theme_id).first() if theme_id is not None else None
        if theme is None:
            messages.error(request, "Choose the theme to merge into.")
            return redirect(back)
        discovery.suggestion_merge(suggestion, theme, user=request.user)
        audit.record(request.user, "themes.merge", label=f"{suggestion.name} → {theme.name}")
        messages.success(request, f"Merged into “{theme.name}”: its verbatims are now examples of it.")
    elif action == "dismiss":
        discovery.suggestion_dismiss(suggestion, user=request.user)
        messages.success(request, f"“{suggestion.name}” dismissed.")
    else:
        messages.error(request, "Accept, merge or dismiss.")
    return redirect(back)


@roles(*ALL_STAFF)
@require_POST
def correct_tag(request, pk: int):
    """A CSM, Manager or Admin says a verbatim they may see is, or is not, about a theme."""
    response = get_object_or_404(scoping.responses(request.user), pk=pk)
    theme_id = whole_number(request.POST.get("theme", ""))
    theme = Theme.objects.filter(pk=theme_id).first() if theme_id is not None else None
    back = safe_next(request, "insights:dashboard")
    if theme is None or request.POST.get("present") not in ("0", "1"):
        messages.error(request, "Choose a theme.")
        return redirect(back)
    present = request.POST["present"] == "1"
    tag_correct(response=response, theme=theme, present=present, user=request.user)
    audit.record(request.user, "themes.correct", label=f"{theme.name} {'added to' if present else 'removed from'} "
                 f"response {response.pk}")  # fmt: skip
    messages.success(
        request, f"“{theme.name}” {'added' if present else 'removed'}; it stays so, and teaches the tagger."
    )
    return redirect(back)


@roles(*ALL_STAFF)
@with_filters(back="insights:drivers")
def driver_list(request, filters, period):
    found = drivers.drivers(request.user, filters)
    qs = selectors.responses(request.user, filters)
    rows = [
        {
            "driver": d,
            "impact": d.impact,
            "margin": d.margin,
            "moved": d.moved,
            "summary": drivers.summary(qs, d.theme_id, SUMMARIES_ON_DRIVERS) if i < 10 else [],
        }
        for i, d in enumerate(found)
    ]
    total = found[0].total if found else None
    return render(request, "insights/drivers.html", {
        "filters": filters, "period": period, "periods": PERIODS, "streams": Stream.choices, "rows": rows,
        "total": total, "shown": display(total.nps) if total else None, "query": request.GET.urlencode(),
    })  # fmt: skip


@roles(*ALL_STAFF)
def likely_detractors(request):
    """Before the next relationship wave: who is likely to answer 0–6, and why."""
    model = risk.latest_model()
    scores = risk.current_scores(request.user)
    team_id = whole_number(request.GET.get("team", ""))
    if team_id is not None:
        scores = scores.filter(account__team_id=team_id)
    page = Paginator(scores, 50).get_page(request.GET.get("page"))
    return render(request, "insights/risk.html", {
        "model": model, "page": page, "teams": Team.objects.all() if request.user.is_admin else [],
        "team": team_id, "ready": model is not None and model.status == RiskStatus.READY,
        "min_labelled": risk.MIN_LABELLED, "min_detractors": risk.MIN_DETRACTORS,
    })  # fmt: skip


@roles(*ADMIN_ONLY)
@require_POST
def risk_train(request):
    from .tasks import score_risk

    enqueue_on_commit(score_risk, "manual")
    audit.record(request.user, "risk.train", label="Detractor risk model")
    messages.success(request, "Training started in the background; this page shows the new model when it is done.")
    return redirect("insights:risk")
