"""Seed 004 end to end: studentAcademicRecords, courseTranscripts and courses against the sandbox
over HTTP, SIS data changed between runs, asserting the exact requests and the final ODS state.

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
SAR, CT, COURSES = "studentAcademicRecords", "courseTranscripts", "courses"
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


def transcripts(server) -> dict[tuple[str, str, str], dict]:
    """The ODS's course transcripts by (student, course, term)."""
    return {(r["studentAcademicRecordReference"]["studentUniqueId"], r["courseReference"]["courseCode"],
             r["studentAcademicRecordReference"]["termDescriptor"]): r for r in server.records(CT)}


def body(record: dict) -> dict:
    return {k: v for k, v in record.items() if k not in ("id", "_etag", "_lastModifiedDate")}


def sent(server, since_seq: int = 0) -> list[tuple[str, str]]:
    """(method, resource) of every write after ``since_seq``, in order."""
    return [(r["method"], r["path"].split("/data/v3/ed-fi/")[1].split("/")[0])
            for r in server.requests(since_seq) if r["method"] != "GET" and "/data/" in r["path"]]


def last_seq(server) -> int:
    return (server.requests() or [{"seq": 0}])[-1]["seq"]


def sync_after(conninfo, server, *changes: str) -> int:
    """Change the SIS, sync; the request-log position before the sync (for ``sent``)."""
    since = last_seq(server)
    for change in changes:
        sql(conninfo, change)
    sync(conninfo)
    return since


def sar_record(student, term, year=YEAR, lea=3500100, **fields):
    return {"educationOrganizationReference": {"educationOrganizationId": lea},
            "schoolYearTypeReference": {"schoolYear": year}, "studentReference": {"studentUniqueId": student},
            "termDescriptor": term, **fields}


def transcript(student, course, term, result="Pass", grade="A", credits=0.5, year=YEAR, lea=3500100):
    return {"courseAttemptResultDescriptor": f"uri://ed-fi.org/CourseAttemptResultDescriptor#{result}",
            "courseReference": {"courseCode": course, "educationOrganizationId": lea},
            "studentAcademicRecordReference": {"educationOrganizationId": lea, "schoolYear": year,
                                               "studentUniqueId": student, "termDescriptor": term},
            "attemptedCredits": credits, "earnedCredits": credits if result == "Pass" else 0,
            "finalLetterGradeEarned": grade}


def errors(conninfo, year=YEAR):
    return {(e["resource"], e["sis_object_key"]): e for e in report_rows("errors", year, None, conninfo)
            if e["resource"] in (SAR, CT, COURSES)}


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
    assert {key: body(record) for key, record in transcripts(server).items()} == {
        (ANA, "ENG4", FALL): transcript(ANA, "ENG4", FALL),
        (ANA, "ENG4", SPRING): transcript(ANA, "ENG4", SPRING, grade="B"),
        (ANA, "ENG3", FALL): transcript(ANA, "ENG3", FALL, credits=1),
        (ANA, "ART1", YEAR_ROUND): transcript(ANA, "ART1", YEAR_ROUND, grade="P", credits=1),
        (HAL, "ALG2", SPRING): transcript(HAL, "ALG2", SPRING, grade="C"),
        (JO, "ENG4", SPRING): transcript(JO, "ENG4", SPRING, grade="B"),
        (KIM, "ENG4", FALL): transcript(KIM, "ENG4", FALL),
    }
    # LEA-level courses, titled from their latest transcript row; HIS1's row fails (kept, see README).
    assert {r["courseCode"]: (r["courseTitle"], r["identificationCodes"][0]["identificationCode"])
            for r in server.records(COURSES)} == {
        "ENG4": ("English IV", "ENG4"), "ENG3": ("English III", "ENG3"), "ART1": ("Art I (transfer)", "ART1"),
        "ALG2": ("Algebra II", "ALG2"), "HIS1": ("History (transfer)", "HIS1")}
    logged = errors(records_sis)
    assert {key: (e["error_code"], e["action"]) for key, e in logged.items()} == {
        (SAR, "11"): ("term_not_determinable", "BUILD"), (CT, "7302"): ("term_not_determinable", "BUILD")}
    assert "transcript 7302" in logged[(CT, "7302")]["message"] and "'WI'" in logged[(CT, "7302")]["message"]
    assert (logged[(CT, "7302")]["student_unique_id"], logged[(CT, "7302")]["school_id"]) == (KIM, "350010001")
    # Kim's other records were sent: that does not resolve the problem of his transcript.
    assert [e["resolved"] for e in logged.values()] == [False, False]
    # The identity map names the student (SAR) and the transcript row (course transcript).
    mapped = sql(records_sis, "SELECT sis_object_key, natural_key->>'termDescriptor', edfi_id "
                              "FROM edfi_sync.identity_map WHERE resource = %s", SAR)
    assert sorted(mapped) == sorted((str(int(k[0][-2:])), k[1], r["id"]) for k, r in found.items())
    assert sorted(k for k, in sql(records_sis, "SELECT sis_object_key FROM edfi_sync.identity_map "
                                               "WHERE resource = %s", CT)) == [
        "7001", "7002", "7003", "7004", "7101", "7201", "7301"]


