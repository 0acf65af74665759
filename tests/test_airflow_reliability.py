"""Crashes and concurrency in Airflow (issue 21, SPEC §6.1), against the session's real Airflow
(tests/live_airflow.py) with the demo district at a small scale:

- the task process of a running `post.<resource>` killed (-9), then cleared; the whole scheduler
  killed (-9) with its workers and started again: the DAG run converges;
- a DAG run that fails is closed in the run ledger by its DAG-level callback;
- two DAG runs of one year at once (a backfill with max_active_runs=2: the DAG itself keeps 1), a
  CLI sync of that year and one of another year beside them: no record is sent twice, the identity
  map stays the ODS, and the second to reach a step waits for it and says so;
- (`make soak`) two school years in parallel in a backfill of the school-year DAG.
"""

from __future__ import annotations

import json
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
    tries = {ti["task_id"]: ti["try_number"] for ti in airflow.task_instances(run_id)}
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


def test_two_dag_runs_of_one_year_a_cli_sync_beside_them_and_another_year_at_once(airflow, reliability_tally):
    """Two runs of edfi_sync for 2025 (a backfill: max_active_runs=2), a CLI sync of 2025 and one of
    2024 (its own year-specific ODS store), all at once, from an empty ODS: no record is sent twice
    (any resend would be answered 200, not 201), the identity map is the ODS for each year, and the
    second to reach a step waits for it and says whose it is."""
    airflow.load(None, demo_scale=SCALE)
    sandbox = airflow.sandbox
    env = sync_env(airflow.sis, sandbox)
    env["AIRFLOW_CONN_EDFI_API_BY_YEAR"] = json.dumps({
        "conn_type": "http", "host": sandbox.base_url, "login": sandbox.key, "password": sandbox.secret,
        "extra": {"api_mode": "year_specific"}})
    copied = subprocess.run([*CLI, "config", "copy-year", str(YEAR), str(YEAR - 1), "--overwrite"], env=env,
                            capture_output=True, text=True, timeout=120)
    assert copied.returncode == 0, copied.stderr
    sql(airflow.sis, "UPDATE edfi_sync.connection SET enabled = true, conn_id = 'edfi_api_by_year' "
                     "WHERE end_year = %s", YEAR - 1)
    # Slow enough that runs starting within a task's start-up of each other meet on a step: with
    # 5-25 ms a step could end before the next run's task had started, and no run had to wait.
    sandbox.set_faults(latency={"distribution": "uniform", "min_ms": 100, "max_ms": 300}, seed=21)
    clis = [start_sync(env), start_sync(env, year=YEAR - 1)]  # beside the backfill's two runs
    try:
        runs = backfill(airflow, "edfi_sync", "2026-01-01T00:00:00Z", "2026-01-02T00:00:00Z",
                        {"school_years": [YEAR]})
        ended = [finish(cli, timeout=600) for cli in clis]
    finally:
        for cli in clis:
            kill_hard(cli)
    states = [airflow.api("GET", f"/dags/edfi_sync/dagRuns/{quote(r, safe='')}")["state"] for r in runs]
    assert states == ["success", "success"], states
    assert [code for code, _, _ in ended] == [0, 0], [err[-3000:] for _, _, err in ended]
    assert overlapped(airflow, "edfi_sync", runs)

    shared = [r for r in sandbox.requests() if r["path"].startswith("/data/v3/ed-fi/")]
    assert set(written(shared)) == {"POST 201"}, written(shared)  # each record once: no 200, no PUT or DELETE
    for year, store in ((YEAR, None), (YEAR - 1, YEAR - 1)):
        found = divergence(airflow.sis, sandbox, year=year, ods_year=store)
        reliability_tally.compared(found)
        assert not found, f"{year}:\n" + "\n".join(found.problems[:20])
        assert found.counts["studentSchoolAssociations"] > 20
    # Whoever reached a step second waited for it, said whose it was, then found nothing left to send.
    logs = ended[0][2] + "".join(airflow.log(run_id, task) for run_id in runs
                                 for task in airflow.task_states(run_id) if task.startswith("post."))
    assert " waits: edfi-sync " in logs and "is running this step" in logs
    assert sql(airflow.sis, "SELECT count(*) FROM edfi_sync.sync_run WHERE status = 'running'") == [(0,)]


@pytest.mark.soak  # `make soak`; `make test` runs two school years at once through the CLI (above)
def test_two_school_years_in_parallel_in_a_backfill(airflow, reliability_tally):
    """A backfill of the school-year DAG over SY 2022-23 and 2023-24 (demo data of 2024: its previous
    year has calendars and enrollments too), two runs at once, one year-specific store each."""
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
