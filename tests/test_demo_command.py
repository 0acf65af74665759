"""`make demo`'s job end to end: its own embedded PostgreSQL, demo data, the sandbox, a sync."""

from __future__ import annotations

import os
import socket
import subprocess
import sys

import pytest

pytestmark = pytest.mark.e2e


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_demo_runs_the_main_job_and_stops_cleanly(tmp_path):
    env = {**os.environ, "EDFI_SYNC_HOME": str(tmp_path / "home")}
    env.pop("AIRFLOW_CONN_EDFI_SIS", None)  # the demo brings its own database
    env["AIRFLOW_CONN_EDFI_API"] = '{"conn_type": "http", "host": "https://ods.state.example"}'  # never used
    port = _free_port()
    cli = [sys.executable, "-m", "edfi_sync.cli"]
    try:
        run = subprocess.run([*cli, "demo", "--scale", "0.2", "--port", str(port)], env=env, capture_output=True,
                             text=True, timeout=300)
        assert run.returncode == 0, run.stdout + run.stderr
        assert f"Ed-Fi sandbox: http://127.0.0.1:{port}/" in run.stdout
        assert "studentSchoolAssociations" in run.stdout and "school year 2025" in run.stdout
        again = subprocess.run([*cli, "sync", "--school-year", "2025"], capture_output=True, text=True,
                               timeout=120, env={**env, "AIRFLOW_CONN_EDFI_API": (
                                   f'{{"conn_type": "http", "host": "http://127.0.0.1:{port}", '
                                   f'"login": "sandbox", "password": "sandbox-secret"}}')})
        assert again.returncode == 0, again.stderr
        lines = {line.split()[0]: line.split() for line in again.stdout.splitlines()[2:] if line.strip()}
        assert lines["students"][3:6] == ["0", "0", "0"]  # no POST, PUT or DELETE: the demo synced it all
        stopped = subprocess.run([*cli, "db", "stop"], env=env, capture_output=True, text=True, timeout=60)
        assert "sandbox stopped" in stopped.stdout and "PostgreSQL stopped" in stopped.stdout
        # make stop, then make demo again: an empty sandbox, the old identity map; a resync refills it.
        rerun = subprocess.run([*cli, "demo", "--scale", "0.2", "--port", str(port)], env=env,
                               capture_output=True, text=True, timeout=300)
        assert rerun.returncode == 0 and "(with resync)" in rerun.stdout, rerun.stdout + rerun.stderr
        students = next(line.split() for line in rerun.stdout.splitlines() if line.strip().startswith("students"))
        assert int(students[3]) > 0  # re-posted
    finally:
        subprocess.run([*cli, "db", "stop"], env=env, capture_output=True, text=True, timeout=60)
