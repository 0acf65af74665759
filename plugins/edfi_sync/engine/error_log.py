"""Writing the error log (SPEC §4, §8): one row per problem, naming the record the way a person
finds it, with the Ed-Fi answer and the catalogue's cause and fix. Rows are refreshed, not piled
up, when a later run meets the same problem (include/sql/engine/error_insert.sql)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, Callable

from psycopg.types.json import Jsonb

from ..resources.base import ResourceDefinition
from . import queries
from .errors import EdFiError, own_error

if TYPE_CHECKING:
    from .partitions import Partition
    from .runner import YearSync
    from .stage import StagedFailure

_SECRET_KEYS = re.compile(r"secret|password|token|authorization|api[_-]?key", re.IGNORECASE)


def redact(value: Any) -> Any:
    """A value safe for the error log: secrets masked (Ed-Fi payloads carry none; this makes sure),
    and NUL characters, which PostgreSQL text and jsonb cannot hold (an ODS answer may), shown as \\0."""
    if isinstance(value, dict):
        return {k: ("***" if _SECRET_KEYS.search(k) else redact(v)) for k, v in value.items()}
    if isinstance(value, list):
        return [redact(v) for v in value]
    if isinstance(value, str):
        return value.replace("\x00", "\\0")
    return value


class ErrorLog:
    """The error-log rows of one run: who logged them (run, DAG, task) and what they say."""

    def __init__(self, run: "YearSync"):
        self.run = run

    def row(self, definition: ResourceDefinition, record: dict, action: str, error: EdFiError) -> dict:
        school_ids = record.get("school_ids") or []
        return {
            **self.run.ids, "resource": definition.name, "sis_object_key": record.get("sis_object_key"),
            "natural_key_hash": record.get("natural_key_hash"), "action": action, "status": error.status,
            "error_code": error.code, "error_class": error.entry.error_class, "message": redact(error.message),
            "validation_errors": Jsonb(redact(error.validation_errors)) if error.validation_errors else None,
            "cause": error.entry.cause, "fix": error.entry.fix,
            "request_body": Jsonb(redact(record["payload"])) if record.get("payload") else None,
            "student_unique_id": record.get("student_unique_id"), "student_name": record.get("student_name"),
            "school_id": school_ids[0] if school_ids else None,
            "dag_id": self.run.dag_id, "task_id": self.run.task_id,
        }

    def build_failures(self, definition: ResourceDefinition, failures: list["StagedFailure"]) -> None:
        """Records the rules could not build (action BUILD)."""
        self.write([self.row(definition, {
            "sis_object_key": f.sis_object_key, "natural_key_hash": f.natural_key_hash, "payload": f.body,
            "student_unique_id": f.student_unique_id, "student_name": f.student_name,
            "school_ids": list(f.school_ids)}, "BUILD", own_error(f.error_code, f.message, f.validation_errors))
            for f in failures])

    def marked(self, definition: ResourceDefinition, marked: list[dict], code: str,
               describe: Callable[[dict], str]) -> None:
        """Records the diff set aside (duplicates, children of failed parents)."""
        self.write([self.row(definition, row, "POST", own_error(code, describe(row))) for row in marked])

    def resolve_staged(self, definition: ResourceDefinition, partition: Partition) -> None:
        """SPEC §6.1, once a post step has staged the whole resource (or its partition of it): close
        the errors of SIS objects it found fine and already in the ODS (unchanged), and of those the
        SIS no longer yields (gone). Sent and deleted records close theirs as their answers are
        recorded (sender)."""
        run = self.run
        if run.options.dry_run:
            return
        params = {**run.ids, "resource": definition.name, **partition.params}
        run.conn.execute(queries.engine("errors_resolve_unchanged"), params)
        run.conn.execute(queries.engine("errors_resolve_gone"), {
            **params, "schools": list(run.options.schools) if run.options.schools else None,
            "deletable": definition.deletable})

    def write(self, rows: list[dict]) -> None:
        if rows and not self.run.options.dry_run:  # a dry run counts its problems but logs none
            with self.run.conn.cursor() as cur:
                cur.executemany(queries.engine("error_insert"), rows)
