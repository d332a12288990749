"""Insight data: the theme taxonomy, and the alerts raised on declining segments."""

from __future__ import annotations

import re

from django.db import models


class Theme(models.Model):
    """A theme of what customers write, found by its keywords and phrases."""

    name = models.CharField(max_length=60, unique=True)
    keywords = models.TextField(help_text="One keyword or phrase per line; matched as whole words, any case.")
    responses = models.ManyToManyField("surveys.Response", related_name="themes", blank=True)

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


class RollupState(models.Model):
    """The one row saying how far the daily rollups reach; locked by whoever rebuilds them."""

    built_through = models.DateField(null=True, help_text="Days before this one are in the rollups.")
    checked_at = models.DateTimeField(null=True, help_text="Responses changed since are looked at next.")
    verified_on = models.DateField(null=True, help_text="The day every rolled-up day was last compared.")

    def __str__(self) -> str:
        return f"Rollups through {self.built_through}"
