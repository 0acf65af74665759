"""The reliability harness (issue 21; docs/reliability.md): faults, kill points, and their figures.

The bounded tests of `make test` (tests/test_chaos.py, tests/test_kill_points.py) and `make soak`
(tests/test_soak.py, as long as SOAK_MINUTES asks) run the same scenarios; every one adds to a
:class:`Tally`, which the soak prints at its end. Everything is real: `edfi-sync` subprocesses,
PostgreSQL, the sandbox over HTTP (in a process of its own when it must crash and restart).
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import time
import uuid
from collections import Counter
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable, Iterator

import psycopg

from e2e_helpers import (CLI, WRITES, YEAR, Divergence, divergence, finish, kill_hard, reference_records, sql,
                         start_sync, wait_while_running)
from edfi_sync.engine import queries
from edfi_sync.engine.runner import SyncOptions, YearSync, plan
from edfi_sync.hooks.client import EdFiSettings
from edfi_sync.sandbox.testing import SandboxHandle
from live_airflow import free_port

# What the issue asks of the faults: 5% 500/503, 3% 429 with Retry-After, 1% dropped connections,
# 1% hung requests (the client times out), token expiry every 30 s, the sandbox restarted mid-run.
FAULTS = {"error_rate": 0.05, "error_statuses": [500, 503], "throttle_rate": 0.03, "retry_after": 1,
          "drop_rate": 0.01, "hang_rate": 0.01, "hang_seconds": 30}
CLIENT_TIMEOUT = 3  # seconds: a hung request is abandoned and retried after this
PROGRAM_REKEYS = {"title1": ("Title I Part A", "Compensatory Services for Disadvantaged Students"),
                  "lep": ("English as a Second Language (ESL)", "Bilingual"),
                  "sped": ("Special Education", "IDEA"),
                  "fram": ("Student School Food Service", "Other")}


# ---- figures ---------------------------------------------------------------------------------------
@dataclass
class Tally:
    """What the reliability runs did and found: the soak's summary."""

    faults: Counter = field(default_factory=Counter)  # injected, by kind
    kills: list[dict] = field(default_factory=list)  # each kill point survived, with its seeded draw
    runs_compared: int = 0
    lost: int = 0
    duplicated: int = 0
    recoveries: list[dict] = field(default_factory=list)  # {"seconds", "what", "why"}
    durations: list[dict] = field(default_factory=list)  # runs under faults against the same runs without
    started: float = field(default_factory=time.monotonic)

    def compared(self, found: Divergence) -> None:
        self.runs_compared += 1
        self.lost += found.lost
        self.duplicated += found.duplicated

    def recovered(self, seconds: float, what: str, why: str) -> None:
        self.recoveries.append({"seconds": round(seconds, 1), "what": what, "why": why})

    def lines(self) -> list[str]:
        slowest = max(self.recoveries, key=lambda r: r["seconds"], default=None)
        lines = [f"faults injected: {sum(self.faults.values())} "
                 f"({', '.join(f'{k} {v}' for k, v in sorted(self.faults.items())) or 'none'})",
                 f"kill points survived: {len(self.kills)}"]
        lines += [f"  seed {k['seed']} #{k['index']}: {k['point']} -> rerun {k['recovery_s']} s" for k in self.kills]
        lines += [f"  {d['run']}: {d['faulty_s']} s under faults ({d['writes']} writes)"
                  + (f" + a rerun {d['rerun_s']} s" if d["rerun_s"] else "")
                  + f", {d['fault_free_s']} s without ({d['fault_free_writes']} writes)" for d in self.durations]
        lines += [f"runs compared: {self.runs_compared}", f"records lost: {self.lost}",
                  f"records duplicated: {self.duplicated}"]
        if slowest:
            lines.append(f"slowest recovery: {slowest['seconds']} s, {slowest['what']}: {slowest['why']}")
        return lines

    def write(self, path: Path) -> None:
        path.write_text(json.dumps({**asdict(self), "faults": dict(self.faults)}, indent=2, default=str))


