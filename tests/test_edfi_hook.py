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
