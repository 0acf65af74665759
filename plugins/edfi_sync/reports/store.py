"""The reports' reads of the connector database: the SQL of ``include/sql/report/`` and
``include/sql/ui/`` run with a report's filters as parameters, on a connection the caller opens
(the CLI with its own login, the pages as ``edfi_sync_reader``).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any, Iterator

import psycopg
from psycopg import sql
from psycopg.rows import dict_row

from ..paths import read_sql
from .filters import PAGE_SIZE, ErrorFilters, IdentityMapFilters, Page, RunFilters

# Columns that order a page, not columns of the report.
_PAGING = ("sort_key", "tie", "natural_key_hash")
STREAM_ROWS = 2_000


@lru_cache(maxsize=None)
def _query(name: str, filter_name: str | None = None) -> sql.Composable:
    """A report's SQL file; ``{filter}`` in it stands for the report's filter file."""
    text = read_sql(name)
    if filter_name is None:
        return sql.SQL(text)
    return sql.SQL(text).format(filter=sql.SQL(read_sql(filter_name)))


ERRORS = ("report/errors.sql", "report/errors_filter.sql")
ERROR_SUMMARY = ("ui/errors_summary.sql", "report/errors_filter.sql")
IDENTITY_MAP = ("report/identity_map.sql", "report/identity_map_filter.sql")
IDENTITY_MAP_COUNTS = ("ui/identity_map_counts.sql", "report/identity_map_filter.sql")
RUNS = ("report/runs.sql",)


def _fetch(conn: psycopg.Connection, query: tuple[str, ...], params: dict[str, Any]) -> list[dict]:
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(_query(*query), params).fetchall()


def _page(conn: psycopg.Connection, query: tuple[str, ...], filters, key, size: int, **params: Any) -> Page:
    rows = _fetch(conn, query, {**filters.sql_params(size), **params})
    if filters.page is not None and filters.page.backward:
        rows.reverse()
    return Page.of(rows, filters.page, key, size)


def stream(conn: psycopg.Connection, query: tuple[str, ...], filters, **params: Any) -> Iterator[dict]:
    """Every row of a report in order, through a server-side cursor (memory stays flat)."""
    with conn.transaction(), conn.cursor(name="report", row_factory=dict_row) as cur:
        cur.itersize = STREAM_ROWS
        cur.execute(_query(*query), {**filters.sql_params(limit=None), **params})
        for row in cur:
            yield {k: v for k, v in row.items() if k not in _PAGING}


# -- the error log --------------------------------------------------------------------------

def error_page(conn: psycopg.Connection, filters: ErrorFilters, size: int = PAGE_SIZE) -> Page:
    return _page(conn, ERRORS, filters, lambda row: (row["sort_key"], row["tie"]), size)


def error_summary(conn: psycopg.Connection, filters: ErrorFilters) -> dict[str, list[dict]]:
    """{"total": [{"n"}], "resource"|"error_code"|"school"|"student": top 20 [{value, label, n}]}"""
    summary: dict[str, list[dict]] = {"total": [], "resource": [], "error_code": [], "school": [], "student": []}
    for row in _fetch(conn, ERROR_SUMMARY, filters.sql_params(limit=None)):
        summary[row["dimension"]].append(row)
    return summary


def error(conn: psycopg.Connection, error_id: int) -> dict | None:
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(_query("ui/error.sql"), {"error_id": error_id}).fetchone()


# -- the identity map -----------------------------------------------------------------------

def identity_map_page(conn: psycopg.Connection, filters: IdentityMapFilters, size: int = PAGE_SIZE) -> Page:
    page = _page(conn, IDENTITY_MAP, filters,
                 lambda row: (row["resource"], row["sis_object_key"], row["natural_key_hash"]), size)
    names = student_names(conn, {row["student_unique_id"] for row in page.rows if row["student_unique_id"]})
    for row in page.rows:
        row["student_name"] = names.get(row["student_unique_id"])
    return page


def identity_map_counts(conn: psycopg.Connection, filters: IdentityMapFilters) -> list[dict]:
    return _fetch(conn, IDENTITY_MAP_COUNTS, {**filters.sql_params(limit=None), "resource": None})


def school_names(conn: psycopg.Connection, ids: set[str]) -> dict[str, str]:
    ids = {i for i in ids if i}
    if not ids:
        return {}
    return {row["number"]: row["name"] for row in _fetch(conn, ("ui/school_names.sql",), {"ids": sorted(ids)})}


def schools(conn: psycopg.Connection) -> list[dict]:
    """Every school with an Ed-Fi schoolId (a per-school resync's choices), by name."""
    return sorted(_fetch(conn, ("ui/schools.sql",), {}), key=lambda row: (row["name"] or "", row["number"]))


def student_names(conn: psycopg.Connection, ids: set[str]) -> dict[str, str]:
    if not ids:
        return {}
    return {row["state_id"]: row["name"] for row in _fetch(conn, ("ui/student_names.sql",), {"ids": sorted(ids)})}


# -- runs -----------------------------------------------------------------------------------

def run_page(conn: psycopg.Connection, filters: RunFilters, size: int = PAGE_SIZE) -> Page:
    return _page(conn, RUNS, filters, lambda row: (row["started_at"], row["run_id"]), size, include_dry_runs=True)


def recent_runs(conn: psycopg.Connection, school_year: int | None, count: int = 30) -> list[dict]:
    """The last ``count`` runs that sent (dry runs aside), oldest first: the Error Log's chart."""
    params = {**RunFilters(school_year=school_year).sql_params(count), "limit": count, "include_dry_runs": False}
    return list(reversed(_fetch(conn, RUNS, params)))


def run(conn: psycopg.Connection, run_id: str) -> dict | None:
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(_query("ui/run.sql"), {"run_id": run_id}).fetchone()


def run_steps(conn: psycopg.Connection, run_id: str) -> list[dict]:
    return _fetch(conn, ("ui/run_steps.sql",), {"run_id": run_id})


def reconciliation(conn: psycopg.Connection, school_year: int, resource: str | None = None) -> list[dict]:
    return _fetch(conn, ("report/reconciliation.sql",), {"end_year": school_year, "resource": resource})


def school_years(conn: psycopg.Connection) -> list[int]:
    return [row["end_year"] for row in _fetch(conn, ("ui/years.sql",), {})]
