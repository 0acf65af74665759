"""The DAGs of SPEC §6, generated from the resource definitions: a resource added to
``edfi_sync.resources`` gets its tasks and edges with no change here.

Task ids are ``post.<resource>``, ``update.<resource>`` and ``delete.<resource>`` (TaskGroups
``post``, ``update``, ``delete``), and ``posts_done``; edges are ``GRAPH.edges()``: POSTs parents ->
children, the update step after what it waits for, ``posts_done`` once every POST has run, then
DELETEs children -> parents. The first task, ``preflight`` (SPEC §6.1), checks against the ODS
that it will accept the run. The DAGs alert on failure, on new record errors and (``edfi_sync``)
past a deadline; a third DAG, ``edfi_sync_maintenance``, is the retention. With
``EDFI_SYNC_PARTITIONS`` N > 1 (read when the file is parsed), ``post.<resource>`` of student-level
resources is mapped over partitions 0..N-1: the same task id, the map index is the partition.
Importing this module loads Airflow's SDK and the resource registry, nothing heavier.
"""

from __future__ import annotations

import os
from datetime import datetime, timedelta, timezone
from typing import Any

from airflow.providers.standard.operators.empty import EmptyOperator
from airflow.sdk import DAG, AsyncCallback, DeadlineAlert, DeadlineReference, Param, TaskGroup

from .alerts.notifier import EdFiSyncNotifier
from .operators.delete import EdFiDeleteToolOperator
from .operators.maintenance import TARGETS, EdFiRetentionOperator
from .operators.preflight import EdFiPreflightOperator
from .operators.sync import OPERATORS, CloseEngineRuns, EdFiPostsDoneOperator
from .resources import GRAPH
from .resources.graph import POSTS_DONE
from .timetables import SchoolYearTimetable

DEFAULT_SCHEDULE = "*/30 * * * *"
MAINTENANCE_SCHEDULE = "@daily"
DEFAULT_DEADLINE_MINUTES = 120
START = datetime(2015, 7, 1, tzinfo=timezone.utc)
GROUP_TOOLTIPS = {
    "post": "POST new and PUT changed records, parents before children",
    "update": "PUT changes that wait for other resources (students after their SSAs)",
    "delete": "DELETE what the SIS no longer yields, children before parents",
}


def sync_params(*, with_resync: bool) -> dict[str, Param]:
    """The trigger form (and ``--conf``) of SPEC §6."""
    params = {
        "school_years": Param([], type="array", items={"type": "integer"}, title="School years",
                              description="end years, e.g. 2025 for 2024-25; empty = every enabled year"
                              + ("" if with_resync else " (else the year of the data interval)")),
        "resources": Param([], type="array", items={"type": "string", "enum": GRAPH.post_order()},
                           title="Resources", description="Ed-Fi resource names; empty = all"),
        "schools": Param("all", type=["string", "array"], title="Schools",
                         description="'all', a list or a comma-separated string of Ed-Fi schoolIds"),
        "dry_run": Param(False, type="boolean", title="Dry run",
                         description="compute and report; send nothing, change no mapping, map or error log"),
        "fail_on_record_errors": Param(None, type=["null", "boolean"], title="Fail on record errors",
                                       description="overrides the Ed-Fi connection's extra when set"),
        "preflight": Param(True, type="boolean", title="Preflight",
                           description="first check against the ODS (a token and GETs only) that it will accept "
                                       "the run; false: the preflight task succeeds without checking"),
    }
    if with_resync:
        params["resync"] = Param(False, type="boolean", title="Resync",
                                 description="also compare with the ODS and repair drift")
        params["records"] = Param([], type="array", items={"type": "string", "pattern": "^[A-Za-z]+:.+$"},
                                  title="Records",
                                  description="only these records, as RESOURCE:SIS_KEY (e.g. "
                                              "studentSchoolAssociations:12345), and what their keys cascade to; "
                                              "empty = all. Not with resources or resync")
    return params


def partitions() -> int:
    """``EDFI_SYNC_PARTITIONS``: student partitions of the post steps (default 1: not mapped)."""
    value = os.environ.get("EDFI_SYNC_PARTITIONS") or "1"
    if not value.isdigit() or int(value) < 1:
        raise ValueError(f"EDFI_SYNC_PARTITIONS must be a whole number >= 1, not {value!r}")
    return int(value)


def _sync_dag(dag_id: str, *, schedule: Any, params: dict[str, Param], doc_md: str,
              operator_args: dict[str, Any], step_args: dict[str, Any] | None = None,
              deadline: DeadlineAlert | None = None) -> DAG:
    """``operator_args`` go to every task, ``step_args`` to the post/update/delete steps only."""
    count = partitions()
    with DAG(dag_id, schedule=schedule, start_date=START, catchup=False, max_active_runs=1, params=params,
             render_template_as_native_obj=True, doc_md=doc_md, tags=["edfi"],
             default_args={"retries": 2, "retry_delay": timedelta(minutes=2)},
             # The engine runs are closed first, so the alert reports how they ended.
             on_failure_callback=[CloseEngineRuns(failed=True), EdFiSyncNotifier("failure")],
             on_success_callback=[CloseEngineRuns(failed=False), EdFiSyncNotifier("success")],
             deadline=deadline) as dag:
        groups: dict[str, TaskGroup] = {}
        tasks = {}
        for step in GRAPH.tasks():
            if step.phase not in groups:
                groups[step.phase] = TaskGroup(step.phase, tooltip=GROUP_TOOLTIPS[step.phase])
            operator = OPERATORS[step.phase]
            args = {"task_id": step.resource, "resource": step.resource, "task_group": groups[step.phase],
                    **operator_args, **(step_args or {})}
            if count > 1 and step.phase == "post" and GRAPH.definitions[step.resource].partitioned:
                tasks[step] = operator.partial(partitions=count, **args).expand(partition=list(range(count)))
            else:
                tasks[step] = operator(**args)
        posts_done = EdFiPostsDoneOperator if count > 1 else EmptyOperator
        tasks[POSTS_DONE] = posts_done(task_id=POSTS_DONE.task_id,
                                       doc_md="Every post and update has run; the deletes may start.")
        for upstream, downstream in GRAPH.edges():
            tasks[upstream] >> tasks[downstream]
        preflight = EdFiPreflightOperator(task_id="preflight", **operator_args)
        preflight >> [task for task in tasks.values() if not task.upstream_task_ids]
    return dag


