"""One in-flight budget per Ed-Fi connection, shared by every task and process that sends to it
(SPEC §6.1). Airflow pools count tasks, not requests; this counts requests.

The budget is ``max_in_flight`` (or what ``auto`` found, kept in ``edfi_sync.send_budget``) slots,
each a PostgreSQL advisory lock ``(budget, slot)`` in the connector database every worker already
shares. A sender starts a request only on a slot it holds, so the requests in flight across all
senders never exceed the budget; a killed worker's slots are freed with its session.

A sender joins while its event loop runs (a send, a page of GETs) and leaves when it returns, so a
task that is staging holds nothing. Every ``interval`` it counts the senders (the holders of the
budget's member lock, in ``pg_locks``) and moves towards its fair share: budget ÷ senders, the
remainder to the lowest backend pids. Above its share it stops starting requests at once and frees
the slots as their requests end; below it, it takes free slots. A sender alone gets every slot.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import TYPE_CHECKING

import psycopg

from ..engine import queries

if TYPE_CHECKING:
    from .client import AdaptiveLimit

log = logging.getLogger(__name__)


def fair_share(size: int, senders: list[int], me: int) -> int:
    """This sender's slots: an even split, the remainder to the first senders (pid order)."""
    if me not in senders:
        senders = sorted([*senders, me])
    rank, count = senders.index(me), len(senders)
    return size // count + (1 if rank < size % count else 0)


class SharedBudget:
    """The slots of one connection's budget that this process holds, feeding ``limit.share``."""

    def __init__(self, conninfo: str, budget_key: str, limit: "AdaptiveLimit", interval: float = 0.1):
        self.conninfo, self.budget_key, self.limit, self.interval = conninfo, budget_key, limit, interval
        self._conn: psycopg.Connection | None = None
        self._budget: int | None = None
        self._held: list[int] = []
        self._seen_limit: int | None = None  # the auto limit last published or adopted
        self.stats = {"ticks": 0, "taken": 0, "given": 0}

    def _sql(self, name: str, **params):
        cursor = self._conn.execute(queries.engine(name), {"budget": self._budget, **params})
        return cursor.fetchone() if cursor.description else None

    def _open(self) -> None:
        if self._conn is None or self._conn.closed:
            self._conn = psycopg.connect(self.conninfo, autocommit=True)
            self._budget = self._sql("budget_id", budget_key=self.budget_key)[0]

    @contextlib.asynccontextmanager
    async def sending(self):
        """Hold a share of the budget while the body runs; give it all back after."""
        await asyncio.to_thread(self._join)
        keeper = asyncio.create_task(self._keep())
        try:
            await self._tick()
            yield
        finally:
            keeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await keeper
            await self.limit.set_share(0)
            await asyncio.to_thread(self._leave)

    def _join(self) -> None:
        self._open()
        self._sql("budget_join")

    def _leave(self) -> None:
        if self._conn is not None and not self._conn.closed:
            self._sql("budget_leave")
        self._held = []

    async def _keep(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            await self._tick()

    async def _tick(self) -> None:
        """Count the senders, then shrink at once (no new request above the share) and give back
        what no request uses, or take free slots up to the share."""
        senders, me, published = await asyncio.to_thread(self._sql, "budget_senders", budget_key=self.budget_key)
        size = await asyncio.to_thread(self._settle_auto, published)
        share = fair_share(size, senders, me)
        held = len(self._held)
        await self.limit.set_share(min(share, held))
        # Keep the share, or every slot a request still uses; the lowest ones (an auto budget may shrink).
        give = sorted(self._held)[max(share, self.limit.in_flight):]
        want = share - (held - len(give))
        taken = await asyncio.to_thread(self._exchange, give, want, size)
        self._held = [slot for slot in self._held if slot not in give] + taken
        self.stats["ticks"] += 1
        await self.limit.set_share(min(share, len(self._held)))

    def _exchange(self, give: list[int], want: int, size: int) -> list[int]:
        if give:
            self._sql("budget_give", slots=give)
            self.stats["given"] += len(give)
        if want <= 0:
            return []
        taken = self._sql("budget_take", held=self._held, size=size, want=want)[0]
        self.stats["taken"] += len(taken)
        return taken

    def _settle_auto(self, published: int | None) -> int:
        """The budget's size: the fixed limit, or (auto) the one every sender shares: a change this
        sender's limit made is published, else the published value is adopted."""
        limit = self.limit
        if not limit.adaptive:
            return limit.limit
        if self._seen_limit is not None and limit.limit != self._seen_limit:
            self._sql("budget_publish", budget_key=self.budget_key, in_flight_limit=limit.limit)
        elif published is not None:
            limit.limit = published
        elif self._seen_limit is None:
            self._sql("budget_publish", budget_key=self.budget_key, in_flight_limit=limit.limit)
        self._seen_limit = limit.limit
        return limit.limit

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
