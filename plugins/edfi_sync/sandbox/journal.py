"""PostgreSQL storage: every change is written (and committed) before its response goes out.

One writer connection applies changes in arrival order; whatever queued while a commit was in
flight goes into the next transaction as one pipelined batch (group commit), so many clients
writing at once cost one round trip per batch rather than per request.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import logging

import psycopg

from ..paths import read_sql

log = logging.getLogger(__name__)

_SQL = {name: read_sql(f"sandbox/{name}.sql") for name in (
    "schema", "lock", "reset", "stores", "create_store", "load_records", "upsert_record", "delete_record")}
_BATCH = 1000


class DatabaseInUse(RuntimeError):
    pass


class Journal:
    def __init__(self, conninfo: str):
        self.conninfo = conninfo
        self._conn: psycopg.AsyncConnection | None = None
        self._queue: asyncio.Queue = asyncio.Queue()
        self._writer: asyncio.Task | None = None

    async def open(self, reset: bool) -> None:
        self._conn = await psycopg.AsyncConnection.connect(self.conninfo, application_name="edfi-sandbox")
        await self._conn.execute(_SQL["schema"])
        locked = (await (await self._conn.execute(_SQL["lock"])).fetchone())[0]
        if not locked:
            await self._conn.close()
            raise DatabaseInUse("another sandbox server is using this database")
        if reset:
            await self._conn.execute(_SQL["reset"])
        await self._conn.commit()
        self._writer = asyncio.create_task(self._run(), name="edfi-sandbox-journal")

    async def close(self) -> None:
        if self._writer is not None:
            await self._queue.put(None)
            await self._writer
            self._writer = None
        if self._conn is not None:
            await self._conn.close()
            self._conn = None

    async def stores(self) -> list[str]:
        async with await psycopg.AsyncConnection.connect(self.conninfo) as conn:
            return [row[0] for row in await (await conn.execute(_SQL["stores"])).fetchall()]

    async def load(self, store: str) -> list[tuple]:
        async with await psycopg.AsyncConnection.connect(self.conninfo) as conn:
            cur = await conn.execute(_SQL["load_records"], {"store": store})
            return [(id_, resource, seq, etag, modified, json.loads(body))
                    for id_, resource, seq, etag, modified, body in await cur.fetchall()]

    # ---- writes: each returns once its transaction has committed --------------------------------
    def create_store(self, store: str) -> asyncio.Future:
        return self._submit("create_store", {"store": store})

    def reset(self) -> asyncio.Future:
        return self._submit("reset", {})

    def upsert(self, store: str, record) -> asyncio.Future:
        return self._submit("upsert_record", {
            "store": store, "id": record.id, "resource": record.resource.name, "seq": record.seq,
            "etag": record.etag, "last_modified": record.modified, "body": json.dumps(record.body)})

    def delete(self, store: str, record_id: str) -> asyncio.Future:
        return self._submit("delete_record", {"store": store, "id": record_id})

    def _submit(self, statement: str, params: dict) -> asyncio.Future:
        future = asyncio.get_running_loop().create_future()
        self._queue.put_nowait((statement, params, future))
        return future

    async def _run(self) -> None:
        while True:
            first = await self._queue.get()
            if first is None:
                return
            batch = [first]
            stop = False
            while len(batch) < _BATCH and not self._queue.empty():
                item = self._queue.get_nowait()
                if item is None:
                    stop = True
                    break
                batch.append(item)
            await self._apply(batch)
            if stop:
                return

    async def _apply(self, batch: list) -> None:
        try:
            async with self._conn.cursor() as cur:
                for statement, run in itertools.groupby(batch, key=lambda item: item[0]):
                    await cur.executemany(_SQL[statement], [params for _, params, _ in run])
            await self._conn.commit()
        except Exception as exc:   # the batch's requests answer 500; the server goes on
            log.exception("sandbox storage write failed")
            try:
                await self._conn.rollback()
            except psycopg.Error:
                pass
            for _, _, future in batch:
                if not future.done():
                    future.set_exception(exc)
            return
        for _, _, future in batch:
            if not future.done():
                future.set_result(None)
