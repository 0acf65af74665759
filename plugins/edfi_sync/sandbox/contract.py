"""The Ed-Fi resource contract, compiled once from the data in include/edfi/.

Every served resource becomes a :class:`Resource`: a tree of :class:`Node` validators built from
its JSON Schema, its natural key, its references (which identity space each one points at) and
what the authorization and the query filters need. Requests never walk a schema: they run the
compiled nodes.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import date
from functools import cache

from ..paths import INCLUDE_DIR

EDFI_DIR = INCLUDE_DIR / "edfi"

# Ed-Fi model inheritance, which the hand-written schemas do not carry: a subclass shares its
# base class's identity space (a school and an LEA cannot share an id; an SPA and a CTE
# association cannot share a key), and a reference to the base resolves against every subclass.
BASE_CLASS = {
    "localEducationAgencies": "educationOrganizations",
    "schools": "educationOrganizations",
    "studentProgramAssociations": "generalStudentProgramAssociations",
    "studentCTEProgramAssociations": "generalStudentProgramAssociations",
    "studentTitleIPartAProgramAssociations": "generalStudentProgramAssociations",
    "studentLanguageInstructionProgramAssociations": "generalStudentProgramAssociations",
    "studentMigrantEducationProgramAssociations": "generalStudentProgramAssociations",
    "studentHomelessProgramAssociations": "generalStudentProgramAssociations",
    "studentSchoolFoodServiceProgramAssociations": "generalStudentProgramAssociations",
    "studentSpecialEducationProgramAssociations": "generalStudentProgramAssociations",
}
EDORG_SPACE = "educationOrganizations"
# The association that creates a student's relationship with a school (relationship-based auth).
RELATIONSHIP_RESOURCE = "studentSchoolAssociations"
EDORG_ID_FIELDS = frozenset({"educationOrganizationId", "schoolId", "localEducationAgencyId"})
STUDENT_ID_FIELD = "studentUniqueId"

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}(?:T00:00:00(?:\.0+)?Z?)?$")


def pascal(name: str) -> str:
    return name[:1].upper() + name[1:]


def camel(name: str) -> str:
    return name[:1].lower() + name[1:]


def singular(plural: str) -> str:
    return plural[:-3] + "y" if plural.endswith("ies") else plural[:-1]


def plural(singular_name: str) -> str:
    return singular_name[:-1] + "ies" if singular_name.endswith("y") else singular_name + "s"


@dataclass(frozen=True, slots=True)
class Reference:
    """A ``*Reference`` object: which identity space it points at, and its key in that space's order."""

    field: str          # e.g. programReference
    label: str          # e.g. Program (5.3 message: "Program reference could not be resolved.")
    space: str          # identity space of the target
    target_entity: str  # e.g. Program (7.3 message: "The referenced 'Program' item does not exist.")
    leaves: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Node:
    name: str
    label: str
    kind: str                     # string integer number boolean date descriptor object array any
    required: bool = False
    max_length: int | None = None
    min_items: int = 0
    descriptor: str | None = None  # descriptor resource name (space) for kind == descriptor
    children: tuple["Node", ...] = ()
    members: frozenset[str] = frozenset()   # the children's names: anything else in a body is dropped
    reference: Reference | None = None


@dataclass(slots=True)
class Problem:
    path: str    # JSON path below the body, e.g. studentReference.studentUniqueId
    label: str   # .NET-style property name for 5.3 messages
    message: str


@dataclass(slots=True)
class Checked:
    """What validation found in a body: its key, the descriptors and references to resolve."""

    key: tuple
    descriptors: list[tuple[str, str, str]] = field(default_factory=list)   # (path, space, uri)
    references: list[tuple[Reference, tuple]] = field(default_factory=list)


