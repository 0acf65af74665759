"""Programs (seed 001) and Student CTE Program Associations (seed 000) end to end: SIS changes between
runs, the exact requests the sandbox received, the final ODS state, and a rerun that sends nothing.

tests/fixtures/programs_small.sql on top of sync_small.sql, year 2025. Scoped students: 1 (school
350010001), 2 (350010002), 6 (350010001), 7 (350010002). Programs sent: Career and Technical Education
(CTE programs 101 and 102, programId 101), Gifted and Talented (flag 111), Title I Part A (student 2).
CTE associations: 501 (student 1, program 101), 502 (student 2, 102, NULL dates), 506 (student 6, 101);
not 507 (Cosmetology is unmapped) nor 508 (ended before the year).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from edfi_sync.engine.cli import report_rows
from edfi_sync.resources import RESOURCES
from e2e_helpers import YEAR, sql, sync

pytestmark = pytest.mark.e2e
CTE = "studentCTEProgramAssociations"
PTD = "uri://ed-fi.org/ProgramTypeDescriptor"
SCHOOL_1 = "350010001"
FIXTURE = Path(__file__).parent / "fixtures" / "programs_small.sql"


@pytest.fixture
def programs_sis(small_sis):
    sql(small_sis, FIXTURE.read_text())
    return small_sis


def sent(sandbox) -> list[tuple[str, str, int]]:
    """Every write the sandbox answered, in order: (method, resource, status)."""
    return [(r["method"], r["path"].split("/ed-fi/")[1].split("/")[0], r["status"])
            for r in sandbox.requests() if "/data/" in r["path"] and r["method"] != "GET"]


def programs(sandbox) -> dict[str, dict]:
    return {p["programName"]: p for p in sandbox.records("programs")}


def associations(sandbox) -> dict[str, dict]:
    """The ODS's CTE associations by student."""
    found = {}
    for record in sandbox.records(CTE):
        student = record["studentReference"]["studentUniqueId"]
        assert student not in found, f"two CTE associations for {student}"
        found[student] = record
    return found


def program_of(association) -> str:
    return association["programReference"]["programName"]


def assert_rerun_sends_nothing(conninfo, sandbox):
    sandbox.clear_requests()
    sync(conninfo)
    assert sent(sandbox) == []


def test_first_sync_reports_programs_and_cte_associations_as_the_seeds_say(programs_sis, sandbox):
    sync(programs_sis)
    found = programs(sandbox)
    assert {name: (p["programTypeDescriptor"], p["programId"]) for name, p in found.items()} == {
        "Career and Technical Education": (f"{PTD}#Career and Technical Education", "101"),
        "Gifted and Talented": (f"{PTD}#Gifted and Talented", "111"),
        "Title I Part A": (f"{PTD}#Title I Part A", "1"),
    }
    assert {p["educationOrganizationReference"]["educationOrganizationId"] for p in found.values()} == {3500100}
    assert sorted(sql(programs_sis, "SELECT sis_object_key FROM edfi_sync.identity_map WHERE resource = 'programs'")) \
        == [("101",), ("111",), ("title1",)]

    cte = associations(sandbox)
    assert set(cte) == {"100000001", "100000002", "100000006"}
    ana = {k: v for k, v in cte["100000001"].items() if k not in ("id", "_etag")}
    assert ana == {
        "beginDate": "2024-08-20",
        "educationOrganizationReference": {"educationOrganizationId": 3500100},
        "programReference": {"educationOrganizationId": 3500100, "programName": "Career and Technical Education",
                             "programTypeDescriptor": f"{PTD}#Career and Technical Education"},
        "studentReference": {"studentUniqueId": "100000001"},
        "nonTraditionalGenderStatus": True, "privateCTEProgram": False,
        "technicalSkillsAssessmentDescriptor": "uri://ed-fi.org/TechnicalSkillsAssessmentDescriptor#Not Passed",
        "ctePrograms": [{"careerPathwayDescriptor": "uri://ed-fi.org/CareerPathwayDescriptor#Manufacturing",
                         "cipCode": "48.0508", "primaryCTEProgramIndicator": True,
                         "cteProgramCompletionIndicator": True}],
    }
    ben = cte["100000002"]  # NULL dates: beginDate 07/01/(Y-1), no endDate; no certification, no pathway
    assert ben["beginDate"] == "2024-07-01"
    assert not {"endDate", "technicalSkillsAssessmentDescriptor", "ctePrograms"} & set(ben)
    assert cte["100000006"]["endDate"] == "2025-03-01"
    assert sorted(sql(programs_sis, "SELECT sis_object_key FROM edfi_sync.identity_map WHERE resource = %s", CTE)) \
        == [("501",), ("502",), ("506",)]
    assert not [r for r in report_rows("errors", YEAR, None, programs_sis) if r["resource"] in ("programs", CTE)]
    assert_rerun_sends_nothing(programs_sis, sandbox)


