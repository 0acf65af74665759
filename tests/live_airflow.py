"""One real Airflow for the whole pytest session (the `live_airflow` fixture of conftest.py).

api-server, scheduler, dag-processor and triggerer (LocalExecutor, parallelism 4) on 127.0.0.1,
started through `edfi_sync.local_airflow` as `make demo` does, with its metadata in the session's
PostgreSQL, the SIS in a database of its own and the Ed-Fi sandbox in this process. Starting one
costs ~30 s, so every module that needs a live Airflow shares it and calls `load(...)` first to
reset the SIS database and the sandbox to what it needs.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections import Counter
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator
from urllib.parse import quote

import psycopg
import requests
from psycopg.conninfo import conninfo_to_dict

from databases import create_database, drop_database
from edfi_sync.demo.config import write_descriptors
from edfi_sync.local_airflow import LocalAirflow, free_port
from edfi_sync.sandbox.testing import SandboxHandle, run_sandbox

REPO = Path(__file__).resolve().parents[1]
CLI = [sys.executable, "-m", "edfi_sync.cli"]
USER = "admin"
VIEWER = "viewer"  # SimpleAuthManager's read-only role: refused every action of the pages


class LiveAirflow:
    """A handle on the session's Airflow: its REST API (as ``admin``), the SIS database its tasks
    use (``sis``, a conninfo) and the sandbox they send to."""

    def __init__(self, local: LocalAirflow, env: dict[str, str], sis: str, sandbox: SandboxHandle, admin: str,
                 template: str):
        self.local, self.url, self.password = local, local.url, local.password
        self.env, self.sis, self.sandbox = env, sis, sandbox
        self.logs = local.home / "logs"  # one log per component (and per Celery worker)
        self.xcom_dir = Path(env["AIRFLOW__COMMON_IO__XCOM_OBJECTSTORAGE_PATH"].removeprefix("file://"))
        self.user = USER
        self.passwords = {USER: self.password, VIEWER: viewer_password(self.password)}
        self._admin, self._template = admin, template
        self.http = requests.Session()
        self.http.headers["Authorization"] = f"Bearer {self.token()}"

    def token(self, user: str = USER, password: str | None = None) -> str:
        """A JWT for the REST API (and the operator pages), of ``admin`` or of the read-only ``viewer``."""
        response = requests.post(f"{self.url}/auth/token", timeout=30,
                                 json={"username": user, "password": password or self.passwords[user]})
        response.raise_for_status()
        return response.json()["access_token"]

    # ---- data --------------------------------------------------------------------------------------
    def load(self, fixture: str | None = "sync_small.sql", *, demo_scale: float | None = None) -> None:
        """Start from a fresh migrated SIS database holding ``tests/fixtures/<fixture>`` (or the demo
        data at ``demo_scale``) and an empty sandbox. DAG runs of earlier modules stay in Airflow."""
        name = conninfo_to_dict(self.sis)["dbname"]
        drop_database(self._admin, name)
        create_database(self._admin, name, self._template)
        if fixture:
            with psycopg.connect(self.sis) as conn:
                conn.execute((REPO / "tests" / "fixtures" / fixture).read_text())
        if demo_scale is not None:
            subprocess.run([*CLI, "demo-data", "--scale", str(demo_scale)], check=True, capture_output=True,
                           text=True, timeout=300, env={**os.environ, "AIRFLOW_CONN_EDFI_SIS": self.env[
                               "AIRFLOW_CONN_EDFI_SIS"]})
        self.sandbox.reset()

    def sql(self, query: str, *params):
        """A statement on the SIS database: its rows, or the count of rows it changed."""
        with psycopg.connect(self.sis) as conn:
            cursor = conn.execute(query, params)
            return cursor.fetchall() if cursor.description else cursor.rowcount

    def cli(self, *args: str, exit_status: int = 0) -> str:
        """`edfi-sync ...` on this Airflow's SIS and sandbox; its output as written (CSV keeps \\r\\n)."""
        done = subprocess.run([*CLI, *args], capture_output=True, timeout=300, env={
            **os.environ, **{k: self.env[k] for k in ("AIRFLOW_CONN_EDFI_SIS", "AIRFLOW_CONN_EDFI_API")}})
        assert done.returncode == exit_status, done.stderr.decode()
        return done.stdout.decode()

    # ---- REST --------------------------------------------------------------------------------------
    def api(self, method: str, path: str, **kwargs) -> dict:
        for attempt in range(3):
            try:
                response = self.http.request(method, f"{self.url}/api/v2{path}", timeout=30, **kwargs)
                break
            except requests.Timeout:
                # A loaded 2-core machine can keep the api-server from answering a read in time.
                if method != "GET" or attempt == 2:
                    raise
        response.raise_for_status()
        return response.json()

    def trigger(self, conf: dict, dag_id: str = "edfi_sync") -> str:
        return self.api("POST", f"/dags/{dag_id}/dagRuns", json={"logical_date": None, "conf": conf})["dag_run_id"]

    def runs(self, dag_id: str) -> list[dict]:
        return self.api("GET", f"/dags/{dag_id}/dagRuns")["dag_runs"]

    def wait_run(self, run_id: str, timeout: float = 360, dag_id: str = "edfi_sync") -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            state = self.api("GET", f"/dags/{dag_id}/dagRuns/{quote(run_id, safe='')}")["state"]
            if state in ("success", "failed"):
                return state
            time.sleep(1)
        raise AssertionError(f"run {run_id} still {state} after {timeout}s: {self.stuck(run_id, dag_id)}")

    def stuck(self, run_id: str, dag_id: str = "edfi_sync") -> str:
        """The task states of a run that did not end, with the log tail of each running task."""
        tis = self.task_instances(run_id, dag_id)
        states = {ti["task_id"]: ti["state"] for ti in tis}
        tails = []
        for ti in (ti for ti in tis if ti["state"] == "running"):
            task_id = ti["task_id"]
            try:
                tail = self.log(run_id, task_id, max(ti["try_number"], 1), dag_id).splitlines()[-12:]
            except requests.RequestException as exc:
                tail = [f"(no log: {exc})"]
            tails.append(f"--- {task_id}:\n" + "\n".join(tail))
        return "\n".join([str(states), *tails])

    def run(self, conf: dict, dag_id: str = "edfi_sync", timeout: float = 360) -> str:
        """Trigger, wait, and expect success; the run id."""
        run_id = self.trigger(conf, dag_id)
        assert self.wait_run(run_id, timeout, dag_id) == "success", self.task_states(run_id, dag_id)
        return run_id

    def task_instances(self, run_id: str, dag_id: str = "edfi_sync") -> list[dict]:
        return self.api("GET", f"/dags/{dag_id}/dagRuns/{quote(run_id, safe='')}/taskInstances",
                        params={"limit": 1000})["task_instances"]

    def task_states(self, run_id: str, dag_id: str = "edfi_sync") -> dict[str, str]:
        return {ti["task_id"]: ti["state"] for ti in self.task_instances(run_id, dag_id)}

    def summary(self, run_id: str, task_id: str, dag_id: str = "edfi_sync") -> dict:
        """A task's XCom return_value (SPEC §5.6)."""
        return self.api("GET", f"/dags/{dag_id}/dagRuns/{quote(run_id, safe='')}/taskInstances/{task_id}/"
                               "xcomEntries/return_value")["value"]

    def counts(self, run_id: str, resource: str, dag_id: str = "edfi_sync") -> Counter:
        """The counts of every task of a resource in the run (the students' PUTs are in update.students)."""
        total = Counter()
        for task_id in self.task_states(run_id, dag_id):
            if "." in task_id and task_id.split(".", 1)[1] == resource:
                for year in self.summary(run_id, task_id, dag_id)["years"]:
                    total.update(year.get("counts", {}))
        return total

    def log(self, run_id: str, task_id: str, try_number: int = 1, dag_id: str = "edfi_sync") -> str:
        """The messages of a task's log, one a line."""
        content = self.api("GET", f"/dags/{dag_id}/dagRuns/{quote(run_id, safe='')}/taskInstances/{task_id}/"
                                  f"logs/{try_number}", params={"full_content": "true"})["content"]
        return "\n".join(line.get("event", "") if isinstance(line, dict) else str(line) for line in content)

    # ---- crashes ------------------------------------------------------------------------------------
    def task_process(self, run_id: str, task_id: str, dag_id: str = "edfi_sync") -> int | None:
        """The PID of a running task's runner: its command line names the task instance's id
        ("airflow worker -- <id>"); None when it is not running."""
        ti = self.api("GET", f"/dags/{dag_id}/dagRuns/{quote(run_id, safe='')}/taskInstances/{task_id}")
        wanted = f"airflow worker -- {ti['id']}"
        for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
            try:
                if cmdline.read_bytes().replace(b"\0", b" ").decode(errors="replace").strip() == wanted:
                    return int(cmdline.parent.name)
            except OSError:
                continue
        return None

    def crash_scheduler(self, timeout: float = 180) -> float:
        """kill -9 the scheduler's process group (its LocalExecutor workers and the tasks they run go
        with it), wait until Airflow declares it dead (no heartbeat for scheduler_health_check_threshold,
        30 s: only then does a new scheduler reset the task instances the dead one ran), and start it
        again; the other components keep running. Returns the seconds it was away."""
        down = time.monotonic()
        self.local.kill("scheduler")
        deadline = down + timeout
        while self.api("GET", "/monitor/health")["scheduler"]["status"] == "healthy":
            assert time.monotonic() < deadline, "Airflow never saw the scheduler die"
            time.sleep(1)
        self.local.restart("scheduler", self.env)
        return time.monotonic() - down

    def rerun(self, *args: str, **env: str) -> subprocess.CompletedProcess:
        """`edfi-sync airflow rerun ...` against this Airflow."""
        return subprocess.run([*CLI, "airflow", "rerun", *args], capture_output=True, text=True, timeout=300,
                              env={**os.environ, "EDFI_SYNC_AIRFLOW_URL": self.url,
                                   "EDFI_SYNC_AIRFLOW_USER": USER, "EDFI_SYNC_AIRFLOW_PASSWORD": self.password,
                                   **env})


