"""The bad-input corpus (issue 22, docs/reliability.md): every bad SIS record becomes one clear error
row, nothing crashes, nothing is sent for it, and every other record still syncs.

The corpus is tests/fixtures/bad_input.sql on top of the engine tests' fixtures (sync_small,
programs_small, program_areas_small, academic_records: their good records must all still arrive). It
is loaded and synced once for the module, against a sandbox whose client is claimed on LEA 3500100
only; each case of CASES then asserts on that one run. Configuration files and systemic failures are
in tests/test_bad_config_and_systemic.py.
"""

from __future__ import annotations

import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
import pytest

from databases import create_database, drop_database
from e2e_helpers import YEAR
from edfi_sync.demo.config import write_descriptors
from edfi_sync.engine.cli import report_rows
from edfi_sync.engine.runner import SyncOptions, YearSync
from edfi_sync.hooks.client import EdFiSettings
from edfi_sync.resources import GRAPH, RESOURCES
from edfi_sync.sandbox.testing import run_sandbox

pytestmark = pytest.mark.e2e

FIXTURES = [Path(__file__).parent / "fixtures" / name for name in (
    "sync_small.sql", "programs_small.sql", "program_areas_small.sql", "academic_records.sql", "bad_input.sql")]
CLAIMED_LEA = 3500100
SSA, CTE, SAR, CT = ("studentSchoolAssociations", "studentCTEProgramAssociations", "studentAcademicRecords",
                     "courseTranscripts")
LONG_COURSE = "LONG" * 15 + "X"


@dataclass(frozen=True)
class Case:
    """One bad (or strange but valid) SIS record and what the sync must make of it."""

    case: str
    resource: str
    sis_object_key: str
    error_code: str | None  # None: valid, sent exactly as the SIS has it (``intact``)
    says: tuple[str, ...] = ()  # words the error's message or validation errors hold
    action: str = "BUILD"
    refused: int | None = None  # the ODS's answer when only the ODS can tell (sent once, refused)
    intact: dict[str, Any] = field(default_factory=dict)  # payload path -> the SIS value, as sent
    others_sent: int = 0  # records the same SIS object makes that are fine (a student's other terms)

    @property
    def id(self) -> str:
        return f"{self.resource}:{self.sis_object_key[:12]}:{self.error_code or 'intact'}"


