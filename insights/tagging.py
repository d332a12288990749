"""Tagging verbatims with themes, each tag with its reason.

A theme is found in a text in two ways, in this order:

1. **Keyword**: one of the theme's keywords or phrases, matched as whole words in any inflected
   form (Snowball stems: "invoices" and "invoicing" find "invoice"), or, in German, as the head or
   tail of a compound ("Supportanfragen", "Rückerstattung"). The reason names the keyword and the
   words it matched. A negated match does not count: "not slow at all" and "ohne Schulung" are
   not complaints about speed or training.
2. **Like its examples**: the text is close enough (cosine similarity of ``insights.vectors``) to
   an accepted example of the theme, and closer to it than to any example marked "not this theme".
   The reason lists the nearest examples with their similarity.

A person's correction wins over both: a theme added by hand stays, a theme removed by hand never
comes back on that response (``ThemeExample`` rows, which are also examples for the others).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache

import numpy as np

from .text import CLAUSE_END, guess_language, stem, tokens, words
from .vectors import backend as vector_backend
from .vectors import similarities

# The similarity from which a text counts as like a theme's examples, per backend: tuned on the
# tuning half of tests/data/verbatims.csv (leave-one-out), measured on the other half.
SIMILAR_AT = {"words": 0.3, "wordllama": 0.7}
EXAMPLES_PER_THEME = 50  # the most recent; older ones add little and cost a comparison each
SNIPPET = 140


@dataclass(frozen=True)
class Example:
    theme_id: int
    text: str
    positive: bool = True
    response_id: int | None = None


@dataclass(frozen=True)
class Rule:
    theme_id: int
    keywords: tuple[str, ...]


@dataclass
class Match:
    theme_id: int
    how: str  # "keyword" | "similar" | "manual"
    why: dict = field(default_factory=dict)


@cache
def _phrase(keyword: str, lang: str) -> tuple[str, ...]:
    return tuple(stem(w, lang) for w in words(keyword) if w not in CLAUSE_END)


def _keyword_hit(keyword: str, toks, lang: str) -> str | None:
    """The words of the text that match the keyword, not negated; or None."""
    phrase = _phrase(keyword, lang)
    if not phrase:
        return None
    size = len(phrase)
    for i in range(len(toks) - size + 1):
        window = toks[i : i + size]
        if not all(_same(t, p, k) for t, p, k in zip(window, phrase, keyword.split(), strict=False)):
            continue
        if any(t.negated and _evaluative(t, lang) for t in window):
            continue  # "not slow at all" is no complaint about speed ("no performance problems" still is)
        return " ".join(t.word for t in window)
    if size == 1 and len(keyword) >= 5:  # inside a compound: Supportanfragen, Performance-Probleme
        for t in toks:
            if t.negated and _evaluative(t, lang):
                continue
            if "-" in t.word and keyword in t.word.split("-"):
                return t.word
            if (
                lang == "de"
                and len(t.word) >= len(keyword) + 3
                and (t.word.startswith(keyword) or t.word.endswith(keyword))
            ):
                return t.word
    return None


def _same(tok, keyword_stem: str, keyword_word: str) -> bool:
    if tok.word == keyword_word:
        return True
    if tok.stem != keyword_stem:
        return False
    # A keyword the stemmer cuts deep ("helpful" → "help", "documentation" → "document") matches
    # only words of about its length: "helpfully", not "help"; not "documents".
    return len(keyword_word) - len(keyword_stem) < 3 or abs(len(tok.word) - len(keyword_word)) <= 2


def _evaluative(tok, lang: str) -> bool:
    from .text import _lexicon

    return bool(_lexicon(lang).get(tok.word) or _lexicon(lang).get(tok.stem))


class Tagger:
    """The taxonomy, its examples and the corrections, ready to tag many texts."""

    def __init__(self, rules: list[Rule], examples: list[Example], *, backend=None, threshold: float | None = None):
        self.rules = rules
        self.backend = backend or vector_backend()
        self.threshold = SIMILAR_AT.get(self.backend.name, 0.5) if threshold is None else threshold
        # Corrections of one response are rules for that response, not only examples for others.
        self.corrected: dict[int, dict[int, bool]] = {}
        for e in examples:
            if e.response_id is not None:
                self.corrected.setdefault(e.response_id, {})[e.theme_id] = e.positive
        self.examples = [e for e in examples if e.text.strip()]
        self._vectors = self.backend.embed([e.text for e in self.examples]) if self.examples else None
        self._themes = np.array([e.theme_id for e in self.examples])
        self._positive = np.array([e.positive for e in self.examples], dtype=bool)
        self._responses = np.array([e.response_id or 0 for e in self.examples])

    @classmethod
    def current(cls, **kwargs) -> Tagger:
        """From the database: every theme, the latest examples of each, every correction."""
        from .models import Theme, ThemeExample

        rules = [Rule(t.pk, tuple(t.keyword_list)) for t in Theme.objects.all()]
        examples = []
        for theme_id in [r.theme_id for r in rules]:
            rows = ThemeExample.objects.filter(theme_id=theme_id).values_list("text", "positive", "response_id")
            examples += [Example(theme_id, text, pos, rid) for text, pos, rid in rows[:EXAMPLES_PER_THEME]]
        # Corrections beyond the latest 50 still hold for their own responses.
        older = ThemeExample.objects.filter(response__isnull=False).values_list("theme_id", "positive", "response_id")
        seen = {(e.theme_id, e.response_id) for e in examples}
        examples += [Example(t, "", pos, rid) for t, pos, rid in older if (t, rid) not in seen]
        return cls(rules, examples, **kwargs)

    def tag(self, text: str, lang: str = "", response_id: int | None = None) -> list[Match]:
        return self.tag_many([(text, lang, response_id)])[0]

    def tag_many(self, items: list[tuple[str, str, int | None]]) -> list[list[Match]]:
        """Each text's themes with their reasons, in taxonomy order."""
        results: list[dict[int, Match]] = []
        for text, lang, _ in items:
            found: dict[int, Match] = {}
            if text.strip():
                lang = guess_language(text, lang)
                toks = tokens(text, lang)
                for rule in self.rules:
                    for keyword in rule.keywords:
                        hit = _keyword_hit(keyword, toks, lang)
                        if hit:
                            found[rule.theme_id] = Match(rule.theme_id, "keyword", {"keyword": keyword, "words": hit})
                            break
            results.append(found)
        if self._vectors is not None and self._vectors.shape[0]:
            self._add_similar(items, results)
        out = []
        order = {r.theme_id: i for i, r in enumerate(self.rules)}
        for (_, _, response_id), found in zip(items, results, strict=True):
            for theme_id, positive in self.corrected.get(response_id, {}).items():
                if positive:
                    found[theme_id] = Match(theme_id, "manual", {"corrected": True})
                else:
                    found.pop(theme_id, None)
            out.append(sorted(found.values(), key=lambda m: order.get(m.theme_id, len(order))))
        return out

    def _add_similar(self, items, results) -> None:
        texts = [text for text, _, _ in items]
        live = [i for i, t in enumerate(texts) if t.strip()]
        if not live:
            return
        sims = similarities(self.backend.embed([texts[i] for i in live]), self._vectors)
        for row, i in enumerate(live):
            own = items[i][2]
            for theme_id in np.unique(self._themes):
                if theme_id in results[i]:
                    continue
                mask = self._themes == theme_id
                pos, neg = mask & self._positive, mask & ~self._positive
                if own is not None:  # a response is never its own example
                    pos, neg = pos & (self._responses != own), neg & (self._responses != own)
                if not pos.any():
                    continue
                best = sims[row][pos].max()
                if best < self.threshold or (neg.any() and sims[row][neg].max() >= best):
                    continue
                nearest = np.flatnonzero(pos)[np.argsort(-sims[row][pos])[:2]]
                results[i][int(theme_id)] = Match(
                    int(theme_id),
                    "similar",
                    {
                        "examples": [
                            {"text": self.examples[k].text[:SNIPPET], "similarity": round(float(sims[row][k]), 2)}
                            for k in nearest
                        ]
                    },
                )


def explain(how: str, why: dict) -> str:
    """A tag's reason in words, for pages, exports and the API."""
    if how == "manual":
        return "Set by hand."
    if how == "similar":
        nearest = why.get("examples") or []
        if not nearest:
            return "Like the theme's examples."
        first = nearest[0]
        return f"Like the example “{first['text']}” (similarity {first['similarity']:.2f})."
    if why.get("words") and why.get("words") != why.get("keyword"):
        return f"Keyword “{why.get('keyword')}” in “{why['words']}”."
    return f"Keyword “{why.get('keyword', '')}”."