def viewer_password(admin_password: str) -> str:
    return f"{admin_password}-viewer"


@contextmanager
def start_live_airflow(admin: str, template: str, home: Path, suffix: str, *, executor: str = "LocalExecutor",
                       environment: dict[str, str] | None = None) -> Iterator[LiveAirflow]:
    """Start the sandbox and Airflow (``executor``; ``environment`` on top of its own, e.g. a
    parse-time EDFI_SYNC_PARTITIONS); stop every process group at the end."""
    sis_name, metadata_name = f"edfi_sync_live_{suffix}", f"airflow_live_{suffix}"
    sis = create_database(admin, sis_name, template)
    descriptors = write_descriptors(home / "demo-descriptors.json")
    local = LocalAirflow(home / "airflow", free_port(), password=f"pw-{suffix}", executor=executor)
    local.home.mkdir(parents=True, exist_ok=True)
    try:
        with run_sandbox(descriptor_files=[descriptors]) as sandbox:
            env = local.environment(
                metadata=create_database(admin, metadata_name), sis=sis,
                edfi_api=json.dumps({"conn_type": "http", "host": sandbox.base_url,
                                     "login": sandbox.key, "password": sandbox.secret}),
                xcom_dir=home / "xcom",  # as make demo: large XComs go to files (the maintenance DAG prunes them)
                # Unpausing makes one scheduled run; none more while the session lasts (@daily).
                extra={"EDFI_SYNC_SCHEDULE": "@daily", **(environment or {})},
                users={VIEWER: ("viewer", viewer_password(local.password))})
            local.start(env)
            try:
                handle = LiveAirflow(local, env, sis, sandbox, admin, template)
                deadline = time.monotonic() + 120
                while not handle.api("GET", "/dags", params={"dag_id_pattern": "edfi_sync"})["dags"]:
                    assert time.monotonic() < deadline, "the dag-processor never listed edfi_sync"
                    time.sleep(1)
                # Unpausing schedules the latest interval once; it ends before any module loads its data
                # (with EDFI_SYNC_SCHEDULE=none there is none: triggered runs only).
                handle.api("PATCH", "/dags/edfi_sync", json={"is_paused": False})
                if env["EDFI_SYNC_SCHEDULE"] != "none":
                    while not (scheduled := handle.runs("edfi_sync")):
                        assert time.monotonic() < deadline, "unpausing edfi_sync scheduled no run"
                        time.sleep(1)
                    handle.wait_run(scheduled[0]["dag_run_id"])
                yield handle
            finally:
                local.stop()
    finally:
        drop_database(admin, sis_name)
        drop_database(admin, metadata_name)
