"""The operators of the sync DAGs: one step (post, update or delete) of one resource.

Each task runs its step for every school year of the DAG run, oldest first, inside the engine
run ``<dag_run_id>__<end_year>`` (SPEC §6), and returns the small summary of SPEC §5.6. The
engine is imported when the task runs, never when a DAG file is parsed.
"""

from __future__ import annotations

import json
import logging
from collections import Counter
from typing import Any, ClassVar, Sequence

from airflow.sdk import Asset, BaseOperator
from airflow.sdk.exceptions import AirflowFailException

from ..connections import as_bool
from ..resources import GRAPH

log = logging.getLogger(__name__)

# What a task reports for a year it ran nothing in (it succeeds: a skip would cascade to children).
# whole_in_partition_0: a resync posts a partitioned resource whole, in map index 0.
IDLE = ("out_of_scope", "toggled_off", "not_selected", "whole_in_partition_0")


def edfi_asset(resource: str) -> Asset:
    """The Ed-Fi resource a POST task updates, as an Airflow Asset."""
    return Asset(name=f"edfi.{resource}", uri=f"edfi://ods/ed-fi/{resource}", group="edfi")


def _items(value: Any) -> list:
    """A list param as the trigger form, ``--conf`` or a template give it: list, JSON text or 'a,b'."""
    if value is None or value == "":
        return []
    if isinstance(value, (list, tuple, set)):
        return list(value)
    text = str(value).strip()
    if text.startswith("["):
        return list(json.loads(text))
    return [part.strip() for part in text.split(",") if part.strip()]


def school_years(value: Any) -> list[int]:
    years = sorted({int(item) for item in _items(value)})
    if any(year < 1900 for year in years):
        raise ValueError(f"school_years are end years such as 2025, not {years}")
    return years


def run_years(value: Any, year_from_interval: bool, context) -> list[int]:
    """The school years a DAG run names: the ``school_years`` param, else (the school-year DAG)
    the year its data interval ends in; empty means every enabled year."""
    years = school_years(value)
    if years or not year_from_interval:
        return years
    end = context.get("data_interval_end")
    if end is None:
        raise AirflowFailException("no school year: set the school_years param, or run with a data interval")
    return [end.year]


def enabled_years(conninfo: str) -> list[int]:
    import psycopg

    from ..engine import queries

    with psycopg.connect(conninfo) as conn:
        return [row[0] for row in conn.execute(queries.engine("enabled_years"))]


def resource_names(value: Any) -> tuple[str, ...]:
    names = tuple(str(item) for item in _items(value))
    GRAPH.post_order(names)  # unknown names fail here, with the known ones listed
    return names


def school_ids(value: Any) -> tuple[str, ...] | None:
    """'all' (or nothing) means every school; else Ed-Fi schoolIds (``school.number``)."""
    items = [str(item).strip() for item in _items(value)]
    if not items or [item.lower() for item in items] == ["all"]:
        return None
    return tuple(items)


def masked_edfi_settings(conn_id: str):
    """The year's Ed-Fi connection, its client secret registered with Airflow's log masker: nothing
    logs it, and should anything ever try, the task log shows *** (an AIRFLOW_CONN_* variable read
    without Airflow is not masked otherwise)."""
    from airflow.sdk.log import mask_secret

    from ..engine.runner import edfi_settings

    settings = edfi_settings(conn_id)
    if settings.client_secret:
        mask_secret(settings.client_secret)
    return settings


