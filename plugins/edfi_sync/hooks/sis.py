"""The SIS + connector database inside Airflow: the ``edfi_sis`` connection (SPEC §6).

A task never falls back to the embedded server the CLI uses: without the connection it fails.
"""

from __future__ import annotations

from airflow.sdk import BaseHook

from ..connections import ConnSpec, postgres_conninfo


class SisDatabaseHook(BaseHook):
    conn_name_attr = "sis_conn_id"
    default_conn_name = "edfi_sis"
    conn_type = "postgres"
    hook_name = "Ed-Fi sync SIS database"

    def __init__(self, sis_conn_id: str = default_conn_name, **kwargs):
        super().__init__(**kwargs)
        self.sis_conn_id = sis_conn_id

    def conninfo(self) -> str:
        conn = self.get_connection(self.sis_conn_id)
        return postgres_conninfo(ConnSpec(self.sis_conn_id, conn.conn_type, conn.host, conn.port, conn.login,
                                          conn.password, conn.schema, conn.extra_dejson))
