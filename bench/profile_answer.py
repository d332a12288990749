"""In-process profile of one answer POST against the minimal one-INSERT view, through Django's WSGI
handler (the whole middleware stack, no HTTP server, no client). Not a benchmark of throughput:
it says where an answer's time goes, serially, on this machine.

    .venv/bin/python bench/profile_answer.py                 # 1,000 of each in alternating blocks; median wall and CPU
    .venv/bin/python bench/profile_answer.py --cprofile 30   # and the 30 costliest functions of the answers

Uses the database rebound_bench_answers (recreated) and Redis db 8, like bench_answers.py.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import secrets
import statistics
import sys
import time
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import environment  # noqa: E402

environment(
    "rebound_bench_answers",
    ANSWER_RATE_PER_TOKEN="100000/m",  # noqa: S106 - a rate, not a password
    ANSWER_RATE_PER_IP="100000/m",
    PUBLIC_RATE_PER_IP="100000/m",
)

import django  # noqa: E402

django.setup()

from django.core.handlers.wsgi import WSGIHandler  # noqa: E402
from django.db import connection  # noqa: E402

from bench.bench_answers import make_invitations, prepare_database  # noqa: E402


def environ(path: str, body: bytes, cookie: str = "") -> dict:
    return {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": path,
        "SCRIPT_NAME": "",
        "QUERY_STRING": "",
        "SERVER_NAME": "localhost",
        "SERVER_PORT": "8000",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "HTTP_HOST": "localhost",
        "HTTP_COOKIE": cookie,
        "CONTENT_TYPE": "application/x-www-form-urlencoded",
        "CONTENT_LENGTH": str(len(body)),
        "wsgi.input": io.BytesIO(body),
        "wsgi.url_scheme": "http",
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": False,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }


def answer_environ(token: str, n: int) -> dict:
    csrf = secrets.token_hex(16)
    body = urlencode(
        {"csrfmiddlewaretoken": csrf, "score": n % 11, "reason": f"Reason number {n}", "locale": "en"}
    ).encode()
    return environ(f"/s/{token}/", body, cookie=f"csrftoken={csrf}")


def run(handler: WSGIHandler, environs: list[dict], expect: str) -> tuple[float, float]:
    def start_response(status, headers):
        assert status.startswith(expect), status

    wall, cpu = time.perf_counter(), time.process_time()
    for env in environs:
        for _ in handler(env, start_response):
            pass
    return (time.perf_counter() - wall) / len(environs) * 1000, (time.process_time() - cpu) / len(environs) * 1000


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--only-answers", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--cprofile", type=int, default=0, help="print the N costliest functions")
    arguments = parser.parse_args()
    prepare_database()
    rounds, block = 5, max(arguments.requests // 5, 1)
    tokens = make_invitations(rounds * block + 100)
    handler = WSGIHandler()
    run(handler, [environ("/bench/minimal/", b"") for _ in range(100)], "204")
    run(handler, [answer_environ(t, n) for n, t in enumerate(tokens[:100])], "302")
    # Alternating blocks, medians: this VM's speed drifts by tens of percent within a minute.
    minimal_runs, answer_runs = [], []
    profiler = cProfile.Profile() if arguments.cprofile else None
    for r in range(rounds):
        if not arguments.only_answers:
            minimal_runs.append(run(handler, [environ("/bench/minimal/", b"") for _ in range(block)], "204"))
        answers = [answer_environ(t, n) for n, t in enumerate(tokens[100 + r * block : 100 + (r + 1) * block])]
        if profiler:
            profiler.enable()
        answer_runs.append(run(handler, answers, "302"))
        if profiler:
            profiler.disable()
    minimal = tuple(statistics.median(m[i] for m in minimal_runs) for i in (0, 1)) if minimal_runs else (1.0, 1.0)
    answer = tuple(statistics.median(a[i] for a in answer_runs) for i in (0, 1))
    print(f"minimal view: {minimal[0]:.2f} ms wall, {minimal[1]:.2f} ms CPU per request")
    print(f"answer POST:  {answer[0]:.2f} ms wall, {answer[1]:.2f} ms CPU per request")
    print(f"serial ratio {minimal[0] / answer[0]:.2f}")
    connection.close()
    if profiler:
        stats = pstats.Stats(profiler)
        stats.sort_stats("cumulative").print_stats(arguments.cprofile)
        stats.sort_stats("tottime").print_stats(arguments.cprofile)


if __name__ == "__main__":
    main()
