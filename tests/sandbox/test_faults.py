"""Fault injection (deterministic with a seed), the admin endpoints and the request log."""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest

from edfi_sync.sandbox.testing import run_sandbox

from .sandbox_helpers import Api


def statuses(api: Api, count: int) -> list[int]:
    return [api.get("students").status_code for _ in range(count)]


def test_seeded_faults_repeat_exactly(sandbox, api):
    faults = {"error_rate": 0.3, "throttle_rate": 0.2, "seed": 7}
    sandbox.set_faults(**faults)
    first = statuses(api, 40)
    sandbox.set_faults(**faults)
    assert statuses(api, 40) == first
    assert {429, 200} <= set(first) and set(first) <= {200, 429, 500, 503}
    sandbox.clear_faults()
    assert set(statuses(api, 10)) == {200}


def test_throttling_sends_retry_after(sandbox, api):
    sandbox.set_faults(throttle_rate=1.0, retry_after=7)
    response = api.get("students")
    assert response.status_code == 429 and response.headers["retry-after"] == "7"


def test_dropped_connection(sandbox, api):
    sandbox.set_faults(drop_rate=1.0)
    with pytest.raises(httpx.RemoteProtocolError):
        api.get("students")
    sandbox.clear_faults()
    assert api.get("students").status_code == 200


def test_hung_request(sandbox, api):
    sandbox.set_faults(hang_rate=1.0, hang_seconds=5)
    started = time.monotonic()
    with pytest.raises(httpx.ReadTimeout):
        api.http.get(api.url("students"), timeout=0.5)
    assert time.monotonic() - started < 2
    sandbox.clear_faults()
    assert api.get("students").status_code == 200


@pytest.mark.parametrize("faults,at_least", [
    ({"latency_ms": 150}, 0.15),
    ({"latency": {"distribution": "uniform", "min_ms": 100, "max_ms": 120}}, 0.1),
    ({"latency": {"distribution": "fixed", "ms": 100}}, 0.1),
])
def test_latency(sandbox, api, faults, at_least):
    sandbox.set_faults(**faults)
    started = time.monotonic()
    assert api.get("students").status_code == 200
    assert time.monotonic() - started >= at_least


def test_faults_can_target_methods_and_paths(sandbox, api):
    sandbox.set_faults(error_rate=1.0, error_statuses=[503], methods=["POST"])
    assert api.get("students").status_code == 200
    assert api.post("students", {}).status_code == 503
    sandbox.set_faults(error_rate=1.0, error_statuses=[500], paths="^/oauth/")
    assert api.get("students").status_code == 200
    assert httpx.post(f"{sandbox.base_url}/oauth/token", data={"grant_type": "client_credentials"},
                      auth=(sandbox.key, sandbox.secret)).status_code == 500


def test_token_lifetime_fault(sandbox):
    sandbox.set_faults(token_lifetime=1)
    response = httpx.post(f"{sandbox.base_url}/oauth/token", data={"grant_type": "client_credentials"},
                          auth=(sandbox.key, sandbox.secret))
    assert response.json()["expires_in"] == 1
    api = Api(sandbox.base_url, "", "", token=response.json()["access_token"])
    time.sleep(1.1)
    assert api.get("students").status_code == 401


def test_capacity_model_latency_grows_past_capacity(sandbox):
    """4 at once within a capacity of 4 take the base latency; 16 at once queue: 4x the latency,
    so the server's rate stays at capacity ÷ latency. The log shows each request's load."""
    sandbox.set_faults(latency_ms=100, capacity=4)
    token = sandbox.token()

    async def burst(count: int) -> float:
        async with httpx.AsyncClient(base_url=sandbox.base_url, headers={"Authorization": f"Bearer {token}"},
                                     limits=httpx.Limits(max_connections=count)) as client:
            started = time.monotonic()
            responses = await asyncio.gather(*(client.get("/data/v3/ed-fi/students") for _ in range(count)))
            assert {r.status_code for r in responses} == {200}
            return time.monotonic() - started

    assert asyncio.run(burst(4)) < 0.3
    sandbox.clear_requests()
    assert asyncio.run(burst(16)) >= 0.4
    log = sandbox.requests()
    assert max(e["in_flight"] for e in log) > 4
    assert all(e["ms"] >= 100 * max(1, e["in_flight"] / 4) - 1 for e in log)


@pytest.mark.parametrize("faults", [{"error_rate": 2}, {"nonsense": 1}, {"error_rate": 0.6, "drop_rate": 0.6},
                                    {"latency": {"distribution": "zipf"}}, {"capacity": 0}])
def test_bad_fault_settings_are_refused(sandbox, faults):
    response = httpx.put(f"{sandbox.base_url}/admin/faults", json=faults)
    assert response.status_code == 400


def test_faults_from_start_up_and_patch():
    with run_sandbox(faults={"error_rate": 1.0, "error_statuses": [500]}) as sandbox:
        api_status = httpx.get(f"{sandbox.base_url}/data/v3/ed-fi/students").status_code
        assert api_status == 500   # faults apply before authentication, like a failing load balancer
        patched = httpx.patch(f"{sandbox.base_url}/admin/faults", json={"error_rate": 0}).json()
        assert patched["error_rate"] == 0 and patched["error_statuses"] == [500]


def test_request_log(sandbox, api):
    api.post("students", {"studentUniqueId": "1", "firstName": "A", "lastSurname": "B", "birthDate": "2010-01-01"})
    api.get("students", limit=5)
    log = sandbox.requests()
    assert [(e["method"], e["path"], e["status"]) for e in log] == [
        ("POST", "/data/v3/ed-fi/students", 201), ("GET", "/data/v3/ed-fi/students", 200)]
    assert log[1]["query"] == "limit=5" and log[1]["ms"] >= 0
    assert sandbox.requests(since=log[0]["seq"]) == log[1:]
    sandbox.clear_requests()
    assert sandbox.requests() == []


def test_admin_never_shows_secrets(sandbox):
    token = sandbox.token()
    for path in ("/admin", "/admin/faults", "/admin/requests", "/admin/tokens", "/admin/stores",
                 "/admin/records/students", "/", "/metadata/data/v3/resources/swagger.json"):
        text = httpx.get(f"{sandbox.base_url}{path}").text
        assert sandbox.secret not in text and token not in text, path


def test_admin_records_insert_and_delete_behind_the_clients_back(sandbox, api):
    stray = {"studentUniqueId": "stray", "firstName": "A", "lastSurname": "B", "birthDate": "2010-01-01"}
    record_id = sandbox.insert_record("students", stray)
    assert [s["id"] for s in api.get("students").json()] == [record_id]
    ssa = {"studentReference": {"studentUniqueId": "stray"}, "schoolReference": {"schoolId": 1},
           "entryDate": "2024-08-15", "entryGradeLevelDescriptor": "uri://ed-fi.org/GradeLevelDescriptor#Ninth grade"}
    with pytest.raises(RuntimeError, match="400"):
        sandbox.insert_record("studentSchoolAssociations", ssa)   # still validated
    sandbox.delete_record("students", record_id)
    assert api.get("students").json() == [] and sandbox.records("students") == []
    year_id = sandbox.insert_record("students", stray, school_year=2025)
    assert [s["id"] for s in sandbox.records("students", school_year=2025)] == [year_id]
    assert sandbox.records("students") == []