def test_unchanged_rerun_sends_nothing(records_sis, server):
    sync(records_sis)
    assert sent(server, sync_after(records_sis, server)) == []


def test_a_course_many_transcripts_name_is_staged_once_and_takes_the_next_rows_title_when_its_row_leaves(
        records_sis, server):
    """Issue 20: an unchanged run stages one row per course from the memo (not one per transcript),
    yet the course is sent exactly as a full rebuild would: ENG4 is titled from its best row (Kim's
    7301, then Jo's 7201 once Kim's is gone), whether or not that row was rebuilt."""
    def eng4_title():
        return next(r["courseTitle"] for r in server.records(COURSES) if r["courseCode"] == "ENG4")

    sync(records_sis)
    summary = sync(records_sis)
    # Ana's two rows and Jo's and Kim's name ENG4: one staged row for it, none merged away.
    assert summary.by_resource()[COURSES].get("merged", 0) == 0
    assert summary.by_resource()[COURSES]["not_rebuilt"] >= 3
    # Jo's row (not the best) changes its title: rebuilt, merged into Kim's proven row, nothing sent.
    since = sync_after(records_sis, server,
                       "UPDATE sis.transcript_course SET course_name = 'English IV (honors)' WHERE transcript_id = 7201")
    assert ("PUT", COURSES) not in sent(server, since) and eng4_title() == "English IV"
    # Kim's row leaves: Jo's, proven unchanged and never rebuilt since, is now the best: its title is sent.
    since = sync_after(records_sis, server, "DELETE FROM sis.transcript_credit WHERE transcript_id = 7301",
                       "DELETE FROM sis.transcript_course WHERE transcript_id = 7301")
    assert [write for write in sent(server, since) if write[1] == COURSES] == [("PUT", COURSES)]
    assert eng4_title() == "English IV (honors)"
    assert sent(server, sync_after(records_sis, server)) == []
    # A resync (everything rebuilt) finds the ODS as it should be.
    since = last_seq(server)
    sync(records_sis, resync=True)
    assert [write for write in sent(server, since) if write[1] == COURSES] == []


def test_diploma_date_moved_within_the_term_is_delete_then_post(records_sis, server):
    sync(records_sis)
    before, before_transcripts = sars(server), transcripts(server)
    sql(records_sis, "UPDATE sis.graduation SET diploma_date = '2025-05-20' WHERE graduation_id = 501")
    since = last_seq(server)
    summary = sync(records_sis)
    # The key did not change, yet the record is deleted and posted again, the DELETE first, its
    # transcript deleted before it and posted again after it.
    assert sent(server, since) == [("DELETE", CT), ("DELETE", SAR), ("POST", SAR), ("POST", CT)]
    deleted = [r["path"].rsplit("/", 1)[1] for r in server.requests(since) if r["method"] == "DELETE"]
    assert deleted == [before_transcripts[(ANA, "ENG4", SPRING)]["id"], before[(ANA, SPRING)]["id"]]
    after = sars(server)
    assert after[(ANA, SPRING)]["id"] != before[(ANA, SPRING)]["id"]
    assert after[(ANA, SPRING)]["diplomas"][0]["diplomaAwardDate"] == "2025-05-20"
    assert {k: r["id"] for k, r in after.items() if k != (ANA, SPRING)} == {
        k: r["id"] for k, r in before.items() if k != (ANA, SPRING)}
    assert body(transcripts(server)[(ANA, "ENG4", SPRING)]) == body(before_transcripts[(ANA, "ENG4", SPRING)])
    counts = summary.by_resource()[SAR]
    assert counts["replace_DELETE.ok"] == 1 and counts["courseTranscripts:replace_DELETE.ok"] == 1
    assert sql(records_sis, "SELECT edfi_id FROM edfi_sync.identity_map WHERE resource = %s "
                            "AND natural_key->>'studentUniqueId' = %s AND natural_key->>'termDescriptor' = %s",
               SAR, ANA, SPRING) == [(after[(ANA, SPRING)]["id"],)]
    assert sent(server, sync_after(records_sis, server)) == []


