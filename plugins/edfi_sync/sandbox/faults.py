"""Fault injection and the request log.

Faults are set at start-up (``--faults JSON``) and replaced at run time with ``PUT /admin/faults``.
Each request draws from one random generator, seeded when ``seed`` is given, so a run with the
same seed and the same request order sees the same faults.
"""

from __future__ import annotations

import random
import re
import time
from collections import deque
from dataclasses import asdict, dataclass, field, fields

_DISTRIBUTIONS = ("fixed", "uniform", "normal", "exponential")


@dataclass
class Faults:
    latency_ms: float = 0.0                  # added to every matching request
    latency: dict | None = None              # {"distribution": "uniform", "min_ms":..,"max_ms":..} | normal mean_ms/stddev_ms | exponential mean_ms
    error_rate: float = 0.0                  # share answered 500 or 503
    error_statuses: list[int] = field(default_factory=lambda: [500, 503])
    throttle_rate: float = 0.0               # share answered 429
    retry_after: int = 1                     # seconds, in the 429's Retry-After header
    drop_rate: float = 0.0                   # share whose connection is closed with no response
    hang_rate: float = 0.0                   # share that never answer (until hang_seconds pass)
    hang_seconds: float = 300.0
    token_lifetime: int | None = None        # seconds: overrides the server's token lifetime for new tokens
    capacity: int | None = None              # requests the server serves at once; past it, latency grows
    paths: str = r"^/(data|oauth)/"          # regex: which request paths faults apply to
    methods: list[str] | None = None         # e.g. ["POST"]; None = every method
    seed: int | None = None

    @classmethod
    def from_dict(cls, data: dict | None) -> "Faults":
        data = dict(data or {})
        names = {f.name for f in fields(cls)}
        unknown = set(data) - names
        if unknown:
            raise ValueError(f"unknown fault settings: {', '.join(sorted(unknown))}")
        faults = cls(**data)
        faults.validate()
        return faults

    def validate(self) -> None:
        for name in ("error_rate", "throttle_rate", "drop_rate", "hang_rate"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"{name} must be between 0 and 1")
        if self.error_rate + self.throttle_rate + self.drop_rate + self.hang_rate > 1.0:
            raise ValueError("the fault rates add up to more than 1")
        if self.capacity is not None and self.capacity < 1:
            raise ValueError("capacity must be at least 1")
        if self.latency is not None and self.latency.get("distribution", "fixed") not in _DISTRIBUTIONS:
            raise ValueError(f"latency distribution must be one of {', '.join(_DISTRIBUTIONS)}")
        re.compile(self.paths)

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True, slots=True)
class Decision:
    delay: float = 0.0        # seconds to wait before answering
    status: int | None = None  # injected error status
    drop: bool = False
    hang: bool = False


NO_FAULT = Decision()


class FaultInjector:
    def __init__(self, faults: Faults):
        self.set(faults)

    def set(self, faults: Faults) -> None:
        self.faults = faults
        self._paths = re.compile(faults.paths)
        self._random = random.Random(faults.seed)
        self._active = bool(faults.latency_ms or faults.latency or faults.error_rate or faults.throttle_rate
                            or faults.drop_rate or faults.hang_rate)

    def decide(self, method: str, path: str, in_flight: int = 1) -> Decision:
        """``in_flight``: requests the server is serving, this one included (the capacity model)."""
        faults = self.faults
        if not self._active or not self._paths.search(path) or (faults.methods and method not in faults.methods):
            return NO_FAULT
        rnd = self._random
        delay = faults.latency_ms / 1000.0 + self._latency(rnd)
        if faults.capacity and in_flight > faults.capacity:
            # A server with `capacity` workers: the rest queue, so latency grows in proportion and
            # throughput stays at capacity / latency however many requests a client sends.
            delay *= in_flight / faults.capacity
        draw = rnd.random()
        if draw < faults.drop_rate:
            return Decision(delay, drop=True)
        draw -= faults.drop_rate
        if draw < faults.hang_rate:
            return Decision(delay, hang=True)
        draw -= faults.hang_rate
        if draw < faults.throttle_rate:
            return Decision(delay, status=429)
        draw -= faults.throttle_rate
        if draw < faults.error_rate:
            return Decision(delay, status=rnd.choice(faults.error_statuses))
        return Decision(delay) if delay else NO_FAULT

    def _latency(self, rnd: random.Random) -> float:
        spec = self.faults.latency
        if not spec:
            return 0.0
        kind = spec.get("distribution", "fixed")
        if kind == "fixed":
            ms = spec.get("ms", 0.0)
        elif kind == "uniform":
            ms = rnd.uniform(spec.get("min_ms", 0.0), spec.get("max_ms", 0.0))
        elif kind == "normal":
            ms = rnd.gauss(spec.get("mean_ms", 0.0), spec.get("stddev_ms", 0.0))
        else:
            ms = rnd.expovariate(1.0 / spec["mean_ms"]) if spec.get("mean_ms") else 0.0
        return max(ms, 0.0) / 1000.0


class RequestLog:
    """The last ``size`` requests: method, path, query, status, duration, time, requests in flight
    when it arrived (itself included). Never headers or bodies."""

    def __init__(self, size: int = 100_000):
        self._entries: deque = deque(maxlen=size)
        self._counter = 0

    def add(self, method: str, path: str, query: str, status: int, started: float, fault: str | None,
            in_flight: int = 1) -> None:
        self._counter += 1
        self._entries.append({
            "seq": self._counter, "method": method, "path": path, "query": query, "status": status,
            "ms": round((time.perf_counter() - started) * 1000, 3), "time": time.time(), "fault": fault,
            "in_flight": in_flight})

    def entries(self, since: int = 0) -> list[dict]:
        return [entry for entry in self._entries if entry["seq"] > since]

    def clear(self) -> None:
        self._entries.clear()
