"""Student partitions of a post step (SPEC §6.1): the records of a student-level resource split by a
hash of the student (``edfi_sync.student_partition`` of the studentUniqueId), so N tasks can stage and
send one resource at once. A partition is part of the stage's and the ledger's keys; partition 0 of
1 is the whole resource, what every other step and the CLI run."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any, Sequence


@dataclass(frozen=True)
class Partition:
    index: int = 0
    count: int = 1

    def __post_init__(self):
        if not 0 <= self.index < self.count:
            raise ValueError(f"partition {self.index} of {self.count}: the index must be in 0..{self.count - 1}")

    @property
    def split(self) -> bool:
        return self.count > 1

    @property
    def params(self) -> dict[str, Any]:
        return {"partition": self.index, "partitions": self.count}

    def __str__(self) -> str:
        return f"partition {self.index} of {self.count}"


WHOLE = Partition()


def merged_post(rows: Sequence[tuple]) -> dict[str, Any] | None:
    """A partitioned post step for a task summary (SPEC §6.1), from its ledger rows
    (``steps.post_partitions``): the counts of every partition added up, and each partition's;
    None for a step run whole (its own task's summary says it all) or not run."""
    if not rows or rows[-1][1] == 1:
        return None
    merged: Counter = Counter()
    for row in rows:
        merged.update(row[6])
    return {"partitions": rows[-1][1], "counts": dict(sorted(merged.items())),
            "sis_count": sum(row[7] or 0 for row in rows),
            "by_partition": [{"partition": row[0], "status": row[2], "counts": row[6]} for row in rows]}
