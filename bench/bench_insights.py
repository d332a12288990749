"""Benchmark: the insights on PostgreSQL with 1,000,000 responses.

Times (median of repeated calls) the summary, the quarterly trend and one segment table through
the project's own selectors, counted from the responses, and in the same run the equivalent
hand-written SQL; prints each ratio (target: within 2x of the raw SQL). Then builds the daily
rollups (insights.rollups, as the analytics tick does) and times the same figures through them,
the overall NPS of all million responses against django-nps over its own table of the same million
scores (target: faster than the peer), and the whole pages (dashboard under 250 ms, every insights
page under 500 ms, median on this machine).

    .venv/bin/python bench/bench_insights.py                  # 1,000,000 responses
    .venv/bin/python bench/bench_insights.py --responses 200000 --repeat 5

Needs PostgreSQL at its local address; uses (drops and recreates) the database rebound_bench_insights.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import environment, reset_database  # noqa: E402
from bench.population import POPULATE as POPULATION  # noqa: E402

environment("rebound_bench_insights", BENCH_PEER="1")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402

from accounts import scoping  # noqa: E402
from accounts.models import Role, User  # noqa: E402
from insights import rollups, selectors  # noqa: E402
from insights.filters import filters_from  # noqa: E402

PEER = """
-- django-nps's own table: the same million scores, each with its group, as its form saves them
INSERT INTO net_promoter_score_userscore (timestamp, score, reason, "group", source, user_id)
SELECT r.submitted_at, r.score, r.reason,
    CASE WHEN r.score >= 9 THEN 'promoter' WHEN r.score >= 7 THEN 'neutral' ELSE 'detractor' END, '', u.id