def incremental_dag() -> DAG:
    """``edfi_sync``: every enabled year, on ``EDFI_SYNC_SCHEDULE`` (a cron expression or preset;
    default every 30 minutes; ``none``: triggered runs only, as in the demo)."""
    return _sync_dag(
        "edfi_sync", schedule=_schedule("EDFI_SYNC_SCHEDULE", DEFAULT_SCHEDULE),
        params=sync_params(with_resync=True), operator_args={}, deadline=_deadline(),
        doc_md="Incremental SIS -> Ed-Fi sync of every enabled school year (SPEC §6). "
               "One engine run per school year: `<dag_run_id>__<end_year>`.")


def school_year_dag() -> DAG:
    """``edfi_sync_school_year``: one run per school year [July 1, next July 1), a full resync
    of that year; ``airflow backfill create`` fills past years."""
    return _sync_dag(
        "edfi_sync_school_year", schedule=SchoolYearTimetable(), params=sync_params(with_resync=False),
        operator_args={"resync": True, "year_from_interval": True}, step_args={"records": []},
        doc_md="Full resync of one school year per run: the `school_years` param, else the year "
               "ending with the data interval (`data_interval_end.year`).")


def maintenance_dag() -> DAG:
    """``edfi_sync_maintenance``: retention, daily (``EDFI_SYNC_MAINTENANCE_SCHEDULE``); the ages
    come from the Variable ``edfi_sync_retention`` when the tasks run."""
    with DAG("edfi_sync_maintenance", schedule=_schedule("EDFI_SYNC_MAINTENANCE_SCHEDULE", MAINTENANCE_SCHEDULE),
             start_date=START, catchup=False, max_active_runs=1, tags=["edfi"],
             default_args={"retries": 1, "retry_delay": timedelta(minutes=10)},
             doc_md="Retention of what sync runs leave behind: staged and ODS rows, run ledger rows, resolved "
                    "errors, object-storage XCom files no XCom row references. Never the identity map or open "
                    "errors; a step a sync is running is skipped until the next day.") as dag:
        prune = {target: EdFiRetentionOperator(task_id=f"prune_{target}", target=target) for target in TARGETS}
        prune["stage"] >> prune["runs"]  # a run's ledger rows go only once its stage is gone
    return dag


def _deadline() -> DeadlineAlert | None:
    """A scheduled run still going ``EDFI_SYNC_DEADLINE_MINUTES`` after its logical date (when it
    was due; default 120; ``none``: no deadline) is reported as stuck, through the triggerer. A
    triggered run has no logical date, so no deadline: someone is watching it. Not DAGRUN_QUEUED_AT:
    Airflow 3.3.2 recomputes those when tasks are cleared and fails there (it reads the JSON interval
    as seconds), which would break every clear and `edfi-sync airflow rerun` of a failed run."""
    minutes = os.environ.get("EDFI_SYNC_DEADLINE_MINUTES") or str(DEFAULT_DEADLINE_MINUTES)
    if minutes.lower() == "none":
        return None
    return DeadlineAlert(reference=DeadlineReference.DAGRUN_LOGICAL_DATE, interval=timedelta(minutes=float(minutes)),
                         callback=AsyncCallback(EdFiSyncNotifier, kwargs={"event": "deadline"}))


def _schedule(variable: str, default: str) -> str | None:
    """A cron expression or preset from the environment (read at parse time); ``none``: triggered runs only."""
    schedule = os.environ.get(variable) or default
    return None if schedule.lower() == "none" else schedule


def delete_dag() -> DAG:
    """``edfi_delete``: the Delete Tool (SPEC §6.1), one conf-driven task; triggered by the Delete
    Tool page, never scheduled, so it starts unpaused."""
    with DAG("edfi_delete", schedule=None, start_date=START, catchup=False, is_paused_upon_creation=False,
             render_template_as_native_obj=True, tags=["edfi"], params={
                 "school_year": Param(None, type=["null", "integer"], title="School year",
                                      description="the end year whose ODS to delete from, e.g. 2025"),
                 "targets": Param([], type="array", items={"type": "object"}, title="Targets",
                                  description='a preview of [{"resource": ..., "key": {...}} or {"resource": ..., '
                                              '"id": ...}]: what they are and what references them'),
                 "plan": Param(None, type=["null", "string"], title="Plan",
                               description="run this previewed plan: delete exactly its records, children first"),
             },
             doc_md="The Delete Tool: a preview finds the records asked for and every record that references them "
                    "(GETs only) and stores the plan under this DAG run's id; a run of a plan deletes exactly its "
                    "records, once, holding the sync's step locks. Never students.") as dag:
        EdFiDeleteToolOperator(task_id="delete_tool")
    return dag