@dataclass(eq=False)
class Resource:
    name: str                         # URL name, e.g. studentSchoolAssociations
    entity: str                       # e.g. StudentSchoolAssociation
    nodes: tuple[Node, ...]
    members: frozenset[str]
    key_paths: tuple[tuple[str, ...], ...]
    space: str
    key_change: bool
    read_only: bool
    is_descriptor: bool
    filters: dict[str, tuple[str, tuple[str, ...], str]]   # lower-case query name -> (name, path, kind)
    student_path: tuple[str, ...] | None
    edorg_paths: tuple[tuple[str, ...], ...]
    schema: dict                      # the JSON Schema (for the Swagger document)
    surrogate_id: str | None          # descriptors: e.g. gradeLevelDescriptorId, the ODS's integer DescriptorId

    def key_of(self, body: dict) -> tuple:
        key = []
        for path in self.key_paths:
            value = body
            for part in path:
                value = value[part]
            key.append(value)
        return tuple(key)

    def value_at(self, body: dict, path: tuple[str, ...]):
        value = body
        for part in path:
            if not isinstance(value, dict):
                return None
            value = value.get(part)
        return value

    def check(self, body: dict, resolve_descriptor) -> tuple[Checked | None, list[Problem]]:
        """Validate ``body`` in place (dates normalised); return its key and what it refers to."""
        problems: list[Problem] = []
        checked = Checked(key=())
        _check_object(self.nodes, self.members, body, "", problems, checked, resolve_descriptor)
        if problems:
            return None, problems
        checked.key = self.key_of(body)
        return checked, problems


def _check_object(nodes, members, obj: dict, prefix: str, problems, checked, resolve_descriptor) -> None:
    # Members the model does not have are ignored by the ODS's deserializer, so they are not kept.
    for unknown in obj.keys() - members:
        del obj[unknown]
    for node in nodes:
        value = obj.get(node.name)
        path = prefix + node.name
        if value is None or (value == "" and node.kind in ("string", "descriptor", "date")):
            if node.required:
                problems.append(Problem(path, node.label, f"The {node.label} field is required."))
            continue
        kind = node.kind
        if kind == "string" or kind == "descriptor":
            if not isinstance(value, str):
                problems.append(Problem(path, node.label, f"Error converting value {json.dumps(value)} to type 'String'. Path '{path}'."))
                continue
            # .NET strings (and nvarchar) count UTF-16 code units: an emoji takes two.
            if node.max_length is not None and len(value.encode("utf-16-le")) // 2 > node.max_length:
                problems.append(Problem(path, node.label,
                                        f"The field {node.label} must be a string with a maximum length of {node.max_length}."))
                continue
            if kind == "descriptor":
                checked.descriptors.append((path, node.descriptor, value))
        elif kind == "integer":
            if not isinstance(value, int) or isinstance(value, bool) or not -2**31 <= value < 2**31:
                problems.append(Problem(path, node.label, f"Error converting value {json.dumps(value)} to type 'System.Int32'. Path '{path}'."))
        elif kind == "number":
            if not isinstance(value, (int, float)) or isinstance(value, bool):
                problems.append(Problem(path, node.label, f"Error converting value {json.dumps(value)} to type 'System.Decimal'. Path '{path}'."))
        elif kind == "boolean":
            if not isinstance(value, bool):
                problems.append(Problem(path, node.label, f"Error converting value {json.dumps(value)} to type 'System.Boolean'. Path '{path}'."))
        elif kind == "date":
            if not isinstance(value, str) or not _DATE.match(value) or not _valid_date(value[:10]):
                problems.append(Problem(path, node.label, f"Error converting value {json.dumps(value)} to type 'System.DateTime'. Path '{path}'."))
            elif len(value) > 10:
                obj[node.name] = value[:10]
        elif kind == "object":
            if not isinstance(value, dict):
                problems.append(Problem(path, node.label, f"Error converting value {json.dumps(value)} to type '{node.label}'. Path '{path}'."))
                continue
            if not node.children:   # typed only as `object` in the schemas: kept as sent
                _untyped_descriptors(value, path + ".", checked, resolve_descriptor)
                continue
            before = len(problems)
            _check_object(node.children, node.members, value, path + ".", problems, checked, resolve_descriptor)
            if node.reference is not None and len(problems) == before:
                ref = node.reference
                checked.references.append((ref, tuple(value[leaf] for leaf in ref.leaves)))
        elif kind == "array":
            if not isinstance(value, list):
                problems.append(Problem(path, node.label, f"Error converting value {json.dumps(value)} to type 'List`1'. Path '{path}'."))
                continue
            if len(value) < node.min_items:
                problems.append(Problem(path, node.label, f"{node.label} must have at least {node.min_items} item(s)."))
                continue
            for index, item in enumerate(value):
                item_path = f"{path}[{index}]"
                if not isinstance(item, dict):
                    problems.append(Problem(item_path, node.label, f"Error converting value {json.dumps(item)} to an object. Path '{item_path}'."))
                elif node.children:
                    _check_object(node.children, node.members, item, item_path + ".", problems, checked,
                                  resolve_descriptor)
                else:
                    _untyped_descriptors(item, item_path + ".", checked, resolve_descriptor)