def test_data_standard_5_leaves_cte_programs_out(programs_sis, sandbox, monkeypatch):
    monkeypatch.setenv("AIRFLOW_CONN_EDFI_API", json.dumps({
        "conn_type": "http", "host": sandbox.base_url, "login": sandbox.key, "password": sandbox.secret,
        "extra": {"data_standard": "5"}}))
    sync(programs_sis)
    cte = associations(sandbox)
    assert len(cte) == 3 and not [a for a in cte.values() if "ctePrograms" in a]
    assert cte["100000001"]["technicalSkillsAssessmentDescriptor"].endswith("#Not Passed")
    assert_rerun_sends_nothing(programs_sis, sandbox)


def test_cte_start_date_change_is_a_delete_and_a_post(programs_sis, sandbox):
    sync(programs_sis)
    old = associations(sandbox)["100000001"]
    sql(programs_sis, "UPDATE sis.program_participation SET start_date = '2024-09-01' WHERE participation_id = 501")
    sandbox.clear_requests()
    sync(programs_sis)
    assert sent(sandbox) == [("POST", CTE, 201), ("DELETE", CTE, 204)]
    new = associations(sandbox)["100000001"]
    assert new["beginDate"] == "2024-09-01" and new["id"] != old["id"]
    assert sql(programs_sis, "SELECT edfi_id FROM edfi_sync.identity_map WHERE resource = %s AND sis_object_key = '501'",
               CTE) == [(new["id"],)]
    assert_rerun_sends_nothing(programs_sis, sandbox)


def test_certification_added_is_a_put_to_the_same_id(programs_sis, sandbox):
    sync(programs_sis)
    old = associations(sandbox)["100000001"]
    sql(programs_sis, "INSERT INTO sis.program_participation_certification VALUES "
                      "(5012, 501, 'OSHA 10', true, true, '2025-02-01')")
    sandbox.clear_requests()
    sync(programs_sis)
    assert sent(sandbox) == [("PUT", CTE, 204)]
    new = associations(sandbox)["100000001"]
    assert new["id"] == old["id"]
    assert new["technicalSkillsAssessmentDescriptor"] == "uri://ed-fi.org/TechnicalSkillsAssessmentDescriptor#Passed"
    assert_rerun_sends_nothing(programs_sis, sandbox)


def test_cte_program_setup_change_is_a_put_and_a_mapping_change_waits_for_a_resync(programs_sis, sandbox):
    sync(programs_sis)
    sql(programs_sis, "UPDATE sis.program SET state_code = '48.0599' WHERE program_id = 101")
    sql(programs_sis, "UPDATE edfi_sync.mapping SET code_value = 'Other' WHERE field = 'career_pathway'")
    sandbox.clear_requests()
    sync(programs_sis)
    assert sent(sandbox) == [("PUT", CTE, 204), ("PUT", CTE, 204)]  # students 1 and 6: the CIP code
    assert {a["ctePrograms"][0]["careerPathwayDescriptor"].rpartition("#")[2]
            for a in associations(sandbox).values() if "ctePrograms" in a} == {"Manufacturing"}
    sandbox.clear_requests()
    sync(programs_sis, resync=True, resources=(CTE,))
    assert sent(sandbox) == [("PUT", CTE, 204), ("PUT", CTE, 204)]
    assert {a["ctePrograms"][0]["careerPathwayDescriptor"].rpartition("#")[2]
            for a in associations(sandbox).values() if "ctePrograms" in a} == {"Other"}
    assert_rerun_sends_nothing(programs_sis, sandbox)


