"""Insight writes: tagging verbatims with themes, and raising decline alerts."""

from __future__ import annotations

import logging
from datetime import datetime

from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models.functions import TruncQuarter
from django.urls import reverse
from django.utils import timezone

from accounts.models import Role, User
from config.events import publish
from outbox.services import email_from_templates, emails_queue_and_send
from surveys.answers import batch_memo, text_sentiment
from surveys.cadence import quarter_label, quarter_start
from surveys.models import Response, Stream, verbatim

from . import rollups
from .models import Alert, ExampleSource, Tag, TagHow, Theme, ThemeExample
from .nps import Score, display
from .selectors import SCORE_COUNTS
from .tagging import Match, Tagger, explain

logger = logging.getLogger(__name__)
ALERT_DIMENSIONS = ["segment", "plan_tier", "region", "industry", "product_line"]


def tags_write(pairs: list[tuple[int, list[Match]]], *, new: bool = False) -> None:
    """Replace the tags of each response (an id) with its matches; a `new` response has none to clear."""
    if not new:
        Tag.objects.filter(response_id__in=[pk for pk, _ in pairs]).delete()
    Tag.objects.bulk_create(
        [
            Tag(theme_id=m.theme_id, response_id=pk, how=m.how, why={**m.why, "text": explain(m.how, m.why)})
            for pk, matches in pairs
            for m in matches
        ],
        ignore_conflicts=True,
    )


def response_tag(response: Response, *, new: bool = False) -> None:
    """Tag a response's reason (and "what would make it a 10") with its themes, each with its reason,
    replacing its earlier tags (a `new` response has none to clear)."""
    tagger = batch_memo("tagger", Tagger.current)  # once per routing batch
    text = response.verbatim
    tags_write([(response.pk, tagger.tag(text, response.language, response.pk))], new=new)


def response_tag_consumer(*, response: Response, previous_category: str) -> None:
    """settings.RESPONSE_CONSUMERS: tag a response after each change (one never routed has no tags)."""
    response_tag(response, new=not previous_category)


def responses_retag(chunk: int = 2000, progress=None) -> int:
    """Re-tag (and re-read the sentiment of) every response after the taxonomy or its examples
    changed: a background task. Corrections made by hand are kept."""
    tagger = Tagger.current()
    total = Response.objects.count()
    done = 0
    last = 0
    while True:
        batch = list(
            Response.objects.filter(pk__gt=last)
            .order_by("pk")
            .values_list("pk", "reason", "improvement", "language", "sentiment", "sentiment_score")[:chunk]
        )
        if not batch:
            return done
        texts = [(verbatim(reason, improvement), lang, pk) for pk, reason, improvement, lang, *_ in batch]
        matches = tagger.tag_many(texts)
        with transaction.atomic():
            rollups.themes_changed()  # first: the theme figures leave the rollups until they are rebuilt
            tags_write([(pk, found) for (_, _, pk), found in zip(texts, matches, strict=True)])
            for pk, reason, improvement, lang, *old in batch:
                tone = text_sentiment(reason, improvement, language=lang)  # as the answer path reads it
                if list(tone.values()) != old:
                    Response.objects.filter(pk=pk).update(**tone)
        done += len(batch)
        last = batch[-1][0]
        if progress:
            progress(done, total)


def tag_correct(*, response: Response, theme: Theme, present: bool, user) -> None:
    """A person says the response is (or is not) about the theme: the tag follows at once, the
    correction is kept through every re-tagging and becomes an example for other responses."""
    text = response.verbatim
    with transaction.atomic():
        ThemeExample.objects.update_or_create(
            theme=theme, response=response,
            defaults={"text": text, "positive": present, "source": ExampleSource.CORRECTION, "created_by": user},
        )  # fmt: skip
        if present:
            Tag.objects.update_or_create(
                theme=theme,
                response=response,
                defaults={"how": TagHow.MANUAL, "why": {"corrected": True, "text": f"Set by hand by {user}."}},
            )
        else:
            Tag.objects.filter(theme=theme, response=response).delete()
        # The API's `updated_since` and the rollups see the change; a sealed day's theme rows are rebuilt.
        Response.objects.filter(pk=response.pk).update(updated_at=timezone.now())
        rollups.theme_day_changed(response.submitted_at)


def retag_soon() -> None:
    from .tasks import retag

    transaction.on_commit(retag.delay)


# Decline alerts ------------------------------------------------------------------------------------


def declines_check(now: datetime | None = None) -> list[Alert]:
    """For each stream and segment value: NPS of the last three full quarters; down twice in a row,
    each time beyond the margin of the difference, raises one alert (a constraint keeps it one).
    Checked over every team's answers (for Admins) and within each team (for its Managers)."""
    from accounts.models import Team

    now = now or timezone.now()
    this_quarter = quarter_start(now)
    start = this_quarter - relativedelta(months=9)  # exactly the last three full quarters
    raised = []
    for stream in Stream.values:
        period = Response.objects.filter(
            stream=stream, submitted_at__gte=start, submitted_at__lt=this_quarter, is_test=False
        )
        for team in [None, *Team.objects.all()]:
            base = period if team is None else period.filter(team=team)
            for dimension in ALERT_DIMENSIONS:
                raised += _declines_in(base, stream, team, dimension)
    return raised


def _declines_in(base, stream: str, team, dimension: str) -> list[Alert]:
    rows = base.annotate(q=TruncQuarter("submitted_at")).order_by().values(dimension, "q").annotate(**SCORE_COUNTS)
    series: dict[str, list[tuple[datetime, Score]]] = {}
    for row in rows:
        value, quarter = row.pop(dimension), row.pop("q")
        if value:
            series.setdefault(value, []).append((quarter, Score(**row)))
    raised = []
    for value, points in series.items():
        points.sort(key=lambda p: p[0])
        if len(points) < 3:
            continue
        (_, a), (_, b), (q3, c) = points[-3:]
        if _declined(a, b) and _declined(b, c):
            alert = _raise(stream, team, dimension, value, quarter_label(q3), [a, b, c])
            if alert:
                raised.append(alert)
    return raised


def _declined(before: Score, after: Score) -> bool:
    from .nps import significant_change

    return (
        after.nps is not None
        and before.nps is not None
        and after.nps < before.nps
        and bool(significant_change(before, after))
    )


def _raise(stream: str, team, dimension: str, value: str, period: str, scores: list[Score]) -> Alert | None:
    try:
        with transaction.atomic():
            alert = Alert.objects.create(
                stream=stream, team=team, dimension=dimension, value=value, period=period,
                nps_values=[display(s.nps) for s in scores],
            )  # fmt: skip
            publish("alert.decline", alert)
            # Each alert to those whose figures it comes from: the team's Managers, or the Admins.
            if team is None:
                managers = User.objects.filter(role=Role.ADMIN, is_active=True)
            else:
                managers = User.objects.filter(role=Role.MANAGER, team=team, is_active=True)
            emails_queue_and_send([
                email_from_templates(
                    "decline_alert", key=f"decline_alert:{alert.pk}:{m.pk}", to=m.email,
                    context={"alert": alert, "url": settings.SITE_URL + reverse("insights:dashboard")},
                )
                for m in managers
            ])  # fmt: skip
            return alert
    except IntegrityError:
        return None  # raised already for this segment and period
