"""The three steps of a resource (SPEC §5): post (stage, diff, POST/PUT), update (PUTs that wait
for other resources), delete (what the SIS no longer yields). Each is idempotent: a rerun sends only
what is still needed."""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Mapping

from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from ..resources import GRAPH, RESOURCES
from ..resources.base import BuildContext, ResourceDefinition
from ..resources.graph import Step
from . import ods, queries
from .memo import memo_use
from .partitions import WHOLE, Partition
from .stage import stage_resource

if TYPE_CHECKING:
    import psycopg

    from .runner import YearSync

log = logging.getLogger(__name__)


class StageIncomplete(RuntimeError):
    """A delete step found its run's stage no longer as post.X wrote it (SPEC §5.7): reading it
    would take every missing record for gone. It refuses instead."""


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
        return record_errors(self.counts)


def record_errors(counts: Mapping[str, int]) -> int:
    """Records a step's counts say were logged as errors (what fail_on_record_errors and alerts count)."""
    return sum(n for key, n in counts.items()
               if key.endswith(".failed") or key in ("build_failed", "skipped", "duplicate"))


def post(run: "YearSync", definition: ResourceDefinition, step: Step, partition: Partition = WHOLE) -> StepResult:
    """Stage what the SIS yields now (for one partition's students), set aside duplicates and
    children of failed parents, then POST new keys and PUT changed payloads (PUTs wait for
    ``updates_after`` resources)."""
    if run.options.resync:
        run.refresh_snapshots(definition)
    counts: Counter = Counter()
    ctx = BuildContext(run.school_year, run.mappings, run.settings.data_standard)
    extract_params = {"end_year": run.end_year, "year_start": run.school_year.start,
                      "year_end": run.school_year.end, **dict(definition.extract_params)}
    staged = stage_resource(run.conn, definition, ctx, run_id=run.run_id, params=extract_params,
                            use=memo_use(run, definition), partition=partition,
                            record_failures=lambda failures: run.error_log.build_failures(definition, failures))
    counts["extracted"] = staged.extracted
    if staged.not_rebuilt:
        counts["not_rebuilt"] = staged.not_rebuilt
    if staged.failed:
        counts["build_failed"] = staged.failed
    params = {**run.ids, "resource": definition.name, **partition.params}
    fingerprint = run.one("staged_fingerprint", params)
    run.conn.execute(queries.engine("resource_run_staged"), {
        **params, "staged_rows": fingerprint[0], "staged_digest": fingerprint[1]})
    ods_count = ods.fetch(run, definition, counts) if run.options.resync else None
    with run.conn.transaction(), run.conn.cursor(row_factory=dict_row) as cur:
        parents = sorted({ref.resource for ref in definition.references})
        unsettled = cur.execute(queries.engine("parents_unsettled"), {**params, "parents": parents}).fetchone()
        cur.execute(queries.engine("hash_joins"))
        cur.execute(queries.engine("stage_range_scans"))
        duplicates = cur.execute(queries.engine("mark_duplicates"), params).fetchall()
        if duplicates and definition.merge_duplicates:
            counts["merged"], duplicates = len(duplicates), []
        run.error_log.marked(definition, duplicates, "duplicate_sis_record",
                             lambda row: f"duplicate of SIS {definition.sis_object_type} {row['kept_object_key']}")
        if run.options.schools or run.options.selective:
            cur.execute(queries.engine("mark_out_of_selection"), {**params, **run.options.selection(definition.name)})
        skipped = cur.execute(queries.engine("mark_parent_failed"), {
            **params, "shared_instance": run.shared_instance, "unstaged_parents": unsettled["unstaged"],
        }).fetchall() if unsettled["unstaged"] or unsettled["failed"] else []
        run.error_log.marked(definition, skipped, "parent_failed",
                             lambda row: f"not sent: a record it references failed in this run: {row['error_message']}")
        unchanged = cur.execute(queries.engine("mark_unchanged"), params).fetchone()["unchanged"]
        if run.options.selective:
            cur.execute(queries.engine("mark_cascades"), params)
        run.error_log.resolve_staged(definition, partition)
    counts.update({k: v for k, v in (("duplicate", len(duplicates)), ("skipped", len(skipped)),
                                     ("unchanged", unchanged)) if v})
    if definition.replace_on:
        counts.update(_replace(run, definition, partition))
    sent = run.sender.send(definition, "post_actions", ["POST"] if definition.updates_after else ["POST", "PUT"],
                           partition=partition)
    counts.update(sent)
    result = StepResult(step, "done", counts)
    result.sis_count = run.one("staged_count", params)[0]
    if ods_count is not None and not sent:
        result.ods_count = ods_count
    elif (sent or run.options.resync) and not run.options.dry_run and not partition.split:
        # A partition's ODS count would be taken while the others still send: reconciling it with
        # the identity map would warn of drift that is not there.
        result.ods_count = ods.total(run, definition)
    return result


