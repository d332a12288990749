"""Benchmark: answer submissions under load against gunicorn (2 workers) on PostgreSQL.

Posts answers for distinct invitations (each creates a response, through the whole middleware
stack, CSRF included) and, in the same run against the same server, posts to a minimal Django
view that writes one row: the baseline. Both paths are warmed first, then timed in alternating
blocks (--rounds). Prints requests per second and p50/p99 latency of each, each block pair's ratio
and their median, and checks that the responses in the database equal the successful POSTs.

    .venv/bin/python bench/bench_answers.py                      # 3,000 requests each, 8 clients
    .venv/bin/python bench/bench_answers.py --requests 500 --clients 4
    CONN_MAX_AGE=0 .venv/bin/python bench/bench_answers.py       # a new database connection per request

Needs PostgreSQL and Redis at their local addresses; uses the database rebound_bench_answers and
Redis db 8. The rate limits are raised for the run (one client IP posts thousands of answers).
"""

from __future__ import annotations

import argparse
import http.client
import os
import secrets
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import environment, free_port, reset_database  # noqa: E402

PORT = free_port()
ENV = environment(
    "rebound_bench_answers",
    ANSWER_RATE_PER_TOKEN="100000/m",  # noqa: S106 - a rate, not a password
    ANSWER_RATE_PER_IP="100000/m",
    PUBLIC_RATE_PER_IP="100000/m",
)

import django  # noqa: E402

django.setup()

from django.core.cache import cache  # noqa: E402
from django.db import connection  # noqa: E402

from surveys.models import Response  # noqa: E402
from tests.factories import AccountFactory, ProgramFactory  # noqa: E402


def prepare_database() -> None:
    reset_database()
    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE bench_hit (id bigserial PRIMARY KEY, at timestamptz NOT NULL)")


def make_invitations(count: int) -> list[str]:
    from datetime import timedelta

    from django.utils import timezone

    from accounts.models import Role, Team, User
    from customers.models import Contact
    from surveys.models import Invitation

    program = ProgramFactory()
    team = Team.objects.create(name="Bench team")
    csm = User.objects.create_user(email="csm@bench.example.com", role=Role.CSM, team=team)
    account = AccountFactory(csm=csm, team=team)  # detractors get a recovery task and an email
    contacts = Contact.objects.bulk_create(
        Contact(account=account, email=f"c{n}@bench.example.com", name=f"Contact {n}") for n in range(count)
    )
    now = timezone.now()
    invitations = [
        Invitation(
            program=program, stream=program.stream, contact=c, account=account, send_at=now,
            expires_at=now + timedelta(days=30), quiet_until=now, **Invitation.new_token_fields(),
        )
        for c in contacts
    ]  # fmt: skip
    Invitation.objects.bulk_create(invitations)
    return [i.token for i in invitations]


WARM = 50


