"""Against the session's real Airflow (tests/live_airflow.py: api-server, scheduler, dag-processor,
triggerer; LocalExecutor, parallelism 4) on 127.0.0.1, with the SIS of tests/fixtures/sync_small.sql
and the sandbox over HTTP: `edfi-sync airflow rerun`, and a
backfill of the school-year DAG after which unpausing schedules no missed year.
"""

from __future__ import annotations

import re
import subprocess
import sys
import time
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import quote

import psycopg
import pytest

from live_airflow import free_port

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[1]
CLI = [sys.executable, "-m", "edfi_sync.cli"]


@pytest.fixture(scope="module")
def airflow(live_airflow):
    """The session's Airflow with the SIS of tests/fixtures/sync_small.sql and an empty sandbox."""
    live_airflow.load("sync_small.sql")
    return live_airflow


def writes(sandbox, since: int = 0) -> Counter:
    return Counter(r["method"] for r in sandbox.requests(since) if "/data/" in r["path"] and r["method"] != "GET")


def test_rerun_exit_codes_for_an_unreachable_airflow_a_refused_login_and_nothing_matched(airflow):
    closed = airflow.rerun("--dag-id", "edfi_sync", "--run-id", "x", "--resource", "schools",
                           "--airflow-url", f"http://127.0.0.1:{free_port()}")
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


def test_backfill_of_school_years_then_unpausing_schedules_no_missed_year(airflow):
    dag = "edfi_sync_school_year"

    def backfill_command(first_day: str, last_day: str) -> list[str]:
        return [sys.executable, "-m", "airflow", "backfill", "create", "--dag-id", dag,
                "--from-date", first_day, "--to-date", last_day]

    # An old year first: the gap to today is where a scheduler resuming after the backfill would catch up.
    backfill_create = backfill_command("2021-07-01", "2022-06-30")
    preview = subprocess.run([*backfill_create, "--dry-run"], env=airflow.env, capture_output=True, text=True,
                             timeout=120)
    assert preview.returncode == 0, preview.stderr[-3000:]
    # "Runs to be attempted": a table of logical dates, one per school year of the timetable.
    assert re.findall(r"^\| (\d{4}-\d\d-\d\d) ", preview.stdout, re.M) == ["2021-07-01"]
    assert airflow.runs(dag) == []  # a preview creates no run
    created = subprocess.run(backfill_create, env=airflow.env, capture_output=True, text=True, timeout=120)
    assert created.returncode == 0, created.stderr[-3000:]
    airflow.api("PATCH", f"/dags/{dag}", json={"is_paused": False})  # a paused DAG keeps backfill runs queued
    [backfill] = [r for r in airflow.runs(dag) if r["run_type"] == "backfill"]
    assert (backfill["data_interval_start"], backfill["data_interval_end"]) == (
        "2021-07-01T00:00:00Z", "2022-07-01T00:00:00Z")
    # SY 2021-22 has no enabled connection: the run would be pointless, so its preflight task fails
    # it (SPEC §6.1) and no other task runs.
    assert airflow.wait_run(backfill["dag_run_id"], dag_id=dag) == "failed"
    states = airflow.task_states(backfill["dag_run_id"], dag)
    assert states.pop("preflight") == "failed" and set(states.values()) == {"upstream_failed"}
    deadline = time.monotonic() + 60
    while not [r for r in airflow.runs(dag) if r["run_type"] == "scheduled"]:
        assert time.monotonic() < deadline, "the scheduler never scheduled the latest school year"
        time.sleep(1)
    time.sleep(5)  # give it the chance to (wrongly) add a missed year
    scheduled = {r["data_interval_start"] for r in airflow.runs(dag) if r["run_type"] == "scheduled"}
    now = datetime.now(timezone.utc)
    latest_complete = now.year - 1 if now.month >= 7 else now.year - 2
    assert scheduled == {f"{latest_complete}-07-01T00:00:00Z"}  # not 2022-23, 2023-24, ...
    assert "school year 2022 has no enabled Ed-Fi connection: it is out of scope" in airflow.log(
        backfill["dag_run_id"], "preflight", dag_id=dag)

    # SY 2024-25, the year the SIS configures: a full resync of 2025 that repairs the ODS.
    airflow.run({"school_years": [2025]})
    [lost_ssa, *_] = airflow.sandbox.records("studentSchoolAssociations")
    airflow.sandbox.delete_record("studentSchoolAssociations", lost_ssa["id"])
    created = subprocess.run(backfill_command("2024-07-01", "2025-06-30"), env=airflow.env, capture_output=True,
                             text=True, timeout=120)
    assert created.returncode == 0, created.stderr[-3000:]
    [backfill] = [r for r in airflow.runs(dag)
                  if r["run_type"] == "backfill" and r["dag_run_id"] != backfill["dag_run_id"]]
    assert (backfill["data_interval_start"], backfill["data_interval_end"]) == (
        "2024-07-01T00:00:00Z", "2025-07-01T00:00:00Z")
    assert airflow.wait_run(backfill["dag_run_id"], dag_id=dag) == "success"
    summary = airflow.api("GET", f"/dags/{dag}/dagRuns/{quote(backfill['dag_run_id'], safe='')}/taskInstances/"
                                 "post.studentSchoolAssociations/xcomEntries/return_value")["value"]
    [year] = summary["years"]
    assert (year["school_year"], year["run_id"]) == (2025, f"{backfill['dag_run_id']}__2025")
    assert "ods_records" in year["counts"] and year["counts"]["POST.ok"] == 1  # a resync: it read the ODS
    assert lost_ssa["studentReference"] in [r["studentReference"] for r in
                                            airflow.sandbox.records("studentSchoolAssociations")]
    time.sleep(5)  # and still no missed year scheduled
    assert {r["data_interval_start"] for r in airflow.runs(dag) if r["run_type"] == "scheduled"} == scheduled