def written(requests: list[dict]) -> Counter:
    """Writes of a request log slice, by method and status ("POST 201")."""
    return Counter(f"{r['method']} {r['status']}" for r in requests
                   if r["method"] in WRITES and r["path"].startswith("/data/"))


# ---- an ODS that crashes -------------------------------------------------------------------------------
class SandboxProcess:
    """`edfi-sync sandbox serve` in a process of its own, stored in PostgreSQL, on one port for its
    whole life, so it can be killed (-9) mid-run and started again like a real ODS. Its request log
    (lost with the process) is read as it goes, to count the faults it injected."""

    def __init__(self, database_url: str, descriptors: Path, log_dir: Path, tally: Tally):
        self.database_url, self.descriptors, self.tally = database_url, descriptors, tally
        self.port = free_port()
        self.handle = SandboxHandle(f"http://127.0.0.1:{self.port}", "sandbox", "sandbox-secret")
        self.log = log_dir / f"sandbox-{self.port}.log"
        self.faults: dict = {}
        self._proc: subprocess.Popen | None = None
        self._seen = 0

    def start(self, reset: bool = False, timeout: float = 60) -> float:
        """Start (``reset``: empty); returns the seconds it took to answer."""
        started = time.monotonic()
        args = [*CLI, "sandbox", "serve", "--port", str(self.port), "--database-url", self.database_url,
                "--descriptors", str(self.descriptors), "--faults", json.dumps(self.faults)]
        with open(self.log, "ab") as log:
            self._proc = subprocess.Popen([*args, *(["--reset"] if reset else [])], stdout=log,
                                          stderr=subprocess.STDOUT, start_new_session=True)
        self._seen = 0
        while True:
            try:
                self.handle._admin("GET", "/admin")
                return time.monotonic() - started
            except Exception:  # noqa: BLE001 - not listening yet
                assert self._proc.poll() is None, f"the sandbox did not start: see {self.log}"
                assert time.monotonic() - started < timeout, "the sandbox did not answer in time"
                time.sleep(0.05)

    def set_faults(self, **faults) -> None:
        """Faults from now on, and after every restart."""
        self.faults = faults
        self.handle.set_faults(**faults)

    def collect(self) -> list[dict]:
        """The requests answered since the last call, counting the faults among them."""
        entries = self.handle.requests(self._seen)
        if entries:
            self._seen = entries[-1]["seq"]
        for entry in entries:
            if entry["fault"]:
                self.tally.faults[entry["fault"].replace("status ", "")] += 1
        return entries

    def crash_and_restart(self) -> float:
        """kill -9 and start again; the seconds the ODS was away."""
        self.collect()
        down = time.monotonic()
        self._proc.send_signal(signal.SIGKILL)
        self._proc.wait(30)
        self.start()
        self.tally.faults["sandbox restart"] += 1
        return time.monotonic() - down

    def stop(self) -> None:
        self.handle.close()
        if self._proc is not None and self._proc.poll() is None:
            os.killpg(self._proc.pid, signal.SIGTERM)
            try:
                self._proc.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(self._proc.pid, signal.SIGKILL)
                self._proc.wait(15)


def sync_env(sis: str, server: SandboxHandle, **extra) -> dict[str, str]:
    """A sync's environment: the SIS database ``sis`` (a conninfo) and the Ed-Fi API ``server``."""
    from edfi_sync.connections import postgres_airflow_json

    return {**os.environ, "AIRFLOW_CONN_EDFI_SIS": postgres_airflow_json(sis),
            "AIRFLOW_CONN_EDFI_API": json.dumps({"conn_type": "http", "host": server.base_url, "login": server.key,
                                                 "password": server.secret,
                                                 "extra": {"max_in_flight": 8, **extra}})}


