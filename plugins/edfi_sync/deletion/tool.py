"""The Delete Tool against a school year's ODS and the connector database: a preview (GETs only)
stores a plan; a run deletes exactly that plan's records, once, children first.

It borrows a year's scope and Ed-Fi client from :class:`~edfi_sync.engine.runner.YearSync` (the
same connection, token cache and retries as a sync) and writes no run ledger of a sync: the plan
is its ledger.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import asdict, dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import Any, Callable, Iterable

from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from ..engine.errors import classify
from ..engine.runner import SyncOptions, YearSync, edfi_settings
from ..hooks.client import EdFiSettings, EdFiUnavailable
from ..paths import read_sql
from ..resources import RESOURCES
from .plan import Lookup, Planned, Target, counts, decide, dependent_lookups, target_lookup

log = logging.getLogger(__name__)

PAGE_SIZE = 500


class PlanRefused(RuntimeError):
    """A plan that cannot run: unknown, of another school year, or already run."""


@lru_cache(maxsize=None)
def _sql(name: str) -> str:
    return read_sql(f"deletion/{name}.sql")


@dataclass
class Plan:
    """A stored plan: its records as the plan table keeps them (children first), and its state."""

    plan_id: str
    end_year: int
    status: str
    records: list[dict[str, Any]] = field(default_factory=list)
    requested: list[dict[str, Any]] = field(default_factory=list)
    executed_by: str | None = None
    message: str | None = None
    created_at: datetime | None = None

    def counts(self) -> dict[str, int]:
        return counts(self.records)


class _Ods:
    """The GETs a preview makes, and the DELETEs of a run."""

    def __init__(self, run: YearSync):
        self.run = run
        self.client = run.client()

    def path(self, resource: str) -> str:
        return self.run.settings.resource_path(resource, self.run.end_year)

    def _get(self, path: str, params: dict[str, Any] | None = None):
        response = self.run.loop_run(self.client.request("GET", path, params=params))
        if response.status == 404:
            return None
        if not response.ok:
            error = classify(response.status, response.body, "GET")
            raise EdFiUnavailable(f"GET {path} answered {response.status} ({error.code}): {error.message}")
        return response.body

    def by_id(self, resource: str, edfi_id: str) -> dict | None:
        body = self._get(f"{self.path(resource)}/{edfi_id}")
        return body if isinstance(body, dict) else None

    def search(self, lookup: Lookup) -> list[dict]:
        """Every record of the lookup, page by page."""
        found, offset = [], 0
        while True:
            page = self._get(self.path(lookup.resource), {**lookup.params, "offset": offset, "limit": PAGE_SIZE}) or []
            found += [body for body in page if lookup.matches(body)]
            if len(page) < PAGE_SIZE:
                return found
            offset += PAGE_SIZE

    def delete(self, records: list[dict]) -> list:
        """One DELETE per record, concurrently (the client keeps its in-flight limit); an answer or
        the exception of each."""
        requests = [self.client.request("DELETE", f"{self.path(r['resource'])}/{r['edfi_id']}") for r in records]

        async def every():
            return await asyncio.gather(*requests, return_exceptions=True)

        return self.run.loop_run(every())


def _year(end_year: int, run_id: str, conninfo: str | None, settings_for) -> YearSync:
    return YearSync(end_year, SyncOptions(), run_id=run_id, conninfo=conninfo, settings_for=settings_for)


def preview(end_year: int, targets: list[Target], *, plan_id: str, conninfo: str | None = None,
            settings_for: Callable[[str], EdFiSettings] = edfi_settings) -> Plan:
    """Find the targets and every record that references them (GETs only), decide, store the plan."""
    with _year(end_year, plan_id, conninfo, settings_for) as run:
        run.enter_scope()
        records = _find(_Ods(run), targets)
        _mark_ours(run, records)
        rows = [{"seq": seq, **asdict(record)} for seq, record in enumerate(decide(records), start=1)]
        for row in rows:
            del row["explicit"]
        with run.conn.transaction(), run.conn.cursor() as cur:
            cur.execute(_sql("plan_insert"), {"plan_id": plan_id, "end_year": end_year,
                                              "requested": Jsonb([t.as_dict() for t in targets]),
                                              "summary": Jsonb(counts(rows))})
            cur.executemany(_sql("plan_record_insert"), [
                {**row, "plan_id": plan_id, "natural_key": Jsonb(row["natural_key"])} for row in rows])
        plan = load(run.conn, plan_id)
    log.info("delete plan %s (school year %s): %s", plan_id, end_year, plan.counts())
    return plan


def _find(ods: _Ods, targets: Iterable[Target]) -> list[Planned]:
    """The targets, then breadth first the records that reference what was found."""
    records: list[Planned] = []
    bodies: list[dict | None] = []
    index: dict[tuple[str, str], int] = {}

    def add(resource: str, body: dict, role: str, parent: int | None) -> int | None:
        """The record's index; None when it was found before (its new parent is added to it)."""
        found = index.get((resource, body["id"]))
        if found is not None:
            record = records[found]
            if parent is not None and parent not in record.depends_on:
                record.depends_on.append(parent)
                record.depth = max(record.depth, records[parent].depth + 1)
            if role == "target":
                record.role, record.explicit = "target", True
            return None
        records.append(Planned(resource, body["id"], RESOURCES[resource].reference_key(body), role,
                               depends_on=[] if parent is None else [parent],
                               depth=0 if parent is None else records[parent].depth + 1, explicit=role == "target"))
        bodies.append(body)
        index[(resource, body["id"])] = len(records) - 1
        return len(records) - 1

    frontier: list[int] = []
    for item in targets:
        body = ods.by_id(item.resource, item.edfi_id) if item.edfi_id else next(iter(ods.search(target_lookup(item))),
                                                                                None)
        if body is None:
            records.append(Planned(item.resource, None, dict(item.key) or None, "target", explicit=True))
            bodies.append(None)
            continue
        new = add(item.resource, body, "target", None)
        frontier += [] if new is None else [new]
    while frontier:
        parent = frontier.pop(0)
        for lookup in dependent_lookups(records[parent].resource, bodies[parent]):
            for body in ods.search(lookup):
                new = add(lookup.resource, body, "dependent", parent)
                frontier += [] if new is None else [new]
    return records


