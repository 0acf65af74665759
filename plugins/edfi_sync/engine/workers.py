"""``edfi-sync sync --partitions N``: the post step of each student-level resource in N worker
processes at once, as the mapped Airflow tasks run it (SPEC §6.1): one run id, the stage and ledger
keyed by partition, the connection's one budget. Every other step runs in the calling process, in
the plan's order, so each step is a barrier as a task edge is."""

from __future__ import annotations

import logging
import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from typing import TYPE_CHECKING, Callable

from ..resources import RESOURCES
from ..resources.graph import Step
from .partitions import Partition

if TYPE_CHECKING:
    from ..hooks.client import EdFiSettings
    from .runner import SyncOptions, YearSync
    from .steps import StepResult


class PartitionWorkers:
    def __init__(self, run: "YearSync", count: int):
        self.run, self.count = run, count
        # spawn, not fork: a forked child would share the parent's database sockets.
        self._pool = ProcessPoolExecutor(max_workers=count, mp_context=multiprocessing.get_context("spawn"),
                                         initializer=_worker_logging, initargs=(logging.getLogger("edfi_sync").level,))

    def takes(self, step: Step) -> bool:
        # A resync posts whole: the ODS's pages and the map rows they drop are the whole resource's.
        return step.phase == "post" and RESOURCES[step.resource].partitioned and not self.run.options.resync

    def run_step(self, step: Step) -> list["StepResult"]:
        run = self.run
        futures = [self._pool.submit(post_partition, run.end_year, run.options, run.run_id, run.conninfo,
                                     run.settings_for, step, Partition(index, self.count))
                   for index in range(self.count)]
        return [future.result() for future in futures]

    def close(self) -> None:
        self._pool.shutdown(cancel_futures=True)


def post_partition(end_year: int, options: "SyncOptions", run_id: str, conninfo: str,
                   settings_for: Callable[[str], "EdFiSettings"], step: Step, partition: Partition) -> "StepResult":
    """One partition of a post step, in a run another process began (what a mapped task does). A
    worker keeps the run open across steps (its connection, mappings, client and token)."""
    from .runner import YearSync

    global _open_run
    if _open_run is None or _open_run.run_id != run_id:
        if _open_run is not None:
            _open_run.__exit__(None, None, None)
        _open_run = YearSync(end_year, options, run_id=run_id, conninfo=conninfo, settings_for=settings_for)
        _open_run.__enter__()
        _open_run.begin(joining=True)
    return _open_run.run_step(step, partition)


_open_run: "YearSync | None" = None  # a worker process's run, closed when the process ends


def _worker_logging(level: int) -> None:
    from ..cli import configure_logging

    configure_logging(level)