@dataclass
class ChaosRun:
    exit_code: int
    seconds: float
    writes: Counter
    stderr: str
    restart: dict | None = None  # {"away": s, "resumed": s}: the sandbox's crash, and the first write after it


def sync_under_chaos(sis: str, sandbox: SandboxProcess, args: tuple[str, ...], *, token_every: float,
                     restart_after: int | None, timeout: float = 900) -> ChaosRun:
    """One `edfi-sync sync` while the sandbox injects its faults: every ``token_every`` seconds
    every token is revoked (the client sees 401s), and after ``restart_after`` requests (reads or
    writes) the sandbox is killed and started again. The client gives a request up after
    CLIENT_TIMEOUT (hangs)."""
    env = sync_env(sis, sandbox.handle, timeout=CLIENT_TIMEOUT)
    started = last_expiry = time.monotonic()
    writes: Counter = Counter()
    requests = 0
    restart, crashed = None, None
    proc = start_sync(env, *args)
    try:
        while proc.poll() is None:
            assert time.monotonic() - started < timeout, f"sync still running after {timeout}s"
            new = [r for r in sandbox.collect() if r["path"].startswith("/data/")]
            writes += written(new)
            requests += len(new)
            if restart is not None and "resumed" not in restart and any(200 <= r["status"] < 300 for r in new):
                restart["resumed"] = round(time.monotonic() - crashed, 1)
            if restart_after is not None and restart is None and requests >= restart_after:
                crashed = time.monotonic()
                restart = {"away": round(sandbox.crash_and_restart(), 1)}
            if time.monotonic() - last_expiry >= token_every:
                sandbox.handle.expire_tokens()
                sandbox.tally.faults["token expiry"] += 1
                last_expiry = time.monotonic()
            time.sleep(0.1)
        code, _, err = finish(proc)
    finally:
        kill_hard(proc)
    writes += written(sandbox.collect())
    return ChaosRun(code, time.monotonic() - started, writes, err, restart)


def open_errors(conninfo: str, year: int = YEAR) -> set[tuple]:
    return set(sql(conninfo, "SELECT resource, sis_object_key, action, error_code FROM edfi_sync.error_log "
                             "WHERE end_year = %s AND NOT resolved", year))


def compare_with_reference(conninfo: str, server: SandboxHandle, reference_db: str,
                           reference: SandboxHandle) -> Divergence:
    """The ODS equals what a fault-free sync left in a fresh sandbox (whole records, ids aside), the
    identity map is the ODS, no natural key twice, and the error log holds the same open errors."""
    found = divergence(conninfo, server, reference_records(reference))
    here, there = open_errors(conninfo), open_errors(reference_db)
    if here != there:
        found.problems.append(f"error log: {sorted(here - there)[:5]} only under faults, "
                              f"{sorted(there - here)[:5]} only without")
    return found


# ---- SIS changes between runs ------------------------------------------------------------------------------
STASH = "CREATE TABLE IF NOT EXISTS public.enrollment_stash (LIKE sis.enrollment)"


