"""Extract -> build -> validate -> stage, streamed: memory stays bounded whatever the row count.

The extract runs into a temporary table with a digest per row; rows the stage memo proves
unchanged are staged from it in SQL (:mod:`.memo`). The others come from a server-side cursor in
batches, each row goes through the resource's pure build rule and its pydantic model (the only
validation pass), and lands in ``edfi_sync.staged_record`` through COPY. The diff then happens in SQL.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Callable, Iterable, Iterator

import psycopg
from psycopg.adapt import Loader
from psycopg.pq import Format
from psycopg.rows import dict_row
from pydantic import TypeAdapter, ValidationError

from ..resources import RESOURCES
from ..resources.base import BuildContext, BuildError, Draft, ResourceDefinition
from ..rules.common import ImpossibleValue, OffCalendar, UnmappedValue
from . import memo, queries, statistics
from .canonical import canonical_json, digest, hash_canonical
from .memo import ITEMS_PER_ROW, MemoUse
from .partitions import WHOLE, Partition

FETCH_SIZE = 2_000


@dataclass
class StagedFailure:
    """A SIS record that could not be built: goes to the error log with action BUILD."""

    sis_object_key: str
    error_code: str
    message: str
    validation_errors: list[str]
    body: dict[str, Any] | None
    natural_key_hash: str | None
    student_unique_id: str | None
    student_name: str | None
    school_ids: tuple[str, ...]


@dataclass
class StageResult:
    extracted: int = 0
    not_rebuilt: int = 0  # extract rows proven unchanged: their records came from the memo
    staged: int = 0
    failures: list[StagedFailure] = field(default_factory=list)  # of the current batch only
    failed: int = 0


def key_hash(key: dict[str, Any]) -> str | None:
    """Hash of a reference-form natural key (None when a key part is missing)."""
    if any(value is None or value == "" for value in key.values()):
        return None
    return digest(key)


def natural_key_hash(definition: ResourceDefinition, body: dict[str, Any]) -> tuple[dict, str | None]:
    key = definition.reference_key(body)
    return key, key_hash(key)


@lru_cache(maxsize=None)
def _key_types(model: type, natural_key: tuple[str, ...]) -> dict[str, TypeAdapter]:
    """The type of each natural-key member, by the key's reference-form name."""
    types = {}
    for path in natural_key:
        annotation: Any = model
        for part in path.split("."):
            annotation = annotation.model_fields[part].annotation
        types[path.rsplit(".", 1)[-1]] = TypeAdapter(annotation)
    return types


def failed_key_hash(definition: ResourceDefinition, body: dict[str, Any]) -> tuple[dict, str | None]:
    """The key of a body that failed validation, each member coerced as a valid payload's would be
    (the SIS's text '350010001' is the schoolId 350010001 its children reference), so that they are
    skipped rather than sent to fail; a member that does not coerce stays as it is."""
    key = definition.reference_key(body)
    for name, adapter in _key_types(definition.model, definition.natural_key).items():
        try:
            key[name] = adapter.dump_python(adapter.validate_python(key[name]), mode="json")
        except ValidationError:
            pass
    return key, key_hash(key)


def replace_hash(definition: ResourceDefinition, payload: dict[str, Any]) -> str | None:
    """Hash of the values whose change forces DELETE/POST (``replace_on``); None without any."""
    values = definition.replace_values(payload) if definition.replace_on else None
    return None if values is None else digest(values)


def parent_keys(definition: ResourceDefinition, body: dict[str, Any]) -> list[str]:
    """``resource:hash`` of every record this one references, to skip it when a parent failed."""
    keys = []
    for ref in definition.references:
        value = body.get(ref.field)
        if not isinstance(value, dict):
            continue
        renamed = {ref.rename.get(k, k): v for k, v in value.items()}
        hashed = key_hash({name: renamed.get(name) for name in RESOURCES[ref.resource].key_names})
        if hashed:
            keys.append(f"{ref.resource}:{hashed}")
    return keys


