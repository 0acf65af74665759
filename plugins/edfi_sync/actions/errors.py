"""What an operator does with rows of the Error Log: archive them with a reason (a resolution the
engine keeps while the record fails the same way), or retry their records (a run of just those
records, SPEC §6.1)."""

from __future__ import annotations

from typing import Any, Iterable

import psycopg
from psycopg.rows import dict_row

from ..paths import read_sql
from ..resources import RESOURCES

MAX_CHOSEN = 500
MAX_NOTE = 500


def chosen(conn: psycopg.Connection, error_ids: Iterable[int]) -> list[dict[str, Any]]:
    """The rows chosen (those that exist)."""
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(read_sql("actions/errors_chosen.sql"), {"error_ids": sorted(set(error_ids))}).fetchall()


def archive(conn: psycopg.Connection, error_ids: list[int], actor: str, note: str) -> list[int]:
    """Archive the open ones among ``error_ids``; the ids archived."""
    return [row[0] for row in conn.execute(read_sql("actions/archive.sql"), {
        "error_ids": error_ids, "actor": actor, "note": note}).fetchall()]


def records_by_year(rows: Iterable[dict[str, Any]]) -> dict[int, list[str]]:
    """The records a retry of these rows sends, per school year: ``resource:sis_object_key`` (rows
    that name no SIS object cannot be retried one by one)."""
    found: dict[int, list[str]] = {}
    for row in rows:
        if row["sis_object_key"]:
            records = found.setdefault(row["end_year"], [])
            item = f"{row['resource']}:{row['sis_object_key']}"
            if item not in records:
                records.append(item)
    return dict(sorted(found.items()))


def one_year(rows: Iterable[dict[str, Any]]) -> int | None:
    """The school year of the rows when they share one (an audit entry's year)."""
    years = {row["end_year"] for row in rows}
    return years.pop() if len(years) == 1 else None


def delete_tool_query(row: dict[str, Any], map_key: dict[str, Any] | None) -> dict[str, str] | None:
    """The Delete Tool's form filled with a 409 row's record (its identity-map key, else the key of
    the body it sent): a DELETE a dependent blocks, or a POST another record's key conflicts with.
    None for other rows, and for records the tool does not delete (students)."""
    definition = RESOURCES.get(row["resource"])
    if row["status"] != 409 or definition is None or not definition.deletable:
        return None
    key = map_key or (definition.reference_key(row["request_body"]) if row.get("request_body") else None)
    if not key or any(value is None for value in key.values()):
        return None
    return {"school_year": str(row["end_year"]), "resource": row["resource"],
            **{f"key.{name}": str(value) for name, value in key.items()}}


def delete_tool_queries(conn: psycopg.Connection, rows: list[dict[str, Any]]) -> dict[int, dict[str, str]]:
    """error_id -> the Delete Tool's query, for the 409 rows among ``rows`` (a page of the Error Log)."""
    conflicts = chosen(conn, [row["error_id"] for row in rows if row["status"] == 409])
    keys: dict[tuple, dict] = {}
    hashes = sorted({row["natural_key_hash"] for row in conflicts if row["natural_key_hash"]})
    if hashes:
        for year, resource, key_hash, key in conn.execute(read_sql("ui/map_keys.sql"), {"hashes": hashes}):
            keys[(year, resource, key_hash)] = key
    found = {}
    for row in conflicts:
        query = delete_tool_query(row, keys.get((row["end_year"], row["resource"], row["natural_key_hash"])))
        if query:
            found[row["error_id"]] = query
    return found
