"""The pages' connection to the connector database: the ``edfi_sis`` connection, as the role
``edfi_sync_reader`` (SELECT on what the pages show; no ``edfi_sync.token_cache``), read-only,
with a statement timeout; the actions write as ``edfi_sync_operator`` (an error's archiving and the
audit trail, nothing else). Never Airflow's metadata database, never an Ed-Fi secret.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

import psycopg
from psycopg.conninfo import conninfo_to_dict, make_conninfo

READER_ROLE = "edfi_sync_reader"
OPERATOR_ROLE = "edfi_sync_operator"
STATEMENT_TIMEOUT = "30s"
# Summaries of 100k rows sort and hash in memory, not in temporary files.
WORK_MEM = "32MB"


class PagesUnavailable(RuntimeError):
    """The pages cannot read: the database is unreachable, or the reader role is missing."""


def role_conninfo(conninfo: str, role: str = READER_ROLE) -> str:
    """``conninfo`` that takes ``role`` at connection start (RESET ROLE keeps it); the reader's
    sessions are read-only."""
    params = conninfo_to_dict(conninfo)
    options = [params.get("options") or "", f"-c role={role}",
               "-c default_transaction_read_only=on" if role == READER_ROLE else "",
               f"-c statement_timeout={STATEMENT_TIMEOUT}", f"-c work_mem={WORK_MEM}"]
    params["options"] = " ".join(o for o in options if o)
    params.setdefault("application_name", "edfi-sync pages")
    return make_conninfo(**params)


def sis_conninfo() -> str:
    from ..hooks.sis import SisDatabaseHook

    return SisDatabaseHook().conninfo()


def connect_now(conninfo: str | None = None, role: str = READER_ROLE) -> psycopg.Connection:
    """An open connection as ``role`` (the caller closes it)."""
    try:
        return psycopg.connect(role_conninfo(conninfo or sis_conninfo(), role), autocommit=True,
                               connect_timeout=10)
    except psycopg.OperationalError as exc:
        text = str(exc)
        if "role" in text and (role in text or "permission denied to set role" in text):
            raise PagesUnavailable(
                f"The pages use the connector database as the role {role}, which this login cannot "
                f"take ({text.strip().splitlines()[-1]}). A database administrator runs: CREATE ROLE {role} "
                f"NOLOGIN; GRANT {role} TO <the edfi_sis login>; then `edfi-sync db init` grants it "
                "what the pages need.") from exc
        raise PagesUnavailable(f"The connector database (Airflow connection edfi_sis) is unreachable: "
                               f"{text.strip().splitlines()[-1] if text.strip() else type(exc).__name__}") from exc


@contextmanager
def connect(conninfo: str | None = None, role: str = READER_ROLE) -> Iterator[psycopg.Connection]:
    conn = connect_now(conninfo, role)
    try:
        yield conn
    finally:
        conn.close()