def _mark_ours(run: YearSync, records: list[Planned]) -> None:
    """Which records the identity map holds (ours), with their SIS keys."""
    by_resource: dict[str, list[Planned]] = {}
    for record in records:
        if record.edfi_id:
            by_resource.setdefault(record.resource, []).append(record)
    for resource, found in by_resource.items():
        rows = run.conn.execute(_sql("identity"), {
            "resource": resource, "ids": [r.edfi_id for r in found], "end_year": run.end_year,
            "shared_instance": run.shared_instance}).fetchall()
        ours = {edfi_id: (key, student) for edfi_id, key, student in rows}
        for record in found:
            if record.edfi_id in ours:
                record.in_identity_map = True
                record.sis_object_key, record.student_unique_id = ours[record.edfi_id]


def load(conn, plan_id: str) -> Plan | None:
    """A stored plan with its records (any connection that may read the plan tables)."""
    with conn.cursor(row_factory=dict_row) as cur:
        head = cur.execute(_sql("plan"), {"plan_id": plan_id}).fetchone()
        if head is None:
            return None
        records = cur.execute(_sql("plan_records"), {"plan_id": plan_id}).fetchall()
    return Plan(plan_id, head["end_year"], head["status"], records, head["requested"], head["executed_by"],
                head["message"], head["created_at"])


