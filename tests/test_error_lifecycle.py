"""How an error closes (SPEC §6.1): sent, unchanged, deleted or gone, each only when it is true.

tests/fixtures/sync_small.sql (and academic_records.sql for a student's several records), year
2025, synced in process against the sandbox over HTTP; the SIS and the ODS are changed between runs.
"""

from __future__ import annotations

import csv
import io
import json

import psycopg
import pytest

from e2e_helpers import YEAR, divergence, sql, sync
from test_academic_records_e2e import FIXTURES, server  # noqa: F401 - the sandbox knowing NM's descriptors
from test_bad_config_and_systemic import edfi_sync  # noqa: F401 - `edfi-sync ...` in process

pytestmark = pytest.mark.e2e
SSA, SAR = "studentSchoolAssociations", "studentAcademicRecords"
# The records of sync_small.sql: the other resources have nothing to sync there (and cost steps).
SMALL = ("localEducationAgencies", "schools", "students", SSA)
MISSING_EXIT = ("INSERT INTO edfi_sync.mapping VALUES (2025, 'studentSchoolAssociations', 'exit_withdraw_type', "
                "'W3', 'uri://ed-fi.org/ExitWithdrawTypeDescriptor', 'Moved to Mars')")


def errors(conninfo: str, resource: str, key: str) -> list[tuple]:
    """(error_code, action, resolved_reason, occurrences) of a SIS object's rows, oldest first."""
    return [tuple(row) for row in sql(conninfo, "SELECT error_code, action, resolved_reason, occurrences "
                                                "FROM edfi_sync.error_log WHERE resource = %s AND sis_object_key = %s "
                                                "ORDER BY error_id", resource, key)]


def test_a_record_fixed_back_to_what_the_ods_holds_closes_as_unchanged(small_sis, sandbox):
    sync(small_sis, resources=("students",))
    sql(small_sis, "UPDATE sis.person SET first_name = repeat('Ana', 30) WHERE person_id = 1")
    sync(small_sis, resources=("students",))
    assert errors(small_sis, "students", "1") == [("schema_validation", "BUILD", None, 1)]
    since = sandbox.requests()[-1]["seq"]
    sql(small_sis, "UPDATE sis.person SET first_name = 'Ana' WHERE person_id = 1")
    sync(small_sis, resources=("students",))
    # Nothing to send: the ODS still holds Ana as she is again. Before SPEC §6.1 this stayed open forever.
    assert [r for r in sandbox.requests(since) if r["method"] != "GET"] == []
    assert errors(small_sis, "students", "1") == [("schema_validation", "BUILD", "unchanged", 1)]


def test_a_dry_run_closes_nothing(small_sis, sandbox):
    sync(small_sis, resources=("students",))
    sql(small_sis, "UPDATE sis.person SET birth_date = '2009-09-09' WHERE person_id = 3")
    sync(small_sis, resources=("students",), dry_run=True)
    assert errors(small_sis, "students", "3") == [("schema_validation", "BUILD", None, 1)]
    sync(small_sis, resources=("students",))
    assert errors(small_sis, "students", "3") == [("schema_validation", "BUILD", "sent", 1)]


def test_a_refused_update_closes_as_deleted_when_the_record_is_deleted(small_sis, sandbox):
    sql(small_sis, MISSING_EXIT)
    sync(small_sis, resources=SMALL)
    sql(small_sis, "UPDATE sis.enrollment SET end_date = '2025-01-10', end_status = 'W3' WHERE enrollment_id = 1001")
    sync(small_sis, resources=SMALL)
    assert errors(small_sis, SSA, "1001") == [("descriptor_unresolved", "PUT", None, 1)]
    sql(small_sis, "DELETE FROM sis.enrollment WHERE enrollment_id = 1001")
    sync(small_sis, resources=SMALL)
    assert errors(small_sis, SSA, "1001") == [("descriptor_unresolved", "PUT", "deleted", 1)]


def test_gone_closes_build_and_post_errors_only_within_the_school_selection(small_sis, sandbox):
    sync(small_sis, resources=SMALL)
    assert errors(small_sis, "students", "3") == [("schema_validation", "BUILD", None, 1)]
    assert errors(small_sis, SSA, "1003") == [("parent_failed", "POST", None, 1)]
    # Cal (student 3, Rio High 350010001) leaves: the SIS yields neither his student record nor his SSA.
    sql(small_sis, "DELETE FROM sis.enrollment WHERE enrollment_id = 1003")
    sync(small_sis, resources=SMALL, dry_run=True)
    sync(small_sis, resources=SMALL, schools=("350010002",))  # a run for Rio Middle does not cover Rio High's records
    assert errors(small_sis, "students", "3")[0][2] is None and errors(small_sis, SSA, "1003")[0][2] is None
    sync(small_sis, resources=SMALL)
    assert errors(small_sis, "students", "3") == [("schema_validation", "BUILD", "gone", 1)]
    assert errors(small_sis, SSA, "1003") == [("parent_failed", "POST", "gone", 1)]


