"""SPEC §5.5: a crash (kill -9) at any moment loses nothing and a rerun converges.

`edfi-sync sync` runs as a subprocess against the sandbox (with latency, so a run lasts a few
seconds) and is SIGKILLed after a given number of answered requests; reruns must leave the ODS
holding each record the rules produce exactly once, the identity map equal to the ODS, and a
further run sending nothing.
"""

from __future__ import annotations

import signal
import time

import pytest

from e2e_helpers import (api_env, assert_converged, assert_sends_nothing, demo_sandbox, kill_hard, load_demo, run_sync,
                         sql, start_sync, sync_killed_after_writes, writes)

pytestmark = pytest.mark.e2e

SCALE = 0.6  # ~300 students: ~600 writes on a first sync, 2-3 s with the latency
LATENCY = {"latency": {"distribution": "uniform", "min_ms": 5, "max_ms": 20}, "seed": 3}


@pytest.fixture
def demo(sis_db, tmp_path):
    descriptors = tmp_path / "descriptors.json"
    load_demo(SCALE, descriptors)
    with demo_sandbox(descriptors) as server:
        server.set_faults(**LATENCY)
        yield sis_db, server, api_env(server)


# Kill points: at the first write (LEA); after the LEA step's reconciliation GET, so amid the
# students' extract and staging; amid the students' batch; amid the SSAs.
@pytest.mark.parametrize("method, kill_at", [(None, 1), ("GET", 1), (None, 150), (None, 450)])
def test_kill_during_first_sync_then_rerun_converges(demo, method, kill_at):
    conninfo, server, env = demo
    sync_killed_after_writes(env, server, kill_at, method)
    run_sync(env)
    counts = assert_converged(conninfo, server)
    assert counts["students"] > 250 and counts["studentSchoolAssociations"] > 250
    assert_sends_nothing(env, server)


def test_repeated_kills_then_rerun_converges(demo):
    conninfo, server, env = demo
    for kill_at in (100, 100, 100):  # each run resumes where the map says and is killed again
        sync_killed_after_writes(env, server, kill_at)
    run_sync(env)
    assert_converged(conninfo, server)
    assert_sends_nothing(env, server)


def test_kill_during_deletes_then_rerun_converges(demo):
    conninfo, server, env = demo
    run_sync(env)
    before = len(server.records("studentSchoolAssociations"))
    # Half of the students leave the SIS: their SSAs are deleted in the delete phase.
    sql(conninfo, "DELETE FROM sis.enrollment WHERE person_id %% 2 = 0")
    sync_killed_after_writes(env, server, 100, method="DELETE")
    run_sync(env)
    counts = assert_converged(conninfo, server)
    assert before - counts["studentSchoolAssociations"] > 100  # the rerun finished what the kill cut short
    # A DELETE answered before the kill but not yet written to the map is a 404 on the rerun.
    assert {r["status"] for r in writes(server) if r["method"] == "DELETE"} <= {204, 404}
    assert_sends_nothing(env, server)


def test_kill_during_updates_then_rerun_converges(demo):
    conninfo, server, env = demo
    run_sync(env)
    ids = {r["id"] for r in server.records("studentSchoolAssociations")}
    # Every student renamed (PUTs after the SSAs) and every entry date moved: an SSA key change,
    # which is a PUT to the same id (SPEC §5.3); a kill between PUT and map write must not lose it.
    sql(conninfo, "UPDATE sis.person SET first_name = first_name || 'x'")
    sql(conninfo, "UPDATE sis.enrollment SET start_date = start_date - 1")
    sync_killed_after_writes(env, server, 150, method="PUT")
    run_sync(env)
    assert_converged(conninfo, server)
    assert {r["id"] for r in server.records("studentSchoolAssociations")} == ids
    assert all(r["firstName"].endswith("x") for r in server.records("students"))
    assert_sends_nothing(env, server)


def test_kill_amid_streaming_writes_resends_only_what_the_map_lacks(demo):
    """Answers are written behind the requests, a group per transaction: killed once the SSAs' first
    groups are written and while more are in flight, the map holds exactly the groups written; the
    rerun sends the rest again (the ODS answers 200 for those it already had) and nothing twice."""
    conninfo, server, env = demo
    ssa_map = "SELECT count(*) FROM edfi_sync.identity_map WHERE resource = 'studentSchoolAssociations'"
    proc = start_sync(env)
    try:
        deadline = time.monotonic() + 60
        while sql(conninfo, ssa_map)[0][0] == 0:
            assert proc.poll() is None, "the sync ended before writing any SSA"
            assert time.monotonic() < deadline, "no SSA written within 60 s"
            time.sleep(0.002)
        proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=30)
    finally:
        kill_hard(proc)
    mapped = sql(conninfo, ssa_map)[0][0]
    time.sleep(0.2)  # the killed run's last requests are still being answered (the log is written at the answer)
    since = server.requests()[-1]["seq"]
    run_sync(env)
    counts = assert_converged(conninfo, server)
    assert 0 < mapped < counts["studentSchoolAssociations"]
    resent = [r for r in writes(server, since) if "studentSchoolAssociations" in r["path"]]
    assert len(resent) == counts["studentSchoolAssociations"] - mapped
    assert {r["method"] for r in resent} == {"POST"} and {r["status"] for r in resent} <= {200, 201}
    assert_sends_nothing(env, server)


@pytest.mark.parametrize("kill_point", ["amid the transcripts' DELETEs", "between a record's DELETE and its POST"])
def test_kill_during_a_replacement_then_rerun_converges(demo, kill_point):
    conninfo, server, env = demo
    run_sync(env)
    # Every diploma date moves by a day within its term: each diploma's record is deleted (its course
    # transcripts first), then posted again under the same key (seed 004), its transcripts after it.
    moved = sql(conninfo, "UPDATE sis.graduation SET diploma_date = diploma_date - 1 "
                          "WHERE diploma_date IS NOT NULL AND diploma_type IS NOT NULL")
    assert moved > 20
    records, transcripts = len(server.records("studentAcademicRecords")), len(server.records("courseTranscripts"))
    if kill_point.startswith("amid"):
        sync_killed_after_writes(env, server, 100, method="DELETE")
        assert len(server.records("courseTranscripts")) < transcripts
        assert len(server.records("studentAcademicRecords")) == records
    else:
        sync_killed_at(env, server, lambda r: r["method"] == "DELETE" and "/studentAcademicRecords/" in r["path"])
        assert len(server.records("studentAcademicRecords")) < records  # deleted, not yet posted again
    run_sync(env)
    counts = assert_converged(conninfo, server)
    assert (counts["studentAcademicRecords"], counts["courseTranscripts"]) == (records, transcripts)
    assert_sends_nothing(env, server)


def sync_killed_at(env, server, answered, timeout: float = 60) -> None:
    """Start a sync and SIGKILL it as soon as the sandbox has answered a request ``answered`` picks."""
    since = (server.requests() or [{"seq": 0}])[-1]["seq"]
    proc = start_sync(env)
    try:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            log = server.requests(since)
            since = log[-1]["seq"] if log else since
            if any(answered(r) for r in log):
                proc.send_signal(signal.SIGKILL)
                proc.communicate(timeout=30)
                assert proc.returncode == -signal.SIGKILL, f"the sync ended ({proc.returncode}) before the kill"
                return
            assert proc.poll() is None, "the sync ended before the request to kill it at"
            time.sleep(0.005)
        raise AssertionError(f"no such request within {timeout}s")
    finally:
        kill_hard(proc)
