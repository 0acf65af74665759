"""Seeds 001 (Programs) and 000 (Student CTE Program Associations), one test per rule bullet, at the
rule-function and build-rule level (no database, no server)."""

from __future__ import annotations

from datetime import date

import pytest

from edfi_sync.resources import GRAPH, RESOURCES
from edfi_sync.resources.base import BuildContext
from edfi_sync.rules.common import Mappings, SchoolYear, UnmappedValue
from edfi_sync.rules.programs import (
    Certification, area_record_counts, begin_date, chosen_certification, cte_programs, end_date,
    food_service_program_services, last_qualifying_move, non_traditional_gender_status, object_key, overlaps_year,
    priority_for_services, private_cte_program, program_id, program_identity, program_name, program_type,
    technical_skills_assessment, title_i_participant)

YEAR = SchoolYear.from_setup(2025)
PTD = "uri://ed-fi.org/ProgramTypeDescriptor"
TSA = "uri://ed-fi.org/TechnicalSkillsAssessmentDescriptor"
CPD = "uri://ed-fi.org/CareerPathwayDescriptor"
MAPPINGS = Mappings.from_rows([
    ("programs", "program_type", "101", PTD, "Career and Technical Education"),
    ("programs", "program_type", "102", PTD, "Career and Technical Education"),
    ("programs", "program_type", "105", PTD, "Technical Preparatory"),
    ("programs", "program_type", "111", PTD, "Gifted and Talented"),
    ("programs", "program_type", "title1", PTD, "Title I Part A"),
    ("programs", "program_type", "lep", PTD, "English as a Second Language (ESL)"),
    ("programs", "program_type", "migrant", PTD, "Migrant Education"),
    ("programs", "program_type", "homeless", PTD, "Homeless"),
    ("programs", "program_type", "fram", PTD, "Student School Food Service"),
    ("programs", "program_type", "sped", PTD, "Special Education"),
    ("studentCTEProgramAssociations", "technical_skills_assessment", "passed", TSA, "Passed"),
    ("studentCTEProgramAssociations", "technical_skills_assessment", "attempted", TSA, "Not Passed"),
    ("studentCTEProgramAssociations", "career_pathway", "101", CPD, "Manufacturing"),
])
CTX = BuildContext(YEAR, MAPPINGS)


# --- seed 001: Programs ---------------------------------------------------------------------------

@pytest.mark.parametrize("start, end, overlaps", [
    (date(2024, 8, 12), None, True),
    (None, None, True),                       # NULL start -> 07/01/(Y-1), NULL end -> 06/30/Y
    (None, date(2024, 7, 1), True),           # ends on the first day of the year
    (None, date(2024, 6, 30), False),         # ended the day before the year
    (date(2025, 6, 30), None, True),          # starts on the last day
    (date(2025, 7, 1), None, False),          # starts after the year
    (date(2022, 8, 1), date(2024, 9, 1), True),  # partial overlap
    (date(2022, 8, 1), date(2023, 5, 1), False),
])
def test_a_record_must_overlap_the_configured_year_with_the_null_date_defaults(start, end, overlaps):
    assert overlaps_year(YEAR, start, end) is overlaps


@pytest.mark.parametrize("area, details, counts", [
    ("title1", {}, True), ("lep", {}, True), ("migrant", {}, True), ("homeless", {}, True),
    ("sped", {"plan_type": "IEP", "locked": True}, True),      # "SPED - locked IEP"
    ("sped", {"plan_type": "IEP", "locked": False}, False),
    ("sped", {"plan_type": "504", "locked": True}, False),
    ("fram", {"eligibility": "F"}, True), ("fram", {"eligibility": "R"}, True),
    ("fram", {"eligibility": "S"}, False), ("fram", {"eligibility": "N"}, False),
    ("fram", {"eligibility": None}, False),
])
def test_program_areas_that_post_a_program(area, details, counts):
    assert area_record_counts(area, **details) is counts


