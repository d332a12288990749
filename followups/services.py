"""Follow-up writes: routing responses to tasks, working them, escalating, telling people."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from email.utils import formataddr, parseaddr
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from accounts import audit
from accounts.models import Role, User
from config.events import publish
from outbox.models import OutgoingEmail
from outbox.services import email_from_templates, emails_queue_and_send
from surveys.answers import batch_memo
from surveys.links import is_anonymous
from surveys.models import Category, Invitation, Response
from surveys.services import in_window, invitation_fields

from . import loop
from .models import (
    OUTCOMES_BY_QUEUE,
    DigestSent,
    EventKind,
    Outcome,
    OutreachChannel,
    Queue,
    Task,
    TaskEvent,
    TaskStatus,
    sla_policy,
)
from .sla import add_business_days, add_business_hours, team_tz

logger = logging.getLogger(__name__)

QUEUES_BY_CATEGORY = {
    Category.DETRACTOR: [Queue.RECOVERY],
    Category.PASSIVE: [Queue.CHECKIN],
    Category.PROMOTER: [Queue.REFERRAL, Queue.ADVOCACY],
}
URGENT_UP_TO = 3  # scores 0–3
SCORE_CHANGE_QUIET = timedelta(hours=1)  # at most one assignment email per response per hour


class TaskError(Exception):
    """An action the task's state does not allow; the message says why."""


def _event(task: Task, kind: str, actor: User | None = None, text: str = "", **data: Any) -> TaskEvent:
    """The task's timeline entry; a staff member's action also goes to the audit trail."""
    event = TaskEvent.objects.create(task=task, kind=kind, actor=actor, text=text, data=data)
    if actor is not None:
        audit.record(actor, f"task.{kind}", task, after={"text": text, **data} if text or data else None)
    return event


def task_url(task: Task) -> str:
    return settings.SITE_URL + reverse("followups:task_detail", args=[task.pk])


def due_time(queue: str, response: Response, team, start: datetime) -> datetime:
    # Read once per routing batch (surveys.answers.batch_memo), not once per task.
    policy = batch_memo(f"sla:{response.segment}", lambda: sla_policy(response.segment))
    if queue == Queue.RECOVERY:
        return add_business_hours(start, policy.detractor_hours, team)
    if queue == Queue.CHECKIN:
        return add_business_days(start, policy.passive_business_days, team)
    return start + timedelta(days=policy.promoter_days)


def detractor_promise(response: Response) -> tuple[int, datetime]:
    """(SLA hours, due time) of the recovery call the thank-you page promises a Detractor: the same
    clock as the task's, so with business hours "within 24 hours" becomes a date that holds."""
    policy = sla_policy(response.segment)
    start = response.submitted_at
    return policy.detractor_hours, add_business_hours(start, policy.detractor_hours, response.team)


# Routing ------------------------------------------------------------------------------------------


def route_response(*, response: Response, previous_category: str = "") -> list[Task]:
    """Open the tasks of the response's category; on a changed score, supersede the old ones.

    Runs inside the transaction that saves the response. The partial unique constraint (one open
    task per response and queue) makes a second routing of the same answer a no-op.
    """
    if is_anonymous(response):
        return []  # an anonymous answer from a shared link: nobody to call back
    # A promoter whose words read negative (insights reads the sentiment first) gets a check-in too.
    mismatch = [Queue.CHECKIN] if response.category == Category.PROMOTER and response.sentiment == "negative" else []
    if previous_category == response.category:
        queues = [q for q in mismatch if not response.tasks.filter(queue=q).exists()]  # once per response
        if not queues:
            return []
    else:
        queues = QUEUES_BY_CATEGORY[response.category] + mismatch
    now = timezone.now()
    if previous_category and previous_category != response.category:
        superseded = QUEUES_BY_CATEGORY[previous_category]
        if previous_category == Category.PROMOTER:
            superseded = [*superseded, Queue.CHECKIN]  # the mismatch check-in of the earlier score
        for task in response.tasks.open().filter(queue__in=superseded):
            Task.objects.filter(pk=task.pk).update(status=TaskStatus.SUPERSEDED, closed_at=now)
            _event(task, EventKind.SUPERSEDED, text=f"The customer changed the score to {response.score}.")
    team = response.team
    opened = []
    for queue in queues:
        task = Task(
            response=response,
            queue=queue,
            urgent=queue == Queue.RECOVERY and response.score <= URGENT_UP_TO,
            account_id=response.account_id,
            contact_id=response.contact_id,
            team=team,
            assignee=response.csm,  # the object (the router loaded it): no query for the email below
            segment=response.segment,
            created_at=now,
            due_at=due_time(queue, response, team, now),
        )
        try:
            with transaction.atomic():
                task.save()
        except IntegrityError:
            continue  # already open for this response
        if not response.is_test:
            publish("task.created", task)
        why = ", but the comment reads negative" if queue in mismatch else ""
        _event(task, EventKind.CREATED, text=f"Score {response.score}{why}", queue=queue)
        if task.assignee_id:
            _event(task, EventKind.ASSIGNED, text=f"Assigned to {task.assignee}", assignee=task.assignee_id)
            # The router wakes one sender per batch of answers; a tick would send it anyway.
            _notify_assignment(task, score_change=bool(previous_category), assignments=1, wake=False)
        opened.append(task)
    return opened


