"""Log lines a person reads: progress of a long step, and the summary table at its end.

The same lines in the CLI and in an Airflow task log (no Airflow import here).
"""

from __future__ import annotations

import logging
import time
from typing import Callable, Mapping

log = logging.getLogger(__name__)

ACTIONS = ("POST", "PUT", "DELETE")


def _duration(seconds: float) -> str:
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds}s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes}m{seconds:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m"


class Progress:
    """One line every ``every`` seconds while a step sends: done/total, rate and ETA."""

    def __init__(self, label: str, total: int | None = None, every: float = 10.0,
                 clock: Callable[[], float] = time.monotonic):
        self.label, self.total, self.every, self._clock = label, total, every, clock
        self.done = 0
        self._started = self._last = clock()

    def advance(self, records: int, counts: Mapping[str, int]) -> str | None:
        """Count ``records`` more as handled; returns the line when one was logged."""
        self.done += records
        now = self._clock()
        if now - self._last < self.every:
            return None
        self._last = now
        line = self.line(counts, now)
        log.info("%s", line)
        return line

    def line(self, counts: Mapping[str, int], now: float | None = None) -> str:
        elapsed = max((now if now is not None else self._clock()) - self._started, 1e-9)
        rate = self.done / elapsed
        done = f"{self.done:,}" if self.total is None else f"{self.done:,}/{self.total:,} ({self.done / max(self.total, 1):.0%})"
        eta = ""
        if self.total is not None and rate > 0:
            eta = f", ETA {_duration(max(self.total - self.done, 0) / rate)}"
        outcomes = " ".join(f"{k}={v:,}" for k, v in sorted(counts.items()))
        return f"{self.label}: {done} in {_duration(elapsed)}, {rate:,.0f}/s{eta}" + (f" [{outcomes}]" if outcomes else "")


def summary_table(rows: Mapping[str, Mapping[str, int]], dry_run: bool = False, label: str = "resource") -> list[str]:
    """The per-resource (or per-year) table of a run: what was extracted, left unchanged, sent,
    failed, skipped, not built or a duplicate. Dry runs show what would be sent."""
    header = (f"  {label:<45} {'extracted':>9} {'unchanged':>9} " + " ".join(f"{c:>7}" for c in ACTIONS)
              + f" {'failed':>7} {'skipped':>7} {'build':>6} {'dup':>5}")
    lines = [header]
    for name, counts in rows.items():
        def n(key: str) -> int:
            return counts.get(key, 0)
        sent = [n(f"would_{c}") if dry_run else n(f"{c}.ok") for c in ACTIONS]
        failed = sum(v for k, v in counts.items() if k.endswith(".failed"))
        lines.append(f"  {name:<45} {n('extracted'):>9} {n('unchanged'):>9} " + " ".join(f"{v:>7}" for v in sent)
                     + f" {failed:>7} {n('skipped'):>7} {n('build_failed'):>6} {n('duplicate'):>5}")
    return lines
