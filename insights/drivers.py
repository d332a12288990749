"""What drives the score: each theme's NPS impact, and the verbatims that say it best.

A theme's impact is the stream's NPS minus the NPS of the responses without the theme: how many
points the theme adds (positive) or costs (negative). With w the theme's share of the responses,
that is w × (NPS of the theme − NPS of the rest), so its 95 % margin is w × √(m_theme² + m_rest²),
each m the DOMAIN.md margin of its group (the groups are disjoint, so independent). The same
figure for the previous period of the same length says how the theme moved.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

from surveys.models import verbatim

from . import selectors
from .nps import Score

SUMMARY_SIZE = 5
# The most recent verbatims of a theme read for its summary: 2,000 took 0.35 s each, 300 took 30–40 ms on
# a million responses (the drivers page shows ten), 150 take 8–10 ms.
SUMMARY_POOL = 150


@dataclass(frozen=True)
class Driver:
    theme_id: int
    name: str
    score: Score  # the responses with the theme
    total: Score
    previous: float | None  # the impact in the previous period

    @property
    def rest(self) -> Score:
        t, s = self.total, self.score
        return Score(t.promoters - s.promoters, t.passives - s.passives, t.detractors - s.detractors)

    @property
    def share(self) -> float:
        return self.score.responses / self.total.responses if self.total.responses else 0.0

    @property
    def impact(self) -> float | None:
        return impact(self.score, self.total)

    @property
    def margin(self) -> float | None:
        rest = self.rest
        if not self.score.responses or not rest.responses:
            return None
        return self.share * math.hypot(self.score.margin, rest.margin)

    @property
    def moved(self) -> float | None:
        if self.impact is None or self.previous is None:
            return None
        return self.impact - self.previous

    @property
    def significant(self) -> bool:
        return self.impact is not None and self.margin is not None and abs(self.impact) > self.margin


def impact(theme: Score, total: Score) -> float | None:
    rest = Score(
        total.promoters - theme.promoters, total.passives - theme.passives, total.detractors - theme.detractors
    )
    if total.nps is None or rest.nps is None or not theme.responses:
        return None
    return total.nps - rest.nps


def _by_theme(user, filters: selectors.Filters) -> dict[int, tuple[str, Score]]:
    """Each theme's name and score under the filters, from the dashboard's own theme counts."""
    return {
        r["theme_id"]: (r["theme__name"], Score(r["promoters"], r["passives"], r["detractors"]))
        for r in selectors.theme_figures(user, filters)[0]
    }


def drivers(user, filters: selectors.Filters) -> list[Driver]:
    """Every theme mentioned in the period, biggest impact (either way) first."""
    total, themes = selectors.summary(user, filters).score, _by_theme(user, filters)
    span = filters.end - filters.start
    before = replace(filters, start=filters.start - span, end=filters.start)
    before_total, before_themes = selectors.summary(user, before).score, _by_theme(user, before)
    found = [
        Driver(
            theme_id=theme_id, name=name, score=score, total=total,
            previous=impact(before_themes[theme_id][1], before_total) if theme_id in before_themes else None,
        )
        for theme_id, (name, score) in themes.items()
    ]  # fmt: skip
    return sorted(found, key=lambda d: (-abs(d.impact or 0), d.name))


def summary(qs, theme_id: int, size: int = SUMMARY_SIZE) -> list[dict]:
    """The theme's most representative verbatims among `qs` (extractive: their own words, none
    generated): nearest the centre of the theme's verbatims, each unlike those already picked."""
    from .discovery import _representatives
    from .vectors import backend

    rows = list(
        qs.filter(tags__theme_id=theme_id)
        .exclude(reason="", improvement="")
        .order_by("-submitted_at")
        .values("pk", "reason", "improvement", "score", "sentiment", "submitted_at")[:SUMMARY_POOL]
    )
    if not rows:
        return []
    texts = [verbatim(r["reason"], r["improvement"]) for r in rows]
    vectors = backend().embed(texts)
    centre = np.asarray(vectors.mean(axis=0)).ravel()
    picked = _representatives(vectors, np.arange(len(rows)), centre, n=size)
    return [{**rows[i], "text": texts[i]} for i in picked]
