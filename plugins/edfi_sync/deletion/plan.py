"""The Delete Tool's rules, pure (no database, no HTTP): what may be asked for, where the records
that reference a record are, which records a plan deletes and in which order."""

from __future__ import annotations

import csv
import io
from collections import Counter
from dataclasses import dataclass, field
from graphlib import TopologicalSorter
from typing import Any, Iterable, Mapping

from ..resources import GRAPH, RESOURCES
from ..resources.base import ResourceDefinition

MAX_TARGETS = 1_000
OUTSIDE = "outside the identity map (another system's record): choose it explicitly to delete it"
BLOCKED = "a record that references it is kept, so the ODS would refuse its DELETE (409)"


class BadTarget(ValueError):
    """What was asked cannot be deleted, or is not said the way the tool takes it; the message says why."""


def deletable_resources() -> list[str]:
    """What the tool deletes from: every resource the connector sends but students (SPEC §5)."""
    return [name for name in GRAPH.post_order() if RESOURCES[name].deletable]


def key_names(resource: str) -> list[str]:
    """A resource's natural key as a person types it (reference form, each name once)."""
    return list(dict.fromkeys(RESOURCES[resource].key_names))


@dataclass(frozen=True)
class Target:
    """A record asked for: by its natural key (reference form, as text) or by its Ed-Fi id."""

    resource: str
    key: tuple[tuple[str, str], ...] = ()
    edfi_id: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"resource": self.resource, "id": self.edfi_id} if self.edfi_id else {
            "resource": self.resource, "key": dict(self.key)}

    @classmethod
    def from_dict(cls, item: Mapping[str, Any]) -> "Target":
        if not isinstance(item, Mapping):
            raise BadTarget(f"a target is {{\"resource\", \"key\"}} or {{\"resource\", \"id\"}}, not {item!r}")
        return target(str(item.get("resource") or ""), item.get("key"), item.get("id"))

    def describe(self) -> str:
        return f"{self.resource} id {self.edfi_id}" if self.edfi_id else (
            f"{self.resource} " + ", ".join(f"{k}={v}" for k, v in self.key))


def target(resource: str, key: Mapping[str, Any] | None = None, edfi_id: str | None = None) -> Target:
    """A checked target: a resource the tool deletes from, and either its whole natural key or an id."""
    if resource not in RESOURCES:
        raise BadTarget(f"unknown resource {resource!r}; the tool deletes from {', '.join(deletable_resources())}")
    if not RESOURCES[resource].deletable:
        raise BadTarget(f"{resource} are never deleted (the ODS keeps person records, SPEC §5)")
    edfi_id = str(edfi_id).strip() if edfi_id else None
    if edfi_id:
        if key:
            raise BadTarget(f"{resource}: give the natural key or the Ed-Fi id, not both")
        return Target(resource, edfi_id=edfi_id)
    names = key_names(resource)
    given = {str(k).strip(): str(v).strip() for k, v in (key or {}).items() if v is not None and str(v).strip()}
    missing, unknown = [n for n in names if n not in given], sorted(set(given) - set(names))
    if missing or unknown:
        raise BadTarget(f"{resource} is found by its natural key {', '.join(names)} (or by its Ed-Fi id)"
                        + (f"; missing {', '.join(missing)}" if missing else "")
                        + (f"; not part of it: {', '.join(unknown)}" if unknown else ""))
    return Target(resource, key=tuple((n, given[n]) for n in names))


def targets_from_csv(text: str, resource: str | None = None) -> list[Target]:
    """A CSV of keys: a header of the resource's key names (or ``id``), one record a line; a
    ``resource`` column names each line's resource, else ``resource`` does."""
    rows = list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))
    if not rows:
        raise BadTarget("the CSV has no records: a header line of key names (or id), then one record a line")
    found = []
    for line, row in enumerate(rows, start=2):
        row = {(k or "").strip(): v for k, v in row.items() if k}
        name = (row.pop("resource", None) or resource or "").strip()
        try:
            found.append(target(name, None, row.get("id")) if row.get("id") else target(name, row))
        except BadTarget as exc:
            raise BadTarget(f"CSV line {line}: {exc}") from None
    return checked(found)


def checked(targets: Iterable[Target]) -> list[Target]:
    unique = list(dict.fromkeys(targets))
    if not unique:
        raise BadTarget("nothing to delete: give a resource with its natural key, Ed-Fi ids, or a CSV of keys")
    if len(unique) > MAX_TARGETS:
        raise BadTarget(f"{len(unique)} records asked for; at most {MAX_TARGETS} at a time")
    return unique


# -- where records are in the ODS ------------------------------------------------------------