def _notify_assignment(
    task: Task, *, score_change: bool = False, assignments: int | None = None, wake: bool = True
) -> None:
    """Recovery tasks are emailed to the assignee as soon as they are assigned.

    A customer who keeps changing their score (2, then 8, then 3 …) opens a new task each time
    the category changes, but the CSM is mailed about one response at most once an hour."""
    if task.queue != Queue.RECOVERY or task.assignee is None:
        return
    if score_change:
        siblings = "|".join(
            str(pk) for pk in Task.objects.filter(response_id=task.response_id).values_list("pk", flat=True)
        )
        if OutgoingEmail.objects.filter(
            kind="task_assigned",
            to=task.assignee.email,
            key__regex=rf"^task_assigned:({siblings}):",
            created_at__gte=timezone.now() - SCORE_CHANGE_QUIET,
        ).exists():
            return
    count = assignments or task.events.filter(kind=EventKind.ASSIGNED).count()
    row = email_from_templates(
        "task_assigned",
        key=f"task_assigned:{task.pk}:{count}",
        to=task.assignee.email,
        context={"task": task, "assignee": task.assignee, "url": task_url(task)},
        zone=task.assignee.zone,
    )
    emails_queue_and_send([row], wake=wake)


# Working a task -----------------------------------------------------------------------------------


def _require_open(task: Task) -> None:
    if not task.is_open:
        raise TaskError("This task is closed.")


def task_assign(*, task: Task, assignee: User | None, actor: User) -> Task:
    """Assign or reassign (None: back to the team queue)."""
    _require_open(task)
    if assignee is not None and not assignee.is_active:
        raise TaskError("That person's account is inactive.")
    if assignee == task.assignee:
        return task
    with transaction.atomic():
        task.assignee = assignee
        task.save(update_fields=["assignee"])
        text = f"Assigned to {assignee}" if assignee else "Returned to the team queue"
        _event(task, EventKind.ASSIGNED, actor, text, assignee=assignee.pk if assignee else None)
        if assignee and assignee != actor:
            _notify_assignment(task)
    return task


def tasks_bulk_assign(*, tasks: list[Task], assignee: User | None, actor: User) -> int:
    done = 0
    for task in tasks:
        if task.is_open:
            task_assign(task=task, assignee=assignee, actor=actor)
            done += 1
    return done


def task_log_outreach(*, task: Task, actor: User, channel: str, note: str = "") -> Task:
    """Record a call, email or meeting; the first one is the task's first contact."""
    _require_open(task)
    if channel not in OutreachChannel.values:
        raise TaskError("Choose call, email or meeting.")
    now = timezone.now()
    with transaction.atomic():
        first = Task.objects.filter(pk=task.pk, first_contact_at__isnull=True).update(first_contact_at=now)
        if first:
            task.first_contact_at = now
        _event(task, EventKind.OUTREACH, actor, note, channel=channel, first_contact=bool(first))
    return task


def task_add_note(*, task: Task, actor: User, text: str) -> TaskEvent:
    _require_open(task)
    if not text.strip():
        raise TaskError("A note needs some text.")
    return _event(task, EventKind.NOTE, actor, text)


def task_close(*, task: Task, actor: User, outcome: str, detail: str = "") -> Task:
    """Close with an outcome valid for the queue; a recovered Detractor may be asked again later."""
    _require_open(task)
    if outcome not in OUTCOMES_BY_QUEUE[Queue(task.queue)]:
        raise TaskError("Choose an outcome for this kind of task.")
    now = timezone.now()
    with transaction.atomic():
        task.status, task.outcome, task.outcome_detail, task.closed_at = TaskStatus.CLOSED, outcome, detail, now
        task.save(update_fields=["status", "outcome", "outcome_detail", "closed_at"])
        _event(task, EventKind.CLOSED, actor, detail, outcome=outcome)
        if not task.response.is_test:
            publish("task.closed", task)
        if outcome == Outcome.RECOVERED:
            _schedule_reask(task, now)
    return task