class EdFiStepOperator(BaseOperator):
    """Runs ``YearSync.run_step`` for one resource and phase, per school year of the run.

    The fields are templated and default to the DAG's Params (SPEC §6). ``school_years`` empty
    means every enabled year, or, with ``year_from_interval``, the year ending with the data
    interval (the school-year DAG). ``partition`` of ``partitions``: the students this task posts
    (a mapped ``post.<resource>``, whose map index is the partition); by default all of them.
    """

    phase: ClassVar[str]
    template_fields: Sequence[str] = ("school_years", "selected_resources", "resync", "schools", "dry_run",
                                      "fail_on_record_errors", "records")
    ui_color = "#e8f4fd"

    def __init__(self, *, resource: str, school_years: Any = "{{ params.school_years }}",
                 selected_resources: Any = "{{ params.resources }}", resync: Any = "{{ params.resync }}",
                 schools: Any = "{{ params.schools }}", dry_run: Any = "{{ params.dry_run }}",
                 fail_on_record_errors: Any = "{{ params.fail_on_record_errors }}",
                 records: Any = "{{ params.records }}", year_from_interval: bool = False,
                 sis_conn_id: str = "edfi_sis", partition: int = 0, partitions: int = 1, **kwargs: Any):
        super().__init__(**kwargs)
        if resource not in GRAPH.definitions:
            raise ValueError(f"unknown resource {resource!r}")
        self.resource = resource
        self.school_years = school_years
        self.selected_resources = selected_resources  # BaseOperator.resources is Airflow's own
        self.resync = resync
        self.schools = schools
        self.dry_run = dry_run
        self.fail_on_record_errors = fail_on_record_errors
        self.records = records
        self.year_from_interval = year_from_interval
        self.sis_conn_id = sis_conn_id
        self.partition, self.partitions = int(partition), int(partitions)
        self._running = None

    def execute(self, context) -> dict[str, Any]:
        from ..engine.partitions import Partition
        from ..engine.progress import summary_table
        from ..engine.runner import OutOfScope, StageIncomplete, SyncOptions, YearSync, plan
        from ..hooks.sis import SisDatabaseHook
        from ..resources.graph import Step

        step = Step(self.phase, self.resource)
        dry_run = bool(as_bool(self.dry_run))
        summary: dict[str, Any] = {"dag_run_id": context["run_id"], "resource": self.resource,
                                   "phase": self.phase, "dry_run": dry_run, "years": []}
        partition = Partition(self.partition, self.partitions)
        if partition.split:
            summary["partition"] = {"index": partition.index, "count": partition.count}
        selected = resource_names(self.selected_resources)
        years = run_years(self.school_years, self.year_from_interval, context)
        try:
            options = SyncOptions(resources=selected, resync=bool(as_bool(self.resync)),
                                  schools=school_ids(self.schools), dry_run=dry_run,
                                  records=tuple(str(item) for item in _items(self.records)))
        except ValueError as exc:  # a retry cannot help
            raise AirflowFailException(f"{step.task_id}: {exc}") from exc
        if step not in plan(options):
            log.info("%s: not among the selected resources %s; nothing to do", step.task_id, list(selected))
            return self._done(summary, "not_selected")
        conninfo = SisDatabaseHook(self.sis_conn_id).conninfo()
        years = years or enabled_years(conninfo)
        failing: list[str] = []
        for year in years:
            with YearSync(year, options, run_id=f"{context['run_id']}__{year}", conninfo=conninfo,
                          settings_for=masked_edfi_settings, origin="airflow", dag_id=self.dag_id,
                          dag_run_id=context["run_id"], task_id=self.task_id) as run:
                self._running = run
                try:
                    run.begin()
                except OutOfScope as exc:
                    log.info("%s %s", step.task_id, exc)
                    summary["years"].append({"school_year": year, "run_id": run.run_id, "status": "out_of_scope"})
                    continue
                try:
                    result = run.run_step(step, partition)
                except StageIncomplete as exc:  # retrying cannot help: only a rerun of post.X can
                    raise AirflowFailException(str(exc)) from exc
                finally:
                    self._running = None
                run.finish_if_complete()
                summary["years"].append(self._year_summary(run, result))
                fail_on_errors = as_bool(self.fail_on_record_errors)
                if fail_on_errors is None:
                    fail_on_errors = run.settings.fail_on_record_errors
                if fail_on_errors and result.record_errors:
                    failing.append(f"{year}: {result.record_errors}")
        rows = {str(y["school_year"]): y.get("counts", {}) for y in summary["years"]}
        log.info("%s summary (run %s%s):\n%s", step.task_id, context["run_id"], ", dry run" if dry_run else "",
                 "\n".join(summary_table(rows, dry_run, label="school year")))
        status = self._status(summary["years"])
        if failing:  # a retry would send nothing new and fail again
            raise AirflowFailException(f"{step.task_id}: records logged as errors ({'; '.join(failing)}) and "
                                   f"fail_on_record_errors is set; see edfi-sync report errors")
        return self._done(summary, status)

    def _done(self, summary: dict[str, Any], status: str) -> dict[str, Any]:
        summary["status"] = status
        # An Ed-Fi resource changed only when a real (not dry) step ran for some year.
        if summary["dry_run"] or status in IDLE:
            self.outlets = []
        return summary

    @staticmethod
    def _status(years: list[dict[str, Any]]) -> str:
        ran = [y for y in years if y["status"] not in IDLE]
        if not ran:
            return "toggled_off" if any(y["status"] == "toggled_off" for y in years) else "out_of_scope"
        return "record_errors" if any(y["record_errors"] for y in ran) else "success"

    @staticmethod
    def _year_summary(run, result) -> dict[str, Any]:
        """SPEC §5.6: counts, and where the records are (the database stays the truth)."""
        summary = {
            "school_year": run.end_year, "run_id": run.run_id, "status": result.status,
            "counts": dict(sorted(Counter(result.counts).items())), "record_errors": result.record_errors,
            "sis_count": result.sis_count, "ods_count": result.ods_count, "map_count": result.map_count,
            "identity_map": {"table": "edfi_sync.identity_map", "end_year": run.end_year,
                             "resource": result.step.resource},
            "run_records": {"table": "edfi_sync.staged_record", "run_id": run.run_id,
                            "resource": result.step.resource},
        }
        return summary

    def on_kill(self) -> None:
        """Stop the statement in progress; everything sent so far is recorded, a rerun resumes."""
        if self._running is not None:
            log.warning("%s.%s killed: stopping; clear the task to resume (it sends only what is left)",
                        self.phase, self.resource)
            self._running.cancel()


