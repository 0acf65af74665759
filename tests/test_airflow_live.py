"""Against a real Airflow (api-server, scheduler, dag-processor, triggerer; LocalExecutor,
parallelism 4) started once for this module on 127.0.0.1, with the SIS of
tests/fixtures/sync_small.sql and the sandbox over HTTP: `edfi-sync airflow rerun`, and a
backfill of the school-year DAG after which unpausing schedules no missed year.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import uuid
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import quote

import psycopg
import pytest
import requests
from psycopg import sql as pgsql
from psycopg.conninfo import make_conninfo

from edfi_sync.local_airflow import LocalAirflow
from edfi_sync.sandbox.testing import run_sandbox

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[1]
CLI = [sys.executable, "-m", "edfi_sync.cli"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _database(admin: str, name: str, template: str | None = None) -> str:
    with psycopg.connect(admin, autocommit=True) as conn:
        stmt = pgsql.SQL("CREATE DATABASE {}").format(pgsql.Identifier(name))
        conn.execute(stmt + (pgsql.SQL(" TEMPLATE {}").format(pgsql.Identifier(template)) if template else pgsql.SQL("")))
    return make_conninfo(admin, dbname=name)


class Airflow:
    def __init__(self, url: str, env: dict[str, str], sis: str, sandbox, password: str):
        self.url, self.env, self.sis, self.sandbox, self.password = url, env, sis, sandbox, password
        token = requests.post(f"{url}/auth/token", json={"username": "admin", "password": password}, timeout=30)
        self.http = requests.Session()
        self.http.headers["Authorization"] = f"Bearer {token.json()['access_token']}"

    def api(self, method: str, path: str, **kwargs) -> dict:
        response = self.http.request(method, f"{self.url}/api/v2{path}", timeout=30, **kwargs)
        response.raise_for_status()
        return response.json()

    def trigger(self, conf: dict) -> str:
        return self.api("POST", "/dags/edfi_sync/dagRuns", json={"logical_date": None, "conf": conf})["dag_run_id"]

    def runs(self, dag_id: str) -> list[dict]:
        return self.api("GET", f"/dags/{dag_id}/dagRuns")["dag_runs"]

    def wait_run(self, run_id: str, timeout: float = 180, dag_id: str = "edfi_sync") -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            state = self.api("GET", f"/dags/{dag_id}/dagRuns/{quote(run_id, safe='')}")["state"]
            if state in ("success", "failed"):
                return state
            time.sleep(1)
        raise AssertionError(f"run {run_id} still {state} after {timeout}s")

    def task_states(self, run_id: str) -> dict[str, str]:
        tis = self.api("GET", f"/dags/edfi_sync/dagRuns/{quote(run_id, safe='')}/taskInstances")["task_instances"]
        return {ti["task_id"]: ti["state"] for ti in tis}

    def rerun(self, *args: str, **env: str) -> subprocess.CompletedProcess:
        return subprocess.run([*CLI, "airflow", "rerun", *args], capture_output=True, text=True, timeout=300,
                              env={**os.environ, "EDFI_SYNC_AIRFLOW_URL": self.url,
                                   "EDFI_SYNC_AIRFLOW_USER": "admin", "EDFI_SYNC_AIRFLOW_PASSWORD": self.password,
                                   **env})


@pytest.fixture(scope="module")
def airflow(pg_admin_conninfo, migrated_template, tmp_path_factory):
    suffix = uuid.uuid4().hex[:8]
    sis = _database(pg_admin_conninfo, f"edfi_sync_rerun_{suffix}", migrated_template)
    with psycopg.connect(sis) as conn:
        conn.execute((REPO / "tests" / "fixtures" / "sync_small.sql").read_text())
    local = LocalAirflow(tmp_path_factory.mktemp("airflow-home"), _free_port(), password=f"pw-{suffix}")
    with run_sandbox() as sandbox:
        env = local.environment(
            metadata=_database(pg_admin_conninfo, f"airflow_rerun_{suffix}"), sis=sis,
            edfi_api=json.dumps({"conn_type": "http", "host": sandbox.base_url,
                                 "login": sandbox.key, "password": sandbox.secret}))
        local.start(env)
        try:
            handle = Airflow(local.url, env, sis, sandbox, local.password)
            deadline = time.monotonic() + 90
            while not handle.api("GET", "/dags", params={"dag_id_pattern": "edfi_sync"})["dags"]:
                assert time.monotonic() < deadline, "the dag-processor never listed edfi_sync"
                time.sleep(1)
            handle.api("PATCH", "/dags/edfi_sync", json={"is_paused": False})
            yield handle
        finally:
            local.stop()


def writes(sandbox, since: int = 0) -> Counter:
    return Counter(r["method"] for r in sandbox.requests(since) if "/data/" in r["path"] and r["method"] != "GET")


def test_rerun_exit_codes_for_an_unreachable_airflow_a_refused_login_and_nothing_matched(airflow):
    closed = airflow.rerun("--dag-id", "edfi_sync", "--run-id", "x", "--resource", "schools",
                           "--airflow-url", f"http://127.0.0.1:{_free_port()}")
    assert closed.returncode == 2 and "unreachable" in closed.stderr
    refused = airflow.rerun("--dag-id", "edfi_sync", "--run-id", "x", "--resource", "schools",
                            EDFI_SYNC_AIRFLOW_PASSWORD="wrong")
    assert refused.returncode == 2 and "refused the login" in refused.stderr
    no_run = airflow.rerun("--dag-id", "edfi_sync", "--run-id", "manual__nope", "--resource", "schools")
    assert no_run.returncode == 3 and "no run" in no_run.stderr
    run_id = airflow.trigger({"resources": ["localEducationAgencies"]})
    assert airflow.wait_run(run_id) == "success"
    no_resource = airflow.rerun("--dag-id", "edfi_sync", "--run-id", run_id, "--resource", "nonsense")
    assert no_resource.returncode == 3 and "no task of resource" in no_resource.stderr

    # A scheduled run (unpausing created one) reruns the same way as a manual one.
    [scheduled] = [r["dag_run_id"] for r in airflow.api("GET", "/dags/edfi_sync/dagRuns")["dag_runs"]
                   if r["run_type"] == "scheduled"]
    assert airflow.wait_run(scheduled) == "success"
    again = airflow.rerun("--dag-id", "edfi_sync", "--run-id", scheduled, "--resource", "schools", "--wait")
    assert again.returncode == 0, again.stdout + again.stderr
    assert "post.schools: success" in again.stdout and "delete.schools: success" in again.stdout


def test_a_failed_resource_reruns_alone_and_succeeds_once_its_cause_is_fixed(airflow):
    conf = {"resources": ["localEducationAgencies", "students"], "fail_on_record_errors": True}
    run_id = airflow.trigger(conf)
    assert airflow.wait_run(run_id) == "failed"
    states = airflow.task_states(run_id)
    assert states["post.students"] == "failed" and states["post.localEducationAgencies"] == "success"
    args = ("--dag-id", "edfi_sync", "--run-id", run_id, "--resource", "students", "--wait", "--timeout", "120")

    still_broken = airflow.rerun(*args)  # student 3 still has no birth date
    assert still_broken.returncode == 1, still_broken.stdout + still_broken.stderr
    assert "post.students: failed" in still_broken.stdout

    with psycopg.connect(airflow.sis) as conn:
        conn.execute("UPDATE sis.person SET birth_date = '2008-05-05' WHERE person_id = 3")
    since = (airflow.sandbox.requests() or [{"seq": 0}])[-1]["seq"]
    fixed = airflow.rerun(*args, "--downstream")
    assert fixed.returncode == 0, fixed.stdout + fixed.stderr
    assert "post.students: success" in fixed.stdout and "update.students: success" in fixed.stdout
    # Only what was still needed: the one student that failed before.
    assert writes(airflow.sandbox, since) == Counter({"POST": 1})
    assert airflow.task_states(run_id)["post.localEducationAgencies"] == "success"
    assert airflow.wait_run(run_id) == "success"

    queued = airflow.rerun("--dag-id", "edfi_sync", "--run-id", run_id, "--resource", "localEducationAgencies")
    assert queued.returncode == 0 and "post.localEducationAgencies" in queued.stdout
    assert airflow.wait_run(run_id) == "success"


def test_backfill_of_an_old_school_year_then_unpausing_schedules_no_missed_year(airflow):
    dag = "edfi_sync_school_year"
    created = subprocess.run([sys.executable, "-m", "airflow", "backfill", "create", "--dag-id", dag,
                              "--from-date", "2021-07-01", "--to-date", "2022-06-30"],
                             env=airflow.env, capture_output=True, text=True, timeout=120)
    assert created.returncode == 0, created.stderr[-3000:]
    airflow.api("PATCH", f"/dags/{dag}", json={"is_paused": False})  # a paused DAG keeps backfill runs queued
    [backfill] = [r for r in airflow.runs(dag) if r["run_type"] == "backfill"]
    assert (backfill["data_interval_start"], backfill["data_interval_end"]) == (
        "2021-07-01T00:00:00Z", "2022-07-01T00:00:00Z")
    assert airflow.wait_run(backfill["dag_run_id"], dag_id=dag) == "success"
    deadline = time.monotonic() + 60
    while not [r for r in airflow.runs(dag) if r["run_type"] == "scheduled"]:
        assert time.monotonic() < deadline, "the scheduler never scheduled the latest school year"
        time.sleep(1)
    time.sleep(5)  # give it the chance to (wrongly) add a missed year
    scheduled = {r["data_interval_start"] for r in airflow.runs(dag) if r["run_type"] == "scheduled"}
    now = datetime.now(timezone.utc)
    latest_complete = now.year - 1 if now.month >= 7 else now.year - 2
    assert scheduled == {f"{latest_complete}-07-01T00:00:00Z"}  # not 2022-23, 2023-24, ...
    # SY 2021-22 has no enabled connection: the tasks succeed and say so.
    summary = airflow.api("GET", f"/dags/{dag}/dagRuns/{quote(backfill['dag_run_id'], safe='')}/taskInstances/"
                                 "post.students/xcomEntries/return_value")["value"]
    assert summary["years"] == [{"school_year": 2022, "run_id": f"{backfill['dag_run_id']}__2022",
                                 "status": "out_of_scope"}]
