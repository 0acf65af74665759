"""Repair end to end: resync of both kinds of drift, toggles, mapping snapshots, per-school
resync, and every error-catalogue entry produced against the sandbox.

Uses tests/fixtures/sync_small.sql (see tests/test_sync_e2e.py for what it holds).
"""

from __future__ import annotations

import json

import psycopg
import pytest

from edfi_sync.config_io import pending_mapping_changes
from edfi_sync.engine.cli import report_rows
from e2e_helpers import YEAR, sql, sync

pytestmark = pytest.mark.e2e
SCHOOL_1, SCHOOL_2 = 350010001, 350010002


def writes(sandbox):
    return [(r["method"], r["path"].split("/data/v3/ed-fi/")[1].split("/")[0], r["status"])
            for r in sandbox.requests() if "/data/" in r["path"] and r["method"] != "GET"]


def ssa(student, school, entry="2024-08-12", grade="Ninth grade"):
    return {"studentReference": {"studentUniqueId": student}, "schoolReference": {"schoolId": school},
            "entryDate": entry, "entryGradeLevelDescriptor": f"uri://ed-fi.org/GradeLevelDescriptor#{grade}"}


def ssa_keys(sandbox):
    return sorted((r["studentReference"]["studentUniqueId"], r["schoolReference"]["schoolId"], r["entryDate"])
                  for r in sandbox.records("studentSchoolAssociations"))


def map_ids(conninfo, resource):
    return {row[0] for row in sql(conninfo, "SELECT edfi_id FROM edfi_sync.identity_map WHERE resource = %s",
                                  resource)}


def open_errors(conninfo):
    return {(r["resource"], r["sis_object_key"], r["error_code"]): r
            for r in report_rows("errors", YEAR, None, conninfo) if not r["resolved"]}


def test_resync_reposts_a_record_deleted_behind_our_back(small_sis, sandbox):
    sync(small_sis)
    victim = next(r for r in sandbox.records("studentSchoolAssociations")
                  if r["studentReference"]["studentUniqueId"] == "100000002")
    sandbox.delete_record("studentSchoolAssociations", victim["id"])
    sandbox.clear_requests()
    sync(small_sis)  # incremental: the map still believes it is there
    assert writes(sandbox) == []
    summary = sync(small_sis, resync=True)
    assert ("POST", "studentSchoolAssociations", 201) in writes(sandbox)
    assert summary.by_resource()["studentSchoolAssociations"]["map_dropped"] == 1
    assert ("100000002", SCHOOL_2, "2024-08-12") in ssa_keys(sandbox)
    assert map_ids(small_sis, "studentSchoolAssociations") == {
        r["id"] for r in sandbox.records("studentSchoolAssociations")}


def test_resync_deletes_a_stray_ods_record_and_adopts_one_the_sis_has(small_sis, sandbox):
    sync(small_sis)
    stray = sandbox.insert_record("studentSchoolAssociations", ssa("100000001", SCHOOL_2, "2024-09-01"))
    sandbox.clear_requests()
    sync(small_sis)
    assert writes(sandbox) == []  # incremental runs never look at the ODS
    sync(small_sis, resync=True)
    assert ("DELETE", "studentSchoolAssociations", 204) in writes(sandbox)
    assert stray not in {r["id"] for r in sandbox.records("studentSchoolAssociations")}
    assert ("100000001", SCHOOL_2, "2024-09-01") not in ssa_keys(sandbox)
    # Students are never deleted, not even by a resync.
    assert len(sandbox.records("students")) == 4