def mutate(conninfo: str, what: str, rng: random.Random) -> str:
    """Change the SIS (or a mapping) so that the next run sends PUTs, DELETEs, re-keys...; returns
    what changed, to print."""
    part = rng.randrange(3)
    if what == "rename":  # students' PUTs, after their SSAs
        n = sql(conninfo, "UPDATE sis.person SET first_name = first_name || 'x' WHERE person_id %% 3 = %s", part)
        return f"{n} students renamed"
    if what == "move":  # SSA key changes: a PUT to the same id
        n = sql(conninfo, "UPDATE sis.enrollment SET start_date = start_date - 1 WHERE enrollment_id %% 3 = %s", part)
        return f"{n} entry dates moved"
    if what == "leave":  # students leave (DELETEs down the graph), or those who left come back (POSTs)
        sql(conninfo, STASH)
        back = sql(conninfo, "WITH back AS (DELETE FROM public.enrollment_stash RETURNING *) "
                             "INSERT INTO sis.enrollment SELECT * FROM back")
        if back:
            return f"{back} enrollments back"
        n = sql(conninfo, "WITH gone AS (DELETE FROM sis.enrollment WHERE person_id %% 5 = %s RETURNING *) "
                          "INSERT INTO public.enrollment_stash SELECT * FROM gone", part + 1)
        return f"{n} enrollments gone"
    if what == "diploma":  # seed 004: each SAR is deleted (its transcripts first) and posted again
        shift = rng.choice((-1, 1))
        n = sql(conninfo, "UPDATE sis.graduation SET diploma_date = diploma_date + %s "
                          "WHERE diploma_date IS NOT NULL AND diploma_type IS NOT NULL", shift)
        return f"{n} diploma dates moved by {shift} day"
    if what.startswith("rekey:"):  # a program's name changes: it and its associations are re-keyed
        area = what.split(":", 1)[1]
        current = sql(conninfo, "SELECT code_value FROM edfi_sync.mapping WHERE end_year = %s AND "
                                "resource = 'programs' AND field = 'program_type' AND sis_value = %s", YEAR, area)[0][0]
        other = next(v for v in PROGRAM_REKEYS[area] if v != current)
        sql(conninfo, "UPDATE edfi_sync.mapping SET code_value = %s WHERE end_year = %s AND resource = 'programs' "
                      "AND field = 'program_type' AND sis_value = %s", other, YEAR, area)
        return f"{area} mapped to {other!r}"
    raise ValueError(what)


def fresh_start(conninfo: str, server: SandboxHandle) -> None:
    """An empty ODS and connector state (the Resource Preferences and their snapshots stay): the
    next run is a first run."""
    server.reset()
    sql(conninfo, "TRUNCATE edfi_sync.identity_map, edfi_sync.error_log, edfi_sync.staged_record, "
                  "edfi_sync.ods_record, edfi_sync.replace_pending, edfi_sync.sync_run CASCADE")


# ---- kill points ----------------------------------------------------------------------------------------------
KINDS = ("request", "answer_txn", "step", "stage", "replace", "rekey")


@dataclass(frozen=True)
class KillPoint:
    """Where a sync is killed (-9), drawn from a seeded generator: ``kind``, the run it happens in
    (``scenario``) and ``draw``: the share of the run's writes before the kill, or the step."""

    index: int
    kind: str
    scenario: str
    draw: float | str

    def __str__(self) -> str:
        at = f"u={self.draw:.3f}" if isinstance(self.draw, float) else self.draw
        return f"{self.kind} ({at}) in a {self.scenario} run"


def draw_kill_points(seed: int, count: int) -> list[KillPoint]:
    """``count`` kill points; the same seed draws the same points."""
    rng = random.Random(seed)
    steps = [s.task_id for s in plan(SyncOptions())]
    posts = [s for s in steps if s.startswith("post.")]
    points = []
    kinds = rng.sample(KINDS, len(KINDS))  # every kind once, in a drawn order, then any
    for index in range(count):
        kind = kinds[index] if index < len(kinds) else rng.choice(KINDS)
        scenario = {"replace": "diploma", "rekey": f"rekey:{rng.choice(sorted(PROGRAM_REKEYS))}"}.get(
            kind, rng.choice(("first", "rename", "move", "leave")))
        draw = rng.choice(steps) if kind == "step" else rng.choice(posts) if kind == "stage" else rng.random()
        points.append(KillPoint(index, kind, scenario, draw))
    return points


def planned_writes(conninfo: str, server: SandboxHandle, options: SyncOptions) -> int:
    """The writes a run with ``options`` would send now (a dry run)."""
    settings = EdFiSettings(base_url=server.base_url, client_key=server.key, client_secret=server.secret)
    with YearSync(YEAR, SyncOptions(**{**asdict(options), "dry_run": True}), conninfo=conninfo,
                  settings_for=lambda _: settings) as run:
        summary = run.run()
    # A replacement's DELETEs count as replace_would_DELETE, and the dry run cannot see that each
    # deleted record is then posted again (seed 004): count those twice.
    return sum(n * (2 if "replace_" in key else 1) for counts in summary.by_resource().values()
               for key, n in counts.items() if "would_" in key)


