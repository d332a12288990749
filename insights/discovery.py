"""Theme discovery: cluster a stream's verbatims of a period and propose the clusters as themes.

The verbatims become vectors (``insights.vectors``: TF-IDF of word stems reduced by SVD in the
base install, WordLlama embeddings with the AI extra), k-means groups them (k chosen by the
silhouette on a sample, 4 to 12), and each group is proposed with

- a name from its most distinctive words (class-based TF-IDF: frequent in the group, rare outside),
- its size and its shares among Detractors, Passives and Promoters,
- its most representative verbatims (nearest the group's centre, kept different from each other),
- the existing theme it overlaps most, when one does (so an Admin merges rather than duplicates).

An Admin accepts a suggestion (a new theme, its words as keywords, its verbatims as examples),
merges it into an existing theme (its verbatims become that theme's examples) or dismisses it.
Runs as a background job with progress (``Discovery``), on demand and after each wave closes.
"""

from __future__ import annotations

import logging
import math
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
from django.db import IntegrityError, transaction
from django.db.models import F, Max
from django.utils import timezone

from config.jobs import Recovery, recover
from config.queueing import enqueue_on_commit
from surveys.models import Category, Response, Stream, Wave, verbatim

from .models import (
    Discovery,
    ExampleSource,
    JobStatus,
    Suggestion,
    SuggestionStatus,
    Tag,
    Theme,
    ThemeExample,
)
from .text import CLAUSE_END, guess_language, tokens
from .vectors import analyzer, backend, similarities

logger = logging.getLogger(__name__)

MIN_VERBATIMS = 30  # fewer than this makes no themes worth proposing
MAX_SUGGESTIONS = 12
EXAMPLES = 5
SAMPLE = 3000  # verbatims used to choose k
RECOVERY = Recovery(stale_after=timedelta(minutes=15))
WAVE_LOOKBACK = timedelta(days=120)  # closed waves older than this are not discovered any more


@dataclass
class Cluster:
    name: str
    terms: list[str]
    members: list[int]  # indexes into the verbatims
    examples: list[int]


# Jobs ------------------------------------------------------------------------------------------------


def discovery_start(
    *,
    stream: str,
    start: datetime,
    end: datetime,
    user=None,
    trigger: str = "manual",
    wave: Wave | None = None,
    dispatch: bool = True,
) -> Discovery | None:
    """Queue a discovery (for a worker, unless `dispatch` is off: the caller runs it); None when
    one of the stream is queued or running already."""
    try:
        with transaction.atomic():
            job = Discovery.objects.create(
                stream=stream, start=start, end=end, requested_by=user, trigger=trigger, wave=wave,
                backend=backend().name, dispatched_at=timezone.now(),
            )  # fmt: skip
    except IntegrityError:
        return None
    if dispatch:
        _dispatch(job.pk)
    return job


def _dispatch(job_id: int) -> None:
    from .tasks import discover

    Discovery.objects.filter(pk=job_id).update(dispatched_at=timezone.now())
    enqueue_on_commit(discover, job_id)


def discovery_run(job_id: int) -> Discovery | None:
    """Run a queued discovery (the worker's task, or ``manage.py discover_themes``)."""
    now = timezone.now()
    claimed = Discovery.objects.filter(pk=job_id, status=JobStatus.QUEUED).update(
        status=JobStatus.RUNNING, attempts=F("attempts") + 1, heartbeat_at=now, progress=0
    )
    if not claimed:
        return None
    job = Discovery.objects.get(pk=job_id)

    def progress(percent: int) -> None:
        Discovery.objects.filter(pk=job_id).update(progress=percent, heartbeat_at=timezone.now())

    try:
        found, count = discover(job.stream, job.start, job.end, progress=progress)
        with transaction.atomic():
            job.suggestions.all().delete()
            for suggestion in found:
                suggestion.discovery = job
            Suggestion.objects.bulk_create(found)
            done = Discovery.objects.filter(pk=job_id, status=JobStatus.RUNNING)
            message = "" if count >= MIN_VERBATIMS else f"{count} verbatims: at least {MIN_VERBATIMS} are needed."
            done.update(status=JobStatus.DONE, progress=100, verbatims=count, finished_at=timezone.now(),
                        message=message)  # fmt: skip
    except Exception as exc:
        logger.exception("Theme discovery %s failed.", job_id)
        Discovery.objects.filter(pk=job_id).update(
            status=JobStatus.FAILED, finished_at=timezone.now(), message=f"{type(exc).__name__}: {exc}"[:500]
        )
    job.refresh_from_db()
    return job


def discoveries_recover(now: datetime | None = None) -> dict[str, int]:
    return recover(Discovery, _dispatch, policy=RECOVERY, gave_up="The worker stopped three times.", now=now)