CASES = [
    # localEducationAgencies
    Case("LEA without a name (NULL required field)", "localEducationAgencies", "2", "schema_validation",
         ("nameOfInstitution",)),
    Case("LEA outside the API client's claims (missing claim)", "localEducationAgencies", "3",
         "authorization_denied", ("Authorization denied",), action="POST", refused=403),
    # schools
    Case("school whose LEA failed to build (orphan reference)", "schools", "40", "parent_failed",
         ("localEducationAgencies 2",), action="POST"),
    Case("school whose LEA the ODS refused (orphan reference)", "schools", "50", "parent_failed",
         ("localEducationAgencies 3", "authorization_denied"), action="POST"),
    Case("school without a name (NULL required field)", "schools", "60", "schema_validation", ("nameOfInstitution",)),
    Case("school number with a letter in it", "schools", "61", "schema_validation", ("schoolId", "35001A061")),
    Case("school number beyond Ed-Fi's 32-bit integer", "schools", "62", "schema_validation",
         ("schoolId", "99999999999")),
    Case("school name with quotes and SQL metacharacters", "schools", "63", None,
         intact={"nameOfInstitution": "St. Mary's \"Prep\"'); DROP TABLE sis.school;--"}),
    # students
    Case("student without a birth date (NULL required field)", "students", "3", "schema_validation", ("birthDate",)),
    Case("student without a last name (NULL required field)", "students", "102", "schema_validation",
         ("lastSurname",)),
    Case("student whose first name is blanks", "students", "103", "schema_validation", ("firstName", "blanks")),
    Case("student first name of 77 characters (overlong)", "students", "104", "schema_validation",
         ("firstName", "at most 75")),
    Case("student first name of 38 emoji: 76 UTF-16 code units (overlong)", "students", "105", "schema_validation",
         ("firstName", "emoji counts as 2")),
    Case("student state id of 33 characters (overlong key)", "students", "106", "schema_validation",
         ("studentUniqueId", "at most 32")),
    Case("student without a state id (NULL key)", "students", "107", "schema_validation", ("studentUniqueId",)),
    Case("student born on 'infinity' (impossible date)", "students", "108", "schema_validation",
         ("birthDate", "'infinity' is not a calendar date")),
    Case("student born in 2999 (impossible date)", "students", "109", "schema_validation",
         ("birthDate", "in the future")),
    Case("two persons with one state id (SIS duplicate)", "students", "110", "duplicate_sis_record",
         ("person 111",), action="POST"),
    Case("names with combining marks, right-to-left text and emoji", "students", "101", None,
         intact={"firstName": "Zoe\u0308", "middleName": "\u05e9\u05c1\u05b8\u05dc\u05d5\u05b9\u05dd\u200f",
                 "lastSurname": "Nguy\u1ec5n \U0001f393"}),
    Case("names with quotes, backslash and SQL metacharacters", "students", "112", None,
         intact={"firstName": "Robert'); DROP TABLE sis.person;--", "middleName": "O'Brien \"Bobby\" \\%_"}),
    # studentSchoolAssociations
    Case("grade KG without a mapping (unmapped descriptor)", SSA, "1008", "unmapped_value", ("grade_level", "'KG'")),
    Case("end status W9 without a mapping (unmapped descriptor)", SSA, "10114", "unmapped_value",
         ("exit_withdraw_type", "'W9'")),
    Case("exit date before the entry date (end before start)", SSA, "10113", "schema_validation",
         ("exitWithdrawDate 2024-08-20 is before entryDate 2024-09-01",)),
    Case("exit date 'infinity' (impossible date)", SSA, "10116", "schema_validation",
         ("exitWithdrawDate", "'infinity'")),
    Case("end status mapped to a descriptor the ODS does not have", SSA, "10115", "descriptor_unresolved",
         ("Moved to Mars",), action="POST", refused=400),
    Case("two enrollments with one natural key (SIS duplicate)", SSA, "1006", "duplicate_sis_record",
         ("enrollment 1007",), action="POST"),
    Case("enrollment of a student who failed (orphan reference)", SSA, "1003", "parent_failed",
         ("students 3",), action="POST"),
    Case("enrollment in a school without a name (orphan reference)", SSA, "10160", "parent_failed",
         ("schools 60",), action="POST"),
    Case("enrollment in a school whose number has a letter", SSA, "10161", "schema_validation", ("schoolId",)),
    # programs
    Case("CTE program mapped to a descriptor the ODS does not have", "programs", "104", "descriptor_unresolved",
         ("Drone Piloting",), action="POST", refused=400),
    Case("flag whose name is too long for a programName (overlong)", "programs", "112", "schema_validation",
         ("programName", "at most 60")),
    Case("flag with an accented and emoji name", "programs", "113", None,
         intact={"programName": "Ballet Folkl\u00f3rico \U0001f483"}),
    # student program associations
    Case("CTE participation that ends before it begins", CTE, "520", "schema_validation",
         ("endDate 2024-09-01 is before beginDate 2024-10-01",)),
    Case("CTE participation in a program the ODS refused (orphan reference)", CTE, "521", "parent_failed",
         ("programs 104", "descriptor_unresolved"), action="POST"),
    Case("CTE certification dated 'infinity' (impossible date)", CTE, "522", "schema_validation",
         ("certification 5220 date 'infinity'",)),
    Case("assignment of a flag whose name is too long for a programReference", "studentProgramAssociations", "530",
         "schema_validation", ("programReference.programName", "at most 60")),
    Case("Title I record that ends before it begins", "studentTitleIPartAProgramAssociations", "120",
         "schema_validation", ("before beginDate",)),
    Case("one EL record twice (SIS duplicate)", "studentLanguageInstructionProgramAssociations", "11",
         "duplicate_sis_record", ("lep 12",), action="POST"),
    Case("migrant record beginning '-infinity' (impossible date)", "studentMigrantEducationProgramAssociations",
         "11", "schema_validation", ("beginDate", "'-infinity'")),
    Case("homeless record while the area has no program_type mapping (unmapped descriptor)",
         "studentHomelessProgramAssociations", "10", "unmapped_value", ("program_type", "'homeless'")),
    Case("FRAM eligibility that ends before it begins", "studentSchoolFoodServiceProgramAssociations", "11",
         "schema_validation", ("before beginDate",)),
    Case("locked IEP ending 'infinity' (impossible date)", "studentSpecialEducationProgramAssociations", "11",
         "schema_validation", ("endDate", "'infinity'")),
    # courses
    Case("course number of 61 characters (overlong key)", "courses", LONG_COURSE, "schema_validation",
         ("courseCode", "at most 60")),
    Case("course without a title (NULL required field)", "courses", "GEO1", "schema_validation", ("courseTitle",)),
    Case("course title with quotes, SQL and a dash", "courses", "DRM1", None,
         intact={"courseTitle": "Teatro \u2014 \"Romeo & Juliet\"'); DROP TABLE sis.course;--"}),
    # studentAcademicRecords
    Case("diploma type 5 without a mapping (unmapped descriptor)", SAR, "173", "unmapped_value",
         ("diploma_type", "'5'")),
    Case("diploma dated 'infinity' (impossible date)", SAR, "174", "schema_validation",
         ("graduation 574 diploma date 'infinity'",)),
    Case("transcript credits NaN (impossible number)", SAR, "175", "schema_validation",
         ("transcript 7751 earned credits 'NaN'",)),
    Case("transcript whose term cannot be determined (the student's other records are sent)", SAR, "11",
         "term_not_determinable", ("'WI'",), others_sent=2),
    Case("term mapped to a descriptor the ODS does not have (one record of a student)", SAR, "177",
         "descriptor_unresolved", ("Ninth Term",), action="POST", refused=400, others_sent=1),
    # courseTranscripts
    Case("transcript without a course number (NULL key)", CT, "7711", "schema_validation", ("courseCode",)),
    Case("transcript of a 61-character course number (overlong key)", CT, "7701", "schema_validation",
         ("courseCode", "at most 60")),
    Case("transcript whose course failed (orphan reference)", CT, "7721", "parent_failed", ("courses GEO1",),
         action="POST"),
    Case("transcript of a student whose records cannot be built", CT, "7751", "parent_failed", ("'NaN'",)),
    Case("a course retaken and re-aligned to the same term (SIS duplicate)", CT, "7762", "duplicate_sis_record",
         ("transcript 7761",), action="POST"),
    Case("transcript whose term cannot be determined", CT, "7302", "term_not_determinable", ("'WI'",)),
    Case("transcript whose record the ODS refused (orphan reference)", CT, "7771", "parent_failed",
         ("descriptor_unresolved",), action="POST"),
]


