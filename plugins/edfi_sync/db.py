"""The connector database (SIS + ``edfi_sync`` state): where it is, and its versioned schema."""

from __future__ import annotations

import logging
import re
import time
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Iterator

import psycopg

from . import embedded
from .connections import find_connection, postgres_conninfo
from .paths import SCHEMA_DIR, read_sql

log = logging.getLogger(__name__)

SIS_CONN_ID = "edfi_sis"


def sis_conninfo() -> str:
    """AIRFLOW_CONN_EDFI_SIS when set, else the embedded server's ``edfi_sync`` database."""
    spec = find_connection(SIS_CONN_ID)
    if spec is not None:
        return postgres_conninfo(spec)
    return embedded.conninfo("edfi_sync")


def describe(conninfo: str) -> str:
    """Where a conninfo points, without its password."""
    params = psycopg.conninfo.conninfo_to_dict(conninfo)
    host = params.get("host") or "localhost"
    return f"{params.get('dbname', '?')} on {host}" + (f":{params['port']}" if params.get("port") else "")


@contextmanager
def connect(conninfo: str | None = None, **kwargs) -> Iterator[psycopg.Connection]:
    conn = psycopg.connect(conninfo or sis_conninfo(), **kwargs)
    try:
        yield conn
    finally:
        conn.close()


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str


def migrations() -> list[Migration]:
    """The numbered DDL files of include/sql/schema/, in order."""
    found = []
    for path in sorted(SCHEMA_DIR.glob("*.sql")):
        match = re.fullmatch(r"(\d+)_(.+)\.sql", path.name)
        if match:
            found.append(Migration(int(match.group(1)), match.group(2), path.read_text(encoding="utf-8")))
    return found


def init_schema(conninfo: str | None = None) -> list[Migration]:
    """Create or upgrade the ``sis`` and ``edfi_sync`` schemas; returns the migrations applied."""
    applied: list[Migration] = []
    with connect(conninfo, autocommit=True) as conn:
        conn.execute(read_sql("migration/lock.sql"))
        try:
            conn.execute(read_sql("migration/bookkeeping.sql"))
            done = {row[0] for row in conn.execute(read_sql("migration/applied.sql"))}
            for migration in migrations():
                if migration.version in done:
                    continue
                started = time.perf_counter()
                with conn.transaction():
                    conn.execute(migration.sql)
                    conn.execute(read_sql("migration/record.sql"),
                                 {"version": migration.version, "name": migration.name})
                log.info("applied migration %04d_%s in %.2fs", migration.version, migration.name,
                         time.perf_counter() - started)
                applied.append(migration)
            # Not a migration: it must run again once a DBA has created the role it could not.
            conn.add_notice_handler(_log_warning)
            conn.execute(read_sql("migration/pages_role.sql"))
        finally:
            conn.execute(read_sql("migration/unlock.sql"))
    return applied


def _log_warning(notice: psycopg.errors.Diagnostic) -> None:
    if notice.severity_nonlocalized == "WARNING":
        log.warning("%s", notice.message_primary)


def schema_version(conninfo: str | None = None) -> int:
    with connect(conninfo) as conn:
        return conn.execute(read_sql("migration/version.sql")).fetchone()[0]
