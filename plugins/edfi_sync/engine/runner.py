"""A year's run (SPEC §5): its scope, its ledger row, its mapping snapshots, its Ed-Fi client, and
its steps in order. The CLI runs every step of the plan; each Airflow task runs one step of the same
run id. The steps themselves are in :mod:`.steps`, sending in :mod:`.sender`.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Callable

import psycopg
from psycopg.types.json import Jsonb

from .. import db
from ..connections import find_connection
from ..hooks.client import EdFiClient, EdFiSettings, EdFiUnavailable
from ..hooks.token_cache import DbTokenCache
from ..resources import GRAPH, RESOURCES
from ..resources.base import ResourceDefinition
from ..resources.graph import Step
from ..rules.common import Mappings, SchoolYear
from . import queries
from .error_log import ErrorLog
from .partitions import WHOLE, Partition
from .sender import Sender
from .steps import PHASES, StageIncomplete, StepResult

log = logging.getLogger(__name__)


class OutOfScope(Exception):
    """The year has no enabled connection: nothing is sent ("years with valid configuration")."""


def edfi_settings(conn_id: str) -> EdFiSettings:
    """The Ed-Fi connection: an AIRFLOW_CONN_* variable when set (no Airflow import), else Airflow's."""
    spec = find_connection(conn_id)
    if spec is not None:
        return EdFiSettings.from_connection(conn_type=spec.conn_type, host=spec.host, schema=spec.schema,
                                            port=spec.port, login=spec.login, password=spec.password,
                                            extra=spec.extra)
    from ..hooks.edfi import EdFiHook

    return EdFiHook(conn_id).settings()


@dataclass(frozen=True)
class SyncOptions:
    resources: tuple[str, ...] = ()
    resync: bool = False
    schools: tuple[str, ...] | None = None  # Ed-Fi schoolIds; None = all schools
    dry_run: bool = False
    # SPEC §6.1 (a retry): "<resource>:<sis_object_key>" items; empty = every record. The run sends
    # those records and what their keys cascade to, nothing else.
    records: tuple[str, ...] = ()

    def __post_init__(self):
        if self.records and (self.resources or self.resync):
            raise ValueError("records selects its own resources: give it without resources and without resync")
        for item in self.records:
            resource, _, key = item.partition(":")
            if not key.strip() or resource not in RESOURCES:
                raise ValueError(f"records are RESOURCE:SIS_KEY with an Ed-Fi resource name, e.g. "
                                 f"studentSchoolAssociations:12345; not {item!r}")

    @property
    def selective(self) -> bool:
        return bool(self.records)

    def selection(self, resource: str) -> dict[str, Any]:
        """What the run selects of ``resource``, as the engine's queries take it: ``schools`` (None:
        all), ``selective`` (a retry) and the SIS object keys the records name (``record_keys``)."""
        return {"schools": list(self.schools) if self.schools else None, "selective": self.selective,
                "record_keys": [key for name, _, key in (item.partition(":") for item in self.records)
                                if name == resource]}

    def as_params(self) -> dict[str, Any]:
        """As the run ledger (sync_run.params) and the pages show them."""
        params = {"resources": list(self.resources), "resync": self.resync,
                  "schools": list(self.schools) if self.schools else "all", "dry_run": self.dry_run}
        return {**params, "records": list(self.records)} if self.records else params


def plan(options: SyncOptions) -> list[Step]:
    """The steps a run covers, in order: the CLI runs them one after the other; in Airflow each
    is a task, and a task whose step is not in the plan does nothing."""
    if options.records:
        named = sorted({item.partition(":")[0] for item in options.records})
        return GRAPH.steps(named, records=True)
    return GRAPH.steps(options.resources, resync=options.resync)


@dataclass
class RunSummary:
    run_id: str
    school_year: int
    status: str
    steps: list[StepResult]
    dry_run: bool = False

    @property
    def record_errors(self) -> int:
        return sum(s.record_errors for s in self.steps)

    def by_resource(self) -> dict[str, dict[str, int]]:
        merged: dict[str, Counter] = {}
        for result in self.steps:
            merged.setdefault(result.step.resource, Counter()).update(result.counts)
        return {name: dict(sorted(c.items())) for name, c in merged.items()}

    def as_dict(self) -> dict[str, Any]:
        return {"run_id": self.run_id, "school_year": self.school_year, "status": self.status,
                "dry_run": self.dry_run, "record_errors": self.record_errors, "resources": self.by_resource()}


def resync_owners(definition: ResourceDefinition) -> set[str]:
    """The mapping owners whose snapshot a resync of the resource takes anew: its own, and those of
    fields owned by something that is not a resource (sessions), which refresh with a reader's."""
    return {definition.name} | {owner for owner, _ in definition.mapping_fields if owner not in RESOURCES}