@pytest.mark.parametrize("source, descriptor", [
    ("111", f"{PTD}#Gifted and Talented"),  # a flag mapped to a Program Type Descriptor
    ("101", f"{PTD}#Career and Technical Education"),
    ("sped", f"{PTD}#Special Education"),
    ("115", None),                          # unmapped flag: no program, no error
    ("109", None),                          # unmapped CTE program
])
def test_only_mapped_flags_programs_and_areas_report(source, descriptor):
    assert program_type(MAPPINGS, source) == descriptor


@pytest.mark.parametrize("kind, flag_name, expected", [
    ("flag", "Gifted Kids", "Gifted Kids"),                  # 1. Flags: the Flag Name
    ("cte", None, "Career and Technical Education"),        # 2. a program area: the mapped descriptor
    ("title1", None, "Career and Technical Education"),
    ("flag", None, None),                                    # a nameless flag fails schema validation
])
def test_program_name(kind, flag_name, expected):
    assert program_name(f"{PTD}#Career and Technical Education", kind, flag_name) == expected


@pytest.mark.parametrize("sources, expected", [
    (["111"], "111"),               # 1. the program ID from the flag or Career Tech Program
    (["102", "101"], "101"),        # Our reading: the lowest when several map to one program
    (["9", "10"], "9"),             # numerically lowest
    (["title1"], "1"),              # 2. otherwise '1'
    (["fram", "sped"], "1"),
])
def test_program_id(sources, expected):
    assert program_id(sources) == expected


@pytest.mark.parametrize("sources, expected", [
    (["102", "101"], "101"), (["sped"], "sped"), (["title1"], "title1"), (["sped", "lep"], "lep"),
    (["sped", "105"], "105"),
])
def test_identity_map_object_key_is_the_program_id_or_the_area_sped_for_the_iep(sources, expected):
    assert object_key(sources) == expected


def test_program_identity_is_the_lea_the_mapped_descriptor_and_the_name():
    identity = program_identity(MAPPINGS, "3500100", "cte", "105")
    assert identity.reference() == {"educationOrganizationId": "3500100", "programName": "Technical Preparatory",
                                    "programTypeDescriptor": f"{PTD}#Technical Preparatory"}
    assert program_identity(MAPPINGS, "3500100", "cte", "109") is None


def _record(kind, source, start="2024-08-20", end=None, name=None, **details):
    return {"kind": kind, "source": source, "name": name, "start_date": start, "end_date": end,
            "eligibility": details.get("eligibility"), "plan_type": details.get("plan_type"),
            "locked": details.get("locked", False)}


def _programs(records, ctx=CTX):
    build = RESOURCES["programs"].build
    return {(d.body["programName"], d.body["programTypeDescriptor"].split("#")[1]): (d.sis_object_key, d.body)
            for d in build({"district_id": 1, "district_number": "3500100", "records": records}, ctx)}


def test_programs_are_district_level_and_deduplicated_all_students_reference_the_same_program():
    built = _programs([
        _record("cte", "101"), _record("cte", "102", start=None), _record("cte", "105"),
        _record("flag", "111", name="Gifted Kids"), _record("flag", "115", name="Athletics Eligibility"),
        _record("cte", "109"),  # Cosmetology: unmapped
        _record("title1", "title1"), _record("title1", "title1", start="2023-08-01", end="2024-05-01"),
        _record("lep", "lep", start="2022-08-01", end="2023-05-01"),  # ended before Y: no program
        _record("sped", "sped", plan_type="IEP", locked=False),     # not locked: no program
        _record("fram", "fram", eligibility="N"),                   # not eligible: no program
        _record("migrant", "migrant", start="2025-08-01"),         # starts after Y
    ])
    assert set(built) == {("Career and Technical Education", "Career and Technical Education"),
                          ("Technical Preparatory", "Technical Preparatory"),
                          ("Gifted Kids", "Gifted and Talented"), ("Title I Part A", "Title I Part A")}
    key, cte = built[("Career and Technical Education", "Career and Technical Education")]
    assert (key, cte["programId"]) == ("101", "101")
    assert cte["educationOrganizationReference"] == {"educationOrganizationId": "3500100"}
    assert built[("Title I Part A", "Title I Part A")][0] == "title1"
    assert built[("Title I Part A", "Title I Part A")][1]["programId"] == "1"
    assert set(cte) == {"educationOrganizationReference", "programName", "programTypeDescriptor", "programId"}