def update(run: "YearSync", definition: ResourceDefinition, step: Step, partition: Partition = WHOLE) -> StepResult:
    """The PUTs a resource's post step left for later (students, once their SSAs are sent), of
    every partition."""
    return StepResult(step, "done", run.sender.send(definition, "post_actions", ["PUT"]))


def delete(run: "YearSync", definition: ResourceDefinition, step: Step, partition: Partition = WHOLE) -> StepResult:
    """DELETE the map rows the run's complete stage (every partition's) no longer holds (and, on a
    resync, strays)."""
    if not definition.deletable:
        return StepResult(step, "done")
    if definition.deleted_only_by_all_schools_resync and not (run.options.resync and not run.options.schools):
        log.info("delete.%s: deleted only by a resync on all schools; nothing deleted", definition.name)
        return StepResult(step, "waits_for_all_schools_resync")
    staged_at = _check_stage(run, definition)
    counts: Counter = Counter()
    if run.options.resync:
        # Strays first: once a gone record leaves the map, it would look like a stray too.
        strays = run.sender.send(definition, "stray_actions", ["DELETE"])
        counts.update({key.replace("DELETE", "stray_DELETE"): n for key, n in strays.items()})
    counts.update(run.sender.send(definition, "delete_actions", ["DELETE"], staged_at=staged_at))
    return StepResult(step, "done", counts)


PHASES = {"post": post, "update": update, "delete": delete}


def post_partitions(conn: "psycopg.Connection", run_id: str, resource: str) -> list:
    """The ledger rows of the latest attempt of ``resource``'s post step, one per partition."""
    rows = conn.execute(queries.engine("resource_run_status"),
                        {"run_id": run_id, "resource": resource, "phase": "post"}).fetchall()
    count = rows[-1][1] if rows else 1
    return [row for row in rows if row[1] == count]


def _check_stage(run: "YearSync", definition: ResourceDefinition):
    """Without this run's complete stage every map row would look gone (SPEC §5.7): every partition
    of post.X must have finished and still hold what it staged. The earliest partition's start is
    the stage's time: map rows sent after it are another run's business."""
    name = definition.name
    rows = post_partitions(run.conn, run.run_id, name)
    count = rows[-1][1] if rows else 1
    by_index = {row[0]: row for row in rows}
    for index in range(count):
        which = f"post.{name}" + (f" (partition {index} of {count})" if count > 1 else "")
        row = by_index.get(index)
        if row is None or row[2] != "done":
            why = "did not run" if row is None else f"did not complete (status {row[2]})"
        else:
            staged, digest = run.one("staged_fingerprint",
                                     {**run.ids, "resource": name, **Partition(index, count).params})
            if (staged, digest) == (row[4], row[5]):
                continue
            why = (f"staged {row[4]} records but {staged} are left (cleared when the run finished, "
                   f"or lost with the unlogged staging table)")
        raise StageIncomplete(f"delete.{name} refuses to run: {which} of run {run.run_id} {why}; "
                              f"nothing was deleted: rerun post.{name} (with its downstream tasks).")
    return min(row[3] for row in rows)


def _replace(run: "YearSync", definition: ResourceDefinition, partition: Partition) -> Counter:
    """DELETE, ahead of this step's POST, the records whose ``replace_on`` values changed under
    the same key (seed 004: the diploma date), their descendants' records first. A crash in
    between is finished by the rerun: the map still holds what was not yet deleted."""
    cascade = GRAPH.replace_cascade(definition.name)
    order = [definition.name] + [child for _, child, _ in cascade]
    params = {**run.ids, "resource": definition.name, **partition.params}
    off = [name for name in order[1:] if not run.one("resource_enabled", {**params, "resource": name})[0]]
    if off:
        # Their records would block the DELETE (409) and must not be deleted: the POST updates instead.
        log.info("%s: no DELETE/POST while %s is toggled OFF", definition.name, ", ".join(off))
        return Counter()
    with run.conn.transaction():
        run.conn.execute(queries.engine("replace_clear"), {**params, "resources": order})
        run.conn.execute(queries.engine("replace_mark"), params)
        for parent, child, rename in cascade:
            run.conn.execute(queries.engine("replace_mark_children"),
                             {**params, "parent": parent, "child": child, "rename": Jsonb(rename)})
    counts: Counter = Counter()
    for name in reversed(order):
        sent = run.sender.send(RESOURCES[name], "replace_actions", ["DELETE"], partition=partition)
        prefix = "" if name == definition.name else f"{name}:"
        counts.update({f"{prefix}replace_{key}": n for key, n in sent.items()})
    with run.conn.transaction():
        run.conn.execute(queries.engine("replace_clear"), {**params, "resources": order})
    return counts
