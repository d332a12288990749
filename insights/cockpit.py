"""Home: for each role, what to act on first. Reads only; every figure through the same scoping and
selectors as the pages it links to.

CSM: my open tasks (overdue first, then urgent, then by due time), the latest verbatims of my accounts,
my renewals within 90 days with a Detractor's latest answer.
Manager: the team's NPS per stream (last 12 months, ± margin, change against the 12 months before),
SLA met, overdue tasks per CSM, accounts at risk.
Admin: both streams and their response rates, the next waves, delivery problems of the last 30 days.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Case, Count, IntegerField, Q, Value, When
from django.urls import reverse
from django.utils import timezone

from accounts import scoping
from accounts.models import Role
from surveys.models import Stream

from . import selectors
from .filters import filters_from
from .nps import Score, display, significant_change

TASKS_SHOWN = 10
VERBATIMS_SHOWN = 5


@dataclass(frozen=True)
class StreamFigure:
    stream: str
    label: str
    score: Score
    shown: int | None
    margin: int | None
    before: int | None  # the NPS of the 12 months before, for the change
    significant: bool | None
    response_rate: float | None
    card_label: str = ""  # "Relationship NPS, last 12 months · North"
    link: str = ""  # the dashboard for this stream and period


def stream_figures(user) -> list[StreamFigure]:
    figures = []
    where = "" if user.role == Role.ADMIN else f" · {user.team or 'your team'}"
    for stream, label in Stream.choices:
        filters, _ = filters_from({"stream": stream, "period": "year"})
        earlier = selectors.Filters(stream, filters.start - timedelta(days=365), filters.start)
        score, previous = selectors.summary(user, filters).score, selectors.summary(user, earlier).score
        figures.append(
            StreamFigure(
                stream=stream, label=label, score=score, shown=display(score.nps), margin=display(score.margin),
                before=display(previous.nps), significant=significant_change(previous, score),
                response_rate=selectors.delivery(user, filters)["rate"],
                card_label=f"{label} NPS, last 12 months{where}",
                link=reverse("insights:dashboard") + f"?stream={stream}&period=year",
            )
        )  # fmt: skip
    return figures


def my_tasks(user, now: datetime):
    from followups.models import Task

    overdue = Q(due_at__lt=now, first_contact_at__isnull=True)
    return (
        Task.objects.visible_to(user)
        .open()
        .filter(assignee=user)
        .annotate(late=Case(When(overdue, then=Value(1)), default=Value(0), output_field=IntegerField()))
        .select_related("response", "contact", "account")
        .order_by("-late", "-urgent", "due_at")[:TASKS_SHOWN]
    )


def latest_verbatims(user):
    return (
        scoping.responses(user)
        .filter(account__csm=user)
        .exclude(reason="")
        .select_related("contact", "account")
        .order_by("-submitted_at")[:VERBATIMS_SHOWN]
    )


def overdue_by_csm(user, now: datetime) -> list[dict]:
    from followups.models import Task

    rows = (
        Task.objects.visible_to(user)
        .overdue(now)
        .order_by()
        .values("assignee__name", "assignee__email")
        .annotate(n=Count("pk"), urgent=Count("pk", filter=Q(urgent=True)))
        .order_by("-n")
    )
    return [
        {"name": r["assignee__name"] or r["assignee__email"] or "Unassigned (team queue)", "n": r["n"],
         "urgent": r["urgent"]}
        for r in rows
    ]  # fmt: skip


def next_waves(now: datetime) -> list[dict]:
    from surveys.cadence import next_wave
    from surveys.models import Program

    out = []
    for program in Program.objects.filter(stream=Stream.RELATIONSHIP, is_active=True).order_by("name"):
        period, when = next_wave(program, now)
        out.append({"program": program, "period": period, "when": when})
    return sorted(out, key=lambda r: r["when"])


def delivery_problems(now: datetime) -> dict[str, int]:
    from customers.models import Contact
    from outbox.models import EmailStatus, OutgoingEmail

    since = now - timedelta(days=30)
    return {
        "failed": OutgoingEmail.objects.filter(status=EmailStatus.FAILED, created_at__gte=since).count(),
        "bounced": Contact.objects.filter(bounced_at__gte=since).count(),
        "complained": Contact.objects.filter(complained_at__gte=since).count(),
    }


def for_user(user, now: datetime | None = None) -> dict:
    """The Home page's context for the user's role."""
    now = now or timezone.now()
    context: dict = {"role": user.role, "now": now}
    if user.role == Role.CSM:
        context["tasks"] = my_tasks(user, now)
        context["verbatims"] = latest_verbatims(user)
        context["at_risk"] = selectors.accounts_at_risk(user, timezone.localdate(now)).filter(csm=user)
        return context
    context["streams"] = stream_figures(user)
    context["at_risk"] = selectors.accounts_at_risk(user, timezone.localdate(now))[:10]
    context["overdue"] = overdue_by_csm(user, now)
    if user.role == Role.MANAGER:
        filters, _ = filters_from({"stream": Stream.RELATIONSHIP, "period": "90d"})
        context["loop"] = selectors.loop_metrics(user, filters, "team")
        context["tasks"] = my_tasks(user, now)
    else:
        context["waves"] = next_waves(now)
        context["problems"] = delivery_problems(now)
    return context