def test_a_removed_mapping_no_longer_produces_the_program():
    records = [_record("title1", "title1"), _record("cte", "105")]
    without = Mappings.from_rows([("programs", "program_type", "105", PTD, "Technical Preparatory")])
    assert set(_programs(records, BuildContext(YEAR, without))) == {("Technical Preparatory", "Technical Preparatory")}


def test_programs_are_deleted_only_by_an_all_schools_resync_and_cascade_to_associations():
    assert RESOURCES["programs"].deleted_only_by_all_schools_resync
    assert not RESOURCES["studentCTEProgramAssociations"].deleted_only_by_all_schools_resync
    assert RESOURCES["programs"].level == "lea"
    # A resync of programs also runs (and re-keys) every association that references a program.
    associations = [name for name in GRAPH.post_order() if name.startswith("student") and "Program" in name]
    assert len(associations) == 8
    assert GRAPH.selection(["programs"], resync=True) == ["programs", *associations]
    assert GRAPH.selection(["programs"]) == ["programs"]
    steps = [s.task_id for s in GRAPH.steps(["programs"], resync=True)]
    assert steps[0] == "post.programs" and steps[-1] == "delete.programs"
    assert set(steps[1:-1]) == {f"{phase}.{name}" for phase in ("post", "delete") for name in associations}


# --- seed 000: Student CTE Program Associations ---------------------------------------------------

def _cte_row(**changes):
    row = {"record_id": 340, "program_id": 101, "start_date": date(2024, 8, 20), "end_date": None,
           "student_status": "P", "non_traditional": False, "state_id": "100000034", "first_name": "Ana",
           "last_name": "Ruiz", "district_number": "3500100", "state_code": "48.0508",
           "school_numbers": ["350010001"], "certifications": []}
    return {**row, **changes}


def _cte(ctx=CTX, **changes):
    drafts = RESOURCES["studentCTEProgramAssociations"].build(_cte_row(**changes), ctx)
    return drafts[0].body if drafts else None


@pytest.mark.parametrize("start, end, reported", [
    (date(2024, 8, 20), None, True), (None, None, True), (date(2022, 8, 1), date(2024, 9, 1), True),
    (date(2022, 8, 1), date(2024, 5, 1), False), (date(2025, 8, 10), None, False),
])
def test_reports_a_cte_record_that_overlaps_the_configured_year(start, end, reported):
    assert (_cte(start_date=start, end_date=end) is not None) is reported


@pytest.mark.parametrize("program, reported", [(101, True), (105, True), (109, False)])
def test_only_cte_programs_mapped_to_an_ed_fi_code_report(program, reported):
    body = _cte(program_id=program)
    assert (body is not None) is reported
    if body:
        assert body["programReference"] == program_identity(MAPPINGS, "3500100", "cte", str(program)).reference()


@pytest.mark.parametrize("start, expected", [(date(2024, 8, 20), date(2024, 8, 20)), (None, date(2024, 7, 1))])
def test_begin_date_is_the_start_date_or_07_01_of_the_start_year(start, expected):
    assert begin_date(YEAR, start) == expected
    assert _cte(start_date=start)["beginDate"] == expected


