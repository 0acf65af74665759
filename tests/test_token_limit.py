"""A token request refused by the per-client token limit waits for the Retry-After it names."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

from edfi_sync.hooks.client import EdFiClient, EdFiSettings
from edfi_sync.sandbox.testing import run_sandbox

pytestmark = pytest.mark.e2e


def test_token_limit_429_is_retried_after_retry_after():
    with run_sandbox(max_tokens=1, token_lifetime=2) as server:
        server.token()  # takes the only slot for 2 seconds
        settings = EdFiSettings(base_url=server.base_url, client_key=server.key, client_secret=server.secret,
                                max_attempts=4)

        async def first_request():
            async with EdFiClient(settings) as client:
                started = time.monotonic()
                response = await client.request("GET", "/data/v3/ed-fi/students")
                return response.status, time.monotonic() - started

        status, waited = asyncio.run(first_request())
        token_answers = [r["status"] for r in server.requests() if r["path"].endswith("/oauth/token")]
    assert status == 200
    assert token_answers[-2:] == [429, 200] and token_answers.count(429) == 1  # one wait, not a retry storm
    assert waited >= 0.5  # Retry-After (seconds until the slot frees), not the 0.25 s first backoff


def test_a_token_revoked_again_while_a_request_backs_off_gets_a_new_token_again():
    """A request that got a new token after a 401, then a 503, then a 401 again (the ODS restarted,
    or revoked its tokens, during the backoff) fetches another token: each 401 counts as an attempt
    like any failure, it does not end the request."""
    with run_sandbox() as server:
        server.set_faults(error_rate=0.25, error_statuses=[503], paths="^/data/", seed=7)
        settings = EdFiSettings(base_url=server.base_url, client_key=server.key, client_secret=server.secret,
                                backoff_base=0.05, backoff_max=0.2, max_attempts=20)
        stop = threading.Event()

        def revoke():
            while not stop.wait(0.03):
                server.expire_tokens()

        async def requests():
            async with EdFiClient(settings) as client:
                return await asyncio.gather(*(client.request("GET", "/data/v3/ed-fi/students") for _ in range(60)))

        revoker = threading.Thread(target=revoke)
        revoker.start()
        try:
            answers = asyncio.run(requests())
        finally:
            stop.set()
            revoker.join()
        log = server.requests()
    assert sum(r["status"] == 401 for r in log) > 5  # revoked under them, again and again
    assert [a.status for a in answers] == [200] * 60
