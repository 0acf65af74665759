"""Replace the demo data in one transaction: empty the SIS tables, clear the year's configuration,
stream every table with COPY. Rows are generated while they are sent, so memory stays flat."""

from __future__ import annotations

import time
from dataclasses import dataclass

import psycopg
from psycopg import sql

from ..paths import read_sql
from .config import CONFIG_TABLES
from .tables import SIS_TABLES, Table
from .world import World

TABLES = SIS_TABLES + CONFIG_TABLES


@dataclass(frozen=True)
class Loaded:
    table: str
    rows: int
    seconds: float


@dataclass(frozen=True)
class Report:
    loaded: list[Loaded]
    rebuilt: int  # foreign keys and indexes re-created after the load
    rebuild_seconds: float


def _identifier(name: str) -> sql.Identifier:
    return sql.Identifier(*name.split("."))


def copy_table(conn: psycopg.Connection, table: Table, world: World) -> Loaded:
    started = time.perf_counter()
    statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
        _identifier(table.name), sql.SQL(", ").join(map(sql.Identifier, table.columns)))
    rows = 0
    with conn.cursor() as cur, cur.copy(statement) as copy:
        for row in table.rows(world):
            copy.write_row(row)
            rows += 1
    return Loaded(table.name, rows, time.perf_counter() - started)


class ForeignData(RuntimeError):
    """The sis schema holds data demo-data did not write: replacing it would destroy a real SIS."""


def replace_demo_data(conninfo: str, world: World, scale: float, *, replace_foreign: bool = False) -> Report:
    with psycopg.connect(conninfo) as conn:
        with conn.transaction():
            if not replace_foreign and conn.execute(read_sql("demo/foreign_data.sql")).fetchone()[0]:
                raise ForeignData("the sis schema holds data that demo-data did not write")
            conn.execute(read_sql("demo/mark.sql"), {"seed": world.seed, "scale": scale,
                                                     "school_year": world.year})
            conn.execute(sql.SQL("TRUNCATE {}").format(
                sql.SQL(", ").join(_identifier(t.name) for t in TABLES if t.truncate)))
            conn.execute(read_sql("demo/clear_year_config.sql"), {"year": world.year})
            ddl = conn.execute(read_sql("demo/bulk_load_ddl.sql")).fetchall()
            for drop, _, _ in ddl:
                conn.execute(drop)
            loaded = [copy_table(conn, table, world) for table in TABLES]
            started = time.perf_counter()
            # Indexes first (create_order 1): the keys' validation can use them.
            for _, create, _ in sorted(ddl, key=lambda statement: statement[2]):
                conn.execute(create)
            rebuild_seconds = time.perf_counter() - started
        # Fresh statistics, so the first sync's extract queries get sensible plans.
        conn.execute(sql.SQL("ANALYZE {}").format(sql.SQL(", ").join(_identifier(t.name) for t in TABLES)))
        conn.commit()
    return Report(loaded, len(ddl), rebuild_seconds)
