"""Seed 004's rules, one table per bullet, on the pure functions (no database, no server)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from edfi_sync.resources import RESOURCES
from edfi_sync.resources.base import BuildContext, BuildError
from edfi_sync.rules.academic_records import (Enrollment, Graduation, Qualification, Term, TermNotDeterminable,
                                              Transcript, course_attempt_result, cumulative_credits, diploma,
                                              diploma_term, diploma_type_descriptor, earned_credits,
                                              graduated_by_end_status, plan, qualification, session_credits,
                                              transcript_term, usable_graduation)
from edfi_sync.rules.common import Mappings, SchoolYear, UnmappedValue

Y = 2025
YEAR = SchoolYear.from_setup(Y)
TERM = "uri://ed-fi.org/TermDescriptor#"
NM = "uri://nmped.org/DiplomaTypeDescriptor"
MAPPINGS = Mappings({
    ("sessions", "term", "S1"): TERM + "Fall Semester", ("sessions", "term", "S2"): TERM + "Spring Semester",
    ("sessions", "term", "T1"): TERM + "First Trimester", ("sessions", "term", "OV"): TERM + "Summer Semester",
    ("studentAcademicRecords", "transcript_term_override", "*"): TERM + "Year Round",
    ("studentAcademicRecords", "diploma_type", "1"): f"{NM}#1", ("studentAcademicRecords", "diploma_type", "2"): f"{NM}#2",
    ("studentAcademicRecords", "achievement_category", "1"): "uri://ed-fi.org/AchievementCategoryDescriptor#Diploma Earned",
    ("studentAcademicRecords", "achievement_category", "2"): "uri://ed-fi.org/AchievementCategoryDescriptor#Certificate Earned",
    ("studentSchoolAssociations", "exit_withdraw_type", "WG"): "uri://nmped.org/ExitWithdrawTypeDescriptor#G",
    ("studentSchoolAssociations", "exit_withdraw_type", "WE"): "uri://ed-fi.org/ExitWithdrawTypeDescriptor#End of school year",
    ("studentSchoolAssociations", "exit_withdraw_type", "XG"): "uri://ed-fi.org/ExitWithdrawTypeDescriptor#G",
})
WITHOUT_FALLBACK = Mappings({k: v for k, v in MAPPINGS._rows.items() if k[1] != "transcript_term_override"})

S1 = Term(1, 10, "S1", date(2024, 8, 12), date(2024, 12, 20))
S2 = Term(2, 10, "S2", date(2025, 1, 6), date(2025, 5, 23))
T1 = Term(3, 11, "T1", date(2024, 8, 12), date(2024, 11, 15))  # a second primary schedule, overlapping S1
Q4 = Term(4, 10, "Q4", date(2025, 3, 17), date(2025, 5, 30))   # unmapped


def enrollment(end=None, status=None, service="P", terms=(S1, S2), enrollment_id=1, start=date(2024, 8, 12)):
    return Enrollment(enrollment_id, "350010001", "3500100", service, start, end, status, terms)


def graduation(diploma_type="1", on=date(2025, 5, 23), graduation_id=1):
    return Graduation(graduation_id, diploma_type, on)


# --- Post / Delete triggers ---------------------------------------------------------------------------

@pytest.mark.parametrize("case, graduations, enrollments, qualifies_on", [
    # "Report ... when a student's primary enrollment is ended OR a Diploma Date is entered within the
    # config year and they have a Student School Association record for the configured year."
    ("diploma date in the year", [graduation()], [enrollment()], date(2025, 5, 23)),
    ("ended primary enrollment mapped to G", [], [enrollment(date(2025, 5, 22), "WG")], date(2025, 5, 22)),
    ("no SSA in the year", [graduation()], [], None),
    ("neither", [], [enrollment()], None),
    # "If reporting from an ended enrollment, only report if the ExitWithdrawType ... reports 'G'."
    ("ended with WE", [], [enrollment(date(2025, 5, 22), "WE")], None),
    ("G in another namespace", [], [enrollment(date(2025, 5, 22), "XG")], date(2025, 5, 22)),
    ("a secondary enrollment ended with WG", [], [enrollment(date(2025, 5, 22), "WG", service="S")], None),
    ("WG without an end date", [], [enrollment(None, "WG")], None),
    # Delete: "If the Diploma date and/or Diploma Type fields are made NULL." (with an open enrollment)
    ("diploma type NULL", [graduation(None)], [enrollment()], None),
    ("diploma date NULL", [graduation(on=None)], [enrollment()], None),
    # Delete: "If a Graduation record is deleted." / "If the Diploma Date is changed to no longer occur
    # in the configured year."
    ("diploma date after the year", [graduation(on=date(2025, 7, 18))], [enrollment()], None),
    ("diploma date before the year", [graduation(on=date(2024, 6, 30))], [enrollment()], None),
    # Delete: "If there is no Diploma Date and the enrollment end status is changed to a non-graduated status."
    ("no diploma date, end status WE", [graduation(on=None)], [enrollment(date(2025, 5, 22), "WE")], None),
    ("no diploma date, end status WG", [graduation(on=None)], [enrollment(date(2025, 5, 22), "WG")],
     date(2025, 5, 22)),
    # Our reading: a diploma date outside the year still lets the end status qualify.
    ("diploma after the year, end status WG", [graduation(on=date(2025, 7, 18))], [enrollment(date(2025, 5, 22), "WG")],
     date(2025, 5, 22)),
])
def test_qualification(case, graduations, enrollments, qualifies_on):
    found = qualification(graduations, enrollments, YEAR, MAPPINGS)
    assert (found.award_date if found else None) == qualifies_on, case


@pytest.mark.parametrize("start, end, on, usable", [
    # "The Diploma Date must be on or after the school year's start date and on or before the school
    # year's end date ... If blank, the default start date of 7/1/xxxx and end date of 6/30/xxxx are used."
    (None, None, date(2024, 7, 1), True), (None, None, date(2025, 6, 30), True),
    (None, None, date(2025, 7, 1), False), (None, None, date(2024, 6, 30), False),
    (date(2024, 8, 1), date(2025, 6, 15), date(2025, 6, 20), False),
    (date(2024, 8, 1), date(2025, 6, 15), date(2025, 6, 15), True),
])
def test_diploma_date_within_the_school_year_setup(start, end, on, usable):
    year = SchoolYear.from_setup(Y, start, end)
    assert (usable_graduation([graduation(on=on)], year) is not None) == usable


def test_the_latest_usable_graduation_row_wins():
    rows = [graduation("1", date(2025, 1, 10), 1), graduation("2", date(2025, 5, 1), 2), graduation(None, date(2025, 6, 1), 3)]
    assert usable_graduation(rows, YEAR).graduation_id == 2


def test_graduation_wins_over_the_end_status_and_the_latest_graduating_enrollment_counts():
    ended = [enrollment(date(2025, 1, 10), "WG", enrollment_id=1), enrollment(date(2025, 5, 20), "WG", enrollment_id=2)]
    assert qualification([], ended, YEAR, MAPPINGS).school_enrollment.enrollment_id == 2
    assert qualification([graduation()], ended, YEAR, MAPPINGS).diploma_type == "1"


@pytest.mark.parametrize("status, graduated", [("WG", True), ("XG", True), ("WE", False), ("W9", False), (None, False)])
def test_graduated_by_end_status_means_code_value_g(status, graduated):
    assert graduated_by_end_status(enrollment(date(2025, 5, 22), status), MAPPINGS) is graduated


# --- diplomas array -------------------------------------------------------------------------------------

@pytest.mark.parametrize("diploma_type, mappings, expected", [
    # "Report the Ed-Fi Code value for the Diploma Type selected."
    ("2", MAPPINGS, f"{NM}#2"),
    # "If Diploma Type is not populated, report EdFi Code '1'." Our reading: the '*' mapping first,
    # else code 1 of the namespace the diploma_type mappings share.
    (None, MAPPINGS, f"{NM}#1"),
    (None, Mappings({**MAPPINGS._rows, ("studentAcademicRecords", "diploma_type", "*"): f"{NM}#4"}), f"{NM}#4"),
])
def test_diploma_type(diploma_type, mappings, expected):
    assert diploma_type_descriptor(diploma_type, mappings) == expected


@pytest.mark.parametrize("rows", [
    {},  # nothing to take the namespace from
    {("studentAcademicRecords", "diploma_type", "1"): f"{NM}#1",
     ("studentAcademicRecords", "diploma_type", "2"): "uri://other.org/DiplomaTypeDescriptor#2"},
])
def test_default_diploma_type_without_a_namespace_is_an_unmapped_value(rows):
    with pytest.raises(UnmappedValue):
        diploma_type_descriptor(None, Mappings(rows))


def test_unmapped_diploma_type_is_an_unmapped_value():
    with pytest.raises(UnmappedValue, match="diploma_type = '5'"):
        diploma(Qualification(date(2025, 5, 23), "5", None), MAPPINGS)


@pytest.mark.parametrize("qualified, expected", [
    # diplomaAwardDate: "Report the Diploma Date if populated." achievementCategoryDescriptor: "Report the
    # Ed-Fi Code from the mapping for this field based on the Diploma Type the student associated."
    (Qualification(date(2025, 5, 23), "1", None),
     {"diplomaAwardDate": date(2025, 5, 23), "diplomaTypeDescriptor": f"{NM}#1",
      "achievementCategoryDescriptor": "uri://ed-fi.org/AchievementCategoryDescriptor#Diploma Earned"}),
    # "Else, report the enrollment end date." (graduated by end status: the default type, no category)
    (Qualification(date(2025, 5, 22), None, None),
     {"diplomaAwardDate": date(2025, 5, 22), "diplomaTypeDescriptor": f"{NM}#1", "achievementCategoryDescriptor": None}),
])
def test_diploma(qualified, expected):
    assert diploma(qualified, MAPPINGS) == expected


# --- termDescriptor ---------------------------------------------------------------------------------------

def row(**fields):
    return Transcript(transcript_id=fields.pop("transcript_id", 1), end_year=fields.pop("end_year", Y), **fields)


@pytest.mark.parametrize("case, transcript, mappings, expected", [
    # 1. end year = Y, with a score: transcript override, course override, section override, the score's term,
    #    the SAR preference; "If a Term cannot be determined, provide error".
    ("1 transcript override", row(score_id=1, transcript_override="OV", course_override="S2", score_term="S1"),
     MAPPINGS, "Summer Semester"),
    ("1 course override", row(score_id=1, course_override="S2", section_override="T1", score_term="S1"),
     MAPPINGS, "Spring Semester"),
    ("1 section override", row(score_id=1, section_override="T1", score_term="S1"), MAPPINGS, "First Trimester"),
    ("1 score's term", row(score_id=1, score_term="S1"), MAPPINGS, "Fall Semester"),
    ("1 score's term unmapped: SAR preference", row(score_id=1, score_term="Q4"), MAPPINGS, "Year Round"),
    ("1 no term at all", row(score_id=1, score_term="Q4"), WITHOUT_FALLBACK, None),
    ("1 override unmapped", row(score_id=1, transcript_override="WI", score_term="S1"), MAPPINGS, None),
    # 2. another end year, with a score: transcript override, else the same seq in Y, else the preference.
    ("2 transcript override", row(end_year=2024, score_id=1, transcript_override="S2", aligned_term="S1"),
     MAPPINGS, "Spring Semester"),
    ("2 re-aligned by seq", row(end_year=2024, score_id=1, score_term="S1", aligned_term="T1"),
     MAPPINGS, "First Trimester"),
    ("2 course overrides do not count", row(end_year=2024, score_id=1, course_override="S2", aligned_term="S1"),
     MAPPINGS, "Fall Semester"),
    ("2 no term of that seq in Y: SAR preference", row(end_year=2024, score_id=1, score_term="S3"),
     MAPPINGS, "Year Round"),
    ("2 no term at all", row(end_year=2024, score_id=1, score_term="S3"), WITHOUT_FALLBACK, None),
    # 3. manually added (no score): "Report the Ed-Fi Term Descriptor Override selected on the transcript
    #    record. Else, report the Ed-Fi Code from the ... SAR preferences. If a Term cannot be determined,
    #    provide error"
    ("3 transcript override", row(end_year=2023, transcript_override="S2"), MAPPINGS, "Spring Semester"),
    ("3 SAR preference", row(end_year=2023), MAPPINGS, "Year Round"),
    ("3 no term at all", row(end_year=2023), WITHOUT_FALLBACK, None),
    ("3 override unmapped", row(end_year=Y, transcript_override="WI"), MAPPINGS, None),
])
def test_transcript_term(case, transcript, mappings, expected):
    if expected is None:
        with pytest.raises(TermNotDeterminable, match="transcript 1"):
            transcript_term(transcript, Y, mappings)
    else:
        assert transcript_term(transcript, Y, mappings) == TERM + expected, case


@pytest.mark.parametrize("case, on, terms, expected", [
    # 4. "report the Ed-Fi Term Descriptor from the Sessions Resource Preferences that the Diploma Date
    #    overlaps in the School where the student is enrolled"
    ("date in S2", date(2025, 5, 23), (S1, S2), "Spring Semester"),
    # "If the Term is not mapped or the diploma date does not overlap a term, use the term descriptor
    # from the term with the latest end date"
    ("date in no term", date(2025, 5, 31), (S1, S2), "Spring Semester"),
    ("the term holding the date is unmapped", date(2025, 5, 28), (S1, S2, Q4), None),
    ("date in Q4 (unmapped) and S2", date(2025, 5, 20), (S1, S2, Q4), "Spring Semester"),
    # "If the Diploma Date is aligned to more than 1 eligible Term Descriptor, report the value from the
    # highest TermId" (S1 and T1 of two primary schedules both hold the date)
    ("two terms hold the date", date(2024, 10, 1), (S1, S2, T1), "First Trimester"),
])
def test_diploma_term(case, on, terms, expected):
    if expected is None:
        # The latest-ending term is Q4, unmapped: no term.
        with pytest.raises(TermNotDeterminable, match="'Q4'"):
            diploma_term(on, enrollment(terms=terms), MAPPINGS)
    else:
        assert diploma_term(on, enrollment(terms=terms), MAPPINGS) == TERM + expected, case


def test_diploma_term_without_primary_terms_is_not_determinable():
    with pytest.raises(TermNotDeterminable):
        diploma_term(date(2025, 5, 23), enrollment(terms=()), MAPPINGS)


# --- credits ------------------------------------------------------------------------------------------------

def credited(transcript_id, end_year, attempted, earned, has_credit=True):
    return Transcript(transcript_id, end_year, credits_attempted=None if attempted is None else Decimal(attempted),
                      credits_earned=None if earned is None else Decimal(earned), has_credit=has_credit)


@pytest.mark.parametrize("case, transcripts, year, expected", [
    # "Sum the total number of credits the student has attempted [earned] ... in the Transcript Credit table."
    ("sum", [credited(1, 2025, "0.5", "0.5"), credited(2, 2024, "1", "0")], Y, ("1.5", "0.5")),
    # "Report '0' if the student does not have any ... Credits"
    ("a row without credit", [credited(1, 2025, None, None, has_credit=False)], Y, ("0", "0")),
    # "If the student does not have any Course Transcript records ... this field will be NULL."
    ("no transcripts", [], Y, (None, None)),
    # Our reading: rows with end_year <= Y only (a backfill never counts later years).
    ("backfill", [credited(1, 2024, "1", "1"), credited(2, 2025, "1", "1")], 2024, ("1", "1")),
])
def test_cumulative_credits(case, transcripts, year, expected):
    found = cumulative_credits(transcripts, year)
    assert (found.attempted, found.earned) == tuple(None if v is None else Decimal(v) for v in expected), case


@pytest.mark.parametrize("case, transcripts, any_transcripts, expected", [
    # "Sum the transcript records that are in the same end year and are aligned to the same Term
    # Descriptor as the Student Academic Record."
    ("same year and term", [credited(1, 2025, "0.5", "0.5"), credited(2, 2025, "1", "1"),
                            credited(3, 2024, "1", "1"), credited(4, 2025, "2", "2")], True, ("1.5", "1.5")),
    # "Report '0' if the student does not have any Credits Earned."
    ("none in this term", [credited(4, 2025, "2", "2")], True, ("0", "0")),
    # "If the student does not have any Course Transcript records ... this field will be NULL."
    ("no transcripts", [], False, (None, None)),
])
def test_session_credits(case, transcripts, any_transcripts, expected):
    terms = {1: "fall", 2: "fall", 3: "fall", 4: "spring"}
    found = session_credits(terms, transcripts, Y, "fall", any_transcripts)
    assert (found.attempted, found.earned) == tuple(None if v is None else Decimal(v) for v in expected), case


# --- the records of a student (the resource's build, still pure) ----------------------------------------------

def student_row(graduations=(), enrollments=None, transcripts=(), cum_gpa=Decimal("3.5")):
    default = [{"enrollment_id": 1, "school_number": "350010001", "district_number": "3500100", "service_type": "P",
                "start_date": "2024-08-12", "end_date": None, "end_status": None,
                "terms": [{"term_id": t.term_id, "term_schedule_id": t.term_schedule_id, "name": t.name,
                           "start_date": t.start_date.isoformat(), "end_date": t.end_date.isoformat()}
                          for t in (S1, S2)]}]
    return {"person_id": 7, "state_id": "700", "first_name": "Ana", "last_name": "Ruiz", "school_numbers": ["350010001"],
            "enrollments": default if enrollments is None else enrollments, "graduations": list(graduations),
            "transcripts": list(transcripts), "cum_gpa": cum_gpa}


def built(row_, data_standard="4.0"):
    definition = RESOURCES["studentAcademicRecords"]
    drafts, error = [], None
    try:
        for draft in definition.build(row_, BuildContext(YEAR, MAPPINGS, data_standard)):
            drafts.append(definition.model.model_validate(draft.body).to_json())
    except BuildError as exc:
        error = exc
    return {d["termDescriptor"].split("#")[1]: d for d in drafts}, error


GRAD = {"graduation_id": 1, "diploma_type": "1", "diploma_date": "2025-05-23"}
TRANSCRIPTS = [{"transcript_id": 11, "end_year": 2025, "score_id": 5, "score_term": "S1", "credits_attempted": 0.5,
                "credits_earned": 0.5, "has_credit": True},
               {"transcript_id": 12, "end_year": 2025, "transcript_override": "WI", "credits_attempted": 1,
                "credits_earned": 1, "has_credit": True}]


def test_diplomas_only_on_the_diploma_terms_record_and_gpa_on_every_record():
    # "Records will only post to the SAR records for the year the diploma date occurs in"; cumulative
    # GPA "will report the same value on all eligible Student Academic Records".
    records, error = built(student_row([GRAD], transcripts=TRANSCRIPTS))
    assert set(records) == {"Fall Semester", "Spring Semester"}
    assert "diplomas" not in records["Fall Semester"]
    assert records["Spring Semester"]["diplomas"][0]["diplomaAwardDate"] == "2025-05-23"
    assert {r["cumulativeGradePointAverage"] for r in records.values()} == {3.5}
    # "This value will be the same for all Student Academic Records": 7302's credits count although its
    # term cannot be determined, and that row is an error ("If a Term cannot be determined, provide error").
    assert {r["cumulativeAttemptedCredits"] for r in records.values()} == {1.5}
    assert error.error_code == "term_not_determinable" and "transcript 12" in error.message


def test_schoolyear_is_the_configured_year_and_the_lea_the_students():
    # schoolYearType: "Reports the end year the Diploma Date is aligned to"; educationOrganization:
    # "Reports from the Ed-Fi District Number".
    records, _ = built(student_row([GRAD]))
    assert records["Spring Semester"]["schoolYearTypeReference"] == {"schoolYear": Y}
    assert records["Spring Semester"]["educationOrganizationReference"] == {"educationOrganizationId": 3500100}


def test_data_standard_5_has_no_cumulative_gpa_column():
    records, _ = built(student_row([GRAD]), data_standard="5")
    assert "cumulativeGradePointAverage" not in records["Spring Semester"]


def test_non_graduates_get_no_records():
    assert built(student_row([], transcripts=TRANSCRIPTS)) == ({}, None)


@pytest.mark.parametrize("change, replaced", [
    # Natural key changes: "Delete/Post If the Diploma Date changes." Put: "Diploma Type field changes."
    ({"diploma_date": "2025-05-20"}, True),
    ({"diploma_type": "2"}, False),
])
def test_diploma_date_change_forces_delete_post_but_a_type_change_does_not(change, replaced):
    definition = RESOURCES["studentAcademicRecords"]
    before, _ = built(student_row([GRAD]))
    after, _ = built(student_row([{**GRAD, **change}]))
    old, new = before["Spring Semester"], after["Spring Semester"]
    assert definition.reference_key(old) == definition.reference_key(new)
    assert (definition.replace_values(old) != definition.replace_values(new)) is replaced
    assert definition.replace_values(before["Spring Semester"]) is not None


def test_end_year_change_of_a_transcript_is_a_key_change():
    # "Delete/Post If the End Year the transcript record or diploma record is aligned to changes."
    scored = {"transcript_id": 11, "score_id": 5, "score_term": "S2", "aligned_term": "S1", "credits_attempted": 1,
              "credits_earned": 1, "has_credit": True}
    this_year, _ = built(student_row([GRAD], transcripts=[{**scored, "end_year": 2025}]))
    last_year, _ = built(student_row([GRAD], transcripts=[{**scored, "end_year": 2024}]))
    assert set(this_year) == {"Spring Semester"} and set(last_year) == {"Fall Semester", "Spring Semester"}


def test_plan_skips_rows_after_the_year():
    planned = plan([graduation()], [enrollment()], [row(transcript_id=1, end_year=2026, transcript_override="S1")],
                   YEAR, MAPPINGS)
    assert planned.transcript_terms == {} and planned.terms == [TERM + "Spring Semester"]


# --- courseTranscripts and courses (SPEC §7) --------------------------------------------------------------------

RESULT = "uri://ed-fi.org/CourseAttemptResultDescriptor#"


@pytest.mark.parametrize("earned, mappings, expected", [
    # "courseAttemptResultDescriptor (Pass when earned > 0, else Fail; mappable)"
    ("0.5", MAPPINGS, RESULT + "Pass"), ("0", MAPPINGS, RESULT + "Fail"), (None, MAPPINGS, RESULT + "Fail"),
    ("1", Mappings({("courseTranscripts", "course_attempt_result", "pass"): "uri://nm/Result#P"}), "uri://nm/Result#P"),
])
def test_course_attempt_result(earned, mappings, expected):
    assert course_attempt_result(credited(1, Y, "1", earned), mappings) == expected


@pytest.mark.parametrize("has_credit, data_standard, expected", [
    # "A row without a transcript_credit row sends earnedCredits 0 under DS 4.0 (required there) and
    # omits it under DS 5."
    (True, "4.0", Decimal("0.5")), (True, "5", Decimal("0.5")), (False, "4.0", Decimal(0)), (False, "5", None),
])
def test_earned_credits_per_data_standard(has_credit, data_standard, expected):
    row_ = credited(1, Y, "0.5" if has_credit else None, "0.5" if has_credit else None, has_credit)
    assert earned_credits(row_, data_standard) == expected


def built_items(resource, row_, data_standard="4.0"):
    definition = RESOURCES[resource]
    items = list(definition.build(row_, BuildContext(YEAR, MAPPINGS, data_standard)))
    return ([definition.model.model_validate(i.body).to_json() for i in items if not isinstance(i, BuildError)],
            [(i.error_code, i.details.get("sis_object_key")) for i in items if isinstance(i, BuildError)])


def test_course_transcripts_one_per_row_under_the_record_of_its_term_and_an_error_for_the_rest():
    transcripts, failures = built_items("courseTranscripts", student_row([GRAD], transcripts=[
        {**TRANSCRIPTS[0], "course_number": "ENG4", "grade": "A"}, {**TRANSCRIPTS[1], "course_number": "HIS1"}]))
    assert transcripts == [{
        "courseAttemptResultDescriptor": RESULT + "Pass",
        "courseReference": {"courseCode": "ENG4", "educationOrganizationId": 3500100},
        "studentAcademicRecordReference": {"educationOrganizationId": 3500100, "schoolYear": Y,
                                           "studentUniqueId": "700", "termDescriptor": TERM + "Fall Semester"},
        "earnedCredits": 0.5, "attemptedCredits": 0.5, "finalLetterGradeEarned": "A"}]
    assert failures == [("term_not_determinable", "12")]


def test_course_transcripts_of_a_student_whose_records_fail_are_each_an_error():
    # The diploma type has no mapping: no record, so none of his transcripts can be sent (nor deleted).
    _, failures = built_items("courseTranscripts", student_row([{**GRAD, "diploma_type": "5"}], transcripts=TRANSCRIPTS))
    assert failures == [("parent_failed", "11"), ("parent_failed", "12")]


def test_no_course_transcripts_or_courses_for_non_graduates():
    assert built_items("courseTranscripts", student_row([], transcripts=TRANSCRIPTS)) == ([], [])
    assert built_items("courses", student_row([], transcripts=TRANSCRIPTS)) == ([], [])


def test_courses_are_the_lea_courses_of_the_transcript_rows():
    courses, _ = built_items("courses", student_row([GRAD], transcripts=[
        {**TRANSCRIPTS[0], "course_number": "ENG4", "course_name": "English IV"},
        {**TRANSCRIPTS[1], "course_number": None, "course_name": "Independent Study"}]))
    assert courses == [{"courseCode": "ENG4", "educationOrganizationReference": {"educationOrganizationId": 3500100},
                        "courseTitle": "English IV", "numberOfParts": 1, "identificationCodes": [{
                            "courseIdentificationSystemDescriptor":
                                "uri://ed-fi.org/CourseIdentificationSystemDescriptor#LEA course code",
                            "identificationCode": "ENG4"}]}]
