"""Handlers of the small CLI commands (the bigger ones live next to their subsystem)."""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from . import db, embedded
from .paths import sync_home


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
    pid_file = (home or sync_home()) / "sandbox.pid"
    if not pid_file.exists():
        return False
    try:
        os.killpg(int(pid_file.read_text()), signal.SIGTERM)
    except (ProcessLookupError, ValueError, PermissionError):
        pass
    pid_file.unlink(missing_ok=True)
    return True


def demo(args: argparse.Namespace) -> int:
    """The main job until the Airflow DAGs land: database, demo data, sandbox, one sync, summary."""
    home = sync_home()
    home.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    descriptors = home / "demo-descriptors.json"
    print(f"== 1/4 database ({home})")
    code = _run_cli("db", "init")
    print(f"== 2/4 demo SIS data, scale {args.scale:g}, school year {args.school_year}")
    code = code or _run_cli("demo-data", "--scale", f"{args.scale:g}", "--school-year", str(args.school_year),
                            "--descriptors-out", str(descriptors))
    if code:
        return code
    print("== 3/4 Ed-Fi sandbox")
    url, started_empty = _start_sandbox(args.port, descriptors, home)
    # Demo data goes to the local sandbox only, whatever Ed-Fi connection the shell defines.
    os.environ["AIRFLOW_CONN_EDFI_API"] = json.dumps(
        {"conn_type": "http", "host": url, "login": "sandbox", "password": "sandbox-secret"})
    print(f"sandbox at {url} (log: {home / 'sandbox.log'})")
    # An empty sandbox next to an identity map from an earlier demo: a resync re-posts what it lacks.
    print(f"== 4/4 sync school year {args.school_year}" + (" (with resync)" if started_empty else ""))
    code = _run_cli("sync", "--school-year", str(args.school_year), *(["--resync"] if started_empty else []))
    print(f"\nDone in {time.perf_counter() - started:.1f}s.")
    print(f"  Ed-Fi sandbox: {url}/  (key sandbox / secret sandbox-secret; e.g. {url}/metadata/data/v3/dependencies)")
    print(f"  Error log:     .venv/bin/edfi-sync report errors --school-year {args.school_year}")
    print(f"  Identity map:  .venv/bin/edfi-sync report identity-map --school-year {args.school_year}")
    print("  Stop servers:  make stop")
    return code