@dataclass(frozen=True)
class Lookup:
    """A GET of ``resource`` filtered by ``params``; of its answers, the records holding ``expected``
    (a value at a payload path) are the ones sought (a filter the ODS names differently or ignores
    only costs pages)."""

    resource: str
    params: dict[str, str]
    expected: tuple[tuple[tuple[str, ...], str], ...]

    def matches(self, body: Mapping[str, Any]) -> bool:
        return all(_text(_at(body, path)) == value for path, value in self.expected)


def _at(body: Any, path: tuple[str, ...]) -> Any:
    for part in path:
        body = body.get(part) if isinstance(body, Mapping) else None
    return body


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def _query_names(definition: ResourceDefinition) -> dict[tuple[str, ...], str]:
    """The ODS's query parameter of each key and reference member: its own name when no other member
    of the resource has it (an ``educationOrganizationId`` in two references is left to the check)."""
    paths = [tuple(p.split(".")) for p in definition.natural_key]
    for ref in definition.references:
        to_child = {parent: child for child, parent in ref.rename.items()}
        paths += [(ref.field, to_child.get(name, name)) for name in RESOURCES[ref.resource].key_names]
    paths = list(dict.fromkeys(paths))
    counts = Counter(path[-1] for path in paths)
    return {path: path[-1] for path in paths if counts[path[-1]] == 1}


def _lookup(definition: ResourceDefinition, expected: dict[tuple[str, ...], str]) -> Lookup:
    names = _query_names(definition)
    params = {names[path]: value for path, value in expected.items() if path in names}
    return Lookup(definition.name, params, tuple(expected.items()))


def target_lookup(item: Target) -> Lookup:
    """Where a target asked for by its natural key is."""
    definition = RESOURCES[item.resource]
    key = dict(item.key)
    return _lookup(definition, {tuple(p.split(".")): key[p.rsplit(".", 1)[-1]] for p in definition.natural_key})


def dependent_lookups(resource: str, body: Mapping[str, Any]) -> list[Lookup]:
    """Where the records that reference this one are (they would make the ODS refuse its DELETE):
    each resource of the graph with a reference to ``resource``, filtered by this record's key."""
    key = {name: _text(value) for name, value in RESOURCES[resource].reference_key(body).items()}
    lookups = []
    for child in GRAPH.children(resource):
        definition = RESOURCES[child]
        for ref in definition.references:
            if ref.resource == resource:
                to_child = {parent: name for name, parent in ref.rename.items()}
                lookups.append(_lookup(definition, {(ref.field, to_child.get(name, name)): value
                                                    for name, value in key.items()}))
    return lookups


# -- the plan ------------------------------------------------------------------------------------

@dataclass
class Planned:
    """A record of a plan: what the ODS holds, how it was found, and what the run does with it."""

    resource: str
    edfi_id: str | None
    natural_key: dict[str, Any] | None
    role: str  # target | dependent
    depends_on: list[int] = field(default_factory=list)  # the records it references (indexes, then seqs)
    depth: int = 0
    explicit: bool = False  # asked for by the operator
    in_identity_map: bool = False
    sis_object_key: str | None = None
    student_unique_id: str | None = None
    action: str = "delete"
    reason: str | None = None


def decide(records: list[Planned]) -> list[Planned]:
    """Each record's action, and the order of the DELETEs: children first. A record outside the
    identity map is deleted only when it was asked for; a record something kept references is kept
    (the ODS would refuse it); a target the ODS lacks is listed, with nothing to do."""
    children: dict[int, set[int]] = {i: set() for i in range(len(records))}
    for i, record in enumerate(records):
        for parent in record.depends_on:
            children[parent].add(i)
    order = list(TopologicalSorter(children).static_order())  # a record's children come before it
    for i in order:
        record = records[i]
        if record.edfi_id is None:
            record.action, record.reason = "keep", "not found in the ODS"
        elif not (record.explicit or record.in_identity_map):
            record.action, record.reason = "keep", OUTSIDE
        elif any(records[c].action == "keep" for c in children[i]):
            record.action, record.reason = "keep", BLOCKED
    seq = {index: position for position, index in enumerate(order, start=1)}
    ordered = [records[i] for i in order]
    for record in ordered:
        record.depends_on = sorted(seq[parent] for parent in record.depends_on)
    return ordered


def counts(records: Iterable[Mapping[str, Any]]) -> dict[str, int]:
    """What a plan holds (rows as the plan table keeps them), and what its run did."""
    tally: Counter = Counter()
    for record in records:
        if record["edfi_id"] is None:
            tally["not_found"] += 1
        elif record["action"] == "delete":
            tally["to_delete"] += 1
            tally["dependents_to_delete"] += record["role"] == "dependent"
        else:
            tally["kept"] += 1
            tally["outside_identity_map"] += record["reason"] == OUTSIDE
        if record.get("outcome"):
            tally[record["outcome"]] += 1
    return {key: n for key, n in tally.items() if n}