@dataclass
class Corpus:
    conninfo: str
    server: Any
    status: str
    errors: list[dict]
    requests: list[dict]
    ods: dict[str, list[dict]]

    def ods_records(self, resource: str, sis_object_key: str) -> list[dict]:
        """The ODS records the identity map says this SIS object made."""
        with psycopg.connect(self.conninfo) as conn:
            ids = {row[0] for row in conn.execute(
                "SELECT edfi_id FROM edfi_sync.identity_map WHERE resource = %s AND sis_object_key = %s",
                (resource, sis_object_key))}
        return [r for r in self.ods[resource] if r["id"] in ids]


def settings_of(server) -> EdFiSettings:
    return EdFiSettings(base_url=server.base_url, client_key=server.key, client_secret=server.secret)


def run(conninfo: str, server, **options):
    with YearSync(YEAR, SyncOptions(**options), conninfo=conninfo, settings_for=lambda _: settings_of(server)) as r:
        return r.run()


@pytest.fixture(scope="module")
def corpus(pg_admin_conninfo, migrated_template, tmp_path_factory):
    name = f"edfi_sync_corpus_{uuid.uuid4().hex[:10]}"
    conninfo = create_database(pg_admin_conninfo, name, template=migrated_template)
    try:
        with psycopg.connect(conninfo) as conn:
            for fixture in FIXTURES:
                conn.execute(fixture.read_text())
        descriptors = write_descriptors(tmp_path_factory.mktemp("corpus") / "descriptors.json")
        with run_sandbox(claims=[CLAIMED_LEA], descriptor_files=[descriptors]) as server:
            summary = run(conninfo, server)
            yield Corpus(conninfo, server, summary.status, report_rows("errors", YEAR, None, conninfo),
                         server.requests(), {name: server.records(name) for name in RESOURCES})
    finally:
        drop_database(pg_admin_conninfo, name)


def writes(requests: list[dict]) -> list[tuple[str, str, int]]:
    return [(r["method"], r["path"].split("/data/v3/ed-fi/")[1].split("/")[0], r["status"])
            for r in requests if r["method"] in ("POST", "PUT", "DELETE") and "/data/" in r["path"]]


