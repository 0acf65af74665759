"""Cost proportional to change (issue 20): a first sync, then syncs after no change and after a
change to N% of the students (names and transcript grades), each timed as its own `edfi-sync sync`
process against the in-memory sandbox at a given latency and concurrency; and the non-sending
throughput (a dry run of the first sync: extract, rules, build, validate, hash, stage and diff,
with no request but the reconciliation-free GETs it needs).

    python bench/change_cost.py [--scale 10] [--latency-ms 20] [--max-in-flight 32] [--changes 0,1]
        [--sql-timing] [--json FILE]

--sql-timing also records, per run, the time spent in each SQL statement (include/sql file).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _sync_common import (create_database, demo_template, embedded_server, map_counts, sync_env,  # noqa: E402
                          timed_sync)

CHANGE_SQL = Path(__file__).resolve().parent / "sql" / "change_students.sql"


def change_students(conninfo: str, percent: float) -> int:
    """Change the data of ``percent`` % of the students: their first name and transcript grades."""
    import psycopg

    if not percent:
        return 0
    with psycopg.connect(conninfo) as conn:
        return conn.execute(CHANGE_SQL.read_text(), {"every": round(100 / percent)}).rowcount


def timed(env, server, label: str, sql_dir: Path | None, extra_args=()) -> dict:
    timing = None
    if sql_dir is not None:
        timing = sql_dir / f"{label}.json"
        os.environ["EDFI_SYNC_BENCH_SQL_TIMING"] = str(timing)
        env = {**env, "EDFI_SYNC_BENCH_SQL_TIMING": str(timing)}
    cpu = resource.getrusage(resource.RUSAGE_CHILDREN)
    run = timed_sync(env, server, extra_args=tuple(extra_args))
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    os.environ.pop("EDFI_SYNC_BENCH_SQL_TIMING", None)
    result = {"seconds": round(run.seconds, 3), "requests": run.requests, "writes": run.writes,
              "statuses": run.statuses, "peak_rss_mb": round(run.peak_rss_mb, 1),
              "sync_cpu_s": round(after.ru_utime + after.ru_stime - cpu.ru_utime - cpu.ru_stime, 2)}
    if timing is not None and timing.exists():
        sql = json.loads(timing.read_text())
        result["sql_s"] = round(sum(seconds for _, seconds in sql.values()), 2)
        result["sql_top"] = {name: value for name, value in list(sql.items())[:12]}
    return result


def measure(admin: str, template: str, descriptors: Path, args, sql_dir: Path | None) -> dict:
    from edfi_sync.sandbox.testing import run_sandbox

    out: dict = {"scale": args.scale, "latency_ms": args.latency_ms, "max_in_flight": args.max_in_flight}
    conninfo = create_database(admin, template)
    with run_sandbox(descriptor_files=[descriptors]) as server:
        server.set_faults(latency_ms=args.latency_ms)
        env = sync_env(conninfo, server, args.max_in_flight)
        # Non-sending throughput first, on the fresh database: a dry run stages and diffs everything.
        dry = timed(env, server, "dry_first", sql_dir, ["--dry-run"])
        first = timed(env, server, "first", sql_dir)
        records = sum(map_counts(conninfo).values())
        dry["records"] = records
        dry["records_per_s"] = round(records / dry["seconds"])
        dry["records_per_cpu_s"] = round(records / dry["sync_cpu_s"]) if dry["sync_cpu_s"] else None
        first["records"] = records
        out.update(non_sending=dry, first=first, changes=[])
        print(f"scale {args.scale:g}: {records:,} records; first sync {first['seconds']:.1f} s, "
              f"{first['requests']:,} requests, peak {first['peak_rss_mb']:.0f} MB", flush=True)
        print(f"  non-sending (dry-run first sync): {dry['seconds']:.1f} s, {dry['records_per_s']:,} records/s "
              f"({dry['records_per_cpu_s']:,} per CPU-second of the sync process)", flush=True)
        for percent in (float(v) for v in args.changes.split(",") if v):
            changed = change_students(conninfo, percent)
            run = timed(env, server, f"change_{percent:g}", sql_dir)
            run.update(percent=percent, changed_rows=changed,
                       ratio_to_first=round(run["seconds"] / first["seconds"], 3))
            out["changes"].append(run)
            print(f"  {percent:g}% of students changed: {run['seconds']:.1f} s "
                  f"({run['ratio_to_first']:.1%} of the first sync), {run['requests']:,} requests", flush=True)
        if sql_dir is not None:
            for label in ["dry_first", "first"] + [f"change_{c['percent']:g}" for c in out["changes"]]:
                run = dry if label == "dry_first" else first if label == "first" else next(
                    c for c in out["changes"] if f"change_{c['percent']:g}" == label)
                top = ", ".join(f"{name} {value[1]:.2f}s/{value[0]}" for name, value in list(run.get("sql_top", {}).items())[:8])
                print(f"  SQL of {label}: {run.get('sql_s')} s: {top}", flush=True)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=float, default=10)
    parser.add_argument("--latency-ms", type=float, default=20)
    parser.add_argument("--max-in-flight", type=int, default=32)
    parser.add_argument("--changes", default="0,1", help="percent of students changed before each later sync")
    parser.add_argument("--sql-timing", action="store_true")
    parser.add_argument("--json", default=None)
    args = parser.parse_args()
    with embedded_server() as admin, tempfile.TemporaryDirectory() as scratch:
        descriptors = Path(scratch) / "descriptors.json"
        template, rows = demo_template(admin, args.scale, descriptors)
        sql_dir = Path(scratch) if args.sql_timing else None
        result = measure(admin, template, descriptors, args, sql_dir)
        result["sis_rows"] = sum(rows.values())
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2))
        print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
