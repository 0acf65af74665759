"""One ODS database's records: the shared store, or one school year's.

The working set lives in memory (indexes by id, by natural key in each identity space, and who
references what), so validation and reads never wait on I/O. With PostgreSQL storage every
change is also written through the :class:`~edfi_sync.sandbox.journal.Journal` before the
response goes out, and the store is rebuilt from the database at start-up.
"""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone

from .contract import EDORG_SPACE, RELATIONSHIP_RESOURCE, Contract, Resource

# Stable ids for preloaded rows, so a restart or another server gives them the same id.
_SEED_NAMESPACE = uuid.UUID("6b1f0a4e-5c1d-4f0e-9a57-1d2c3e4f5a6b")


@dataclass(slots=True, eq=False)
class Record:
    id: str
    resource: Resource
    key: tuple
    body: dict                 # without id / _etag / _lastModifiedDate
    etag: str
    modified: str
    seq: int
    refs: tuple                # ((space, key), ...) everything this record refers to, descriptors included
    _json: dict = field(default_factory=dict)   # serialised form per api version

    def document(self, api_version: str) -> dict:
        doc = {"id": self.id, **self.body, "_etag": self.etag}
        if self.resource.surrogate_id:
            doc[self.resource.surrogate_id] = self.seq
        if not api_version.startswith("5"):
            doc["_lastModifiedDate"] = self.modified
        return doc

    def json_bytes(self, api_version: str) -> bytes:
        cached = self._json.get(api_version)
        if cached is None:
            cached = self._json[api_version] = json.dumps(self.document(api_version)).encode()
        return cached


class Store:
    def __init__(self, name: str, contract: Contract):
        self.name = name
        self.contract = contract
        self.by_id: dict[str, Record] = {}
        self.by_key: dict[str, dict[tuple, Record]] = {}
        self.by_resource: dict[str, dict[str, Record]] = {name: {} for name in contract.resources}
        self.referrers: dict[tuple, dict[str, int]] = {}
        # studentUniqueId -> {schoolId: number of SSAs}: the relationships authorization reads.
        self.student_schools: dict[str, dict[int, int]] = {}
        self._seq = 0
        self._clock = 0

    # ---- reads -------------------------------------------------------------------------------
    def find(self, space: str, key: tuple) -> Record | None:
        return self.by_key.get(space, {}).get(key)

    def exists(self, space: str, key: tuple) -> bool:
        return key in self.by_key.get(space, ())

    def referenced_by(self, record: Record) -> str | None:
        """The entity name of one record that refers to ``record``, if any."""
        counts = self.referrers.get((record.resource.space, record.key))
        if counts:
            return next(iter(counts))
        return None

    def descriptor_key(self, uri: str) -> tuple:
        namespace, _, code = uri.partition("#")
        return namespace, code

    # ---- writes (in memory; the caller persists the returned record) ---------------------------
    def insert(self, resource: Resource, body: dict, key: tuple, refs: tuple, *, record_id: str | None = None,
               etag: str | None = None, modified: str | None = None, seq: int | None = None) -> Record:
        if seq is None:
            self._seq += 1
            seq = self._seq
        else:
            self._seq = max(self._seq, seq)
        record = Record(id=record_id or uuid.uuid4().hex, resource=resource, key=key, body=body,
                        etag=etag or self._next_etag(), modified=modified or _now(), seq=seq, refs=refs)
        self.by_id[record.id] = record
        self.by_key.setdefault(resource.space, {})[key] = record
        self.by_resource[resource.name][record.id] = record
        self._link(record, +1)
        return record

    def replace(self, record: Record, body: dict, key: tuple, refs: tuple) -> Record:
        """A new version of ``record`` (same id and position); a changed key moves it in its space."""
        self._link(record, -1)
        space = self.by_key[record.resource.space]
        if key != record.key:
            del space[record.key]
        updated = Record(id=record.id, resource=record.resource, key=key, body=body, etag=self._next_etag(),
                         modified=_now(), seq=record.seq, refs=refs)
        space[key] = updated
        self.by_id[record.id] = updated
        self.by_resource[record.resource.name][record.id] = updated
        self._link(updated, +1)
        return updated

    def remove(self, record: Record) -> None:
        self._link(record, -1)
        del self.by_id[record.id]
        del self.by_key[record.resource.space][record.key]
        del self.by_resource[record.resource.name][record.id]

    def _link(self, record: Record, delta: int) -> None:
        entity = record.resource.entity
        for target in record.refs:
            _count(self.referrers, target, entity, delta)
        if record.resource.name == RELATIONSHIP_RESOURCE:
            student = record.body["studentReference"]["studentUniqueId"]
            _count(self.student_schools, student, record.body["schoolReference"]["schoolId"], delta)

    def _next_etag(self) -> str:
        # Like the ODS's ticks-based etags: increasing, unique within the store.
        self._clock = max(self._clock + 1, time.time_ns() // 100)
        return str(self._clock)

    # ---- authorization helpers ----------------------------------------------------------------
    def school_lea(self, school_id) -> int | None:
        record = self.find(EDORG_SPACE, (school_id,))
        if record is None or record.resource.name != "schools":
            return None
        return (record.body.get("localEducationAgencyReference") or {}).get("localEducationAgencyId")

    # ---- seeding ----------------------------------------------------------------------------------
    def seed_id(self, resource: Resource, key: tuple) -> str:
        return uuid.uuid5(_SEED_NAMESPACE, f"{self.name}/{resource.name}/{key!r}").hex


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="microseconds").replace("+00:00", "Z")


def _count(index: dict, outer, inner, delta: int) -> None:
    """index[outer][inner] += delta, dropping entries that fall to zero (reference counting)."""
    counts = index.setdefault(outer, {})
    counts[inner] = counts.get(inner, 0) + delta
    if counts[inner] <= 0:
        del counts[inner]
        if not counts:
            del index[outer]