def test_the_corpus_is_at_least_40_cases_over_every_resource():
    assert len({c.id for c in CASES}) == len(CASES) >= 40
    assert {c.resource for c in CASES} == set(RESOURCES)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_case(corpus, case):
    if case.error_code is None:
        [record] = corpus.ods_records(case.resource, case.sis_object_key)
        for path, value in case.intact.items():
            assert record[path] == value, f"{case.case}: {path} arrived as {record[path]!r}"
        assert not [e for e in corpus.errors if (e["resource"], e["sis_object_key"]) ==
                    (case.resource, case.sis_object_key)]
        return
    rows = [e for e in corpus.errors if (e["resource"], e["sis_object_key"], e["error_code"]) ==
            (case.resource, case.sis_object_key, case.error_code)]
    assert len(rows) == 1, f"{case.case}: {[e['error_code'] for e in corpus.errors if e['sis_object_key'] == case.sis_object_key]}"
    [row] = rows
    # One clear row: what, where, the Ed-Fi answer when there is one, our cause and fix.
    assert (row["action"], row["status"], row["resolved"]) == (case.action, case.refused, False)
    assert row["cause"] and row["fix"]
    text = " ".join([row["message"] or "", *(row["validation_errors"] or [])])
    for words in case.says:
        assert words in text, f"{case.case}: {words!r} not in {text!r}"
    if GRAPH.definitions[case.resource].level == "student" and (case.resource, case.sis_object_key) != (
            "students", "107"):  # the one without a state id
        assert row["student_unique_id"] and row["student_name"], f"{case.case}: the row does not name the student"
    # Nothing of it reached the ODS (the request accounting below shows nothing else was sent either).
    assert len(corpus.ods_records(case.resource, case.sis_object_key)) == case.others_sent


def test_nothing_crashed_the_run_finished_with_record_errors(corpus):
    assert corpus.status == "record_errors"


def test_the_ods_saw_one_request_per_record_and_refused_only_the_expected_ones(corpus):
    sent = writes(corpus.requests)
    refused = Counter((method, resource, status) for method, resource, status in sent if status >= 300)
    assert refused == Counter(("POST", c.resource, c.refused) for c in CASES if c.refused)
    # Every other write created a record the ODS now holds: nothing was sent for a bad record, and
    # nothing was sent twice.
    created = Counter(resource for method, resource, status in sent if status < 300)
    assert created == Counter({name: len(records) for name, records in corpus.ods.items() if records})
    assert {method for method, _, status in sent if status < 300} == {"POST"}


def test_every_other_record_still_syncs(corpus):
    """What the rules build (a dry run's stage) is in the ODS, but for the records logged as errors."""
    settings = settings_of(corpus.server)
    with YearSync(YEAR, SyncOptions(dry_run=True), conninfo=corpus.conninfo, settings_for=lambda _: settings) as r:
        r.begin()
        for step in GRAPH.steps(()):
            if step.phase == "post":
                r.run_step(step)
        built = r.conn.execute("SELECT resource, sis_object_key, natural_key_hash FROM edfi_sync.staged_record "
                               "WHERE run_id = %s AND status IN ('staged', 'unchanged')", (r.run_id,)).fetchall()
        r.finish([])
    logged = {(e["resource"], e["sis_object_key"]) for e in corpus.errors}
    with psycopg.connect(corpus.conninfo) as conn:
        mapped = {(resource, key): edfi_id for resource, key, edfi_id in conn.execute(
            "SELECT resource, natural_key_hash, edfi_id FROM edfi_sync.identity_map")}
    missing = {(resource, key) for resource, key, key_hash in built if (resource, key_hash) not in mapped}
    assert missing <= logged, f"built, not logged, yet not sent: {sorted(missing - logged)}"
    # The identity map is exactly the ODS.
    assert sorted(mapped.values()) == sorted(r["id"] for records in corpus.ods.values() for r in records)
    assert len(missing) < 10 and sum(len(records) for records in corpus.ods.values()) > 60


def test_a_second_run_resends_only_what_the_ods_refused_and_closes_nothing(corpus):
    since = corpus.requests[-1]["seq"]
    assert run(corpus.conninfo, corpus.server).status == "record_errors"
    refused_again = Counter((m, r, s) for m, r, s in writes(corpus.server.requests(since)))
    assert refused_again == Counter(("POST", c.resource, c.refused) for c in CASES if c.refused)
    again = report_rows("errors", YEAR, None, corpus.conninfo)
    assert sorted((e["resource"], e["sis_object_key"], e["error_code"]) for e in again) == sorted(
        (e["resource"], e["sis_object_key"], e["error_code"]) for e in corpus.errors)
    assert not any(e["resolved"] for e in again)
    assert {e["occurrences"] for e in again} == {2}
