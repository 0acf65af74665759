"""Skip rebuilding what cannot have changed (SPEC §6.1; issue 20: a run costs what changed).

Each row a resource's extract yields gets a digest of its values (md5, in SQL). The stage memo
(``edfi_sync.stage_memo``) remembers what the last stage built from each digest. A row is
*proven unchanged*, and its records are staged from the memo instead of being built again, when
- the memo holds its digest under the same build context: the mapping snapshot (``taken_at``) of
  every owner the resource reads, the school year's dates, the data standard, the rules' code;
- that row's build did not fail (failed rows are never remembered: they are rebuilt, and their
  error seen again, every run);
- every record it made is in the identity map with that payload (a record that failed to send, or
  whose answer was lost, is rebuilt and sent); for a resource that merges duplicates, with that key
  (the rows merged away carry payloads that were never sent).
Proven records are still staged, every column as the build made it (natural key, SIS key, parent
keys, payload and its hash), so the stage stays whole: the delete step, duplicates and children of
failed parents read it as before. They are staged already unchanged (what mark_unchanged would
find), and a resource that merges duplicates stages only the best proven row of each key.

A resync never reads the memo (it rebuilds everything); a dry run never writes it. The memo is a
cache: unlogged, rebuilt after a crash, never the truth. Its unit is one extract row; a student
partition's extract (SPEC §6.1) prunes only the rows of its own students.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from psycopg import sql

from ..resources.base import ResourceDefinition
from . import queries

if TYPE_CHECKING:
    import psycopg

    from .runner import YearSync

# A staged record's seq is source_seq * ITEMS_PER_ROW + its index among the row's records: the
# extract order, whichever records were built and which came from the memo.
ITEMS_PER_ROW = 65_536

_PACKAGE = Path(__file__).resolve().parents[1]


@lru_cache(maxsize=None)
def rules_version() -> str:
    """A digest of the code that turns a SIS row into staged records: a new release rebuilds."""
    files = sorted([*(_PACKAGE / "resources").glob("*.py"), *(_PACKAGE / "rules").glob("*.py"),
                    _PACKAGE / "engine" / "stage.py", _PACKAGE / "engine" / "canonical.py"])
    h = hashlib.blake2b(digest_size=16)
    for path in files:
        h.update(path.name.encode() + b"\0" + path.read_bytes())
    return h.hexdigest()


@dataclass(frozen=True)
class MemoUse:
    """How one stage uses the memo: the build context (None: never proven unchanged), whether the
    memo is read (not on a resync) and written (not on a dry run)."""

    context: str | None
    read: bool
    write: bool

    def params(self, run_id: str, end_year: int, resource: str) -> dict:
        return {"run_id": run_id, "end_year": end_year, "resource": resource,
                "context": self.context if self.read else None, "items": ITEMS_PER_ROW}


def memo_use(run: "YearSync", definition: ResourceDefinition) -> MemoUse:
    """The memo policy of a post step, taken after a resync refreshed the snapshots."""
    taken = {owner: at for owner, at in run.conn.execute(queries.engine("snapshot_taken"), run.ids)}
    owners = sorted({definition.name} | {owner for owner, _ in definition.mapping_fields})
    current = [owner for owner in owners
               if run.options.dry_run and (owner in run.current_owners or owner not in taken)]
    context = None
    if not current:  # a dry run reading current mapping values proves nothing
        year = run.school_year
        parts = [definition.name, repr(sorted(definition.extract_params)), rules_version(),
                 run.settings.data_standard, str(year.start), str(year.end),
                 *(f"{owner}={taken[owner].isoformat() if owner in taken else '-'}" for owner in owners)]
        context = hashlib.blake2b("\n".join(parts).encode(), digest_size=16).hexdigest()
    return MemoUse(context, read=not run.options.resync and context is not None, write=not run.options.dry_run)


def extract(conn: "psycopg.Connection", definition: ResourceDefinition, params: dict) -> int:
    """Run the resource's extract into this transaction's ``extracted_source``; returns its rows."""
    if params.get("partitions", 1) > 1:
        # The planner guesses the student-partition filter keeps 0.5% of the enrollments and nests
        # loops over that handful: quadratic (half of demo scale 2's students took 87 ms, all of
        # them 1.5 ms). Hash joins are linear whatever it believes.
        conn.execute(queries.engine("hash_joins"))
    statement = sql.SQL(queries.engine("source_extract")).format(extract=sql.SQL(
        queries.extract(definition.extract_sql).strip()))
    return conn.execute(statement, params).rowcount


def stage_proven(conn: "psycopg.Connection", use: MemoUse, params: dict) -> tuple[int, int]:
    """Stage the records of the rows proven unchanged; returns (rows, records)."""
    rows = conn.execute(queries.engine("memo_reusable"), params).rowcount
    records = conn.execute(queries.engine("memo_stage"), params).rowcount if rows else 0
    return rows, records


def remember(conn: "psycopg.Connection", use: MemoUse, params: dict) -> None:
    """Forget what the SIS no longer yields, remember what this stage built."""
    if use.write and use.context is not None:
        write = {**params, "context": use.context}
        conn.execute(queries.engine("memo_prune"), write)
        conn.execute(queries.engine("memo_write"), write)
