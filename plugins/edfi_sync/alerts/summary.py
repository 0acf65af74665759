"""What an alert says, as a pure function of what the run ledger and the error log hold.

One alert per DAG run and event: the DAG run failed (which task, why), it succeeded with record
errors (counts per resource, the errors new since the last run), or it is still running past its
deadline (what is done, what is still going). Each school year links to the error log page.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal
from urllib.parse import quote, urlencode

from ..engine.progress import summary_table
from ..engine.steps import record_errors

Event = Literal["failure", "success", "deadline"]


@dataclass
class YearFacts:
    """One engine run of the DAG run (one school year)."""

    school_year: int
    run_id: str
    status: str
    new_errors: int = 0
    open_errors: int = 0
    resources: dict[str, Counter] = field(default_factory=dict)  # counts per resource, its steps summed
    running: list[str] = field(default_factory=list)  # steps not finished (task ids)

    @property
    def record_errors(self) -> int:
        return sum(record_errors(counts) for counts in self.resources.values())


@dataclass
class AlertFacts:
    dag_id: str
    dag_run_id: str
    event: Event
    airflow_url: str
    years: list[YearFacts] = field(default_factory=list)
    reason: str | None = None  # Airflow's: task_failure, all_tasks_deadlocked, ...
    failed_task: str | None = None
    deadline: datetime | None = None
    state: str | None = None  # the DAG run's state when the event was raised
    unread: str | None = None  # why the run ledger could not be read (the alert still goes out)
    dry_run: bool = False


@dataclass(frozen=True)
class Alert:
    level: Literal["error", "warning"]
    subject: str
    body: str


def should_alert(facts: AlertFacts, on_record_errors: str = "new") -> bool:
    """Failures always; a missed deadline when the run is still going (a run that failed first
    had its failure alert: Airflow keeps the deadline of a failed run); a success only with
    record errors: by default when some are new since the last run (the same known errors every
    30 minutes would be noise), ``always`` whenever there are some, ``never`` not at all."""
    if facts.event == "failure":
        return True
    if facts.event == "deadline":
        return facts.state in (None, "queued", "running")
    if on_record_errors == "never" or facts.dry_run:
        return False
    with_errors = [y for y in facts.years if y.record_errors]
    if on_record_errors == "always":
        return bool(with_errors)
    return any(y.new_errors for y in with_errors)


def error_log_url(airflow_url: str, school_year: int, run_id: str) -> str:
    return f"{airflow_url.rstrip('/')}/edfi-sync/errors?" + urlencode({"school_year": school_year, "run_id": run_id})


def compose(facts: AlertFacts) -> Alert:
    run = f"{facts.dag_id} run {facts.dag_run_id}" + (" (dry run)" if facts.dry_run else "")
    if facts.event == "failure":
        why = f"task {facts.failed_task} failed" if facts.failed_task else (facts.reason or "failed")
        subject, level = f"[edfi-sync] {run} FAILED: {why}", "error"
        lead = f"{run} failed: {why}" + (f" ({facts.reason})." if facts.reason and facts.failed_task else ".")
    elif facts.event == "deadline":
        since = f", past its deadline {facts.deadline:%Y-%m-%d %H:%M %Z}" if facts.deadline else ""
        subject, level = f"[edfi-sync] {run} is still running{since}", "error"
        lead = f"{run} is still running{since}: a step may be stuck (see the steps still going below)."
    else:
        errors = sum(y.record_errors for y in facts.years)
        new = sum(y.new_errors for y in facts.years)
        subject, level = f"[edfi-sync] {run} succeeded with {errors} record error(s), {new} new", "warning"
        lead = f"{run} succeeded, but {errors} record(s) were logged as errors ({new} new since the last run)."
    lines = [lead, ""]
    for year in facts.years:
        lines.append(f"School year {year.school_year} (engine run {year.run_id}, {year.status}): "
                     f"{year.record_errors} record error(s), {year.new_errors} new since the last run, "
                     f"{year.open_errors} open in all.")
        if year.running:
            lines.append(f"  still going: {', '.join(year.running)}")
        if year.resources:
            lines += summary_table(year.resources, facts.dry_run)
        lines += [f"  Error log: {error_log_url(facts.airflow_url, year.school_year, year.run_id)}", ""]
    if facts.unread:
        lines += [f"The run ledger could not be read: {facts.unread}", ""]
    elif not facts.years:
        lines += ["No school year of this run reached the engine (see the task logs).", ""]
    lines.append(f"Airflow: {facts.airflow_url.rstrip('/')}/dags/{quote(facts.dag_id, safe='')}/runs/"
                 f"{quote(facts.dag_run_id, safe='')}")
    return Alert(level, subject, "\n".join(lines))