@pytest.mark.parametrize("end", [None, date(2025, 3, 1)])
def test_end_date_is_not_reported_when_null(end):
    assert end_date(end) == end
    body = RESOURCES["studentCTEProgramAssociations"].model.model_validate(_cte(end_date=end)).to_json()
    assert ("endDate" in body) is (end is not None)


@pytest.mark.parametrize("checked, expected", [(True, True), (False, False), (None, False)])
def test_non_traditional_gender_status(checked, expected):
    assert non_traditional_gender_status(checked) is expected
    assert _cte(non_traditional=checked)["nonTraditionalGenderStatus"] is expected


def test_private_cte_program_is_hard_coded_false():
    assert private_cte_program() is False
    assert _cte()["privateCTEProgram"] is False


def cert(cid, attempted, passed, day):
    return Certification(cid, attempted, passed, day)


@pytest.mark.parametrize("certifications, chosen", [
    ([], None),
    ([cert(1, True, True, date(2025, 1, 1)), cert(2, True, False, date(2025, 3, 1))], 2),   # latest date first
    ([cert(1, True, True, date(2025, 3, 1)), cert(2, True, False, date(2025, 3, 1))], 1),   # then passed wins
    ([cert(1, True, False, date(2025, 3, 1)), cert(2, False, False, date(2025, 3, 1))], 1),  # attempted > neither
    ([cert(1, True, True, date(2025, 3, 1)), cert(2, True, True, date(2025, 3, 1)),
      cert(3, True, True, date(2025, 1, 1)), cert(4, True, True, None)], 2),                 # then highest id
    ([cert(1, True, True, None), cert(2, False, False, date(2024, 9, 1))], 2),               # NULL dates last
    ([cert(1, False, True, date(2025, 3, 1)), cert(2, True, False, date(2025, 3, 1))], 1),  # passed w/o attempted
])
def test_technical_skills_assessment_priority_latest_date_highest_participation_certification_id(
        certifications, chosen):
    found = chosen_certification(certifications)
    assert (found.certification_id if found else None) == chosen


@pytest.mark.parametrize("attempted, passed, expected", [
    (True, True, f"{TSA}#Passed"), (False, True, f"{TSA}#Passed"), (True, False, f"{TSA}#Not Passed"),
    (False, False, None),  # not_attempted is unmapped here: omitted, no error
])
def test_technical_skills_assessment_is_the_mapped_outcome(attempted, passed, expected):
    assert technical_skills_assessment(MAPPINGS, [cert(1, attempted, passed, date(2025, 3, 1))]) == expected
    body = _cte(certifications=[{"certification_id": 1, "attempted": attempted, "passed": passed,
                                 "certification_date": "2025-03-01"}])
    assert body["technicalSkillsAssessmentDescriptor"] == expected
    assert _cte()["technicalSkillsAssessmentDescriptor"] is None  # no certification


@pytest.mark.parametrize("program, status, standard, expected", [
    (101, "C", "4.0", [{"careerPathwayDescriptor": f"{CPD}#Manufacturing", "cipCode": "48.0508",
                        "primaryCTEProgramIndicator": True, "cteProgramCompletionIndicator": True}]),
    (101, "P", "4.0", [{"careerPathwayDescriptor": f"{CPD}#Manufacturing", "cipCode": "48.0508",
                        "primaryCTEProgramIndicator": True, "cteProgramCompletionIndicator": False}]),
    (105, "C", "4.0", None),   # no career_pathway mapping: omitted, no error
    (101, "C", "5", None),     # Data Standard 5 has no ctePrograms collection
])
def test_cte_programs(program, status, standard, expected):
    assert cte_programs(MAPPINGS, program, "48.0508", status, standard) == expected
    body = _cte(BuildContext(YEAR, MAPPINGS, standard), program_id=program, student_status=status)
    assert body["ctePrograms"] == expected


