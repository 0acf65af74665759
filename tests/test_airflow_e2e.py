"""`edfi_sync` run by Airflow end to end (``dag.test()``, in process): real PostgreSQL, the
sandbox over HTTP, Airflow's metadata DB (SQLite in the test's AIRFLOW_HOME).

Fixture tests/fixtures/sync_small.sql (year 2025): 1 LEA, 2 schools, 4 students, 3 SSAs reach
the ODS (see tests/test_sync_e2e.py for the records that fail and why).
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import uuid
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import quote

import pytest

from e2e_helpers import YEAR, database_text, live_tokens, sql, sync
from edfi_sync.resources import GRAPH, RESOURCES
from edfi_sync.sandbox.testing import run_sandbox

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[1]
SECRET = f"secret-{uuid.uuid4().hex}"
SSA = "studentSchoolAssociations"


@pytest.fixture(scope="module")
def airflow_db():
    """Airflow's metadata database, migrated (dag.test needs it)."""
    from airflow.utils import db

    db.resetdb()


@pytest.fixture
def dag(airflow_db, monkeypatch):
    """Parsed afresh for each test, as each task process does: a task renders its templated
    fields onto the operator, so a DAG object reused in process would keep one run's Params.
    Without the deadline: Airflow 3.3.2's dag.test() cannot finish a successful run of a DAG
    that has one (it looks the alert up by the serialized dict); tests/test_airflow_live.py has it."""
    from airflow.dag_processing.dagbag import DagBag

    monkeypatch.setenv("EDFI_SYNC_DEADLINE_MINUTES", "none")
    bag = DagBag(dag_folder=str(REPO / "dags"))
    assert bag.import_errors == {}
    return bag.dags["edfi_sync"]


@pytest.fixture
def sandbox(monkeypatch):
    """The sandbox with a client secret we can look for in every log and XCom."""
    with run_sandbox(secret=SECRET) as server:
        monkeypatch.setenv("AIRFLOW_CONN_EDFI_API", json.dumps({
            "conn_type": "http", "host": server.base_url, "login": server.key, "password": SECRET}))
        yield server


def writes(sandbox, since: int = 0) -> Counter:
    return Counter(r["method"] for r in sandbox.requests(since) if "/data/" in r["path"] and r["method"] != "GET")


def last_seq(sandbox) -> int:
    return (sandbox.requests() or [{"seq": 0}])[-1]["seq"]


def xcoms(run_id: str) -> dict[str, dict]:
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        rows = session.execute(select(XComModel.task_id, XComModel.value).where(
            XComModel.run_id == run_id, XComModel.key == "return_value")).all()
    return {task_id: XComModel.deserialize_value(type("Row", (), {"value": value})) for task_id, value in rows}


def asset_events(run_id: str) -> set[str]:
    from airflow.models.asset import AssetEvent
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        events = session.scalars(select(AssetEvent).where(AssetEvent.source_run_id == run_id)).all()
        return {event.asset.uri for event in events}


def task_state(run_id: str, task_id: str) -> str:
    from airflow.models.taskinstance import TaskInstance
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        return session.scalar(select(TaskInstance.state).where(TaskInstance.run_id == run_id,
                                                               TaskInstance.task_id == task_id))


def log_files() -> str:
    home = Path(os.environ["AIRFLOW_HOME"])
    return "".join(p.read_text(errors="replace") for p in home.rglob("*.log")) if home.exists() else ""