def sent(sandbox, since: int) -> list[tuple[str, str]]:
    """(method, resource) of each write the sandbox received after ``since``."""
    return [(r["method"], r["path"].rstrip("/").split("/")[-1 if r["method"] == "POST" else -2])
            for r in sandbox.requests(since) if "/data/" in r["path"] and r["method"] != "GET"]


def last_seq(sandbox) -> int:
    return (sandbox.requests() or [{"seq": 0}])[-1]["seq"]


def test_trigger_form_resync_of_one_resource_for_one_school_then_for_all_schools(airflow):
    airflow.run({"school_years": [2025]})  # everything in the ODS first
    sandbox = airflow.sandbox
    ssas = {r["schoolReference"]["schoolId"]: r for r in sandbox.records("studentSchoolAssociations")}
    for school in (350010001, 350010002):  # drift: one association of each school vanishes from the ODS
        sandbox.delete_record("studentSchoolAssociations", ssas[school]["id"])
    since = last_seq(sandbox)
    run_id = airflow.run({"school_years": [2025], "resources": ["studentSchoolAssociations"],
                          "schools": ["350010001"], "resync": True})
    assert sent(sandbox, since) == [("POST", "studentSchoolAssociations")]
    assert {r["schoolReference"]["schoolId"] for r in sandbox.records("studentSchoolAssociations")} == {350010001}
    assert airflow.summary(run_id, "post.studentSchoolAssociations")["years"][0]["counts"]["POST.ok"] == 1
    assert airflow.summary(run_id, "post.students")["status"] == "not_selected"

    since = last_seq(sandbox)
    airflow.run({"school_years": [2025], "resources": ["studentSchoolAssociations"], "schools": "all",
                 "resync": True})
    assert sent(sandbox, since) == [("POST", "studentSchoolAssociations")]
    assert {r["schoolReference"]["schoolId"] for r in sandbox.records("studentSchoolAssociations")} == {
        350010001, 350010002}


def test_trigger_form_dry_run_sends_nothing_and_reports_what_it_would_send(airflow):
    airflow.run({"school_years": [2025]})
    with psycopg.connect(airflow.sis) as conn:
        conn.execute("UPDATE sis.person SET last_name = 'Ortiz-Vigil' WHERE person_id = 2")
    since = last_seq(airflow.sandbox)
    run_id = airflow.run({"school_years": [2025], "dry_run": True})
    assert sent(airflow.sandbox, since) == []
    assert airflow.summary(run_id, "post.students")["dry_run"] is True
    assert airflow.counts(run_id, "students")["would_PUT"] == 1
    assert not [r for r in airflow.sandbox.records("students") if r["lastSurname"] == "Ortiz-Vigil"]

    run_id = airflow.run({"school_years": [2025], "resources": ["students"]})  # the same, for real
    assert sent(airflow.sandbox, since) == [("PUT", "students")]
    assert airflow.counts(run_id, "students")["PUT.ok"] == 1


def test_trigger_form_two_school_years_in_one_run(airflow):
    with psycopg.connect(airflow.sis) as conn:  # SY 2023-24 enabled, with the same mappings as 2024-25
        conn.execute("INSERT INTO edfi_sync.connection (end_year, conn_id, enabled) VALUES (2024, 'edfi_api', true) "
                     "ON CONFLICT DO NOTHING")
        conn.execute("INSERT INTO edfi_sync.mapping (end_year, resource, field, sis_value, namespace, code_value) "
                     "SELECT 2024, resource, field, sis_value, namespace, code_value FROM edfi_sync.mapping "
                     "WHERE end_year = 2025 ON CONFLICT DO NOTHING")
    run_id = airflow.run({"school_years": [2024, 2025],
                          "resources": ["localEducationAgencies", "schools", "students", "studentSchoolAssociations"]})
    years = airflow.summary(run_id, "post.studentSchoolAssociations")["years"]
    assert [(y["school_year"], y["run_id"], y["status"]) for y in years] == [
        (2024, f"{run_id}__2024", "done"), (2025, f"{run_id}__2025", "done")]
    # Ana's 2023-24 enrollment, the only one of that year, reached the ODS beside her 2024-25 one.
    assert sorted(r["entryDate"] for r in airflow.sandbox.records("studentSchoolAssociations")
                  if r["studentReference"]["studentUniqueId"] == "100000001") == ["2023-08-14", "2024-08-12"]


def test_a_resource_toggled_off_succeeds_and_says_so(airflow):
    airflow.run({"school_years": [2025]})
    with psycopg.connect(airflow.sis) as conn:
        conn.execute("INSERT INTO edfi_sync.resource_toggle VALUES (2025, 'students', false) "
                     "ON CONFLICT (end_year, resource) DO UPDATE SET enabled = false")
        conn.execute("UPDATE sis.person SET last_name = 'Ruiz-Baca' WHERE person_id = 1")
    since = last_seq(airflow.sandbox)
    try:
        run_id = airflow.run({"school_years": [2025]})
    finally:
        with psycopg.connect(airflow.sis) as conn:
            conn.execute("DELETE FROM edfi_sync.resource_toggle WHERE end_year = 2025 AND resource = 'students'")
    states = airflow.task_states(run_id)
    assert states["post.students"] == states["update.students"] == "success"
    assert airflow.summary(run_id, "post.students")["status"] == "toggled_off"
    assert "students is toggled OFF for 2025: nothing sent, nothing deleted" in airflow.log(run_id, "post.students")
    assert ("PUT", "students") not in sent(airflow.sandbox, since)
