"""A run of selected records (SPEC §6.1: the `records` param, `edfi-sync sync --only`): it sends those
records and what their keys cascade to, nothing else; it stages every record, and deletes only
within its selection. Fixture tests/fixtures/sync_small.sql (see test_sync_e2e.py)."""

from __future__ import annotations

import subprocess
import sys

import psycopg
import pytest

from e2e_helpers import YEAR, sql, sync, writes
from edfi_sync.actions.resync import preview
from edfi_sync.engine.runner import SyncOptions, YearSync, plan

pytestmark = pytest.mark.e2e


def sent(sandbox, since: int) -> list[tuple[str, str]]:
    return sorted((r["method"], r["path"].split("/ed-fi/")[1].split("/")[0]) for r in writes(sandbox, since))


def last_seq(sandbox) -> int:
    return (sandbox.requests() or [{"seq": 0}])[-1]["seq"]


def test_a_retry_sends_the_fixed_record_and_what_its_key_cascades_to_nothing_else(small_sis, sandbox):
    sync(small_sis)
    # Student 3 fixed (never sent: its SSA 1003 waited for it); unrelated changes wait for the next run.
    sql(small_sis, "UPDATE sis.person SET birth_date = '2008-05-05' WHERE person_id = 3")
    sql(small_sis, "UPDATE sis.person SET first_name = 'Anita' WHERE person_id = 1")
    sql(small_sis, "UPDATE sis.enrollment SET end_date = '2025-02-01' WHERE enrollment_id = 1002")
    since = last_seq(sandbox)
    summary = sync(small_sis, records=("students:3",))
    assert sent(sandbox, since) == [("POST", "studentSchoolAssociations"), ("POST", "students")]
    assert {r["studentUniqueId"]: r["firstName"] for r in sandbox.records("students")}["100000001"] == "Ana"
    # Every record was staged all the same (the rest out of the selection), and the plan held only
    # students and what references them.
    assert {"localEducationAgencies", "schools", "programs", "courses"}.isdisjoint(summary.by_resource())
    assert summary.by_resource()["students"]["extracted"] == 5
    # The next full run sends what the retry left alone.
    since = last_seq(sandbox)
    sync(small_sis)
    assert sent(sandbox, since) == [("PUT", "studentSchoolAssociations"), ("PUT", "students")]


def test_a_retry_deletes_only_within_its_selection(small_sis, sandbox):
    sync(small_sis)
    sql(small_sis, "DELETE FROM sis.enrollment WHERE enrollment_id IN (1001, 1002)")
    since = last_seq(sandbox)
    sync(small_sis, records=("studentSchoolAssociations:1001",))
    assert sent(sandbox, since) == [("DELETE", "studentSchoolAssociations")]
    assert sql(small_sis, "SELECT sis_object_key FROM edfi_sync.identity_map WHERE resource = "
                          "'studentSchoolAssociations' ORDER BY 1") == [("1002",), ("1007",)]
    since = last_seq(sandbox)
    sync(small_sis)  # the rest: the other SSA, and the grade levels its school no longer has
    assert sent(sandbox, since) == [("DELETE", "studentSchoolAssociations"), ("PUT", "schools")]


def test_a_partitioned_retry_selects_as_a_whole_one_does(small_sis, sandbox):
    """Each partition of a retry's post step stages all its students' records, the rest out of the
    selection; its deletes stay within the selection (sync --only with --partitions)."""
    def retry(*records: str) -> str:
        with YearSync(YEAR, SyncOptions(records=records), conninfo=small_sis) as run:
            run.run(partitions=2)
            return run.run_id

    sync(small_sis)
    sql(small_sis, "UPDATE sis.person SET birth_date = '2008-05-05' WHERE person_id = 3")
    sql(small_sis, "UPDATE sis.person SET first_name = 'Anita' WHERE person_id = 1")
    since = last_seq(sandbox)
    run_id = retry("students:3")
    assert sent(sandbox, since) == [("POST", "studentSchoolAssociations"), ("POST", "students")]
    assert sql(small_sis, "SELECT DISTINCT partitions FROM edfi_sync.resource_run WHERE run_id = %s "
                          "AND resource = 'studentSchoolAssociations' AND phase = 'post'", run_id) == [(2,)]
    sql(small_sis, "DELETE FROM sis.enrollment WHERE enrollment_id IN (1001, 1002)")
    since = last_seq(sandbox)
    retry("studentSchoolAssociations:1001")
    assert sent(sandbox, since) == [("DELETE", "studentSchoolAssociations")]
    assert sql(small_sis, "SELECT sis_object_key FROM edfi_sync.identity_map WHERE resource = "
                          "'studentSchoolAssociations' ORDER BY 1") == [("1002",), ("1003",), ("1007",)]


def test_records_are_checked(small_sis, sandbox):
    for bad in ("students", "nosuch:1", "students:"):
        with pytest.raises(ValueError, match="RESOURCE:SIS_KEY"):
            SyncOptions(records=(bad,))
    with pytest.raises(ValueError, match="without resources and without resync"):
        SyncOptions(records=("students:1",), resync=True)
    done = subprocess.run([sys.executable, "-m", "edfi_sync.cli", "sync", "--school-year", "2025", "--resource",
                           "students", "--only", "students:1"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "records selects its own resources" in done.stderr


def test_a_resync_preview_lists_what_the_dry_run_would_send_with_its_first_records(small_sis, sandbox):
    """The Resync page's preview (actions.resync.preview) without the page: the counts of a dry run
    and the first records behind each, read from the run's stage by the send queries."""
    sync(small_sis)
    sql(small_sis, "UPDATE sis.person SET first_name = 'Anita' WHERE person_id = 1")
    sql(small_sis, "DELETE FROM sis.enrollment WHERE enrollment_id = 1002")
    since = last_seq(sandbox)
    # As the DAG runs it (a step per task): the stage stays for the page until the next run.
    with YearSync(YEAR, SyncOptions(resync=True, dry_run=True), run_id=f"preview_1__{YEAR}", conninfo=small_sis,
                  origin="airflow") as run:
        run.begin()
        for step in plan(run.options):
            run.run_step(step)
        assert run.finish_if_complete() is not None
    assert sent(sandbox, since) == []
    with psycopg.connect(small_sis) as conn:
        found = {r["resource"]: r for r in preview(conn, "preview_1", YEAR)["resources"]}
    assert found["students"]["counts"]["PUT"] == 1
    assert [s["sis_object_key"] for s in found["students"]["sample"]["PUT"]] == ["1"]
    assert found["studentSchoolAssociations"]["counts"]["DELETE"] == 1
    assert [s["sis_object_key"] for s in found["studentSchoolAssociations"]["sample"]["DELETE"]] == ["1002"]
