"""The seven other student program associations (SPEC §7) end to end against the sandbox.

tests/fixtures/program_areas_small.sql on programs_small.sql and sync_small.sql, year 2025: student 1
has a flag (Gifted and Talented), EL, migrant, homeless, FRAM F and a locked IEP; student 2 has
Title I; student 6 has FRAM N and an unlocked IEP, which report nothing.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from edfi_sync.engine.cli import report_rows
from e2e_helpers import YEAR, sql, sync
from test_programs_e2e import FIXTURE, PTD, assert_rerun_sends_nothing, programs, sent

pytestmark = pytest.mark.e2e
AREAS = Path(__file__).parent / "fixtures" / "program_areas_small.sql"
KINDS = {  # resource -> the program its one association references
    "studentProgramAssociations": "Gifted and Talented",
    "studentTitleIPartAProgramAssociations": "Title I Part A",
    "studentLanguageInstructionProgramAssociations": "English as a Second Language (ESL)",
    "studentMigrantEducationProgramAssociations": "Migrant Education",
    "studentHomelessProgramAssociations": "Homeless",
    "studentSchoolFoodServiceProgramAssociations": "Student School Food Service",
    "studentSpecialEducationProgramAssociations": "Special Education",
}


@pytest.fixture
def areas_sis(small_sis):
    sql(small_sis, FIXTURE.read_text())
    sql(small_sis, AREAS.read_text())
    return small_sis


def only(sandbox, resource) -> dict:
    [record] = sandbox.records(resource)
    return record


def test_each_kind_is_posted_then_updated_ended_and_deleted(areas_sis, sandbox):
    sync(areas_sis)
    for resource, program in KINDS.items():
        record = only(sandbox, resource)
        assert record["programReference"]["programName"] == program, resource
        assert record["educationOrganizationReference"] == {"educationOrganizationId": 3500100}
    assert only(sandbox, "studentTitleIPartAProgramAssociations")["titleIPartAParticipantDescriptor"].endswith(
        "#Public Targeted Assistance Program")
    migrant = only(sandbox, "studentMigrantEducationProgramAssociations")
    assert (migrant["lastQualifyingMove"], migrant["priorityForServices"]) == ("2024-08-22", False)
    assert only(sandbox, "studentSchoolFoodServiceProgramAssociations")["schoolFoodServiceProgramServices"] == [
        {"schoolFoodServiceProgramServiceDescriptor": "uri://ed-fi.org/SchoolFoodServiceProgramServiceDescriptor#Free Lunch"}]
    assert not [r for r in report_rows("errors", YEAR, None, areas_sis) if "Program" in r["resource"]]

    ids = {resource: only(sandbox, resource)["id"] for resource in KINDS}
    sql(areas_sis, "UPDATE sis.title1 SET end_date = '2025-03-01'")                      # ended: PUT
    sql(areas_sis, "UPDATE sis.pos_eligibility SET eligibility = 'R' WHERE person_id = 1")  # no R mapping: PUT
    sql(areas_sis, "UPDATE sis.migrant SET start_date = '2024-09-01'")                    # key change
    sql(areas_sis, "DELETE FROM sis.homeless")                                            # source gone
    sql(areas_sis, "UPDATE sis.plan SET locked = false WHERE person_id = 1")              # no longer SPED
    sql(areas_sis, "UPDATE sis.program_participation SET end_date = '2024-06-01' WHERE participation_id = 511")
    sandbox.clear_requests()
    sync(areas_sis)
    assert Counter((m, r) for m, r, _ in sent(sandbox) if r in KINDS) == Counter({
        ("PUT", "studentTitleIPartAProgramAssociations"): 1, ("PUT", "studentSchoolFoodServiceProgramAssociations"): 1,
        ("POST", "studentMigrantEducationProgramAssociations"): 1,
        ("DELETE", "studentMigrantEducationProgramAssociations"): 1,
        ("DELETE", "studentHomelessProgramAssociations"): 1, ("DELETE", "studentSpecialEducationProgramAssociations"): 1,
        ("DELETE", "studentProgramAssociations"): 1})
    assert only(sandbox, "studentTitleIPartAProgramAssociations")["endDate"] == "2025-03-01"
    assert only(sandbox, "studentTitleIPartAProgramAssociations")["id"] == ids["studentTitleIPartAProgramAssociations"]
    assert "schoolFoodServiceProgramServices" not in only(sandbox, "studentSchoolFoodServiceProgramAssociations")
    assert only(sandbox, "studentMigrantEducationProgramAssociations")["beginDate"] == "2024-09-01"
    for gone in ("studentHomelessProgramAssociations", "studentSpecialEducationProgramAssociations",
                 "studentProgramAssociations"):
        assert sandbox.records(gone) == []
    # An incremental run deletes no program, even those no student uses any more (seed 001).
    assert {"Homeless", "Special Education", "Gifted and Talented"} <= set(programs(sandbox))
    assert_rerun_sends_nothing(areas_sis, sandbox)


NEW_TYPES = {"101": "Vocational Education", "102": "Vocational Education", "111": "Athletics",
             "title1": "Compensatory Services for Disadvantaged Students", "lep": "Bilingual",
             "migrant": "Even Start", "homeless": "Health Services Program", "fram": "Other", "sped": "IDEA"}


def test_program_mapping_change_then_all_schools_resync_repoints_every_kind(areas_sis, sandbox):
    sync(areas_sis)
    old = {p["id"] for p in sandbox.records("programs")}
    for source, code_value in NEW_TYPES.items():
        sql(areas_sis, "UPDATE edfi_sync.mapping SET code_value = %s WHERE field = 'program_type' AND sis_value = %s",
            code_value, source)
    sandbox.clear_requests()
    sync(areas_sis, resync=True, resources=("programs",))
    requests = sent(sandbox)
    counts = Counter((m, r) for m, r, _ in requests)
    assert counts[("POST", "programs")] == counts[("DELETE", "programs")] == 8
    for resource in [*KINDS, "studentCTEProgramAssociations"]:
        n = 3 if resource == "studentCTEProgramAssociations" else 1
        assert counts[("POST", resource)] == counts[("DELETE", resource)] == n, resource
    assert all(status in (200, 201, 204) for *_, status in requests)
    first_program_delete = requests.index(("DELETE", "programs", 204))
    assert all(r == "programs" for m, r, _ in requests[first_program_delete:])  # associations first
    assert not old & {p["id"] for p in sandbox.records("programs")}
    for resource, program in KINDS.items():
        reference = only(sandbox, resource)["programReference"]
        assert reference["programTypeDescriptor"] != f"{PTD}#{program}" or resource == "studentProgramAssociations"
        assert reference["programTypeDescriptor"].rsplit("#", 1)[1] in NEW_TYPES.values()
    assert_rerun_sends_nothing(areas_sis, sandbox)


def test_a_program_is_deleted_only_by_an_all_schools_resync_once_every_kind_is_gone(areas_sis, sandbox):
    sync(areas_sis)
    sql(areas_sis, "DELETE FROM edfi_sync.mapping WHERE sis_value = '111'")   # the flag: reported only when mapped
    sql(areas_sis, "DELETE FROM sis.homeless")
    sandbox.clear_requests()
    sync(areas_sis)
    assert sent(sandbox) == [("DELETE", "studentHomelessProgramAssociations", 204)]
    sync(areas_sis, resync=True, resources=("programs",))
    assert sent(sandbox)[1:] == [("DELETE", "studentProgramAssociations", 204),
                                 ("DELETE", "programs", 204), ("DELETE", "programs", 204)]
    assert not {"Homeless", "Gifted and Talented"} & set(programs(sandbox))
    assert_rerun_sends_nothing(areas_sis, sandbox)


def test_an_unmapped_area_is_an_error_row_and_keeps_its_program_until_its_associations_go(areas_sis, sandbox):
    sync(areas_sis)
    sql(areas_sis, "DELETE FROM edfi_sync.mapping WHERE sis_value = 'lep'")
    sandbox.clear_requests()
    sync(areas_sis, resync=True, resources=("programs",))
    # The EL record is still in the SIS: its association is an error row and stays in the ODS, so the
    # program's DELETE is refused (409) and logged; both clear once the mapping is back or the record goes.
    assert sent(sandbox) == [("DELETE", "programs", 409)]
    errors = {(r["resource"], r["error_code"]): r for r in report_rows("errors", YEAR, None, areas_sis)
              if not r["resolved"]}
    unmapped = errors[("studentLanguageInstructionProgramAssociations", "unmapped_value")]
    assert "program_type = 'lep'" in unmapped["message"] and unmapped["student_unique_id"] == "100000001"
    assert ("programs", "delete_blocked_by_dependent") in errors
    sql(areas_sis, "DELETE FROM sis.lep")
    sandbox.clear_requests()
    sync(areas_sis, resync=True, resources=("programs",))
    assert sent(sandbox) == [("DELETE", "studentLanguageInstructionProgramAssociations", 204),
                             ("DELETE", "programs", 204)]
    assert_rerun_sends_nothing(areas_sis, sandbox)


def test_the_same_key_under_two_kinds_is_a_logged_conflict_not_a_retry(areas_sis, sandbox):
    # EL and migrant mapped to one program, same student and begin date: one GeneralStudentProgramAssociation key.
    sql(areas_sis, "UPDATE edfi_sync.mapping SET code_value = 'Bilingual' WHERE sis_value IN ('lep', 'migrant')")
    sql(areas_sis, "UPDATE sis.migrant SET start_date = '2024-08-21'")
    sync(areas_sis)
    requests = [(m, r, s) for m, r, s in sent(sandbox) if r in ("studentLanguageInstructionProgramAssociations",
                                                                 "studentMigrantEducationProgramAssociations")]
    assert sorted(requests) == [("POST", "studentLanguageInstructionProgramAssociations", 201),
                                ("POST", "studentMigrantEducationProgramAssociations", 409)]
    [error] = [r for r in report_rows("errors", YEAR, "studentMigrantEducationProgramAssociations", areas_sis)]
    assert (error["status"], error["error_code"], error["student_unique_id"]) == (409, "natural_key_conflict",
                                                                                 "100000001")
    sandbox.clear_requests()
    sync(areas_sis)  # a 4xx is not retried within a run; the next run sends it again, and is refused again
    assert sent(sandbox) == [("POST", "studentMigrantEducationProgramAssociations", 409)]
