"""A token request refused by the per-client token limit waits for the Retry-After it names."""

from __future__ import annotations

import asyncio
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
