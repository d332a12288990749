"""Insight data: the theme taxonomy, and the alerts raised on declining segments."""

from __future__ import annotations

import re

from django.conf import settings
from django.db import models
from django.utils import timezone

from config.jobs import Job


class Theme(models.Model):
    """A theme of what customers write, found by its keywords and by its accepted examples."""

    name = models.CharField(max_length=60, unique=True)
    keywords = models.TextField(
        blank=True,
        help_text="One keyword or phrase per line, in any language Rebound speaks; matched as whole words in "
        "any form (price, prices, priced) and inside German compounds (Preiserhöhung).",
    )
    responses = models.ManyToManyField("surveys.Response", related_name="themes", blank=True, through="Tag")

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def keyword_list(self) -> list[str]:
        return [k.strip().lower() for k in self.keywords.splitlines() if k.strip()]

    def pattern(self) -> re.Pattern | None:
        words = self.keyword_list
        if not words:
            return None
        return re.compile(r"\b(?:" + "|".join(re.escape(w) for w in words) + r")\b", re.IGNORECASE)


class TagHow(models.TextChoices):
    KEYWORD = "keyword", "Keyword"
    SIMILAR = "similar", "Like its examples"
    MANUAL = "manual", "Set by hand"


class Tag(models.Model):
    """A theme on a response, and why (insights.tagging): the keyword matched, the nearest
    examples, or a person's correction (which re-tagging keeps)."""

    theme = models.ForeignKey(Theme, on_delete=models.CASCADE, related_name="tags")
    response = models.ForeignKey("surveys.Response", on_delete=models.CASCADE, related_name="tags")
    how = models.CharField(max_length=8, choices=TagHow.choices, default=TagHow.KEYWORD)
    why = models.JSONField(default=dict, blank=True)

    class Meta:
        db_table = "insights_theme_responses"  # the table of the plain many-to-many it grew from
        unique_together = [("theme", "response")]

    def __str__(self) -> str:
        return f"{self.theme} on {self.response_id} ({self.how})"


class ExampleSource(models.TextChoices):
    DISCOVERY = "discovery", "Accepted from a discovered theme"
    CORRECTION = "correction", "A person's correction"


