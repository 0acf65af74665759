"""Several `edfi-sync sync` processes for one year at once (SPEC §5: per-(year, resource) locks,
one shared bearer token per client through edfi_sync.token_cache)."""

from __future__ import annotations

import os
import threading

import psycopg
import pytest

from e2e_helpers import (YEAR, api_env, assert_converged, assert_sends_nothing, demo_sandbox, finish,
                         kill_hard, load_demo, sql, start_sync, wait_for_writes, wait_while_running)
from edfi_sync.engine.runner import YearSync
from edfi_sync.hooks.client import EdFiSettings

pytestmark = pytest.mark.e2e

SCALE = 0.6
LATENCY = {"latency": {"distribution": "uniform", "min_ms": 5, "max_ms": 20}, "seed": 5}


@pytest.fixture
def demo(sis_db, tmp_path):
    descriptors = tmp_path / "descriptors.json"
    load_demo(SCALE, descriptors)
    return sis_db, descriptors


def run_together(env: dict, count: int, meanwhile=lambda procs: None) -> None:
    """Start ``count`` syncs at once, call ``meanwhile(procs)``; every sync must exit 0."""
    procs = []
    try:
        procs = [start_sync(env) for _ in range(count)]
        meanwhile(procs)
        results = [finish(proc, timeout=90) for proc in procs]
    finally:
        for proc in procs:
            kill_hard(proc)
    for code, out, err in results:
        assert code == 0, f"a concurrent sync exited {code}:\n{out}\n{err[-3000:]}"


def test_two_syncs_of_one_year_at_once_converge(demo):
    conninfo, descriptors = demo
    with demo_sandbox(descriptors) as server:
        server.set_faults(**LATENCY)
        env = api_env(server)
        run_together(env, 2)
        # POST is an upsert, so the second process may resend; it must not double a record.
        assert_converged(conninfo, server)
        assert_sends_nothing(env, server)


def test_concurrent_syncs_share_one_token_within_the_client_limit(demo):
    conninfo, descriptors = demo
    with demo_sandbox(descriptors, max_tokens=2) as server:
        server.set_faults(**LATENCY)
        env = api_env(server)

        def ods_restart(procs):
            # Mid-run the server forgets every token: all four see 401s; one of them fetches anew.
            wait_for_writes(server, procs, 200)
            server.expire_tokens()

        run_together(env, 4, ods_restart)
        log = server.requests()
        tokens = [r for r in log if r["path"] == "/oauth/token"]
        assert all(r["status"] == 200 for r in tokens), f"token requests refused: {tokens}"
        assert any(r["status"] == 401 for r in log), "the tokens were not expired mid-run"
        # One token at the start and one after the expiry, shared through edfi_sync.token_cache.
        assert len(tokens) == 2, f"{len(tokens)} token requests: the processes did not share the cached token"
        assert_converged(conninfo, server)


def test_first_runs_of_a_year_beginning_at_the_same_instant(demo):
    """Processes rarely begin within the same millisecond; threads at a barrier do, every round.
    Each round is a first run of the year: both find the mapping snapshot missing."""
    conninfo, _ = demo
    settings = EdFiSettings(base_url="http://127.0.0.1:9", client_key="k", client_secret="s")  # never called
    failures: list[BaseException] = []
    for _ in range(10):
        sql(conninfo, "DELETE FROM edfi_sync.mapping_snapshot_taken WHERE end_year = %s", YEAR)
        barrier = threading.Barrier(3, timeout=30)

        def begin():
            try:
                with YearSync(YEAR, conninfo=conninfo, settings_for=lambda _: settings) as run:
                    barrier.wait()
                    run.begin()
            except BaseException as exc:  # noqa: BLE001 - reported below
                failures.append(exc)

        threads = [threading.Thread(target=begin) for _ in range(3)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        assert not any(thread.is_alive() for thread in threads)
    assert not failures, failures[:2]
    assert sql(conninfo, "SELECT count(*) FROM edfi_sync.mapping_snapshot WHERE end_year = %s", YEAR)[0][0] > 0


def test_a_run_waits_for_a_step_another_run_holds_and_says_whose_it_is(small_sis, sandbox):
    """The second of two runs of one year waits at the step the first holds, says which run holds
    it, then sends only what is left (here: the whole step, as the holder sent nothing)."""
    holder = "cli__20260105T000000__abcdef"
    lock = "SELECT pg_advisory_lock(hashtextextended('edfi_sync:' || %s || ':students', 0))"
    with psycopg.connect(small_sis, autocommit=True, application_name=f"edfi-sync {holder}") as other:
        other.execute(lock, (YEAR,))
        proc = start_sync(dict(os.environ))
        try:
            wait_while_running(proc, lambda: sql(small_sis, "SELECT 1 FROM pg_stat_activity WHERE wait_event = "
                                                            "'advisory' AND application_name LIKE 'edfi-sync cli__%%'"),
                               "the wait for the step lock", every=0.05)
            assert not [r for r in sandbox.requests() if "/students" in r["path"]]
        except BaseException:
            kill_hard(proc)
            raise
    code, out, err = finish(proc)  # the holder's connection closed: its lock is free
    assert code == 0, err
    assert f"post.students of {YEAR} waits: edfi-sync {holder} is running this step" in err
    assert f"post.students of {YEAR}: the other run's step ended; going on" in err
    assert len(sandbox.records("students")) == 4  # student 3 has no birth date
