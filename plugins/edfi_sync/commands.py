"""Handlers of the small CLI commands (the bigger ones live next to their subsystem)."""

from __future__ import annotations

import argparse
import time

from . import db, embedded


def db_init(args: argparse.Namespace) -> int:
    started = time.perf_counter()
    conninfo = db.sis_conninfo()
    applied = db.init_schema(conninfo)
    version = db.schema_version(conninfo)
    what = ", ".join(f"{m.version:04d}_{m.name}" for m in applied) or "nothing to do"
    print(f"db init: {db.describe(conninfo)} at schema version {version} ({what}) in "
          f"{time.perf_counter() - started:.2f}s")
    return 0


def db_status(args: argparse.Namespace) -> int:
    conninfo = db.sis_conninfo()
    print(f"database: {db.describe(conninfo)}")
    print(f"schema version: {db.schema_version(conninfo)} (latest {db.migrations()[-1].version})")
    return 0


def db_stop(args: argparse.Namespace) -> int:
    print("embedded PostgreSQL stopped" if embedded.stop() else "embedded PostgreSQL was not running")
    return 0
