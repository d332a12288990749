"""Real processes for the fault tests: Celery workers to kill, SMTP servers that misbehave, a Redis
to stop. Every wait is bounded; every process is stopped when its test ends."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(condition, timeout: float = 30.0, interval: float = 0.1) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(interval)
    return False


class Sink:
    """tests/smtp_sink.py in its own process; `received()` counts messages per recipient."""

    def __init__(self, tmp_path: Path, *options: str) -> None:
        self.port = free_port()
        self.log = tmp_path / f"sink-{self.port}.log"
        self.log.touch()
        self.process = subprocess.Popen(
            [sys.executable, str(ROOT / "tests/smtp_sink.py"), str(self.port), "--log", str(self.log), *options],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.process.stdout.readline().strip() == "ready"

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def received(self) -> Counter[str]:
        return Counter(line for line in self.log.read_text().splitlines() if line)

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)


class SilentServer:
    """Accepts TCP connections and never says a word: an SMTP server that hangs."""

    def __init__(self) -> None:
        self.socket = socket.socket()
        self.socket.bind(("127.0.0.1", 0))
        self.socket.listen(16)
        self.port = self.socket.getsockname()[1]
        self.connections: list[socket.socket] = []
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.socket.accept()
            except OSError:
                return
            self.connections.append(conn)

    def stop(self) -> None:
        self.socket.close()
        for conn in self.connections:
            conn.close()


def worker_env(**overrides: str) -> dict[str, str]:
    """The environment of a worker process that works on this test's database and Redis."""
    db = connection.settings_dict
    auth = db["USER"] + (f":{db['PASSWORD']}" if db.get("PASSWORD") else "")
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}",
        "REDIS_URL": settings.CELERY_BROKER_URL,
        "TEST_CELERY_EAGER": "false",
        "OUTBOX_LEASE_SECONDS": "3",
        "LOG_LEVEL": "WARNING",
        **overrides,
    }


class Worker:
    """A real `celery worker` process consuming the given queues."""

    count = 0

    def __init__(self, tmp_path: Path, queues: str, **env: str) -> None:
        Worker.count += 1
        self.name = f"fault{Worker.count}-{os.getpid()}@localhost"
        self.logfile = tmp_path / f"worker{Worker.count}.log"
        self.process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool=solo", "-Q", queues, "-n", self.name,
             "--without-heartbeat", "--without-gossip", "--without-mingle", "--loglevel=WARNING"],
            cwd=ROOT, env=worker_env(**env), stdout=self.logfile.open("w"), stderr=subprocess.STDOUT,
        )  # fmt: skip

    def wait_ready(self, timeout: float = 30.0) -> None:
        from config.celery import app

        def answers() -> bool:
            assert self.process.poll() is None, self.logfile.read_text()
            return bool(app.control.ping(destination=[self.name], timeout=0.5))

        assert wait_for(answers, timeout), f"worker {self.name} did not start:\n{self.logfile.read_text()}"

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()


class PrivateRedis:
    """A redis-server of the test's own on a free port, to stop and start again."""

    def __init__(self) -> None:
        self.port = free_port()
        self.process: subprocess.Popen | None = None
        self.start()

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
        )
        assert wait_for(self._answers, 10), "redis-server did not start"

    def _answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.2) as conn:
                conn.sendall(b"PING\r\n")
                return conn.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)