def _validation_messages(exc: ValidationError) -> list[str]:
    """Each problem with where it is and, for a single value, what the SIS gave (cut short)."""
    messages = []
    for err in exc.errors():
        got = err.get("input")
        shown = ("" if isinstance(got, (dict, list)) or not err["loc"] else " (the SIS has no value)" if got is None
                 else f" (got {str(got)[:40]!r})")
        messages.append(f"{'.'.join(str(p) for p in err['loc']) or '(record)'}: {err['msg']}{shown}")
    return messages


def _lenient(loader: type[Loader]) -> type[Loader]:
    """``loader``, except that a date Python cannot hold comes back as :class:`OffCalendar`, so its
    record becomes an error row instead of failing the whole extract."""

    class Lenient(Loader):
        def __init__(self, oid: int, context=None):
            super().__init__(oid, context)
            self._load = loader(oid, context).load

        def load(self, data):
            try:
                return self._load(data)
            except psycopg.DataError:
                return OffCalendar(bytes(data).decode())

    return Lenient


def _drafts(definition: ResourceDefinition, row: dict, ctx: BuildContext) -> Iterator[Draft | StagedFailure]:
    """The build rule's drafts for a row, with rule errors turned into failures."""
    try:
        built = definition.build(row, ctx)
        for item in ([built] if isinstance(built, Draft) else built):
            # A rule making several records of one row yields the error of one it cannot make.
            yield _failure(definition, row, item.error_code, item.message,
                           item.details) if isinstance(item, BuildError) else item
    except UnmappedValue as exc:
        yield _failure(definition, row, "unmapped_value", str(exc))
    except ImpossibleValue as exc:
        yield _failure(definition, row, "schema_validation", str(exc))
    except BuildError as exc:
        yield _failure(definition, row, exc.error_code, exc.message, exc.details)


def _failure(definition, row, code, message, details: dict[str, Any] | None = None) -> StagedFailure:
    """A failure names the row's SIS object (its first column), unless the rule named one of the
    several records it makes of the row (details sis_object_key); and the schools the rule gave."""
    details = details or {}
    key_column = next(iter(row))  # extracts select the SIS object key first
    return StagedFailure(details.get("sis_object_key") or str(row[key_column]), code, message, [], None, None,
                         row.get("state_id"),
                         " ".join(filter(None, (row.get("first_name"), row.get("last_name")))) or None,
                         tuple(details.get("school_ids", ())))


# The column order of stage_copy.sql, with the defaults of a row that leaves a column out.
_STAGED_COLUMNS = {
    "run_id": None, "end_year": None, "resource": None, "partition": 0, "seq": None, "natural_key_hash": None,
    "natural_key": None, "sis_object_key": None, "payload": None, "payload_hash": None, "school_ids": [],
    "student_unique_id": None, "student_name": None, "precedence": [], "parent_keys": [], "status": "staged",
    "error_code": None, "error_message": None, "replace_hash": None, "source_digest": None,
}


def _staged(**values: Any) -> tuple:
    return tuple(values.get(column, default) for column, default in _STAGED_COLUMNS.items())


def _failure_row(failure: StagedFailure, key: dict | None, **common: Any) -> tuple:
    return _staged(**common, natural_key_hash=failure.natural_key_hash,
                   natural_key=json.dumps(key, default=str) if failure.natural_key_hash else None,
                   sis_object_key=failure.sis_object_key, school_ids=list(failure.school_ids),
                   student_unique_id=failure.student_unique_id, student_name=failure.student_name,
                   status="build_failed", error_code=failure.error_code,
                   error_message="; ".join(failure.validation_errors) or failure.message)


