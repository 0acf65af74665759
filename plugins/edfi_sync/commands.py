"""Handlers of the small CLI commands (the bigger ones live next to their subsystem)."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from . import db, embedded
from .engine.progress import summary_table
from .paths import sync_home
from .ui import PAGES, URL_PREFIX


def db_init(args: argparse.Namespace) -> int:
    started = time.perf_counter()
    conninfo = db.sis_conninfo()
    applied = db.init_schema(conninfo)
    version = db.schema_version(conninfo)
    what = ", ".join(f"{m.version:04d}_{m.name}" for m in applied) or "nothing to do"
    print(f"db init: {db.describe(conninfo)} at schema version {version} ({what}) in "
          f"{time.perf_counter() - started:.2f}s")
    return 0


def db_status(args: argparse.Namespace) -> int:
    conninfo = db.sis_conninfo()
    print(f"database: {db.describe(conninfo)}")
    print(f"schema version: {db.schema_version(conninfo)} (latest {db.migrations()[-1].version})")
    return 0


def db_stop(args: argparse.Namespace) -> int:
    """`make stop`: Airflow, the sandbox, then the embedded PostgreSQL they use."""
    from .local_airflow import LocalAirflow

    if LocalAirflow(sync_home() / "airflow", port=0).stop():
        print("Airflow stopped")
    if stop_sandbox():
        print("sandbox stopped")
    print("embedded PostgreSQL stopped" if embedded.stop() else "embedded PostgreSQL was not running")
    return 0


def _run_cli(*argv: str) -> int:
    from .cli import build_parser

    args = build_parser().parse_args(list(argv))
    return args.func(args) or 0


def _start_sandbox(port: int, descriptors: Path, home: Path) -> tuple[str, bool]:
    """The sandbox as a background server that outlives the demo (stopped by `make stop`);
    True when it was started now, empty."""
    import urllib.request

    url = f"http://127.0.0.1:{port}"
    try:
        urllib.request.urlopen(url + "/", timeout=1)
        print(f"sandbox already running at {url}")
        return url, False
    except OSError:
        pass
    log_path = home / "sandbox.log"
    command = [sys.executable, "-m", "edfi_sync.cli", "sandbox", "serve", "--port", str(port), "--reset"]
    if descriptors.exists():
        command += ["--descriptors", str(descriptors)]
    with open(log_path, "ab") as log_file:
        process = subprocess.Popen(command, stdout=log_file, stderr=subprocess.STDOUT, start_new_session=True)
    (home / "sandbox.pid").write_text(str(process.pid))
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"the sandbox exited early; see {log_path}")
        try:
            urllib.request.urlopen(url + "/", timeout=1)
            return url, True
        except OSError:
            time.sleep(0.3)
    raise SystemExit(f"the sandbox did not answer within 60 s; see {log_path}")


def stop_sandbox(home: Path | None = None) -> bool:
    from .local_airflow import stop_groups

    pid_file = (home or sync_home()) / "sandbox.pid"
    if not pid_file.exists():
        return False
    pid = pid_file.read_text()
    pid_file.unlink()
    return pid.isdigit() and stop_groups([int(pid)])


def demo(args: argparse.Namespace) -> int:
    """The main job in Airflow: database, demo data, sandbox, Airflow, one run of `edfi_sync`, summary."""
    from .rerun import AirflowApi

    home = sync_home()
    home.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    descriptors = home / "demo-descriptors.json"
    print(f"== 1/5 database ({home})")
    code = _run_cli("db", "init")
    print(f"== 2/5 demo SIS data, scale {args.scale:g}, school year {args.school_year}")
    code = code or _run_cli("demo-data", "--scale", f"{args.scale:g}", "--school-year", str(args.school_year),
                            "--descriptors-out", str(descriptors))
    if code:
        return code
    print("== 3/5 Ed-Fi sandbox")
    url, started_empty = _start_sandbox(args.port, descriptors, home)
    print(f"sandbox at {url} (log: {home / 'sandbox.log'})")
    print("== 4/5 Airflow")
    airflow = _start_airflow(home, args.airflow_port, url)
    print(f"== 5/5 DAG run of edfi_sync, school year {args.school_year}" + (" (with resync)" if started_empty else ""))
    api = AirflowApi(airflow.url, airflow.user, airflow.password)
    # An empty sandbox next to an identity map from an earlier demo: a resync re-posts what it lacks.
    run_id, state, rows = _run_dag(api, {"school_years": [args.school_year], "resync": started_empty})
    for line in summary_table(rows):
        print(line)
    print(f"\nDAG run {run_id}: {state}, in {time.perf_counter() - started:.1f}s in all.")
    print(f"  Airflow UI:    {airflow.url}/  (login {airflow.user} / {airflow.password})")
    print("  Operator pages (Airflow's Browse menu, after logging in):")
    for path, title in PAGES:
        print(f"    {title}: {airflow.url}/plugin/edfi-{path}  (alone: {airflow.url}{URL_PREFIX}/{path})")
    print(f"  Ed-Fi sandbox: {url}/  (key sandbox / secret sandbox-secret; e.g. {url}/metadata/data/v3/dependencies)")
    print(f"  In a terminal: .venv/bin/edfi-sync report errors --school-year {args.school_year}")
    print(f"  Logs:          {home / 'airflow' / 'logs'}")
    print("  Stop servers:  make stop")
    return 0 if state == "success" else 1


def _start_airflow(home: Path, port: int, sandbox_url: str):
    """The demo's Airflow (metadata in the embedded server's `airflow` database), or the one
    already running under EDFI_SYNC_HOME."""
    from .local_airflow import LocalAirflow

    airflow = LocalAirflow(home / "airflow", port)
    if airflow.healthy():
        print(f"Airflow already running at {airflow.url}")
        return airflow
    airflow.home.mkdir(parents=True, exist_ok=True)
    airflow.stop()  # what is left of an earlier start that is no longer healthy
    # Demo data goes to the local sandbox only, whatever Ed-Fi connection the shell defines;
    # the demo's DAG runs only when triggered, so the summary below is the whole story.
    env = airflow.environment(
        metadata=embedded.conninfo("airflow"), sis=db.sis_conninfo(),
        edfi_api=json.dumps({"conn_type": "edfi", "host": sandbox_url, "login": "sandbox",
                             "password": "sandbox-secret"}),
        xcom_dir=home / "xcom", extra={"EDFI_SYNC_SCHEDULE": os.environ.get("EDFI_SYNC_SCHEDULE", "none")})
    begun = time.perf_counter()
    airflow.start(env)
    print(f"Airflow started at {airflow.url} in {time.perf_counter() - begun:.1f}s (logs: {airflow.home / 'logs'})")
    return airflow


def _run_dag(api, conf: dict, dag_id: str = "edfi_sync", timeout: float = 1800) -> tuple[str, str, dict]:
    """Unpause and trigger the DAG, wait for the run; its state and counts per resource."""
    from collections import Counter
    from urllib.parse import quote

    from .resources import GRAPH

    deadline = time.monotonic() + 120
    while api.get(f"/dags/{dag_id}") is None:  # the dag-processor has not parsed it yet
        if time.monotonic() > deadline:
            raise SystemExit(f"Airflow never listed the DAG {dag_id}; see the dag-processor log")
        time.sleep(1)
    api.patch(f"/dags/{dag_id}", {"is_paused": False})
    run_id = api.post(f"/dags/{dag_id}/dagRuns", {"logical_date": None, "conf": conf})["dag_run_id"]
    run = f"/dags/{dag_id}/dagRuns/{quote(run_id, safe='')}"
    deadline = time.monotonic() + timeout
    while (state := api.get(run)["state"]) not in ("success", "failed"):
        if time.monotonic() > deadline:
            raise SystemExit(f"DAG run {run_id} still {state} after {timeout:.0f}s")
        time.sleep(1)
    rows: dict[str, Counter] = {}
    for ti in api.get(f"{run}/taskInstances", params={"limit": 1000})["task_instances"]:
        if "." not in ti["task_id"]:  # preflight: no counts
            continue
        entry = api.get(f"{run}/taskInstances/{ti['task_id']}/xcomEntries/return_value")
        for year in (entry or {}).get("value", {}).get("years", []):
            rows.setdefault(ti["task_id"].split(".", 1)[1], Counter()).update(year.get("counts", {}))
    order = GRAPH.post_order()
    return run_id, state, dict(sorted(rows.items(), key=lambda item: order.index(item[0])))