def test_diploma_date_moved_to_another_term_moves_the_diploma(records_sis, server):
    sync(records_sis)
    before = sars(server)
    since = sync_after(records_sis, server, "UPDATE sis.graduation SET diploma_date = '2024-12-18' WHERE graduation_id = 501")
    # Each record only gains or loses the diploma: ordinary updates of the same ids.
    assert sent(server, since) == [("PUT", SAR), ("PUT", SAR)]
    after = sars(server)
    assert after[(ANA, FALL)]["id"] == before[(ANA, FALL)]["id"]
    assert after[(ANA, FALL)]["diplomas"][0]["diplomaAwardDate"] == "2024-12-18"
    assert "diplomas" not in after[(ANA, SPRING)]


def test_diploma_date_moved_out_of_the_year_deletes_every_record(records_sis, server):
    sync(records_sis)
    since = sync_after(records_sis, server, "UPDATE sis.graduation SET diploma_date = '2025-07-18' WHERE graduation_id = 501")
    # Transcripts, then records, then the courses nobody else takes.
    assert sent(server, since) == [("DELETE", CT)] * 4 + [("DELETE", SAR)] * 3 + [("DELETE", COURSES)] * 2
    assert not [k for k in sars(server) if k[0] == ANA] and not [k for k in transcripts(server) if k[0] == ANA]
    assert {r["courseCode"] for r in server.records(COURSES)} == {"ENG4", "ALG2", "HIS1"}
    assert sql(records_sis, "SELECT resource, count(*) FROM edfi_sync.identity_map WHERE student_unique_id = %s "
                            "AND resource IN (%s, %s) GROUP BY 1", ANA, SAR, CT) == []


def test_diploma_type_change_is_a_put(records_sis, server):
    sync(records_sis)
    before = sars(server)
    since = sync_after(records_sis, server, "UPDATE sis.graduation SET diploma_type = '2' WHERE graduation_id = 501")
    assert sent(server, since) == [("PUT", SAR)]
    after = sars(server)[(ANA, SPRING)]
    assert after["id"] == before[(ANA, SPRING)]["id"]
    assert after["diplomas"] == [{"diplomaAwardDate": "2025-05-23", "diplomaTypeDescriptor": NM_DIPLOMA + "2",
                                  "achievementCategoryDescriptor":
                                      "uri://ed-fi.org/AchievementCategoryDescriptor#Certificate Earned"}]


def test_term_override_change_reposts_the_record_and_its_transcripts(records_sis, server):
    sync(records_sis)
    since = sync_after(records_sis, server, "UPDATE sis.transcript_course SET edfi_term_override = 'SS' WHERE transcript_id = 7004")
    # New keys: the record and its transcript are posted; then the old transcript, then the old
    # record are deleted (children first).
    assert sent(server, since) == [("POST", SAR), ("POST", CT), ("DELETE", CT), ("DELETE", SAR)]
    summer = "uri://ed-fi.org/TermDescriptor#Summer Semester"
    assert {k[1] for k in sars(server) if k[0] == ANA} == {FALL, SPRING, summer}
    assert (ANA, "ART1", summer) in transcripts(server) and (ANA, "ART1", YEAR_ROUND) not in transcripts(server)


def test_term_mapping_change_takes_effect_on_resync_and_reposts_records_and_transcripts(records_sis, server):
    sync(records_sis)
    since = sync_after(records_sis, server, "UPDATE edfi_sync.mapping SET code_value = 'Semester' "
                                            "WHERE resource = 'sessions' AND sis_value = 'S1'")
    assert sent(server, since) == []  # a mapping change waits for a resync (seed rule)
    sync(records_sis, resync=True, resources=(SAR, CT))
    semester = "uri://ed-fi.org/TermDescriptor#Semester"
    # Ana, Jo, Kim: Fall -> Semester, with Ana's and Kim's 3 transcripts; then the old transcripts,
    # then the old records are deleted (children first). Kim's old record stays: a transcript of his
    # fails to build (7302), and a student whose records fail is never deleted from.
    assert sent(server, since) == [("POST", SAR)] * 3 + [("POST", CT)] * 3 + [("DELETE", CT)] * 3 + [
        ("DELETE", SAR)] * 2
    assert [k for k in sars(server) if k[1] == FALL] == [(KIM, FALL)]
    assert {k for k in sars(server) if k[1] == semester} == {(ANA, semester), (JO, semester), (KIM, semester)}
    assert {k for k in transcripts(server) if k[2] == semester} == {
        (ANA, "ENG4", semester), (ANA, "ENG3", semester), (KIM, "ENG4", semester)}


