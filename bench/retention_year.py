"""The connector database after a simulated school year of 30-minute runs, without and with the
edfi_sync_maintenance DAG's retention (its defaults).

Real runs first, the way the DAG's tasks make them (one step per call; the stage stays): a first
sync of the demo data, an incremental run and a resync. Then 365 simulated days, each with 48
copies of the incremental run's ledger rows (every 30 minutes), a resync's ODS rows once a week,
and error churn (some open errors fixed, as many new ones); each day ends with a plain VACUUM
(what autovacuum does) and, in the second scenario, the retention as of that day.

    python bench/retention_year.py [--scale 1] [--days 365] [--runs-per-day 48] [--resync-every 7]
                                   [--error-churn 0.05] [--json bench-retention-year.json]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _sync_common import YEAR, create_database, dbname, demo_template, embedded_server  # noqa: E402


def airflow_style_run(conninfo: str, dag_run_id: str, **options) -> str:
    """One run as the DAG's tasks make it: each step on its own, the last closing the ledger."""
    from edfi_sync.engine.runner import SyncOptions, YearSync, plan

    sync_options = SyncOptions(**options)
    run_id = f"{dag_run_id}__{YEAR}"
    with YearSync(YEAR, sync_options, run_id=run_id, conninfo=conninfo, origin="airflow", dag_id="edfi_sync",
                  dag_run_id=dag_run_id) as run:
        run.begin()
        for step in plan(sync_options):
            run.run_step(step)
        run.finish_if_complete()
    return run_id


def human(size: int) -> str:
    return f"{size / 2**20:,.1f} MiB"


def simulate(conninfo: str, args, start: datetime, sources: dict[str, str], maintain: bool) -> dict:
    import psycopg

    from edfi_sync.maintenance.retention import Retention
    from edfi_sync.paths import read_sql

    maintenance = []
    with psycopg.connect(conninfo, autocommit=True) as conn:
        open_errors = conn.execute(read_sql("bench/year_counts.sql")).fetchone()[3]
        churn = max(1, round(open_errors * args.error_churn))
        for day in range(args.days):
            at = start + timedelta(days=day)
            first = f"scheduled__{at:%Y-%m-%dT%H:%M:%S}__{YEAR}"
            conn.execute(read_sql("bench/year_day_of_runs.sql"),
                         {"day": at, "runs": args.runs_per_day, "source": sources["incremental"]})
            if day % args.resync_every == 0:
                conn.execute(read_sql("bench/year_resync_rows.sql"), {"run_id": first, "source": sources["resync"]})
            conn.execute(read_sql("bench/year_error_churn.sql"),
                         {"at": at + timedelta(hours=12), "run_id": first, "n": churn, "tag": str(day),
                          "runs": args.runs_per_day})
            if maintain:
                started = time.perf_counter()
                Retention(conninfo, as_of=at + timedelta(days=1)).prune_database()
                maintenance.append(time.perf_counter() - started)
            conn.execute(read_sql("bench/year_vacuum.sql"))
            if (day + 1) % 73 == 0:
                print(f"    day {day + 1}: {human(conn.execute(read_sql('bench/year_counts.sql')).fetchone()[-1])}",
                      flush=True)
        names = ("sync_run", "resource_run", "error_log", "open_errors", "staged_record", "ods_record",
                 "identity_map", "database_bytes")
        counts = dict(zip(names, conn.execute(read_sql("bench/year_counts.sql")).fetchone()))
        tables = dict(conn.execute(read_sql("bench/year_sizes.sql")).fetchall())
    result = {"maintenance": maintain, "rows": counts, "table_bytes": tables, "errors_fixed_per_day": churn}
    if maintenance:
        result.update(maintenance_seconds_mean=round(sum(maintenance) / len(maintenance), 3),
                      maintenance_seconds_max=round(max(maintenance), 3))
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=float, default=1)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--runs-per-day", type=int, default=48)
    parser.add_argument("--resync-every", type=int, default=7, help="days between resyncs (their ODS rows stay)")
    parser.add_argument("--error-churn", type=float, default=0.05, help="share of open errors fixed (and as "
                        "many new ones) per day")
    parser.add_argument("--json", default="bench-retention-year.json")
    args = parser.parse_args()
    import psycopg

    from edfi_sync.paths import read_sql
    from edfi_sync.sandbox.testing import run_sandbox

    results: dict = {"scale": args.scale, "days": args.days, "runs_per_day": args.runs_per_day,
                     "resync_every_days": args.resync_every, "error_churn": args.error_churn, "scenarios": []}
    with embedded_server() as admin, tempfile.TemporaryDirectory() as scratch:
        descriptors = Path(scratch) / "descriptors.json"
        template, rows = demo_template(admin, args.scale, descriptors)
        base = create_database(admin, template)
        with run_sandbox(descriptor_files=[descriptors]) as server:
            os.environ["AIRFLOW_CONN_EDFI_API"] = json.dumps({
                "conn_type": "edfi", "host": server.base_url, "login": server.key, "password": server.secret})
            sources = {"first": airflow_style_run(base, "scheduled__first"),
                       "incremental": airflow_style_run(base, "scheduled__incremental"),
                       "resync": airflow_style_run(base, "scheduled__resync", resync=True)}
        start = datetime.now(timezone.utc).replace(hour=0, minute=0, second=0, microsecond=0) \
            - timedelta(days=args.days)
        # The real runs stay at today, after every simulated day: retention as of a simulated day
        # never prunes them (the daily runs copy the incremental one), as the newest run stays.
        with psycopg.connect(base, autocommit=True) as conn:
            before = conn.execute(read_sql("bench/year_counts.sql")).fetchone()
        print(f"demo data scale {args.scale:g} ({rows['sis.person']:,} persons); after the real runs: "
              f"{before[1]:,} step rows, {before[2]:,} errors ({before[3]:,} open), {before[4]:,} staged rows, "
              f"{before[5]:,} ODS rows, {human(before[-1])}", flush=True)
        results["before"] = {"database_bytes": before[-1]}
        for maintain in (False, True):
            print(f"  a simulated year {'with' if maintain else 'without'} the maintenance DAG:", flush=True)
            scenario = simulate(create_database(admin, dbname(base)), args, start, sources, maintain)
            results["scenarios"].append(scenario)
            counts = scenario["rows"]
            print(f"    database {human(counts['database_bytes'])}: {counts['sync_run']:,} runs, "
                  f"{counts['resource_run']:,} step rows, {counts['error_log']:,} errors ({counts['open_errors']:,} "
                  f"open), {counts['ods_record']:,} ODS rows, {counts['staged_record']:,} staged rows, identity map "
                  f"{counts['identity_map']:,}", flush=True)
            print("    largest tables: " + ", ".join(f"{name} {human(size)}" for name, size in
                                                    list(scenario["table_bytes"].items())[:4]))
            if maintain:
                print(f"    retention per day: {scenario['maintenance_seconds_mean']:.2f} s mean, "
                      f"{scenario['maintenance_seconds_max']:.2f} s max")
    Path(args.json).write_text(json.dumps(results, indent=2, default=str))
    print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
