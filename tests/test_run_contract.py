"""The run contract under Airflow's retries and clears (SPEC §5.7, §5.8), on the engine itself.

Fixture tests/fixtures/sync_small.sql (year 2025): 3 SSAs reach the ODS. A delete step of a run
whose stage is gone must never read it as "every SSA is gone"; a dry run changes nothing.
"""

from __future__ import annotations

from collections import Counter

import pytest

from e2e_helpers import YEAR, sql, sync
from edfi_sync.engine.runner import StageIncomplete, SyncOptions, YearSync
from edfi_sync.resources.graph import Step

pytestmark = pytest.mark.e2e

SSA = "studentSchoolAssociations"


def writes(sandbox) -> Counter:
    return Counter(r["method"] for r in sandbox.requests() if "/data/" in r["path"] and r["method"] != "GET")


def state(conninfo: str) -> dict[str, list]:
    """Everything a dry run must leave as it was: snapshots, identity map, error log."""
    return {table: sql(conninfo, f"SELECT * FROM edfi_sync.{table} ORDER BY 1, 2, 3")
            for table in ("mapping_snapshot_taken", "mapping_snapshot", "identity_map", "error_log")}


def rerun_step(conninfo: str, run_id: str, step: Step, **options):
    """What a cleared Airflow task does: the step again, inside the same engine run."""
    with YearSync(YEAR, SyncOptions(**options), run_id=run_id, conninfo=conninfo, origin="airflow") as run:
        run.begin()
        return run.run_step(step)


def test_delete_step_of_a_finished_run_refuses_and_deletes_nothing(small_sis, sandbox):
    summary = sync(small_sis)  # finishing the run clears its staged rows
    ods_before = sandbox.records(SSA)
    map_before = sql(small_sis, "SELECT natural_key_hash, edfi_id FROM edfi_sync.identity_map ORDER BY 1")
    sandbox.clear_requests()

    with pytest.raises(StageIncomplete, match=rf"rerun post\.{SSA}") as refused:
        rerun_step(small_sis, summary.run_id, Step("delete", SSA))
    assert "staged 6 records but 0 are left" in str(refused.value)
    assert writes(sandbox) == Counter()
    assert sandbox.records(SSA) == ods_before
    assert sql(small_sis, "SELECT natural_key_hash, edfi_id FROM edfi_sync.identity_map ORDER BY 1") == map_before


def test_delete_step_refuses_a_stage_lost_in_a_crash_then_a_rerun_of_post_deletes_only_what_is_gone(
        small_sis, sandbox):
    sync(small_sis)
    run_id = "manual__2026-01-01T00:00:00__2025"
    rerun_step(small_sis, run_id, Step("post", SSA))
    # What crash recovery does to an UNLOGGED table: it comes back empty.
    sql(small_sis, "TRUNCATE edfi_sync.staged_record")
    sql(small_sis, "DELETE FROM sis.enrollment WHERE enrollment_id = 1002")
    sandbox.clear_requests()
    with pytest.raises(StageIncomplete, match=rf"rerun post\.{SSA}"):
        rerun_step(small_sis, run_id, Step("delete", SSA))
    assert writes(sandbox) == Counter()
    assert len(sandbox.records(SSA)) == 3

    # The advice works: post again, then the delete removes exactly the enrollment that is gone.
    rerun_step(small_sis, run_id, Step("post", SSA))
    result = rerun_step(small_sis, run_id, Step("delete", SSA))
    assert result.counts == Counter({"DELETE.ok": 1})
    assert writes(sandbox) == Counter({"DELETE": 1})
    assert {r["studentReference"]["studentUniqueId"] for r in sandbox.records(SSA)} == {"100000001", "100000006"}


def test_delete_step_refuses_when_its_post_step_never_ran(small_sis, sandbox):
    sync(small_sis)
    sandbox.clear_requests()
    with pytest.raises(StageIncomplete, match=rf"post\.{SSA} of run .* did not run"):
        rerun_step(small_sis, "manual__never-posted__2025", Step("delete", SSA))
    assert writes(sandbox) == Counter()


def test_dry_resync_leaves_snapshots_map_and_error_log_as_they_were(small_sis, sandbox):
    sync(small_sis)
    # Everything a real resync would change: a mapping waiting for it (new snapshot), a record
    # gone from the ODS (map row dropped), a stray (deleted), build failures (error rows touched).
    sql(small_sis, "UPDATE edfi_sync.mapping SET code_value = 'Withdrawn' WHERE field = 'exit_withdraw_type'")
    victim = sandbox.records(SSA)[0]
    sandbox.delete_record(SSA, victim["id"])
    before = state(small_sis)
    sandbox.clear_requests()

    summary = sync(small_sis, resync=True, dry_run=True)

    assert state(small_sis) == before
    assert {r["method"] for r in sandbox.requests()} <= {"GET", "POST"}
    assert all(r["path"].startswith("/oauth") for r in sandbox.requests() if r["method"] == "POST")
    counts = summary.by_resource()[SSA]
    # It still reports what a real resync would do, with the mapping change applied.
    assert counts["would_map_drop"] == 1 and counts["would_PUT"] >= 1


def test_first_dry_run_of_a_year_takes_no_snapshot_but_reads_the_current_mappings(small_sis, sandbox):
    summary = sync(small_sis, dry_run=True)
    assert sql(small_sis, "SELECT count(*) FROM edfi_sync.mapping_snapshot_taken") == [(0,)]
    assert sql(small_sis, "SELECT count(*) FROM edfi_sync.error_log") == [(0,)]
    # With the current mappings the SSAs build (grade 12 -> Twelfth grade): 3 would be posted.
    assert summary.by_resource()[SSA]["would_POST"] == 3
    assert writes(sandbox) == Counter()
