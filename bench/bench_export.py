"""Benchmark: the full export and restore (issue 14) on PostgreSQL.

Loads N responses (bench/population.py: 5,000 accounts, 50,000 contacts, N invitations and responses),
then in the same run:

* the baseline: PostgreSQL's own COPY … TO STDOUT (CSV) of every exported table into a zip with the
  same compression — the fastest a dump of the same rows can be;
* Rebound's export (integrations.portability.write_export: JSON lines and CSV of every table);
* Rebound's restore of that zip into a second, freshly migrated database.

It prints the times, the export's ratio to the baseline, rows per second, the zip sizes and this
process's peak memory, and fails unless the restored database has every count and NPS figure of the
original.

    .venv/bin/python bench/bench_export.py                     # 200,000 responses
    .venv/bin/python bench/bench_export.py --responses 1000000

Uses (drops and recreates) the databases rebound_bench_export and rebound_bench_export_restore.
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import environment, reset_database  # noqa: E402
from bench.population import POPULATE  # noqa: E402

environment("rebound_bench_export")

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402

from integrations import portability  # noqa: E402


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def copy_baseline(target) -> int:
    """Every exported table through COPY, as CSV, into a deflated zip; the rows written."""
    rows = 0
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=6) as archive:
        for part in portability.PARTS:
            table = part.model._meta.db_table
            columns = ", ".join(f'"{f.column}"' for f in part.columns())
            with archive.open(f"{table}.csv", "w", force_zip64=True) as out, connection.cursor() as cursor:
                sql = f'COPY (SELECT {columns} FROM "{table}" ORDER BY 1) TO STDOUT WITH CSV HEADER'  # noqa: S608
                with cursor.cursor.copy(sql) as copy:
                    for chunk in copy:
                        out.write(chunk)
            rows += part.model._base_manager.count()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--responses", type=int, default=200_000)
    arguments = parser.parse_args()
    reset_database()
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(POPULATE.replace("%(n)s", str(arguments.responses)))
    print(f"{arguments.responses:,} responses loaded in {time.perf_counter() - started:.0f} s", flush=True)
    figures, counts = portability.nps_figures(), {p.label: p.model._base_manager.count() for p in portability.PARTS}

    with tempfile.TemporaryDirectory() as scratch:
        base_zip, ours_zip = Path(scratch) / "copy.zip", Path(scratch) / "rebound.zip"
        started = time.perf_counter()
        with base_zip.open("wb") as handle:
            rows = copy_baseline(handle)
        baseline = time.perf_counter() - started
        memory_before = peak_mb()
        started = time.perf_counter()
        with ours_zip.open("wb") as handle:
            manifest = portability.write_export(handle)
        ours = time.perf_counter() - started
        assert manifest["counts"] == counts and manifest["nps"] == figures
        print(f"rows in the exported tables: {rows:,}")
        print(f"baseline (COPY to CSV, zipped): {baseline:.1f} s, {base_zip.stat().st_size / 1e6:.0f} MB")
        print(
            f"Rebound export (JSON lines + CSV): {ours:.1f} s ({rows / ours:,.0f} rows/s), "
            f"{ours_zip.stat().st_size / 1e6:.0f} MB, ratio to COPY {ours / baseline:.2f}x; "
            f"peak memory of this process {memory_before:.0f} MB before, {peak_mb():.0f} MB after",
            flush=True,
        )

        restore_db = connection.settings_dict["NAME"] + "_restore"
        connection.close()
        connection.settings_dict["NAME"] = restore_db
        reset_database()
        started = time.perf_counter()
        result = portability.restore(str(ours_zip))
        took = time.perf_counter() - started
        print(f"Rebound restore into an empty database: {took:.1f} s ({rows / took:,.0f} rows/s), rollups included")
        restored = {p.label: p.model._base_manager.count() for p in portability.PARTS}
        if restored != counts or result.counts != counts or portability.nps_figures() != figures:
            sys.exit("FAIL: the restored database differs from the original")
        print("restored counts and NPS per stream equal the original's: OK")


if __name__ == "__main__":
    main()
