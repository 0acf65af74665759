"""Where the project's files and local state live."""

from __future__ import annotations

import os
from pathlib import Path

# plugins/edfi_sync/paths.py -> repository root (also /opt/airflow in docker-compose).
PROJECT_ROOT = Path(__file__).resolve().parents[2]
INCLUDE_DIR = Path(os.environ.get("EDFI_SYNC_INCLUDE", PROJECT_ROOT / "include"))
SQL_DIR = INCLUDE_DIR / "sql"
SCHEMA_DIR = SQL_DIR / "schema"


def sync_home() -> Path:
    """EDFI_SYNC_HOME (SPEC §6): local state, default ``.edfi-sync/`` in the current directory."""
    return Path(os.environ.get("EDFI_SYNC_HOME", ".edfi-sync")).resolve()


def read_sql(relative: str) -> str:
    """The text of a SQL file under include/sql/ (SQL never lives in Python strings)."""
    path = SQL_DIR / relative
    return path.read_text(encoding="utf-8")