def test_enrollment_made_no_show_deletes_the_association_but_no_program(programs_sis, sandbox):
    sync(programs_sis)
    sql(programs_sis, "UPDATE sis.enrollment SET no_show = true WHERE enrollment_id = 1002")
    sandbox.clear_requests()
    sync(programs_sis)
    # Student 2 was Title I's only student: an incremental run never deletes a program (seed 001).
    assert sent(sandbox) == [("DELETE", CTE, 204), ("DELETE", "studentSchoolAssociations", 204)]
    assert set(associations(sandbox)) == {"100000001", "100000006"}
    assert "Title I Part A" in programs(sandbox)
    assert_rerun_sends_nothing(programs_sis, sandbox)


@pytest.mark.parametrize("change", [
    "UPDATE sis.enrollment SET state_exclude = true WHERE enrollment_id = 1002",
    "UPDATE sis.calendar SET exclude = true WHERE calendar_id = 200",
    "UPDATE sis.school SET exclude = true WHERE school_id = 20",
    "DELETE FROM sis.enrollment WHERE enrollment_id = 1002",
    "UPDATE sis.enrollment SET start_date = '2023-08-14', end_date = '2024-05-24' WHERE enrollment_id = 1002",
], ids=["state_exclude", "calendar_exclude", "school_exclude", "enrollment_deleted", "enrollment_out_of_year"])
def test_every_enrollment_delete_trigger_deletes_the_association(programs_sis, sandbox, change):
    sync(programs_sis)
    sql(programs_sis, change)
    sandbox.clear_requests()
    sync(programs_sis)
    assert [s for s in sent(sandbox) if s[1] in (CTE, "studentSchoolAssociations")] == [
        ("DELETE", CTE, 204), ("DELETE", "studentSchoolAssociations", 204)]
    assert set(associations(sandbox)) == {"100000001", "100000006"}
    assert_rerun_sends_nothing(programs_sis, sandbox)


def test_student_moved_to_an_excluded_school_loses_the_association(programs_sis, sandbox):
    sync(programs_sis)
    sql(programs_sis, "UPDATE sis.enrollment SET calendar_id = 300 WHERE person_id = 6")
    sandbox.clear_requests()
    sync(programs_sis)
    # School 350010001 loses its only eleventh grader: its gradeLevels change too.
    assert sent(sandbox) == [("PUT", "schools", 204), ("DELETE", CTE, 204),
                             ("DELETE", "studentSchoolAssociations", 204)]
    assert set(associations(sandbox)) == {"100000001", "100000002"}
    assert_rerun_sends_nothing(programs_sis, sandbox)


def test_other_delete_triggers_participation_deleted_or_moved_out_of_the_year(programs_sis, sandbox):
    sync(programs_sis)
    sql(programs_sis, "DELETE FROM sis.program_participation_certification WHERE participation_id = 501")
    sql(programs_sis, "DELETE FROM sis.program_participation WHERE participation_id = 501")
    sql(programs_sis, "UPDATE sis.program_participation SET end_date = '2024-06-01' WHERE participation_id = 502")
    sandbox.clear_requests()
    sync(programs_sis)
    assert sent(sandbox) == [("DELETE", CTE, 204), ("DELETE", CTE, 204)]
    assert set(associations(sandbox)) == {"100000006"}
    assert_rerun_sends_nothing(programs_sis, sandbox)


def _remap(conninfo, code_value, *program_ids):
    sql(conninfo, "UPDATE edfi_sync.mapping SET code_value = %s WHERE resource = 'programs' "
                  "AND sis_value = ANY (%s)", code_value, list(program_ids))


def test_program_mapping_change_then_all_schools_resync_cascades_to_every_association(programs_sis, sandbox):
    sync(programs_sis)
    _remap(programs_sis, "Vocational Education", "101", "102")
    sandbox.clear_requests()
    sync(programs_sis)
    assert sent(sandbox) == []  # a mapping change waits for a resync of programs
    sync(programs_sis, resync=True, resources=("programs",))
    assert sent(sandbox) == [("POST", "programs", 201), *[("POST", CTE, 201)] * 3, *[("DELETE", CTE, 204)] * 3,
                             ("DELETE", "programs", 204)]
    assert set(programs(sandbox)) == {"Vocational Education", "Gifted and Talented", "Title I Part A"}
    assert programs(sandbox)["Vocational Education"]["programId"] == "101"
    assert {program_of(a) for a in associations(sandbox).values()} == {"Vocational Education"}
    assert_rerun_sends_nothing(programs_sis, sandbox)