def test_edfi_sync_dag_syncs_records_sends_nothing_twice_and_never_shows_the_secret(
        small_sis, sandbox, dag, capfd, caplog):
    caplog.set_level(logging.DEBUG)
    first = dag.test()
    assert first.state == "success"

    # The ODS and the identity map: exactly what the CLI sync sends for this fixture.
    assert len(sandbox.records("localEducationAgencies")) == 1
    assert len(sandbox.records("schools")) == 2
    assert {r["studentUniqueId"] for r in sandbox.records("students")} == {
        "100000001", "100000002", "100000006", "100000007"}
    assert len(sandbox.records(SSA)) == 3
    assert dict(sql(small_sis, "SELECT resource, count(*) FROM edfi_sync.identity_map GROUP BY 1")) == {
        "localEducationAgencies": 1, "schools": 2, "students": 4, SSA: 3}

    # One engine run per (DAG run, year), closed by the last task to finish.
    run_id = f"{first.run_id}__{YEAR}"
    assert sql(small_sis, "SELECT status, finished_at IS NOT NULL FROM edfi_sync.sync_run") == [
        ("record_errors", True)]
    # The ledger and the error log name the DAG run and the task (SPEC §6.1), for the pages' links.
    assert sql(small_sis, "SELECT dag_id, dag_run_id FROM edfi_sync.sync_run") == [("edfi_sync", first.run_id)]
    assert set(sql(small_sis, "SELECT resource, dag_id, task_id FROM edfi_sync.error_log")) >= {
        ("students", "edfi_sync", "post.students")}

    # The XCom summaries (SPEC §5.6): one per task, counts per action, where the rows are.
    summaries = xcoms(first.run_id)
    assert set(summaries) == {step.task_id for step in GRAPH.tasks()} | {"preflight"}
    assert summaries["preflight"]["status"] == "clean"
    students = summaries["post.students"]
    assert (students["resource"], students["phase"], students["status"]) == ("students", "post", "record_errors")
    [year] = students["years"]
    assert (year["school_year"], year["run_id"]) == (YEAR, run_id)
    assert year["counts"]["POST.ok"] == 4 and year["counts"]["build_failed"] == 1
    assert year["identity_map"] == {"table": "edfi_sync.identity_map", "end_year": YEAR, "resource": "students"}
    assert year["run_records"] == {"table": "edfi_sync.staged_record", "run_id": run_id, "resource": "students"}
    assert summaries[f"post.{SSA}"]["years"][0]["counts"]["POST.ok"] == 3
    assert summaries[f"delete.{SSA}"]["years"][0]["counts"] == {}

    # Each POST task emitted its Ed-Fi resource's Asset.
    assert asset_events(first.run_id) == {f"edfi://ods/ed-fi/{name}" for name in RESOURCES}

    since = last_seq(sandbox)
    second = dag.test()
    assert second.state == "success"
    assert writes(sandbox, since) == Counter()

    # Task logs are readable (a summary table per task) and never carry the secret.
    out, err = capfd.readouterr()
    logs = out + err + caplog.text + log_files()
    assert f"post.{SSA} summary" in logs and "extracted" in logs
    assert SECRET not in logs
    assert SECRET not in json.dumps(summaries) + json.dumps(xcoms(second.run_id))
    # Nor the bearer tokens the tasks shared, nor the database (error log, ledger, map, stage...).
    tokens = live_tokens(small_sis)
    assert tokens
    for secret in (SECRET, *tokens):
        assert secret not in logs + json.dumps(summaries) + database_text(small_sis)


def test_a_dry_run_sends_and_emits_nothing(small_sis, sandbox, dag):
    first = dag.test()
    sql(small_sis, "DELETE FROM sis.enrollment WHERE enrollment_id = 1002")
    map_before = sql(small_sis, "SELECT * FROM edfi_sync.identity_map ORDER BY 1, 2, 3")
    since = last_seq(sandbox)

    dry = dag.test(run_conf={"dry_run": True, "school_years": [YEAR]})
    assert dry.state == "success"
    assert writes(sandbox, since) == Counter()
    assert sql(small_sis, "SELECT * FROM edfi_sync.identity_map ORDER BY 1, 2, 3") == map_before
    assert asset_events(dry.run_id) == set()
    assert xcoms(dry.run_id)[f"delete.{SSA}"]["years"][0]["counts"] == {"would_DELETE": 1}
    assert asset_events(first.run_id)


