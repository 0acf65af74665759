"""`make demo` end to end, as on a fresh clone: its own embedded PostgreSQL, demo data, the
sandbox and Airflow, one run of `edfi_sync`; a second `make demo` reuses it all; `make stop`
leaves no process behind."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from edfi_sync.sandbox.testing import SandboxHandle

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[1]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _processes_under(path: Path) -> list[str]:
    """Live processes whose command line or environment names ``path`` (EDFI_SYNC_HOME)."""
    found = []
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            if (proc / "stat").read_text().rsplit(")", 1)[1].split()[0] == "Z":
                continue
            if str(path).encode() in (proc / "cmdline").read_bytes() + (proc / "environ").read_bytes():
                found.append((proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace"))
        except OSError:
            continue
    return found


def _summary(stdout: str) -> dict[str, list[int]]:
    """The per-resource rows of the demo's summary table: extracted, unchanged, POST, PUT, DELETE, ..."""
    return {m[1]: [int(n) for n in m[2].split()]
            for m in re.finditer(r"^  (\w+)\s+((?:\d+\s+){8}\d+)$", stdout, re.M)}


def test_make_demo_runs_the_dag_then_reuses_what_runs_and_make_stop_leaves_nothing(tmp_path):
    home = tmp_path / "home"
    sandbox_port, airflow_port = _free_port(), _free_port()
    env = {**os.environ, "EDFI_SYNC_HOME": str(home), "VENV": str(Path(sys.executable).parents[1]),
           "DEMO_ARGS": f"--scale 0.2 --port {sandbox_port} --airflow-port {airflow_port}"}
    env.pop("AIRFLOW_CONN_EDFI_SIS", None)  # the demo brings its own database
    env["AIRFLOW_CONN_EDFI_API"] = '{"conn_type": "http", "host": "https://ods.state.example"}'  # never used

    def make(target: str) -> subprocess.CompletedProcess:
        return subprocess.run(["make", "-C", str(REPO), target], env=env, capture_output=True, text=True,
                              timeout=600)

    try:
        first = make("demo")
        assert first.returncode == 0, first.stdout[-4000:] + first.stderr[-4000:]
        assert re.search(r"DAG run manual__\S+: success", first.stdout)
        assert f"Airflow UI:    http://127.0.0.1:{airflow_port}/  (login admin / admin)" in first.stdout
        error_log = f"http://127.0.0.1:{airflow_port}/plugin/edfi-errors"
        assert f"Error Log: {error_log}  (alone: http://127.0.0.1:{airflow_port}/edfi-sync/errors)" in first.stdout
        assert f"http://127.0.0.1:{airflow_port}/plugin/edfi-identity-map" in first.stdout
        assert f"http://127.0.0.1:{airflow_port}/plugin/edfi-runs" in first.stdout
        token = requests.post(f"http://127.0.0.1:{airflow_port}/auth/token", timeout=30,
                              json={"username": "admin", "password": "admin"}).json()["access_token"]
        page = requests.get(f"http://127.0.0.1:{airflow_port}/edfi-sync/errors", timeout=60,
                            headers={"Authorization": f"Bearer {token}"})
        assert page.status_code == 200 and "open errors in all school years" in page.text
        rows = _summary(first.stdout)
        sandbox = SandboxHandle(f"http://127.0.0.1:{sandbox_port}", "sandbox", "sandbox-secret")
        students = sandbox.records("students")
        assert rows["students"][2] == len(students) > 0  # what the summary says was POSTed is in the ODS
        assert rows["studentSchoolAssociations"][2] == len(sandbox.records("studentSchoolAssociations")) > 0
        # Airflow's metadata is in the embedded server's `airflow` database; XComs may go to files.
        settings = (home / "airflow" / "airflow.env").read_text()
        assert f"/airflow?host={home}/pgdata" in settings
        assert f"AIRFLOW__COMMON_IO__XCOM_OBJECTSTORAGE_PATH=file://{home}/xcom" in settings

        since = sandbox.requests()[-1]["seq"]
        second = make("demo")
        assert second.returncode == 0, second.stdout[-4000:] + second.stderr[-4000:]
        assert f"Airflow already running at http://127.0.0.1:{airflow_port}" in second.stdout
        assert "sandbox already running" in second.stdout and "Airflow started" not in second.stdout
        assert re.search(r"DAG run manual__\S+: success", second.stdout)
        assert {name: row[2:5] for name, row in _summary(second.stdout).items()} == {
            name: [0, 0, 0] for name in rows}
        assert [r for r in sandbox.requests(since) if "/data/" in r["path"] and r["method"] != "GET"] == []
        assert _processes_under(home)  # the check below can see them

        stopped = make("stop")
        assert "Airflow stopped" in stopped.stdout and "sandbox stopped" in stopped.stdout
        assert "embedded PostgreSQL stopped" in stopped.stdout
        assert _processes_under(home) == []
        assert subprocess.run(["pgrep", "-f", str(home)], capture_output=True).stdout == b""
    finally:
        make("stop")