def _untyped_descriptors(obj: dict, prefix: str, checked: Checked, resolve_descriptor) -> None:
    """Collections the schemas type only as `array` still hold descriptors: resolve them too, as the ODS does."""
    for name, value in obj.items():
        if isinstance(value, str) and name.endswith("Descriptor"):
            checked.descriptors.append((prefix + name, resolve_descriptor(name), value))
        elif isinstance(value, dict):
            _untyped_descriptors(value, f"{prefix}{name}.", checked, resolve_descriptor)
        elif isinstance(value, list):
            for index, item in enumerate(value):
                if isinstance(item, dict):
                    _untyped_descriptors(item, f"{prefix}{name}[{index}].", checked, resolve_descriptor)


def _valid_date(text: str) -> bool:
    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return True


@dataclass
class Contract:
    resources: dict[str, Resource]
    descriptor_names: dict[str, str]   # DescriptorName -> resource name
    dependencies: list[dict]
    default_descriptors: list[dict]    # rows in the --descriptors file format

    def descriptor_space(self, property_name: str) -> str:
        """The descriptor resource a property such as ``entryGradeLevelDescriptor`` refers to."""
        return _descriptor_space(property_name, tuple(sorted(self.descriptor_names)))


@cache
def _descriptor_space(property_name: str, known: tuple[str, ...]) -> str:
    full = pascal(property_name)
    # Role-named properties (entryGradeLevelDescriptor) end with the descriptor's name: take the longest match.
    matches = [name for name in known if full.endswith(name)]
    return camel(plural(max(matches, key=len) if matches else full))


def _read_json(name: str):
    return json.loads((EDFI_DIR / name).read_text(encoding="utf-8"))


def load_contract(extra_descriptor_names: tuple[str, ...] = ()) -> Contract:
    """Compile the contract; ``extra_descriptor_names`` adds descriptor resources named by --descriptors files."""
    return _load_contract(tuple(sorted(set(extra_descriptor_names))))


@cache
def _load_contract(extra_descriptor_names: tuple[str, ...]) -> Contract:
    schemas = {path.stem: json.loads(path.read_text(encoding="utf-8"))
               for path in sorted((EDFI_DIR / "schemas").glob("*.json"))}
    descriptor_schema = schemas.pop("descriptors")
    defaults = _read_json("descriptors.json")
    dependencies = _read_json("dependencies.json")

    # Descriptor names: the DS defaults, every descriptor resource of the official dependency list
    # (so role-named properties like birthCountryDescriptor resolve to CountryDescriptor), and extras.
    known = {name for name in defaults if not name.startswith("_")}
    known |= {pascal(singular(entry["resource"].rsplit("/", 1)[-1]))
              for entry in dependencies if entry["resource"].endswith("Descriptors")}
    known |= set(extra_descriptor_names)
    known_sorted = tuple(sorted(known))

    # Served descriptor resources: the defaults, the extras, and those the served schemas use.
    served_descriptors = {name for name in defaults if not name.startswith("_")} | set(extra_descriptor_names)
    for schema in schemas.values():
        for prop in _descriptor_properties(schema):
            served_descriptors.add(pascal(singular(_descriptor_space(prop, known_sorted))))

    entities = {pascal(singular(name)): name for name in schemas}
    entities[pascal(singular(EDORG_SPACE))] = EDORG_SPACE

    resources: dict[str, Resource] = {}
    for name, schema in schemas.items():
        resources[name] = _compile(name, schema, entities, schemas, known_sorted, is_descriptor=False)
    for descriptor in sorted(served_descriptors):
        name = camel(plural(descriptor))
        resources[name] = _compile(name, descriptor_schema, entities, schemas, known_sorted, is_descriptor=True)

    default_rows = [
        {"descriptor": name, "namespace": data["namespace"], "codeValue": value["codeValue"],
         "shortDescription": value["shortDescription"], "description": value.get("description")}
        for name, data in defaults.items() if not name.startswith("_")
        for value in data["values"]
    ]
    default_rows += _read_json("descriptors-nm.json")
    served = {f"/ed-fi/{name}" for name in resources}
    return Contract(
        resources=resources,
        descriptor_names={pascal(singular(r.name)): r.name for r in resources.values() if r.is_descriptor},
        dependencies=[entry for entry in dependencies if entry["resource"] in served],
        default_descriptors=default_rows,
    )


