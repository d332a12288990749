"""Benchmark: verbatim intelligence and detractor risk on this machine's CPU (issue 16).

Loads the shared population (bench/population.py: 5,000 accounts, 50,000 contacts) with enough
responses for 50,000 relationship verbatims, rewrites their reasons from the labelled verbatims of
tests/data (recombined, so no two are alike) and gives one contact in seven a run of low scores
(a signal for the risk model to find). Then, each step in a fresh process so that its peak memory
is its own:

* theme discovery over the 50,000 verbatims with the word-stem backend (the base install), then
  with WordLlama (the AI extra), when installed;
* the detractor-risk model: loading the history, training with time-ordered validation, and
  scoring every eligible contact (50,000).

It prints time and peak memory (VmHWM) of each step, and fails unless discovery proposed themes and
every contact was scored.

    .venv/bin/python bench/bench_intelligence.py
    .venv/bin/python bench/bench_intelligence.py --verbatims 20000

Uses (drops and recreates) the database rebound_bench_intelligence.
"""

from __future__ import annotations

import argparse
import csv
import json
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import environment, reset_database  # noqa: E402
from bench.population import POPULATE  # noqa: E402

ENV = environment("rebound_bench_intelligence")

FILLERS = ["", "Honestly.", "Since last quarter.", "For our whole team.", "Again this month.", "As before.",
           "In every release.", "Thanks.", "Please look at it.", "Same as last time."]  # fmt: skip


def peak_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def child(step: str, engine: str) -> None:
    """One measured step, in this fresh process; prints a JSON line."""
    import django

    django.setup()
    from datetime import timedelta

    from django.utils import timezone

    started = time.perf_counter()
    if step == "discover":
        from django.conf import settings

        from insights import discovery

        settings.INSIGHTS_EMBEDDINGS = engine
        now = timezone.now()
        found, count = discovery.discover("relationship", now - timedelta(days=800), now + timedelta(days=1))
        result = {"verbatims": count, "themes": len(found), "names": [s.name for s in found][:8]}
    else:
        from insights import risk

        history = risk.History.load()
        loaded = time.perf_counter() - started
        model = risk.train(trigger="bench", history=history)
        trained = time.perf_counter() - started - loaded
        scored = risk.score(model, history=history)
        result = {"status": model.status, "labelled": model.labelled, "auc": model.metrics.get("auc"),
                  "scored": scored, "load_s": round(loaded, 1), "train_s": round(trained, 1)}  # fmt: skip
    result.update(seconds=round(time.perf_counter() - started, 1), peak_mb=round(peak_mb()))
    print(json.dumps(result))


def run(step: str, engine: str = "") -> dict:
    out = subprocess.run(
        [sys.executable, __file__, "--child", step, "--engine", engine], env=ENV, capture_output=True, text=True,
        check=False,
    )  # fmt: skip
    if out.returncode:
        sys.exit(f"FAIL: {step} {engine}\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def load(verbatims: int) -> None:
    import django

    django.setup()
    from django.db import connection

    reset_database()
    texts = [row["text"] for row in csv.DictReader((ROOT / "tests/data/verbatims.csv").open(encoding="utf-8"))]
    responses = int(verbatims / 0.8) + 1  # 80 % of the population's responses are relationship ones
    with connection.cursor() as cursor:
        cursor.execute(POPULATE.replace("%(n)s", str(responses)))
        cursor.execute(
            "UPDATE surveys_response SET reason = (%s::text[])[1 + id %% %s] || ' ' "
            "|| (%s::text[])[1 + (id / %s) %% %s] || ' (' || id %% 1000 || ')'",
            [texts, len(texts), FILLERS, len(texts), len(FILLERS)],
        )
        # One contact in seven keeps answering low: a signal for the risk model.
        cursor.execute("UPDATE surveys_response SET score = id % 5, category = 'detractor' WHERE contact_id % 7 = 0")
        cursor.execute("SELECT count(*) FROM surveys_response WHERE stream = 'relationship' AND reason <> ''")
        print(f"{cursor.fetchone()[0]:,} relationship verbatims, 50,000 contacts loaded", flush=True)
    connection.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--verbatims", type=int, default=50_000)
    parser.add_argument("--child", choices=["discover", "risk"])
    parser.add_argument("--engine", default="")
    arguments = parser.parse_args()
    if arguments.child:
        child(arguments.child, arguments.engine)
        return
    started = time.perf_counter()
    load(arguments.verbatims)
    print(f"(loaded in {time.perf_counter() - started:.0f} s)")
    from insights.vectors import ai_available

    for engine in ["words", *(["wordllama"] if ai_available() else [])]:
        r = run("discover", engine)
        print(f"theme discovery, {engine:9}: {r['verbatims']:,} verbatims in {r['seconds']} s, peak {r['peak_mb']} MB, "
              f"{r['themes']} candidate themes: {', '.join(r['names'])}", flush=True)  # fmt: skip
        if not r["themes"]:
            sys.exit("FAIL: discovery proposed nothing")
    if not ai_available():
        print("theme discovery, wordllama: not measured (the AI extra is not installed)")
    r = run("risk")
    print(f"detractor risk: {r['labelled']:,} labelled answers; history loaded in {r['load_s']} s, trained and "
          f"validated in {r['train_s']} s (AUC {r['auc']}, {r['status']}), {r['scored']:,} contacts scored; "
          f"{r['seconds']} s in all, peak {r['peak_mb']} MB", flush=True)  # fmt: skip
    if r["scored"] < 50_000:
        sys.exit("FAIL: not every contact was scored")


if __name__ == "__main__":
    main()
