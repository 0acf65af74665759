"""Provider metadata: registers the ``edfi`` connection type and its form fields with Airflow.

Airflow 3 builds the connection form from ``conn-fields`` (JSON schema per extra field).
"""

from __future__ import annotations

from . import __version__


def get_provider_info() -> dict:
    return {
        "package-name": "edfi-sync",
        "name": "Ed-Fi sync",
        "description": "SIS -> Ed-Fi ODS/API sync",
        "versions": [__version__],
        "connection-types": [
            {
                "hook-class-name": "edfi_sync.hooks.edfi.EdFiHook",
                "hook-name": "Ed-Fi ODS/API",
                "connection-type": "edfi",
                "ui-field-behaviour": {
                    "hidden-fields": ["schema", "port"],
                    "relabeling": {"host": "Base URL", "login": "Client key", "password": "Client secret"},
                    "placeholders": {"host": "https://ods.example.org/api"},
                },
                "conn-fields": {
                    "api_mode": {
                        "label": "API mode",
                        "description": "shared_instance (one ODS for all years) or year_specific (/data/v3/{year}/...)",
                        "schema": {"type": ["string", "null"], "enum": ["shared_instance", "year_specific", None]},
                    },
                    "data_standard": {
                        "label": "Data standard",
                        "description": "4.0 or 5",
                        "schema": {"type": ["string", "null"], "enum": ["4.0", "5", None]},
                    },
                    "max_in_flight": {
                        "label": "Max requests in flight",
                        "description": "an integer, or auto to adapt to the server's latency and 429/503 answers",
                        "schema": {"type": ["string", "integer", "null"]},
                    },
                    "verify": {
                        "label": "Verify TLS",
                        "description": "true (default), false, or the path of a CA bundle",
                        "schema": {"type": ["string", "boolean", "null"]},
                    },
                    "fail_on_record_errors": {
                        "label": "Fail on record errors",
                        "description": "fail the task when records are logged as errors (default: only systemic errors fail)",
                        "schema": {"type": ["boolean", "null"]},
                    },
                },
            }
        ],
    }
