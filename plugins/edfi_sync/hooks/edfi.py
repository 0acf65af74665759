"""EdFiHook: the Airflow face of the Ed-Fi ODS/API connection (providers-http based).

Connection fields: host = base URL, login/password = client key/secret, extras ``api_mode``,
``data_standard``, ``max_in_flight``, ``verify``, ``fail_on_record_errors`` (the connection form
declares them: see :mod:`edfi_sync.provider`). The CLI uses the same hook, reading the same
``AIRFLOW_CONN_*`` variables.
"""

from __future__ import annotations

import asyncio
import dataclasses
from typing import Any

from airflow.providers.http.hooks.http import HttpHook

from .client import EdFiClient, EdFiSettings, EdFiUnavailable

# The Test button waits on a person: one attempt each, and not a minute per attempt.
TEST_TIMEOUT_SECONDS = 15


class EdFiHook(HttpHook):
    conn_name_attr = "edfi_conn_id"
    default_conn_name = "edfi_api"
    conn_type = "edfi"
    hook_name = "Ed-Fi ODS/API"

    def __init__(self, edfi_conn_id: str = default_conn_name, **kwargs: Any):
        super().__init__(http_conn_id=edfi_conn_id, **kwargs)
        self.edfi_conn_id = edfi_conn_id

    def settings(self) -> EdFiSettings:
        conn = self.get_connection(self.edfi_conn_id)
        return EdFiSettings.from_connection(conn_type=conn.conn_type, host=conn.host, schema=conn.schema,
                                            port=conn.port, login=conn.login, password=conn.password,
                                            extra=conn.extra_dejson)

    def get_client(self, token_cache=None) -> EdFiClient:
        return EdFiClient(self.settings(), token_cache=token_cache)

    def test_connection(self) -> tuple[bool, str]:
        """The connection form's Test button. It runs in the api-server, the one place SPEC §6.1
        lets talk to the ODS: ``GET /`` and a token request, nothing else. It says whether the URL
        answers, whether the credentials get a token, and whether the server's data standard and
        mode match the extras."""
        try:
            settings = dataclasses.replace(self.settings(), max_attempts=1, timeout_seconds=TEST_TIMEOUT_SECONDS)
            info = asyncio.run(_probe(settings))
        except (EdFiUnavailable, ValueError) as exc:
            return False, str(exc)
        problems = info.mismatches(settings)
        if problems:
            return False, f"{info.describe()} at {settings.base_url}: " + "; ".join(problems)
        return True, (f"{info.describe()} at {settings.base_url}: client {settings.client_key!r} got a token; "
                      f"data standard and mode match the connection")


async def _probe(settings: EdFiSettings):
    async with EdFiClient(settings) as client:
        info = await client.root()
        await client.authenticate()
        return info
