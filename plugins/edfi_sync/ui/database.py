"""The pages' connection to the connector database: the ``edfi_sis`` connection, as the role
``edfi_sync_reader`` (SELECT on what the pages show; no ``edfi_sync.token_cache``), read-only,
with a statement timeout. Never Airflow's metadata database, never an Ed-Fi secret.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

import psycopg
from psycopg.conninfo import conninfo_to_dict, make_conninfo

READER_ROLE = "edfi_sync_reader"
STATEMENT_TIMEOUT = "30s"
# Summaries of 100k rows sort and hash in memory, not in temporary files.
WORK_MEM = "32MB"


class PagesUnavailable(RuntimeError):
    """The pages cannot read: the database is unreachable, or the reader role is missing."""


def reader_conninfo(conninfo: str) -> str:
    """``conninfo`` that takes the reader role at connection start (RESET ROLE keeps it)."""
    params = conninfo_to_dict(conninfo)
    options = [params.get("options") or "", f"-c role={READER_ROLE}", "-c default_transaction_read_only=on",
               f"-c statement_timeout={STATEMENT_TIMEOUT}", f"-c work_mem={WORK_MEM}"]
    params["options"] = " ".join(o for o in options if o)
    params.setdefault("application_name", "edfi-sync pages")
    return make_conninfo(**params)


def sis_conninfo() -> str:
    from ..hooks.sis import SisDatabaseHook

    return SisDatabaseHook().conninfo()


def connect_now(conninfo: str | None = None) -> psycopg.Connection:
    """An open connection as the reader role (the caller closes it)."""
    try:
        return psycopg.connect(reader_conninfo(conninfo or sis_conninfo()), autocommit=True, connect_timeout=10)
    except psycopg.OperationalError as exc:
        text = str(exc)
        if "role" in text and (READER_ROLE in text or "permission denied to set role" in text):
            raise PagesUnavailable(
                f"The pages read the connector database as the role {READER_ROLE}, which this login cannot "
                f"take ({text.strip().splitlines()[-1]}). A database administrator runs: CREATE ROLE {READER_ROLE} "
                f"NOLOGIN; GRANT {READER_ROLE} TO <the edfi_sis login>; then `edfi-sync db init` grants it "
                "what the pages read.") from exc
        raise PagesUnavailable(f"The connector database (Airflow connection edfi_sis) is unreachable: "
                               f"{text.strip().splitlines()[-1] if text.strip() else type(exc).__name__}") from exc


@contextmanager
def connect(conninfo: str | None = None) -> Iterator[psycopg.Connection]:
    conn = connect_now(conninfo)
    try:
        yield conn
    finally:
        conn.close()
