"""How many simple POSTs per second the Ed-Fi sandbox takes, in memory and on PostgreSQL.

The server runs as `edfi-sync sandbox serve` in its own process (uvicorn, httptools, uvloop);
the load comes from aiohttp with keep-alive connections. Prints one line per storage kind.

    python bench/sandbox_post_rate.py [--requests N] [--concurrency C] [--storage memory,postgres]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import subprocess
import sys
import time

import aiohttp

KEY, SECRET = "sandbox", "sandbox-secret"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(port: int, storage_args: list[str]) -> subprocess.Popen:
    command = [sys.executable, "-m", "edfi_sync.cli", "sandbox", "serve", "--port", str(port), *storage_args]
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"sandbox exited: {proc.stderr.read()}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return proc
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise SystemExit("sandbox did not start")


async def post_students(base: str, total: int, concurrency: int, prefix: str) -> tuple[float, dict]:
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(base, connector=connector) as session:
        async with session.post("/oauth/token", data={"grant_type": "client_credentials", "client_id": KEY,
                                                      "client_secret": SECRET}) as response:
            token = (await response.json())["access_token"]
        headers = {"Authorization": f"Bearer {token}"}
        statuses: dict[int, int] = {}
        counter = iter(range(total))

        async def worker():
            for n in counter:
                body = {"studentUniqueId": f"{prefix}{n}", "firstName": "Ana", "lastSurname": "Lopez",
                        "birthDate": "2010-05-04"}
                async with session.post("/data/v3/ed-fi/students", json=body, headers=headers) as response:
                    await response.read()
                    statuses[response.status] = statuses.get(response.status, 0) + 1

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return time.perf_counter() - started, statuses


def run(kind: str, storage_args: list[str], requests: int, concurrency: int) -> None:
    port = free_port()
    proc = start_server(port, storage_args)
    try:
        base = f"http://127.0.0.1:{port}"
        asyncio.run(post_students(base, 300, concurrency, "warm"))   # warm-up
        elapsed, statuses = asyncio.run(post_students(base, requests, concurrency, "s"))
        print(f"sandbox POST /students, storage={kind}: {requests} requests, concurrency {concurrency}: "
              f"{requests / elapsed:,.0f} POST/s ({elapsed:.2f} s; statuses {statuses})", flush=True)
    finally:
        proc.terminate()
        proc.wait(15)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=5000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--storage", default="memory,postgres")
    args = parser.parse_args()
    for kind in args.storage.split(","):
        if kind == "memory":
            run(kind, ["--memory"], args.requests, args.concurrency)
        else:
            from edfi_sync import embedded

            os.environ.setdefault("EDFI_SYNC_HOME", os.path.join(os.getcwd(), ".edfi-sync"))
            conninfo = embedded.conninfo("edfi_sandbox_bench")
            run(kind, ["--database-url", conninfo, "--reset"], args.requests, args.concurrency)


if __name__ == "__main__":
    main()
