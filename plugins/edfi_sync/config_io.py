"""``edfi-sync config``: Resource Preferences, connections and toggles from/to YAML or CSV (SPEC §4, §6).

A file is validated completely before anything is written, and written in one transaction.
:func:`pending_mapping_changes` lists the mapping edits that wait for a resync (SPEC §5); the
Airflow UI calls it too.

YAML layout (``show`` prints the same)::

    years:
      2025:
        connection: {conn_id: edfi_api, enabled: true}
        toggles: {courses: false}
        mappings:
          programs:
            program_type:
              "101": "uri://ed-fi.org/ProgramTypeDescriptor#Career and Technical Education"

CSV: one row per value, columns ``kind,end_year,resource,field,sis_value,namespace,code_value``.
``kind`` is ``mapping`` (the default, and the column may be left out), ``connection``
(``field`` = ``conn_id`` or ``enabled``, the value in ``sis_value``) or ``toggle``
(``resource``, ``field`` = ``enabled``, the value in ``sis_value``).
"""

from __future__ import annotations

import argparse
import csv
import difflib
import io
import re
import sys
import unicodedata
from dataclasses import asdict, dataclass, field
from pathlib import Path

import psycopg
import yaml

from . import db
from .paths import read_sql
from .resources import GRAPH

# Toggles name the registry's resources, in load order.
SYNC_RESOURCES = tuple(GRAPH.post_order())
# SPEC §4 field vocabulary: the resource that owns each mapping field (plus `sessions`, which owns terms).
MAPPING_FIELDS = {
    "localEducationAgencies": ("category",),
    "studentSchoolAssociations": ("grade_level", "exit_withdraw_type"),
    "sessions": ("term",),
    "programs": ("program_type",),
    "studentCTEProgramAssociations": ("technical_skills_assessment", "career_pathway"),
    "studentTitleIPartAProgramAssociations": ("participant",),
    "studentSchoolFoodServiceProgramAssociations": ("eligibility",),
    "studentAcademicRecords": ("diploma_type", "achievement_category", "transcript_term_override"),
    "courseTranscripts": ("course_attempt_result",),
}
PROGRAM_AREAS = ("title1", "lep", "migrant", "homeless", "fram", "sped")
# Fields whose SIS values form a closed list (SPEC §4); the others hold SIS codes.
_CLOSED_VALUES = {
    ("studentCTEProgramAssociations", "technical_skills_assessment"): ("passed", "attempted", "not_attempted"),
    ("studentAcademicRecords", "transcript_term_override"): ("*",),
    ("courseTranscripts", "course_attempt_result"): ("pass", "fail"),
    ("localEducationAgencies", "category"): ("*",),
    ("studentTitleIPartAProgramAssociations", "participant"): ("*",),
    ("studentSchoolFoodServiceProgramAssociations", "eligibility"): ("F", "R"),
}
CODE_VALUE_MAX = 50  # Ed-Fi descriptor codeValue is a string(50)
NAMESPACE_MAX = 255  # and its namespace a string(255)
CSV_COLUMNS = ("kind", "end_year", "resource", "field", "sis_value", "namespace", "code_value")
_CSV_KINDS = ("mapping", "connection", "toggle")
_YEAR_KEYS = ("connection", "toggles", "mappings")
_EXAMPLE_DESCRIPTOR = "uri://ed-fi.org/ProgramTypeDescriptor#Career and Technical Education"


class ConfigError(Exception):
    """Problems found in a configuration file or request; nothing was written."""

    def __init__(self, problems: list[str]):
        super().__init__(f"{len(problems)} problem(s)")
        self.problems = problems


@dataclass(frozen=True)
class Mapping:
    resource: str
    field: str
    sis_value: str
    namespace: str | None
    code_value: str | None

    @property
    def key(self) -> tuple[str, str, str]:
        return self.resource, self.field, self.sis_value

    @property
    def descriptor(self) -> str:
        return f"{self.namespace}#{self.code_value}"


@dataclass(frozen=True)
class Connection:
    conn_id: str = "edfi_api"
    enabled: bool = True


