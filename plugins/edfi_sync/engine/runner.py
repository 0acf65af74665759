"""A year's sync, step by step (SPEC §5). The CLI runs every step in order; each Airflow task
runs one step of the same run id. Steps are idempotent: a rerun sends only what is still needed.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Callable

import psycopg
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from .. import db
from ..connections import find_connection
from ..hooks.client import ApiResponse, EdFiClient, EdFiSettings, EdFiUnavailable
from ..hooks.token_cache import DbTokenCache
from ..resources import GRAPH, RESOURCES
from ..resources.base import BuildContext, ResourceDefinition
from ..resources.graph import Step
from ..rules.common import Mappings, SchoolYear
from . import queries
from .errors import EdFiError, classify, own_error
from .progress import Progress
from .stage import StagedFailure, stage_resource

log = logging.getLogger(__name__)

READ_PAGE = 500        # actions fetched from the cursor at a time
SEND_QUEUE = 1_000     # actions read ahead of the requests: memory stays bounded whatever the count
RECORD_GROUP = 500     # answers written per transaction
RECORD_EVERY = 0.25    # seconds: a slow step still writes its answers this often
RECORD_BACKLOG = 4_000  # answers waiting for the database before sending pauses
_SECRET_KEYS = re.compile(r"secret|password|token|authorization|api[_-]?key", re.IGNORECASE)


class OutOfScope(Exception):
    """The year has no enabled connection: nothing is sent ("years with valid configuration")."""


class StageIncomplete(RuntimeError):
    """A delete step found its run's stage no longer as post.X wrote it (SPEC §5.7): reading it
    would take every missing record for gone. It refuses instead."""


def redact(value: Any) -> Any:
    """A request body safe for the error log (Ed-Fi payloads carry no secrets; this makes sure)."""
    if isinstance(value, dict):
        return {k: ("***" if _SECRET_KEYS.search(k) else redact(v)) for k, v in value.items()}
    if isinstance(value, list):
        return [redact(v) for v in value]
    return value


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


def plan(options: SyncOptions) -> list[Step]:
    """The steps a run covers, in order: the CLI runs them one after the other; in Airflow each
    is a task, and a task whose step is not in the plan does nothing."""
    return GRAPH.steps(options.resources, resync=options.resync)


@dataclass
class StepResult:
    step: Step
    status: str
    counts: Counter = field(default_factory=Counter)
    sis_count: int | None = None
    ods_count: int | None = None
    map_count: int | None = None

    @property
    def record_errors(self) -> int:
        return sum(n for key, n in self.counts.items()
                   if key.endswith(".failed") or key in ("build_failed", "skipped", "duplicate"))


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


def _school_ids(record: dict) -> set[str]:
    """Ed-Fi schoolIds an ODS record relates to (for per-school resync of strays)."""
    found = {str(record["schoolId"])} if "schoolId" in record else set()
    reference = record.get("schoolReference")
    if isinstance(reference, dict) and "schoolId" in reference:
        found.add(str(reference["schoolId"]))
    return found


def new_run_id(origin: str = "cli") -> str:
    return f"{origin}__{datetime.now(timezone.utc):%Y%m%dT%H%M%S}__{uuid.uuid4().hex[:6]}"


class YearSync:
    """One run of one school year. Use as a context manager; call :meth:`run` or the steps."""

    def __init__(self, end_year: int, options: SyncOptions = SyncOptions(), *, run_id: str | None = None,
                 conninfo: str | None = None, settings_for: Callable[[str], EdFiSettings] = edfi_settings,
                 origin: str = "cli"):
        self.end_year = end_year
        self.options = options
        self.origin = origin
        self.run_id = run_id or new_run_id(origin)
        self.conninfo = conninfo or db.sis_conninfo()
        self._settings_for = settings_for
        self.conn: psycopg.Connection | None = None
        self._loop: asyncio.Runner | None = None
        self._client: EdFiClient | None = None
        self._token_cache: DbTokenCache | None = None
        self.conn_id: str | None = None
        self.settings: EdFiSettings | None = None
        self.school_year: SchoolYear | None = None
        self.mappings = Mappings()
        # Dry run: owners read with their current mapping values instead of a (never taken) snapshot.
        self._current_owners: set[str] = set()
        self._sending = Progress("send")

    # -- lifecycle ---------------------------------------------------------------------------

    def __enter__(self) -> "YearSync":
        # Autocommit: every atomic group is an explicit transaction() block, never an implicit one
        # left open by a stray read (which would turn later blocks into savepoints).
        self.conn = psycopg.connect(self.conninfo, autocommit=True)
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

    def _one(self, name: str, params: dict[str, Any]):
        return self.conn.execute(queries.engine(name), params).fetchone()

    @property
    def _ids(self) -> dict[str, Any]:
        return {"run_id": self.run_id, "end_year": self.end_year}

    def begin(self) -> None:
        """Check the year is in scope, record the run, settle the mapping snapshots (idempotent)."""
        row = self._one("year_connection", self._ids)
        if row is None or not row[1]:
            raise OutOfScope(f"school year {self.end_year} has no enabled Ed-Fi connection "
                             f"(edfi_sync.connection): nothing to do")
        self.conn_id = row[0]
        self.settings = self._settings_for(self.conn_id)
        setup = self._one("school_year", self._ids)
        self.school_year = SchoolYear.from_setup(self.end_year, *(setup or (None, None)))
        params = {"resources": list(self.options.resources), "resync": self.options.resync,
                  "schools": list(self.options.schools) if self.options.schools else "all",
                  "dry_run": self.options.dry_run}
        with self.conn.transaction():
            self.conn.execute(queries.engine("run_begin"), {**self._ids, "origin": self.origin,
                                                            "params": Jsonb(params)})
            if not self.options.dry_run:
                self.conn.execute(queries.engine("snapshot_lock"), self._ids)
                # The first run of a year takes the current values of every owner.
                owners = [row[0] for row in self.conn.execute(
                    queries.engine("snapshot_owners_missing"), {**self._ids, "owners": list(RESOURCES)})]
                for owner in owners:
                    self._take_snapshot(owner)
        self._load_mappings()

    def _take_snapshot(self, owner: str) -> None:
        self.conn.execute(queries.engine("snapshot_clear"), {**self._ids, "owner": owner})
        self.conn.execute(queries.engine("snapshot_take"), {**self._ids, "owner": owner})

    def _load_mappings(self) -> None:
        if self.options.dry_run:
            rows = self.conn.execute(queries.engine("dry_mappings"),
                                     {**self._ids, "current": sorted(self._current_owners)})
        else:
            rows = self.conn.execute(queries.engine("snapshot_mappings"), self._ids)
        self.mappings = Mappings.from_rows(rows)

    def client(self) -> EdFiClient:
        if self._client is None:
            self._loop = asyncio.Runner()
            self._token_cache = DbTokenCache(self.conninfo)
            self._client = EdFiClient(self.settings, token_cache=self._token_cache)
            self._loop.run(self._client.__aenter__())
        return self._client

    def run(self) -> RunSummary:
        """Every step of the selected resources in dependency order (the CLI's sync)."""
        self.begin()
        results: list[StepResult] = []
        try:
            for step in plan(self.options):
                results.append(self.run_step(step))
        except (EdFiUnavailable, psycopg.OperationalError, StageIncomplete) as exc:
            self.finish(results, failed=True)
            raise SystemicFailure(str(exc), RunSummary(self.run_id, self.end_year, "failed", results,
                                                       self.options.dry_run)) from exc
        return self.finish(results)

    def finish(self, results: list[StepResult], failed: bool = False) -> RunSummary:
        with self.conn.transaction():
            summary = self._record_finish(results, failed)
            self.conn.execute(queries.engine("staged_clear_run"), self._ids)
        return summary

    def _record_finish(self, results: list[StepResult], failed: bool = False) -> RunSummary:
        errors = sum(r.record_errors for r in results)
        status = "failed" if failed else ("record_errors" if errors else "success")
        summary = RunSummary(self.run_id, self.end_year, status, results, self.options.dry_run)
        self.conn.execute(queries.engine("run_finish"), {**self._ids, "status": status,
                                                         "summary": Jsonb(summary.as_dict())})
        return summary

    def finish_if_complete(self) -> RunSummary | None:
        """Airflow: each task runs one step, in any order; the one that finds every step of the
        plan finished records the run's outcome. The staged rows stay until the next run of the
        resource replaces them, so a delete task cleared meanwhile still finds its stage."""
        steps = plan(self.options)
        params = {**self._ids, "resources": [s.resource for s in steps], "phases": [s.phase for s in steps]}
        if self._one("run_open_steps", params)[0]:
            return None
        results = [StepResult(Step(phase, resource), status, Counter(counts))
                   for resource, phase, status, counts in self.conn.execute(queries.engine("run_steps"), self._ids)]
        with self.conn.transaction():
            return self._record_finish(results)

    def cancel(self) -> None:
        """Stop the statement in progress (a killed Airflow task); what was recorded stays."""
        if self.conn is not None and not self.conn.closed:
            self.conn.cancel_safe()

    # -- steps -------------------------------------------------------------------------------

    def run_step(self, step: Step) -> StepResult:
        definition = RESOURCES[step.resource]
        params = {**self._ids, "resource": step.resource}
        if not self._one("resource_enabled", params)[0]:
            log.info("%s is toggled OFF for %s: nothing sent, nothing deleted", step.resource, self.end_year)
            return StepResult(step, "toggled_off")
        self._one("step_lock", params)
        try:
            self.conn.execute(queries.engine("resource_run_begin"), {**params, "phase": step.phase})
            if step.phase == "post":
                result = self._post(definition, step)
            elif step.phase == "update":
                result = StepResult(step, "done", self._send(definition, "post_actions", ["PUT"]))
            else:
                result = self._delete(definition, step)
            with self.conn.transaction():
                result.map_count = self._one("map_count", {**params, "shared_instance": self._shared})[0]
                self.conn.execute(queries.engine("resource_run_finish"), {
                    **params, "phase": step.phase, "status": result.status, "counts": Jsonb(dict(result.counts)),
                    "sis_count": result.sis_count, "ods_count": result.ods_count, "map_count": result.map_count})
        finally:
            self._one("step_unlock", params)
        self._warn_if_unreconciled(result)
        log.info("%s %s: %s", step.task_id, result.status, dict(result.counts) or "nothing to do")
        return result

    @property
    def _shared(self) -> bool:
        return self.settings.api_mode == "shared_instance"

    def _warn_if_unreconciled(self, result: StepResult) -> None:
        if result.ods_count is not None and result.ods_count != result.map_count:
            log.warning("%s: the ODS holds %s records but the identity map %s; a resync repairs the drift",
                        result.step.resource, result.ods_count, result.map_count)

    def _post(self, definition: ResourceDefinition, step: Step) -> StepResult:
        if self.options.resync:
            self._refresh_snapshots(definition)
        counts: Counter = Counter()
        ctx = BuildContext(self.school_year, self.mappings, self.settings.data_standard)
        extract_params = {"end_year": self.end_year, "year_start": self.school_year.start,
                          "year_end": self.school_year.end, **dict(definition.extract_params)}
        staged = stage_resource(self.conn, definition, ctx, run_id=self.run_id, params=extract_params,
                                record_failures=lambda failures: self._log_build_failures(definition, failures))
        counts["extracted"] = staged.extracted
        if staged.failed:
            counts["build_failed"] = staged.failed
        params = {**self._ids, "resource": definition.name}
        fingerprint = self._one("staged_fingerprint", params)
        self.conn.execute(queries.engine("resource_run_staged"), {
            **params, "staged_rows": fingerprint[0], "staged_digest": fingerprint[1]})
        ods_count = self._fetch_ods(definition, counts) if self.options.resync else None
        with self.conn.transaction(), self.conn.cursor(row_factory=dict_row) as cur:
            duplicates = cur.execute(queries.engine("mark_duplicates"), params).fetchall()
            if duplicates and definition.merge_duplicates:
                counts["merged"], duplicates = len(duplicates), []
            self._log_marked(definition, duplicates, "duplicate_sis_record",
                             lambda row: f"duplicate of SIS {definition.sis_object_type} {row['kept_object_key']}")
            if self.options.schools:
                cur.execute(queries.engine("mark_out_of_selection"), {**params, "schools": list(self.options.schools)})
            skipped = cur.execute(queries.engine("mark_parent_failed"),
                                  {**params, "shared_instance": self._shared}).fetchall()
            self._log_marked(definition, skipped, "parent_failed",
                             lambda row: f"not sent: a record it references failed in this run: {row['error_message']}")
            unchanged = cur.execute(queries.engine("mark_unchanged"), params).rowcount
        counts.update({k: v for k, v in (("duplicate", len(duplicates)), ("skipped", len(skipped)),
                                         ("unchanged", unchanged)) if v})
        if definition.replace_on:
            counts.update(self._replace(definition))
        sent = self._send(definition, "post_actions", ["POST"] if definition.updates_after else ["POST", "PUT"])
        counts.update(sent)
        result = StepResult(step, "done", counts)
        result.sis_count = self._one("staged_count", params)[0]
        if ods_count is not None and not sent:
            result.ods_count = ods_count
        elif (sent or self.options.resync) and not self.options.dry_run:
            result.ods_count = self._ods_total(definition)
        return result

    def _replace(self, definition: ResourceDefinition) -> Counter:
        """DELETE, ahead of this step's POST, the records whose ``replace_on`` values changed under
        the same key (seed 004: the diploma date), their descendants' records first. A crash in
        between is finished by the rerun: the map still holds what was not yet deleted."""
        cascade = GRAPH.replace_cascade(definition.name)
        order = [definition.name] + [child for _, child, _ in cascade]
        params = {**self._ids, "resource": definition.name}
        off = [name for name in order[1:] if not self._one("resource_enabled", {**params, "resource": name})[0]]
        if off:
            # Their records would block the DELETE (409) and must not be deleted: the POST updates instead.
            log.info("%s: no DELETE/POST while %s is toggled OFF", definition.name, ", ".join(off))
            return Counter()
        with self.conn.transaction():
            self.conn.execute(queries.engine("replace_clear"), {**params, "resources": order})
            self.conn.execute(queries.engine("replace_mark"), params)
            for parent, child, rename in cascade:
                self.conn.execute(queries.engine("replace_mark_children"),
                                  {**params, "parent": parent, "child": child, "rename": Jsonb(rename)})
        counts: Counter = Counter()
        for name in reversed(order):
            sent = self._send(RESOURCES[name], "replace_actions", ["DELETE"])
            prefix = "" if name == definition.name else f"{name}:"
            counts.update({f"{prefix}replace_{key}": n for key, n in sent.items()})
        with self.conn.transaction():
            self.conn.execute(queries.engine("replace_clear"), {**params, "resources": order})
        return counts

    def _fetch_ods(self, definition: ResourceDefinition, counts: Counter) -> int:
        """Resync: page through the resource in the ODS, stage what it holds, drop map rows it lacks."""
        from .stage import natural_key_hash

        path = self.settings.resource_path(definition.name, self.end_year)
        params = {**self._ids, "resource": definition.name,
                  "schools": list(self.options.schools) if self.options.schools else None}
        client = self.client()
        total, offset, page_size = 0, 0, 500
        with self.conn.transaction():
            self.conn.execute(queries.engine("ods_clear"), params)
            while True:
                response = self._loop_run(client.request("GET", path, params={"offset": offset,
                                                                             "limit": page_size}))
                if not response.ok:
                    raise EdFiUnavailable(f"resync of {definition.name}: GET {path} answered {response.status}")
                page = response.body or []
                with self.conn.cursor().copy(queries.engine("ods_copy")) as copy:
                    for item in page:
                        key, hashed = natural_key_hash(definition, item)
                        copy.write_row((self.run_id, self.end_year, definition.name, item["id"], hashed,
                                        json.dumps(key), list(_school_ids(item))))
                total += len(page)
                if len(page) < page_size:
                    break
                offset += page_size
            self.conn.execute(queries.engine("staging_analyze"))
            dropped = self.conn.execute(queries.engine("resync_drop_missing"),
                                        {**params, "dry_run": self.options.dry_run}).fetchone()[0]
        counts["ods_records"] = total
        if dropped:
            counts["would_map_drop" if self.options.dry_run else "map_dropped"] = dropped
            log.info("resync %s: %d identity-map rows have no ODS record%s", definition.name, dropped,
                     " (dry run: kept)" if self.options.dry_run else " and were dropped")
        return total

    def _ods_total(self, definition: ResourceDefinition) -> int | None:
        """Reconciliation: the ODS's Total-Count for the resource."""
        path = self.settings.resource_path(definition.name, self.end_year)
        response = self._loop_run(self.client().request("GET", path, params={"limit": 1, "totalCount": "true"}))
        value = response.headers.get("total-count") if response.ok else None
        return int(value) if value is not None and value.isdigit() else None

    def _delete(self, definition: ResourceDefinition, step: Step) -> StepResult:
        if not definition.deletable:
            return StepResult(step, "done")
        if definition.deleted_only_by_all_schools_resync and not (self.options.resync and not self.options.schools):
            log.info("delete.%s: deleted only by a resync on all schools; nothing deleted", definition.name)
            return StepResult(step, "waits_for_all_schools_resync")
        post = self._one("resource_run_status", {**self._ids, "resource": definition.name, "phase": "post"})
        self._check_stage(definition, post)
        counts: Counter = Counter()
        if self.options.resync:
            # Strays first: once a gone record leaves the map, it would look like a stray too.
            strays = self._send(definition, "stray_actions", ["DELETE"])
            counts.update({key.replace("DELETE", "stray_DELETE"): n for key, n in strays.items()})
        counts.update(self._send(definition, "delete_actions", ["DELETE"], staged_at=post[1]))
        return StepResult(step, "done", counts)

    def _check_stage(self, definition: ResourceDefinition, post) -> None:
        """Without this run's complete stage every map row would look gone (SPEC §5.7)."""
        name = definition.name
        if post is None or post[0] != "done":
            why = "did not run" if post is None else f"did not complete (status {post[0]})"
        else:
            rows, digest = self._one("staged_fingerprint", {**self._ids, "resource": name})
            if (rows, digest) == (post[2], post[3]):
                return
            why = (f"staged {post[2]} records but {rows} are left (cleared when the run finished, "
                   f"or lost with the unlogged staging table)")
        raise StageIncomplete(f"delete.{name} refuses to run: post.{name} of run {self.run_id} {why}; "
                              f"nothing was deleted: rerun post.{name} (with its downstream tasks).")

    def _refresh_snapshots(self, definition: ResourceDefinition) -> None:
        """A resync of the owner takes the current mapping values (SPEC §5); fields owned by
        something that is not a resource (sessions) refresh with a resync of a reader."""
        owners = {definition.name} | {owner for owner, _ in definition.mapping_fields if owner not in RESOURCES}
        if self.options.dry_run:
            self._current_owners |= owners
            self._load_mappings()
            return
        with self.conn.transaction():
            self.conn.execute(queries.engine("snapshot_lock"), self._ids)
            for owner in sorted(owners):
                self._take_snapshot(owner)
        self._load_mappings()

    # -- sending -----------------------------------------------------------------------------

    def _send(self, definition: ResourceDefinition, query: str, actions: list[str], staged_at=None) -> Counter:
        counts: Counter = Counter()
        params = {**self._ids, "resource": definition.name, "actions": actions,
                  "key_change_by_put": definition.key_change == "put",
                  "schools": list(self.options.schools) if self.options.schools else None,
                  "lea_level": definition.level == "lea", "shared_instance": self._shared, "staged_at": staged_at}
        self._sending = self._progress(definition, query, actions)
        with psycopg.connect(self.conninfo) as reader, reader.cursor(name="actions", row_factory=dict_row) as cur:
            cur.execute(queries.engine(query), params)
            if self.options.dry_run:
                while page := cur.fetchmany(READ_PAGE):
                    counts.update(f"would_{row['action']}" for row in page)
            else:
                self._loop_run(self._stream(definition, cur, counts))
        return counts

    def _progress(self, definition: ResourceDefinition, query: str, actions: list[str]) -> Progress:
        """Progress lines of a send; POST/PUT know their total from the stage, DELETEs do not."""
        total = None
        if query == "post_actions":
            new, known = self._one("pending_count", {**self._ids, "resource": definition.name})
            total = (new if "POST" in actions else 0) + (known if "PUT" in actions else 0)
        return Progress(f"{'/'.join(actions)} {definition.name} {self.end_year}", total)

    def _loop_run(self, coro):
        client = self.client()  # opens the loop and session on first use
        assert self._loop is not None and client is not None
        return self._loop.run(coro)

    async def _stream(self, definition: ResourceDefinition, cur, counts: Counter) -> None:
        """Send a step's actions keeping the limit's worth of requests in flight from the first to
        the last: a reader pages the action cursor into a bounded queue, and answers are written
        to the database behind the requests, one transaction per group (see :meth:`_record`), so
        neither the cursor nor the database ever drains the pipe. A systemic failure stops new
        requests; those in flight finish and are recorded before it is raised."""
        loop = asyncio.get_running_loop()
        limit = self._client.limit
        path = self.settings.resource_path(definition.name, self.end_year)
        rows: asyncio.Queue = asyncio.Queue(SEND_QUEUE)
        answered: list[tuple[dict, Any]] = []
        failures: list[BaseException] = []
        pending: set[asyncio.Task] = set()
        room = asyncio.Event()  # set when a request ends or a write does: the dispatcher looks again
        writing: asyncio.Future | None = None
        last_write = loop.time()
        halted = False  # the dispatcher failed: the reader stops too

        async def read() -> None:
            while not (failures or halted):
                page = await asyncio.to_thread(cur.fetchmany, READ_PAGE)
                for row in page:
                    await rows.put(row)
                if len(page) < READ_PAGE:
                    break
            await rows.put(None)

        async def send(row: dict) -> None:
            try:
                answered.append((row, await self._request(path, row)))
            except Exception as exc:  # systemic (EdFiUnavailable): the step stops, the run fails
                failures.append(exc)

        def ended(task: asyncio.Task) -> None:
            pending.discard(task)
            room.set()

        def write(force: bool = False) -> None:
            nonlocal writing, last_write
            if writing is not None:
                if not writing.done():
                    return
                writing.result()  # a database failure surfaces here
                writing = None
            if answered and (force or len(answered) >= RECORD_GROUP or loop.time() - last_write >= RECORD_EVERY):
                group = answered[:]
                answered.clear()
                writing = asyncio.ensure_future(asyncio.to_thread(
                    self._record, definition, [row for row, _ in group], [answer for _, answer in group], counts))
                writing.add_done_callback(lambda _: room.set())
                last_write = loop.time()

        reader = asyncio.create_task(read())
        try:
            while (row := await rows.get()) is not None:
                if failures:
                    continue  # drain: the reader stops after its page
                write()
                # Queue a few more than the limit lets through, so a freed slot is taken at once.
                while len(pending) >= 2 * limit.limit or len(answered) >= RECORD_BACKLOG:
                    room.clear()
                    await room.wait()
                    write()
                task = asyncio.create_task(send(row))
                pending.add(task)
                task.add_done_callback(ended)
        except BaseException:
            halted = True
            while not reader.done():  # unblock the reader; it stops after its page
                with contextlib.suppress(asyncio.QueueEmpty):
                    rows.get_nowait()
                await asyncio.sleep(0.01)
            raise
        finally:
            await reader
            if pending:
                await asyncio.wait(pending)
            if writing is not None:
                await writing
                writing = None
            write(force=True)
            if writing is not None:
                await writing
        if failures:
            raise failures[0]

    async def _request(self, path: str, row: dict) -> ApiResponse:
        client = self._client
        action = row["action"]
        if action == "POST":
            return await client.request("POST", path, json_body=row["payload"])
        if action == "PUT":
            return await client.request("PUT", f"{path}/{row['edfi_id']}", json_body=row["payload"])
        return await client.request("DELETE", f"{path}/{row['edfi_id']}")

    def _record(self, definition: ResourceDefinition, batch: list[dict], responses: list, counts: Counter) -> None:
        """Outcomes of one group of answers: identity map, error log and staged statuses in one transaction."""
        upserts, map_deletes, errors, resolved, statuses = [], [], [], [], []
        key = {**self._ids, "resource": definition.name}
        self._sending.advance(len(batch), counts)  # a progress line now and then (long steps)
        for row, response in zip(batch, responses):
            if isinstance(response, BaseException):
                continue
            action = row["action"]
            if response.ok:
                counts[f"{action}.ok"] += 1
                if action == "DELETE":
                    map_deletes.append({**key, "natural_key_hash": row["natural_key_hash"]})
                    if row.get("sis_object_key"):  # a stray has none
                        resolved.append({**key, "sis_object_key": row["sis_object_key"]})
                    continue
                if row.get("old_key_hash"):
                    map_deletes.append({**key, "natural_key_hash": row["old_key_hash"]})
                upserts.append({**key, "natural_key_hash": row["natural_key_hash"],
                                "natural_key": Jsonb(row["natural_key"]),
                                "sis_object_type": definition.sis_object_type,
                                "sis_object_key": row["sis_object_key"],
                                "edfi_id": response.resource_id or row["edfi_id"],
                                "payload_hash": row["payload_hash"], "student_unique_id": row["student_unique_id"],
                                "school_ids": row["school_ids"], "status": response.status,
                                "replace_hash": row.get("replace_hash")})
                resolved.append({**key, "sis_object_key": row["sis_object_key"]})
                statuses.append({**key, "seq": row["seq"], "status": "sent", "error_code": None,
                                 "error_message": None})
                continue
            error = classify(response.status, response.body, action)
            if response.status == 404:
                counts[f"{action}.not_found"] += 1
                map_deletes.append({**key, "natural_key_hash": row.get("old_key_hash") or row["natural_key_hash"]})
            else:
                counts[f"{action}.failed"] += 1
            errors.append(self._error_row(definition, row, action, error))
            if "seq" in row:
                statuses.append({**key, "seq": row["seq"], "status": "failed", "error_code": error.code,
                                 "error_message": error.message})
        with self.conn.transaction(), self.conn.cursor() as cur:
            for name, rows in (("map_delete", map_deletes), ("map_upsert", upserts), ("error_insert", errors),
                               ("errors_resolve", resolved), ("staged_set_status", statuses)):
                if rows:
                    cur.executemany(queries.engine(name), rows)

    def _error_row(self, definition: ResourceDefinition, row: dict, action: str, error: EdFiError) -> dict:
        school_ids = row.get("school_ids") or []
        return {
            **self._ids, "resource": definition.name, "sis_object_key": row.get("sis_object_key"),
            "natural_key_hash": row.get("natural_key_hash"), "action": action, "status": error.status,
            "error_code": error.code, "error_class": error.entry.error_class, "message": error.message,
            "validation_errors": Jsonb(error.validation_errors) if error.validation_errors else None,
            "cause": error.entry.cause, "fix": error.entry.fix,
            "request_body": Jsonb(redact(row["payload"])) if row.get("payload") else None,
            "student_unique_id": row.get("student_unique_id"), "student_name": row.get("student_name"),
            "school_id": school_ids[0] if school_ids else None,
        }

    def _log_build_failures(self, definition: ResourceDefinition, failures: list[StagedFailure]) -> None:
        if self.options.dry_run:  # counted in the summary; a dry run writes no error rows
            return
        rows = [self._error_row(definition, {
            "sis_object_key": f.sis_object_key, "natural_key_hash": f.natural_key_hash, "payload": f.body,
            "student_unique_id": f.student_unique_id, "student_name": f.student_name,
            "school_ids": list(f.school_ids)}, "BUILD", own_error(f.error_code, f.message, f.validation_errors))
            for f in failures]
        with self.conn.cursor() as cur:
            cur.executemany(queries.engine("error_insert"), rows)

    def _log_marked(self, definition: ResourceDefinition, marked: list[dict], code: str,
                    describe: Callable[[dict], str]) -> None:
        """Error rows for records the diff set aside (duplicates, children of failed parents)."""
        rows = [self._error_row(definition, row, "POST", own_error(code, describe(row))) for row in marked]
        if rows and not self.options.dry_run:
            with self.conn.cursor() as cur:
                cur.executemany(queries.engine("error_insert"), rows)


class SystemicFailure(RuntimeError):
    """Database or Ed-Fi unreachable, credentials refused: the run fails (non-zero exit)."""

    def __init__(self, message: str, summary: RunSummary):
        super().__init__(message)
        self.summary = summary