def _rows(definition: ResourceDefinition, source_rows: list[tuple[int, str, list]], run_id: str, end_year: int,
          partition: Partition, result: StageResult) -> Iterator[tuple]:
    """Staged rows of a batch: (source_seq, source_digest, drafts or failures of that row) each."""
    for source_seq, source_digest, items in source_rows:
        if len(items) >= ITEMS_PER_ROW:
            raise ValueError(f"{definition.name}: one SIS row made {len(items)} records (at most {ITEMS_PER_ROW - 1})")
        for index, item in enumerate(items):
            common = {"run_id": run_id, "end_year": end_year, "resource": definition.name,
                      "partition": partition.index, "seq": source_seq * ITEMS_PER_ROW + index,
                      "source_digest": source_digest}
            key = None
            if isinstance(item, Draft):
                try:
                    payload = definition.model.model_validate(item.body).to_json()
                except ValidationError as exc:
                    # The raw body's key, when it has one, lets children of the failed record be skipped.
                    key, nk_hash = failed_key_hash(definition, item.body)
                    item = StagedFailure(item.sis_object_key, "schema_validation",
                                         f"{definition.name} record failed schema validation",
                                         _validation_messages(exc), json.loads(canonical_json(item.body)), nk_hash,
                                         item.student_unique_id, item.student_name, item.school_ids)
                else:
                    key, nk_hash = natural_key_hash(definition, payload)
                    text = canonical_json(payload)
                    result.staged += 1
                    yield _staged(**common, natural_key_hash=nk_hash, natural_key=json.dumps(key),
                                  sis_object_key=item.sis_object_key, payload=text,
                                  payload_hash=hash_canonical(text), school_ids=list(item.school_ids),
                                  student_unique_id=item.student_unique_id, student_name=item.student_name,
                                  precedence=list(item.precedence), parent_keys=parent_keys(definition, payload),
                                  replace_hash=replace_hash(definition, payload))
                    continue
            # Failed builds stay staged: they protect the record from deletion and skip its children.
            result.failures.append(item)
            result.failed += 1
            yield _failure_row(item, key, **common)


def stage_resource(conn: psycopg.Connection, definition: ResourceDefinition, ctx: BuildContext, *,
                   run_id: str, params: dict[str, Any], use: MemoUse,
                   record_failures: Callable[[list[StagedFailure]], None],
                   partition: Partition = WHOLE) -> StageResult:
    """Replace the resource's staged rows (of this partition) with what the SIS yields now (for this
    partition's students), in one transaction that also records each batch's build failures and
    updates the memo."""
    result = StageResult()
    end_year = ctx.school_year.end_year
    memo_params = {**use.params(run_id, end_year, definition.name), **partition.params,
                   "merge_duplicates": definition.merge_duplicates}
    with conn.transaction():
        conn.execute(queries.engine("stage_clear"), {"end_year": end_year, "resource": definition.name,
                                                     "run_id": run_id, **partition.params})
        result.extracted = memo.extract(conn, definition, {**params, **partition.params})
        conn.execute(queries.engine("hash_joins"))
        result.not_rebuilt, proven_records = memo.stage_proven(conn, use, memo_params)
        with conn.cursor(name=f"extract_{definition.name}", row_factory=dict_row) as source:
            date_loader = source.adapters.get_loader(source.adapters.types["date"].oid, Format.TEXT)
            source.adapters.register_loader("date", _lenient(date_loader))
            source.execute(queries.engine("source_rows"))
            while rows := source.fetchmany(FETCH_SIZE):
                batch = []
                for row in rows:
                    source_seq, source_digest = row.pop("source_seq"), row.pop("source_digest")
                    batch.append((source_seq, source_digest, list(_drafts(definition, row, ctx))))
                # Between two FETCHes of the open portal, one COPY per batch.
                with conn.cursor().copy(queries.engine("stage_copy")) as copy:
                    for staged in _rows(definition, batch, run_id, end_year, partition, result):
                        copy.write_row(staged)
                if result.failures:
                    record_failures(result.failures)
                    result.failures = []
        memo.remember(conn, use, memo_params)
        statistics.refresh(conn, staged=proven_records + result.staged + result.failed)
    return result
