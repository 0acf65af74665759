"""Seed 004 end to end: studentAcademicRecords against the sandbox over HTTP, SIS data changed
between runs, asserting the exact requests and the final ODS state.

Fixture tests/fixtures/academic_records.sql on top of sync_small.sql, year 2025: Ana (1) graduates
by diploma with transcripts in S1, S2, a 2024 S1 row re-aligned to 2025's S1 and a manual 2023 row
(the SAR preference Year Round); Hal (8) graduates by end status WG without a graduation row; Ivy
(9) has no transcripts and a diploma date after the last term; Jo (10) has his diploma in S1 and
transcripts only in S2; Kim (11) has a transcript whose override 'WI' is unmapped; Lee (12)
graduated in 2024 and has a row of 2025; Max (13) ended with WE: no records.
"""

from __future__ import annotations

import json
from pathlib import Path

import psycopg
import pytest

from edfi_sync.demo.config import write_descriptors
from edfi_sync.engine.cli import report_rows
from edfi_sync.sandbox.testing import run_sandbox
from e2e_helpers import YEAR, sql, sync

pytestmark = pytest.mark.e2e

FIXTURES = Path(__file__).parent / "fixtures"
SAR = "studentAcademicRecords"
FALL, SPRING = "uri://ed-fi.org/TermDescriptor#Fall Semester", "uri://ed-fi.org/TermDescriptor#Spring Semester"
YEAR_ROUND = "uri://ed-fi.org/TermDescriptor#Year Round"
NM_DIPLOMA = "uri://nmped.org/DiplomaTypeDescriptor#"
ANA, HAL, IVY, JO, KIM, LEE = "100000001", "100000008", "100000009", "100000010", "100000011", "100000012"


@pytest.fixture
def records_sis(small_sis):
    with psycopg.connect(small_sis) as conn:
        conn.execute((FIXTURES / "academic_records.sql").read_text())
    return small_sis


@pytest.fixture
def server(tmp_path, monkeypatch):
    """The sandbox, knowing the New Mexico exit type G (a local descriptor, as in the demo)."""
    with run_sandbox(descriptor_files=[write_descriptors(tmp_path / "descriptors.json")]) as handle:
        monkeypatch.setenv("AIRFLOW_CONN_EDFI_API", json.dumps({
            "conn_type": "http", "host": handle.base_url, "login": handle.key, "password": handle.secret}))
        yield handle


def sars(server, year: int | None = None) -> dict[tuple[str, str], dict]:
    """The ODS's academic records by (student, term), without the server's fields."""
    found = {}
    for record in server.records(SAR):
        if year is None or record["schoolYearTypeReference"]["schoolYear"] == year:
            key = (record["studentReference"]["studentUniqueId"], record["termDescriptor"])
            found[key] = record
    return found


def body(record: dict) -> dict:
    return {k: v for k, v in record.items() if k not in ("id", "_etag", "_lastModifiedDate")}


def sent(server, since_seq: int = 0) -> list[tuple[str, str]]:
    """(method, resource) of every write after ``since_seq``, in order."""
    return [(r["method"], r["path"].split("/data/v3/ed-fi/")[1].split("/")[0])
            for r in server.requests(since_seq) if r["method"] != "GET" and "/data/" in r["path"]]


def last_seq(server) -> int:
    return (server.requests() or [{"seq": 0}])[-1]["seq"]


def sar_record(student, term, year=YEAR, lea=3500100, **fields):
    return {"educationOrganizationReference": {"educationOrganizationId": lea},
            "schoolYearTypeReference": {"schoolYear": year}, "studentReference": {"studentUniqueId": student},
            "termDescriptor": term, **fields}