def test_mapping_removed_then_all_schools_resync_deletes_the_program_after_its_associations(programs_sis, sandbox):
    sync(programs_sis)
    sql(programs_sis, "DELETE FROM edfi_sync.mapping WHERE resource = 'programs' AND sis_value IN ('101', '102')")
    sandbox.clear_requests()
    sync(programs_sis)
    assert sent(sandbox) == []
    sync(programs_sis, resync=True, resources=("programs",))
    assert sent(sandbox) == [*[("DELETE", CTE, 204)] * 3, ("DELETE", "programs", 204)]
    assert set(programs(sandbox)) == {"Gifted and Talented", "Title I Part A"}
    assert associations(sandbox) == {}
    assert_rerun_sends_nothing(programs_sis, sandbox)


def test_per_school_resync_rekeys_its_students_and_leaves_district_programs_alone(programs_sis, sandbox):
    sync(programs_sis)
    _remap(programs_sis, "Vocational Education", "101", "102")
    sandbox.clear_requests()
    sync(programs_sis, resync=True, resources=("programs",), schools=(SCHOOL_1,))
    # The re-keyed program is posted; the old one stays: students of other schools still reference it.
    assert sent(sandbox) == [("POST", "programs", 201), *[("POST", CTE, 201)] * 2, *[("DELETE", CTE, 204)] * 2]
    assert {"Career and Technical Education", "Vocational Education"} <= set(programs(sandbox))
    assert {s: program_of(a) for s, a in associations(sandbox).items()} == {
        "100000001": "Vocational Education", "100000006": "Vocational Education",
        "100000002": "Career and Technical Education"}

    sandbox.clear_requests()
    sync(programs_sis, resync=True, resources=("programs",))
    assert sent(sandbox) == [("POST", CTE, 201), ("DELETE", CTE, 204), ("DELETE", "programs", 204)]
    assert "Career and Technical Education" not in programs(sandbox)
    assert_rerun_sends_nothing(programs_sis, sandbox)


def test_toggle_off_then_on(programs_sis, sandbox):
    sync(programs_sis)
    sql(programs_sis, "INSERT INTO edfi_sync.resource_toggle VALUES (2025, %s, false)", CTE)
    sql(programs_sis, "UPDATE sis.program_participation SET end_date = '2025-04-01' WHERE participation_id = 501")
    sql(programs_sis, "DELETE FROM sis.program_participation WHERE participation_id = 506")
    sql(programs_sis, "UPDATE edfi_sync.mapping SET sis_value = '103' WHERE sis_value = '102'")
    sql(programs_sis, "INSERT INTO sis.program_participation VALUES (509, 7, 101, '2024-10-01', NULL, 'P', false)")
    sandbox.clear_requests()
    sync(programs_sis)
    assert sent(sandbox) == []  # OFF: nothing new sent, nothing already sent deleted
    assert set(associations(sandbox)) == {"100000001", "100000002", "100000006"}

    sql(programs_sis, "UPDATE edfi_sync.resource_toggle SET enabled = true")
    sync(programs_sis)
    assert sorted(sent(sandbox)) == [("DELETE", CTE, 204), ("POST", CTE, 201), ("PUT", CTE, 204)]
    cte = associations(sandbox)
    assert set(cte) == {"100000001", "100000002", "100000007"}
    assert cte["100000001"]["endDate"] == "2025-04-01"
    assert_rerun_sends_nothing(programs_sis, sandbox)