@pytest.mark.parametrize("change", [
    "DELETE FROM sis.graduation WHERE graduation_id = 510",                        # graduation deleted
    "UPDATE sis.graduation SET diploma_type = NULL WHERE graduation_id = 510",     # type made NULL
    "UPDATE sis.graduation SET diploma_date = NULL WHERE graduation_id = 510",     # date made NULL
])
def test_a_student_who_stops_qualifying_loses_his_records(records_sis, server, change):
    sync(records_sis)
    since = sync_after(records_sis, server, change)
    assert sent(server, since) == [("DELETE", CT), ("DELETE", SAR), ("DELETE", SAR)]
    assert not [k for k in sars(server) if k[0] == JO] and not [k for k in transcripts(server) if k[0] == JO]


def test_end_status_changed_to_a_non_graduate_deletes_the_records(records_sis, server):
    sync(records_sis)
    since = sync_after(records_sis, server, "UPDATE sis.enrollment SET end_status = 'WE' WHERE enrollment_id = 1010")
    # The SSA's exit type changes (PUT), then the transcript, the record and his course go.
    assert sent(server, since) == [("PUT", "studentSchoolAssociations"), ("DELETE", CT), ("DELETE", SAR),
                                   ("DELETE", COURSES)]
    assert not [k for k in sars(server) if k[0] == HAL]


def test_fixed_term_is_sent_and_its_errors_resolved(records_sis, server):
    sync(records_sis)
    since = sync_after(records_sis, server, "UPDATE sis.transcript_course SET edfi_term_override = 'Q1' WHERE transcript_id = 7302")
    # 7302 lands in First Quarter: a new record and its transcript (its course was already there).
    assert sent(server, since) == [("POST", SAR), ("POST", CT)]
    assert (KIM, "HIS1", "uri://ed-fi.org/TermDescriptor#First Quarter") in transcripts(server)
    assert {key: e["resolved"] for key, e in errors(records_sis).items()} == {(SAR, "11"): True, (CT, "7302"): True}


def test_grade_change_is_a_put(records_sis, server):
    sync(records_sis)
    before = transcripts(server)[(ANA, "ENG4", FALL)]
    since = sync_after(records_sis, server, "UPDATE sis.transcript_course SET grade = 'A-' WHERE transcript_id = 7001")
    assert sent(server, since) == [("PUT", CT)]
    after = transcripts(server)[(ANA, "ENG4", FALL)]
    assert after["id"] == before["id"] and after["finalLetterGradeEarned"] == "A-"


def test_pass_to_fail_is_delete_post(records_sis, server):
    sync(records_sis)
    before = transcripts(server)[(ANA, "ENG4", FALL)]
    since = sync_after(records_sis, server, "UPDATE sis.transcript_credit SET credits_earned = 0 WHERE transcript_id = 7001")
    # Ana's earned credits change on her three records (PUT); the result is part of the transcript's
    # key: the Fail transcript is posted and the Pass one deleted.
    assert sent(server, since) == [("PUT", SAR)] * 3 + [("POST", CT), ("DELETE", CT)]
    after = transcripts(server)[(ANA, "ENG4", FALL)]
    assert after["id"] != before["id"]
    assert body(after) == transcript(ANA, "ENG4", FALL, result="Fail")
    assert sars(server)[(ANA, FALL)]["sessionEarnedCredits"] == 0


def test_retaken_course_realigned_to_the_same_term_is_sent_once_and_logged(records_sis, server):
    # Ana took ENG4 in 2024's S1 too: re-aligned to 2025's S1, it has the key of 7001.
    sql(records_sis, "INSERT INTO sis.grading_score VALUES (90004, 800021, 1, 10111, 'D')")
    sql(records_sis, "INSERT INTO sis.transcript_course VALUES (7005, 1, 10, 2024, 'ENG4', 'English IV', 90004, NULL, 'D')")
    sql(records_sis, "INSERT INTO sis.transcript_credit VALUES (7005, 7005, 0.5, 0.5)")
    sync(records_sis)
    assert body(transcripts(server)[(ANA, "ENG4", FALL)]) == transcript(ANA, "ENG4", FALL)  # 7001, the latest year
    duplicate = errors(records_sis)[(CT, "7005")]
    assert duplicate["error_code"] == "duplicate_sis_record" and "7001" in duplicate["message"]
    assert sars(server)[(ANA, FALL)]["cumulativeAttemptedCredits"] == 3.5  # its credits still count


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
    assert [body(r) for r in server.records(CT)] == [transcript(LEE, "ENG3", SPRING, credits=1, year=2024)]
    assert [r["courseCode"] for r in server.records(COURSES)] == ["ENG3"]


