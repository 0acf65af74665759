"""The Error Log's chart: records sent and record errors of the last runs, drawn by the server as
SVG (no script, no CDN). Pure geometry here; ``templates/_chart.svg`` draws it."""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class Bar:
    x: float
    width: float
    sent_height: float
    errors_height: float
    run: dict


@dataclass(frozen=True)
class RunChart:
    width: int
    panel: int          # height of each panel: sent above, errors below
    top_sent: int       # the value at the top of each panel's scale
    top_errors: int
    bars: list[Bar]


def nice_ceiling(value: int) -> int:
    """1, 2, 5, 10, 20, 50, ... at or above ``value`` (a scale that reads well)."""
    if value <= 1:
        return 1
    magnitude = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 5, 10):
        if value <= step * magnitude:
            return step * magnitude
    return 10 * magnitude


def run_chart(runs: list[dict], width: int = 1160, panel: int = 48, slots: int = 30) -> RunChart:
    """One slot per run (at most ``slots``, at least 12 wide), oldest on the left; each panel has
    its own scale, so a handful of errors stays visible next to thousands of records sent."""
    top_sent = nice_ceiling(max((r["sent"] for r in runs), default=0))
    top_errors = nice_ceiling(max((r["record_errors"] for r in runs), default=0))
    runs = runs[-slots:]
    slot = width / max(len(runs), 12)
    bars = [Bar(x=round(i * slot + slot * 0.2, 1), width=round(slot * 0.6, 1),
                sent_height=round(panel * r["sent"] / top_sent, 1),
                errors_height=round(panel * r["record_errors"] / top_errors, 1), run=r)
            for i, r in enumerate(runs)]
    return RunChart(width, panel, top_sent, top_errors, bars)
