"""Follow-up: the tasks every response opens, their SLA clocks, and the append-only trail of each."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone

from customers.models import Segment

DEFAULT_DETRACTOR_SLA_HOURS = 24


class SlaPolicy(models.Model):
    """How soon each category is followed up, per account segment (DOMAIN.md: Detractors 24 h by
    default, 48 h at most). A segment without a policy uses the defaults."""

    segment = models.CharField(max_length=16, choices=Segment.choices, unique=True)
    detractor_hours = models.PositiveSmallIntegerField(
        "detractor SLA (hours)",
        default=DEFAULT_DETRACTOR_SLA_HOURS,
        validators=[MinValueValidator(4), MaxValueValidator(48)],
    )
    passive_business_days = models.PositiveSmallIntegerField(
        "passive check-in (business days)", default=5, validators=[MinValueValidator(1), MaxValueValidator(30)]
    )
    promoter_days = models.PositiveSmallIntegerField(
        "promoter referral and advocacy (days)", default=7, validators=[MinValueValidator(1), MaxValueValidator(60)]
    )

    class Meta:
        ordering = ["segment"]
        verbose_name = "SLA policy"
        verbose_name_plural = "SLA policies"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(detractor_hours__gte=4, detractor_hours__lte=48), name="detractor_sla_4_to_48_hours"
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_segment_display()}: {self.detractor_hours} h"


def sla_policy(segment: str) -> SlaPolicy:
    """The segment's policy, or the defaults (unsaved)."""
    return SlaPolicy.objects.filter(segment=segment).first() or SlaPolicy(segment=segment)


class Queue(models.TextChoices):
    RECOVERY = "recovery", "Recovery"
    CHECKIN = "checkin", "Check-in"
    REFERRAL = "referral", "Referral"
    ADVOCACY = "advocacy", "Advocacy"


class TaskStatus(models.TextChoices):
    OPEN = "open", "Open"
    CLOSED = "closed", "Closed"
    SUPERSEDED = "superseded", "Superseded"


class Outcome(models.TextChoices):
    RECOVERED = "recovered", "Recovered"
    AT_RISK = "still_at_risk", "Still at risk"
    CHURNED = "churned", "Churned"
    NO_REPLY = "no_reply", "No reply"
    DONE = "done", "Done"
    REFERRAL_GIVEN = "referral_given", "Referral given"
    REVIEW_POSTED = "review_posted", "Review posted"
    CASE_STUDY = "case_study", "Case study"
    REFERENCE_AGREED = "reference_agreed", "Reference agreed"
    DECLINED = "declined", "Declined"


OUTCOMES_BY_QUEUE = {
    Queue.RECOVERY: [Outcome.RECOVERED, Outcome.AT_RISK, Outcome.CHURNED, Outcome.NO_REPLY],
    Queue.CHECKIN: [Outcome.DONE],
    Queue.REFERRAL: [Outcome.REFERRAL_GIVEN, Outcome.DECLINED],
    Queue.ADVOCACY: [Outcome.REVIEW_POSTED, Outcome.CASE_STUDY, Outcome.REFERENCE_AGREED, Outcome.DECLINED],
}


class TaskQuerySet(models.QuerySet):
    def open(self) -> TaskQuerySet:
        return self.filter(status=TaskStatus.OPEN)

    def overdue(self, now=None) -> TaskQuerySet:
        return self.open().filter(due_at__lt=now or timezone.now(), first_contact_at__isnull=True)

    def visible_to(self, user) -> TaskQuerySet:
        """The tasks the user may see: the rule in ``accounts.scoping``."""
        from accounts import scoping

        return scoping.visible(user, self)