def _descriptor_properties(schema: dict):
    for prop, spec in schema.get("properties", {}).items():
        if prop.endswith("Descriptor") and spec.get("type") == "string":
            yield prop
        elif spec.get("type") == "object":
            yield from _descriptor_properties(spec)
        elif spec.get("type") == "array":
            yield from _descriptor_properties(spec.get("items") or {})


def _compile(name: str, schema: dict, entities: dict, schemas: dict, known: tuple, *, is_descriptor: bool) -> Resource:
    key_paths = tuple(tuple(path.split(".")) for path in schema["x-naturalKey"])
    notes = schema.get("x-notes", "")
    nodes = _nodes(schema, entities, schemas, known)
    filters: dict[str, tuple[str, tuple[str, ...], str]] = {}
    for node in nodes:
        if node.kind not in ("object", "array"):
            filters[node.name.lower()] = (node.name, (node.name,), node.kind)
    for node in nodes:
        if node.reference is None:
            continue
        role = node.name[: -len("Reference")]
        for child in node.children:
            query = child.name if child.name.lower() not in filters else role + pascal(child.name)
            filters.setdefault(query.lower(), (query, (node.name, child.name), child.kind))
    student = next((p for p in key_paths if p[-1] == STUDENT_ID_FIELD), None)
    edorgs = tuple(p for p in key_paths if p[-1] in EDORG_ID_FIELDS)
    return Resource(
        name=name,
        entity=pascal(singular(name)),
        nodes=nodes,
        members=frozenset(node.name for node in nodes),
        key_paths=key_paths,
        space=BASE_CLASS.get(name, name),
        key_change="no key change" not in notes and "allowed" in notes,
        read_only="read-only" in notes,
        is_descriptor=is_descriptor,
        filters=filters,
        student_path=student,
        edorg_paths=edorgs,
        schema=schema,
        surrogate_id=camel(singular(name)) + "Id" if is_descriptor else None,
    )


def _nodes(schema: dict, entities: dict, schemas: dict, known: tuple) -> tuple[Node, ...]:
    required = set(schema.get("required", ()))
    nodes = []
    for prop, spec in schema.get("properties", {}).items():
        if spec.get("readOnly"):
            continue
        nodes.append(_node(prop, spec, prop in required, entities, schemas, known))
    return tuple(nodes)


def _node(prop: str, spec: dict, required: bool, entities, schemas, known) -> Node:
    kind = spec.get("type", "any")
    label = pascal(prop)
    if kind == "string" and prop.endswith("Descriptor"):
        return Node(prop, label, "descriptor", required, spec.get("maxLength"),
                    descriptor=_descriptor_space(prop, known))
    if kind == "string" and spec.get("format") == "date":
        return Node(prop, label, "date", required)
    if kind == "object":
        children = _nodes(spec, entities, schemas, known)
        reference = _reference(prop, spec, entities, schemas) if prop.endswith("Reference") and children else None
        return Node(prop, label, "object", required, children=children, reference=reference,
                    members=frozenset(child.name for child in children))
    if kind == "array":
        items = spec.get("items") or {}
        children = _nodes(items, entities, schemas, known) if items.get("properties") else ()
        return Node(prop, label, "array", required, min_items=spec.get("minItems", 0), children=children,
                    members=frozenset(child.name for child in children))
    return Node(prop, label, kind, required, spec.get("maxLength"))


def _reference(prop: str, spec: dict, entities: dict, schemas: dict) -> Reference | None:
    base = pascal(prop[: -len("Reference")])
    # Role names (parentLocalEducationAgency, classOfSchoolYearType) end with the entity's name.
    matches = [entity for entity in entities if base.endswith(entity)]
    if not matches:
        return None   # e.g. stateEducationAgencyReference: the sandbox does not serve that resource
    entity = max(matches, key=len)
    target = entities[entity]
    properties = tuple(spec.get("properties", {}))
    if target == EDORG_SPACE or BASE_CLASS.get(target) == EDORG_SPACE:
        leaves = properties[:1]
        space = EDORG_SPACE
    else:
        leaves = tuple(path.rsplit(".", 1)[-1] for path in schemas[target]["x-naturalKey"])
        space = BASE_CLASS.get(target, target)
        missing = set(leaves) - set(properties)
        if missing:
            raise ValueError(f"{prop} lacks key fields {sorted(missing)} of {target}")
    return Reference(field=prop, label=base, space=space, target_entity=entity, leaves=leaves)