class ThemeExample(models.Model):
    """A verbatim that is (``positive``) or is not an example of a theme. Responses like the
    positive ones are tagged with it; a negative one keeps a corrected response untagged."""

    theme = models.ForeignKey(Theme, on_delete=models.CASCADE, related_name="examples")
    response = models.ForeignKey("surveys.Response", null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    text = models.TextField()
    positive = models.BooleanField(default=True)
    source = models.CharField(max_length=12, choices=ExampleSource.choices)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [models.UniqueConstraint(fields=["theme", "response"], name="one_example_per_theme_and_response")]

    def __str__(self) -> str:
        return f"{'+' if self.positive else '−'}{self.theme}: {self.text[:40]}"


class JobStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"


class Discovery(Job):
    """One run of theme discovery over a stream's verbatims in a period (insights.discovery)."""

    stream = models.CharField(max_length=16)
    start = models.DateTimeField()
    end = models.DateTimeField()
    trigger = models.CharField(max_length=16, default="manual", help_text="manual, wave (closed), command.")
    wave = models.ForeignKey("surveys.Wave", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    backend = models.CharField(max_length=16, blank=True)
    status = models.CharField(max_length=8, choices=JobStatus.choices, default=JobStatus.QUEUED)
    progress = models.PositiveSmallIntegerField(default=0, help_text="Per cent.")
    verbatims = models.PositiveIntegerField(default=0)
    message = models.TextField(blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name_plural = "discoveries"
        constraints = [  # one at a time per stream: a second click starts nothing
            models.UniqueConstraint(
                fields=["stream"], condition=models.Q(status__in=["queued", "running"]), name="one_discovery_at_a_time"
            )
        ]

    def __str__(self) -> str:
        return f"Discovery {self.stream} {self.start:%Y-%m-%d}–{self.end:%Y-%m-%d} ({self.status})"


class SuggestionStatus(models.TextChoices):
    OPEN = "open", "Open"
    ACCEPTED = "accepted", "Accepted"
    MERGED = "merged", "Merged"
    DISMISSED = "dismissed", "Dismissed"


class Suggestion(models.Model):
    """A candidate theme: a cluster of similar verbatims, named by its distinctive words."""

    discovery = models.ForeignKey(Discovery, on_delete=models.CASCADE, related_name="suggestions")
    name = models.CharField(max_length=60)
    terms = models.JSONField(default=list, help_text="The cluster's most distinctive words, best first.")
    size = models.PositiveIntegerField()
    detractor_share = models.FloatField(help_text="Share of the cluster's verbatims from Detractors, 0–1.")
    passive_share = models.FloatField()
    promoter_share = models.FloatField()
    examples = models.JSONField(default=list, help_text="Representative verbatims: [{response, score, text}].")
    overlap = models.JSONField(
        default=dict, blank=True, help_text="The existing theme it overlaps most: {theme, name, share}."
    )
    status = models.CharField(max_length=10, choices=SuggestionStatus.choices, default=SuggestionStatus.OPEN)
    theme = models.ForeignKey(Theme, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-size", "pk"]

    def __str__(self) -> str:
        return f"{self.name} ({self.size})"


class RiskStatus(models.TextChoices):
    READY = "ready", "Ready"
    TOO_LITTLE = "too_little", "Too little history"
    NO_SKILL = "no_skill", "No skill"


class RiskModel(models.Model):
    """One training of the detractor-risk model (insights.risk), with its evaluation."""

    trained_at = models.DateTimeField(default=timezone.now)
    status = models.CharField(max_length=10, choices=RiskStatus.choices)
    labelled = models.PositiveIntegerField(help_text="Relationship answers it learned from.")
    detractors = models.PositiveIntegerField()
    metrics = models.JSONField(default=dict, help_text="Time-ordered validation: auc, precision_top_decile, …")
    weights = models.JSONField(default=dict, help_text="Features, their scaling and the coefficients.")
    scored = models.PositiveIntegerField(default=0)
    trigger = models.CharField(max_length=16, default="manual")

    class Meta:
        ordering = ["-trained_at", "-pk"]

    def __str__(self) -> str:
        return f"Risk model {self.trained_at:%Y-%m-%d %H:%M} ({self.status})"


class RiskScore(models.Model):
    """A contact's probability of answering 0–6 at the next relationship wave, and why."""

    model = models.ForeignKey(RiskModel, on_delete=models.CASCADE, related_name="scores")
    contact = models.ForeignKey("customers.Contact", on_delete=models.CASCADE, related_name="risk_scores")
    account = models.ForeignKey("customers.Account", on_delete=models.CASCADE, related_name="risk_scores")
    probability = models.FloatField()
    reasons = models.JSONField(default=list, help_text="What raises the risk most: [{feature, label, effect}].")

    class Meta:
        ordering = ["-probability", "pk"]
        constraints = [models.UniqueConstraint(fields=["model", "contact"], name="one_risk_score_per_model_contact")]
        indexes = [models.Index(fields=["model", "-probability"], name="riskscore_list")]

    def __str__(self) -> str:
        return f"{self.contact_id}: {self.probability:.0%}"


class Alert(models.Model):
    """A sustained decline: a segment's NPS down two periods in a row beyond the margin.

    Raised company-wide (``team`` empty: for Admins) and within each team (for its Managers),
    each counted from the answers that scope may see."""

    stream = models.CharField(max_length=16)
    team = models.ForeignKey(
        "accounts.Team", null=True, blank=True, on_delete=models.CASCADE, related_name="+",
        help_text="Empty: over every team's answers.",
    )  # fmt: skip
    dimension = models.CharField(max_length=32)
    value = models.CharField(max_length=200)
    period = models.CharField(max_length=16, help_text="The period whose decline raised it, e.g. 2026-Q3.")
    nps_values = models.JSONField(default=list, help_text="NPS of the three periods, oldest first.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["stream", "dimension", "value", "period"],
                condition=models.Q(team__isnull=True),
                name="one_company_alert_per_segment_period",
            ),
            models.UniqueConstraint(
                fields=["stream", "team", "dimension", "value", "period"],
                condition=models.Q(team__isnull=False),
                name="one_team_alert_per_segment_period",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.dimension} {self.value}: decline to {self.period}"


class DailyCount(models.Model):
    """How many responses of one day (in TIME_ZONE), stream and answer-time team gave one score, and
    how many of them wrote a reason: in all (``dimension`` '') and per value of each segment
    dimension (the snapshot column; ids as text for CSM and team, '' for none).

    Rebuilt per day from the responses by ``insights.rollups``, never incremented, so a rebuilt day
    is exact; the figures read it for sealed days only."""

    day = models.DateField()
    stream = models.CharField(max_length=16)
    # No database constraint: a deleted team leaves its id here until the daily comparison rebuilds the days.
    team = models.ForeignKey(
        "accounts.Team", null=True, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    dimension = models.CharField(max_length=32, blank=True)
    value = models.CharField(max_length=200, blank=True)
    score = models.PositiveSmallIntegerField()
    responses = models.PositiveIntegerField()
    commented = models.PositiveIntegerField()

    class Meta:
        indexes = [models.Index(fields=["stream", "dimension", "value", "day"], name="dailycount_lookup")]

    def __str__(self) -> str:
        return f"{self.day} {self.stream} {self.dimension or 'all'}={self.value}: {self.responses} × {self.score}"


class DailyThemeCount(models.Model):
    """How many responses of one day (in TIME_ZONE), stream and answer-time team that gave one score
    are tagged with one theme. Built with ``DailyCount`` for the same sealed days, in all only (a
    segment filter counts the themes from the responses); the figures read it for days before
    ``RollupState.themes_through``, which a re-tagging clears until the rows are rebuilt."""

    day = models.DateField()
    stream = models.CharField(max_length=16)
    team = models.ForeignKey(
        "accounts.Team", null=True, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    theme = models.ForeignKey(Theme, on_delete=models.CASCADE, related_name="+")
    score = models.PositiveSmallIntegerField()
    mentions = models.PositiveIntegerField()

    class Meta:
        indexes = [models.Index(fields=["stream", "day"], name="dailythemecount_lookup")]

    def __str__(self) -> str:
        return f"{self.day} {self.stream} theme {self.theme_id}: {self.mentions} × {self.score}"


class RollupState(models.Model):
    """The one row saying how far the daily rollups reach; locked by whoever rebuilds them."""

    built_through = models.DateField(null=True, help_text="Days before this one are in the rollups.")
    themes_through = models.DateField(
        null=True,
        help_text="Days before this one are in the theme rollups (cleared by a re-tagging).",
    )
    checked_at = models.DateTimeField(null=True, help_text="Responses changed since are looked at next.")
    verified_on = models.DateField(null=True, help_text="The day every rolled-up day was last compared.")

    def __str__(self) -> str:
        return f"Rollups through {self.built_through}"
