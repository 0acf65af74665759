"""The Airflow surface of SPEC §6 without running a sync: the DAGs load, their task graph is the
resource dependency graph (whatever resources exist), the plugin folder loads cleanly, the DAG
file stays light, the school-year timetable and the Params behave.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

import pytest

from edfi_sync.resources import RESOURCES

REPO = Path(__file__).resolve().parents[1]
DAG_IDS = {"edfi_sync", "edfi_sync_school_year"}


@pytest.fixture(scope="module")
def dagbag():
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(REPO / "dags"))


def upstream_closure(name: str) -> set[str]:
    """Every resource ``name`` depends on, directly or not (from the definitions alone)."""
    seen: set[str] = set()
    frontier = list(RESOURCES[name].upstream)
    while frontier:
        parent = frontier.pop()
        if parent not in seen:
            seen.add(parent)
            frontier.extend(RESOURCES[parent].upstream)
    return seen


def ancestors(dag, task_id: str) -> set[str]:
    return {t.task_id for t in dag.get_task(task_id).get_flat_relatives(upstream=True)}


def test_dagbag_loads_both_dags_with_no_import_errors(dagbag):
    assert dagbag.import_errors == {}
    assert DAG_IDS <= set(dagbag.dags)


@pytest.mark.parametrize("dag_id", sorted(DAG_IDS))
def test_task_graph_is_the_resource_dependency_graph(dagbag, dag_id):
    dag = dagbag.dags[dag_id]
    names = set(RESOURCES)
    deletable = {n for n in names if RESOURCES[n].deletable}
    updated = {n for n in names if RESOURCES[n].updates_after}
    assert {t.task_id for t in dag.tasks} == ({f"post.{n}" for n in names} | {f"update.{n}" for n in updated}
                                             | {f"delete.{n}" for n in deletable} | {"posts_done", "preflight"})
    for task in dag.tasks:
        if task.task_id not in ("posts_done", "preflight"):
            assert task.task_group.group_id == task.task_id.split(".")[0]
    # SPEC §6.1: preflight is the first task, before every other.
    assert dag.get_task("preflight").upstream_task_ids == set()
    assert all("preflight" in ancestors(dag, t.task_id) for t in dag.tasks if t.task_id != "preflight")

    for name in names:
        closure = upstream_closure(name)
        # POSTs: parents before children, and nothing else orders them (independent ones run in parallel).
        post_before = {a.split(".", 1)[1] for a in ancestors(dag, f"post.{name}") if a.startswith("post.")}
        assert post_before == closure, name
        direct = {t.split(".", 1)[1] for t in dag.get_task(f"post.{name}").upstream_task_ids - {"preflight"}}
        assert direct == set(RESOURCES[name].upstream), name
        # DELETEs: children before parents, only along the dependency graph.
        if name in deletable:
            delete_before = {a.split(".", 1)[1] for a in ancestors(dag, f"delete.{name}") if a.startswith("delete.")}
            assert delete_before == {child for child in deletable if name in upstream_closure(child)}, name
            # Its own post (or update) directly: a rerun that clears only this resource keeps the order.
            own = f"update.{name}" if name in updated else f"post.{name}"
            assert own in dag.get_task(f"delete.{name}").upstream_task_ids, name
            # ... and only once every post and update has run (a key change posts the new record first).
            assert {t.task_id for t in dag.tasks if not t.task_id.startswith("delete.")} <= ancestors(
                dag, f"delete.{name}")
    for name in updated:
        waits = set(RESOURCES[name].updates_after) | {name}
        assert {f"post.{n}" for n in waits} <= ancestors(dag, f"update.{name}")


@pytest.mark.parametrize("dag_id", sorted(DAG_IDS))
def test_posts_done_joins_the_post_and_delete_phases_with_few_edges(dagbag, dag_id):
    """The graph reads like the dependency diagram: the deletes wait for one join task, not for
    every last post; the only other edges across are each resource's own post -> delete (a rerun
    that clears just that resource keeps post before delete)."""
    dag = dagbag.dags[dag_id]
    join = dag.get_task("posts_done")
    assert join.task_type == "EmptyOperator"  # no Ed-Fi work
    phase = {t.task_id: t.task_id.split(".")[0] for t in dag.tasks}
    assert {t for t in ancestors(dag, "posts_done")} == {t for t, p in phase.items()
                                                         if p in ("post", "update", "preflight")}
    crossing = [(up, task.task_id) for task in dag.tasks for up in task.upstream_task_ids
                if phase[up] in ("post", "update") and phase[task.task_id] == "delete"]
    assert all(up.split(".", 1)[1] == down.split(".", 1)[1] for up, down in crossing), crossing
    first_deletes = {t.task_id for t in dag.tasks if phase[t.task_id] == "delete"
                     and not any(phase[u] == "delete" for u in t.upstream_task_ids)}
    assert join.downstream_task_ids == first_deletes


def test_dag_settings_params_and_schedule(dagbag):
    from edfi_sync.timetables import SchoolYearTimetable

    incremental, yearly = dagbag.dags["edfi_sync"], dagbag.dags["edfi_sync_school_year"]
    for dag in (incremental, yearly):
        assert dag.max_active_runs == 1 and dag.catchup is False
    assert set(incremental.params) == {"school_years", "resources", "resync", "schools", "dry_run",
                                       "fail_on_record_errors", "preflight", "records"}
    assert incremental.params["preflight"] is True
    # every run is a full resync, of every record
    assert set(yearly.params) == set(incremental.params) - {"resync", "records"}
    assert incremental.params["resources"] == [] and incremental.params["schools"] == "all"
    assert incremental.schedule == "*/30 * * * *"
    assert isinstance(yearly.timetable, SchoolYearTimetable)
    post = incremental.get_task("post.students")
    assert [a.uri for a in post.outlets] == ["edfi://ods/ed-fi/students"]
    assert incremental.get_task("delete.schools").outlets == []


def test_the_delete_tool_dag_is_one_task_driven_by_its_conf(dagbag):
    dag = dagbag.dags["edfi_delete"]
    assert [t.task_id for t in dag.tasks] == ["delete_tool"] and dag.schedule is None
    assert set(dag.params) == {"school_year", "targets", "plan"}
    assert dag.is_paused_upon_creation is False  # triggered by its page only; nothing scheduled
    assert dag.get_task("delete_tool").retries == 0  # a plan runs once


def test_schedule_comes_from_edfi_sync_schedule(monkeypatch):
    from edfi_sync.dag_factory import incremental_dag

    monkeypatch.setenv("EDFI_SYNC_SCHEDULE", "0 * * * *")
    assert incremental_dag().schedule == "0 * * * *"


def test_edfi_sync_schedule_none_leaves_only_triggered_runs(monkeypatch):
    from edfi_sync.dag_factory import incremental_dag

    monkeypatch.setenv("EDFI_SYNC_SCHEDULE", "none")  # the demo's: its summary is the run it triggered
    assert incremental_dag().schedule is None


@pytest.mark.parametrize("factory", ["incremental_dag", "school_year_dag"])
def test_edfi_sync_partitions_maps_the_student_level_posts(monkeypatch, dagbag, factory):
    """EDFI_SYNC_PARTITIONS=4 (read at parse time): post.<student-level resource> mapped over
    partitions 0..3 with the same task id and edges, and posts_done merges their summaries; nothing
    else changes (SPEC §6.1)."""
    import edfi_sync.dag_factory as dag_factory
    from airflow.providers.standard.operators.empty import EmptyOperator
    from airflow.sdk.definitions.mappedoperator import MappedOperator

    from edfi_sync.operators.sync import EdFiPostsDoneOperator

    monkeypatch.setenv("EDFI_SYNC_PARTITIONS", "4")
    dag = getattr(dag_factory, factory)()
    plain = dagbag.dags[dag.dag_id]
    assert {t.task_id for t in dag.tasks} == {t.task_id for t in plain.tasks}
    for task in dag.tasks:
        assert task.upstream_task_ids == plain.get_task(task.task_id).upstream_task_ids, task.task_id
        phase, _, name = task.task_id.partition(".")
        mapped = phase == "post" and RESOURCES[name].level == "student"
        assert isinstance(task, MappedOperator) == mapped, task.task_id
        if mapped:
            assert task.expand_input.value == {"partition": [0, 1, 2, 3]}
            assert task.partial_kwargs["partitions"] == 4
    assert not any(isinstance(t, MappedOperator) for t in plain.tasks)  # default 1: today's graph exactly
    assert isinstance(dag.get_task("posts_done"), EdFiPostsDoneOperator)
    assert isinstance(plain.get_task("posts_done"), EmptyOperator)
    for bad in ("0", "two"):
        monkeypatch.setenv("EDFI_SYNC_PARTITIONS", bad)
        with pytest.raises(ValueError, match="EDFI_SYNC_PARTITIONS"):
            getattr(dag_factory, factory)()


def test_school_year_dag_serializes_with_its_registered_timetable(dagbag):
    from airflow.serialization.serialized_objects import DagSerialization

    restored = DagSerialization.from_dict(DagSerialization.to_dict(dagbag.dags["edfi_sync_school_year"]))
    assert restored.timetable.summary == "school year (Jul 1 - Jul 1)"


def _python(code: str, **env: str) -> dict:
    """Run ``code`` in a fresh interpreter (nothing imported yet); it prints one JSON object."""
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                            env={**os.environ, **env}, cwd=REPO)
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_plugins_folder_as_compose_mounts_it_loads_with_no_import_errors():
    out = _python(
        "import json, sys\n"
        "from airflow import plugins_manager\n"
        "plugins, errors = plugins_manager._get_plugins()\n"
        "print(json.dumps({'errors': errors, 'plugins': {p.name: [t.__name__ for t in p.timetables] for p in plugins},"
        " 'bare': sorted(m for m in ('config', 'errors', 'db', 'app', 'cli', 'runner', 'store') if m in sys.modules)}))",
        AIRFLOW__CORE__PLUGINS_FOLDER=str(REPO / "plugins"))
    assert out["errors"] == {}
    assert out["plugins"]["edfi_sync"] == ["SchoolYearTimetable"]
    assert out["bare"] == []  # none of the package's modules under a bare, shadowing name


def test_dag_file_imports_the_resource_registry_and_nothing_heavier():
    out = _python(
        "import json, sys, time, importlib.util\n"
        "import airflow.sdk\n"
        "before = set(sys.modules)\n"
        "started = time.perf_counter()\n"
        "spec = importlib.util.spec_from_file_location('edfi_sync_dags', 'dags/edfi_sync_dags.py')\n"
        "spec.loader.exec_module(importlib.util.module_from_spec(spec))\n"
        "elapsed = time.perf_counter() - started\n"
        "print(json.dumps({'seconds': elapsed, 'new': sorted(set(sys.modules) - before)}))")
    heavy = [m for m in out["new"] if m.split(".")[0] in ("psycopg", "psycopg2", "pandas", "aiohttp", "httpx")
             or m.startswith(("edfi_sync.engine", "edfi_sync.hooks", "edfi_sync.sandbox", "edfi_sync.db"))]
    assert heavy == []
    assert "edfi_sync.resources" in out["new"]
    print(f"\nDAG file parse time beyond importing Airflow: {out['seconds']:.3f}s")
    assert out["seconds"] < 5


def _utc(*args) -> datetime:
    return datetime(*args, tzinfo=timezone.utc)


def test_school_year_timetable_intervals_and_catchup_false_after_a_backfill():
    from airflow.timetables.base import DataInterval, TimeRestriction

    from edfi_sync.timetables import SchoolYearTimetable

    timetable = SchoolYearTimetable()
    manual = timetable.infer_manual_data_interval(run_after=_utc(2025, 3, 1))
    assert (manual.start, manual.end) == (_utc(2024, 7, 1), _utc(2025, 7, 1))
    assert timetable.infer_manual_data_interval(run_after=_utc(2025, 7, 1)).start == _utc(2025, 7, 1)

    catchup = TimeRestriction(earliest=_utc(2020, 9, 1), latest=None, catchup=True)
    first = timetable.next_dagrun_info(last_automated_data_interval=None, restriction=catchup)
    assert (first.data_interval.start, first.data_interval.end) == (_utc(2021, 7, 1), _utc(2022, 7, 1))
    following = timetable.next_dagrun_info(last_automated_data_interval=first.data_interval, restriction=catchup)
    assert following.data_interval.start == _utc(2022, 7, 1)

    # catchup=False: after a backfill of SY 2021-22 the next run is the latest complete year, not 2022-23.
    now = datetime.now(timezone.utc)
    current = _utc(now.year if now.month >= 7 else now.year - 1, 7, 1)
    latest_complete = current.replace(year=current.year - 1)
    no_catchup = TimeRestriction(earliest=_utc(2015, 7, 1), latest=None, catchup=False)
    backfilled = DataInterval(_utc(2021, 7, 1), _utc(2022, 7, 1))
    for last in (None, backfilled):
        info = timetable.next_dagrun_info(last_automated_data_interval=last, restriction=no_catchup)
        assert info.data_interval.start == latest_complete


def test_params_accept_the_forms_of_the_trigger_form_conf_and_templates():
    from edfi_sync.connections import as_bool
    from edfi_sync.operators.sync import resource_names, school_ids, school_years

    assert school_ids("all") is None and school_ids(None) is None and school_ids(["ALL"]) is None
    assert school_ids("350010001, 350010002") == ("350010001", "350010002")
    assert school_ids([350010001]) == ("350010001",)
    assert school_years([2026, "2025", 2025]) == [2025, 2026] and school_years("") == []
    assert school_years("[2025]") == [2025]
    assert resource_names(["students"]) == ("students",)
    with pytest.raises(ValueError, match="unknown resources"):
        resource_names(["nope"])
    assert as_bool(None) is None and as_bool("true") is True and as_bool(False) is False


def test_a_task_reads_the_sis_from_the_edfi_sis_connection_never_an_embedded_server(monkeypatch):
    from edfi_sync.hooks.sis import SisDatabaseHook

    monkeypatch.setenv("AIRFLOW_CONN_EDFI_SIS", json.dumps(
        {"conn_type": "postgres", "host": "/run/sis", "login": "sync", "password": "pw", "schema": "district"}))
    assert SisDatabaseHook().conninfo() == "host=/run/sis user=sync password=pw dbname=district"
    monkeypatch.delenv("AIRFLOW_CONN_EDFI_SIS")
    with pytest.raises(Exception, match="edfi_sis"):
        SisDatabaseHook().conninfo()


def test_maintenance_dag_prunes_daily_stage_before_the_ledger(dagbag):
    dag = dagbag.dags["edfi_sync_maintenance"]
    assert dag.schedule == "@daily" and dag.max_active_runs == 1
    assert {t.task_id for t in dag.tasks} == {"prune_stage", "prune_runs", "prune_errors", "prune_xcom_files"}
    assert dag.get_task("prune_runs").upstream_task_ids == {"prune_stage"}