class Task(models.Model):
    """One follow-up of one response in one queue."""

    response = models.ForeignKey("surveys.Response", on_delete=models.CASCADE, related_name="tasks")
    queue = models.CharField(max_length=16, choices=Queue.choices)
    status = models.CharField(max_length=16, choices=TaskStatus.choices, default=TaskStatus.OPEN)
    urgent = models.BooleanField(default=False, help_text="Scores 0–3.")
    account = models.ForeignKey("customers.Account", on_delete=models.CASCADE, related_name="tasks")
    contact = models.ForeignKey("customers.Contact", on_delete=models.CASCADE, related_name="tasks")
    team = models.ForeignKey("accounts.Team", null=True, blank=True, on_delete=models.SET_NULL, related_name="tasks")
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="tasks"
    )
    segment = models.CharField(max_length=16, choices=Segment.choices, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    due_at = models.DateTimeField()
    first_contact_at = models.DateTimeField(null=True, blank=True)
    escalated_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=32, choices=Outcome.choices, blank=True)
    outcome_detail = models.CharField(max_length=300, blank=True, help_text="Who was referred, where, …")
    closed_at = models.DateTimeField(null=True, blank=True)
    # Confirmed recovery: the contact asked again after a recovered Detractor task.
    reask_invitation = models.OneToOneField(
        "surveys.Invitation", null=True, blank=True, on_delete=models.SET_NULL, related_name="recovery_task"
    )

    objects = TaskQuerySet.as_manager()

    class Meta:
        ordering = ["due_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["response", "queue"],
                condition=models.Q(status="open"),
                name="one_open_task_per_response_and_queue",
            ),
            models.CheckConstraint(
                condition=~models.Q(status="closed") | ~models.Q(outcome=""), name="closed_task_has_outcome"
            ),
        ]
        indexes = [
            # The task lists: a status (and the scope: all, a team, an assignee), soonest due first.
            models.Index(fields=["status", "due_at"]),
            models.Index(fields=["assignee", "status", "due_at"]),
            models.Index(fields=["team", "status", "due_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.get_queue_display()} · {self.contact}"

    @property
    def is_open(self) -> bool:
        return self.status == TaskStatus.OPEN

    @property
    def sla_met(self) -> bool | None:
        """Met or breached from first contact against due time; None while neither is known."""
        if self.first_contact_at:
            return self.first_contact_at <= self.due_at
        if timezone.now() > self.due_at:
            return False
        return None

    @property
    def outcome_choices(self) -> list[Outcome]:
        return OUTCOMES_BY_QUEUE[Queue(self.queue)]

    @property
    def confirmed_recovery(self) -> bool | None:
        """After a re-ask: True if the new score is no longer a Detractor's, False if it is, None before."""
        invitation = self.reask_invitation
        response = getattr(invitation, "response", None) if invitation else None
        if response is None:
            return None
        return response.score >= 7


class EventKind(models.TextChoices):
    CREATED = "created", "Opened"
    ASSIGNED = "assigned", "Assigned"
    OUTREACH = "outreach", "Outreach"
    NOTE = "note", "Note"
    CLOSED = "closed", "Closed"
    SUPERSEDED = "superseded", "Superseded"
    ESCALATED = "escalated", "Escalated"
    EMAIL = "email", "Email to the customer"
    REASKED = "reasked", "Re-ask scheduled"


class OutreachChannel(models.TextChoices):
    CALL = "call", "Call"
    EMAIL = "email", "Email"
    MEETING = "meeting", "Meeting"


class TaskEvent(models.Model):
    """One change to a task: who, when, what. Append-only; the task's timeline."""

    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=16, choices=EventKind.choices)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    at = models.DateTimeField(default=timezone.now)
    text = models.TextField(blank=True)
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} · {self.at:%Y-%m-%d %H:%M}"


class DigestSent(models.Model):
    """One daily digest per user and day."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    day = models.DateField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "day"], name="one_digest_per_user_and_day")]

    def __str__(self) -> str:
        return f"Digest for {self.user_id} on {self.day}"


class LoopTemplate(models.Model):
    """The close-the-loop email a CSM starts from, per queue (so per category: recovery for
    Detractors, check-in for Passives, referral and advocacy for Promoters), edited by Admins.

    ``{first_name}``-style merge fields are filled in when the draft opens; ``[[…]]`` marks a blank
    the CSM must write, and a message still holding one is refused (``followups.loop``)."""

    queue = models.CharField(max_length=16, choices=Queue.choices, unique=True)
    subject = models.CharField(max_length=200)
    body = models.TextField(max_length=10_000)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["queue"]

    def __str__(self) -> str:
        return f"Close-the-loop template for {self.get_queue_display()}"
