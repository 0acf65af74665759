"""Student partitions of the post steps (SPEC §6.1), at the engine level: `edfi-sync sync --partitions
N` runs each student-level post step in N processes, as the mapped Airflow tasks do; the
outcome equals an unpartitioned run's record by record; the delete step refuses a missing
partition; a killed partition converges on its rerun, which sends only its own students' records;
four partitions sending stay within one in-flight budget.
"""

from __future__ import annotations

import multiprocessing
import signal
import time
import uuid

import psycopg
import pytest

from e2e_helpers import (YEAR, api_env, assert_converged, assert_same_outcome, demo_sandbox, finish, load_demo,
                         outcome, run_sync, sql, start_sync, writes)
from edfi_sync.engine.partitions import Partition, merged_post
from edfi_sync.engine.runner import SyncOptions, YearSync, plan
from edfi_sync.engine.steps import StageIncomplete, post_partitions
from edfi_sync.engine.workers import post_partition
from edfi_sync.connections import postgres_airflow_json
from edfi_sync.resources import RESOURCES
from edfi_sync.resources.graph import Step
from databases import create_database, drop_database

pytestmark = pytest.mark.e2e

SCALE = 0.5  # engine level: small; the live Airflow tests run demo scale 2
PARTITIONS = 4
BUDGET = 8
PARTITIONED = [name for name, d in RESOURCES.items() if d.partitioned]


@pytest.fixture(scope="module")
def descriptors(tmp_path_factory):
    return tmp_path_factory.mktemp("partitions") / "descriptors.json"


def test_a_partitioned_sync_equals_an_unpartitioned_one_within_one_budget(
        sis_db, pg_admin_conninfo, migrated_template, descriptors, monkeypatch):
    load_demo(SCALE, descriptors)
    with demo_sandbox(descriptors) as reference:
        run_sync(api_env(reference))
        want = outcome(sis_db, reference)

    name = f"edfi_sync_parts_{uuid.uuid4().hex[:8]}"
    conninfo = create_database(pg_admin_conninfo, name, migrated_template)
    try:
        monkeypatch.setenv("AIRFLOW_CONN_EDFI_SIS", postgres_airflow_json(conninfo))
        load_demo(SCALE, descriptors)
        with demo_sandbox(descriptors) as server:
            server.set_faults(latency_ms=20)
            code, out, err = finish(start_sync(api_env(server, BUDGET), "--partitions", str(PARTITIONS)), 180)
            assert code == 0, err[-3000:]
            log = server.requests()
            server.clear_faults()
            assert_same_outcome(outcome(conninfo, server), want)
            assert_converged(conninfo, server)

            # A partition's extract holds only its students' rows: its memo pruning leaves the other
            # partitions' entries alone, so a second partitioned run rebuilds nothing it remembered
            # (no entry deleted and written again: each keeps the transaction that wrote it).
            memo = ("SELECT resource, source_digest, item, xmin::text FROM edfi_sync.stage_memo "
                    "WHERE resource = ANY(%s)")
            remembered = set(sql(conninfo, memo, PARTITIONED))
            assert {row[0] for row in remembered} >= {"students", "studentSchoolAssociations"}
            code, _, err = finish(start_sync(api_env(server, BUDGET), "--partitions", str(PARTITIONS)), 180)
            assert code == 0, err[-3000:]
            assert set(sql(conninfo, memo, PARTITIONED)) == remembered

        # Every student-level post step ran as four partitions that overlapped in time; the
        # others whole; the run closed.
        first = "(SELECT run_id FROM edfi_sync.sync_run ORDER BY started_at LIMIT 1)"  # not the check's dry run
        ledger = sql(conninfo, "SELECT resource, partition, partitions, started_at, finished_at "
                               f"FROM edfi_sync.resource_run WHERE phase = 'post' AND run_id = {first}")
        spans = {}
        for resource, index, count, started, finished in ledger:
            assert count == (PARTITIONS if resource in PARTITIONED else 1), resource
            spans.setdefault(resource, []).append((started, finished))
        overlapping = [r for r in PARTITIONED
                       if max(s for s, _ in spans[r]) < min(f for _, f in spans[r])]
        assert overlapping, "no partitioned step had all its partitions running at once"
        assert sql(conninfo, f"SELECT status FROM edfi_sync.sync_run WHERE run_id = {first}")[0][0] == "record_errors"
        assert "studentSchoolAssociations" in out  # the summary merges the partitions

        # One budget: while four partitions sent, the server never had more than BUDGET in flight.
        busy = [e for e in log if e["path"].startswith("/data/")]
        assert max(e["in_flight"] for e in busy) <= BUDGET
        assert max(e["in_flight"] for e in busy) == BUDGET

    finally:
        drop_database(pg_admin_conninfo, name)


