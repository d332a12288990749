"""The labelled verbatims of tests/data/verbatims.csv, split in halves that never mix: odd ids
tune (thresholds, lexicon), even ids measure. Used by tests/test_intelligence.py and
bench/bench_intelligence.py."""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from pathlib import Path

DATA = Path(__file__).parent / "data" / "verbatims.csv"


@dataclass(frozen=True)
class Row:
    id: int
    lang: str
    sentiment: str
    themes: frozenset[str]
    text: str


def rows(split: str) -> list[Row]:
    with DATA.open(encoding="utf-8") as f:
        out = [
            Row(int(r["id"]), r["lang"], r["sentiment"], frozenset(filter(None, r["themes"].split(","))), r["text"])
            for r in csv.DictReader(f)
        ]
    return [r for r in out if (r.id % 2 == 1) == (split == "tune")]


def scores(predicted: list[set[str]], truth: list[frozenset[str]]) -> dict[str, float]:
    """Micro-averaged precision, recall and F1 over (text, theme) pairs."""
    tp = sum(len(p & t) for p, t in zip(predicted, truth, strict=True))
    fp = sum(len(p - t) for p, t in zip(predicted, truth, strict=True))
    fn = sum(len(t - p) for p, t in zip(predicted, truth, strict=True))
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": round(precision, 3), "recall": round(recall, 3), "f1": round(f1, 3)}


def keyword_matcher(taxonomy: dict[str, list[str]], texts: list[str]) -> list[set[str]]:
    """The matcher Rebound had before: whole words, any case, no stems, no compounds."""
    patterns = {
        name: re.compile(r"\b(?:" + "|".join(re.escape(w) for w in words) + r")\b", re.IGNORECASE)
        for name, words in taxonomy.items()
    }
    return [{name for name, p in patterns.items() if p.search(text)} for text in texts]


def tagger_predictions(taxonomy: dict[str, list[str]], examples: list[Row], measured: list[Row], **kwargs):
    """The tagger with the taxonomy and `examples` (labelled rows) as accepted examples."""
    from insights.tagging import Example, Rule, Tagger

    names = list(taxonomy)
    rules = [Rule(i, tuple(taxonomy[name])) for i, name in enumerate(names)]
    exs = [Example(names.index(theme), row.text) for row in examples for theme in row.themes]
    tagger = Tagger(rules, exs, **kwargs)
    matches = tagger.tag_many([(row.text, row.lang, None) for row in measured])
    return [{names[m.theme_id] for m in found} for found in matches]


def seeded_taxonomy() -> dict[str, list[str]]:
    """The default themes with their English and German keywords (insights migration 0006)."""
    from importlib import import_module

    m = import_module("insights.migrations.0006_tags_examples_discovery_risk")
    return {name: [k for k in f"{kw}\n{m.GERMAN[name]}".splitlines() if k] for name, kw in m.SEEDED.items()}