def _schedule_reask(task: Task, now: datetime) -> None:
    program = task.response.program
    if not program.reask_after_days or task.reask_invitation_id:
        return
    send_at = in_window(program, task.contact, now + timedelta(days=program.reask_after_days))
    invitation = Invitation.objects.create(
        properties={**task.response.invitation.properties, "reask_of_task": task.pk},
        **invitation_fields(program, task.contact, send_at),
    )
    Task.objects.filter(pk=task.pk).update(reask_invitation=invitation)
    task.reask_invitation = invitation
    _event(task, EventKind.REASKED, None, f"The contact will be asked again on {send_at:%Y-%m-%d}.")


def loop_email_send(*, task: Task, actor: User, subject: str, body: str) -> OutgoingEmail:
    """Send the contact the CSM's close-the-loop message through the outbox; recorded on the task."""
    if not subject.strip() or not body.strip():
        raise TaskError("The email needs a subject and a message.")
    if unfilled := loop.blanks(subject + "\n" + body):
        raise TaskError(f"Replace {', '.join(unfilled)} with your own words before sending.")
    count = task.events.filter(kind=EventKind.EMAIL).count()
    row = email_from_templates(
        "close_the_loop",
        key=f"close_the_loop:{task.pk}:{count}",
        to=task.contact.email,
        context={"subject": subject, "body": body},
        # The CSM's name on the site's address; formataddr quotes a name like "Smith, John".
        from_email=formataddr((actor.get_full_name(), parseaddr(settings.DEFAULT_FROM_EMAIL)[1])),
    )
    row.headers = {"Reply-To": actor.email}
    with transaction.atomic():
        emails_queue_and_send([row])
        _event(task, EventKind.EMAIL, actor, body, subject=subject, key=row.key)
    return row


# The tick: escalations and digests ------------------------------------------------------------------


def escalate_due(now: datetime | None = None) -> int:
    """Escalate each task past due without first contact, once: mark it, record it, email the
    assignee and the team's managers. The conditional UPDATE makes a second tick do nothing."""
    now = now or timezone.now()
    escalated = 0
    for task in (
        Task.objects.overdue(now)
        .filter(escalated_at__isnull=True)
        .select_related("assignee", "team", "account", "contact", "response")
    ):
        with transaction.atomic():
            if not Task.objects.filter(pk=task.pk, escalated_at__isnull=True).update(escalated_at=now):
                continue
            _event(task, EventKind.ESCALATED, None, "SLA breached without first contact.")
            if not task.response.is_test:
                task.escalated_at = now
                publish("task.breached", task)
            managers = task.team.managers if task.team else User.objects.none()
            if not managers.exists():  # nobody manages this team: the Admins hear of it
                managers = User.objects.filter(role=Role.ADMIN, is_active=True)
            recipients = {user.email: user for user in managers.select_related("team")}
            if task.assignee:
                recipients[task.assignee.email] = task.assignee
            emails_queue_and_send([
                email_from_templates(
                    "task_escalated", key=f"task_escalated:{task.pk}:{to}", to=to,
                    context={"task": task, "url": task_url(task)}, zone=recipients[to].zone,
                )
                for to in sorted(recipients)
            ])  # fmt: skip
            escalated += 1
    return escalated


def digests_send(now: datetime | None = None) -> int:
    """Each CSM who asked for it gets one digest a day, from 7:00 in their team's time zone."""
    now = now or timezone.now()
    sent = 0
    for user in User.objects.filter(daily_digest=True, is_active=True).select_related("team"):
        local = timezone.localtime(now, team_tz(user.team))
        if local.hour < 7 or DigestSent.objects.filter(user=user, day=local.date()).exists():
            continue
        try:
            with transaction.atomic():
                DigestSent.objects.create(user=user, day=local.date())
                tasks = list(Task.objects.open().filter(assignee=user).select_related("account", "response"))
                overdue = [t for t in tasks if t.due_at < now]
                due_soon = [t for t in tasks if now <= t.due_at < now + timedelta(days=1)]
                row = email_from_templates(
                    "task_digest",
                    key=f"task_digest:{user.pk}:{local.date()}",
                    to=user.email,
                    context={
                        "user": user, "open_count": len(tasks), "overdue": overdue, "due_soon": due_soon,
                        "url": settings.SITE_URL + reverse("followups:my_tasks"),
                    },
                    zone=user.zone,
                )  # fmt: skip
                emails_queue_and_send([row])
                sent += 1
        except IntegrityError:
            continue  # another tick sent today's digest a moment ago (the constraint decided)
    return sent


def tick(now: datetime | None = None) -> dict[str, int]:
    now = now or timezone.now()
    return {"escalated": escalate_due(now), "digests": digests_send(now)}
