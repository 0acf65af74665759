"""The declarative resource definition every Ed-Fi resource plugs into.

A resource is one module in this package: its pydantic model (the Ed-Fi payload and the
validator), its extract SQL file under include/sql/extract/, its natural key, its upstream
resources and its build rule. The dependency graph, post and delete order, DAG edges and the
cascade of key changes are all derived from these definitions.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Callable, Iterable, Literal, Mapping

from pydantic import BaseModel, ConfigDict

from ..rules.common import Mappings, SchoolYear

ResourceLevel = Literal["lea", "school", "student"]


class EdFiModel(BaseModel):
    """Base of every payload model: unknown fields are a bug, not data."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    def to_json(self) -> dict[str, Any]:
        return self.model_dump(mode="json", exclude_none=True)


@dataclass(frozen=True)
class Reference:
    """A payload field that references another resource, e.g. studentReference -> students.

    ``rename`` maps names in this reference to the parent's natural-key names where they differ
    (an educationOrganizationReference to an LEA carries educationOrganizationId).
    """

    field: str
    resource: str
    rename: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class BuildContext:
    school_year: SchoolYear
    mappings: Mappings
    data_standard: str = "4.0"


@dataclass
class Draft:
    """What a build rule makes of a SIS row: the Ed-Fi body before the model validates it."""

    sis_object_key: str
    body: dict[str, Any]
    school_ids: tuple[str, ...] = ()
    student_unique_id: str | None = None
    student_name: str | None = None
    # Several rows with one natural key: the highest precedence is sent (latest end_year, then highest id).
    precedence: tuple[int, ...] = ()


class BuildError(Exception):
    """A record the SIS has but that cannot be built this run (logged; never deleted)."""

    def __init__(self, error_code: str, message: str, **details: Any):
        super().__init__(message)
        self.error_code, self.message, self.details = error_code, message, details


# A rule making several records of one row may yield a BuildError (details: sis_object_key, and
# school_ids for the error log) for one it cannot make; the others are still sent.
BuildRule = Callable[[Mapping[str, Any], BuildContext], "Draft | Iterable[Draft | BuildError]"]


@dataclass(frozen=True)
class ResourceDefinition:
    name: str  # the Ed-Fi resource path, e.g. "studentSchoolAssociations"
    model: type[EdFiModel]
    extract_sql: str  # file under include/sql/extract/
    natural_key: tuple[str, ...]  # dotted payload paths (the schema's x-naturalKey)
    build: BuildRule
    sis_object_type: str
    level: ResourceLevel
    upstream: tuple[str, ...] = ()
    references: tuple[Reference, ...] = ()
    # Only studentSchoolAssociations let a PUT change the natural key; elsewhere DELETE + POST.
    key_change: Literal["put", "delete_post"] = "delete_post"
    deletable: bool = True
    # Changes to existing records wait for these resources (students: after the SSAs).
    updates_after: tuple[str, ...] = ()
    # Mapping fields (resource, field) this resource reads; each is owned by the resource it names.
    mapping_fields: tuple[tuple[str, str], ...] = ()
    # Seed 001: programs are district-level and deleted only by a resync on 'All Schools'; an
    # incremental run or a per-school resync leaves them in the ODS.
    deleted_only_by_all_schools_resync: bool = False
    # Extra parameters of the extract, for resources that share one SQL file (e.g. ("area", "lep")).
    extract_params: tuple[tuple[str, Any], ...] = ()
    # Dotted payload paths (through arrays too) whose change forces DELETE then POST although the
    # natural key stays (seed 004: the diploma date). The engine deletes the record's descendants
    # first, then the record, then posts it; the descendants are re-posted in their own steps.
    replace_on: tuple[str, ...] = ()
    # Several SIS rows with one natural key are one record by design (an LEA-level course many
    # transcripts name): the highest precedence is sent and the others are not logged as duplicates.
    merge_duplicates: bool = False
    # Descriptor values the build sends whatever the mappings say (preflight checks the ODS has them).
    descriptors: tuple[str, ...] = ()

    def __post_init__(self):
        missing = {ref.resource for ref in self.references} - set(self.upstream)
        if missing:
            raise ValueError(f"{self.name}: references {sorted(missing)} must be upstream")

    @property
    def partitioned(self) -> bool:
        """Student-level resources may be posted in partitions by a hash of the student (SPEC §6.1);
        LEA- and school-level records stay whole."""
        return self.level == "student"

    @cached_property  # read for every reference of every staged record
    def key_names(self) -> tuple[str, ...]:
        """The natural key's field names as a child's reference to this resource spells them."""
        return tuple(path.rsplit(".", 1)[-1] for path in self.natural_key)

    def replace_values(self, payload: Mapping[str, Any]) -> list[Any] | None:
        """The values of ``replace_on`` in a payload; None when it holds none of them (adding or
        removing them is an ordinary update, only a change of a present value forces DELETE/POST)."""
        values = [_values_at(payload, path.split(".")) for path in self.replace_on]
        return values if any(values) else None

    def reference_key(self, payload: Mapping[str, Any]) -> dict[str, Any]:
        """The natural key in reference form: how a child's ``<x>Reference`` names this record."""
        key = {}
        for path in self.natural_key:
            value: Any = payload
            for part in path.split("."):
                value = value.get(part) if isinstance(value, Mapping) else None
            key[path.rsplit(".", 1)[-1]] = value
        return key


def _values_at(value: Any, parts: list[str]) -> list[Any]:
    """Every value at a dotted path, descending into arrays; sorted so array order does not count."""
    if isinstance(value, list):
        return sorted((v for item in value for v in _values_at(item, parts)), key=str)
    if not parts:
        return [] if value is None else [value]
    return _values_at(value.get(parts[0]), parts[1:]) if isinstance(value, Mapping) else []