def test_full_sync_builds_every_case(records_sis, server):
    sync(records_sis)
    found = sars(server, YEAR)
    ana_diploma = {"diplomaAwardDate": "2025-05-23", "diplomaTypeDescriptor": NM_DIPLOMA + "1",
                   "achievementCategoryDescriptor": "uri://ed-fi.org/AchievementCategoryDescriptor#Diploma Earned"}
    ana = dict(cumulativeAttemptedCredits=3, cumulativeEarnedCredits=3, cumulativeGradePointAverage=3.75)
    expected = {
        # S1: 7001 (2025) and 7003 (2024's S1 re-aligned); session credits count 2025's rows only.
        (ANA, FALL): sar_record(ANA, FALL, sessionAttemptedCredits=0.5, sessionEarnedCredits=0.5, **ana),
        (ANA, SPRING): sar_record(ANA, SPRING, sessionAttemptedCredits=0.5, sessionEarnedCredits=0.5,
                                  diplomas=[ana_diploma], **ana),
        (ANA, YEAR_ROUND): sar_record(ANA, YEAR_ROUND, sessionAttemptedCredits=0, sessionEarnedCredits=0, **ana),
        # By end status: the default diploma type (code 1 of the mappings' namespace), no category,
        # the enrollment end date.
        (HAL, SPRING): sar_record(HAL, SPRING, cumulativeAttemptedCredits=0.5, cumulativeEarnedCredits=0.5,
                                  sessionAttemptedCredits=0.5, sessionEarnedCredits=0.5,
                                  cumulativeGradePointAverage=2.1,
                                  diplomas=[{"diplomaAwardDate": "2025-05-23",
                                             "diplomaTypeDescriptor": NM_DIPLOMA + "1"}]),
        # No transcripts at all: credits NULL; the date is after every term: the latest-ending term.
        (IVY, SPRING): sar_record(IVY, SPRING, diplomas=[{
            "diplomaAwardDate": "2025-05-31", "diplomaTypeDescriptor": NM_DIPLOMA + "2",
            "achievementCategoryDescriptor": "uri://ed-fi.org/AchievementCategoryDescriptor#Certificate Earned"}]),
        # The diploma's term has no transcripts: a SAR of its own, session credits 0.
        (JO, FALL): sar_record(JO, FALL, cumulativeAttemptedCredits=0.5, cumulativeEarnedCredits=0.5,
                               sessionAttemptedCredits=0, sessionEarnedCredits=0, diplomas=[{
                                   "diplomaAwardDate": "2024-12-15", "diplomaTypeDescriptor": NM_DIPLOMA + "1",
                                   "achievementCategoryDescriptor":
                                       "uri://ed-fi.org/AchievementCategoryDescriptor#Diploma Earned"}]),
        (JO, SPRING): sar_record(JO, SPRING, cumulativeAttemptedCredits=0.5, cumulativeEarnedCredits=0.5,
                                 sessionAttemptedCredits=0.5, sessionEarnedCredits=0.5),
        # 7302's term cannot be determined: the rest is sent, its credits still count cumulatively.
        (KIM, FALL): sar_record(KIM, FALL, cumulativeAttemptedCredits=1.5, cumulativeEarnedCredits=1.5,
                                sessionAttemptedCredits=0.5, sessionEarnedCredits=0.5),
        (KIM, SPRING): sar_record(KIM, SPRING, cumulativeAttemptedCredits=1.5, cumulativeEarnedCredits=1.5,
                                  sessionAttemptedCredits=0, sessionEarnedCredits=0, diplomas=[{
                                      "diplomaAwardDate": "2025-05-23", "diplomaTypeDescriptor": NM_DIPLOMA + "1",
                                      "achievementCategoryDescriptor":
                                          "uri://ed-fi.org/AchievementCategoryDescriptor#Diploma Earned"}]),
    }
    assert {key: body(record) for key, record in found.items()} == expected
    errors = [r for r in report_rows("errors", YEAR, SAR, records_sis)]
    assert [(e["sis_object_key"], e["error_code"], e["action"]) for e in errors] == [
        ("11", "term_not_determinable", "BUILD")]
    assert "transcript 7302" in errors[0]["message"] and "'WI'" in errors[0]["message"]
    assert errors[0]["student_unique_id"] == KIM
    # The identity map names the student's SIS object and holds exactly the ODS's records.
    mapped = sql(records_sis, "SELECT sis_object_key, natural_key->>'termDescriptor', edfi_id "
                              "FROM edfi_sync.identity_map WHERE resource = %s", SAR)
    assert sorted(mapped) == sorted((str(int(k[0][-2:])), k[1], r["id"]) for k, r in found.items())
