"""Crashes and concurrency in Airflow (issue 21, SPEC §6.1), against the session's real Airflow
(tests/live_airflow.py) with the demo district at a small scale:

- the task process of a running `post.<resource>` killed (-9), then cleared; the whole scheduler
  killed (-9) with its workers and started again: the DAG run converges;
- a DAG run that fails is closed in the run ledger by its DAG-level callback;
- two DAG runs of one year at once (a backfill with max_active_runs=2: the DAG itself keeps 1) and
  a CLI sync beside them: no record is sent twice, the identity map stays the ODS, and the second
  to reach a step waits for it and says so;
- two school years in parallel (a backfill of the school-year DAG over two years, max_active_runs=2).
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from urllib.parse import quote

import psycopg
import pytest

from e2e_helpers import CLI, divergence, finish, kill_hard, sql, start_sync
from reliability import sync_env, written

pytestmark = pytest.mark.e2e

SCALE = 0.2
YEAR = 2025


@pytest.fixture(scope="module")
def airflow(live_airflow):
    live_airflow.load(None, demo_scale=SCALE)
    return live_airflow


def wait_for(what: str, ready, timeout: float = 180, every: float = 0.5):
    deadline = time.monotonic() + timeout
    while not (value := ready()):
        assert time.monotonic() < deadline, f"no {what} within {timeout}s"
        time.sleep(every)
    return value


def writes_to(sandbox, resource: str, since: int = 0) -> int:
    return sum(1 for r in sandbox.requests(since) if f"/ed-fi/{resource}" in r["path"] and r["method"] != "GET")


def ledger(conninfo: str, run_id: str) -> tuple[str | None, list]:
    status = sql(conninfo, "SELECT status FROM edfi_sync.sync_run WHERE run_id = %s", run_id)
    steps = sql(conninfo, "SELECT phase || '.' || resource FROM edfi_sync.resource_run "
                          "WHERE run_id = %s AND status = 'running'", run_id)
    return (status[0][0] if status else None), steps


def test_a_killed_task_and_a_crashed_scheduler_mid_run_then_the_dag_run_converges(airflow, reliability_tally):
    sandbox = airflow.sandbox
    # Slow sends on the two resources to kill amid (the others at full speed): ~10 s windows.
    sandbox.set_faults(latency_ms=400, paths="^/data/v3/ed-fi/(studentSchoolAssociations|courseTranscripts)",
                       methods=["POST"])
    run_id = airflow.trigger({"school_years": [YEAR]})

    # 1. kill -9 the task runner of post.studentSchoolAssociations amid its sends, then clear it.
    ssa = "post.studentSchoolAssociations"
    wait_for("SSA writes", lambda: writes_to(sandbox, "studentSchoolAssociations") >= 10, every=0.1)
    pid = airflow.task_process(run_id, ssa)
    assert pid, f"no task runner for {ssa}"
    killed = time.monotonic()
    os.kill(pid, signal.SIGKILL)
    wait_for(f"{ssa} to fail", lambda: airflow.task_states(run_id)[ssa] in ("up_for_retry", "failed"))
    # Its retry would come after retry_delay (2 min): clear it instead, as an operator would.
    cleared = airflow.rerun("--dag-id", "edfi_sync", "--run-id", run_id, "--resource", "studentSchoolAssociations")
    assert cleared.returncode == 0, cleared.stdout + cleared.stderr
    wait_for(f"{ssa} to succeed", lambda: airflow.task_states(run_id)[ssa] == "success", every=0.5)
    tally = reliability_tally
    tally.kills.append({"seed": "-", "index": "airflow", "recovery_s": round(time.monotonic() - killed, 1),
                        "point": f"the task runner of {ssa} killed amid its sends, then cleared"})
    tally.recovered(time.monotonic() - killed, f"{ssa} killed in Airflow", "failed (up_for_retry), cleared, "
                    "and its second try resent what the first had not recorded")

    # 2. kill -9 the whole scheduler (its workers and running tasks too) amid post.courseTranscripts.
    wait_for("transcript writes", lambda: writes_to(sandbox, "courseTranscripts") >= 10, every=0.2)
    crashed = time.monotonic()
    away = airflow.crash_scheduler()
    sandbox.clear_faults()
    assert airflow.wait_run(run_id, timeout=600) == "success", airflow.task_states(run_id)
    print(f"\nscheduler away {away:.0f} s; run {run_id} converged")
    tally.kills.append({"seed": "-", "index": "airflow", "recovery_s": round(time.monotonic() - crashed, 1),
                        "point": "the scheduler (with its workers and running tasks) killed amid post.courseTranscripts"})
    tally.recovered(time.monotonic() - crashed, "the scheduler killed in Airflow",
                    f"away {away:.0f} s (Airflow declares a scheduler dead after 30 s without heartbeat; only "
                    f"then does a new one reset the tasks the dead one ran), then the rest of the DAG run")

    found = divergence(airflow.sis, sandbox)
    tally.compared(found)
    assert not found, "\n".join(found.problems[:20])
    status, running = ledger(airflow.sis, f"{run_id}__{YEAR}")
    assert status == "record_errors" and running == []  # the demo's real errors; nothing left open
    tries = {ti["task_id"]: ti["try_number"] for ti in airflow.api(
        "GET", f"/dags/edfi_sync/dagRuns/{quote(run_id, safe='')}/taskInstances", params={"limit": 1000})[
        "task_instances"]}
    assert tries[ssa] >= 2 and tries["post.courseTranscripts"] >= 2  # both were run again


def test_a_failed_dag_run_is_closed_in_the_run_ledger_by_its_callback(airflow):
    run_id = airflow.trigger({"school_years": [YEAR], "resources": ["localEducationAgencies", "students"],
                              "fail_on_record_errors": True})
    assert airflow.wait_run(run_id) == "failed"  # the demo's students with errors fail post.students
    # update.students never ran: the last task could not close the run; the DAG run's end does.
    status = wait_for("the run closed", lambda: (s := ledger(airflow.sis, f"{run_id}__{YEAR}"))[0] != "running" and s,
                      timeout=120)
    assert status == ("failed", [])


def backfill(airflow, dag_id: str, first: str, last: str, conf: dict) -> list[str]:
    """A backfill with max_active_runs=2 (the DAG itself allows 1), waited for; its runs' ids."""
    made = airflow.api("POST", "/backfills", json={"dag_id": dag_id, "from_date": first, "to_date": last,
                                                    "max_active_runs": 2, "dag_run_conf": conf})
    wait_for("the backfill to complete", lambda: airflow.api("GET", f"/backfills/{made['id']}")["completed_at"],
             timeout=600, every=2)
    return sorted(r["dag_run_id"] for r in airflow.runs(dag_id)
                  if r["run_type"] == "backfill" and first[:10] <= r["logical_date"][:10] <= last[:10])