def load(requests: list[tuple[str, bytes, dict]], clients: int) -> tuple[float, list[float], list[int]]:
    """Send the requests from `clients` threads; return elapsed seconds, latencies and statuses."""
    latencies: list[float] = []
    statuses: list[int] = []
    work = iter(requests)
    lock = threading.Lock()

    def client() -> None:
        while True:
            with lock:
                item = next(work, None)
            if item is None:
                return
            path, body, headers = item
            started = time.perf_counter()
            conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=30)
            conn.request("POST", path, body=body, headers=headers)
            status = conn.getresponse().status
            conn.close()
            with lock:
                latencies.append(time.perf_counter() - started)
                statuses.append(status)

    threads = [threading.Thread(target=client) for _ in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.perf_counter() - started, latencies, statuses


def answer_request(token: str, n: int) -> tuple[str, bytes, dict]:
    # What a browser sends after loading the page: the CSRF cookie and the same secret in the form.
    csrf = secrets.token_hex(16)
    body = urlencode(
        {"csrfmiddlewaretoken": csrf, "score": n % 11, "reason": f"Reason number {n}", "locale": "en"}
    ).encode()
    headers = {"Content-Type": "application/x-www-form-urlencoded", "Cookie": f"csrftoken={csrf}"}
    return f"/s/{token}/", body, headers


def report(name: str, elapsed: float, latencies: list[float]) -> float:
    rate = len(latencies) / elapsed
    cuts = statistics.quantiles(latencies, n=100)
    print(f"{name}: {rate:,.0f} requests/s; p50 {cuts[49] * 1000:.1f} ms; p99 {cuts[98] * 1000:.1f} ms", flush=True)
    return rate


def route_after(stored: int) -> None:
    """The follow-ups of the answers: what the worker (or the next tick's sweep) does after the
    commits. No worker ran during the load, so every response is pending here."""
    from followups.models import Task
    from surveys.answers import responses_route_pending

    pending = Response.objects.filter(routed_at__isnull=True).count()
    started = time.perf_counter()
    routed = responses_route_pending(limit=10**9)
    elapsed = time.perf_counter() - started
    expected = sum(
        {"detractor": 1, "passive": 1, "promoter": 2}[c] for c in Response.objects.values_list("category", flat=True)
    )
    tasks = Task.objects.count()
    print(
        f"routing after the commit: {pending:,} pending, {routed:,} routed in {elapsed:.1f} s "
        f"({routed / elapsed:,.0f}/s, one process); tasks {tasks:,} of {expected:,} expected",
        flush=True,
    )
    if routed != stored or tasks != expected or Response.objects.filter(routed_at__isnull=True).exists():
        raise SystemExit("routing incomplete")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=6, help="alternating blocks of each")
    arguments = parser.parse_args()
    print(f"gunicorn, 2 sync workers; CONN_MAX_AGE={os.environ.get('CONN_MAX_AGE', '60')}; {arguments.clients} clients")
    prepare_database()
    cache.clear()
    tokens = make_invitations(arguments.requests + WARM)
    warm_tokens, tokens = tokens[:WARM], tokens[WARM:]
    server = subprocess.Popen(
        [str(ROOT / ".venv/bin/gunicorn"), "config.wsgi", "--workers", "2", "--bind", f"127.0.0.1:{PORT}",
         "--log-level", "warning"],
        cwd=ROOT, env=ENV, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", PORT), timeout=1).close()
                break
            except OSError:
                time.sleep(0.1)
        # Both paths warmed (imports, connections, prepared statements) before either is timed.
        load([("/bench/minimal/", b"", {})] * WARM, arguments.clients)
        load([answer_request(token, n) for n, token in enumerate(warm_tokens)], arguments.clients)
        warm_stored = Response.objects.count()
        assert warm_stored == WARM, warm_stored
        # Alternating blocks, each pair's ratio: this VM's speed drifts by tens of percent within a
        # minute, which two long phases one after the other turn into the ratio.
        size = max(arguments.requests // arguments.rounds, 1)
        answers = [answer_request(token, n) for n, token in enumerate(tokens)]
        runs: dict[str, list] = {"minimal": [0.0, [], []], "answer": [0.0, [], []]}
        ratios = []
        for start in range(0, len(answers), size):
            block = answers[start : start + size]
            rates = []
            for name, requests in (("minimal", [("/bench/minimal/", b"", {})] * len(block)), ("answer", block)):
                elapsed, latencies, statuses = load(requests, arguments.clients)
                runs[name][0] += elapsed
                runs[name][1] += latencies
                runs[name][2] += statuses
                rates.append(len(requests) / elapsed)
            ratios.append(rates[1] / rates[0])
        assert set(runs["minimal"][2]) == {204}, set(runs["minimal"][2])
        report("minimal view (one INSERT)", *runs["minimal"][:2])
        report("answer POST", *runs["answer"][:2])
        each = " ".join(f"{r:.2f}" for r in ratios)
        print(f"ratio per block {each}; median {statistics.median(ratios):.2f} (target >= 0.5)", flush=True)
        statuses = runs["answer"][2]
        succeeded = statuses.count(302)
        stored = Response.objects.count() - warm_stored
        print(f"successful answer POSTs {succeeded:,}; responses in the database {stored:,}", flush=True)
        if succeeded != stored or succeeded != len(tokens):
            raise SystemExit(f"mismatch: statuses {sorted(set(statuses))}")
        route_after(stored + warm_stored)
    finally:
        server.terminate()
        server.wait(timeout=30)


if __name__ == "__main__":
    main()