def test_clearing_delete_after_the_next_run_replaced_the_stage_refuses_and_deletes_nothing(
        small_sis, sandbox, dag):
    first = dag.test()
    dag.test()  # the next run's post.X replaces the stage of the first run
    ods_before = sandbox.records(SSA)
    since = last_seq(sandbox)

    # `airflow tasks test` runs the task of that DAG run in process, like a clear in the UI would.
    result = subprocess.run([sys.executable, "-m", "airflow", "tasks", "test", "edfi_sync", f"delete.{SSA}",
                             first.run_id], capture_output=True, text=True, timeout=120, env=os.environ.copy())
    output = result.stdout + result.stderr
    assert task_state(first.run_id, f"delete.{SSA}") == "failed", output[-3000:]
    assert f"nothing was deleted: rerun post.{SSA}" in output
    assert writes(sandbox, since) == Counter()
    assert sandbox.records(SSA) == ods_before


def test_one_dag_run_syncs_several_years_oldest_first_each_in_its_own_engine_run(small_sis, sandbox, dag):
    # SY 2023-24 in scope too, with the same Resource Preferences (its SSA 1009 is grade 11).
    sql(small_sis, "INSERT INTO edfi_sync.connection (end_year) VALUES (2024)")
    sql(small_sis, "INSERT INTO edfi_sync.mapping SELECT 2024, resource, field, sis_value, namespace, code_value "
                   "FROM edfi_sync.mapping WHERE end_year = 2025")
    run = dag.test(run_conf={"school_years": [2025, 2024]})
    assert run.state == "success"
    assert sql(small_sis, "SELECT run_id, status FROM edfi_sync.sync_run ORDER BY run_id") == [
        (f"{run.run_id}__2024", "success"), (f"{run.run_id}__2025", "record_errors")]
    assert [y["school_year"] for y in xcoms(run.run_id)[f"post.{SSA}"]["years"]] == [2024, 2025]
    assert dict(sql(small_sis, f"SELECT end_year, count(*) FROM edfi_sync.identity_map WHERE resource = '{SSA}' "
                               "GROUP BY 1")) == {2024: 1, 2025: 3}


def test_fail_on_record_errors_param_fails_the_task_with_record_errors_only(small_sis, sandbox, dag):
    run = dag.test(run_conf={"resources": ["localEducationAgencies", "students"], "fail_on_record_errors": True})
    assert run.state == "failed"
    assert task_state(run.run_id, "post.students") == "failed"  # student 3 cannot be built
    assert task_state(run.run_id, "post.localEducationAgencies") == "success"
    assert task_state(run.run_id, "post.schools") == "success"  # not selected: succeeds, says why
    assert len(sandbox.records("students")) == 4  # the records that could be sent were sent


def test_school_year_dag_resyncs_the_year_its_data_interval_ends_in(small_sis, sandbox, airflow_db):
    from airflow.dag_processing.dagbag import DagBag

    dag = DagBag(dag_folder=str(REPO / "dags")).dags["edfi_sync_school_year"]
    sync(small_sis)
    # Only a resync finds an ODS record nobody sent: a stray SSA, deleted by the yearly run.
    stray = {k: v for k, v in sandbox.records(SSA)[0].items() if k not in ("id", "_etag", "_lastModifiedDate")}
    stray_id = sandbox.insert_record(SSA, {**stray, "entryDate": "2024-09-01"})
    run = dag.test(logical_date=datetime(2024, 7, 1, tzinfo=timezone.utc))  # SY 2024-25
    assert run.state == "success"
    assert (run.data_interval_start, run.data_interval_end) == (datetime(2024, 7, 1, tzinfo=timezone.utc),
                                                                 datetime(2025, 7, 1, tzinfo=timezone.utc))
    [year] = xcoms(run.run_id)["post.schools"]["years"]
    assert (year["school_year"], year["run_id"]) == (YEAR, f"{run.run_id}__{YEAR}")
    assert "ods_records" in year["counts"]  # a resync: it read the ODS
    assert stray_id not in {r["id"] for r in sandbox.records(SSA)}
    assert xcoms(run.run_id)[f"delete.{SSA}"]["years"][0]["counts"] == {"stray_DELETE.ok": 1}


@pytest.fixture
def alerts():
    """The log notifier's records (logger edfi_sync.alerts), whatever handlers the CLI left on the package."""
    records: list[logging.LogRecord] = []
    handler = logging.Handler()
    handler.emit = records.append
    logger = logging.getLogger("edfi_sync.alerts")
    logger.addHandler(handler)
    yield records
    logger.removeHandler(handler)