def test_toggle_off_keeps_everything_then_on_plus_resync_catches_up(small_sis, sandbox):
    sync(small_sis)
    sql(small_sis, "INSERT INTO edfi_sync.resource_toggle VALUES (%s, 'studentSchoolAssociations', false)", YEAR)
    sql(small_sis, "DELETE FROM sis.enrollment WHERE enrollment_id = 1002")
    sql(small_sis, "UPDATE sis.enrollment SET end_date = '2025-03-01', end_status = 'W1' WHERE enrollment_id = 1001")
    sandbox.clear_requests()
    summary = sync(small_sis)
    assert [w for w in writes(sandbox) if w[1] == "studentSchoolAssociations"] == []
    assert ("100000002", SCHOOL_2, "2024-08-12") in ssa_keys(sandbox)
    assert {s.step.task_id: s.status for s in summary.steps}["post.studentSchoolAssociations"] == "toggled_off"
    # A resync of a toggled-off resource does nothing but say so.
    sync(small_sis, resync=True, resources=("studentSchoolAssociations",))
    assert [w for w in writes(sandbox) if w[1] == "studentSchoolAssociations"] == []

    sql(small_sis, "UPDATE edfi_sync.resource_toggle SET enabled = true")
    sandbox.clear_requests()
    sync(small_sis, resync=True, resources=("studentSchoolAssociations",))
    assert sorted(w[0] for w in writes(sandbox)) == ["DELETE", "PUT"]
    assert ("100000002", SCHOOL_2, "2024-08-12") not in ssa_keys(sandbox)


def test_mapping_change_waits_for_a_resync_of_its_owner(small_sis, sandbox):
    sync(small_sis)
    sql(small_sis, "UPDATE edfi_sync.mapping SET code_value = 'Withdrawn' WHERE field = 'exit_withdraw_type'")
    with psycopg.connect(small_sis) as conn:
        pending = pending_mapping_changes(conn, YEAR)
    assert [(p.resource, p.field, p.sis_value) for p in pending] == [
        ("studentSchoolAssociations", "exit_withdraw_type", "W1")]
    sandbox.clear_requests()
    sync(small_sis)
    assert writes(sandbox) == []  # incremental runs read the snapshot
    sync(small_sis, resync=True, resources=("studentSchoolAssociations",))
    ben = next(r for r in sandbox.records("studentSchoolAssociations")
               if r["studentReference"]["studentUniqueId"] == "100000002")
    assert ben["exitWithdrawTypeDescriptor"].endswith("#Withdrawn")
    with psycopg.connect(small_sis) as conn:
        assert pending_mapping_changes(conn, YEAR) == []


def test_per_school_resync_touches_only_its_school_and_never_lea_records(small_sis, sandbox):
    sync(small_sis)
    stray_1 = sandbox.insert_record("studentSchoolAssociations", ssa("100000006", SCHOOL_1, "2024-10-01",
                                                                     "Eleventh grade"))
    stray_2 = sandbox.insert_record("studentSchoolAssociations", ssa("100000002", SCHOOL_2, "2024-10-01"))
    sandbox.clear_requests()
    sync(small_sis, resync=True, schools=(str(SCHOOL_1),))
    ids = {r["id"] for r in sandbox.records("studentSchoolAssociations")}
    assert stray_1 not in ids and stray_2 in ids
    assert not [w for w in writes(sandbox) if w[1] in ("localEducationAgencies", "schools") and w[0] == "DELETE"]


# -- the error catalogue, produced for real -------------------------------------------------


def test_catalogue_reference_unresolved(small_sis, sandbox):
    sync(small_sis)
    school = next(r for r in sandbox.records("schools") if r["schoolId"] == SCHOOL_2)
    sandbox.delete_record("schools", school["id"])  # gone from the ODS; the map still has it
    sql(small_sis, "INSERT INTO sis.enrollment (enrollment_id, person_id, calendar_id, grade, service_type, "
                   "start_date) VALUES (1020, 1, 200, '09', 'P', '2025-02-01')")  # a grade the school has
    sync(small_sis)
    row = open_errors(small_sis)[("studentSchoolAssociations", "1020", "reference_unresolved")]
    assert row["status"] == 400 and "reference could not be resolved" in row["message"]
    assert row["error_class"] == "missing_reference" and row["request_body"]["schoolReference"]
    assert row["student_unique_id"] == "100000001" and row["school_id"] == str(SCHOOL_2)
    assert "Resync the referenced resource" in row["fix"]


