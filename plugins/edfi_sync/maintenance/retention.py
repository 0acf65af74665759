"""Retention (SPEC §6.1): prune what a year of runs leaves behind, never what the sync needs.

It prunes staged and ODS rows (each step's under that step's lock, taken with
``pg_try_advisory_lock`` and skipped when a sync holds it: a delete step trusts its stage between
its guard and its cursor), run ledger rows, resolved error rows, and the object-storage XCom files
no XCom row references (``airflow db clean`` deletes the rows, not the files). Only rows of runs
in a terminal state; never the identity map, the mapping snapshots or open (or archived) errors.
Every delete is a batch of its own short transaction, so no table stays locked for long and a
concurrent sync is not held up.
"""

from __future__ import annotations

import contextlib
import json
import logging
import time
from dataclasses import dataclass, field, fields
from datetime import datetime, timedelta, timezone
from typing import Any

import psycopg

from ..engine import queries
from ..paths import read_sql

log = logging.getLogger(__name__)

VARIABLE = "edfi_sync_retention"  # Airflow Variable (JSON) overriding any of the defaults


@dataclass(frozen=True)
class RetentionPolicy:
    """Ages in days after which rows go; the defaults are the README's."""

    staged_days: float = 2  # staged and ODS rows of finished runs (a cleared delete task needs them)
    runs_days: float = 90  # the run ledger (sync_run, resource_run); each step's latest post stays
    resolved_errors_days: float = 180  # resolved error rows (open and archived rows always stay)
    xcom_files_days: float = 30  # object-storage XCom files no XCom row references
    batch_rows: int = 5000  # rows per delete transaction

    @classmethod
    def from_setting(cls, value: str | dict[str, Any] | None) -> "RetentionPolicy":
        """From the Variable's JSON (any subset of the fields); None or empty: the defaults."""
        if value in (None, ""):
            return cls()
        data = json.loads(value) if isinstance(value, str) else dict(value)
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"{VARIABLE}: unknown key(s) {unknown}; known: {sorted(known)}")
        policy = cls(**{k: (int if k == "batch_rows" else float)(v) for k, v in data.items()})
        if any(getattr(policy, name) <= 0 for name in known):
            raise ValueError(f"{VARIABLE}: every value must be above 0, not {data}")
        return policy


@dataclass
class Pruned:
    """What one retention step removed."""

    target: str
    rows: int = 0
    batches: int = 0
    busy: list[str] = field(default_factory=list)  # steps skipped: a sync held their lock
    note: str = ""

    def describe(self) -> str:
        text = f"{self.target}: {self.rows} pruned in {self.batches} batch(es)"
        if self.busy:
            text += f"; skipped while a sync holds them: {', '.join(self.busy)} (next time)"
        return text + (f"; {self.note}" if self.note else "")

    def as_dict(self) -> dict[str, Any]:
        return {"target": self.target, "rows": self.rows, "batches": self.batches, "busy": self.busy,
                **({"note": self.note} if self.note else {})}


class Retention:
    """Retention of the connector database. ``as_of`` stands for now (tests and the year simulation)."""

    def __init__(self, conninfo: str, policy: RetentionPolicy = RetentionPolicy(), as_of: datetime | None = None):
        self.conninfo, self.policy = conninfo, policy
        self.as_of = as_of or datetime.now(timezone.utc)

    def cutoff(self, days: float) -> datetime:
        return cutoff(days, self.as_of)

    def _connect(self) -> psycopg.Connection:
        conn = psycopg.connect(self.conninfo, autocommit=True)  # one short transaction per statement
        conn.execute(read_sql("maintenance/session.sql"))
        return conn

    def prune_stage(self) -> Pruned:
        """Staged and ODS rows of finished runs, step by step, each batch under the step's lock;
        the lock is let go between batches, so a sync that starts meanwhile waits for one batch at
        most, and a step whose lock a sync holds is skipped."""
        pruned = Pruned("staged and ODS rows")
        params = {"cutoff": self.cutoff(self.policy.staged_days), "batch": self.policy.batch_rows}
        with self._connect() as conn:
            for year, resource in conn.execute(read_sql("maintenance/stage_groups.sql"), params).fetchall():
                step = {**params, "end_year": year, "resource": resource}
                while True:
                    if not conn.execute(read_sql("maintenance/step_try_lock.sql"), step).fetchone()[0]:
                        pruned.busy.append(f"{year} {resource}")
                        break
                    try:
                        deleted = conn.execute(read_sql("maintenance/stage_prune.sql"), step).fetchone()
                    finally:
                        conn.execute(queries.engine("step_unlock"), step)
                    pruned.rows += sum(deleted)
                    pruned.batches += 1
                    if max(deleted) < step["batch"]:
                        break
        return logged(pruned)

    def prune_runs(self) -> Pruned:
        """Run ledger rows (a run and its steps) of runs that ended long ago and have no stage left."""
        # A run takes its ~30 step rows along: a batch of runs stays near batch_rows rows.
        return self._batches("run ledger rows (runs)", "run_prune", self.policy.runs_days,
                             max(1, self.policy.batch_rows // 32))

    def prune_errors(self) -> Pruned:
        return self._batches("resolved error rows", "error_prune", self.policy.resolved_errors_days,
                             self.policy.batch_rows)

    def _batches(self, target: str, name: str, days: float, batch: int) -> Pruned:
        pruned = Pruned(target)
        params = {"cutoff": self.cutoff(days), "batch": batch}
        with self._connect() as conn:
            while True:
                deleted = conn.execute(read_sql(f"maintenance/{name}.sql"), params).rowcount
                pruned.rows += deleted
                pruned.batches += 1
                if deleted < batch:
                    break
        return logged(pruned)

    def prune_database(self) -> list[Pruned]:
        """Everything in the connector database, stage first (a run's ledger rows go only once its
        stage is gone)."""
        return [self.prune_stage(), self.prune_runs(), self.prune_errors()]



def cutoff(days: float, as_of: datetime | None = None) -> datetime:
    return (as_of or datetime.now(timezone.utc)) - timedelta(days=days)


def logged(pruned: Pruned) -> Pruned:
    log.info("retention: %s", pruned.describe())
    return pruned


def xcom_references(metadata_conninfo: str, prefix: str) -> set[str]:
    """The object-storage paths Airflow's XCom rows name (read from its metadata database)."""
    with psycopg.connect(metadata_conninfo) as conn:
        return {row[0] for row in conn.execute(read_sql("maintenance/xcom_references.sql"), {"prefix": prefix})}


def prune_xcom_files(base, referenced: set[str], older_than: datetime) -> Pruned:
    """Delete the files under ``base`` (an ObjectStoragePath or pathlib.Path) that no XCom row
    references and that were last written before ``older_than`` (a file is written before its row:
    a young file may be about to be referenced)."""
    pruned = Pruned("XCom files")
    started = time.monotonic()
    found = list(base.rglob("*"))
    for path in found:
        if not path.is_file() or str(path) in referenced:
            continue
        if datetime.fromtimestamp(path.stat().st_mtime, timezone.utc) >= older_than:
            continue
        path.unlink()
        pruned.rows += 1
    for path in sorted((p for p in found if p.is_dir()), key=lambda p: -len(p.parts)):
        with contextlib.suppress(OSError):  # a run's and a task's folders, once empty (local storage)
            if not any(path.iterdir()):
                path.rmdir()
    pruned.batches = 1
    pruned.note = f"looked through {base} in {time.monotonic() - started:.1f}s"
    return logged(pruned)
