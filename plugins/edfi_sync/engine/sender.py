"""Sending a step's actions (SPEC §5.4–5.5): a full pipe of requests, answers recorded behind it.

The actions come from a SQL cursor (post_actions, delete_actions, ...); each answer lands in the
identity map, the error log and the staged statuses, a group per transaction, so a crash loses at
most the answers not yet written, which a rerun sends again (POST is an upsert by natural key).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import Counter
from typing import TYPE_CHECKING, Any

import psycopg
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from ..hooks.client import ApiResponse
from ..resources.base import ResourceDefinition
from . import queries
from .errors import classify
from .partitions import Partition
from .progress import Progress

if TYPE_CHECKING:
    from .runner import YearSync

log = logging.getLogger(__name__)

READ_PAGE = 500        # actions fetched from the cursor at a time
SEND_QUEUE = 1_000     # actions read ahead of the requests: memory stays bounded whatever the count
RECORD_GROUP = 500     # answers written per transaction
RECORD_EVERY = 0.25    # seconds: a slow step still writes its answers this often
RECORD_BACKLOG = 4_000  # answers waiting for the database before sending pauses


class Sender:
    """Sends the actions of one query for one resource and records every answer."""

    def __init__(self, run: "YearSync"):
        self.run = run
        self._progress = Progress("send")

    def send(self, definition: ResourceDefinition, query: str, actions: list[str], staged_at=None,
             partition: Partition | None = None) -> Counter:
        """Every action ``query`` yields (a dry run only counts them as ``would_<ACTION>``): of one
        partition's stage, or (None) of every partition's."""
        run = self.run
        counts: Counter = Counter()
        params = {**run.ids, "resource": definition.name, "actions": actions,
                  "partition": partition.index if partition else None,
                  "key_change_by_put": definition.key_change == "put", **run.options.selection(definition.name),
                  "lea_level": definition.level == "lea", "shared_instance": run.shared_instance,
                  "staged_at": staged_at}
        self._progress = self._progress_for(definition, query, actions, params["partition"])
        with psycopg.connect(run.conninfo) as reader, reader.cursor(name="actions", row_factory=dict_row) as cur:
            cur.execute(queries.engine(query), params)
            if run.options.dry_run:
                while page := cur.fetchmany(READ_PAGE):
                    counts.update(f"would_{row['action']}" for row in page)
            else:
                run.loop_run(self._stream(definition, cur, counts))
        return counts

    def _progress_for(self, definition: ResourceDefinition, query: str, actions: list[str],
                      partition: int | None) -> Progress:
        """Progress lines of a send; POST/PUT know their total from the stage, DELETEs do not."""
        total = None
        if query == "post_actions":
            new, known = self.run.one("pending_count", {**self.run.ids, "resource": definition.name,
                                                        "partition": partition})
            total = (new if "POST" in actions else 0) + (known if "PUT" in actions else 0)
        return Progress(f"{'/'.join(actions)} {definition.name} {self.run.end_year}", total)

    async def _stream(self, definition: ResourceDefinition, cur, counts: Counter) -> None:
        """Send a step's actions keeping the limit's worth of requests in flight from the first to
        the last: a reader pages the action cursor into a bounded queue, and answers are written
        to the database behind the requests, one transaction per group (see :meth:`_record`), so
        neither the cursor nor the database ever drains the pipe. A systemic failure stops new
        requests; those in flight finish and are recorded before it is raised."""
        loop = asyncio.get_running_loop()
        client = self.run.client()
        limit = client.limit
        path = self.run.settings.resource_path(definition.name, self.run.end_year)
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
                answer = await self._request(client, path, row)
                if row["action"] == "PUT" and answer.status == 404:
                    # The record vanished from the ODS (deleted behind the sync's back): post its
                    # staged payload again now, rather than wait for the next run.
                    row = {**row, "action": "POST", "vanished": True}
                    answer = await self._request(client, path, row)
                answered.append((row, answer))
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

    @staticmethod
    async def _request(client, path: str, row: dict) -> ApiResponse:
        action = row["action"]
        if action == "POST":
            return await client.request("POST", path, json_body=row["payload"])
        if action == "PUT":
            return await client.request("PUT", f"{path}/{row['edfi_id']}", json_body=row["payload"])
        return await client.request("DELETE", f"{path}/{row['edfi_id']}")

    def _record(self, definition: ResourceDefinition, batch: list[dict], responses: list, counts: Counter) -> None:
        """Outcomes of one group of answers: identity map, error log and staged statuses in one
        transaction, one statement each for the whole group."""
        run = self.run
        upserts, map_deletes, errors, resolved, statuses = [], [], [], [], []
        key = {**run.ids, "resource": definition.name}
        self._progress.advance(len(batch), counts)  # a progress line now and then (long steps)
        for row, response in zip(batch, responses):
            if isinstance(response, BaseException):
                continue
            action = row["action"]
            if row.get("vanished"):
                counts["PUT.not_found"] += 1
            if response.ok or _deleted_by_an_earlier_attempt(action, response):
                counts[f"{action}.ok"] += 1
                if action == "DELETE":
                    map_deletes.append({"natural_key_hash": row["natural_key_hash"]})
                    if row.get("sis_object_key"):  # a stray has none
                        resolved.append({"sis_object_key": row["sis_object_key"], "reason": "deleted"})
                    continue
                if row.get("old_key_hash"):
                    map_deletes.append({"natural_key_hash": row["old_key_hash"]})
                upserts.append({"natural_key_hash": row["natural_key_hash"], "natural_key": row["natural_key"],
                                "sis_object_type": definition.sis_object_type,
                                "sis_object_key": row["sis_object_key"],
                                "edfi_id": response.resource_id or row["edfi_id"],
                                "payload_hash": row["payload_hash"], "student_unique_id": row["student_unique_id"],
                                "school_ids": row["school_ids"], "status": response.status,
                                "replace_hash": row.get("replace_hash")})
                resolved.append({"sis_object_key": row["sis_object_key"], "reason": "sent"})
                statuses.append({"partition": row["partition"], "seq": row["seq"], "status": "sent", "error_code": None,
                                 "error_message": None})
                continue
            error = classify(response.status, response.body, action)
            if response.status == 404:
                counts[f"{action}.not_found"] += 1
                map_deletes.append({"natural_key_hash": row.get("old_key_hash") or row["natural_key_hash"]})
                if action == "DELETE" and row.get("sis_object_key"):  # already gone: as good as deleted
                    resolved.append({"sis_object_key": row["sis_object_key"], "reason": "deleted"})
            else:
                counts[f"{action}.failed"] += 1
            errors.append(run.error_log.row(definition, row, action, error))
            if "seq" in row:
                statuses.append({"partition": row["partition"], "seq": row["seq"], "status": "failed",
                                 "error_code": error.code, "error_message": error.message})
        with run.conn.transaction(), run.conn.cursor() as cur:
            # Statuses before resolutions: an error closes only once its SIS object is settled.
            for name, rows in (("map_delete", map_deletes), ("map_upsert", upserts), ("error_insert", errors),
                               ("staged_set_status", statuses), ("errors_resolve", resolved)):
                if not rows:
                    continue
                if name == "error_insert":  # rare; one row each
                    cur.executemany(queries.engine(name), rows)
                else:
                    cur.execute(queries.engine(name), {**key, "rows": Jsonb(rows)})


def _deleted_by_an_earlier_attempt(action: str, response: ApiResponse) -> bool:
    """A DELETE retried after a lost answer (dropped connection, timeout, ODS restart) finds the
    record gone: most likely the earlier attempt deleted it, and gone is what was asked."""
    return action == "DELETE" and response.status == 404 and response.attempts > 1