def test_a_run_with_new_record_errors_alerts_once_and_the_next_run_with_the_same_errors_does_not(
        small_sis, sandbox, dag, alerts):
    first = dag.test()
    assert first.state == "success"
    [alert] = alerts
    subject, body = alert.getMessage().split("\n", 1)
    errors, = sql(small_sis, "SELECT count(*) FROM edfi_sync.error_log")[0]
    assert alert.levelname == "WARNING"
    assert subject == (f"[edfi-sync] edfi_sync run {first.run_id} succeeded with {errors} record error(s), "
                       f"{errors} new")
    assert f"School year {YEAR} (engine run {first.run_id}__{YEAR}, record_errors): {errors} record error(s), " \
           f"{errors} new since the last run, {errors} open in all." in body
    students = next(line for line in body.splitlines() if line.strip().startswith("students "))
    assert students.split()[1:] == ["5", "0", "4", "0", "0", "0", "0", "1", "0"]  # extracted 5, POST 4, build 1
    assert (f"Error log: http://localhost:8080/edfi-sync/errors?school_year={YEAR}&run_id="
            f"{quote(first.run_id + '__' + str(YEAR), safe='')}") in body
    assert SECRET not in body

    alerts.clear()
    assert dag.test().state == "success"
    assert alerts == []  # the same known errors: nothing new to say


def test_a_failing_run_alerts_once_with_the_failed_task_and_the_summary(small_sis, sandbox, dag, alerts):
    run = dag.test(run_conf={"resources": ["localEducationAgencies", "students"], "fail_on_record_errors": True})
    assert run.state == "failed"
    [alert] = alerts
    subject, body = alert.getMessage().split("\n", 1)
    assert alert.levelname == "ERROR"
    assert subject == f"[edfi-sync] edfi_sync run {run.run_id} FAILED: task post.students failed"
    assert body.startswith(f"edfi_sync run {run.run_id} failed: task post.students failed (task_failure).")
    assert any(line.strip().startswith("students ") for line in body.splitlines())
    assert f"/dags/edfi_sync/runs/{quote(run.run_id, safe='')}" in body


def test_preflight_is_the_first_task_and_a_pointless_run_stops_there(small_sis, sandbox, dag, alerts):
    # Out of scope: nothing is sent, every other task waits for nothing (upstream_failed), one alert.
    run = dag.test(run_conf={"school_years": [2030]})
    assert run.state == "failed"
    assert task_state(run.run_id, "preflight") == "failed"
    assert {task_state(run.run_id, step.task_id) for step in GRAPH.tasks()} == {"upstream_failed"}
    assert not [r for r in sandbox.requests() if r["path"].startswith("/data/")]
    [alert] = alerts
    assert "FAILED: task preflight failed" in alert.getMessage()

    # The preflight param false: it succeeds without a look at the ODS.
    since = last_seq(sandbox)
    run = dag.test(run_conf={"preflight": False, "resources": ["localEducationAgencies"]})
    assert run.state == "success"
    assert xcoms(run.run_id)["preflight"]["status"] == "not_checked"
    assert "/" not in {r["path"] for r in sandbox.requests(since)}


def test_preflight_warns_of_a_missing_descriptor_and_the_run_goes_on(small_sis, sandbox, dag):
    sql(small_sis, "UPDATE edfi_sync.mapping SET code_value = 'Grade Twelve' WHERE sis_value = '12'")
    run = dag.test(run_conf={"dry_run": True})
    assert run.state == "success"
    [year] = xcoms(run.run_id)["preflight"]["years"]
    assert (year["status"], year["counts"]["warning"]) == ("warnings", 1)
    assert year["findings"][0]["message"].startswith("uri://ed-fi.org/GradeLevelDescriptor#Grade Twelve is not in "
                                                     "the ODS's gradeLevelDescriptors")
    assert writes(sandbox) == Counter()  # a dry run stays pure, preflight included
