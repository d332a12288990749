"""Benchmark: the task lists with 50,000 tasks against the same pages with none (issue 12).

Loads the shared population (5,000 accounts, 50,000 contacts, N responses), 50,000 follow-up tasks
(a quarter open, over both teams' CSMs, due over two years) and, as the baseline, a third team
whose people have no task at all. For each list as each role opens it (a CSM's "My tasks", a
Manager's team queue with and without filters, an Admin's all queues), it prints p50 and p95 of
the loaded page and of the empty page in the same run, their ratio (target: p95 <= 2x the empty
page's), the queries each takes (loaded, the empty page's plus the list's own), and the plan PostgreSQL
chooses for the page's list query (EXPLAIN ANALYZE): it fails if a list reads the task table
sequentially or a page's query count differs from its empty twin's.

    .venv/bin/python bench/bench_tasks.py                        # 1,000,000 responses, 50,000 tasks
    .venv/bin/python bench/bench_tasks.py --responses 200000 --repeat 30

Needs PostgreSQL at its local address; uses (drops and recreates) the database rebound_bench_tasks.
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
from bench.population import POPULATE  # noqa: E402

environment("rebound_bench_tasks")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from accounts.models import Role, Team, User  # noqa: E402

# 50,000 tasks on the detractors' and promoters' responses: a quarter open, the rest closed; assigned
# in turn to the ten CSMs of the response's team, one in ten unassigned; due two days after the answer.
TASKS = """
INSERT INTO followups_task (response_id, queue, status, urgent, account_id, contact_id, team_id, assignee_id,
    segment, created_at, due_at, first_contact_at, outcome, outcome_detail, closed_at)
SELECT r.id,
    CASE WHEN r.category = 'detractor' THEN 'recovery' WHEN r.category = 'passive' THEN 'checkin' ELSE 'referral' END,
    CASE WHEN r.id %% 8 < 2 THEN 'open' ELSE 'closed' END, r.score <= 3, r.account_id, r.contact_id, r.team_id,
    CASE WHEN r.id %% 10 = 0 THEN NULL ELSE (%(csms)s)[1 + (r.team_id - %(first_team)s) * 10 + r.id / 3 %% 10] END,
    r.segment, r.submitted_at, r.submitted_at + interval '2 days',
    CASE WHEN r.id %% 3 = 0 THEN r.submitted_at + interval '1 day' END,
    CASE WHEN r.id %% 8 < 2 THEN '' ELSE 'done' END, '',
    CASE WHEN r.id %% 8 < 2 THEN NULL ELSE r.submitted_at + interval '3 days' END
FROM surveys_response r WHERE r.id <= %(tasks)s;
ANALYZE;
"""

# url → (who opens it: a role of the loaded teams, the same role in the empty team)
PAGES = {
    "/tasks/": "csm",
    "/tasks/queue/": "manager",
    "/tasks/queue/?queue=recovery&status=open&segment=smb": "manager",
    "/tasks/queue/?status=open&overdue=on": "manager",
    "/tasks/queue/?status=closed&assignee=none": "manager",
    "/tasks/queue/?page=40": "manager",
    "/tasks/queue/?status=open": "admin",
}


def percentiles(client: Client, url: str, repeat: int) -> tuple[float, float]:
    assert client.get(url).status_code == 200, url  # warm
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        client.get(url)
        times.append((time.perf_counter() - started) * 1000)
    cuts = statistics.quantiles(times, n=20)
    return statistics.median(times), cuts[18]


def queries(client: Client, url: str) -> list[str]:
    with CaptureQueriesContext(connection) as captured:
        client.get(url)
    return [q["sql"] for q in captured.captured_queries]


def plan_of_list(sqls: list[str]) -> list[str]:
    """EXPLAIN ANALYZE of the page's list query (the task rows it shows) and its row count."""
    lists = [s for s in sqls if 'FROM "followups_task"' in s and ("LIMIT" in s or "COUNT(" in s)]
    plans = []
    with connection.cursor() as cursor:
        for sql in lists:
            cursor.execute(f"EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY ON) {sql}")
            plans.append([row[0] for row in cursor.fetchall()])
    return plans


def clients() -> tuple[dict[str, Client], dict[str, Client]]:
    north = Team.objects.get(name="North")
    empty = Team.objects.create(name="Empty", timezone="UTC")
    loaded, idle = {}, {}
    for role, label in ((Role.CSM, "csm"), (Role.MANAGER, "manager"), (Role.ADMIN, "admin")):
        for team, out in ((north, loaded), (empty, idle)):
            if role == Role.ADMIN and team == empty:
                continue
            user = User.objects.filter(role=role, team=team).first() if role == Role.CSM else None
            user = user or User.objects.create_user(f"{label}-{team.name}@bench.example.com", "pw", role=role,
                                                    team=None if role == Role.ADMIN else team)  # fmt: skip
            out[label] = Client()
            out[label].force_login(user)
    return loaded, idle


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--responses", type=int, default=1_000_000)
    parser.add_argument("--tasks", type=int, default=50_000)
    parser.add_argument("--repeat", type=int, default=40)
    arguments = parser.parse_args()
    settings.ALLOWED_HOSTS = ["*"]
    reset_database()
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(POPULATE.replace("%(n)s", str(arguments.responses)))
    csms = []
    for team in Team.objects.order_by("pk"):  # North then South: ten CSMs each
        csms += [User.objects.create_user(f"csm{n}-{team.pk}@bench.example.com", "pw", role=Role.CSM, team=team).pk
                 for n in range(10)]  # fmt: skip
    with connection.cursor() as cursor:
        first_team = Team.objects.order_by("pk").first().pk
        cursor.execute(TASKS % {"csms": f"ARRAY{csms}::bigint[]", "tasks": arguments.tasks, "first_team": first_team})
        cursor.execute("SELECT count(*), count(*) FILTER (WHERE status = 'open') FROM followups_task")
        tasks, open_tasks = cursor.fetchone()
    print(f"{arguments.responses:,} responses, {tasks:,} tasks ({open_tasks:,} open) loaded in "
          f"{time.perf_counter() - started:.0f} s", flush=True)  # fmt: skip
    loaded, idle = clients()
    failures = []
    for url, role in PAGES.items():
        p50, p95 = percentiles(loaded[role], url, arguments.repeat)
        sqls = queries(loaded[role], url)
        line = f"{role:7s} {url}: p50 {p50:.1f} ms, p95 {p95:.1f} ms, {len(sqls)} queries"
        if role in idle:
            e50, e95 = percentiles(idle[role], url, arguments.repeat)
            empty = len(queries(idle[role], url))
            line += (
                f"; empty page p50 {e50:.1f} ms, p95 {e95:.1f} ms, {empty} queries; ratio {p95 / e95:.2f} (target <= 2)"
            )
            # An empty list has no rows to read: one query fewer (the paginator skips it), never more.
            if len(sqls) - empty not in (0, 1):
                failures.append(f"{url}: {len(sqls)} queries loaded, {empty} empty")
        print(line, flush=True)
        for plan in plan_of_list(sqls):
            print("    " + "\n    ".join(plan), flush=True)
            if any("Seq Scan on followups_task" in step for step in plan):
                failures.append(f"{url}: a sequential scan of the tasks")
    if failures:
        raise SystemExit("; ".join(failures))


if __name__ == "__main__":
    main()
