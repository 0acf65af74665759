"""Planner statistics for the diff, refreshed only when a table changed enough to mislead the
planner (include/sql/engine/statistics_stale.sql says when and why)."""

from __future__ import annotations

import psycopg

from . import queries


def refresh(conn: psycopg.Connection, staged: int) -> list[str]:
    """ANALYZE the tables whose statistics are stale after staging ``staged`` rows; returns them."""
    stale = [name for (name,) in conn.execute(queries.engine("statistics_stale"), {"staged": staged})]
    for name in stale:
        conn.execute(queries.engine(f"analyze_{name}"))
    return stale
