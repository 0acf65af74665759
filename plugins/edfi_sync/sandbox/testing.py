"""Serve the sandbox from a test: ``with run_sandbox() as sandbox: ...``.

The server is real (uvicorn on a free 127.0.0.1 port, in a background thread); the handle talks
to its admin endpoints over HTTP, so tests see exactly what a client of the server would.
"""

from __future__ import annotations

import socket
import threading
import time
from contextlib import contextmanager
from typing import Iterator

import httpx

from .app import create_app
from .config import DEFAULT_KEY, DEFAULT_SECRET, Client, SandboxConfig
from .faults import Faults


class SandboxHandle:
    def __init__(self, base_url: str, key: str, secret: str, verify: bool | str = True):
        self.base_url = base_url
        self.key = key
        self.secret = secret
        self._http = httpx.Client(base_url=base_url, timeout=30, verify=verify)

    # ---- clients' view ------------------------------------------------------------------------------
    def token(self, key: str | None = None, secret: str | None = None) -> str:
        response = self._http.post("/oauth/token", data={"grant_type": "client_credentials"},
                                   auth=(key or self.key, secret or self.secret))
        response.raise_for_status()
        return response.json()["access_token"]

    # ---- faults and the request log --------------------------------------------------------------------
    def set_faults(self, **faults) -> dict:
        """Replace the fault settings (keys as in :class:`~edfi_sync.sandbox.faults.Faults`)."""
        return self._admin("PUT", "/admin/faults", json=faults).json()

    def clear_faults(self) -> None:
        self._admin("DELETE", "/admin/faults")

    def requests(self, since: int = 0) -> list[dict]:
        return self._admin("GET", "/admin/requests", params={"since": since}).json()

    def clear_requests(self) -> None:
        self._admin("DELETE", "/admin/requests")

    def reset(self) -> None:
        """Forget every record, fault setting and logged request (issued tokens stay valid)."""
        self._admin("POST", "/admin/reset")
        self.clear_faults()
        self.clear_requests()

    def expire_tokens(self) -> None:
        self._admin("POST", "/admin/tokens/expire")

    # ---- what the server holds ----------------------------------------------------------------------------
    def records(self, resource: str, school_year: int | None = None) -> list[dict]:
        return self._admin("GET", f"/admin/records/{resource}", params=_year(school_year)).json()

    def insert_record(self, resource: str, body: dict, school_year: int | None = None) -> str:
        """Insert (or update by natural key) a record as some other client would; returns its id."""
        return self._admin("POST", f"/admin/records/{resource}", json=body, params=_year(school_year)).json()["id"]

    def delete_record(self, resource: str, record_id: str, school_year: int | None = None) -> None:
        """Delete a record behind the clients' back (even one others refer to)."""
        self._admin("DELETE", f"/admin/records/{resource}/{record_id}", params=_year(school_year))

    def _admin(self, method: str, path: str, **kwargs) -> httpx.Response:
        response = self._http.request(method, path, **kwargs)
        if response.status_code >= 400:
            raise RuntimeError(f"sandbox admin {method} {path}: {response.status_code} {response.text}")
        return response

    def close(self) -> None:
        self._http.close()


def lightbeam_config(sandbox: SandboxHandle, state_dir, data_dir, pool_size: int = 4, timeout: int = 10) -> str:
    """A lightbeam (PyPI) YAML config that sends to or fetches from this sandbox; ``pool_size``
    is lightbeam's concurrency (its connection pool)."""
    return f"""
state_dir: {state_dir}
data_dir: {data_dir}
edfi_api:
  base_url: {sandbox.base_url}
  version: 3
  mode: sandbox
  client_id: {sandbox.key}
  client_secret: {sandbox.secret}
connection:
  pool_size: {pool_size}
  timeout: {timeout}
  num_retries: 2
  backoff_factor: 1
  retry_statuses: [429, 500, 503]
  verify_ssl: false
"""


def _year(school_year: int | None) -> dict:
    return {"schoolYear": school_year} if school_year is not None else {}


@contextmanager
def run_sandbox(*, database_url: str | None = None, key: str = DEFAULT_KEY, secret: str = DEFAULT_SECRET,
                claims=None, clients: list[Client] | None = None, api_version: str = "5.3",
                faults: dict | Faults | None = None, token_lifetime: int = 1800, max_tokens: int = 15,
                descriptor_files=(), reset: bool = False, page_size_limit: int = 500,
                https: tuple[str, str, str] | None = None) -> Iterator[SandboxHandle]:
    """Serve a sandbox for the duration of the block. ``database_url=None`` keeps it in memory.

    ``clients`` replaces the single ``key``/``secret``/``claims`` client; the handle's key and
    secret are then the first client's. ``https`` = (certificate, key, CA bundle) files serves
    HTTPS; the handle trusts that CA.
    """
    import uvicorn

    clients = clients or [Client.make(key, secret, claims)]
    config = SandboxConfig(port=0, clients=clients, database_url=database_url, api_version=api_version,
                           token_lifetime=token_lifetime, max_tokens=max_tokens,
                           faults=faults if isinstance(faults, Faults) else Faults.from_dict(faults),
                           descriptor_files=[str(path) for path in descriptor_files], reset=reset,
                           page_size_limit=page_size_limit)
    app = create_app(config)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    tls = {"ssl_certfile": https[0], "ssl_keyfile": https[1]} if https else {}
    server = uvicorn.Server(uvicorn.Config(app, lifespan="on", log_level="warning", access_log=False,
                                           http="httptools", timeout_graceful_shutdown=2, **tls))
    failure: list[BaseException] = []

    def serve() -> None:
        try:
            server.run(sockets=[sock])
        except BaseException as exc:   # uvicorn exits (SystemExit) when the app fails to start
            failure.append(exc)

    thread = threading.Thread(target=serve, name=f"edfi-sandbox-{port}", daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            thread.join(5)
            sock.close()
            raise RuntimeError(f"the sandbox did not start: {app.startup_error or failure or 'timeout'}")
        time.sleep(0.01)
    handle = SandboxHandle(f"{'https' if https else 'http'}://127.0.0.1:{port}", clients[0].key, clients[0].secret,
                           verify=https[2] if https else True)
    try:
        yield handle
    finally:
        handle.close()
        server.should_exit = True
        thread.join(15)
        sock.close()
