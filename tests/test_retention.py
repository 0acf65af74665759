"""Retention (the edfi_sync_maintenance DAG's database tasks) on a database with aged rows: the
right rows go, the identity map and open errors stay, and a concurrent sync is not held up.

Fixture tests/fixtures/sync_small.sql (year 2025); runs are made the way the DAG's tasks make
them (one step per call, the last closing the ledger), so their staged rows stay behind.
"""

from __future__ import annotations

import threading

import psycopg
import pytest

from e2e_helpers import YEAR, sql
from edfi_sync.engine.runner import SyncOptions, YearSync, plan
from edfi_sync.maintenance.retention import Retention, RetentionPolicy

pytestmark = pytest.mark.e2e
SSA = "studentSchoolAssociations"
LOCK = "SELECT pg_try_advisory_lock(hashtextextended('edfi_sync:' || %s || ':' || %s, 0))"
UNLOCK = "SELECT pg_advisory_unlock(hashtextextended('edfi_sync:' || %s || ':' || %s, 0))"


def airflow_style_run(conninfo: str, run_id: str, **options) -> None:
    sync_options = SyncOptions(**options)
    with YearSync(YEAR, sync_options, run_id=run_id, conninfo=conninfo, origin="airflow") as run:
        run.begin()
        for step in plan(sync_options):
            run.run_step(step)
        assert run.finish_if_complete() is not None


def age(conninfo: str, run_id: str, days: int) -> None:
    for table in ("sync_run", "resource_run"):
        sql(conninfo, f"UPDATE edfi_sync.{table} SET started_at = started_at - make_interval(days => %s), "
                      f"finished_at = finished_at - make_interval(days => %s) WHERE run_id = %s", days, days, run_id)


def run_ids(conninfo: str, table: str) -> set[str]:
    return {row[0] for row in sql(conninfo, f"SELECT DISTINCT run_id FROM edfi_sync.{table}")}


def test_retention_prunes_aged_rows_of_finished_runs_only(small_sis, sandbox):
    airflow_style_run(small_sis, "first__2025")
    age(small_sis, "first__2025", 300)
    airflow_style_run(small_sis, "a__2025", resync=True)
    age(small_sis, "a__2025", 200)
    airflow_style_run(small_sis, "b__2025", resync=True)  # its stage replaces a's; a's ODS rows stay
    age(small_sis, "b__2025", 100)
    airflow_style_run(small_sis, "c__2025", resources=("students",))
    # A run still going (a task of it could be running) keeps everything, however old.
    sql(small_sis, "INSERT INTO edfi_sync.sync_run (run_id, end_year, started_at) VALUES ('d__2025', 2025, "
                   "now() - interval '50 days')")
    sql(small_sis, "INSERT INTO edfi_sync.staged_record (run_id, end_year, resource, seq, sis_object_key) "
                   "VALUES ('d__2025', 2025, 'schools', 1, '10')")
    assert run_ids(small_sis, "ods_record") == {"a__2025", "b__2025"}
    assert run_ids(small_sis, "staged_record") == {"b__2025", "c__2025", "d__2025"}
    errors = sql(small_sis, "SELECT error_id FROM edfi_sync.error_log ORDER BY error_id")
    assert len(errors) >= 3
    old_resolved, young_resolved, old_archived = (row[0] for row in errors[:3])
    sql(small_sis, "UPDATE edfi_sync.error_log SET created_at = now() - interval '300 days'")
    for error_id, reason, days in ((old_resolved, "sent", 200), (young_resolved, "gone", 10),
                                   (old_archived, "archived", 200)):
        sql(small_sis, "UPDATE edfi_sync.error_log SET resolved = true, resolved_reason = %s, "
                       "resolved_at = now() - make_interval(days => %s) WHERE error_id = %s", reason, days, error_id)
    identity_map = sql(small_sis, "SELECT * FROM edfi_sync.identity_map ORDER BY 1, 2, 3")
    snapshots = sql(small_sis, "SELECT count(*) FROM edfi_sync.mapping_snapshot")

    pruned = Retention(small_sis, RetentionPolicy(batch_rows=7)).prune_database()

    assert run_ids(small_sis, "staged_record") == {"c__2025", "d__2025"}
    assert run_ids(small_sis, "ods_record") == set()
    # first's and a's ledger go; b holds the latest post of every resource but students (reconciliation reads it).
    assert run_ids(small_sis, "sync_run") == {"b__2025", "c__2025", "d__2025"}
    assert run_ids(small_sis, "resource_run") == {"b__2025", "c__2025"}
    remaining = {row[0] for row in sql(small_sis, "SELECT error_id FROM edfi_sync.error_log")}
    # Every open error stays, and an archived one (it keeps a known error from opening again).
    assert remaining == {e[0] for e in errors} - {old_resolved}
    assert sql(small_sis, "SELECT * FROM edfi_sync.identity_map ORDER BY 1, 2, 3") == identity_map
    assert sql(small_sis, "SELECT count(*) FROM edfi_sync.mapping_snapshot") == snapshots
    stage, runs, resolved = pruned
    assert stage.batches > 2 and stage.busy == [] and runs.rows == 2 and resolved.rows == 1


def test_a_step_a_sync_is_running_is_skipped_and_the_sync_is_not_held_up(small_sis, sandbox):
    airflow_style_run(small_sis, "first__2025")
    airflow_style_run(small_sis, "a__2025", resync=True)
    age(small_sis, "a__2025", 30)
    assert (YEAR, SSA) in {tuple(row) for row in sql(small_sis, "SELECT DISTINCT end_year, resource "
                                                                "FROM edfi_sync.ods_record")}
    # A resync of the SSAs whose ODS reads are slow: it holds the SSA step lock for seconds.
    sandbox.set_faults(latency_ms=1000, paths=f"^/data/v3/ed-fi/{SSA}", methods=["GET"])
    outcome: dict = {}

    def resync() -> None:
        with YearSync(YEAR, SyncOptions(resources=(SSA,), resync=True), conninfo=small_sis) as run:
            outcome["summary"] = run.run()

    thread = threading.Thread(target=resync)
    thread.start()
    with psycopg.connect(small_sis, autocommit=True) as probe:
        while probe.execute(LOCK, (YEAR, SSA)).fetchone()[0]:  # until the sync holds the step lock
            probe.execute(UNLOCK, (YEAR, SSA))
            assert thread.is_alive(), "the sync ended before it took the lock"
        stage = Retention(small_sis).prune_stage()
        still_syncing = thread.is_alive()
    thread.join(60)
    assert still_syncing, "retention waited for the sync"
    assert stage.busy == [f"{YEAR} {SSA}"] and stage.rows > 0  # the other steps' rows went
    assert outcome["summary"].status in ("success", "record_errors")
    assert {row[0] for row in sql(small_sis, "SELECT DISTINCT resource FROM edfi_sync.ods_record")} == {SSA}

    sandbox.clear_faults()
    again = Retention(small_sis).prune_stage()  # the next day: the step is free
    assert again.busy == [] and run_ids(small_sis, "ods_record") == set()