def test_nothing_else_is_reported():
    model = RESOURCES["studentCTEProgramAssociations"].model
    body = model.model_validate(_cte(end_date=date(2025, 3, 1), certifications=[
        {"certification_id": 1, "attempted": True, "passed": True, "certification_date": None}])).to_json()
    assert set(body) == {"beginDate", "educationOrganizationReference", "programReference", "studentReference",
                         "endDate", "nonTraditionalGenderStatus", "privateCTEProgram",
                         "technicalSkillsAssessmentDescriptor", "ctePrograms"}
    for never in ("cteProgramServices", "participationStatus", "programParticipationStatuses",
                  "reasonExitedDescriptor", "servedOutsideOfRegularSession", "services"):
        assert never not in model.model_fields


def test_the_association_is_known_by_its_participation_and_its_key_holds_begin_date_and_program():
    definition = RESOURCES["studentCTEProgramAssociations"]
    draft = definition.build(_cte_row(), CTX)[0]
    assert draft.sis_object_key == "340" and draft.school_ids == ("350010001",)
    assert definition.key_change == "delete_post"
    assert {"beginDate", "programReference.programName", "programReference.programTypeDescriptor"} <= set(
        definition.natural_key)


# --- the other student program associations (SPEC §7 "Other student program associations") --------
AREA_MAPPINGS = Mappings.from_rows([
    *[("programs", "program_type", area, PTD, code) for area, code in (
        ("title1", "Title I Part A"), ("lep", "English as a Second Language (ESL)"), ("migrant", "Migrant Education"),
        ("homeless", "Homeless"), ("fram", "Student School Food Service"), ("sped", "Special Education"),
        ("111", "Gifted and Talented"))],
    ("studentTitleIPartAProgramAssociations", "participant", "*", "uri://ed-fi.org/TitleIPartAParticipantDescriptor",
     "Public Targeted Assistance Program"),
    ("studentSchoolFoodServiceProgramAssociations", "eligibility", "F",
     "uri://ed-fi.org/SchoolFoodServiceProgramServiceDescriptor", "Free Lunch"),
])
AREA_CTX = BuildContext(YEAR, AREA_MAPPINGS)
KINDS = {  # resource -> (area, the elements it adds to the shared ones)
    "studentTitleIPartAProgramAssociations": ("title1", {"titleIPartAParticipantDescriptor"}),
    "studentLanguageInstructionProgramAssociations": ("lep", set()),
    "studentMigrantEducationProgramAssociations": ("migrant", {"lastQualifyingMove", "priorityForServices"}),
    "studentHomelessProgramAssociations": ("homeless", set()),
    "studentSchoolFoodServiceProgramAssociations": ("fram", {"schoolFoodServiceProgramServices"}),
    "studentSpecialEducationProgramAssociations": ("sped", set()),
}
SHARED = {"beginDate", "educationOrganizationReference", "programReference", "studentReference"}


def _area_row(area, **changes):
    row = {"record_id": 20, "area": area, "start_date": date(2024, 8, 20), "end_date": None,
           "eligibility": "F" if area == "fram" else None, "plan_type": "IEP" if area == "sped" else None,
           "locked": area == "sped", "district_number": "3500100", "state_id": "100000002", "first_name": "Ben",
           "last_name": "Ortiz", "school_numbers": ["350010002"]}
    return {**row, **changes}


def _association(resource, ctx=AREA_CTX, **changes):
    definition = RESOURCES[resource]
    drafts = definition.build(_area_row(KINDS[resource][0], **changes), ctx)
    return definition.model.model_validate(drafts[0].body).to_json() if drafts else None


