"""SPEC §6.1 "Runs end honestly": a CLI run holds the advisory lock edfi_sync:run:<run_id> for its
life, and one whose lock is free while the ledger still says 'running' is abandoned; an Airflow run
is closed by its DAG run's end. Never by age, and the delete guard stays sound.

Fixture tests/fixtures/sync_small.sql (year 2025: 3 SSAs reach the ODS); the sandbox over HTTP.
"""

from __future__ import annotations

import os
import signal

import pytest

from e2e_helpers import YEAR, kill_hard, sql, start_sync, sync, wait_while_running
from edfi_sync.engine.runner import SyncOptions, YearSync, close_dag_run, plan
from edfi_sync.resources.graph import Step
from reliability import run_lock_free, wait_for_run_lock

pytestmark = pytest.mark.e2e

SSA = "studentSchoolAssociations"


def ledger(conninfo: str, run_id: str) -> tuple[str, dict[str, str]]:
    status = sql(conninfo, "SELECT status FROM edfi_sync.sync_run WHERE run_id = %s", run_id)[0][0]
    steps = dict(sql(conninfo, "SELECT phase || '.' || resource, status FROM edfi_sync.resource_run "
                               "WHERE run_id = %s", run_id))
    return status, steps


def staged(conninfo: str, run_id: str) -> int:
    return sql(conninfo, "SELECT count(*) FROM edfi_sync.staged_record WHERE run_id = %s", run_id)[0][0]


def test_a_killed_cli_run_is_abandoned_once_its_lock_is_free_and_its_stage_goes(small_sis, sandbox):
    sandbox.set_faults(latency_ms=400, methods=["POST"])  # a run slow enough to kill amid a step
    proc = start_sync(dict(os.environ))
    try:
        wait_while_running(proc, lambda: sql(small_sis, "SELECT run_id FROM edfi_sync.resource_run WHERE "
                                                        "status = 'running' AND phase = 'post' AND resource = 'students'"),
                           "post.students", every=0.02)
        [(run_id,)] = sql(small_sis, "SELECT run_id FROM edfi_sync.sync_run")
        # Alive, it holds its lock: a run beginning now leaves it running.
        assert not run_lock_free(small_sis, run_id)
        with YearSync(YEAR, SyncOptions(dry_run=True), conninfo=small_sis) as other:
            other.begin()
        assert ledger(small_sis, run_id)[0] == "running"
        proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=30)
    finally:
        kill_hard(proc)
    sandbox.clear_faults()
    wait_for_run_lock(small_sis, run_id)
    assert ledger(small_sis, run_id)[0] == "running" and staged(small_sis, run_id) > 0

    summary = sync(small_sis)

    status, steps = ledger(small_sis, run_id)
    assert status == "abandoned"
    assert steps["post.students"] == "abandoned" and steps["post.localEducationAgencies"] == "done"
    assert staged(small_sis, run_id) == 0  # the next run of each resource cleared the dead run's rows
    assert summary.status == "record_errors" and ledger(small_sis, summary.run_id)[0] == "record_errors"
    assert not sql(small_sis, "SELECT run_id FROM edfi_sync.sync_run WHERE status = 'running'")


def test_a_live_run_keeps_its_stage_whatever_its_age_and_its_delete_step_still_runs(small_sis, sandbox):
    sync(small_sis)
    with YearSync(YEAR, conninfo=small_sis) as slow:
        slow.begin()
        slow.run_step(Step("post", SSA))
        # Started two days ago and still going: no age makes it over (the old rule: "stuck for a day").
        sql(small_sis, "UPDATE edfi_sync.sync_run SET started_at = now() - interval '2 days' WHERE run_id = %s",
            slow.run_id)
        rows = staged(small_sis, slow.run_id)
        sql(small_sis, "DELETE FROM sis.enrollment WHERE enrollment_id = 1002")
        other = sync(small_sis)  # stages SSAs too, and deletes the enrollment's SSA
        assert other.by_resource()[SSA]["DELETE.ok"] == 1
        assert staged(small_sis, slow.run_id) == rows and ledger(small_sis, slow.run_id)[0] == "running"
        sandbox.clear_requests()
        result = slow.run_step(Step("delete", SSA))  # its stage is whole: the guard lets it run
        assert dict(result.counts) == {}  # the other run already deleted it; what it sent since is not touched
        assert not [r for r in sandbox.requests() if r["method"] == "DELETE"]
        slow.finish([result])
    assert ledger(small_sis, slow.run_id)[0] == "success" and staged(small_sis, slow.run_id) == 0


def test_an_airflow_run_is_closed_by_its_dag_runs_end_never_by_another_run(small_sis, sandbox):
    dag_run_id = "manual__2026-01-05T00:00:00+00:00"
    run_id = f"{dag_run_id}__{YEAR}"

    def task(step: Step):
        """What a task does: one step in the run of its DAG run (SyncOptions: every resource)."""
        with YearSync(YEAR, run_id=run_id, conninfo=small_sis, origin="airflow", dag_id="edfi_sync",
                      dag_run_id=dag_run_id, task_id=step.task_id) as run:
            run.begin()
            run.run_step(step)
            return run.finish_if_complete()

    assert task(Step("post", "localEducationAgencies")) is None  # steps left: the run stays open
    # A task killed amid its step leaves the step open.
    sql(small_sis, "INSERT INTO edfi_sync.resource_run (run_id, end_year, resource, phase) "
                   "VALUES (%s, %s, 'schools', 'post')", run_id, YEAR)
    sync(small_sis)  # a CLI run meanwhile: an Airflow run holds no run lock and is not its to abandon
    assert ledger(small_sis, run_id)[0] == "running"

    # The DAG run failed (the killed task was not retried): its callback closes the run.
    [summary] = close_dag_run(small_sis, dag_run_id, failed=True)
    assert summary.run_id == run_id and summary.status == "failed"
    status, steps = ledger(small_sis, run_id)
    assert status == "failed" and steps == {"post.localEducationAgencies": "done", "post.schools": "abandoned"}
    assert sql(small_sis, "SELECT summary -> 'resources' ? 'localEducationAgencies' FROM edfi_sync.sync_run "
                          "WHERE run_id = %s", run_id) == [(True,)]
    assert close_dag_run(small_sis, dag_run_id, failed=True) == []  # closed once

    # A cleared task opens it again; once every step finished, its last task closes it.
    for step in plan(SyncOptions()):
        closed = task(step)
    assert closed is not None and ledger(small_sis, run_id)[0] == closed.status == "record_errors"
    assert close_dag_run(small_sis, dag_run_id, failed=False) == []