def discoveries_after_waves(now: datetime | None = None) -> list[Discovery]:
    """A discovery over each relationship wave that closed (its last invitation expired) recently."""
    now = now or timezone.now()
    started = []
    closed = (
        Wave.objects.filter(program__stream=Stream.RELATIONSHIP, scheduled_at__gte=now - WAVE_LOOKBACK)
        .annotate(closes=Max("invitations__expires_at"))
        .filter(closes__lt=now)
        .exclude(pk__in=Discovery.objects.filter(wave__isnull=False).values("wave_id"))
    )
    for wave in closed:
        job = discovery_start(
            stream=Stream.RELATIONSHIP, start=wave.scheduled_at, end=wave.closes, trigger="wave", wave=wave
        )
        if job:
            started.append(job)
    return started


# Decisions -------------------------------------------------------------------------------------------


def _examples_of(suggestion: Suggestion, theme: Theme, user) -> None:
    for example in suggestion.examples:
        ThemeExample.objects.get_or_create(
            theme=theme, response_id=example["response"],
            defaults={"text": example["text"], "positive": True, "source": ExampleSource.DISCOVERY, "created_by": user},
        )  # fmt: skip


def _decide(suggestion: Suggestion, status: str, user, theme: Theme | None = None) -> None:
    suggestion.status, suggestion.theme, suggestion.decided_by = status, theme, user
    suggestion.decided_at = timezone.now()
    suggestion.save(update_fields=["status", "theme", "decided_by", "decided_at"])


def suggestion_accept(suggestion: Suggestion, *, user, name: str = "") -> Theme:
    """A new theme: the suggestion's words as its keywords, its verbatims as its examples."""
    from .services import retag_soon

    name = (name or suggestion.name).strip()[:60]
    with transaction.atomic():
        base, n = name, 2
        while Theme.objects.filter(name__iexact=name).exists():
            name = f"{base[:56]} ({n})"
            n += 1
        keywords = [t for t in suggestion.terms if " " not in t][:5]
        theme = Theme.objects.create(name=name, keywords="\n".join(keywords))
        _examples_of(suggestion, theme, user)
        _decide(suggestion, SuggestionStatus.ACCEPTED, user, theme)
        retag_soon()
    return theme


def suggestion_merge(suggestion: Suggestion, theme: Theme, *, user) -> None:
    """The suggestion's verbatims become examples of an existing theme."""
    from .services import retag_soon

    with transaction.atomic():
        _examples_of(suggestion, theme, user)
        _decide(suggestion, SuggestionStatus.MERGED, user, theme)
        retag_soon()


def suggestion_dismiss(suggestion: Suggestion, *, user) -> None:
    _decide(suggestion, SuggestionStatus.DISMISSED, user)


def current_suggestions(stream: str | None = None):
    """The open suggestions of the latest finished discovery (of the stream, when given)."""
    jobs = Discovery.objects.filter(status=JobStatus.DONE)
    if stream:
        jobs = jobs.filter(stream=stream)
    latest = jobs.first()
    if latest is None:
        return latest, Suggestion.objects.none()
    return latest, latest.suggestions.filter(status=SuggestionStatus.OPEN)


# The clustering --------------------------------------------------------------------------------------


def discover(stream: str, start: datetime, end: datetime, *, progress=lambda p: None) -> tuple[list[Suggestion], int]:
    """Suggestions (unsaved) from the stream's verbatims in [start, end), and how many verbatims."""
    rows = list(
        Response.objects.filter(stream=stream, submitted_at__gte=start, submitted_at__lt=end, is_test=False)
        .exclude(reason="", improvement="")
        .order_by("pk")
        .values_list("pk", "reason", "improvement", "category", "score")
    )
    ids, texts, categories, scores = [], [], [], []
    for pk, reason, improvement, category, score in rows:
        text = verbatim(reason, improvement).strip()
        if len(analyzer(text)) >= 1:
            ids.append(pk)
            texts.append(text)
            categories.append(category)
            scores.append(score)
    progress(10)
    if len(texts) < MIN_VERBATIMS:
        return [], len(texts)
    clusters = cluster_texts(texts, progress=progress)
    progress(90)
    tags = defaultdict(Counter)
    for response_id, theme_id, theme_name in Tag.objects.filter(response_id__in=ids).values_list(
        "response_id", "theme_id", "theme__name"
    ):
        tags[response_id][(theme_id, theme_name)] += 1
    found = []
    for c in clusters:
        cats = Counter(categories[i] for i in c.members)
        size = len(c.members)
        overlap = Counter()
        for i in c.members:
            overlap.update(tags[ids[i]].keys())
        top = overlap.most_common(1)
        found.append(
            Suggestion(
                name=c.name, terms=c.terms, size=size,
                detractor_share=cats[Category.DETRACTOR] / size, passive_share=cats[Category.PASSIVE] / size,
                promoter_share=cats[Category.PROMOTER] / size,
                examples=[{"response": ids[i], "score": scores[i], "text": texts[i][:300]} for i in c.examples],
                overlap={"theme": top[0][0][0], "name": top[0][0][1], "share": round(top[0][1] / size, 3)}
                if top and top[0][1] / size >= 0.3 else {},
            )
        )  # fmt: skip
    return found, len(texts)