class CloseEngineRuns:
    """The sync DAGs' ``on_success_callback`` / ``on_failure_callback`` (the dag-processor runs it):
    an Airflow run is closed by its DAG run's end, never by age (SPEC §6.1). The last task closes
    a run whose every step finished; this closes the runs a failed, killed or never-run task left
    open, so the run ledger never keeps them 'running' and their staged rows can go."""

    def __init__(self, failed: bool, sis_conn_id: str = "edfi_sis"):
        self.failed, self.sis_conn_id = failed, sis_conn_id

    def __call__(self, context) -> None:
        from ..engine.runner import close_dag_run
        from ..hooks.sis import SisDatabaseHook

        for summary in close_dag_run(SisDatabaseHook(self.sis_conn_id).conninfo(), context["run_id"], self.failed):
            log.warning("DAG run %s ended with engine run %s open: closed as %s", context["run_id"],
                        summary.run_id, summary.status)


class EdFiPostOperator(EdFiStepOperator):
    """POST new records and PUT changed ones (parents before children); emits the resource's Asset."""

    phase = "post"

    def __init__(self, *, resource: str, **kwargs: Any):
        kwargs.setdefault("outlets", [edfi_asset(resource)])
        super().__init__(resource=resource, **kwargs)


class EdFiUpdateOperator(EdFiStepOperator):
    """PUT changes to records that wait for other resources (students, after their SSAs)."""

    phase = "update"


class EdFiDeleteOperator(EdFiStepOperator):
    """DELETE records the SIS no longer yields (children before parents). Refuses, and fails,
    when its run's stage is not what post.X wrote: "rerun post.X" (SPEC §5.7)."""

    phase = "delete"


class EdFiPostsDoneOperator(BaseOperator):
    """``posts_done`` when the post steps run in partitions (``EDFI_SYNC_PARTITIONS`` > 1): every
    post and update has run, so its summary merges each partitioned post step of the DAG run, per
    school year, from the run ledger (SPEC §6.1; one task's summary per resource, students
    included, which have no delete task). An unpartitioned DAG keeps an EmptyOperator there."""

    ui_color = "#e8f4fd"

    def __init__(self, *, sis_conn_id: str = "edfi_sis", **kwargs: Any):
        super().__init__(**kwargs)
        self.sis_conn_id = sis_conn_id

    def execute(self, context) -> dict[str, Any]:
        import psycopg

        from ..engine import queries
        from ..engine.partitions import merged_post
        from ..engine.steps import post_partitions
        from ..hooks.sis import SisDatabaseHook

        partitioned = [name for name in GRAPH.post_order() if GRAPH.definitions[name].partitioned]
        summary: dict[str, Any] = {"dag_run_id": context["run_id"], "years": []}
        with psycopg.connect(SisDatabaseHook(self.sis_conn_id).conninfo()) as conn:
            runs = conn.execute(queries.engine("dag_run_years"),
                                {"dag_id": self.dag_id, "dag_run_id": context["run_id"]}).fetchall()
            for run_id, end_year in runs:
                post = {name: merged for name in partitioned
                        if (merged := merged_post(post_partitions(conn, run_id, name)))}
                summary["years"].append({"school_year": end_year, "run_id": run_id, "post": post})
                for name, merged in post.items():
                    log.info("%s post.%s, %s partitions: %s", end_year, name, merged["partitions"], merged["counts"])
        return summary


OPERATORS: dict[str, type[EdFiStepOperator]] = {
    "post": EdFiPostOperator, "update": EdFiUpdateOperator, "delete": EdFiDeleteOperator}