def execute(end_year: int, plan_id: str, *, run_id: str, conninfo: str | None = None,
            settings_for: Callable[[str], EdFiSettings] = edfi_settings) -> Plan:
    """Delete exactly the plan's records, children first, under the step locks of their resources;
    a record whose dependent could not be deleted is skipped (the ODS would refuse it)."""
    with _year(end_year, run_id, conninfo, settings_for) as run:
        run.enter_scope()
        if run.conn.execute(_sql("plan_start"), {"plan_id": plan_id, "end_year": end_year,
                                                 "run_id": run_id}).fetchone() is None:
            raise PlanRefused(_refusal(run, plan_id, end_year))
        plan = load(run.conn, plan_id)
        locked: list[str] = []
        try:
            for resource in sorted({r["resource"] for r in plan.records if r["action"] == "delete"}):
                log.info("delete plan %s: waiting for the step lock of %s %s", plan_id, end_year, resource)
                run.one("step_lock", {"end_year": end_year, "resource": resource})
                locked.append(resource)
            _delete(run, plan)
        except BaseException as exc:
            _finish(run, plan_id, "failed", str(exc))
            raise
        finally:
            for resource in locked:
                run.one("step_unlock", {"end_year": end_year, "resource": resource})
        plan = _finish(run, plan_id, "done")
    log.info("delete plan %s run by %s: %s", plan_id, run_id, plan.counts())
    return plan


def _delete(run: YearSync, plan: Plan) -> None:
    """In waves: a record goes once every record that references it has gone."""
    ods = _Ods(run)
    referenced_by: dict[int, list[int]] = {r["seq"]: [] for r in plan.records}
    for record in plan.records:
        for parent in record["depends_on"]:
            referenced_by[parent].append(record["seq"])
    outcome: dict[int, str] = {}
    pending = {r["seq"]: r for r in plan.records if r["action"] == "delete"}
    while pending:
        wave = [r for r in pending.values() if not any(c in pending for c in referenced_by[r["seq"]])]
        blocked = [r for r in wave if any(outcome.get(c) in ("failed", "skipped") for c in referenced_by[r["seq"]])]
        ready = [r for r in wave if r not in blocked]
        answers = ods.delete(ready)
        results = [(r, "skipped", None, "a record that references it could not be deleted") for r in blocked]
        failure = None
        for record, answer in zip(ready, answers):
            if isinstance(answer, BaseException):
                failure = failure or answer
                continue
            if answer.ok or answer.status == 404:
                results.append((record, "deleted" if answer.ok else "not_found", answer.status, None))
            else:
                error = classify(answer.status, answer.body, "DELETE")
                results.append((record, "failed", answer.status, f"{error.code}: {error.message}"))
        _record(run, plan.plan_id, results)
        for record, state, *_ in results:
            outcome[record["seq"]] = state
        if failure is not None:
            raise failure
        for record in wave:
            del pending[record["seq"]]


def _record(run: YearSync, plan_id: str, results: list[tuple[dict, str, int | None, str | None]]) -> None:
    """Outcomes of a wave, and the identity map and error log they change, in one transaction."""
    with run.conn.transaction(), run.conn.cursor() as cur:
        for record, state, status, message in results:
            cur.execute(_sql("record_outcome"), {"plan_id": plan_id, "seq": record["seq"], "outcome": state,
                                                 "http_status": status, "message": message})
            if state not in ("deleted", "not_found"):
                continue
            forgotten = cur.execute(_sql("map_forget"), {
                "resource": record["resource"], "edfi_id": record["edfi_id"], "end_year": run.end_year,
                "shared_instance": run.shared_instance}).fetchall()
            for end_year, sis_object_key in forgotten:
                cur.execute(_sql("errors_resolve"), {"run_id": run.run_id, "end_year": end_year,
                                                     "resource": record["resource"], "sis_object_key": sis_object_key})


def _finish(run: YearSync, plan_id: str, status: str, message: str | None = None) -> Plan:
    """The plan's end, with the counts of what its run did."""
    plan = load(run.conn, plan_id)
    run.conn.execute(_sql("plan_finish"), {"plan_id": plan_id, "status": status, "message": message,
                                           "summary": Jsonb(plan.counts())})
    plan.status, plan.message = status, message
    return plan


def _refusal(run: YearSync, plan_id: str, end_year: int) -> str:
    with run.conn.cursor(row_factory=dict_row) as cur:
        head = cur.execute(_sql("plan"), {"plan_id": plan_id}).fetchone()
    if head is None:
        return f"no delete plan {plan_id!r}: preview first, then run the plan the preview stored"
    if head["end_year"] != end_year:
        return f"plan {plan_id} is of school year {head['end_year']}, not {end_year}"
    return (f"plan {plan_id} was already run by {head['executed_by']} ({head['status']}): a plan runs once; "
            "preview again to delete what is left")
