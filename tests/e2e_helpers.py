"""Helpers of the e2e tests (sync, repair, crash consistency, concurrency).

Not a conftest: tests/sandbox/conftest.py shadows `from conftest import ...`. Everything here is
real: `edfi-sync` subprocesses, PostgreSQL, the sandbox over HTTP on 127.0.0.1.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator

import psycopg
from psycopg import sql as pgsql

from edfi_sync.hooks.client import EdFiSettings
from edfi_sync.engine.runner import SyncOptions, YearSync
from edfi_sync.resources import GRAPH, RESOURCES
from edfi_sync.sandbox.testing import SandboxHandle, run_sandbox

YEAR = 2025
WRITES = ("POST", "PUT", "DELETE")
CLI = [sys.executable, "-m", "edfi_sync.cli"]
SERVER_FIELDS = ("id", "_etag", "_lastModifiedDate")


def load_demo(scale: float, descriptors: Path, sis: str | None = None) -> None:
    """`edfi-sync demo-data` into the database ``sis`` (a conninfo), else that of
    AIRFLOW_CONN_EDFI_SIS (the sis_db fixture's)."""
    from edfi_sync.connections import postgres_airflow_json

    env = {**os.environ, **({"AIRFLOW_CONN_EDFI_SIS": postgres_airflow_json(sis)} if sis else {})}
    subprocess.run([*CLI, "demo-data", "--scale", str(scale), "--descriptors-out", str(descriptors)],
                   check=True, capture_output=True, text=True, timeout=300, env=env)


@contextmanager
def demo_sandbox(descriptors: Path, **options) -> Iterator[SandboxHandle]:
    """An in-memory sandbox that knows the demo's local descriptors (else some SSAs get a 400)."""
    with run_sandbox(descriptor_files=[descriptors], **options) as server:
        yield server


def api_env(server: SandboxHandle, max_in_flight: int = 8) -> dict[str, str]:
    """The environment of a sync subprocess: the test's SIS database plus this sandbox."""
    return {**os.environ, "AIRFLOW_CONN_EDFI_API": json.dumps({
        "conn_type": "http", "host": server.base_url, "login": server.key, "password": server.secret,
        "extra": {"max_in_flight": max_in_flight}})}


def start_sync(env: dict[str, str], *extra: str, year: int = YEAR) -> subprocess.Popen:
    return subprocess.Popen([*CLI, "sync", "--school-year", str(year), *extra], env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def finish(proc: subprocess.Popen, timeout: float = 60) -> tuple[int, str, str]:
    """Wait for a sync subprocess; kill it if it overruns (never leave one behind)."""
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        raise AssertionError(f"sync still running after {timeout}s:\n{err[-3000:]}")
    return proc.returncode, out, err


def run_sync(env: dict[str, str], timeout: float = 60) -> str:
    """One complete `edfi-sync sync`; it must exit 0 (record errors do not fail the CLI)."""
    code, out, err = finish(start_sync(env), timeout)
    assert code == 0, f"sync exited {code}:\n{out}\n{err[-3000:]}"
    return out


def kill_hard(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=30)


def wait_while_running(proc: subprocess.Popen, ready: Callable[[], object], what: str, timeout: float = 120,
                       every: float = 0.003) -> None:
    """Poll ``ready`` until it holds; the sync ``proc`` ending first, or the timeout, fails."""
    deadline = time.monotonic() + timeout
    while not ready():
        if proc.poll() is not None:
            raise AssertionError(f"the sync ended ({proc.returncode}) before {what}")
        assert time.monotonic() < deadline, f"no {what} within {timeout}s"
        time.sleep(every)


def writes(server: SandboxHandle, since: int = 0) -> list[dict]:
    return [r for r in server.requests(since) if r["method"] in WRITES and r["path"].startswith("/data/")]


def wait_for_writes(server: SandboxHandle, procs: list[subprocess.Popen], count: int, method: str | None = None,
                    timeout: float = 60) -> int:
    """Wait until the sandbox has answered ``count`` writes (or requests of ``method``: GET too)
    and return how many it had seen. Every sync in ``procs`` ending first is a test bug: the count is too high."""
    seen, since = 0, 0
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        log = server.requests(since)
        if log:
            since = log[-1]["seq"]
            seen += sum(1 for r in log if r["path"].startswith("/data/")
                        and (r["method"] == method if method else r["method"] in WRITES))
        if seen >= count:
            return seen
        if all(proc.poll() is not None for proc in procs):
            raise AssertionError(f"the sync ended after {seen} writes, before {count}")
        time.sleep(0.005)
    raise AssertionError(f"no {count} writes within {timeout}s")


def sync_killed_after_writes(env: dict[str, str], server: SandboxHandle, count: int,
                             method: str | None = None) -> int:
    """Start a sync and SIGKILL it once the sandbox has answered ``count`` writes; it must not have ended."""
    proc = start_sync(env)
    try:
        seen = wait_for_writes(server, [proc], count, method)
        proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=30)
        assert proc.returncode == -signal.SIGKILL, f"the sync ended ({proc.returncode}) before the kill"
        return seen
    finally:
        kill_hard(proc)


def expected_records(conninfo: str, server: SandboxHandle, year: int = YEAR) -> dict[str, dict[str, dict]]:
    """What the rules produce now, per resource: natural-key hash -> payload (a dry run's staging,
    read before the run clears it); also whether each is unchanged against the identity map.
    A key the SIS still has but cannot send now (its build or a parent failed: the error log says
    why) is ``held``, with its SIS object: the ODS keeps what it has of that object, under this key
    or the one it was last sent with, or nothing (SPEC §5.7 deletes only what the SIS no longer
    has)."""
    produced: dict[str, dict[str, dict]] = {}
    settings = EdFiSettings(base_url=server.base_url, client_key=server.key, client_secret=server.secret)
    with YearSync(year, SyncOptions(dry_run=True), conninfo=conninfo, settings_for=lambda _: settings) as run:
        run.begin()
        for step in GRAPH.steps(()):
            if step.phase == "post":
                run.run_step(step)
        rows = run.conn.execute(
            "SELECT resource, natural_key_hash, payload, status, sis_object_key FROM edfi_sync.staged_record "
            "WHERE run_id = %s AND natural_key_hash IS NOT NULL "
            "AND status IN ('staged', 'unchanged', 'build_failed', 'skipped')", (run.run_id,)).fetchall()
        run.finish([])
    for resource, key_hash, payload, status, _ in rows:
        if status in ("staged", "unchanged"):
            produced.setdefault(resource, {})[key_hash] = {"payload": payload, "unchanged": status == "unchanged"}
    for resource, key_hash, _, status, sis_object_key in rows:
        produced.setdefault(resource, {}).setdefault(key_hash, {"payload": None, "unchanged": None, "held": True,
                                                                "sis_object_key": sis_object_key})
    return produced


def ods_records(server: SandboxHandle, resource: str, year: int | None = None) -> list[dict]:
    """A resource's records as the ODS holds them, without what the server adds (id, etag, dates)."""
    return [{k: v for k, v in record.items() if k not in SERVER_FIELDS} for record in server.records(resource, year)]


def reference_records(server: SandboxHandle, year: int | None = None) -> dict[str, dict[str, dict]]:
    """What a fault-free sync left in its (fresh) sandbox, in the form of :func:`expected_records`."""
    from edfi_sync.engine.stage import natural_key_hash

    return {name: {natural_key_hash(definition, record)[1]: {"payload": record, "unchanged": None}
                   for record in ods_records(server, name, year)}
            for name, definition in RESOURCES.items()}


@dataclass
class Divergence:
    """How an ODS and its identity map differ from what they should hold; converged when empty."""

    problems: list[str] = field(default_factory=list)
    lost: int = 0  # records that should be in the ODS and are not
    duplicated: int = 0  # natural keys held twice, and records nothing produces
    counts: dict[str, int] = field(default_factory=dict)  # ODS records per resource

    def __bool__(self) -> bool:
        return bool(self.problems)


def divergence(conninfo: str, server: SandboxHandle, expected: dict[str, dict[str, dict]] | None = None,
               year: int = YEAR, ods_year: int | None = None) -> Divergence:
    """Compare the ODS record by record (ids aside) with ``expected`` (default: what the rules
    produce now), and the identity map with the ODS (same ids, one row each). ``ods_year``: the
    sandbox store of a year-specific ODS."""
    from edfi_sync.engine.stage import natural_key_hash

    expected = expected_records(conninfo, server, year) if expected is None else expected
    found = Divergence()
    with psycopg.connect(conninfo) as conn:
        for name, definition in RESOURCES.items():
            ods = server.records(name, ods_year)
            by_key: dict[str, dict] = {}
            for record in ods:
                _, key_hash = natural_key_hash(definition, record)
                if key_hash in by_key:
                    found.duplicated += 1
                    found.problems.append(f"{name}: two ODS records with one natural key: {record}")
                by_key[key_hash] = record
            want = expected.get(name, {})
            held = {key for key, item in want.items() if item.get("held")}
            missing, extra = set(want) - held - set(by_key), set(by_key) - set(want)
            if extra and held:  # a held object's record, still under the key it was last sent with
                held_objects = {want[key]["sis_object_key"] for key in held}
                extra -= {key for key, sis_key in conn.execute(
                    "SELECT natural_key_hash, sis_object_key FROM edfi_sync.identity_map WHERE end_year = %s "
                    "AND resource = %s AND natural_key_hash = ANY(%s)", (year, name, list(extra))) if sis_key in held_objects}
            if missing:
                found.lost += len(missing)
                found.problems.append(f"{name}: {len(missing)} produced records missing from the ODS")
            # Students are never deleted (SPEC §5.3): the ODS keeps those the SIS dropped; programs wait
            # for a resync on all schools (seed 001).
            kept = not definition.deletable or definition.deleted_only_by_all_schools_resync
            if extra and not kept:
                found.duplicated += len(extra)
                found.problems.append(f"{name}: {len(extra)} ODS records the SIS does not produce")
            for key_hash, item in want.items():
                if key_hash not in by_key or key_hash in held:
                    continue
                stored = {k: v for k, v in by_key[key_hash].items() if k not in SERVER_FIELDS}
                if stored != item["payload"]:
                    found.problems.append(f"{name}: ODS record differs: {stored} != {item['payload']}")
                if item["unchanged"] is False:
                    found.problems.append(f"{name}: the identity map is not current for {item['payload']}")
            mapped = conn.execute("SELECT natural_key_hash, edfi_id FROM edfi_sync.identity_map "
                                  "WHERE end_year = %s AND resource = %s", (year, name)).fetchall()
            if dict(mapped) != {key: record["id"] for key, record in by_key.items()}:
                found.problems.append(f"{name}: the identity map is not the ODS")
            found.counts[name] = len(ods)
    return found


def assert_converged(conninfo: str, server: SandboxHandle) -> dict[str, int]:
    """The ODS holds every record the rules produce exactly once, equal to its payload; the identity
    map is the ODS (same ids, one row each) and says every record is current. Returns ODS counts."""
    found = divergence(conninfo, server)
    assert not found, "\n".join(found.problems[:20])
    return found.counts


def assert_sends_nothing(env: dict[str, str], server: SandboxHandle) -> None:
    since = (server.requests() or [{"seq": 0}])[-1]["seq"]
    run_sync(env)
    sent = Counter(r["method"] for r in writes(server, since))
    assert not sent, f"a run after convergence still sent {dict(sent)}"


def sync(conninfo: str, **options):
    """One in-process sync of YEAR with SyncOptions(**options); the run summary."""
    with YearSync(YEAR, SyncOptions(**options), conninfo=conninfo) as run:
        return run.run()


def sql(conninfo: str, query: str, *params):
    with psycopg.connect(conninfo) as conn:
        cursor = conn.execute(query, params)
        return cursor.fetchall() if cursor.description else cursor.rowcount


def ods_by_key(server: SandboxHandle) -> dict[str, dict[str, dict]]:
    """Every resource's ODS records by natural-key hash, server-assigned fields (ids) aside."""
    from edfi_sync.engine.stage import natural_key_hash

    return {name: {natural_key_hash(definition, record)[1]: {k: v for k, v in record.items()
                                                            if k not in SERVER_FIELDS}
                   for record in server.records(name)}
            for name, definition in RESOURCES.items()}


def outcome(conninfo: str, server: SandboxHandle) -> dict[str, object]:
    """What a sync leaves, ids, times and run ids aside: the ODS's records, the identity map's rows
    and the open error-log rows, each by record."""
    map_rows = sql(conninfo, "SELECT resource, natural_key_hash, natural_key, sis_object_type, sis_object_key, "
                             "payload_hash, student_unique_id, school_ids, edfi_id IS NOT NULL, replace_hash "
                             "FROM edfi_sync.identity_map WHERE end_year = %s", YEAR)
    errors = sql(conninfo, "SELECT resource, sis_object_key, action, error_code, status FROM edfi_sync.error_log "
                           "WHERE end_year = %s AND NOT resolved", YEAR)
    return {"ods": ods_by_key(server),
            "identity_map": {(row[0], row[1]): row[2:] for row in map_rows},
            "errors": Counter(errors)}


def assert_same_outcome(got: dict[str, object], want: dict[str, object]) -> None:
    """Two syncs' outcomes (:func:`outcome`) equal record by record."""
    for name in RESOURCES:
        a, b = got["ods"][name], want["ods"][name]
        assert a.keys() == b.keys(), f"{name}: {len(a.keys() - b.keys())} extra, {len(b.keys() - a.keys())} missing"
        assert a == b, f"{name}: ODS records differ"
    a, b = got["identity_map"], want["identity_map"]
    assert a.keys() == b.keys(), f"identity map: {len(a.keys() - b.keys())} extra, {len(b.keys() - a.keys())} missing"
    assert a == b, f"identity map rows differ: {[k for k in a if a[k] != b[k]][:3]}"
    assert got["errors"] == want["errors"]


def database_text(conninfo: str, *, leave_out: tuple[str, ...] = ("token_cache",)) -> str:
    """Every row of every table of the sis and edfi_sync schemas as text (to search it for secrets)."""
    with psycopg.connect(conninfo) as conn:
        tables = conn.execute("SELECT table_schema, table_name FROM information_schema.tables "
                              "WHERE table_schema IN ('sis', 'edfi_sync') AND table_type = 'BASE TABLE'").fetchall()
        return "\n".join(
            row[0] or "" for schema, table in tables if table not in leave_out
            for row in conn.execute(pgsql.SQL("SELECT string_agg(t::text, E'\\n') FROM {}.{} t").format(
                pgsql.Identifier(schema), pgsql.Identifier(table))))


def live_tokens(conninfo: str) -> list[str]:
    """The bearer tokens the runs cached (edfi_sync.token_cache, the one place they are kept)."""
    return [token for token, in sql(conninfo, "SELECT access_token FROM edfi_sync.token_cache")]