def overlapped(airflow, dag_id: str, run_ids: list[str]) -> bool:
    runs = [airflow.api("GET", f"/dags/{dag_id}/dagRuns/{quote(r, safe='')}") for r in run_ids]
    return max(r["start_date"] for r in runs) < min(r["end_date"] for r in runs)


def test_two_dag_runs_of_one_year_and_a_cli_sync_at_once_send_no_record_twice(airflow, reliability_tally):
    airflow.load(None, demo_scale=SCALE)  # an empty ODS: any record sent twice answers 200, not 201
    sandbox = airflow.sandbox
    sandbox.set_faults(latency={"distribution": "uniform", "min_ms": 5, "max_ms": 25}, seed=21)
    cli = start_sync(sync_env(airflow.sis, sandbox))  # starts beside the backfill's two runs
    try:
        runs = backfill(airflow, "edfi_sync", "2026-01-01T00:00:00Z", "2026-01-02T00:00:00Z",
                        {"school_years": [YEAR]})
        code, out, err = finish(cli, timeout=600)
    finally:
        kill_hard(cli)
    states = [airflow.api("GET", f"/dags/edfi_sync/dagRuns/{quote(r, safe='')}")["state"] for r in runs]
    assert states == ["success", "success"] and code == 0, err[-3000:]
    assert overlapped(airflow, "edfi_sync", runs)

    sent = written(sandbox.requests())
    assert set(sent) == {"POST 201"}, sent  # each record POSTed once: never a 200 (a resend), no PUT or DELETE
    found = divergence(airflow.sis, sandbox)
    reliability_tally.compared(found)
    assert not found, "\n".join(found.problems[:20])
    # Whoever reached a step second waited for it, said whose it was, then found nothing left to send.
    logs = err + "".join(airflow.log(run_id, task) for run_id in runs
                         for task in airflow.task_states(run_id) if task.startswith("post."))
    assert " waits: edfi-sync " in logs and "is running this step" in logs
    assert sql(airflow.sis, "SELECT count(*) FROM edfi_sync.sync_run WHERE status = 'running'") == [(0,)]


def test_two_school_years_in_parallel(airflow, reliability_tally):
    """SY 2022-23 and 2023-24 (demo data of 2024: its previous year has calendars and enrollments too)."""
    airflow.load(None)
    sandbox = airflow.sandbox
    env = sync_env(airflow.sis, sandbox)
    years = (2023, 2024)
    for command in (["demo-data", "--scale", str(SCALE), "--school-year", "2024"],
                    ["config", "copy-year", "2024", "2023", "--overwrite"]):
        done = subprocess.run([*CLI, *command], env=env, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr
    # One ODS per year (year-specific routes), through a connection made in Airflow for the test.
    airflow.api("POST", "/connections", json={
        "connection_id": "edfi_api_by_year", "conn_type": "http", "host": sandbox.base_url, "login": sandbox.key,
        "password": sandbox.secret, "extra": '{"api_mode": "year_specific"}'})
    try:
        with psycopg.connect(airflow.sis) as conn:
            conn.execute("UPDATE edfi_sync.connection SET enabled = true, conn_id = 'edfi_api_by_year' "
                         "WHERE end_year = ANY (%s)", (list(years),))
        airflow.api("PATCH", "/dags/edfi_sync_school_year", json={"is_paused": False})
        runs = backfill(airflow, "edfi_sync_school_year", "2022-07-01T00:00:00Z", "2024-06-30T00:00:00Z", {})
    finally:
        airflow.http.delete(f"{airflow.url}/api/v2/connections/edfi_api_by_year", timeout=30)
    assert len(runs) == 2
    states = [airflow.api("GET", f"/dags/edfi_sync_school_year/dagRuns/{quote(r, safe='')}")["state"] for r in runs]
    assert states == ["success", "success"]
    assert overlapped(airflow, "edfi_sync_school_year", runs)
    for year in years:
        found = divergence(airflow.sis, sandbox, year=year, ods_year=year)
        reliability_tally.compared(found)
        assert not found, f"{year}:\n" + "\n".join(found.problems[:20])
        assert found.counts["studentSchoolAssociations"] > 20