@dataclass
class YearConfig:
    connection: Connection | None = None
    toggles: dict[str, bool] = field(default_factory=dict)
    mappings: dict[tuple[str, str, str], Mapping] = field(default_factory=dict)
    lines: dict[tuple[str, str, str], int | None] = field(default_factory=dict, repr=False, compare=False)
    # --replace touches only years whose file section speaks about mappings (a `mappings:` key,
    # even empty, or a CSV mapping row): a toggles-only file must not wipe a year's mappings.
    mappings_given: bool = field(default=False, compare=False)

    def is_empty(self) -> bool:
        return self.connection is None and not self.toggles and not self.mappings


@dataclass(frozen=True)
class PendingChange:
    """One mapping row that differs from its owning resource's resync snapshot."""

    end_year: int
    resource: str
    field: str
    sis_value: str
    change: str  # added | removed | changed
    old: str | None  # namespace#code_value in the snapshot
    new: str | None  # namespace#code_value now


class _Problems:
    """Collects every problem with where it is and how to fix it."""

    def __init__(self, source: str):
        self.source = source
        self.items: list[str] = []

    def add(self, line: int | None, where: str, message: str, fix: str) -> None:
        place = f"line {line}" if line else self.source
        self.items.append(f"{place}, {where}: {message}. Fix: {fix}")


# ---------------------------------------------------------------- validation shared by YAML and CSV

def _suggest(value: str, choices) -> str:
    close = difflib.get_close_matches(value, list(choices), n=1, cutoff=0.6)
    listed = ", ".join(choices)
    return f"did you mean '{close[0]}'? (one of: {listed})" if close else f"use one of: {listed}"


def _parse_year(text: str, line: int | None, where: str, problems: _Problems) -> int | None:
    if not re.fullmatch(r"\d+", text.strip()):
        problems.add(line, where, f"school year '{text}' is not an integer",
                     "use the end year of the school year, e.g. 2025 for 2024-25")
        return None
    year = int(text)
    if not 1900 < year < 2200:
        problems.add(line, where, f"school year {year} is not a four-digit end year",
                     "use the end year of the school year, e.g. 2025 for 2024-25")
        return None
    return year


def _check_field(resource: str, field_: str, line: int | None, where: str, problems: _Problems) -> bool:
    """Is (resource, field) in the SPEC §4 vocabulary?"""
    if resource not in MAPPING_FIELDS:
        problems.add(line, where, f"unknown resource '{resource}' for a mapping", _suggest(resource, MAPPING_FIELDS))
        return False
    if field_ not in MAPPING_FIELDS[resource]:
        problems.add(line, where, f"'{field_}' is not a mapping field of {resource}",
                     _suggest(field_, MAPPING_FIELDS[resource]))
        return False
    return True


def _check_text(what: str, value: str, line: int | None, where: str, problems: _Problems) -> bool:
    """No control characters (NUL, line breaks, ...): PostgreSQL refuses NUL, and no SIS code or
    descriptor holds the others; they come from copying out of another program."""
    bad = sorted({f"U+{ord(c):04X}" for c in value if unicodedata.category(c) == "Cc"})
    if bad:
        problems.add(line, where, f"the {what} holds control character(s) {', '.join(bad)}",
                     "retype the value (control characters often come along when copying from another program)")
    return not bad


def _check_sis_value(resource: str, field_: str, sis_value: str, line: int | None, where: str,
                     problems: _Problems) -> bool:
    closed = _CLOSED_VALUES.get((resource, field_))
    if not _check_text("SIS value", sis_value, line, where, problems):
        return False
    if not sis_value:
        problems.add(line, where, "the SIS value is empty", "give the SIS code this descriptor maps")
    elif closed and sis_value not in closed:
        problems.add(line, where, f"'{sis_value}' is not a SIS value of {resource}.{field_}",
                     _suggest(sis_value, closed))
    elif field_ == "program_type" and not (sis_value.isdigit() or sis_value in PROGRAM_AREAS):
        problems.add(line, where, f"'{sis_value}' is neither a program_id nor a program area",
                     f"use a program.program_id (digits) or one of: {', '.join(PROGRAM_AREAS)}")
    elif field_ == "career_pathway" and not sis_value.isdigit():
        problems.add(line, where, f"'{sis_value}' is not a CTE program_id", "use a program.program_id (digits)")
    else:
        return True
    return False


