"""The NPS dashboard, one tab per stream, and the CSV exports."""

from functools import wraps

from django.contrib import messages
from django.core.paginator import Paginator
from django.db import transaction
from django.forms import modelformset_factory
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone

from accounts import audit, scoping
from accounts.permissions import ADMIN_ONLY, ALL_STAFF, roles
from config.pagination import KeysFirstPaginator
from followups.filters import ordered, task_filter
from surveys.models import Category, Question, Sentiment, Stream

from . import charts, cockpit, drivers, selectors, services
from .export import csv_response
from .filters import PERIODS, BadFilter, filters_from
from .models import Theme
from .nps import BENCHMARKS, LOW_RESPONSE_RATE, SMALL_SAMPLE, benchmark_band, display


def with_filters(back: str = "insights:dashboard", refusal: str = "Filter ignored"):
    """Parse the period and dimension filters once for a view; a bad one redirects with its message."""

    def decorate(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            try:
                filters, period = filters_from(request.GET)
            except BadFilter as exc:
                messages.error(request, f"{refusal}: {exc}")
                return redirect(back)
            return view(request, filters, period, *args, **kwargs)

        return wrapped

    return decorate


@roles(*ALL_STAFF)
def home(request):
    """Each role's cockpit: what to act on first (insights.cockpit)."""
    from customers.selectors import accounts_visible_to, contacts_visible_to

    context = cockpit.for_user(request.user)
    context["account_count"] = accounts_visible_to(request.user).count()
    context["contact_count"] = contacts_visible_to(request.user).count()
    where = "" if request.user.is_admin else f" in {request.user.team or 'your team'}"
    context["accounts_label"] = f"Accounts{where}"
    return render(request, "home.html", context)


ThemeFormSet = modelformset_factory(Theme, fields=["name", "keywords"], extra=1, can_delete=True)
SORTS = {"nps": lambda r: r[2].nps or -999, "n": lambda r: r[2].responses, "name": lambda r: r[1].lower()}


@roles(*ALL_STAFF)
@with_filters()
def dashboard(request, filters, period):
    overview = selectors.summary(request.user, filters)
    score = overview.score
    dimensions = selectors.dimensions_for(filters.stream)
    by = request.GET.get("by") if request.GET.get("by") in dimensions else "segment"
    sort = request.GET.get("sort") if request.GET.get("sort") in SORTS else "n"
    table = sorted(selectors.segments(request.user, filters, by), key=SORTS[sort], reverse=sort != "name")
    grain = "quarter" if request.GET.get("grain") == "quarter" else "month"
    delivery = selectors.delivery(request.user, filters)
    qs = selectors.responses(request.user, filters)
    segment = filters.dims.get("segment", "")
    themes, theme_trend = selectors.theme_figures(request.user, filters)
    context = {
        "filters": filters,
        "period": period,
        "periods": PERIODS,
        "streams": Stream.choices,
        "score": score,
        "shown": display(score.nps),
        "margin": display(score.margin),
        "small_sample": score.responses < SMALL_SAMPLE,
        "bars": charts.bars(overview.distribution),
        "trend": charts.trend(selectors.score_trend(request.user, filters, grain), grain),
        "grain": grain,
        "delivery": delivery,
        "low_rate": delivery["rate"] is not None and delivery["rate"] < LOW_RESPONSE_RATE,
        "comment_rate": overview.comment_rate,
        "dimensions": dimensions,
        "by": by,
        "sort": sort,
        "table": [(v, label, s, display(s.nps), display(s.margin)) for v, label, s in table],
        "benchmark": BENCHMARKS.get(segment),
        "band": benchmark_band(segment, score.nps),
        "segment": segment,
        "query": request.GET.urlencode(),
        "themes": themes,
        "alerts": scoping.alerts(request.user).filter(stream=filters.stream).select_related("team")[:5],
        "theme_trend": theme_trend,
        "follow_up": selectors.follow_up_summary(qs, filters.stream),
    }
    return render(request, "insights/dashboard.html", context)


@roles(*ALL_STAFF)
@with_filters()
def theme_verbatims(request, filters, period, pk: int):
    theme = get_object_or_404(Theme, pk=pk)
    qs = selectors.responses(request.user, filters).filter(themes=theme)
    category = request.GET.get("category", "")
    if category in Category.values:
        qs = qs.filter(category=category)
    sentiment = request.GET.get("sentiment", "")
    if sentiment in Sentiment.values:
        qs = qs.filter(sentiment=sentiment)
    summary = drivers.summary(qs, theme.pk)  # the five that say it best, among those filtered
    qs = qs.select_related("contact", "account").order_by("-submitted_at")
    paginator = KeysFirstPaginator(qs, 50)
    if not sentiment:  # the count from the theme figures (their rollups), not a scan of the period's tags
        table = selectors.theme_figures(request.user, filters, theme=pk)[0]  # this theme's row, if mentioned
        counts = table[0] if table else {}
        paginator.count = counts.get(f"{category}s" if category in Category.values else "mentions", 0)
    page = paginator.get_page(request.GET.get("page"))
    return render(request, "insights/theme_verbatims.html", {
        "theme": theme, "page": page, "filters": filters, "category": category, "sentiment": sentiment,
        "sentiments": Sentiment.choices, "summary": summary, "query": request.GET.urlencode(),
    })  # fmt: skip


@roles(*ADMIN_ONLY)
def theme_taxonomy(request):
    formset = ThemeFormSet(request.POST or None, queryset=Theme.objects.all())
    if request.method == "POST" and formset.is_valid():
        with transaction.atomic():
            before = {t.pk: audit.snapshot(t, ["name", "keywords"]) for t in Theme.objects.all()}
            formset.save()
            after = {t.pk: audit.snapshot(t, ["name", "keywords"]) for t in Theme.objects.all()}
            if before != after:
                audit.record(request.user, "theme.update", label="Themes", before=before, after=after)
            services.retag_soon()
        messages.success(request, "Themes saved. Every response is being re-tagged in the background.")
        return redirect("insights:themes")
    return render(request, "insights/themes.html", {"formset": formset})


def _follow_up_cell(value) -> str:
    if value is None:
        return ""
    return "; ".join(map(str, value)) if isinstance(value, list) else str(value)


@roles(*ALL_STAFF)
@with_filters(refusal="Export refused")
def export_responses(request, filters, period):
    qs = (
        selectors.responses(request.user, filters)
        .select_related("contact", "account", "program")
        .order_by("submitted_at")
    )
    # One column per follow-up question of the stream's programs; a list of options as "a; b".
    questions = list(Question.objects.filter(program__stream=filters.stream).order_by("program_id", "position"))
    header = ["submitted_at", "stream", "program", "account", "account_external_id", "contact", "score", "category",
              "reason", *selectors.dimensions_for(filters.stream),
              *[f"follow-up: {q.text}" for q in questions]]  # fmt: skip
    rows = (
        [r.submitted_at.isoformat(), r.stream, r.program.name, r.account.name, r.account.external_id,
         r.contact.email, r.score, r.category, r.reason,
         *[getattr(r, selectors.dimension_column(d)) for d in selectors.dimensions_for(filters.stream)],
         *[_follow_up_cell(r.follow_up.get(str(q.pk))) for q in questions]]
        for r in qs.iterator(chunk_size=2000)
    )  # fmt: skip
    audit.record(request.user, "export.responses", label=f"Responses, {filters.stream}", after=request.GET.dict())
    return csv_response(f"responses-{filters.stream}.csv", header, rows)


@roles(*ALL_STAFF)
def export_tasks(request):
    filterset = task_filter(request, defaults={})
    tasks = ordered(filterset).filter(response__is_test=False)
    header = ["id", "queue", "status", "urgent", "account", "account_external_id", "contact", "score", "reason",
              "assignee", "due_at", "first_contact_at", "outcome", "outcome_detail"]  # fmt: skip
    rows = (
        [t.pk, t.queue, t.status, t.urgent, t.account.name, t.account.external_id, t.contact.email, t.response.score,
         t.response.reason, t.assignee.email if t.assignee else "", t.due_at.isoformat(),
         t.first_contact_at.isoformat() if t.first_contact_at else "", t.outcome, t.outcome_detail]
        for t in tasks.iterator(chunk_size=2000)
    )  # fmt: skip
    audit.record(request.user, "export.tasks", label="Tasks", after=request.GET.dict())
    return csv_response("tasks.csv", header, rows)


@roles(*ALL_STAFF)
@with_filters(back="insights:accounts")
def accounts(request, filters, period):
    """Accounts (B2B): account NPS and coverage, accounts at risk, loop metrics, outcomes."""
    page = Paginator(selectors.accounts_answered(request.user).order_by("name"), 50).get_page(request.GET.get("page"))
    table = selectors.account_table(request.user, [a.pk for a in page])
    rows = [(a, table.get(a.pk)) for a in page]
    by = "csm" if request.GET.get("loop_by") == "csm" else "team"
    context = {
        "filters": filters,
        "period": period,
        "periods": PERIODS,
        "rows": [(a, t, display(t["score"].nps) if t else None) for a, t in rows],
        "page": page,
        "at_risk": selectors.accounts_at_risk(request.user, timezone.localdate()),
        "loop": selectors.loop_metrics(request.user, filters, by),
        "loop_by": by,
        "outcomes": selectors.outcomes_by_category(request.user),
        "query": request.GET.urlencode(),
    }
    return render(request, "insights/accounts.html", context)
