"""What every benchmark does first: its own environment and database, and a free local port."""

from __future__ import annotations

import os
import socket


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def environment(database: str, **overrides: str) -> dict[str, str]:
    """The run's environment (local PostgreSQL database `database`, Redis db 8, quiet logs), set
    on this process before Django starts and returned for the processes it spawns."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "bench.settings",
        "DEBUG": "false",
        "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{database}",
        "REDIS_URL": "redis://127.0.0.1:6379/8",
        "EMAIL_URL": "dummymail://",
        "LOG_LEVEL": "WARNING",
        **overrides,
    }
    os.environ.update(env)
    return env


def reset_database() -> None:
    """Drop and recreate the run's database (from DATABASE_URL) and migrate it."""
    import psycopg
    from django.core.management import call_command
    from django.db import connection

    name = connection.settings_dict["NAME"]
    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}"')
    connection.close()
    call_command("migrate", verbosity=0)