def test_a_delete_refused_409_stays_open_and_nothing_is_gone_until_the_record_really_is(small_sis, sandbox):
    sync(small_sis, resources=SMALL)
    # Rio Middle loses its name: its record stays in the ODS, as sent, and fails to build.
    sql(small_sis, "UPDATE sis.school SET name = NULL WHERE school_id = 20")
    sync(small_sis, resources=SMALL)
    assert errors(small_sis, "schools", "20") == [("schema_validation", "BUILD", None, 1)]
    # Another client's SSA references the school in the ODS; then the school leaves the SIS.
    dependent = sandbox.insert_record(SSA, {
        "studentReference": {"studentUniqueId": "100000001"}, "schoolReference": {"schoolId": 350010002},
        "entryDate": "2024-09-01", "entryGradeLevelDescriptor": "uri://ed-fi.org/GradeLevelDescriptor#Tenth grade"})
    sql(small_sis, "UPDATE sis.school SET exclude = true WHERE school_id = 20")
    for occurrences in (1, 2):
        sync(small_sis, resources=SMALL)
        # Its map row waits for a DELETE the ODS refuses: not gone, not resolved.
        assert errors(small_sis, "schools", "20") == [("schema_validation", "BUILD", None, 1),
                                                      ("delete_blocked_by_dependent", "DELETE", None, occurrences)]
    # Ben's SSA (skipped while its school failed) was deleted with the school's enrollments.
    assert errors(small_sis, SSA, "1002") == [("parent_failed", "POST", "deleted", 1)]
    sandbox.delete_record(SSA, dependent)
    sync(small_sis, resources=SMALL)
    assert errors(small_sis, "schools", "20") == [("schema_validation", "BUILD", "deleted", 1),
                                                  ("delete_blocked_by_dependent", "DELETE", "deleted", 2)]


def test_one_failing_record_of_a_student_is_not_closed_by_his_other_records(small_sis, server):
    with psycopg.connect(small_sis) as conn:
        conn.execute((FIXTURES / "academic_records.sql").read_text())
    # Ana's transfer row lands in a term the ODS lacks: that record is refused, her others are sent.
    sql(small_sis, "INSERT INTO edfi_sync.mapping VALUES (2025, 'sessions', 'term', 'T9', "
                   "'uri://ed-fi.org/TermDescriptor', 'Ninth Term')")
    sql(small_sis, "UPDATE sis.transcript_course SET edfi_term_override = 'T9' WHERE transcript_id = 7004")
    sync(small_sis, resources=(*SMALL, SAR))
    assert errors(small_sis, SAR, "1") == [("descriptor_unresolved", "POST", None, 1)]
    sync(small_sis, resources=(*SMALL, SAR))  # her other records are unchanged; this one is refused again
    assert errors(small_sis, SAR, "1") == [("descriptor_unresolved", "POST", None, 2)]
    sql(small_sis, "UPDATE sis.transcript_course SET edfi_term_override = NULL WHERE transcript_id = 7004")
    sync(small_sis, resources=(*SMALL, SAR))
    assert errors(small_sis, SAR, "1") == [("descriptor_unresolved", "POST", "sent", 2)]


def test_the_reports_say_why_an_error_closed(small_sis, sandbox, edfi_sync):
    sync(small_sis, resources=("students",))
    sql(small_sis, "UPDATE sis.person SET birth_date = '2009-09-09' WHERE person_id = 3")
    sync(small_sis, resources=("students",))
    outputs = {form: edfi_sync("report", "errors", "--school-year", YEAR, "--status", "all", "--format", form)[1]
               for form in ("json", "csv")}
    [row] = [r for r in json.loads(outputs["json"]) if r["sis_object_key"] == "3"]
    assert (row["resolved"], row["resolved_reason"]) == (True, "sent")
    [row] = [r for r in csv.DictReader(io.StringIO(outputs["csv"])) if r["sis_object_key"] == "3"]
    assert row["resolved_reason"] == "sent"


def test_a_sent_record_whose_parent_fails_now_stays_in_the_ods_and_the_map(small_sis, sandbox):
    """The soak found this state (a duplicate SIS person coming back invalid): a record sent before,
    whose parent fails this run, is not sent and not deleted; the ODS keeps it, the map still says
    so, and the convergence check holds it as held back, not as a record the SIS does not produce."""
    sync(small_sis, resources=SMALL)
    ssa_before = [r for r in sandbox.records(SSA) if r["studentReference"]["studentUniqueId"] == "100000001"]
    assert ssa_before
    sql(small_sis, "UPDATE sis.person SET first_name = repeat('Ana', 30) WHERE person_id = 1")
    sync(small_sis, resources=SMALL)
    assert [r for r in sandbox.records(SSA) if r["studentReference"]["studentUniqueId"] == "100000001"] == ssa_before
    assert sql(small_sis, "SELECT count(*) FROM edfi_sync.identity_map WHERE resource = %s "
                          "AND student_unique_id = '100000001'", SSA)[0][0] == len(ssa_before)
    assert {row[0] for row in sql(small_sis, "SELECT error_code FROM edfi_sync.error_log WHERE resource = %s "
                                             "AND student_unique_id = '100000001' AND resolved_at IS NULL", SSA)} == {"parent_failed"}
    assert not divergence(small_sis, sandbox)
    # Its key moves meanwhile (a new entry date): the key change waits for the parent too, and the
    # ODS keeps the record under the key it was sent with.
    sql(small_sis, "UPDATE sis.enrollment SET start_date = start_date - 1 WHERE person_id = 1")
    sync(small_sis, resources=SMALL)
    assert [r for r in sandbox.records(SSA) if r["studentReference"]["studentUniqueId"] == "100000001"] == ssa_before
    assert not divergence(small_sis, sandbox)