FROM surveys_response r CROSS JOIN (SELECT id FROM accounts_user WHERE email = 'peer@example.com') u;
ANALYZE;
"""
# Theme tags, as the re-tag job leaves them: one in three commented responses gets its theme by keyword,
# one in twelve a second one (so that drivers and the theme tables have something to weigh).
TAGS = """
INSERT INTO insights_theme_responses (theme_id, response_id, how, why)
SELECT t.id, r.id, 'keyword', '{}'::jsonb
FROM surveys_response r JOIN insights_theme t ON t.id = (SELECT min(id) FROM insights_theme) + r.id %% 8
WHERE r.reason <> '' AND r.id %% 3 = 1
UNION ALL
SELECT t.id, r.id, 'keyword', '{}'::jsonb
FROM surveys_response r JOIN insights_theme t ON t.id = (SELECT min(id) FROM insights_theme) + (r.id / 7) %% 8
WHERE r.reason <> '' AND r.id %% 12 = 1 AND (r.id / 7) %% 8 <> r.id %% 8;
"""
POPULATE = POPULATION.replace("ANALYZE;", "") + TAGS.replace("%%", "%") + PEER


RAW = {
    "summary": """
        SELECT count(*) FILTER (WHERE score = 0), count(*) FILTER (WHERE score = 1), count(*) FILTER (WHERE score = 2),
               count(*) FILTER (WHERE score = 3), count(*) FILTER (WHERE score = 4), count(*) FILTER (WHERE score = 5),
               count(*) FILTER (WHERE score = 6), count(*) FILTER (WHERE score = 7), count(*) FILTER (WHERE score = 8),
               count(*) FILTER (WHERE score = 9), count(*) FILTER (WHERE score = 10),
               count(*) FILTER (WHERE reason <> '')
        FROM surveys_response WHERE stream = %s AND submitted_at >= %s AND submitted_at < %s""",
    "trend": """
        SELECT date_trunc('quarter', submitted_at AT TIME ZONE 'UTC') AS q,
               count(*) FILTER (WHERE category = 'promoter'), count(*) FILTER (WHERE category = 'passive'),
               count(*) FILTER (WHERE category = 'detractor')
        FROM surveys_response WHERE stream = %s AND submitted_at >= %s AND submitted_at < %s GROUP BY q ORDER BY q""",
    "segments": """
        SELECT segment, count(*) FILTER (WHERE category = 'promoter'), count(*) FILTER (WHERE category = 'passive'),
               count(*) FILTER (WHERE category = 'detractor')
        FROM surveys_response WHERE stream = %s AND submitted_at >= %s AND submitted_at < %s GROUP BY segment""",
}


def median_ms(function, repeat: int) -> float:
    function()  # warm
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        function()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def raw(sql: str, filters) -> list:
    with connection.cursor() as cursor:
        cursor.execute(sql, [filters.stream, filters.start, filters.end])
        return cursor.fetchall()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--responses", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=9)
    arguments = parser.parse_args()
    settings.ALLOWED_HOSTS = ["*"]
    reset_database()
    User.objects.create_user("peer@example.com", "pw")  # django-nps's scores belong to a user
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(POPULATE.replace("%(n)s", str(arguments.responses)))
    from surveys.answers import latest_answers_rebuild

    latest_answers_rebuild()  # what routing keeps current; the load bypassed it
    print(f"{arguments.responses:,} responses loaded in {time.perf_counter() - started:.0f} s", flush=True)
    filters, _ = filters_from({"stream": "relationship", "period": "year"})
    qs = selectors.responses(scoping.SYSTEM, filters)
    cases = {
        "summary": lambda: selectors.overview(qs),  # score, distribution and comment rate
        "trend": lambda: selectors.trend(qs, "quarter"),
        "segments": lambda: selectors.segment_table(qs, "segment"),
    }
    assert selectors.overview(qs).score.responses == sum(raw(RAW["summary"], filters)[0][:11])
    for name, function in cases.items():
        ours = median_ms(function, arguments.repeat)
        theirs = median_ms(lambda sql=RAW[name]: raw(sql, filters), arguments.repeat)
        print(
            f"{name}: Rebound {ours:.0f} ms, raw SQL {theirs:.0f} ms, ratio {ours / theirs:.2f} (target <= 2)",
            flush=True,
        )
    started = time.perf_counter()
    built = rollups.refresh()
    print(f"daily rollups built in {time.perf_counter() - started:.1f} s ({built['added']} days)", flush=True)
    rolled = {
        "summary": lambda: selectors.summary(scoping.SYSTEM, filters),
        "trend": lambda: selectors.score_trend(scoping.SYSTEM, filters, "quarter"),
        "segments": lambda: selectors.segments(scoping.SYSTEM, filters, "segment"),
    }
    assert rolled["summary"]() == selectors.overview(qs)
    for name, function in rolled.items():
        ours = median_ms(function, arguments.repeat)
        theirs = median_ms(lambda sql=RAW[name]: raw(sql, filters), arguments.repeat)
        print(f"{name}, with rollups: {ours:.1f} ms, raw SQL {theirs:.0f} ms, ratio {ours / theirs:.2f}", flush=True)
    # The theme table and its quarterly trend (dashboard, drivers): through the theme rollups, and
    # counted from the tags joined to the responses (what every page did before them).
    assert selectors.theme_figures(scoping.SYSTEM, filters) == (selectors.theme_table(qs), selectors.theme_trend(qs))
    ours = median_ms(lambda: selectors.theme_figures(scoping.SYSTEM, filters), arguments.repeat)
    tags = median_ms(lambda: (selectors.theme_table(qs), selectors.theme_trend(qs)), arguments.repeat)
    print(f"themes table and trend: with rollups {ours:.1f} ms, from the tags {tags:.0f} ms", flush=True)

    # The peer: django-nps computes the NPS of its table with three COUNT queries.
    from net_promoter_score.models import UserScore

    everything, _ = filters_from({"stream": "relationship", "from": "2000-01-01"})
    for stream in ("relationship", "transactional"):
        part, _ = filters_from({"stream": stream, "from": "2000-01-01"})
        assert selectors.summary(scoping.SYSTEM, part) == selectors.overview(selectors.responses(scoping.SYSTEM, part))

    def ours_overall() -> float:  # both streams, all time: the peer has no streams
        scores = [selectors.summary(scoping.SYSTEM, filters_from({"stream": s, "from": "2000-01-01"})[0]).score
                  for s in ("relationship", "transactional")]  # fmt: skip
        promoters, detractors = sum(s.promoters for s in scores), sum(s.detractors for s in scores)
        return 100 * (promoters - detractors) / sum(s.responses for s in scores)

    assert abs(ours_overall() - UserScore.objects.net_promoter_score()) < 1e-9
    ours = median_ms(ours_overall, arguments.repeat)
    relationship = median_ms(lambda: selectors.summary(scoping.SYSTEM, everything), arguments.repeat)
    peer = median_ms(UserScore.objects.net_promoter_score, arguments.repeat)
    print(
        f"overall NPS of {UserScore.objects.count():,} scores: Rebound {ours:.1f} ms (relationship stream "
        f"alone {relationship:.1f} ms), django-nps {peer:.1f} ms, ratio {ours / peer:.2f} (target < 1)",
        flush=True,
    )

    admin = User.objects.create_user("bench@example.com", "pw", role=Role.ADMIN)
    client = Client()
    client.force_login(admin)
    pages = {
        "/insights/?stream=relationship&period=year": 250,
        "/insights/?stream=relationship&period=90d&by=region": 500,
        "/insights/?stream=relationship&period=year&region=EMEA": 500,  # a filter the rollups cannot answer
        "/insights/?stream=transactional&period=year&by=touchpoint": 500,
        "/insights/accounts/?period=year": 1000,  # "Accounts and the loop": < 1 s at 5,000 accounts / 1M responses
        "/api/v1/nps/?stream=relationship&from=2000-01-01": 500,
        "/insights/themes/": 500,
        "/insights/drivers/?stream=relationship&period=year": 500,
        "/insights/risk/": 500,
        "/insights/themes/discover/": 500,
    }
    theme = connection.cursor()
    theme.execute("SELECT min(theme_id) FROM insights_theme_responses")
    pages[f"/insights/themes/{theme.fetchone()[0]}/?stream=relationship&period=year"] = 500
    for url, target in pages.items():
        assert client.get(url).status_code == 200, url
        page = median_ms(lambda url=url: client.get(url), max(arguments.repeat // 2, 3))
        print(f"page {url}: median {page:.0f} ms (target < {target} ms)", flush=True)


if __name__ == "__main__":
    main()