def test_demo_syncs_every_resource_and_only_its_broken_cases_are_errors(sis_db, tmp_path):
    from edfi_sync.demo.world import CASEBOOK, CASES
    from e2e_helpers import api_env, assert_converged, assert_sends_nothing, demo_sandbox, load_demo, run_sync

    descriptors = tmp_path / "descriptors.json"
    load_demo(0.2, descriptors)
    with demo_sandbox(descriptors) as demo:
        env = api_env(demo)
        run_sync(env)
        counts = assert_converged(sis_db, demo)
        assert min(counts[name] for name in (SAR, CT, COURSES)) > 0
        # Person 25 (two primary schedules): the diploma lands in the Third Trimester, where no
        # transcript is; the rows of Y-1 are re-aligned to the trimesters by seq.
        (early_college,), = sql(sis_db, "SELECT state_id FROM sis.person WHERE person_id = 25")
        terms = {r["termDescriptor"].split("#")[1]: r for r in demo.records(SAR)
                 if r["studentReference"]["studentUniqueId"] == early_college}
        assert {"First Trimester", "Second Trimester", "Third Trimester"} <= set(terms)
        assert terms["Third Trimester"]["diplomas"] and terms["Third Trimester"]["sessionEarnedCredits"] == 0
        broken = {n + 1 for n, (_, cases) in enumerate(CASEBOOK)
                  if any(CASES[case].text.startswith("BROKEN") for case in cases)}
        broken_students = {state_id for state_id, in sql(sis_db, "SELECT state_id FROM sis.person "
                                                                  "WHERE person_id = ANY(%s)", sorted(broken))}
        rows = report_rows("errors", YEAR, None, sis_db)
        assert {r["student_unique_id"] for r in rows} - {None} <= broken_students
        # Rows that name no student: the school without a number and the person without a state id.
        assert {(r["resource"], r["error_code"]) for r in rows if r["student_unique_id"] is None} <= {
            ("schools", "schema_validation"), ("students", "schema_validation"),
            ("studentSchoolAssociations", "schema_validation")}
        logged = {(r["resource"], r["error_code"]) for r in rows if r["resource"] in (SAR, CT, COURSES)}
        assert logged == {(SAR, "unmapped_value"), (SAR, "term_not_determinable"), (CT, "parent_failed"),
                          (CT, "term_not_determinable"), (CT, "schema_validation"), (CT, "duplicate_sis_record")}
        assert_sends_nothing(env, demo)
        # The second run met every problem again: the same open rows, refreshed, none resolved.
        again = report_rows("errors", YEAR, None, sis_db)
        assert sorted((r["resource"], r["sis_object_key"], r["error_code"]) for r in again) == sorted(
            (r["resource"], r["sis_object_key"], r["error_code"]) for r in rows)
        assert not any(r["resolved"] for r in again)


def test_dry_run_of_a_diploma_date_change_reports_the_replacement_and_sends_nothing(records_sis, server):
    sync(records_sis)
    sql(records_sis, "UPDATE sis.graduation SET diploma_date = '2025-05-20' WHERE graduation_id = 501")
    since = last_seq(server)
    summary = sync(records_sis, dry_run=True)
    assert sent(server, since) == []
    counts = summary.by_resource()
    assert counts[SAR]["courseTranscripts:replace_would_DELETE"] == 1 and counts[SAR]["replace_would_DELETE"] == 1
    assert sql(records_sis, "SELECT count(*) FROM edfi_sync.replace_pending") == [(0,)]


def test_diploma_date_change_while_transcripts_are_toggled_off_is_an_update(records_sis, server):
    sync(records_sis)
    before = sars(server)[(ANA, SPRING)]
    sql(records_sis, "INSERT INTO edfi_sync.resource_toggle VALUES (2025, 'courseTranscripts', false)")
    since = sync_after(records_sis, server,
                       "UPDATE sis.graduation SET diploma_date = '2025-05-20' WHERE graduation_id = 501")
    # Deleting the record would need its transcripts gone, and an OFF resource deletes nothing.
    assert sent(server, since) == [("PUT", SAR)]
    after = sars(server)[(ANA, SPRING)]
    assert after["id"] == before["id"] and after["diplomas"][0]["diplomaAwardDate"] == "2025-05-20"