def test_catalogue_descriptor_unresolved_and_children_skipped(small_sis, sandbox):
    sql(small_sis, "UPDATE edfi_sync.mapping SET code_value = 'Twelfth' WHERE sis_value = '12'")
    sync(small_sis)
    errors = open_errors(small_sis)
    # The grade is on the school's gradeLevels too: the school fails, its SSAs are not sent.
    row = errors[("schools", "10", "descriptor_unresolved")]
    assert row["status"] == 400 and "Unable to resolve value" in row["message"]
    skipped = errors[("studentSchoolAssociations", "1001", "parent_failed")]
    assert "schools 10 (descriptor_unresolved: Unable to resolve value" in skipped["message"]
    assert SCHOOL_1 not in {r["schoolReference"]["schoolId"] for r in sandbox.records("studentSchoolAssociations")}


def test_partial_run_before_parents_were_sent_skips_children(small_sis, sandbox):
    sync(small_sis, resources=("studentSchoolAssociations",))
    assert [w for w in writes(sandbox)] == []
    row = open_errors(small_sis)[("studentSchoolAssociations", "1001", "parent_failed")]
    assert "never sent" in row["message"]


def test_catalogue_authorization_denied(small_sis, monkeypatch):
    from edfi_sync.sandbox.testing import run_sandbox

    with run_sandbox(claims=[3500100]) as server:  # only this LEA's schools: ours, so make a second client
        pass
    with run_sandbox(claims=[9999999]) as server:
        monkeypatch.setenv("AIRFLOW_CONN_EDFI_API", json.dumps(
            {"conn_type": "http", "host": server.base_url, "login": server.key, "password": server.secret}))
        sync(small_sis)
        errors = open_errors(small_sis)
    denied = [r for (resource, _, code), r in errors.items() if code == "authorization_denied"]
    assert denied and all(r["status"] == 403 and r["error_class"] == "authorization" for r in denied)


def test_catalogue_delete_not_found_and_a_vanished_record_posted_again_in_the_same_run(small_sis, sandbox):
    sync(small_sis)
    records = {r["studentReference"]["studentUniqueId"]: r["id"] for r in sandbox.records("studentSchoolAssociations")}
    sandbox.delete_record("studentSchoolAssociations", records["100000002"])
    sandbox.delete_record("studentSchoolAssociations", records["100000001"])
    sql(small_sis, "DELETE FROM sis.enrollment WHERE enrollment_id = 1002")
    sql(small_sis, "UPDATE sis.enrollment SET grade = '11' WHERE enrollment_id = 1001")
    sandbox.clear_requests()
    summary = sync(small_sis)
    rows = report_rows("errors", YEAR, None, small_sis)
    gone = next(r for r in rows if r["error_code"] == "delete_not_found")
    assert gone["status"] == 404 and gone["error_class"] == "ignorable" and gone["sis_object_key"] == "1002"
    # The PUT of the changed grade found its record gone (SPEC §6.1): the same run posts it again,
    # with the change, and the map holds its new id; nothing is logged for it.
    assert not [r for r in rows if r["sis_object_key"] == "1001" and not r["resolved"]]
    counts = summary.by_resource()["studentSchoolAssociations"]
    assert counts["PUT.not_found"] == 1 and counts["POST.ok"] == 1
    assert [(method, status) for method, resource, status in writes(sandbox)
            if resource == "studentSchoolAssociations" and method != "DELETE"] == [("PUT", 404), ("POST", 201)]
    reposted = next(r for r in sandbox.records("studentSchoolAssociations")
                    if r["studentReference"]["studentUniqueId"] == "100000001")
    assert reposted["id"] != records["100000001"] and reposted["entryGradeLevelDescriptor"].endswith("#Eleventh grade")
    assert map_ids(small_sis, "studentSchoolAssociations") == {
        r["id"] for r in sandbox.records("studentSchoolAssociations")}
    sandbox.clear_requests()
    sync(small_sis)
    assert writes(sandbox) == []