@pytest.mark.parametrize("resource", sorted(KINDS))
def test_each_kind_reports_the_shared_elements_and_only_its_own(resource):
    area, own = KINDS[resource]
    body = _association(resource)
    assert set(body) == SHARED | own
    assert body["beginDate"] == "2024-08-20"
    assert body["programReference"] == {"educationOrganizationId": 3500100, "programTypeDescriptor":
                                        AREA_MAPPINGS.get("programs", "program_type", area),
                                        "programName": AREA_MAPPINGS.get("programs", "program_type", area)
                                        .rsplit("#", 1)[1]}
    assert _association(resource, end_date=date(2025, 2, 1))["endDate"] == "2025-02-01"
    assert _association(resource, start_date=None)["beginDate"] == "2024-07-01"
    definition = RESOURCES[resource]
    assert definition.extract_params == (("source", area),) and definition.sis_object_type == area
    assert "programs" in definition.upstream and definition.key_change == "delete_post"


@pytest.mark.parametrize("resource", sorted(KINDS))
@pytest.mark.parametrize("start, end, reported", [
    (None, None, True), (date(2022, 8, 1), date(2024, 9, 1), True), (date(2022, 8, 1), date(2024, 6, 1), False),
    (date(2025, 7, 15), None, False)])
def test_each_kind_reports_records_overlapping_the_year(resource, start, end, reported):
    assert (_association(resource, start_date=start, end_date=end) is not None) is reported


@pytest.mark.parametrize("resource", sorted(KINDS))
def test_an_unmapped_area_is_an_error_naming_the_program_type_mapping(resource):
    area = KINDS[resource][0]
    with pytest.raises(UnmappedValue, match=f"program_type = '{area}'"):
        RESOURCES[resource].build(_area_row(area), BuildContext(YEAR, Mappings()))


@pytest.mark.parametrize("changes, reported", [
    ({"eligibility": "F"}, True), ({"eligibility": "R"}, True), ({"eligibility": "S"}, False),
    ({"eligibility": "N"}, False)])
def test_food_service_for_free_or_reduced_eligibility(changes, reported):
    assert (_association("studentSchoolFoodServiceProgramAssociations", **changes) is not None) is reported


@pytest.mark.parametrize("changes, reported", [
    ({"plan_type": "IEP", "locked": True}, True), ({"plan_type": "IEP", "locked": False}, False),
    ({"plan_type": "504", "locked": True}, False)])
def test_special_education_for_locked_ieps(changes, reported):
    assert (_association("studentSpecialEducationProgramAssociations", **changes) is not None) is reported


def test_title_i_participant_comes_from_the_star_mapping_else_an_error_naming_it():
    assert title_i_participant(AREA_MAPPINGS).endswith("#Public Targeted Assistance Program")
    with pytest.raises(UnmappedValue, match="studentTitleIPartAProgramAssociations mapping for participant = '\\*'"):
        title_i_participant(MAPPINGS)


@pytest.mark.parametrize("eligibility, expected", [
    ("F", [{"schoolFoodServiceProgramServiceDescriptor":
            "uri://ed-fi.org/SchoolFoodServiceProgramServiceDescriptor#Free Lunch"}]),
    ("R", None)])  # no mapping for R: the collection is left out, no error
def test_food_service_program_services_from_the_eligibility_mapping(eligibility, expected):
    assert food_service_program_services(AREA_MAPPINGS, eligibility) == expected


@pytest.mark.parametrize("start, expected", [(date(2024, 9, 15), date(2024, 9, 15)), (None, date(2024, 7, 1))])
def test_migrant_last_qualifying_move_is_the_start_date_and_priority_for_services_false(start, expected):
    assert last_qualifying_move(YEAR, start) == expected
    assert priority_for_services() is False


@pytest.mark.parametrize("program_id, name, reported", [(111, "Gifted and Talented", True), (115, "Athletics", False)])
def test_flag_assignments_of_mapped_flags_only(program_id, name, reported):
    row = {**_cte_row(), "record_id": 345, "program_id": program_id, "program_name": name}
    drafts = RESOURCES["studentProgramAssociations"].build(row, AREA_CTX)
    assert bool(drafts) is reported
    if drafts:
        assert drafts[0].body["programReference"]["programName"] == name
        assert set(k for k, v in drafts[0].body.items() if v is not None) == SHARED
