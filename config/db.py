"""Database helpers for the few statements on a hot path."""

from __future__ import annotations

from contextlib import contextmanager

from django.conf import settings
from django.db import connection


def prepare_threshold() -> int | None:
    """psycopg's `prepare_threshold` for the hot statements: prepared on the server from their first
    run on a connection, unless DATABASE_PREPARED_STATEMENTS is off (None: never)."""
    return 0 if settings.DATABASE_PREPARED_STATEMENTS else None


@contextmanager
def bound_cursor():
    """A cursor for a hot statement: on PostgreSQL its parameters travel apart from the SQL
    (server-side binding), so psycopg does not splice every value into the text on each call
    (about 0.2 ms for a statement of some thirty parameters), and the server prepares it once per
    connection (`prepare_threshold`). Django's cursor wrapper is kept, so query logging, execute
    wrappers and error translation work as for any other cursor. The psycopg cursor is made once
    per database connection and reused.

    Preparing is switched on for these statements only, never for the connection: psycopg keeps
    the text of every statement it counts towards preparing (its last hundred), and the text of
    Django's client-bound statements holds their values — a wave's bulk INSERTs of 2,000 rows,
    half a megabyte each, kept 55 MB per worker process.

    Only for statements whose parameters PostgreSQL can type from their place in the SQL (column
    values, comparisons): Django's ORM keeps client-side binding for everything else. Elsewhere,
    the usual cursor."""
    if connection.vendor != "postgresql":
        with connection.cursor() as cursor:
            yield cursor
        return
    connection.ensure_connection()
    raw = getattr(connection, "_rebound_bound_cursor", None)
    if raw is None or raw.closed or raw.connection is not connection.connection:
        raw = connection._rebound_bound_cursor = _new_bound_cursor()
    raw.connection.prepare_threshold = prepare_threshold()
    try:
        # Not closed on the way out (Django's wrapper would close it): the next statement reuses it.
        yield connection._prepare_cursor(raw)
    finally:
        raw.connection.prepare_threshold = None  # as Django leaves it


def _new_bound_cursor():
    from django.db.backends.postgresql.base import TIMESTAMPTZ_OID, ServerBindingCursor
    from django.db.backends.postgresql.psycopg_any import register_tzloader
    from psycopg.pq import Format

    raw = ServerBindingCursor(connection.connection)
    # As Django's own create_cursor: timestamps read back in the connection's time zone.
    if connection.timezone != connection.connection.adapters.get_loader(TIMESTAMPTZ_OID, Format.TEXT).timezone:
        register_tzloader(connection.timezone, raw)
    return raw


# Below this many rows written, autovacuum's own ANALYZE (within a minute or so) is soon enough.
ANALYZE_AFTER_ROWS = 5_000


def analyze_after_bulk_write(*models, rows: int) -> None:
    """Refresh PostgreSQL's statistics of tables a bulk write just grew. A wave planned right after a
    large import otherwise runs on the statistics of the empty tables: with a million contacts just
    loaded, the planner estimated 35 accounts and one contact each where there were 200,000 accounts
    and a million contacts, and planned the wave's query for that. A no-op on other databases and for
    small writes."""
    if rows >= ANALYZE_AFTER_ROWS:
        analyze(*models)


def analyze(*models) -> None:
    """PostgreSQL's ANALYZE of these models' tables, now (a no-op on other databases)."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        for model in models:
            cursor.execute(f'ANALYZE "{model._meta.db_table}"')  # a table name from the model, no input