def new_run_id(origin: str = "cli") -> str:
    return f"{origin}__{datetime.now(timezone.utc):%Y%m%dT%H%M%S}__{uuid.uuid4().hex[:6]}"


class YearSync:
    """One run of one school year. Use as a context manager; call :meth:`run` or the steps.

    Inside Airflow, ``dag_id``, ``dag_run_id`` and ``task_id`` say which task ran it: the run ledger
    and the error log record them, so the operator pages link to the task instance (SPEC §6.1).
    """

    def __init__(self, end_year: int, options: SyncOptions = SyncOptions(), *, run_id: str | None = None,
                 conninfo: str | None = None, settings_for: Callable[[str], EdFiSettings] = edfi_settings,
                 origin: str = "cli", dag_id: str | None = None, dag_run_id: str | None = None,
                 task_id: str | None = None):
        self.end_year = end_year
        self.options = options
        self.origin = origin
        self.run_id = run_id or new_run_id(origin)
        self.dag_id, self.dag_run_id, self.task_id = dag_id, dag_run_id, task_id
        self.conninfo = conninfo or db.sis_conninfo()
        self.settings_for = settings_for
        self.conn: psycopg.Connection | None = None
        self._loop: asyncio.Runner | None = None
        self._client: EdFiClient | None = None
        self._token_cache: DbTokenCache | None = None
        self.conn_id: str | None = None
        self.settings: EdFiSettings | None = None
        self.school_year: SchoolYear | None = None
        self.mappings = Mappings()
        # Dry run: owners read with their current mapping values instead of a (never taken) snapshot.
        self.current_owners: set[str] = set()
        self.sender = Sender(self)
        self.error_log = ErrorLog(self)

    # -- lifecycle ---------------------------------------------------------------------------

    def __enter__(self) -> "YearSync":
        # Autocommit: every atomic group is an explicit transaction() block, never an implicit one
        # left open by a stray read (which would turn later blocks into savepoints). The connection
        # names the run, so a waiting run can say who holds the step it waits for.
        self.conn = psycopg.connect(self.conninfo, autocommit=True,
                                    application_name=f"edfi-sync {self.run_id}"[:63])
        self.conn.execute(queries.engine("session_setup"))
        return self

    def __exit__(self, *exc) -> None:
        if self._client is not None and self._loop is not None:
            self._loop.run(self._client.__aexit__(None, None, None))
        if self._loop is not None:
            self._loop.close()
        if self._token_cache is not None:
            self._token_cache.close()
        if self.conn is not None:
            self.conn.close()

    def one(self, name: str, params: dict[str, Any]):
        """The first row of an engine query."""
        return self.conn.execute(queries.engine(name), params).fetchone()

    @property
    def ids(self) -> dict[str, Any]:
        return {"run_id": self.run_id, "end_year": self.end_year}

    @property
    def shared_instance(self) -> bool:
        return self.settings.api_mode == "shared_instance"

    def enter_scope(self) -> None:
        """Check the year is in scope and read its Ed-Fi connection (what the Delete Tool needs too)."""
        row = self.one("year_connection", self.ids)
        if row is None or not row[1]:
            raise OutOfScope(f"school year {self.end_year} has no enabled Ed-Fi connection "
                             f"(edfi_sync.connection): nothing to do")
        self.conn_id = row[0]
        self.settings = self.settings_for(self.conn_id)

    def begin(self, joining: bool = False) -> None:
        """Check the year is in scope, record the run, settle the mapping snapshots (idempotent).

        A CLI run holds its run lock until its connection closes (SPEC §6.1), and first abandons
        the CLI runs that died (their lock is free) so their staged rows can go. ``joining``: a
        partition worker of a CLI run (``sync --partitions N``), whose lock its process holds."""
        self.enter_scope()
        setup = self.one("school_year", self.ids)
        self.school_year = SchoolYear.from_setup(self.end_year, *(setup or (None, None)))
        if self.dag_run_id is None and not joining:
            self.one("run_lock", self.ids)
        with self.conn.transaction():
            self.conn.execute(queries.engine("runs_abandon"), self.ids)
            self.conn.execute(queries.engine("run_begin"), {
                **self.ids, "origin": self.origin, "dag_id": self.dag_id,
                "params": Jsonb({**self.options.as_params(), "api_mode": self.settings.api_mode}),
                "dag_run_id": self.dag_run_id, "task_id": self.task_id})
            if not self.options.dry_run:
                self.conn.execute(queries.engine("snapshot_lock"), self.ids)
                # The first run of a year takes the current values of every owner.
                owners = [row[0] for row in self.conn.execute(
                    queries.engine("snapshot_owners_missing"), {**self.ids, "owners": list(RESOURCES)})]
                for owner in owners:
                    self._take_snapshot(owner)
        self._load_mappings()

    def _take_snapshot(self, owner: str) -> None:
        self.conn.execute(queries.engine("snapshot_clear"), {**self.ids, "owner": owner})
        self.conn.execute(queries.engine("snapshot_take"), {**self.ids, "owner": owner})

    def _load_mappings(self) -> None:
        if self.options.dry_run:
            rows = self.conn.execute(queries.engine("dry_mappings"),
                                     {**self.ids, "current": sorted(self.current_owners)})
        else:
            rows = self.conn.execute(queries.engine("snapshot_mappings"), self.ids)
        self.mappings = Mappings.from_rows(rows)

    def refresh_snapshots(self, definition: ResourceDefinition) -> None:
        """A resync of the owner takes the current mapping values (SPEC §5)."""
        owners = resync_owners(definition)
        if self.options.dry_run:
            self.current_owners |= owners
            self._load_mappings()
            return
        with self.conn.transaction():
            self.conn.execute(queries.engine("snapshot_lock"), self.ids)
            for owner in sorted(owners):
                self._take_snapshot(owner)
        self._load_mappings()

    def client(self) -> EdFiClient:
        """The run's Ed-Fi client (and the event loop it runs on), opened on first use."""
        if self._client is None:
            self._loop = asyncio.Runner()
            self._token_cache = DbTokenCache(self.conninfo)
            self._client = EdFiClient(self.settings, token_cache=self._token_cache, budget_conninfo=self.conninfo)
            self._loop.run(self._client.__aenter__())
        return self._client

    def loop_run(self, coro):
        """Run a coroutine on the client's event loop, holding a share of the connection's budget
        while it runs (SPEC §6.1: every task sending to one ODS shares one in-flight budget)."""
        client = self.client()  # opens the loop and session on first use
        return self._loop.run(client.sending(coro))

    def run(self, partitions: int = 1) -> RunSummary:
        """Every step of the selected resources in dependency order (the CLI's sync); with
        ``partitions`` > 1 the post step of each student-level resource runs in that many worker
        processes at once (:mod:`.workers`)."""
        from .workers import PartitionWorkers

        self.begin()
        results: list[StepResult] = []
        workers = PartitionWorkers(self, partitions) if partitions > 1 else None
        try:
            for step in plan(self.options):
                if workers is not None and workers.takes(step):
                    results += workers.run_step(step)
                else:
                    results.append(self.run_step(step))
        except (EdFiUnavailable, psycopg.OperationalError, StageIncomplete) as exc:
            self.finish(results, failed=True)
            raise SystemicFailure(str(exc), RunSummary(self.run_id, self.end_year, "failed", results,
                                                       self.options.dry_run)) from exc
        finally:
            if workers is not None:
                workers.close()
        return self.finish(results)

    def finish(self, results: list[StepResult], failed: bool = False) -> RunSummary:
        with self.conn.transaction():
            summary = self._record_finish(results, failed)
            self.conn.execute(queries.engine("staged_clear_run"), self.ids)
        return summary

    def _record_finish(self, results: list[StepResult], failed: bool = False) -> RunSummary:
        errors = sum(r.record_errors for r in results)
        status = "failed" if failed else ("record_errors" if errors else "success")
        summary = RunSummary(self.run_id, self.end_year, status, results, self.options.dry_run)
        self.conn.execute(queries.engine("run_finish"), {**self.ids, "status": status,
                                                         "summary": Jsonb(summary.as_dict())})
        return summary

    def finish_if_complete(self) -> RunSummary | None:
        """Airflow: each task runs one step, in any order; the one that finds every step of the
        plan finished records the run's outcome. The staged rows stay until the next run of the
        resource replaces them, so a delete task cleared meanwhile still finds its stage."""
        planned = plan(self.options)
        params = {**self.ids, "resources": [s.resource for s in planned], "phases": [s.phase for s in planned]}
        if self.one("run_open_steps", params)[0]:
            return None
        with self.conn.transaction():
            return self._record_finish(self._recorded_steps())

    def close(self, failed: bool) -> RunSummary:
        """Airflow: the DAG run ended with this run still open (a task failed, was killed and not
        retried, or never ran): record its outcome from what its steps recorded (SPEC §6.1)."""
        with self.conn.transaction():
            self.conn.execute(queries.engine("run_steps_abandon"), self.ids)
            return self._record_finish(self._recorded_steps(), failed)

    def _recorded_steps(self) -> list[StepResult]:
        return [StepResult(Step(phase, resource), status, Counter(counts))
                for resource, phase, status, counts in self.conn.execute(queries.engine("run_steps"), self.ids)]

    def cancel(self) -> None:
        """Stop the statement in progress (a killed Airflow task); what was recorded stays."""
        if self.conn is not None and not self.conn.closed:
            self.conn.cancel_safe()

    def run_step(self, step: Step, partition: Partition = WHOLE) -> StepResult:
        """One step under the (year, resource) lock, with its ledger row (SPEC §5: two syncs of one
        year never interleave the sends of one resource). The partitions of a post step hold it
        shared, each its own partition's exclusively (SPEC §6.1)."""
        definition = RESOURCES[step.resource]
        if partition.split and not (step.phase == "post" and definition.partitioned):
            raise ValueError(f"{step.task_id} cannot run in partitions: only the post step of a "
                             f"student-level resource can")
        if partition.split and self.options.resync:
            # The ODS's pages and the map rows they drop are the whole resource's.
            if partition.index:
                log.info("%s: a resync posts %s whole, in partition 0; nothing to do in %s",
                         step.task_id, step.resource, partition)
                return StepResult(step, "whole_in_partition_0")
            partition = WHOLE
        params = {**self.ids, "resource": step.resource, **partition.params}
        if not self.one("resource_enabled", params)[0]:
            log.info("%s is toggled OFF for %s: nothing sent, nothing deleted", step.resource, self.end_year)
            return StepResult(step, "toggled_off")
        lock = "_shared" if partition.split else ""
        self._lock_step(step, params, lock)
        try:
            self.conn.execute(queries.engine("resource_run_begin"), {**params, "phase": step.phase})
            result = PHASES[step.phase](self, definition, step, partition)
            with self.conn.transaction():
                result.map_count = self.one("map_count", {**params, "shared_instance": self.shared_instance})[0]
                self.conn.execute(queries.engine("resource_run_finish"), {
                    **params, "phase": step.phase, "status": result.status, "counts": Jsonb(dict(result.counts)),
                    "sis_count": result.sis_count, "ods_count": result.ods_count, "map_count": result.map_count})
        finally:
            self.one(f"step_unlock{lock}", params)
        self._warn_if_unreconciled(result)
        log.info("%s%s %s: %s", step.task_id, f" ({partition})" if partition.split else "", result.status,
                 dict(result.counts) or "nothing to do")
        return result

    def _lock_step(self, step: Step, params: dict[str, Any], lock: str) -> None:
        """Wait for the (year, resource) step lock (``lock`` "_shared": a partition's), saying so
        when another run holds it: two runs of one year (two DAG runs, a CLI sync beside one) take
        turns, the second then sends only what the first left to do."""
        if self.one(f"step_try_lock{lock}", params)[0]:
            return
        holder = self.one("step_lock_holder", params)
        log.warning("%s of %s waits: %s is running this step; it goes on once that run's step ends, "
                    "and then sends only what is left", step.task_id, self.end_year,
                    holder[0] if holder and holder[0] else "another run")
        self.one(f"step_lock{lock}", params)
        log.info("%s of %s: the other run's step ended; going on", step.task_id, self.end_year)

    @staticmethod
    def _warn_if_unreconciled(result: StepResult) -> None:
        if result.ods_count is not None and result.ods_count != result.map_count:
            log.warning("%s: the ODS holds %s records but the identity map %s; a resync repairs the drift",
                        result.step.resource, result.ods_count, result.map_count)


def close_dag_run(conninfo: str, dag_run_id: str, failed: bool) -> list[RunSummary]:
    """SPEC §6.1: an Airflow run is closed by its DAG run's end (a DAG-level callback), never by
    age. The engine runs (one per school year) still open get their outcome; runs already closed
    by their last task are left as they are."""
    with psycopg.connect(conninfo, autocommit=True) as conn:
        still_open = conn.execute(queries.engine("dag_run_open"), {"dag_run_id": dag_run_id}).fetchall()
    summaries = []
    for run_id, end_year, dry_run in still_open:
        with YearSync(end_year, SyncOptions(dry_run=dry_run), run_id=run_id, conninfo=conninfo,
                      origin="airflow", dag_run_id=dag_run_id) as run:
            summaries.append(run.close(failed))
    return summaries


class SystemicFailure(RuntimeError):
    """Database or Ed-Fi unreachable, credentials refused: the run fails (non-zero exit)."""

    def __init__(self, message: str, summary: RunSummary):
        super().__init__(message)
        self.summary = summary
