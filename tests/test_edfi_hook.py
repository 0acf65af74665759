"""EdFiHook reads the Ed-Fi connection the Airflow way; the package registers the `edfi` type."""

from __future__ import annotations

import json


def test_hook_reads_connection_and_extras(monkeypatch):
    from edfi_sync.hooks.edfi import EdFiHook

    monkeypatch.setenv("AIRFLOW_CONN_STATE_ODS", json.dumps({
        "conn_type": "edfi", "host": "https://ods.example.org/api", "login": "key", "password": "s3cr3t-value",
        "extra": {"api_mode": "year_specific", "max_in_flight": "16", "verify": "/etc/ssl/ca.pem",
                  "fail_on_record_errors": "true"}}))
    settings = EdFiHook("state_ods").settings()
    assert settings.base_url == "https://ods.example.org/api"
    assert settings.api_mode == "year_specific" and settings.max_in_flight == 16
    assert settings.verify == "/etc/ssl/ca.pem" and settings.fail_on_record_errors is True
    assert "s3cr3t-value" not in repr(settings)


def test_edfi_connection_type_is_registered_with_its_form_fields():
    from airflow.providers_manager import ProvidersManager
    from airflow.sdk.providers_manager_runtime import ProvidersManagerTaskRuntime

    hooks = ProvidersManagerTaskRuntime().hooks
    assert "edfi" in hooks and hooks["edfi"].hook_class_name == "edfi_sync.hooks.edfi.EdFiHook"
    # The connection form (api-server side) gets the extras as fields.
    widgets = ProvidersManager().connection_form_widgets
    assert {"extra__edfi__api_mode", "extra__edfi__max_in_flight"} <= set(widgets)
    from edfi_sync.provider import get_provider_info

    fields = get_provider_info()["connection-types"][0]["conn-fields"]
    assert set(fields) == {"api_mode", "data_standard", "max_in_flight", "verify", "fail_on_record_errors"}


def _tested(monkeypatch, host: str, login: str, password: str, **extra) -> tuple[bool, str]:
    """What the connection form's Test button gets: Airflow's Connection.test_connection (the
    api-server's POST /api/v2/connections/test calls exactly this), through the `edfi` type's hook."""
    from airflow.models.connection import Connection

    conn = Connection(conn_id="edfi_test", conn_type="edfi", host=host, login=login, password=password,
                      extra=json.dumps(extra))
    monkeypatch.setenv("AIRFLOW_CONN_EDFI_TEST", conn.get_uri())  # as the api-server exports it
    return conn.test_connection()


def test_test_connection_against_the_sandbox(monkeypatch):
    import socket

    from edfi_sync.sandbox.testing import run_sandbox

    with run_sandbox(secret="right-secret-value") as server:
        ok, message = _tested(monkeypatch, server.base_url, server.key, "right-secret-value", data_standard="4.0")
        assert ok, message
        assert "ODS/API 5.3 (Data Standard 4.0.0" in message and "got a token" in message

        ok, message = _tested(monkeypatch, server.base_url, server.key, "wrong-secret-value")
        assert not ok and "refused the client credentials (401)" in message
        assert "wrong-secret-value" not in message

        ok, message = _tested(monkeypatch, server.base_url, server.key, "right-secret-value", data_standard="5")
        assert not ok and "Data Standard 4.0.0" in message and "set it to 4.0" in message

        requests = server.requests()
        assert {(r["method"], r["path"]) for r in requests} == {("GET", "/"), ("POST", "/oauth/token")}

    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    ok, message = _tested(monkeypatch, f"http://127.0.0.1:{port}", "key", "secret-value")
    assert not ok and f"cannot reach the Ed-Fi API at http://127.0.0.1:{port}" in message
