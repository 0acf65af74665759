"""The streaming send path: the configured number of requests stays in flight from a step's first
request to its last (no barrier at any batch boundary), answers are written behind the requests,
and `auto` settles at the capacity of a server whose latency grows past it.

Real sync subprocesses against the sandbox; the sandbox's request log gives each request's
in-flight count on arrival (itself included).
"""

from __future__ import annotations

import json
import statistics

import pytest

from e2e_helpers import api_env, assert_converged, demo_sandbox, finish, load_demo, run_sync, sql, start_sync

pytestmark = pytest.mark.e2e

SCALE = 2.5  # ~1,070 students and ~1,100 SSAs: each step crosses what used to be a 1,000-row batch


@pytest.fixture(scope="module")
def demo_data(tmp_path_factory):
    return tmp_path_factory.mktemp("streaming") / "descriptors.json"


def steps(log: list[dict]) -> dict[str, list[dict]]:
    """Each resource's writes, in order of arrival."""
    by_resource: dict[str, list[dict]] = {}
    for entry in writes_only(log):
        by_resource.setdefault(entry["path"].split("/")[4], []).append(entry)
    return {name: sorted(entries, key=start) for name, entries in by_resource.items()}


def writes_only(log: list[dict]) -> list[dict]:
    return [e for e in log if e["method"] in ("POST", "PUT", "DELETE") and e["path"].startswith("/data/")]


def start(entry: dict) -> float:
    return entry["time"] - entry["ms"] / 1000


def in_flight_by_window(entries: list[dict], begin: float, end: float, width: float) -> list[float]:
    """The server's mean in-flight count in each `width`-second window from begin to end, from the
    requests' start and end times: time-weighted, so a hiccup of the server itself (answers late,
    then at once) does not show as a drop, while a sender that stops sending does."""
    windows = []
    edge = begin
    while edge + width <= end:
        busy = sum(max(0.0, min(e["time"], edge + width) - max(start(e), edge)) for e in entries)
        windows.append(busy / width)
        edge += width
    return windows


def test_the_limit_stays_in_flight_across_old_batch_boundaries(sis_db, demo_data):
    limit = 32
    load_demo(SCALE, demo_data)
    with demo_sandbox(demo_data) as server:
        # Spread latencies: answers come back one by one, not in waves, so any pause of the sender
        # (a barrier, a wait for the database) shows as a drop of the in-flight count.
        server.set_faults(latency={"distribution": "uniform", "min_ms": 50, "max_ms": 150}, seed=5)
        run_sync(api_env(server, limit))
        log = server.requests()
        counts = assert_converged(sis_db, server)
    assert counts["students"] > 1_000 and counts["studentSchoolAssociations"] > 1_000
    sent = writes_only(log)
    assert len(sent) == sum(counts.values()) and {e["status"] for e in sent} == {201}
    assert max(e["in_flight"] for e in log) <= limit
    for resource in ("students", "studentSchoolAssociations"):
        entries = steps(log)[resource]
        # Past the ramp-up, before the last requests drain.
        windows = in_flight_by_window(entries, start(entries[limit]), start(entries[-limit]), 0.1)
        # The batch barrier this replaced left the server idle for a whole window (0.0 and 4.9 in
        # flight); a busy machine's hiccups cost a few requests, never half.
        assert len(windows) > 20 and min(windows) >= limit / 2, (resource, sorted(windows)[:5])
        assert statistics.mean(windows) >= 0.9 * limit, resource
    # The demo's casebook records fail the rules (BUILD) or are held back; nothing the ODS refused.
    refused = sql(sis_db, "SELECT action, error_code FROM edfi_sync.error_log WHERE status IS NOT NULL")
    assert refused == []


def test_auto_settles_at_the_servers_capacity(sis_db, demo_data):
    capacity = 32
    load_demo(SCALE, demo_data)
    with demo_sandbox(demo_data) as server:
        # 320 requests/s at capacity: well within what the machine serves, so latency is the server's.
        server.set_faults(latency_ms=100, capacity=capacity)
        run_sync(api_env(server, "auto"))
        log = server.requests()
        assert_converged(sis_db, server)
    arrivals = [e["in_flight"] for e in steps(log)["studentSchoolAssociations"]]
    settled = arrivals[len(arrivals) // 4:]  # after the slow start's overshoot
    # Near the capacity, not above it (the fixed-step AIMD this replaced went to its ceiling, 64).
    # Below rather than above: on a shared machine latency is noisy, and noise reads as load.
    assert capacity * 0.6 <= statistics.median(settled) <= capacity * 1.1
    assert statistics.mean(settled) <= capacity * 1.15


def test_a_systemic_failure_mid_step_records_every_answer_then_fails_the_run(sis_db, demo_data):
    """A request that gets no answer after its attempts is systemic: no new request starts, those
    already out finish, and every answered one is in the identity map before the run fails."""
    load_demo(1, demo_data)
    with demo_sandbox(demo_data) as server:
        server.set_faults(drop_rate=0.05, paths="^/data/v3/ed-fi/students$", methods=["POST"], seed=2)
        env = api_env(server, 8)
        connection = json.loads(env["AIRFLOW_CONN_EDFI_API"])
        connection["extra"]["max_attempts"] = 1
        code, _, err = finish(start_sync({**env, "AIRFLOW_CONN_EDFI_API": json.dumps(connection)}))
        assert code != 0 and "no answer after 1 attempts" in err
        posted = [e for e in server.requests() if e["method"] == "POST" and e["path"].endswith("/students")]
        created = sum(e["status"] == 201 for e in posted)
        mapped = sql(sis_db, "SELECT count(*) FROM edfi_sync.identity_map WHERE resource = 'students'")[0][0]
        assert 0 < created == mapped == len(server.records("students"))
        assert not any("studentSchoolAssociations" in e["path"] for e in server.requests())
        server.clear_faults()
        run_sync(env)
        assert_converged(sis_db, server)
