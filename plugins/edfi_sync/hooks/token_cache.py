"""A bearer-token cache in the connector database, shared by every task and process of a run.

The ODS/API limits live tokens per client (15 by default in 7.3); parallel tasks that each fetched
their own would exhaust it. Fetches are serialised per client with an advisory lock.
"""

from __future__ import annotations

import psycopg

from ..engine import queries


class DbTokenCache:
    def __init__(self, conninfo: str):
        self.conninfo = conninfo
        self._conn: psycopg.Connection | None = None

    @property
    def conn(self) -> psycopg.Connection:
        if self._conn is None or self._conn.closed:
            self._conn = psycopg.connect(self.conninfo, autocommit=True)
        return self._conn

    def load(self, key: str) -> tuple[str, float, str] | None:
        """(token, expiry epoch, scope) of the live cached token."""
        row = self.conn.execute(queries.engine("token_load"), {"cache_key": key}).fetchone()
        return (row[0], float(row[1]), row[2]) if row else None

    def store(self, key: str, token: str, expires_at_epoch: float, scope: str = "") -> None:
        self.conn.execute(queries.engine("token_store"), {"cache_key": key, "access_token": token,
                                                           "expires_at": expires_at_epoch, "scope": scope})

    def invalidate(self, key: str, token: str) -> None:
        self.conn.execute(queries.engine("token_invalidate"), {"cache_key": key, "access_token": token})

    def lock(self, key: str) -> None:
        self.conn.execute(queries.engine("token_lock"), {"cache_key": key})

    def unlock(self, key: str) -> None:
        self.conn.execute(queries.engine("token_unlock"), {"cache_key": key})

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