def test_catalogue_natural_key_conflict_on_key_change(small_sis, sandbox):
    sync(small_sis)
    sandbox.insert_record("studentSchoolAssociations", ssa("100000001", SCHOOL_1, "2024-09-01", "Twelfth grade"))
    sql(small_sis, "UPDATE sis.enrollment SET start_date = '2024-09-01' WHERE enrollment_id = 1001")
    sync(small_sis)
    row = open_errors(small_sis)[("studentSchoolAssociations", "1001", "natural_key_conflict")]
    assert row["status"] == 409 and row["action"] == "PUT"


def test_catalogue_delete_blocked_by_dependent_keeps_the_map_row(small_sis, sandbox):
    sync(small_sis)
    sandbox.insert_record("studentSchoolAssociations", ssa("100000007", SCHOOL_2, "2024-10-01"))
    sql(small_sis, "UPDATE sis.school SET exclude = true WHERE school_id = 20")
    sync(small_sis)
    row = open_errors(small_sis)[("schools", "20", "delete_blocked_by_dependent")]
    assert row["status"] == 409 and row["action"] == "DELETE"
    assert sql(small_sis, "SELECT count(*) FROM edfi_sync.identity_map WHERE resource = 'schools' "
                          "AND sis_object_key = '20'")[0][0] == 1


@pytest.mark.parametrize("faults, code, status", [
    ({"error_rate": 1.0, "error_statuses": [500]}, "server_error", 500),
    ({"throttle_rate": 1.0, "retry_after": 0}, "rate_limited", 429),
])
def test_catalogue_retryable_failures_after_retries(small_sis, sandbox, monkeypatch, faults, code, status):
    monkeypatch.setenv("AIRFLOW_CONN_EDFI_API", json.dumps(
        {"conn_type": "http", "host": sandbox.base_url, "login": sandbox.key, "password": sandbox.secret,
         "extra": {"max_attempts": 2}}))
    sandbox.set_faults(**faults, methods=["POST"], paths=r"^/data/")
    summary = sync(small_sis, resources=("localEducationAgencies",))
    row = open_errors(small_sis)[("localEducationAgencies", "1", code)]
    assert row["status"] == status and row["error_class"] == "retryable"
    assert summary.by_resource()["localEducationAgencies"]["POST.failed"] == 1
    # A child of the failed record is skipped, not sent into a 400 storm.
    sandbox.clear_faults()
    sync(small_sis)
    assert open_errors(small_sis).get(("localEducationAgencies", "1", code)) is None


def test_catalogue_required_field_missing_from_the_server(small_sis, sandbox, monkeypatch):
    """Our models catch missing fields first; a server-side 400 'is required' must still be classified."""
    import dataclasses

    from edfi_sync.resources import RESOURCES
    from edfi_sync.resources.base import EdFiModel

    class LenientLea(EdFiModel):
        localEducationAgencyId: int
        nameOfInstitution: str | None = None
        localEducationAgencyCategoryDescriptor: str
        categories: list[dict]

    monkeypatch.setitem(RESOURCES, "localEducationAgencies",
                        dataclasses.replace(RESOURCES["localEducationAgencies"], model=LenientLea))
    sql(small_sis, "UPDATE sis.district SET name = NULL")
    sync(small_sis, resources=("localEducationAgencies",))
    row = open_errors(small_sis)[("localEducationAgencies", "1", "required_field_missing")]
    assert row["status"] == 400 and row["error_class"] == "data"