def latest_run(conninfo: str) -> str | None:
    rows = sql(conninfo, "SELECT run_id FROM edfi_sync.sync_run WHERE status = 'running' AND dag_run_id IS NULL "
                         "ORDER BY started_at DESC LIMIT 1")
    return rows[0][0] if rows else None


def run_lock_free(conninfo: str, run_id: str) -> bool:
    """Whether a CLI run's lock is free (what runs_abandon.sql asks), leaving it free."""
    key = "hashtextextended('edfi_sync:run:' || %s, 0)"
    with psycopg.connect(conninfo, autocommit=True) as conn:
        free = conn.execute(f"SELECT pg_try_advisory_lock({key})", (run_id,)).fetchone()[0]
        if free:
            conn.execute(f"SELECT pg_advisory_unlock({key})", (run_id,))
        return free


def wait_for_run_lock(conninfo: str, run_id: str, timeout: float = 60) -> None:
    """A killed run's lock frees once its backend sees the client gone (at its next read)."""
    deadline = time.monotonic() + timeout
    while not run_lock_free(conninfo, run_id):
        assert time.monotonic() < deadline, f"the killed run {run_id} kept its lock"
        time.sleep(0.02)


def _after_writes(server: SandboxHandle, since: int, count: int) -> Callable[[], bool]:
    seen = {"since": since, "writes": 0}

    def ready() -> bool:
        log = server.requests(seen["since"])
        if log:
            seen["since"] = log[-1]["seq"]
            seen["writes"] += sum(written(log).values())
        return seen["writes"] >= count
    return ready


def _step_begun(conninfo: str, task_id: str) -> Callable[[], bool]:
    """The step's ledger row appeared: the step has begun (before its stage, for a post step)."""
    phase, resource = task_id.split(".", 1)

    def ready() -> bool:
        return bool(sql(conninfo, "SELECT 1 FROM edfi_sync.resource_run r JOIN edfi_sync.sync_run s USING (run_id) "
                                  "WHERE s.status = 'running' AND s.dag_run_id IS NULL AND r.phase = %s "
                                  "AND r.resource = %s", phase, resource))
    return ready


def _staging(conninfo: str, task_id: str) -> Callable[[], bool]:
    """The post step is extracting (a FETCH of its cursor) or staging (COPY) its rows; or, if the
    poll missed that, past it."""
    begun = _step_begun(conninfo, task_id)
    phase, resource = task_id.split(".", 1)

    def ready() -> bool:
        if not begun():
            return False
        return bool(sql(conninfo, "SELECT 1 FROM pg_stat_activity WHERE datname = current_database() "
                                  "AND application_name LIKE 'edfi-sync %%' AND state = 'active' "
                                  "AND (query LIKE 'COPY edfi_sync.staged_record%%' OR query LIKE %s) "
                                  "UNION ALL SELECT 1 FROM edfi_sync.resource_run r "
                                  "JOIN edfi_sync.sync_run s USING (run_id) WHERE s.status = 'running' "
                                  "AND r.phase = %s AND r.resource = %s AND r.staged_rows IS NOT NULL",
                        f"%extract_{resource}%", phase, resource))
    return ready


# A sync connection (application_name "edfi-sync <run_id>") blocked while it holds the identity map's
# row lock of its uncommitted map writes: inside the transaction that records a group of answers.
_IN_ANSWER_TRANSACTION = """
SELECT a.pid, a.query FROM pg_stat_activity a
 WHERE a.datname = current_database() AND a.application_name LIKE 'edfi-sync %%' AND a.wait_event_type = 'Lock'
"""
_HOLDS_MAP_WRITES = """
SELECT 1 FROM pg_locks WHERE pid = %s AND granted AND mode = 'RowExclusiveLock'
   AND relation = 'edfi_sync.identity_map'::regclass
"""


