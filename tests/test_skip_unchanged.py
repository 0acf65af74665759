"""SPEC §6.1 / issue 20: a run skips rebuilding the SIS rows it can prove unchanged (the stage
memo), and still stages a row for every record, exactly as a full rebuild would.

Fixture tests/fixtures/sync_small.sql (see tests/test_sync_e2e.py): students 1, 2, 6, 7 build and
3 fails (no birth date); SSAs 1001, 1002, 1007 are sent.
"""

from __future__ import annotations

from collections import Counter

import pytest

from edfi_sync.engine.runner import RunSummary, SyncOptions, YearSync, plan
from edfi_sync.engine.steps import StageIncomplete
from edfi_sync.resources.graph import Step
from e2e_helpers import YEAR, sql, sync

pytestmark = pytest.mark.e2e

SSA = "studentSchoolAssociations"
STAGED = ("SELECT resource, seq, natural_key_hash, natural_key, sis_object_key, payload, payload_hash, school_ids, "
          "student_unique_id, student_name, precedence, parent_keys, replace_hash, error_code, status "
          "FROM edfi_sync.staged_record WHERE run_id = %s ORDER BY resource, seq")


def run_keeping_stage(conninfo: str, **options) -> tuple[RunSummary, list[tuple]]:
    """A whole run, and its staged rows as they were before the run ended (the CLI clears them)."""
    with YearSync(YEAR, SyncOptions(**options), conninfo=conninfo) as run:
        run.begin()
        results = [run.run_step(step) for step in plan(run.options)]
        staged = sql(conninfo, STAGED, run.run_id)
        return run.finish(results), staged


def data_writes(sandbox) -> list[tuple[str, str]]:
    return [(r["method"], r["path"].split("/")[4]) for r in sandbox.requests()
            if "/data/" in r["path"] and r["method"] != "GET"]


def test_unchanged_rows_are_not_rebuilt_yet_staged_as_a_full_rebuild_stages_them(small_sis, sandbox):
    first, built = run_keeping_stage(small_sis)
    sandbox.clear_requests()
    second, remembered = run_keeping_stage(small_sis)
    assert data_writes(sandbox) == []
    counts = second.by_resource()
    # Student 3 failed to build: rebuilt (and its error seen again); the other four are proven.
    assert counts["students"]["not_rebuilt"] == 4 and counts["students"]["unchanged"] == 4
    assert counts["students"]["build_failed"] == 1
    assert "not_rebuilt" not in first.by_resource()["students"]
    # Every record staged again, with its key, SIS key, parent keys, hashes and seq as built; the
    # sent ones now unchanged, the failed, skipped and duplicate ones as before.
    as_built = [row[:-1] + (("unchanged",) if row[-1] == "sent" else row[-1:]) for row in built]
    assert remembered == as_built
    assert sql(small_sis, "SELECT occurrences FROM edfi_sync.error_log WHERE resource = 'students' "
                          "AND sis_object_key = '3'") == [(2,)]


def test_a_record_changed_in_the_sis_is_rebuilt_and_sent(small_sis, sandbox):
    sync(small_sis)
    sql(small_sis, "UPDATE sis.person SET first_name = 'Anita' WHERE person_id = 1")
    sandbox.clear_requests()
    summary = sync(small_sis)
    assert data_writes(sandbox) == [("PUT", "students")]
    assert summary.by_resource()["students"]["not_rebuilt"] == 3
    assert next(r for r in sandbox.records("students") if r["studentUniqueId"] == "100000001")["firstName"] == "Anita"


def test_a_mapping_snapshot_change_invalidates_the_memo(small_sis, sandbox):
    sync(small_sis)
    # A mapping change alone waits for a resync of its owner (seed rule): nothing rebuilt differs.
    sql(small_sis, "UPDATE edfi_sync.mapping SET code_value = 'Eleventh grade' "
                   "WHERE resource = %s AND field = 'grade_level' AND sis_value = '12'", SSA)
    sandbox.clear_requests()
    sync(small_sis)
    assert data_writes(sandbox) == []
    # The owner's snapshot is taken anew (as a resync of it does): the memo of every reader is void.
    sql(small_sis, "UPDATE edfi_sync.mapping_snapshot SET code_value = 'Eleventh grade' "
                   "WHERE end_year = %s AND resource = %s AND field = 'grade_level' AND sis_value = '12'", YEAR, SSA)
    sql(small_sis, "UPDATE edfi_sync.mapping_snapshot_taken SET taken_at = now() WHERE end_year = %s AND resource = %s",
        YEAR, SSA)
    summary = sync(small_sis)
    assert data_writes(sandbox) == [("PUT", "schools"), ("PUT", SSA)]  # schools list their grade levels
    assert "not_rebuilt" not in summary.by_resource()[SSA]
    assert summary.by_resource()["students"]["not_rebuilt"] == 4  # students read no SSA mapping


def test_a_resync_rebuilds_everything(small_sis, sandbox):
    sync(small_sis)
    summary = sync(small_sis, resync=True)
    assert not any("not_rebuilt" in counts for counts in summary.by_resource().values())
    assert summary.by_resource()["students"]["unchanged"] == 4
    # What the resync built is remembered for the next incremental run.
    assert sync(small_sis).by_resource()["students"]["not_rebuilt"] == 4


def test_a_record_that_failed_to_send_is_rebuilt_and_sent_next_run(small_sis, sandbox):
    sandbox.set_faults(error_rate=1.0, error_statuses=[400], paths=r"/students$", methods=["POST"])
    sync(small_sis, resources=("localEducationAgencies", "schools", "students"))
    assert sandbox.records("students") == []
    sandbox.clear_faults()
    sandbox.clear_requests()
    summary = sync(small_sis, resources=("localEducationAgencies", "schools", "students"))
    assert data_writes(sandbox) == [("POST", "students")] * 4
    assert "not_rebuilt" not in summary.by_resource()["students"]
    assert sql(small_sis, "SELECT count(*) FROM edfi_sync.error_log WHERE resource = 'students' AND NOT resolved "
                          "AND action = 'POST'") == [(0,)]


def test_a_row_gone_from_the_sis_is_deleted_and_nothing_else(small_sis, sandbox):
    sync(small_sis)
    sql(small_sis, "DELETE FROM sis.enrollment WHERE enrollment_id = 1002")
    sandbox.clear_requests()
    summary = sync(small_sis)
    assert data_writes(sandbox) == [("DELETE", SSA)]
    assert summary.by_resource()[SSA]["not_rebuilt"] >= 2


def test_the_delete_guard_refuses_a_lost_stage_of_a_run_that_skipped_rebuilding(small_sis, sandbox):
    sync(small_sis)
    sql(small_sis, "DELETE FROM sis.enrollment WHERE enrollment_id = 1002")
    with YearSync(YEAR, SyncOptions(), conninfo=small_sis) as run:
        run.begin()
        for step in plan(run.options):
            if step.phase != "delete":
                run.run_step(step)
        assert Counter(run.run_step(Step("post", SSA)).counts)["not_rebuilt"] >= 2
        sql(small_sis, "DELETE FROM edfi_sync.staged_record WHERE resource = %s AND status = 'unchanged'", SSA)
        sandbox.clear_requests()
        with pytest.raises(StageIncomplete, match="nothing was deleted"):
            run.run_step(Step("delete", SSA))
    assert data_writes(sandbox) == []
