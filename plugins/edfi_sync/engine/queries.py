"""The engine's SQL, read once from include/sql/engine/ and include/sql/extract/."""

from __future__ import annotations

from functools import lru_cache

from ..paths import read_sql


@lru_cache(maxsize=None)
def engine(name: str) -> str:
    return read_sql(f"engine/{name}.sql")


@lru_cache(maxsize=None)
def extract(filename: str) -> str:
    return read_sql(f"extract/{filename}")
