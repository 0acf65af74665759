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


def test_unchanged_rerun_sends_nothing(records_sis, server):
    sync(records_sis)
    since = last_seq(server)
    sync(records_sis)
    assert sent(server, since) == []


def test_diploma_date_moved_within_the_term_is_delete_then_post(records_sis, server):
    sync(records_sis)
    before = sars(server)
    sql(records_sis, "UPDATE sis.graduation SET diploma_date = '2025-05-20' WHERE graduation_id = 501")
    since = last_seq(server)
    summary = sync(records_sis)
    # The key did not change, yet the record is deleted and posted again, the DELETE first.
    assert sent(server, since) == [("DELETE", SAR), ("POST", SAR)]
    deleted = next(r for r in server.requests(since) if r["method"] == "DELETE")
    assert deleted["path"].endswith(before[(ANA, SPRING)]["id"])
    after = sars(server)
    assert after[(ANA, SPRING)]["id"] != before[(ANA, SPRING)]["id"]
    assert after[(ANA, SPRING)]["diplomas"][0]["diplomaAwardDate"] == "2025-05-20"
    assert {k: r["id"] for k, r in after.items() if k != (ANA, SPRING)} == {
        k: r["id"] for k, r in before.items() if k != (ANA, SPRING)}
    assert summary.by_resource()[SAR]["replace_DELETE.ok"] == 1
    assert sql(records_sis, "SELECT edfi_id FROM edfi_sync.identity_map WHERE resource = %s "
                            "AND natural_key->>'studentUniqueId' = %s AND natural_key->>'termDescriptor' = %s",
               SAR, ANA, SPRING) == [(after[(ANA, SPRING)]["id"],)]
    since = last_seq(server)
    sync(records_sis)
    assert sent(server, since) == []


def test_diploma_date_moved_to_another_term_moves_the_diploma(records_sis, server):
    sync(records_sis)
    before = sars(server)
    sql(records_sis, "UPDATE sis.graduation SET diploma_date = '2024-12-18' WHERE graduation_id = 501")
    since = last_seq(server)
    sync(records_sis)
    # Each record only gains or loses the diploma: ordinary updates of the same ids.
    assert sent(server, since) == [("PUT", SAR), ("PUT", SAR)]
    after = sars(server)
    assert after[(ANA, FALL)]["id"] == before[(ANA, FALL)]["id"]
    assert after[(ANA, FALL)]["diplomas"][0]["diplomaAwardDate"] == "2024-12-18"
    assert "diplomas" not in after[(ANA, SPRING)]


def test_diploma_date_moved_out_of_the_year_deletes_every_record(records_sis, server):
    sync(records_sis)
    sql(records_sis, "UPDATE sis.graduation SET diploma_date = '2025-07-18' WHERE graduation_id = 501")
    since = last_seq(server)
    sync(records_sis)
    assert sent(server, since) == [("DELETE", SAR)] * 3
    assert not [k for k in sars(server) if k[0] == ANA]
    assert sql(records_sis, "SELECT count(*) FROM edfi_sync.identity_map WHERE resource = %s AND "
                            "student_unique_id = %s", SAR, ANA) == [(0,)]


def test_diploma_type_change_is_a_put(records_sis, server):
    sync(records_sis)
    before = sars(server)
    sql(records_sis, "UPDATE sis.graduation SET diploma_type = '2' WHERE graduation_id = 501")
    since = last_seq(server)
    sync(records_sis)
    assert sent(server, since) == [("PUT", SAR)]
    after = sars(server)[(ANA, SPRING)]
    assert after["id"] == before[(ANA, SPRING)]["id"]
    assert after["diplomas"] == [{"diplomaAwardDate": "2025-05-23", "diplomaTypeDescriptor": NM_DIPLOMA + "2",
                                  "achievementCategoryDescriptor":
                                      "uri://ed-fi.org/AchievementCategoryDescriptor#Certificate Earned"}]