def test_program_delete_blocked_by_an_association_is_logged_and_the_next_resync_finishes(programs_sis, sandbox):
    sync(programs_sis)
    sql(programs_sis, "INSERT INTO edfi_sync.resource_toggle VALUES (2025, %s, false)", CTE)
    sql(programs_sis, "DELETE FROM edfi_sync.mapping WHERE resource = 'programs' AND sis_value IN ('101', '102')")
    sandbox.clear_requests()
    sync(programs_sis, resync=True, resources=("programs",))
    assert sent(sandbox) == [("DELETE", "programs", 409)]
    [error] = [r for r in report_rows("errors", YEAR, "programs", programs_sis) if not r["resolved"]]
    assert (error["action"], error["status"], error["error_code"], error["sis_object_key"]) == (
        "DELETE", 409, "delete_blocked_by_dependent", "101")
    assert "reference" in error["cause"] and "dependent" in error["fix"]
    assert "Career and Technical Education" in programs(sandbox)  # still mapped: retried by the next resync

    sql(programs_sis, "UPDATE edfi_sync.resource_toggle SET enabled = true")
    sandbox.clear_requests()
    sync(programs_sis, resync=True, resources=("programs",))
    assert sent(sandbox) == [*[("DELETE", CTE, 204)] * 3, ("DELETE", "programs", 204)]
    assert "Career and Technical Education" not in programs(sandbox)
    # The DELETE that finally went through resolves the 409 it had met.
    assert [r for r in report_rows("errors", YEAR, "programs", programs_sis) if not r["resolved"]] == []
    assert sql(programs_sis, "SELECT resolved_reason FROM edfi_sync.error_log WHERE resource = 'programs' "
                             "AND error_code = 'delete_blocked_by_dependent'") == [("deleted",)]
    assert_rerun_sends_nothing(programs_sis, sandbox)


def test_demo_casebook_programs_and_cte_cases(sis_db, tmp_path):
    """The casebook's program cases (README "The casebook", persons 3-6 and 33-48) after a demo sync."""
    from e2e_helpers import api_env, demo_sandbox, load_demo, run_sync

    descriptors = tmp_path / "descriptors.json"
    load_demo(1, descriptors)
    with demo_sandbox(descriptors) as server:
        run_sync(api_env(server), timeout=300)
        state = dict(sql(sis_db, "SELECT person_id, state_id FROM sis.person WHERE person_id <= 55"))
        cte: dict[str, list] = {}
        for record in server.records(CTE):
            cte.setdefault(record["studentReference"]["studentUniqueId"], []).append(record)
        assert all(len(cte.get(state[pid], ())) <= 1 for pid in state)  # one CTE case per casebook person
        by_person = {pid: (cte.get(state[pid]) or [None])[0] for pid in state}
        tsa = {pid: (a or {}).get("technicalSkillsAssessmentDescriptor", "").rpartition("#")[2]
               for pid, a in by_person.items()}
        # Excluded: state exclude (3), excluded calendar (4), excluded school (6); unmapped program (33);
        # no overlap (38).
        assert [pid for pid in (3, 4, 6, 33, 38) if by_person[pid]] == []
        assert tsa[34] == "Passed" and tsa[35] == "Passed" and tsa[40] == "Passed"
        assert (by_person[36]["beginDate"], "endDate" in by_person[36]) == ("2024-07-01", False)
        assert tsa[36] == "Not Passed"
        assert by_person[37]["beginDate"] < "2024-07-01" and "endDate" in by_person[37]
        assert program_of(by_person[39]) == "Vocational Education" and "ctePrograms" not in by_person[39]
        assert "ctePrograms" in by_person[34]
        names = set(programs(server))
        assert "Gifted and Talented" in names and "Athletics Eligibility" not in names  # 42 mapped, 41 not
        assert {"Title I Part A", "Special Education", "Student School Food Service", "Homeless",
                "Migrant Education", "English as a Second Language (ESL)"} <= names
        # The other kinds: 42 a mapped flag, 43 four areas at once, 45 a locked IEP, 48/49 FRAM F/R; none
        # for 41 (unmapped flag), 44 (ended in Y-1), 46 (unlocked IEP), 47 (504 plan), 50/51 (FRAM S/N).
        kinds: dict[int, set] = {pid: set() for pid in state}
        for resource in RESOURCES:
            if resource.startswith("student") and "Program" in resource and resource != CTE:
                for record in server.records(resource):
                    pid = next((p for p, s in state.items() if s == record["studentReference"]["studentUniqueId"]), None)
                    if pid is not None:
                        kinds[pid].add(resource.removeprefix("student").removesuffix("ProgramAssociations") or "Program")
        assert {pid: kinds[pid] for pid in range(41, 52)} == {
            41: set(), 42: {"Program"}, 43: {"TitleIPartA", "LanguageInstruction", "MigrantEducation", "Homeless"},
            44: set(), 45: {"SpecialEducation"}, 46: set(), 47: set(), 48: {"SchoolFoodService"},
            49: {"SchoolFoodService"}, 50: set(), 51: set()}
        errors = [r for r in report_rows("errors", YEAR, None, sis_db) if "Program" in r["resource"] or
                  r["resource"] == "programs"]
        assert errors == []