def kill_inside_answer_transaction(conninfo: str, proc: subprocess.Popen, timeout: float = 120) -> str:
    """SIGKILL the sync inside the transaction that writes a group of answers (identity map, error
    log, staged statuses): the test holds the error log in SHARE mode, so that transaction waits
    there with its map writes made and not committed; the kill comes then, and the lock is let go
    (the dead client's transaction rolls back). Returns the statement it was waiting in."""
    deadline = time.monotonic() + timeout
    with psycopg.connect(conninfo) as locker:
        locker.execute("SET lock_timeout = '20s'")
        while time.monotonic() < deadline:
            locker.execute("LOCK TABLE edfi_sync.error_log IN SHARE MODE")
            look_until = time.monotonic() + 2
            while time.monotonic() < look_until:
                if proc.poll() is not None:
                    raise AssertionError(f"the sync ended ({proc.returncode}) before the kill")
                blocked = sql(conninfo, _IN_ANSWER_TRANSACTION)
                inside = [query for pid, query in blocked if sql(conninfo, _HOLDS_MAP_WRITES, pid)]
                if inside:
                    proc.send_signal(signal.SIGKILL)
                    proc.wait(30)
                    locker.rollback()
                    return next((f"{name}.sql" for name in ("error_insert", "errors_resolve", "staged_set_status")
                                 if queries.engine(name).strip() == inside[0].strip()), inside[0][:60])
                if blocked:  # something else (a stage's build failures) waits: let it through
                    break
                time.sleep(0.002)
            locker.rollback()
            time.sleep(0.05)
    raise AssertionError("never caught the sync inside an answer-writing transaction")


@dataclass
class KillOutcome:
    point: KillPoint
    where: str  # what was happening at the kill
    rerun_seconds: float
    rerun_writes: Counter
    found: Divergence


def survive(point: KillPoint, conninfo: str, server: SandboxHandle, env: dict[str, str], seed: int,
            tally: Tally) -> KillOutcome:
    """Set up the point's run, start it, kill it there, rerun once, and compare: the ODS holds
    what the rules produce (nothing lost, nothing twice), the identity map is the ODS, and the
    killed run is abandoned in the ledger."""
    rng = random.Random(f"{seed}:{point.index}")
    args: tuple[str, ...] = ()
    options = SyncOptions()
    if point.scenario == "first":
        fresh_start(conninfo, server)
        change = "an empty ODS"
    else:
        change = mutate(conninfo, point.scenario, rng)
    if point.kind == "rekey":
        args, options = ("--resync", "--resource", "programs"), SyncOptions(resources=("programs",), resync=True)
    if isinstance(point.draw, float):
        total = planned_writes(conninfo, server, options)
        assert total > 1, f"{point}: the run would send {total} writes ({change})"
        # Within the first 90% of the writes: a run that ends before the poll sees its write is no
        # kill, and one inside an answer transaction needs a transaction after it (the end of a run
        # is the step kind's).
        at = 1 + int(point.draw * (total - 1) * 0.9)
        where = f"after write {at} of {total}"
    since = last_seq(server)
    proc = start_sync(env, *args)
    try:
        if point.kind == "answer_txn":
            wait_while_running(proc, _after_writes(server, since, at), f"write {at}")
            where += f", inside the answers' transaction ({kill_inside_answer_transaction(conninfo, proc)})"
        else:
            if point.kind == "step":
                wait_while_running(proc, _step_begun(conninfo, point.draw), f"{point.draw} beginning")
            elif point.kind == "stage":
                wait_while_running(proc, _staging(conninfo, point.draw), f"{point.draw} staging")
            else:
                wait_while_running(proc, _after_writes(server, since, at), f"write {at}")
            proc.send_signal(signal.SIGKILL)
            proc.wait(30)
        assert proc.returncode == -signal.SIGKILL, f"{point}: the sync ended ({proc.returncode}) before the kill"
    finally:
        kill_hard(proc)
    killed = latest_run(conninfo)
    if point.kind in ("step", "stage"):
        where = _where_in_step(conninfo, killed, point.draw)
    if killed:
        wait_for_run_lock(conninfo, killed)
    rerun_since = last_seq(server)
    started = time.monotonic()
    code, out, err = finish(start_sync(env, *args), timeout=600)
    seconds = time.monotonic() - started
    assert code == 0, f"{point}: the rerun exited {code}:\n{err[-3000:]}"
    rerun_writes = written(server.requests(rerun_since))
    found = divergence(conninfo, server)
    if killed:
        status = sql(conninfo, "SELECT status FROM edfi_sync.sync_run WHERE run_id = %s", killed)[0][0]
        if status != "abandoned":
            found.problems.append(f"the killed run {killed} is {status!r} in the ledger, not 'abandoned'")
    still = sql(conninfo, "SELECT run_id FROM edfi_sync.sync_run WHERE status = 'running'")
    if still:
        found.problems.append(f"runs still 'running' after the rerun: {still}")
    tally.compared(found)
    tally.kills.append({"seed": seed, "index": point.index, "point": f"{point}: {change}, killed {where}",
                        "recovery_s": round(seconds, 1)})
    tally.recovered(seconds, f"the rerun after the kill {where} ({point})",
                    f"it resent {dict(rerun_writes)} ({change})")
    return KillOutcome(point, where, seconds, rerun_writes, found)