def test_catalogue_own_build_errors_reach_the_log(small_sis, sandbox, monkeypatch):
    """A build rule's BuildError (the SAR rules raise term_not_determinable) lands as a BUILD row."""
    import dataclasses

    from edfi_sync.resources import RESOURCES
    from edfi_sync.resources.base import BuildError

    def undeterminable(row, ctx):
        raise BuildError("term_not_determinable", f"no term for district {row['district_id']}")

    monkeypatch.setitem(RESOURCES, "localEducationAgencies",
                        dataclasses.replace(RESOURCES["localEducationAgencies"], build=undeterminable))
    sync(small_sis, resources=("localEducationAgencies",))
    row = open_errors(small_sis)[("localEducationAgencies", "1", "term_not_determinable")]
    assert row["action"] == "BUILD" and row["status"] is None and "no term" in row["message"]
    assert "term override" in row["fix"]


def test_catalogue_key_change_not_supported(small_sis, sandbox, monkeypatch):
    """Were a resource wrongly declared PUT-key-changeable, the ODS's refusal is classified."""
    import dataclasses

    from edfi_sync.resources import RESOURCES

    monkeypatch.setitem(RESOURCES, "schools", dataclasses.replace(RESOURCES["schools"], key_change="put"))
    sync(small_sis)
    sql(small_sis, "UPDATE sis.school SET number = '350010009' WHERE school_id = 20")
    sync(small_sis, resources=("localEducationAgencies", "schools"))
    row = open_errors(small_sis)[("schools", "20", "key_change_not_supported")]
    assert row["status"] == 400 and row["action"] == "PUT"


def test_exit_status_systemic_and_record_errors(small_sis, sandbox, monkeypatch):
    import subprocess
    import sys

    def cli_sync():
        return subprocess.run([sys.executable, "-m", "edfi_sync.cli", "sync", "--school-year", str(YEAR)],
                              capture_output=True, text=True, timeout=120)

    monkeypatch.setenv("AIRFLOW_CONN_EDFI_API", json.dumps(
        {"conn_type": "http", "host": sandbox.base_url, "login": sandbox.key, "password": "wrong"}))
    refused = cli_sync()
    assert refused.returncode == 2 and "refused the client credentials" in refused.stderr
    assert "wrong" not in refused.stdout + refused.stderr
    monkeypatch.setenv("AIRFLOW_CONN_EDFI_API", json.dumps(
        {"conn_type": "http", "host": "127.0.0.1", "port": 9, "login": "k", "password": "s",
         "extra": {"max_attempts": 1}}))
    assert cli_sync().returncode == 2  # nothing listens on port 9
    monkeypatch.setenv("AIRFLOW_CONN_EDFI_API", json.dumps(
        {"conn_type": "http", "host": sandbox.base_url, "login": sandbox.key, "password": sandbox.secret,
         "extra": {"fail_on_record_errors": True}}))
    assert cli_sync().returncode == 1  # the fixture's known bad records
    with psycopg.connect(small_sis) as conn:
        statuses = [r[0] for r in conn.execute("SELECT status FROM edfi_sync.sync_run ORDER BY started_at")]
    assert statuses == ["failed", "failed", "record_errors"]


def test_reconciliation_is_stored_per_run(small_sis, sandbox):
    sync(small_sis)
    rows = {r["resource"]: r for r in report_rows("reconciliation", YEAR, None, small_sis)}
    assert rows["schools"]["sis_count"] == rows["schools"]["ods_count"] == rows["schools"]["map_count"] == 2
    assert rows["schools"]["disagree"] is False
    victim = sandbox.records("schools")[0]
    sandbox.delete_record("schools", victim["id"])
    sync(small_sis, resync=True, resources=("localEducationAgencies", "schools"))
    rows = {r["resource"]: r for r in report_rows("reconciliation", YEAR, None, small_sis)}
    assert rows["schools"]["ods_count"] == rows["schools"]["map_count"] == 2  # repaired
