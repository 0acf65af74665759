"""The sync end to end: real PostgreSQL, the sandbox over real HTTP on 127.0.0.1.

Fixture tests/fixtures/sync_small.sql, year 2025: schools 350010001 and 350010002 (350010003 is
excluded); students 1, 2, 6, 7 build (3 has no birth date; 4 is a no-show; 5 is only in the
excluded school); SSAs 1001, 1002 and 1007 are sent (1003's student failed, 1006 is a duplicate
of 1007, 1008's grade KG is unmapped).
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from edfi_sync.engine.cli import report_rows
from e2e_helpers import YEAR, sql, sync


pytestmark = pytest.mark.e2e


def data_requests(sandbox, writes_only=True):
    """Requests to resources; by default only sends (reconciliation GETs left out)."""
    return [r for r in sandbox.requests() if "/data/" in r["path"] and not (writes_only and r["method"] == "GET")]


def test_full_sync_sends_what_the_rules_select_and_maps_it(small_sis, sandbox):
    summary = sync(small_sis)
    assert summary.status == "record_errors"
    leas = sandbox.records("localEducationAgencies")
    assert [r["localEducationAgencyId"] for r in leas] == [3500100]
    assert leas[0]["localEducationAgencyCategoryDescriptor"].endswith("#Independent")
    schools = {r["schoolId"]: r for r in sandbox.records("schools")}
    assert set(schools) == {350010001, 350010002}
    assert {g["gradeLevelDescriptor"].split("#")[1] for g in schools[350010001]["gradeLevels"]} == {
        "Tenth grade", "Eleventh grade", "Twelfth grade"}
    assert {r["studentUniqueId"] for r in sandbox.records("students")} == {
        "100000001", "100000002", "100000006", "100000007"}
    ssas = sandbox.records("studentSchoolAssociations")
    assert sorted((r["studentReference"]["studentUniqueId"], r["schoolReference"]["schoolId"]) for r in ssas) == [
        ("100000001", 350010001), ("100000002", 350010002), ("100000006", 350010001)]
    ben = next(r for r in ssas if r["studentReference"]["studentUniqueId"] == "100000002")
    assert ben["exitWithdrawDate"] == "2025-01-15"
    assert ben["exitWithdrawTypeDescriptor"] == "uri://ed-fi.org/ExitWithdrawTypeDescriptor#Transferred"

    # The identity map holds exactly what reached the server, with the server's ids.
    mapped = dict(sql(small_sis, "SELECT sis_object_key, edfi_id FROM edfi_sync.identity_map "
                                 "WHERE resource = 'studentSchoolAssociations'"))
    assert mapped == {"1001": _id_of(ssas, "100000001"), "1002": _id_of(ssas, "100000002"),
                      "1007": _id_of(ssas, "100000006")}
    assert sql(small_sis, "SELECT count(*) FROM edfi_sync.identity_map")[0][0] == 1 + 2 + 4 + 3

    errors = {(r["resource"], r["sis_object_key"]): r for r in report_rows("errors", YEAR, None, small_sis)}
    assert errors[("students", "3")]["error_code"] == "schema_validation"
    assert any("birthDate" in e for e in errors[("students", "3")]["validation_errors"])
    assert errors[("studentSchoolAssociations", "1003")]["error_code"] == "parent_failed"
    assert errors[("studentSchoolAssociations", "1006")]["error_code"] == "duplicate_sis_record"
    assert errors[("studentSchoolAssociations", "1008")]["error_code"] == "unmapped_value"
    assert "KG" in errors[("studentSchoolAssociations", "1008")]["message"]
    assert errors[("studentSchoolAssociations", "1003")]["student_unique_id"] == "100000003"
    assert errors[("studentSchoolAssociations", "1003")]["student_name"] == "Cal Baca"


def _id_of(ssas, student):
    return next(r["id"] for r in ssas if r["studentReference"]["studentUniqueId"] == student)


def test_unchanged_rerun_sends_zero_requests(small_sis, sandbox):
    sync(small_sis)
    sandbox.clear_requests()
    summary = sync(small_sis)
    assert sandbox.requests() == []
    assert summary.by_resource()["students"]["unchanged"] == 4


def test_sis_updates_are_puts_students_after_the_ssas(small_sis, sandbox):
    sync(small_sis)
    sql(small_sis, "UPDATE sis.person SET first_name = 'Anita' WHERE person_id = 1")
    sql(small_sis, "UPDATE sis.enrollment SET end_date = '2025-05-23', end_status = 'W1' WHERE enrollment_id = 1001")
    sandbox.clear_requests()
    sync(small_sis)
    sent = [(r["method"], r["path"].split("/")[-2]) for r in data_requests(sandbox)]
    assert sent == [("PUT", "studentSchoolAssociations"), ("PUT", "students")]
    student = next(r for r in sandbox.records("students") if r["studentUniqueId"] == "100000001")
    assert student["firstName"] == "Anita"


def test_ssa_entry_date_change_is_a_put_to_the_same_id(small_sis, sandbox):
    sync(small_sis)
    before = {r["id"]: r for r in sandbox.records("studentSchoolAssociations")}
    sql(small_sis, "UPDATE sis.enrollment SET start_date = '2024-08-19' WHERE enrollment_id = 1001")
    # a dry run (the Resync preview) says the same: one PUT, not a DELETE of the old key too
    would = sync(small_sis, dry_run=True).by_resource()["studentSchoolAssociations"]
    assert (would.get("would_PUT"), would.get("would_DELETE", 0)) == (1, 0)
    sandbox.clear_requests()
    sync(small_sis)
    assert [r["method"] for r in data_requests(sandbox)] == ["PUT"]
    after = {r["id"]: r for r in sandbox.records("studentSchoolAssociations")}
    assert set(after) == set(before)
    moved = next(r for r in after.values() if r["studentReference"]["studentUniqueId"] == "100000001")
    assert moved["entryDate"] == "2024-08-19"
    rows = sql(small_sis, "SELECT natural_key->>'entryDate', edfi_id FROM edfi_sync.identity_map "
                          "WHERE resource = 'studentSchoolAssociations' AND sis_object_key = '1001'")
    assert rows == [("2024-08-19", moved["id"])]


def test_deleted_enrollment_deletes_its_ssa_but_never_the_student(small_sis, sandbox):
    sync(small_sis)
    sql(small_sis, "DELETE FROM sis.enrollment WHERE enrollment_id = 1002")
    sandbox.clear_requests()
    sync(small_sis)
    assert [(r["method"], r["status"]) for r in data_requests(sandbox)] == [("DELETE", 204)]
    assert "100000002" not in {r["studentReference"]["studentUniqueId"]
                               for r in sandbox.records("studentSchoolAssociations")}
    assert "100000002" in {r["studentUniqueId"] for r in sandbox.records("students")}
    assert sql(small_sis, "SELECT count(*) FROM edfi_sync.identity_map WHERE sis_object_key = '1002'")[0][0] == 0


def test_fixed_record_is_sent_and_its_error_resolved(small_sis, sandbox):
    sync(small_sis)
    sql(small_sis, "UPDATE sis.person SET birth_date = '2009-09-09' WHERE person_id = 3")
    sync(small_sis)
    assert "100000003" in {r["studentUniqueId"] for r in sandbox.records("students")}
    open_errors = {(r["resource"], r["sis_object_key"]) for r in report_rows("errors", YEAR, None, small_sis)
                   if not r["resolved"]}
    assert ("students", "3") not in open_errors
    assert ("studentSchoolAssociations", "1003") not in open_errors
    # Closed because the record was sent, by the CLI (no DAG or task to link to).
    assert sql(small_sis, "SELECT resolved_reason, dag_id, task_id FROM edfi_sync.error_log "
                          "WHERE resource = 'students' AND sis_object_key = '3'") == [("sent", None, None)]


def test_dry_run_sends_nothing_and_reports_what_it_would(small_sis, sandbox):
    summary = sync(small_sis, dry_run=True)
    assert sandbox.requests() == []
    assert summary.by_resource()["students"]["would_POST"] == 4
    assert sql(small_sis, "SELECT count(*) FROM edfi_sync.identity_map")[0][0] == 0


def test_token_refused_mid_run_is_refreshed_once(small_sis, sandbox):
    sync(small_sis, resources=("localEducationAgencies", "schools"))
    sandbox.expire_tokens()  # the server forgets every token, as after an ODS restart
    sandbox.clear_requests()
    summary = sync(small_sis)
    log = sandbox.requests()
    # The second run reuses the first run's token from the shared cache: refused once, fetched once.
    assert [r["status"] for r in log if r["path"].endswith("/oauth/token")] == [200]
    # Requests already in flight with the old token are refused together (at most max_in_flight),
    # all before the one new token; each is retried with it.
    refused = [i for i, r in enumerate(log) if r["status"] == 401]
    fetched = next(i for i, r in enumerate(log) if r["path"].endswith("/oauth/token"))
    assert 1 <= len(refused) <= 8 and max(refused) < fetched
    assert not any(k.endswith(".failed") for counts in summary.by_resource().values() for k in counts)
    assert len(sandbox.records("studentSchoolAssociations")) == 3


def test_429_and_500_bursts_are_retried(small_sis, sandbox):
    sandbox.set_faults(error_rate=0.25, throttle_rate=0.25, retry_after=0, seed=7)
    summary = sync(small_sis)
    statuses = [r["status"] for r in data_requests(sandbox, writes_only=False)]
    assert 429 in statuses and any(s >= 500 for s in statuses)
    assert len(sandbox.records("studentSchoolAssociations")) == 3
    assert len(sandbox.records("students")) == 4
    assert not any(k.endswith(".failed") for counts in summary.by_resource().values() for k in counts)


def test_cli_sync_and_reports(small_sis, sandbox):
    run = subprocess.run([sys.executable, "-m", "edfi_sync.cli", "sync", "--school-year", str(YEAR)],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert "studentSchoolAssociations" in run.stdout and "record_errors" in run.stdout
    out = subprocess.run([sys.executable, "-m", "edfi_sync.cli", "report", "errors", "--school-year", str(YEAR),
                          "--format", "json"], capture_output=True, text=True, check=True)
    rows = json.loads(out.stdout)
    required = {"resource", "action", "status", "message", "cause", "fix", "error_class", "sis_object_key",
                "student_unique_id", "school_id", "run_id", "resolved"}
    assert rows and all(required <= set(row) for row in rows)
    assert sandbox.secret not in out.stdout + run.stdout + run.stderr
    out = subprocess.run([sys.executable, "-m", "edfi_sync.cli", "report", "identity-map", "--school-year",
                          str(YEAR), "--resource", "students", "--format", "csv"], capture_output=True, text=True,
                         check=True)
    assert len(out.stdout.strip().splitlines()) == 1 + 4


def test_year_without_enabled_connection_does_nothing(small_sis, sandbox):
    sql(small_sis, "UPDATE edfi_sync.connection SET enabled = false")
    run = subprocess.run([sys.executable, "-m", "edfi_sync.cli", "sync", "--school-year", str(YEAR)],
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 0 and "no enabled Ed-Fi connection" in run.stdout
    assert sandbox.requests() == []


def test_school_key_change_cascades_delete_post_and_ssa_puts(small_sis, sandbox):
    sync(small_sis)
    old_school = next(r for r in sandbox.records("schools") if r["schoolId"] == 350010002)
    ben_before = next(r for r in sandbox.records("studentSchoolAssociations")
                      if r["studentReference"]["studentUniqueId"] == "100000002")
    sql(small_sis, "UPDATE sis.school SET number = '350010020' WHERE school_id = 20")
    sandbox.clear_requests()
    sync(small_sis)
    sent = [(r["method"], r["path"].split("/")[4], r["status"]) for r in data_requests(sandbox)]
    # New school first, the SSA moved to it by a PUT to the same id, the old school deleted last.
    assert sent == [("POST", "schools", 201), ("PUT", "studentSchoolAssociations", 204),
                    ("DELETE", "schools", 204)]
    assert {r["schoolId"] for r in sandbox.records("schools")} == {350010001, 350010020}
    ben_after = next(r for r in sandbox.records("studentSchoolAssociations")
                     if r["studentReference"]["studentUniqueId"] == "100000002")
    assert ben_after["id"] == ben_before["id"] and ben_after["schoolReference"]["schoolId"] == 350010020
    assert old_school["id"] not in {r["id"] for r in sandbox.records("schools")}
    rows = sql(small_sis, "SELECT natural_key->>'schoolId' FROM edfi_sync.identity_map WHERE resource = 'schools'")
    assert sorted(r[0] for r in rows) == ["350010001", "350010020"]


def test_year_specific_routes_write_the_years_own_store(small_sis, sandbox, monkeypatch):
    monkeypatch.setenv("AIRFLOW_CONN_EDFI_API", json.dumps(
        {"conn_type": "http", "host": sandbox.base_url, "login": sandbox.key, "password": sandbox.secret,
         "extra": {"api_mode": "year_specific"}}))
    sync(small_sis)
    assert len(sandbox.records("students", school_year=YEAR)) == 4
    assert sandbox.records("students") == []
    assert {r["path"].split("/")[3] for r in data_requests(sandbox)} == {str(YEAR)}