def _where_in_step(conninfo: str, run_id: str, task_id: str) -> str:
    """Where in its step a killed run was, from what its ledger row had recorded."""
    phase, resource = task_id.split(".", 1)
    [(staged,)] = sql(conninfo, "SELECT staged_rows FROM edfi_sync.resource_run WHERE run_id = %s "
                                "AND phase = %s AND resource = %s", run_id, phase, resource)
    if phase == "post" and staged is None:
        return f"in {task_id}, amid its extract and staging"
    return f"in {task_id}" + (", staged, amid its sends" if phase == "post" else ", as it began")


def reference_sync(sis: str, server: SandboxHandle, args: tuple[str, ...] = ()) -> list[dict]:
    """The same sync without faults, against the reference sandbox; the requests it sent."""
    since = last_seq(server)
    code, out, err = finish(start_sync(sync_env(sis, server), *args), timeout=900)
    assert code == 0, f"the fault-free reference sync exited {code}:\n{err[-3000:]}"
    return [r for r in server.requests(since) if r["path"].startswith("/data/")]


def last_seq(server: SandboxHandle) -> int:
    log = server.requests()
    return log[-1]["seq"] if log else 0


DRIFT = ("studentSchoolAssociations", "courseTranscripts", "studentSchoolFoodServiceProgramAssociations")


def drift(server: SandboxHandle, rng: random.Random, count: int = 3) -> str:
    """Records deleted behind the sync's back (a resync must bring them back)."""
    gone = []
    for resource in DRIFT:
        records = server.records(resource)
        for record in rng.sample(records, min(count, len(records))):
            server.delete_record(resource, record["id"])
            gone.append(resource)
    return f"{len(gone)} records deleted behind the sync's back"


@dataclass
class Phase:
    name: str
    args: tuple[str, ...]
    change: str
    run: ChaosRun
    rerun: ChaosRun | None
    found: Divergence
    reference_seconds: float


