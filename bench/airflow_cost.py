"""The Airflow DAG against the CLI (issue 20): the same first sync and no-op of the demo data, once
as `edfi-sync sync` processes and once as `edfi_sync` DAG runs in a real Airflow (LocalExecutor,
parallelism 4, the task layout of SPEC §6), each against its own copy of the database and a fresh
in-memory sandbox at the same latency and concurrency.

    python bench/airflow_cost.py [--scale 10] [--latency-ms 20] [--max-in-flight 32] [--json FILE]

Per DAG run it prints the wall time (the run's start to end as Airflow recorded them), the number
of task instances, and how their time splits: the steps' own work (the ledger's step rows) and
what is left (task start-up, scheduling between tasks).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from urllib.parse import quote

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _sync_common import (YEAR, RequestTally, create_database, demo_template, embedded_server,  # noqa: E402
                          sync_env, timed_sync)

from edfi_sync.rerun import AirflowApi  # noqa: E402  (the CLI's own REST client)


def cli_runs(admin: str, template: str, descriptors: Path, args) -> dict:
    from edfi_sync.sandbox.testing import run_sandbox

    with run_sandbox(descriptor_files=[descriptors]) as server:
        server.set_faults(latency_ms=args.latency_ms)
        env = sync_env(create_database(admin, template), server, args.max_in_flight)
        runs = {label: timed_sync(env, server) for label in ("first", "noop")}
    return {label: {"seconds": round(run.seconds, 2), "requests": run.requests, "writes": run.writes}
            for label, run in runs.items()}


def _time(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value.replace("Z", "+00:00")) if value else None


def dag_run(api: AirflowApi, sis: str, server, timeout: float = 3600) -> dict:
    """Trigger one edfi_sync run of the year, wait for it, and split its time."""
    import psycopg

    from edfi_sync.paths import read_sql

    server.clear_requests()
    tally = RequestTally(server)
    run_id = api.post("/dags/edfi_sync/dagRuns", {"logical_date": None,
                                                  "conf": {"school_years": [YEAR]}})["dag_run_id"]
    path = f"/dags/edfi_sync/dagRuns/{quote(run_id, safe='')}"
    deadline = time.monotonic() + timeout
    while (run := api.get(path))["state"] not in ("success", "failed"):
        if time.monotonic() > deadline:
            raise SystemExit(f"{run_id} still {run['state']} after {timeout}s")
        tally.poll()
        time.sleep(0.5)
    tally.poll()
    if run["state"] != "success":
        raise SystemExit(f"{run_id} ended {run['state']}")
    tis = api.get(f"{path}/taskInstances", params={"limit": 1000})["task_instances"]
    ran = [ti for ti in tis if ti["start_date"] and ti["end_date"]]
    with psycopg.connect(sis) as conn:
        steps = conn.execute(read_sql("bench/dag_run_step_seconds.sql"), {"dag_run_id": run_id}).fetchone()[0]
    task_seconds = sum((_time(ti["end_date"]) - _time(ti["start_date"])).total_seconds() for ti in ran)
    return {"seconds": round((_time(run["end_date"]) - _time(run["start_date"])).total_seconds(), 2),
            "requests": tally.requests, "writes": tally.writes, "reads": tally.reads, "task_instances": len(ran),
            "task_seconds": round(task_seconds, 2), "step_seconds": round(float(steps), 2),
            "mean_task_overhead_s": round((task_seconds - float(steps)) / max(len(ran), 1), 2)}


def airflow_runs(admin: str, template: str, descriptors: Path, args, home: Path) -> dict:
    from edfi_sync.local_airflow import LocalAirflow, free_port
    from edfi_sync.sandbox.testing import run_sandbox

    sis = create_database(admin, template)
    airflow = LocalAirflow(home / "airflow", free_port(), password="bench")
    airflow.home.mkdir(parents=True)
    with run_sandbox(descriptor_files=[descriptors]) as server:
        server.set_faults(latency_ms=args.latency_ms)
        edfi_api = json.loads(sync_env(sis, server, args.max_in_flight)["AIRFLOW_CONN_EDFI_API"])
        env = airflow.environment(metadata=create_database(admin), sis=sis, edfi_api=json.dumps(edfi_api),
                                  xcom_dir=home / "xcom", extra={"EDFI_SYNC_SCHEDULE": "none"})
        airflow.start(env)
        try:
            api = AirflowApi(airflow.url, "admin", "bench", timeout=60)
            deadline = time.monotonic() + 180
            while not api.get("/dags", params={"dag_id_pattern": "edfi_sync"})["dags"]:
                if time.monotonic() > deadline:
                    raise SystemExit("the dag-processor never listed edfi_sync")
                time.sleep(1)
            api.patch("/dags/edfi_sync", {"is_paused": False})
            return {label: dag_run(api, sis, server) for label in ("first", "noop")}
        finally:
            airflow.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=float, default=10)
    parser.add_argument("--latency-ms", type=float, default=20)
    parser.add_argument("--max-in-flight", type=int, default=32)
    parser.add_argument("--json", default=None)
    args = parser.parse_args()
    with embedded_server() as admin, tempfile.TemporaryDirectory() as scratch:
        descriptors = Path(scratch) / "descriptors.json"
        template, _ = demo_template(admin, args.scale, descriptors)
        result = {"scale": args.scale, "latency_ms": args.latency_ms, "max_in_flight": args.max_in_flight,
                  "cli": cli_runs(admin, template, descriptors, args),
                  "airflow": airflow_runs(admin, template, descriptors, args, Path(scratch))}
    for label in ("first", "noop"):
        cli, dag = result["cli"][label], result["airflow"][label]
        result["airflow"][label]["ratio_to_cli"] = round(dag["seconds"] / cli["seconds"], 2)
        print(f"scale {args.scale:g} {label}: CLI {cli['seconds']:.1f} s ({cli['requests']:,} requests); "
              f"DAG run {dag['seconds']:.1f} s ({dag['requests']:,} requests, {dag['writes']:,} writes, "
              f"x{dag['ratio_to_cli']:.2f}): "
              f"{dag['task_instances']} tasks, {dag['task_seconds']:.1f} s in tasks of which "
              f"{dag['step_seconds']:.1f} s in the steps, {dag['mean_task_overhead_s']:.2f} s per task besides",
              flush=True)
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2))
        print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
