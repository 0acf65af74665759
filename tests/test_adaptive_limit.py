"""max_in_flight auto (AdaptiveLimit), driven by a server model: no network, no database."""

from __future__ import annotations

import logging

import pytest

from edfi_sync.hooks.client import AdaptiveLimit


def run(limit: AdaptiveLimit, rounds: int, latency, status=lambda n, in_flight: 200) -> list[int]:
    """Answer `rounds` round trips at the limit's concurrency; the limit after each."""
    seen, answers = [], 0
    for _ in range(rounds):
        in_flight = limit.limit
        limit._in_flight = in_flight  # the requests of this round are out
        for _ in range(in_flight):
            answers += 1
            limit.record(status(answers, in_flight), latency(in_flight))
        limit._in_flight = 0
        seen.append(limit.limit)
    return seen


def capacity_model(capacity: int, base: float = 0.020):
    """The sandbox's model: past `capacity` in flight, requests queue and latency grows in proportion."""
    return lambda in_flight: base * max(1.0, in_flight / capacity)


@pytest.mark.parametrize("capacity", [12, 32, 48])
def test_auto_settles_at_the_capacity_not_above(capacity):
    limit = AdaptiveLimit("auto")
    settled = run(limit, 300, capacity_model(capacity))[100:]
    assert capacity <= sum(settled) / len(settled) <= capacity * (1 + limit.tolerance)
    # Above the capacity only by what the latency tolerance lets through before a cut.
    assert max(settled) <= capacity * (1 + limit.tolerance) + 2


def test_auto_grows_to_the_ceiling_while_latency_stays_flat():
    assert run(AdaptiveLimit("auto", ceiling=64), 30, lambda n: 0.020)[-1] == 64


def test_auto_halves_when_the_server_refuses():
    limit = AdaptiveLimit("auto")
    run(limit, 40, lambda n: 0.020)
    before = limit.limit
    after = run(limit, 1, lambda n: 0.020, status=lambda answer, in_flight: 429 if answer == 1 else 200)
    assert after == [before // 2]


def test_auto_ignores_answers_to_requests_sent_before_a_cut():
    """After a cut the answers still in flight carry the old, queued latency: one cut, not a spiral."""
    limit = AdaptiveLimit("auto")
    limits = run(limit, 8, capacity_model(16))
    assert min(limits[3:]) >= 12


def test_fixed_limit_never_moves():
    limit = AdaptiveLimit(8)
    assert set(run(limit, 20, capacity_model(2), status=lambda answer, in_flight: 429)) == {8}


def test_changes_are_logged_with_their_cause(caplog):
    caplog.set_level(logging.INFO, logger="edfi_sync.hooks.client")
    run(AdaptiveLimit("auto"), 60, capacity_model(32))
    messages = [r.getMessage() for r in caplog.records]
    assert any("latency flat" in m for m in messages)
    assert any("latency rose to" in m and "unloaded" in m for m in messages)