def _check_descriptor(namespace: str, code_value: str, line: int | None, where: str, problems: _Problems) -> bool:
    ok = _check_text("namespace", namespace, line, where, problems) & _check_text(
        "codeValue", code_value, line, where, problems)
    if not namespace.startswith("uri://"):
        problems.add(line, where, f"namespace '{namespace}' does not start with uri://",
                     "write the descriptor's namespace, e.g. uri://ed-fi.org/GradeLevelDescriptor")
        ok = False
    elif len(namespace) > NAMESPACE_MAX:
        problems.add(line, where, f"namespace '{namespace[:30]}...' has {len(namespace)} characters "
                     f"(Ed-Fi allows {NAMESPACE_MAX})", "check that the namespace is the descriptor's, not its description")
        ok = False
    if not code_value:
        problems.add(line, where, "the descriptor has no codeValue",
                     "give the codeValue (after the '#' in YAML, in the code_value column in CSV)")
        ok = False
    elif len(code_value) > CODE_VALUE_MAX:
        problems.add(line, where, f"codeValue '{code_value[:20]}...' has {len(code_value)} characters "
                     f"(Ed-Fi allows {CODE_VALUE_MAX})", "use the descriptor's codeValue, not its description")
        ok = False
    return ok


def _split_descriptor(text: str, line: int | None, where: str, problems: _Problems) -> tuple[str, str] | None:
    namespace, sep, code_value = text.rpartition("#")
    if not sep:
        problems.add(line, where, f"descriptor '{text}' has no '#'",
                     f"write namespace#codeValue, e.g. {_EXAMPLE_DESCRIPTOR}")
        return None
    return namespace, code_value


def _check_conn_id(conn_id: str, line: int | None, where: str, problems: _Problems) -> bool:
    if re.fullmatch(r"[\w.-]+", conn_id):
        return True
    problems.add(line, where, f"'{conn_id}' is not a connection id",
                 "use an Airflow connection id such as edfi_api (letters, digits, _ . -)")
    return False


def _check_toggle(resource: str, line: int | None, where: str, problems: _Problems) -> bool:
    if resource in SYNC_RESOURCES:
        return True
    problems.add(line, where, f"unknown resource '{resource}' for a toggle", _suggest(resource, SYNC_RESOURCES))
    return False


def _add_mapping(config: YearConfig, mapping: Mapping, line: int | None, where: str, problems: _Problems) -> None:
    if mapping.key in config.mappings:
        problems.add(line, where, f"mapping defined twice (first on line {config.lines[mapping.key]})",
                     "keep one of the two rows")
        return
    config.mappings[mapping.key] = mapping
    config.lines[mapping.key] = line


# ---------------------------------------------------------------- YAML

