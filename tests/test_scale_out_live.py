"""Scale-out on Airflow's own executors (SPEC §6.1): the edfi_sync DAG parsed with
EDFI_SYNC_PARTITIONS=2 (post.<student-level resource> mapped over two partitions) on a LocalExecutor
with parallelism 4, and on the CeleryExecutor with Debian's redis-server as the broker and two
workers. Each needs its own Airflow (a parse-time environment the session's `live_airflow` lacks),
started and stopped by its test. Lean, since an Airflow task costs seconds on 2 cores: one DAG run
each, limited to the students and their SSAs (and their parents), at demo scale 2; the reference is
one unpartitioned `edfi-sync sync` of the same resources. The run's ODS and identity map equal the
reference's, record by record; the partitions overlapped; one budget held; posts_done merged the
partitions. Partition correctness that needs no Airflow is tested in tests/test_partitions.py.
"""

from __future__ import annotations

import os
import subprocess
import uuid
from datetime import datetime
from urllib.parse import quote

import pytest

from databases import create_database, drop_database
from e2e_helpers import CLI, api_env, assert_same_outcome, demo_sandbox, outcome, sql, writes
from edfi_sync.connections import postgres_airflow_json
from edfi_sync.resources import RESOURCES
from live_airflow import start_live_airflow

pytestmark = pytest.mark.e2e

SCALE = 2
# Two partitions: every partition of every student-level resource, selected or not, is a task that
# costs seconds on 2 cores (four partitions sending at once are tested in tests/test_partitions.py).
PARTITIONS = 2
BUDGET = 8  # the connection's default max_in_flight
SSA = "studentSchoolAssociations"
# What partitioning concerns (students and their SSAs, both partitioned) and their parents.
SELECTED = ["localEducationAgencies", "schools", "students", SSA]


@pytest.fixture(scope="module")
def unpartitioned(pg_admin_conninfo, migrated_template, tmp_path_factory):
    """What `edfi-sync sync` (unpartitioned) leaves for the same demo data: the reference."""
    name = f"edfi_sync_ref_{uuid.uuid4().hex[:8]}"
    conninfo = create_database(pg_admin_conninfo, name, migrated_template)
    descriptors = tmp_path_factory.mktemp("reference") / "descriptors.json"
    env = {**os.environ, "AIRFLOW_CONN_EDFI_SIS": postgres_airflow_json(conninfo)}
    try:
        subprocess.run([*CLI, "demo-data", "--scale", str(SCALE), "--descriptors-out", str(descriptors)],
                       env=env, check=True, capture_output=True, timeout=120)
        with demo_sandbox(descriptors) as server:
            subprocess.run([*CLI, "sync", "--school-year", "2025", *(f"--resource={name}" for name in SELECTED)],
                           check=True, capture_output=True, timeout=300,
                           env={**api_env(server), "AIRFLOW_CONN_EDFI_SIS": env["AIRFLOW_CONN_EDFI_SIS"]})
            yield outcome(conninfo, server)
    finally:
        drop_database(pg_admin_conninfo, name)


def task_instances(live, run_id: str) -> list[dict]:
    return live.api("GET", f"/dags/edfi_sync/dagRuns/{quote(run_id, safe='')}/taskInstances",
                    params={"limit": 1000})["task_instances"]


def overlapping(instances: list[dict]) -> bool:
    """Every partition of the step was running at one moment."""
    spans = [(datetime.fromisoformat(ti["start_date"]), datetime.fromisoformat(ti["end_date"])) for ti in instances]
    return max(start for start, _ in spans) < min(end for _, end in spans)


@pytest.mark.parametrize("executor", ["LocalExecutor", "CeleryExecutor"])
def test_a_partitioned_dag_run_equals_an_unpartitioned_sync(executor, unpartitioned, pg_admin_conninfo,
                                                            migrated_template, tmp_path):
    with start_live_airflow(pg_admin_conninfo, migrated_template, tmp_path, uuid.uuid4().hex[:8], executor=executor,
                            environment={"EDFI_SYNC_PARTITIONS": str(PARTITIONS), "EDFI_SYNC_SCHEDULE": "none"}) as live:
        live.load(None, demo_scale=SCALE)
        # The preflight (tested elsewhere) is its own task's seconds: not here.
        run_id = live.run({"school_years": [2025], "resources": SELECTED, "preflight": False}, timeout=600)
        assert_same_outcome(outcome(live.sis, live.sandbox), unpartitioned)

        instances = task_instances(live, run_id)
        posts: dict[str, list[dict]] = {}
        for ti in instances:
            assert ti["state"] == "success", ti
            if ti["task_id"].startswith("post."):
                posts.setdefault(ti["task_id"].split(".", 1)[1], []).append(ti)
        for name, tis in posts.items():
            want = list(range(PARTITIONS)) if RESOURCES[name].partitioned else [-1]
            assert sorted(ti["map_index"] for ti in tis) == want, name
        assert overlapping(posts["students"]) or overlapping(posts[SSA])
        # One budget for the connection across every task running at once.
        assert max(e["in_flight"] for e in live.sandbox.requests() if e["path"].startswith("/data/")) <= BUDGET
        # posts_done merges every partitioned post step, students (no delete task) included.
        merged = live.summary(run_id, "posts_done")["years"][0]["post"]
        for name in (SSA, "students"):
            assert merged[name]["partitions"] == PARTITIONS and len(merged[name]["by_partition"]) == PARTITIONS
            assert merged[name]["counts"]["POST.ok"] == len(live.sandbox.records(name)), name
        if executor == "CeleryExecutor":  # both workers took tasks
            for n in (1, 2):
                assert " received" in (live.logs / f"celery-worker-{n}.log").read_text(errors="replace"), n
        else:
            clear_one_partition(live, run_id)


def clear_one_partition(live, run_id: str) -> None:
    """Clearing one map index reruns that partition alone, and it sends only its students'
    records: here those whose map rows were lost (POSTed again: the ODS answers 200, same id)."""
    lost = sql(live.sis, "DELETE FROM edfi_sync.identity_map WHERE resource = %s "
                         "AND edfi_sync.student_partition(student_unique_id, %s) = 1 RETURNING edfi_id",
               SSA, PARTITIONS)
    since = live.sandbox.requests()[-1]["seq"]
    live.api("POST", "/dags/edfi_sync/clearTaskInstances", json={
        "dry_run": False, "dag_run_id": run_id, "task_ids": [[f"post.{SSA}", 1]], "only_failed": False})
    assert live.wait_run(run_id, 300) == "success"
    resent = writes(live.sandbox, since)
    assert lost and sorted((w["method"], w["status"]) for w in resent) == [("POST", 200)] * len(lost)
    ids = {record["id"] for record in live.sandbox.records(SSA)}
    assert {row[0] for row in lost} <= ids
    tries = {(ti["task_id"], ti["map_index"]): ti["try_number"] for ti in task_instances(live, run_id)}
    assert tries[(f"post.{SSA}", 1)] == 2
    assert {key for key, tried in tries.items() if tried > 1} == {(f"post.{SSA}", 1)}
