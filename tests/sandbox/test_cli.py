"""`edfi-sync sandbox serve` as a real process: options, storage kinds, and what it logs."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from contextlib import contextmanager

import httpx
import pytest

pytestmark = pytest.mark.e2e


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Served:
    def __init__(self, base: str):
        self.base = base
        self.output = ""   # the server's log, once it has stopped


@contextmanager
def serve(*options: str):
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "edfi_sync.cli", "sandbox", "serve", "--port", str(port), *options],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=os.environ.copy())
    base = f"http://127.0.0.1:{port}"
    served = Served(base)
    try:
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, proc.stdout.read()
            try:
                httpx.get(base + "/", timeout=1)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "sandbox did not start"
                time.sleep(0.1)
        yield served
    finally:
        proc.terminate()
        served.output = proc.communicate(timeout=20)[0]


def token(base: str, key: str, secret: str) -> str:
    response = httpx.post(f"{base}/oauth/token", data={"grant_type": "client_credentials"}, auth=(key, secret))
    response.raise_for_status()
    return response.json()["access_token"]


def test_serve_in_memory_with_options(tmp_path):
    descriptors = tmp_path / "local.json"
    descriptors.write_text(json.dumps([{"descriptor": "ExitWithdrawTypeDescriptor", "codeValue": "G",
                                        "namespace": "uri://nmped.org/ExitWithdrawTypeDescriptor",
                                        "shortDescription": "Graduated"}]))
    with serve("--memory", "--key", "k1", "--secret", "s3cret-value", "--claims", "255901", "--api-version", "7.3",
               "--max-tokens", "2", "--token-lifetime", "60", "--descriptors", str(descriptors),
               "--faults", json.dumps({"latency_ms": 1, "seed": 3})) as served:
        base = served.base
        assert httpx.get(base + "/").json()["version"] == "7.3"
        headers = {"Authorization": f"Bearer {token(base, 'k1', 's3cret-value')}"}
        found = httpx.get(f"{base}/data/v3/ed-fi/exitWithdrawTypeDescriptors",
                          params={"namespace": "uri://nmped.org/ExitWithdrawTypeDescriptor"}, headers=headers).json()
        assert [d["codeValue"] for d in found] == ["G"]
        token(base, "k1", "s3cret-value")
        assert httpx.post(f"{base}/oauth/token", data={"grant_type": "client_credentials"},
                          auth=("k1", "s3cret-value")).status_code == 429
        assert httpx.get(f"{base}/admin/faults").json()["latency_ms"] == 1
    assert "storage: memory" in served.output and "255901" in served.output
    assert "s3cret-value" not in served.output


def test_serve_on_postgres_keeps_state_and_reset_clears_it(sandbox_db):
    student = {"studentUniqueId": "S1", "firstName": "A", "lastSurname": "B", "birthDate": "2010-01-01"}
    with serve("--database-url", sandbox_db) as served:
        base = served.base
        headers = {"Authorization": f"Bearer {token(base, 'sandbox', 'sandbox-secret')}"}
        assert httpx.post(f"{base}/data/v3/ed-fi/students", json=student, headers=headers).status_code == 201
    with serve("--database-url", sandbox_db) as served:
        base = served.base
        headers = {"Authorization": f"Bearer {token(base, 'sandbox', 'sandbox-secret')}"}
        assert len(httpx.get(f"{base}/data/v3/ed-fi/students", headers=headers).json()) == 1
    with serve("--database-url", sandbox_db, "--reset") as served:
        base = served.base
        headers = {"Authorization": f"Bearer {token(base, 'sandbox', 'sandbox-secret')}"}
        assert httpx.get(f"{base}/data/v3/ed-fi/students", headers=headers).json() == []


def test_serve_defaults_to_the_embedded_edfi_sandbox_database(pg_admin_conninfo):
    import psycopg

    with serve() as served:
        assert token(served.base, "sandbox", "sandbox-secret")
    with psycopg.connect(pg_admin_conninfo) as conn:
        assert conn.execute("SELECT 1 FROM pg_database WHERE datname = 'edfi_sandbox'").fetchone()
    assert "storage: edfi_sandbox on" in served.output
