"""One in-flight budget per Ed-Fi connection across senders (SPEC §6.1; hooks/budget.py): real
PostgreSQL advisory locks, the sandbox's own in-flight log as the judge."""

from __future__ import annotations

import asyncio

import psycopg
import pytest

from edfi_sync.hooks.budget import fair_share
from edfi_sync.hooks.client import EdFiClient, EdFiSettings
from edfi_sync.sandbox.testing import run_sandbox

BUDGET = 8


def test_fair_share_splits_the_whole_budget():
    for size in (1, 2, 7, 8, 32):
        for count in range(1, 6):
            senders = [100 + 7 * i for i in range(count)]
            shares = [fair_share(size, senders, pid) for pid in senders]
            assert sum(shares) == size and max(shares) - min(shares) <= 1
    assert fair_share(8, [5], 5) == 8  # a sender alone gets every slot
    assert fair_share(8, [3, 9], 12) == 2  # not yet counted: as if it were


@pytest.fixture
def server():
    with run_sandbox() as sandbox:
        sandbox.set_faults(latency_ms=20)
        yield sandbox


def _settings(server, max_in_flight=BUDGET) -> EdFiSettings:
    return EdFiSettings(base_url=server.base_url, client_key=server.key, client_secret=server.secret,
                        max_in_flight=max_in_flight)


async def _send(client: EdFiClient, count: int, delay: float = 0.0) -> None:
    await asyncio.sleep(delay)

    async def burst():
        await asyncio.gather(*(client.request("GET", "/data/v3/ed-fi/students", params={"limit": 1})
                               for _ in range(count)))
    await client.sending(burst())


async def _senders(server, conninfo: str, counts: list[int], delays: list[float]) -> list[EdFiClient]:
    clients = [EdFiClient(_settings(server), budget_conninfo=conninfo) for _ in counts]
    for client in clients:
        await client.__aenter__()
    try:
        await asyncio.gather(*(_send(c, n, d) for c, n, d in zip(clients, counts, delays)))
    finally:
        for client in clients:
            await client.__aexit__(None, None, None)
    return clients


def _in_flight(server) -> list[int]:
    return [r["in_flight"] for r in server.requests() if r["path"].startswith("/data/")]


def test_a_sender_alone_gets_the_whole_budget(sis_db, server):
    asyncio.run(_senders(server, sis_db, [200], [0]))
    seen = _in_flight(server)
    assert len(seen) == 200 and max(seen) == BUDGET


def test_four_senders_stay_within_one_budget_and_share_it(sis_db, server):
    """Four senders (four database sessions, as four partitions' tasks would be), arriving one after
    the other: the server never serves more than the budget at once, and every one gets its turn."""
    clients = asyncio.run(_senders(server, sis_db, [150, 150, 150, 150], [0, 0.1, 0.2, 0.3]))
    seen = _in_flight(server)
    assert len(seen) == 600
    assert max(seen) <= BUDGET, f"{max(seen)} requests in flight at once, budget {BUDGET}"
    assert max(seen) == BUDGET  # used, not just respected
    assert all(c.budget.stats["ticks"] > 0 and c.budget.stats["taken"] > 0 for c in clients)
    # Slots moved between senders as they came and went, and none is left held.
    assert sum(c.budget.stats["given"] for c in clients) > 0
    with psycopg.connect(sis_db) as conn:
        assert conn.execute("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'").fetchone()[0] == 0


def test_a_dead_senders_slots_are_free_at_once(sis_db, server):
    """A worker killed mid-send loses its database session, and its slots with it."""
    async def scenario():
        holder = EdFiClient(_settings(server), budget_conninfo=sis_db)
        await holder.__aenter__()
        try:
            with pytest.raises(psycopg.OperationalError):  # its keeper finds the session gone
                async with holder.budget.sending():
                    assert holder.limit.share == BUDGET
                    await asyncio.to_thread(holder.budget._conn.close)  # as a dead worker's session ends
                    await _senders(server, sis_db, [100], [0])
        finally:
            await holder.__aexit__(None, None, None)

    asyncio.run(scenario())
    assert max(_in_flight(server)) == BUDGET


def test_auto_shares_what_it_found(sis_db, server):
    """max_in_flight auto: the limit one sender's client found is every sender's budget."""
    async def scenario():
        first = EdFiClient(_settings(server, "auto"), budget_conninfo=sis_db)
        second = EdFiClient(_settings(server, "auto"), budget_conninfo=sis_db)
        for client in (first, second):
            await client.__aenter__()
        try:
            await _send(first, 50)
            first.limit.limit = 12  # as its latency rounds would move it
            await first.sending(asyncio.sleep(0.3))  # a tick publishes it
            async with second.budget.sending():  # the second adopts it, and alone holds all of it
                return second.limit.limit, second.limit.share
        finally:
            for client in (first, second):
                await client.__aexit__(None, None, None)

    assert asyncio.run(scenario()) == (12, 12)
    with psycopg.connect(sis_db) as conn:
        assert conn.execute("SELECT in_flight_limit FROM edfi_sync.send_budget").fetchall() == [(12,)]