class _Yaml:
    """Walks the composed YAML nodes so every key keeps its line and its text as written
    (unquoted 07 would load as the integer 7; the SIS grade is the text '07')."""

    def __init__(self, text: str, problems: _Problems):
        self.text = text
        self.loader: yaml.SafeLoader | None = None
        self.problems = problems

    def root(self):
        try:  # the reader refuses some characters (NUL) as soon as it is made
            self.loader = yaml.SafeLoader(self.text)
            return self.loader.get_single_node()
        except yaml.reader.ReaderError as exc:
            self.problems.add(self.text[:exc.position].count("\n") + 1, "file",
                              f"the file holds control character U+{exc.character:04X}",
                              "retype that line (control characters often come along when copying from another "
                              "program)")
            return None
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            self.problems.add(mark.line + 1 if mark else None, "file", f"not valid YAML ({exc.problem or exc})",
                              "check indentation and quoting near that line")
            return None

    @staticmethod
    def line(node) -> int:
        return node.start_mark.line + 1

    def items(self, node, where: str) -> list[tuple[str, int, object]]:
        """(key text, line, value node) of a mapping node; an empty value is an empty mapping."""
        if node is None or (isinstance(node, yaml.ScalarNode) and node.tag == "tag:yaml.org,2002:null"):
            return []
        if not isinstance(node, yaml.MappingNode):
            self.problems.add(self.line(node), where, "expected 'key: value' entries here",
                              "indent the entries under this key")
            return []
        out, seen = [], {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                self.problems.add(self.line(key_node), where, "a key must be plain text", "write the key as text")
                continue
            key, line = key_node.value, self.line(key_node)
            if key in seen:
                self.problems.add(line, f"{where} > {key}", f"key defined twice (first on line {seen[key]})",
                                  "keep one of the two")
                continue
            seen[key] = line
            out.append((key, line, value_node))
        return out

    def scalar(self, node, where: str) -> str | None:
        if isinstance(node, yaml.ScalarNode) and node.tag != "tag:yaml.org,2002:null":
            return node.value
        self.problems.add(self.line(node), where, "expected a single value here", "write one value after the ':'")
        return None

    def boolean(self, node, where: str) -> bool | None:
        value = self.loader.construct_object(node) if isinstance(node, yaml.ScalarNode) else None
        if isinstance(value, bool):
            return value
        self.problems.add(self.line(node), where, "expected true or false", "write true or false")
        return None


def _parse_yaml(text: str, problems: _Problems) -> dict[int, YearConfig]:
    doc = _Yaml(text, problems)
    root = doc.root()
    years: dict[int, YearConfig] = {}
    if root is None:
        if not problems.items:
            problems.add(None, "file", "the file is empty", "start it with 'years:' (see examples/config.yaml)")
        return years
    top = doc.items(root, "file")
    if not any(key == "years" for key, _, _ in top) and not problems.items:
        problems.add(doc.line(root), "file", "no 'years:' key", "put everything under 'years:' (see examples/config.yaml)")
    for key, line, node in top:
        if key != "years":
            problems.add(line, key, f"unknown key '{key}'", "the file holds one key, 'years'")
            continue
        for year_text, year_line, year_node in doc.items(node, "years"):
            year = _parse_year(year_text, year_line, f"years > {year_text}", problems)
            if year is None:
                continue
            config = years.setdefault(year, YearConfig())
            for part, part_line, part_node in doc.items(year_node, str(year)):
                where = f"{year} > {part}"
                if part == "connection":
                    config.connection = _yaml_connection(doc, part_node, where)
                elif part == "toggles":
                    for resource, t_line, t_node in doc.items(part_node, where):
                        enabled = doc.boolean(t_node, f"{where} > {resource}")
                        if _check_toggle(resource, t_line, f"{where} > {resource}", problems) and enabled is not None:
                            config.toggles[resource] = enabled
                elif part == "mappings":
                    config.mappings_given = True
                    _yaml_mappings(doc, part_node, where, config)
                else:
                    problems.add(part_line, where, f"unknown key '{part}'", f"use one of: {', '.join(_YEAR_KEYS)}")
    return years


def _yaml_connection(doc: _Yaml, node, where: str) -> Connection | None:
    if isinstance(node, yaml.ScalarNode) and node.tag != "tag:yaml.org,2002:null":  # `connection: edfi_api`
        return Connection(conn_id=node.value) if _check_conn_id(node.value, doc.line(node), where, doc.problems) else None
    values: dict = {}
    for key, line, value_node in doc.items(node, where):
        if key == "conn_id":
            values[key] = doc.scalar(value_node, f"{where} > conn_id")
            if values[key] is not None and not _check_conn_id(values[key], line, f"{where} > conn_id", doc.problems):
                values[key] = None
        elif key == "enabled":
            values[key] = doc.boolean(value_node, f"{where} > enabled")
        else:
            doc.problems.add(line, where, f"unknown key '{key}'", "a connection has conn_id and enabled")
    if any(value is None for value in values.values()):
        return None
    return Connection(**values)


def _yaml_mappings(doc: _Yaml, node, where: str, config: YearConfig) -> None:
    for resource, r_line, r_node in doc.items(node, where):
        if resource not in MAPPING_FIELDS:  # reported once, not for every value under it
            _check_field(resource, "", r_line, f"{where} > {resource}", doc.problems)
            continue
        for field_, f_line, f_node in doc.items(r_node, f"{where} > {resource}"):
            if not _check_field(resource, field_, f_line, f"{where} > {resource} > {field_}", doc.problems):
                continue
            for sis_value, line, value_node in doc.items(f_node, f"{where} > {resource} > {field_}"):
                here = f"{where} > {resource} > {field_} > {sis_value}"
                text = doc.scalar(value_node, here)
                parts = _split_descriptor(text, line, here, doc.problems) if text is not None else None
                valid = _check_sis_value(resource, field_, sis_value, line, here, doc.problems)
                if parts and _check_descriptor(*parts, line, here, doc.problems) and valid:
                    _add_mapping(config, Mapping(resource, field_, sis_value, *parts), line, here, doc.problems)


# ---------------------------------------------------------------- CSV

_TRUE, _FALSE = {"true", "yes", "on", "1", "y", "t"}, {"false", "no", "off", "0", "n", "f"}


def _csv_bool(text: str, line: int, where: str, problems: _Problems) -> bool | None:
    if text.strip().lower() in _TRUE | _FALSE:
        return text.strip().lower() in _TRUE
    problems.add(line, where, f"'{text}' is not true or false", "write true or false in sis_value")
    return None


def _parse_csv(text: str, problems: _Problems) -> dict[int, YearConfig]:
    reader = csv.DictReader(io.StringIO(text))
    header = reader.fieldnames or []
    fix = f"use the header {','.join(CSV_COLUMNS)} (kind may be left out)"
    unknown = [name for name in header if name not in CSV_COLUMNS]
    missing = [name for name in CSV_COLUMNS[1:] if name not in header]
    if unknown:
        problems.add(1, "header", f"unknown column(s) {', '.join(unknown)}", fix)
    if missing:
        problems.add(1, "header", f"missing column(s) {', '.join(missing)}", fix)
    if unknown or missing:
        return {}
    years: dict[int, YearConfig] = {}
    connections: dict[int, dict] = {}
    for row in reader:
        line = reader.line_num
        cell = {name: (row.get(name) or "").strip() for name in CSV_COLUMNS}
        if not any(cell.values()):
            continue
        kind = cell["kind"] or "mapping"
        where = " ".join(filter(None, (kind, cell["resource"], cell["field"], cell["sis_value"])))
        year = _parse_year(cell["end_year"], line, where, problems)
        if kind not in _CSV_KINDS:
            problems.add(line, "kind", f"unknown kind '{kind}'", _suggest(kind, _CSV_KINDS))
            continue
        if year is None:
            continue
        config = years.setdefault(year, YearConfig())
        if kind == "mapping":
            config.mappings_given = True
            resource, field_, sis_value = cell["resource"], cell["field"], cell["sis_value"]
            valid = (_check_field(resource, field_, line, where, problems)
                     and _check_sis_value(resource, field_, sis_value, line, where, problems))
            if _check_descriptor(cell["namespace"], cell["code_value"], line, where, problems) and valid:
                _add_mapping(config, Mapping(resource, field_, sis_value, cell["namespace"], cell["code_value"]),
                             line, where, problems)
        elif kind == "toggle":
            if cell["field"] not in ("", "enabled"):
                problems.add(line, where, f"a toggle has no field '{cell['field']}'", "write enabled in field")
                continue
            enabled = _csv_bool(cell["sis_value"], line, where, problems)
            if _check_toggle(cell["resource"], line, where, problems) and enabled is not None:
                config.toggles[cell["resource"]] = enabled
        elif cell["field"] == "conn_id":
            if _check_conn_id(cell["sis_value"], line, where, problems):
                connections.setdefault(year, {})["conn_id"] = cell["sis_value"]
        elif cell["field"] == "enabled":
            enabled = _csv_bool(cell["sis_value"], line, where, problems)
            if enabled is not None:
                connections.setdefault(year, {})["enabled"] = enabled
        else:
            problems.add(line, where, "a connection row needs field conn_id (a connection id in sis_value) "
                         "or enabled (true/false in sis_value)", "write conn_id or enabled in field")
    for year, values in connections.items():
        years[year].connection = Connection(**values)
    return years


# ---------------------------------------------------------------- files

def load_file(path: str | Path) -> dict[int, YearConfig]:
    """Parse and validate a YAML or CSV file; raises ConfigError listing every problem."""
    path = Path(path)
    problems = _Problems(str(path))
    suffix = path.suffix.lower()
    if suffix not in (".yaml", ".yml", ".csv"):
        raise ConfigError([f"{path}: unknown file type '{suffix}'. Fix: name the file .yaml, .yml or .csv"])
    try:
        text = path.read_text(encoding="utf-8-sig")  # -sig: spreadsheets save CSV with a BOM
    except OSError as exc:
        raise ConfigError([f"{path}: cannot read the file ({exc.strerror}). Fix: check the path"]) from None
    except UnicodeDecodeError as exc:
        line = path.read_bytes()[:exc.start].count(b"\n") + 1
        raise ConfigError([f"line {line}, file: not UTF-8 text (byte 0x{exc.object[exc.start]:02x}). Fix: save "
                           f"the file as UTF-8 (in Excel: CSV UTF-8)"]) from None
    years = _parse_csv(text, problems) if suffix == ".csv" else _parse_yaml(text, problems)
    if problems.items:
        raise ConfigError(problems.items)
    return years


def _natural(value: str):
    return (0, int(value), "") if value.isdigit() else (1, 0, value)


def _order(vocabulary):
    """Sort key: vocabulary order, then anything hand-inserted into the tables."""
    order = list(vocabulary)
    return lambda name: (order.index(name) if name in order else len(order), name)


def _sorted_mappings(config: YearConfig) -> list[Mapping]:
    return sorted(config.mappings.values(),
                  key=lambda m: (_order(MAPPING_FIELDS)(m.resource), _order(MAPPING_FIELDS.get(m.resource, ()))(m.field),
                                 _natural(m.sis_value)))


class _Flow(dict):
    """A mapping printed on one line ({conn_id: edfi_api, enabled: true})."""


class _Dumper(yaml.SafeDumper):
    pass


_Dumper.add_representer(_Flow, lambda d, data: d.represent_mapping("tag:yaml.org,2002:map", data, flow_style=True))
# Quote number-like SIS codes ("09", "101"): other YAML readers would turn them into numbers.
_Dumper.add_representer(str, lambda d, data: d.represent_scalar(
    "tag:yaml.org,2002:str", data, style='"' if re.fullmatch(r"[0-9.+-]+", data) else None))


def to_yaml(years: dict[int, YearConfig]) -> str:
    doc: dict = {}
    for year in sorted(years):
        config, out = years[year], {}
        if config.connection:
            out["connection"] = _Flow(conn_id=config.connection.conn_id, enabled=config.connection.enabled)
        if config.toggles:
            out["toggles"] = {r: config.toggles[r] for r in sorted(config.toggles, key=_order(SYNC_RESOURCES))}
        if config.mappings:
            mappings: dict = {}
            for m in _sorted_mappings(config):
                mappings.setdefault(m.resource, {}).setdefault(m.field, {})[m.sis_value] = m.descriptor
            out["mappings"] = mappings
        doc[year] = out
    return yaml.dump({"years": doc}, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=1000)


def to_csv(years: dict[int, YearConfig]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for year in sorted(years):
        config = years[year]
        if config.connection:
            writer.writerow(("connection", year, "", "conn_id", config.connection.conn_id, "", ""))
            writer.writerow(("connection", year, "", "enabled", str(config.connection.enabled).lower(), "", ""))
        for resource in sorted(config.toggles, key=_order(SYNC_RESOURCES)):
            writer.writerow(("toggle", year, resource, "enabled", str(config.toggles[resource]).lower(), "", ""))
        for m in _sorted_mappings(config):
            writer.writerow(("mapping", year, m.resource, m.field, m.sis_value, m.namespace or "", m.code_value or ""))
    return buffer.getvalue()


# ---------------------------------------------------------------- database

def read_config(conn: psycopg.Connection, end_year: int | None = None) -> dict[int, YearConfig]:
    """What the configuration tables hold, per year."""
    params = {"end_year": end_year}
    years: dict[int, YearConfig] = {}
    for year, conn_id, enabled in conn.execute(read_sql("config/read_connections.sql"), params):
        years.setdefault(year, YearConfig()).connection = Connection(conn_id, enabled)
    for year, resource, enabled in conn.execute(read_sql("config/read_toggles.sql"), params):
        years.setdefault(year, YearConfig()).toggles[resource] = enabled
    for year, *row in conn.execute(read_sql("config/read_mappings.sql"), params):
        mapping = Mapping(*row)
        years.setdefault(year, YearConfig()).mappings[mapping.key] = mapping
    return years


@dataclass
class YearImport:
    added: int = 0
    changed: int = 0
    unchanged: int = 0
    removed: int = 0
    toggles_written: int = 0
    connection: Connection | None = None


def write_config(conn: psycopg.Connection, years: dict[int, YearConfig], replace: bool = False) -> dict[int, YearImport]:
    """Upsert validated configuration (call inside a transaction). With ``replace`` the mapping rows
    the file does not hold are deleted, in each year whose section gives mappings."""
    current = read_config(conn)
    summary: dict[int, YearImport] = {}
    upserts, deletes, toggles, connections = [], [], [], []
    for year, config in years.items():
        before, result = current.get(year, YearConfig()), YearImport()
        for key, mapping in config.mappings.items():
            old = before.mappings.get(key)
            if old == mapping:
                result.unchanged += 1
                continue
            result.added += old is None
            result.changed += old is not None
            upserts.append({"end_year": year, **asdict(mapping)})
        if replace and config.mappings_given:
            for key in before.mappings.keys() - config.mappings.keys():
                deletes.append({"end_year": year, "resource": key[0], "field": key[1], "sis_value": key[2]})
                result.removed += 1
        for resource, enabled in config.toggles.items():
            if before.toggles.get(resource) != enabled:
                toggles.append({"end_year": year, "resource": resource, "enabled": enabled})
                result.toggles_written += 1
        if config.connection is not None:
            result.connection = config.connection
            connections.append({"end_year": year, **asdict(config.connection)})
        summary[year] = result
    with conn.cursor() as cur:
        for sql_file, rows in (("delete_mapping", deletes), ("upsert_mapping", upserts),
                               ("upsert_toggle", toggles), ("upsert_connection", connections)):
            if rows:
                cur.executemany(read_sql(f"config/{sql_file}.sql"), rows)
    return summary


def pending_mapping_changes(conn: psycopg.Connection, end_year: int | None = None) -> list[PendingChange]:
    """Mapping rows that differ from the snapshot of their owning resource (SPEC §5): they take
    effect at that resource's next resync. Resources without a snapshot have nothing waiting."""
    rows = conn.execute(read_sql("config/pending_mapping_changes.sql"), {"end_year": end_year}).fetchall()
    return [PendingChange(year, resource, field_, sis_value, change,
                          f"{old_ns}#{old_cv}" if change != "added" else None,
                          f"{new_ns}#{new_cv}" if change != "removed" else None)
            for year, resource, field_, sis_value, change, old_ns, old_cv, new_ns, new_cv in rows]


def format_pending(changes: list[PendingChange]) -> list[str]:
    """Plain-language lines, one heading per (year, resource)."""
    if not changes:
        return ["No mapping changes wait for a resync."]
    groups: dict[tuple[int, str], list[PendingChange]] = {}
    for change in changes:
        groups.setdefault((change.end_year, change.resource), []).append(change)
    lines = []
    for (year, resource), items in groups.items():
        noun = "change waits" if len(items) == 1 else "changes wait"
        lines.append(f"{year} {resource}: {len(items)} mapping {noun} for a resync of {resource}:")
        for c in items:
            what = {"added": f"added {c.new}", "removed": f"removed (was {c.old})",
                    "changed": f"{c.old} -> {c.new}"}[c.change]
            lines.append(f"  {c.field} {c.sis_value}: {what}")
    return lines


@dataclass(frozen=True)
class CopyCount:
    source_rows: int
    added: int
    replaced: int

    @property
    def kept(self) -> int:
        return self.source_rows - self.added - self.replaced


def copy_year(conn: psycopg.Connection, from_year: int, to_year: int, overwrite: bool = False) -> dict[str, CopyCount]:
    """Copy mappings, toggles and the connection row (call inside a transaction). Without
    ``overwrite`` rows the target year already has are kept; rows only the target has always stay."""
    if from_year == to_year:
        raise ConfigError([f"copy-year {from_year} {to_year}: the years are the same. Fix: name two different years"])
    if read_config(conn, from_year).get(from_year, YearConfig()).is_empty():
        raise ConfigError([f"copy-year: {from_year} has no mappings, toggles or connection to copy. "
                           f"Fix: check the year (edfi-sync config show) or import its configuration first"])
    params = {"from_year": from_year, "to_year": to_year, "overwrite": overwrite}
    return {what: CopyCount(*conn.execute(read_sql(f"config/copy_{table}.sql"), params).fetchone())
            for what, table in (("mappings", "mappings"), ("toggles", "toggles"), ("connection", "connection"))}


# ---------------------------------------------------------------- CLI handlers

def _fail(problems: list[str], heading: str) -> int:
    print(heading, file=sys.stderr)
    for problem in problems:
        print(f"  {problem}", file=sys.stderr)
    return 1


def _database_missing(exc: psycopg.errors.UndefinedTable) -> int:
    return _fail([f"{exc.diag.message_primary}. Fix: run `edfi-sync db init` first"], "the database has no schema:")


def cli_import(args: argparse.Namespace) -> int:
    try:
        years = load_file(args.file)
    except ConfigError as exc:
        return _fail(exc.problems, f"{args.file}: {len(exc.problems)} problem(s), nothing was written:")
    conninfo = db.sis_conninfo()
    try:
        with db.connect(conninfo) as conn:
            with conn.transaction():
                summary = write_config(conn, years, replace=args.replace)
            pending = pending_mapping_changes(conn)
    except psycopg.errors.UndefinedTable as exc:
        return _database_missing(exc)
    print(f"imported {args.file} into {db.describe(conninfo)}" + (" (--replace)" if args.replace else ""))
    for year in sorted(summary):
        s = summary[year]
        parts = [f"mappings {s.added} new, {s.changed} changed, {s.unchanged} unchanged"
                 + (f", {s.removed} removed" if args.replace and years[year].mappings_given else ""),
                 f"toggles {len(years[year].toggles)} ({s.toggles_written} written)"]
        if s.connection:
            parts.append(f"connection {s.connection.conn_id} ({'enabled' if s.connection.enabled else 'disabled'})")
        print(f"  {year}: " + "; ".join(parts))
    if pending:
        print("\n".join(format_pending(pending)))
    return 0


def cli_show(args: argparse.Namespace) -> int:
    try:
        with db.connect() as conn:
            years = read_config(conn, args.school_year)
            pending = format_pending(pending_mapping_changes(conn, args.school_year))
    except psycopg.errors.UndefinedTable as exc:
        return _database_missing(exc)
    if args.format == "csv":
        sys.stdout.write(to_csv(years))
        # CSV has no comments: the resync listing goes to stderr so stdout re-imports as is.
        print("\n".join(pending), file=sys.stderr)
        return 0
    scope = f"school year {args.school_year}" if args.school_year else "all school years"
    print(f"# edfi-sync configuration, {scope}. Re-import with: edfi-sync config import FILE")
    if not years:
        print(f"# nothing is configured for {scope}")
    sys.stdout.write(to_yaml(years))
    print("\n".join(f"# {line}" for line in pending))
    return 0


def cli_copy_year(args: argparse.Namespace) -> int:
    try:
        with db.connect() as conn:
            with conn.transaction():
                counts = copy_year(conn, args.from_year, args.to_year, overwrite=args.overwrite)
            pending = pending_mapping_changes(conn, args.to_year)
            connection = read_config(conn, args.to_year).get(args.to_year, YearConfig()).connection
    except ConfigError as exc:
        return _fail(exc.problems, "nothing was copied:")
    except psycopg.errors.UndefinedTable as exc:
        return _database_missing(exc)
    print(f"copied {args.from_year} -> {args.to_year}" + (" (--overwrite)" if args.overwrite else ""))
    for what, c in counts.items():
        kept = f", {c.kept} kept as {args.to_year} had them" if c.kept else ""
        replaced = f", {c.replaced} replaced" if c.replaced else ""
        print(f"  {what}: {c.added} copied{replaced}{kept} (of {c.source_rows})")
    if any(c.kept for c in counts.values()):
        print(f"  use --overwrite to replace the rows {args.to_year} already had")
    if connection:
        print(f"  {args.to_year} is served by connection {connection.conn_id} "
              f"({'enabled' if connection.enabled else 'disabled'}); check it points at the {args.to_year} ODS")
    if pending:
        print("\n".join(format_pending(pending)))
    return 0
