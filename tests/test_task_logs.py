"""Log lines a person reads: progress with counts, rate and ETA; the summary table; and one
format for the CLI's lines, before and after something imports Airflow."""

from __future__ import annotations

import logging
import re
import subprocess
import sys
from pathlib import Path

from edfi_sync.engine.progress import Progress, summary_table

REPO = Path(__file__).resolve().parents[1]


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_progress_lines_carry_counts_rate_and_eta_at_most_every_interval(caplog):
    caplog.set_level(logging.INFO, logger="edfi_sync")
    clock = Clock()
    progress = Progress("POST students 2025", total=50_000, every=10, clock=clock)
    clock.now = 4
    assert progress.advance(1_000, {"POST.ok": 1_000}) is None  # too soon
    clock.now = 20
    line = progress.advance(9_000, {"POST.ok": 9_990, "POST.failed": 10})
    assert line == ("POST students 2025: 10,000/50,000 (20%) in 20s, 500/s, ETA 1m20s "
                    "[POST.failed=10 POST.ok=9,990]")
    assert caplog.messages == [line]
    deletes = Progress("DELETE studentSchoolAssociations 2025", every=0, clock=clock)
    clock.now = 3620
    assert deletes.advance(7, {"DELETE.ok": 7}).startswith(
        "DELETE studentSchoolAssociations 2025: 7 in 1h00m, 0/s [")  # no total: no ETA


def test_summary_table_shows_sent_or_would_send():
    counts = {"extracted": 5, "unchanged": 1, "POST.ok": 3, "PUT.failed": 1, "build_failed": 1,
              "would_POST": 9}
    header, row = summary_table({"students": counts})
    assert header.split() == ["resource", "extracted", "unchanged", "POST", "PUT", "DELETE", "failed",
                              "skipped", "build", "dup"]
    assert row.split() == ["students", "5", "1", "3", "0", "0", "1", "0", "1", "0"]
    assert summary_table({"2025": counts}, dry_run=True, label="school year")[1].split()[3] == "9"


def test_cli_log_format_does_not_change_once_airflow_is_imported():
    code = ("import logging\n"
            "from edfi_sync.cli import configure_logging\n"
            "configure_logging(logging.INFO)\n"
            "log = logging.getLogger('edfi_sync.engine.runner')\n"
            "log.info('before Airflow')\n"
            "from edfi_sync.hooks.edfi import EdFiHook  # imports Airflow, which reconfigures logging\n"
            "log.info('after Airflow')\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=REPO)
    assert result.returncode == 0, result.stderr
    ours = [line for line in (result.stdout + result.stderr).splitlines() if "Airflow" in line]
    assert len(ours) == 2
    for line, text in zip(ours, ("before Airflow", "after Airflow")):
        assert re.fullmatch(rf"\d{{4}}-\d\d-\d\d \d\d:\d\d:\d\d,\d{{3}} INFO edfi_sync\.engine\.runner: {text}", line), line