def test_term_override_change_reposts_the_record_under_its_new_term(records_sis, server):
    sync(records_sis)
    sql(records_sis, "UPDATE sis.transcript_course SET edfi_term_override = 'SS' WHERE transcript_id = 7004")
    since = last_seq(server)
    sync(records_sis)
    # A new key: the new record is posted, the old one deleted once everything is posted.
    assert sent(server, since) == [("POST", SAR), ("DELETE", SAR)]
    terms = {k[1] for k in sars(server) if k[0] == ANA}
    assert terms == {FALL, SPRING, "uri://ed-fi.org/TermDescriptor#Summer Semester"}


@pytest.mark.parametrize("change", [
    "DELETE FROM sis.graduation WHERE graduation_id = 510",                        # graduation deleted
    "UPDATE sis.graduation SET diploma_type = NULL WHERE graduation_id = 510",     # type made NULL
    "UPDATE sis.graduation SET diploma_date = NULL WHERE graduation_id = 510",     # date made NULL
])
def test_a_student_who_stops_qualifying_loses_his_records(records_sis, server, change):
    sync(records_sis)
    sql(records_sis, change)
    since = last_seq(server)
    sync(records_sis)
    assert sent(server, since) == [("DELETE", SAR), ("DELETE", SAR)]
    assert not [k for k in sars(server) if k[0] == JO]


def test_end_status_changed_to_a_non_graduate_deletes_the_records(records_sis, server):
    sync(records_sis)
    sql(records_sis, "UPDATE sis.enrollment SET end_status = 'WE' WHERE enrollment_id = 1010")
    since = last_seq(server)
    sync(records_sis)
    # The SSA's exit type changes (PUT), then the graduate's record goes.
    assert sent(server, since) == [("PUT", "studentSchoolAssociations"), ("DELETE", SAR)]
    assert not [k for k in sars(server) if k[0] == HAL]


def test_fixed_term_is_sent_and_its_error_resolved(records_sis, server):
    sync(records_sis)
    sql(records_sis, "UPDATE sis.transcript_course SET edfi_term_override = 'Q1' WHERE transcript_id = 7302")
    since = last_seq(server)
    sync(records_sis)
    # 7302 lands in First Quarter; every record of Kim's gets the same cumulative credits as before.
    assert sent(server, since) == [("POST", SAR)]
    assert (KIM, "uri://ed-fi.org/TermDescriptor#First Quarter") in sars(server)
    assert [r["resolved"] for r in report_rows("errors", YEAR, SAR, records_sis)] == [True]


def test_backfill_of_the_previous_year_ignores_later_credits(records_sis, server):
    sql(records_sis, "INSERT INTO edfi_sync.connection (end_year, conn_id, enabled) VALUES (2024, 'edfi_api', true)")
    sql(records_sis, "INSERT INTO edfi_sync.mapping SELECT 2024, resource, field, sis_value, namespace, code_value "
                     "FROM edfi_sync.mapping WHERE end_year = 2025")
    from edfi_sync.engine.runner import SyncOptions, YearSync

    with YearSync(2024, SyncOptions(resync=True), conninfo=records_sis) as run:
        run.run()
    found = sars(server, 2024)
    assert {key: body(record) for key, record in found.items()} == {
        # 7402 (2025) is not part of 2024's record: cumulative credits are those of 7401 alone.
        (LEE, SPRING): sar_record(LEE, SPRING, year=2024, cumulativeAttemptedCredits=1, cumulativeEarnedCredits=1,
                                  sessionAttemptedCredits=1, sessionEarnedCredits=1, diplomas=[{
                                      "diplomaAwardDate": "2024-05-24", "diplomaTypeDescriptor": NM_DIPLOMA + "2",
                                      "achievementCategoryDescriptor":
                                          "uri://ed-fi.org/AchievementCategoryDescriptor#Certificate Earned"}])}
