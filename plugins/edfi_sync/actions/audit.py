"""The audit trail (SPEC §6.1): who did what from the operator pages (or `edfi-sync delete`), when,
with which parameters, the DAG run it started, and how it ended (report/audit.sql)."""

from __future__ import annotations

import getpass
from typing import Any

import psycopg
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from ..paths import read_sql

ACTIONS = {"archive": "Archive", "retry": "Retry", "resync_preview": "Resync preview", "resync": "Resync",
           "delete_preview": "Delete preview", "delete": "Delete"}
PAGE_SIZE = 100


def record(conn: psycopg.Connection, *, actor: str, origin: str, action: str, params: dict[str, Any],
           school_year: int | None = None, dag_id: str | None = None, dag_run_id: str | None = None,
           outcome: str | None = None, result: dict[str, Any] | None = None) -> int:
    """Write one action; its id. An action whose DAG run is still to end leaves ``outcome`` empty:
    the run's own records tell how it ended."""
    return conn.execute(read_sql("actions/audit_insert.sql"), {
        "actor": actor, "origin": origin, "action": action, "school_year": school_year, "params": Jsonb(params),
        "dag_id": dag_id, "dag_run_id": dag_run_id, "outcome": outcome,
        "result": Jsonb(result) if result is not None else None}).fetchone()[0]


def cli_actor() -> str:
    """Who acts from the command line: the operating-system user."""
    try:
        return getpass.getuser()
    except OSError:  # no user name in this environment
        return "unknown"


def entries(conn: psycopg.Connection, *, school_year: int | None = None, action: str | None = None,
            audit_id: int | None = None, limit: int = PAGE_SIZE) -> list[dict[str, Any]]:
    """The trail, newest first, each action with how it ended."""
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(read_sql("report/audit.sql"), {
            "school_year": school_year, "action": action, "audit_id": audit_id, "limit": limit}).fetchall()


def entry(conn: psycopg.Connection, audit_id: int) -> dict[str, Any] | None:
    found = entries(conn, audit_id=audit_id, limit=1)
    return found[0] if found else None