def chaos_phase(name: str, test_db: str, sandbox: SandboxProcess, reference_db: str, reference: SandboxHandle,
                seed: int, tally: Tally, *, token_every: float) -> Phase:
    """One run under every fault (``first``, ``incremental`` after a SIS change, or ``resync``
    after drift), the same run without faults into the reference, then the comparison; when they
    differ (or the run failed), one rerun under the same faults, and the comparison again."""
    rng = random.Random(seed)
    args: tuple[str, ...] = ()
    change = "an empty ODS"
    if name == "first":
        fresh_start(test_db, sandbox.handle)
        fresh_start(reference_db, reference)
    elif name == "incremental":
        what = rng.choice(("rename", "move", "leave", "diploma"))
        change = mutate(test_db, what, random.Random(seed))
        mutate(reference_db, what, random.Random(seed))
    elif name == "resync":
        args, change = ("--resync",), drift(sandbox.handle, rng)
    started = time.monotonic()
    reference_requests = reference_sync(reference_db, reference, args)
    reference_seconds = time.monotonic() - started
    sandbox.set_faults(**FAULTS, seed=seed)
    total = sum(written(reference_requests).values())
    restart_after = max(1, int(len(reference_requests) * rng.uniform(0.2, 0.8)))
    run = sync_under_chaos(test_db, sandbox, args, token_every=token_every, restart_after=restart_after)
    found = compare_with_reference(test_db, sandbox.handle, reference_db, reference)
    rerun = None
    if run.exit_code != 0 or found:
        why = "; ".join(([f"the run exited {run.exit_code}"] if run.exit_code else []) + found.problems[:4])
        rerun = sync_under_chaos(test_db, sandbox, args, token_every=token_every, restart_after=None)
        found = compare_with_reference(test_db, sandbox.handle, reference_db, reference)
        tally.recovered(rerun.seconds, f"the rerun of a {name} run under faults", why)
    assert (rerun or run).exit_code == 0, f"{name} under faults exited {(rerun or run).exit_code}:\n" \
                                         f"{(rerun or run).stderr[-3000:]}"
    sandbox.set_faults()
    tally.compared(found)
    if run.restart and "resumed" in run.restart:
        tally.recovered(run.restart["resumed"], f"the sandbox killed and restarted amid a {name} run",
                        f"away {run.restart['away']} s; the client's retries (backoff) wrote again once it answered")
    tally.durations.append({"run": f"{name} ({change})", "faulty_s": round(run.seconds, 1),
                            "rerun_s": round(rerun.seconds, 1) if rerun else None,
                            "fault_free_s": round(reference_seconds, 1), "writes": sum(run.writes.values()),
                            "fault_free_writes": total})
    return Phase(name, args, change, run, rerun, found, reference_seconds)


@dataclass
class ChaosWorld:
    test_db: str  # the SIS + connector database the runs under faults use
    sandbox: SandboxProcess  # their ODS, which crashes
    reference_db: str  # the same SIS, synced without faults
    reference: SandboxHandle  # into a fresh sandbox


@contextmanager
def chaos_world(admin: str, template: str, test_db: str, scale: float, home: Path, tally: Tally) -> Iterator[ChaosWorld]:
    """Demo data at ``scale`` in ``test_db`` and in a second database, a PostgreSQL-backed sandbox
    process for the runs under faults and an in-memory one for the fault-free reference."""
    from databases import create_database, drop_database
    from e2e_helpers import demo_sandbox, load_demo

    suffix = uuid.uuid4().hex[:8]
    reference_name, storage_name = f"edfi_sync_reference_{suffix}", f"edfi_sandbox_chaos_{suffix}"
    reference_db = create_database(admin, reference_name, template)
    storage = create_database(admin, storage_name)
    descriptors = home / "descriptors.json"
    sandbox = None
    try:
        load_demo(scale, descriptors, test_db)
        load_demo(scale, descriptors, reference_db)
        sandbox = SandboxProcess(storage, descriptors, home, tally)
        sandbox.start(reset=True)
        with demo_sandbox(descriptors) as reference:
            yield ChaosWorld(test_db, sandbox, reference_db, reference)
    finally:
        if sandbox is not None:
            sandbox.stop()
        drop_database(admin, reference_name)
        drop_database(admin, storage_name)