def _vectors(texts: list[str], engine):
    """Unit rows: LSA (TF-IDF of stems, reduced by SVD) for words, the embeddings otherwise."""
    from sklearn.preprocessing import normalize

    if engine.name == "wordllama":
        return np.asarray(engine.embed(texts), dtype=np.float32)
    from sklearn.decomposition import TruncatedSVD
    from sklearn.feature_extraction.text import TfidfVectorizer

    tfidf = TfidfVectorizer(analyzer=analyzer, min_df=2, max_df=0.5, sublinear_tf=True, dtype=np.float32)
    matrix = tfidf.fit_transform(texts)
    dims = max(2, min(100, matrix.shape[1] - 1, len(texts) - 1))
    reduced = TruncatedSVD(n_components=dims, random_state=0).fit_transform(matrix)
    return normalize(reduced).astype(np.float32)


def _kmeans(k: int, n: int):
    from sklearn.cluster import KMeans, MiniBatchKMeans

    if n > 10_000:
        return MiniBatchKMeans(n_clusters=k, random_state=0, n_init=3, batch_size=4096)
    return KMeans(n_clusters=k, random_state=0, n_init=4)


def choose_k(vectors: np.ndarray) -> int:
    """The number of groups with the best silhouette (cosine) on a sample, from 4 to 12."""
    from sklearn.metrics import silhouette_score

    n = len(vectors)
    rng = np.random.default_rng(0)
    sample = vectors[rng.choice(n, size=min(n, SAMPLE), replace=False)]
    best, best_k = -2.0, 4
    for k in range(4, min(12, max(4, len(sample) // 10)) + 1):
        labels = _kmeans(k, len(sample)).fit_predict(sample)
        if len(set(labels)) < 2:
            continue
        score = silhouette_score(sample, labels, metric="cosine", sample_size=min(2000, len(sample)), random_state=0)
        if score > best:
            best, best_k = score, k
    return best_k


def cluster_texts(texts: list[str], *, engine=None, progress=lambda p: None) -> list[Cluster]:
    """Group the texts; the groups worth proposing, largest first."""
    engine = engine or backend()
    vectors = _vectors(texts, engine)
    progress(40)
    k = choose_k(vectors)
    progress(70)
    model = _kmeans(k, len(vectors)).fit(vectors)
    labels = model.labels_
    smallest = max(5, math.ceil(0.01 * len(texts)))
    names = _names(texts, labels, k)
    clusters = []
    for label in range(k):
        members = np.flatnonzero(labels == label)
        if len(members) < smallest or not names[label]:
            continue
        centre = vectors[members].mean(axis=0)
        clusters.append(
            Cluster(
                name=" / ".join(w.capitalize() for w in names[label][:2])[:60],
                terms=names[label],
                members=members.tolist(),
                examples=_representatives(vectors, members, centre),
            )
        )
    clusters.sort(key=lambda c: -len(c.members))
    return clusters[:MAX_SUGGESTIONS]


def _representatives(vectors: np.ndarray, members: np.ndarray, centre: np.ndarray, n: int = EXAMPLES) -> list[int]:
    """The verbatims nearest the centre, each unlike those already picked (maximal marginal relevance)."""
    member_vectors = vectors[members]  # dense rows, or sparse ones (hashed words)
    relevance = np.asarray(member_vectors @ centre).ravel()
    candidates = list(np.argsort(-relevance)[:200])
    picked: list[int] = []
    while candidates and len(picked) < n:
        if picked:
            redundancy = similarities(member_vectors[candidates], member_vectors[picked]).max(axis=1)
        else:
            redundancy = np.zeros(len(candidates))
        fresh = [i for i, r in enumerate(redundancy) if r < 0.98]  # the same words twice say nothing new
        if not fresh:
            break
        scores = 0.7 * relevance[candidates] - 0.3 * redundancy
        best = candidates.pop(max(fresh, key=lambda i: scores[i]))
        picked.append(best)
    return [int(members[i]) for i in picked]


def _names(texts: list[str], labels: np.ndarray, k: int) -> list[list[str]]:
    """Each group's most distinctive words (class-based TF-IDF), written as customers write them."""
    surface: dict[str, Counter] = defaultdict(Counter)
    in_group: list[Counter] = [Counter() for _ in range(k)]
    everywhere: Counter = Counter()
    sizes = Counter(labels.tolist())
    for text, label in zip(texts, labels, strict=True):
        lang = guess_language(text)
        seen = set()
        for tok in tokens(text, lang):
            if tok.word in CLAUSE_END or len(tok.word) < 3:
                continue
            surface[tok.stem][tok.word] += 1
            seen.add(tok.stem)
        stems = set(analyzer(text)) & seen  # content words only (the analyzer drops stop words)
        in_group[label].update(stems)
        everywhere.update(stems)
    n = len(texts)
    names = []
    for label in range(k):
        size = sizes[label] or 1
        scored = []
        for term, count in in_group[label].items():
            if count < max(2, 0.05 * size):
                continue
            inside = count / size
            outside = (everywhere[term] - count) / max(1, n - size)
            scored.append((inside * math.log(1 + inside / (outside + 1e-3)), term))
        scored.sort(reverse=True)
        names.append([surface[t].most_common(1)[0][0] for _, t in scored[:6]])
    return names