def run_steps(run: YearSync, steps: list[Step], skip: set[int] = frozenset()) -> None:
    """Steps of the plan in order, each student-level post in PARTITIONS partitions (but ``skip``)."""
    for step in steps:
        if step.phase == "post" and RESOURCES[step.resource].partitioned:
            for index in set(range(PARTITIONS)) - skip:
                run.run_step(step, Partition(index, PARTITIONS))
        else:
            run.run_step(step)


def until(steps: list[Step], last: Step) -> tuple[list[Step], list[Step]]:
    """The plan before ``last``, and after it."""
    return steps[:steps.index(last)], steps[steps.index(last) + 1:]


def use(server, monkeypatch) -> dict[str, str]:
    """The sandbox as the Ed-Fi connection of this process and of the worker processes it spawns."""
    env = api_env(server, BUDGET)
    monkeypatch.setenv("AIRFLOW_CONN_EDFI_API", env["AIRFLOW_CONN_EDFI_API"])
    return env


def test_the_delete_step_refuses_while_a_partition_stage_is_missing(sis_db, descriptors, monkeypatch):
    load_demo(SCALE, descriptors)
    ssa = "studentSchoolAssociations"
    with demo_sandbox(descriptors) as server, YearSync(YEAR, SyncOptions(), conninfo=sis_db) as run:
        use(server, monkeypatch)
        run.begin()
        before, _ = until(plan(run.options), Step("post", ssa))
        run_steps(run, before)
        run_steps(run, [Step("post", ssa)], skip={3})
        with pytest.raises(StageIncomplete, match=r"post.studentSchoolAssociations \(partition 3 of 4\) .* did "
                                                  r"not run; nothing was deleted"):
            run.run_step(Step("delete", ssa))
        run.run_step(Step("post", ssa), Partition(3, PARTITIONS))
        # A partition's stage lost (the unlogged table, or cleared): refused too, naming it.
        sql(sis_db, "DELETE FROM edfi_sync.staged_record WHERE resource = %s AND partition = 1", ssa)
        with pytest.raises(StageIncomplete, match=r"\(partition 1 of 4\) .* records but 0 are left"):
            run.run_step(Step("delete", ssa))
        assert not [w for w in writes(server) if w["method"] == "DELETE"]
        run.run_step(Step("post", ssa), Partition(1, PARTITIONS))
        assert run.run_step(Step("delete", ssa)).status == "done"
        assert merged_post(post_partitions(run.conn, run.run_id, ssa))["partitions"] == PARTITIONS


def test_a_killed_partition_converges_on_its_rerun_which_sends_only_its_students(sis_db, descriptors, monkeypatch):
    load_demo(SCALE, descriptors)
    ssa = Step("post", "studentSchoolAssociations")
    with demo_sandbox(descriptors) as server:
        code, _, err = finish(start_sync(use(server, monkeypatch), "--partitions", str(PARTITIONS)), 120)
        assert code == 0, err[-2000:]
        # Every entry date a day earlier: each SSA is a PUT (a key change the ODS takes by PUT).
        sql(sis_db, "UPDATE sis.enrollment SET start_date = start_date - 1")
        server.set_faults(latency_ms=20)
        options = SyncOptions()
        run_id = f"kill__{uuid.uuid4().hex[:6]}"
        with YearSync(YEAR, options, run_id=run_id, conninfo=sis_db) as run:
            run.begin()
            before, after = until(plan(options), ssa)
            run_steps(run, before)
            since = server.requests()[-1]["seq"]
            # Partition 2 in a process of its own, as its task would be, killed mid-send (kill -9).
            worker = multiprocessing.get_context("spawn").Process(
                target=post_partition, args=(YEAR, options, run_id, sis_db, run.settings_for, ssa,
                                             Partition(2, PARTITIONS)))
            worker.start()
            try:
                deadline = time.monotonic() + 60
                while len(writes(server, since)) < 20:
                    assert worker.is_alive() and time.monotonic() < deadline, "partition 2 ended before the kill"
                    time.sleep(0.005)
                worker.kill()
            finally:
                worker.join(30)
            assert worker.exitcode == -signal.SIGKILL
            killed = writes(server, since)
            rerun_from = server.requests()[-1]["seq"]
            run.run_step(ssa, Partition(2, PARTITIONS))
            rerun = writes(server, rerun_from)
            # The rerun sent only partition 2's records (what the killed attempt had not recorded):
            # with the killed attempt's, every SSA of partition 2, and no other.
            ids = {row[0]: row[1] for row in sql(sis_db, "SELECT edfi_id, edfi_sync.student_partition("
                                                        "student_unique_id, %s) FROM edfi_sync.identity_map "
                                                        "WHERE resource = %s", PARTITIONS, ssa.resource)}
            sent = [w["path"].rsplit("/", 1)[1] for w in rerun + killed]
            assert rerun and {ids[edfi_id] for edfi_id in sent} == {2}
            assert set(sent) == {edfi_id for edfi_id, index in ids.items() if index == 2}
            run_steps(run, [ssa], skip={2})
            run_steps(run, after)
            assert run.finish_if_complete() is not None
        server.clear_faults()
        assert_converged(sis_db, server)
