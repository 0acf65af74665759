"""Running it for a year, in the session's real Airflow (the `live_airflow` fixture): the
connection form's Test button runs the `edfi` hook in the api-server, and the maintenance DAG
prunes the object-storage XCom files no XCom row references."""

from __future__ import annotations

import json
import os
import time

import pytest

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def airflow(live_airflow):
    live_airflow.load()
    return live_airflow


def last_seq(sandbox) -> int:
    return (sandbox.requests() or [{"seq": 0}])[-1]["seq"]


def press_test_button(airflow, body: dict) -> dict:
    """The Test button's request (patient: on a loaded machine the api-server answers slowly)."""
    response = airflow.http.post(f"{airflow.url}/api/v2/connections/test", json=body, timeout=120)
    response.raise_for_status()
    return response.json()


def test_the_test_button_runs_the_edfi_hook_in_the_api_server(airflow):
    sandbox = airflow.sandbox
    body = {"connection_id": "edfi_state_ods", "conn_type": "edfi", "host": sandbox.base_url, "login": sandbox.key,
            "password": sandbox.secret, "extra": json.dumps({"data_standard": "4.0"})}
    since = last_seq(sandbox)
    answer = press_test_button(airflow, body)
    assert answer["status"] is True, answer
    assert answer["message"].startswith(f"ODS/API 5.3 (Data Standard 4.0.0, Sandbox) at {sandbox.base_url}: client "
                                        f"'{sandbox.key}' got a token")
    refused = press_test_button(airflow, {**body, "password": "not-the-secret"})
    assert refused["status"] is False and "refused the client credentials (401)" in refused["message"]
    assert [(r["method"], r["path"]) for r in sandbox.requests(since)] == [
        ("GET", "/"), ("POST", "/oauth/token"), ("GET", "/"), ("POST", "/oauth/token")]


def test_the_maintenance_dag_prunes_xcom_files_no_xcom_row_references(airflow):
    from airflow.sdk import ObjectStoragePath

    # Unpausing schedules the latest day once: let it pass before the files exist.
    airflow.api("PATCH", "/dags/edfi_sync_maintenance", json={"is_paused": False})
    deadline = time.monotonic() + 120
    while not (scheduled := airflow.runs("edfi_sync_maintenance")):
        assert time.monotonic() < deadline, "unpausing edfi_sync_maintenance scheduled no run"
        time.sleep(1)
    assert airflow.wait_run(scheduled[0]["dag_run_id"], dag_id="edfi_sync_maintenance") == "success"

    base = ObjectStoragePath(f"file://{airflow.xcom_dir}")
    month_ago = time.time() - 40 * 86400
    files = {}
    for name, old in (("orphan_old", True), ("orphan_young", False), ("referenced_old", True)):
        path = base / "edfi_sync" / "manual__gone" / "post.students" / f"{name}.gz"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"\x1f\x8b")
        if old:
            os.utime(path.path, (month_ago, month_ago))
        files[name] = path
    # An XCom row naming a file, as the object-storage backend writes one for a large value.
    run_id = airflow.runs("edfi_sync")[0]["dag_run_id"]
    airflow.api("POST", f"/dags/edfi_sync/dagRuns/{run_id}/taskInstances/preflight/xcomEntries",
                json={"key": "large_value", "value": str(files["referenced_old"])})

    run = airflow.run({}, dag_id="edfi_sync_maintenance")
    pruned = airflow.summary(run, "prune_xcom_files", dag_id="edfi_sync_maintenance")
    assert pruned["rows"] == 1 and not files["orphan_old"].exists(), pruned
    assert files["orphan_young"].exists() and files["referenced_old"].exists()
    states = airflow.task_states(run, dag_id="edfi_sync_maintenance")
    assert set(states.values()) == {"success"} and set(states) == {
        "prune_stage", "prune_runs", "prune_errors", "prune_xcom_files"}
