"""studentAcademicRecords (seed 004, New Mexico): one per term of a qualifying student's year.

The extract gives one row per student who may qualify; the rules of rules/academic_records decide
who does, the term of every transcript row and the diploma's term. A diploma date change is a
DELETE/POST although the date is not in the key (``replace_on``); the transcripts follow.
"""

from __future__ import annotations

from typing import Any, Iterator, Mapping

from ..rules.academic_records import (AcademicRecordPlan, Enrollment, Graduation, TermNotDeterminable, Transcript,
                                      cumulative_credits, diploma, latest_primary, plan, session_credits)
from ..rules.common import ImpossibleValue, finite
from .base import BuildContext, BuildError, Draft, EdFiModel, Reference, ResourceDefinition
from .fields import (DescriptorUri, EdFiDate, EdFiNumber, EducationOrganizationReference, SchoolYearTypeReference,
                     StudentReference)


class Diploma(EdFiModel):
    diplomaAwardDate: EdFiDate
    diplomaTypeDescriptor: DescriptorUri
    achievementCategoryDescriptor: DescriptorUri | None = None


class StudentAcademicRecord(EdFiModel):
    educationOrganizationReference: EducationOrganizationReference
    schoolYearTypeReference: SchoolYearTypeReference
    studentReference: StudentReference
    termDescriptor: DescriptorUri
    cumulativeAttemptedCredits: EdFiNumber | None = None
    cumulativeEarnedCredits: EdFiNumber | None = None
    sessionAttemptedCredits: EdFiNumber | None = None
    sessionEarnedCredits: EdFiNumber | None = None
    cumulativeGradePointAverage: EdFiNumber | None = None
    diplomas: list[Diploma] | None = None


# The Resource Preferences the records, their course transcripts and their courses read.
MAPPING_FIELDS = (("studentAcademicRecords", "diploma_type"), ("studentAcademicRecords", "achievement_category"),
                  ("studentAcademicRecords", "transcript_term_override"), ("sessions", "term"),
                  ("studentSchoolAssociations", "exit_withdraw_type"))


def transcripts_of(row: Mapping[str, Any]) -> list[Transcript]:
    return [Transcript.of(t) for t in row["transcripts"]]


def student_records(row: Mapping[str, Any], ctx: BuildContext) -> tuple[AcademicRecordPlan | None, list[Transcript]]:
    """The plan of a student's records from an academic_record_student row."""
    transcripts = transcripts_of(row)
    try:
        for transcript in transcripts:  # credits add up across the student's records
            finite(transcript.credits_attempted, f"transcript {transcript.transcript_id} attempted credits")
            finite(transcript.credits_earned, f"transcript {transcript.transcript_id} earned credits")
        planned = plan((Graduation.of(g) for g in row["graduations"]), (Enrollment.of(e) for e in row["enrollments"]),
                       transcripts, ctx.school_year, ctx.mappings)
    except TermNotDeterminable as exc:
        raise BuildError("term_not_determinable", str(exc), school_ids=student_fields(row)["school_ids"]) from exc
    except ImpossibleValue as exc:
        raise BuildError("schema_validation", str(exc), school_ids=student_fields(row)["school_ids"]) from exc
    return planned, transcripts


def student_fields(row: Mapping[str, Any]) -> dict[str, Any]:
    return {"student_unique_id": row["state_id"], "school_ids": tuple(row["school_numbers"] or ()),
            "student_name": " ".join(filter(None, (row["first_name"], row["last_name"]))) or None}


def district_of(row: Mapping[str, Any], planned: AcademicRecordPlan | None) -> str | None:
    """The LEA of the records: the district of the school case 4 reads (the student's latest primary
    enrollment when there is no plan)."""
    enrollment = (planned.qualified.school_enrollment if planned is not None
                  else latest_primary(Enrollment.of(e) for e in row["enrollments"]))
    return enrollment.district_number if enrollment is not None else None


def record_reference(planned: AcademicRecordPlan, row: Mapping[str, Any], ctx: BuildContext, term: str) -> dict:
    """The SAR's natural key: the LEA of the student's school, the year, the student, the term."""
    return {"educationOrganizationId": district_of(row, planned), "schoolYear": ctx.school_year.end_year,
            "studentUniqueId": row["state_id"], "termDescriptor": term}


def credits(value) -> float | None:
    """Credits and GPAs travel as JSON numbers."""
    return None if value is None else float(value)


def academic_records(row: Mapping[str, Any], ctx: BuildContext) -> tuple[AcademicRecordPlan, list[Transcript],
                                                                         list[dict[str, Any]]] | None:
    """A qualifying student's plan, transcript rows and record bodies (one per term); None for anyone
    else. Raises when the student's records cannot be built at all (courseTranscripts read it too)."""
    planned, transcripts = student_records(row, ctx)
    if planned is None:
        return None
    year = ctx.school_year.end_year
    awarded = diploma(planned.qualified, ctx.mappings)
    cumulative = cumulative_credits(transcripts, year)
    gpa = credits(row["cum_gpa"]) if ctx.data_standard.startswith("4") else None  # DS 5 dropped the column
    bodies = []
    for term in planned.terms:
        key = record_reference(planned, row, ctx, term)
        session = session_credits(planned.transcript_terms, transcripts, year, term, bool(transcripts))
        bodies.append({
            "educationOrganizationReference": {"educationOrganizationId": key["educationOrganizationId"]},
            "schoolYearTypeReference": {"schoolYear": year},
            "studentReference": {"studentUniqueId": row["state_id"]},
            "termDescriptor": term,
            "cumulativeAttemptedCredits": credits(cumulative.attempted),
            "cumulativeEarnedCredits": credits(cumulative.earned),
            "sessionAttemptedCredits": credits(session.attempted),
            "sessionEarnedCredits": credits(session.earned),
            "cumulativeGradePointAverage": gpa,
            "diplomas": [awarded] if term == planned.diploma_term else None,
        })
    return planned, transcripts, bodies


def build(row, ctx: BuildContext) -> Iterator[Draft]:
    found = academic_records(row, ctx)
    if found is None:
        return
    planned, _, bodies = found
    for body in bodies:
        yield Draft(sis_object_key=str(row["person_id"]), body=body,
                    precedence=(ctx.school_year.end_year, row["person_id"]), **student_fields(row))
    if planned.undetermined:
        # The records of the other terms are sent; this row keeps the student's records from deletion.
        raise BuildError("term_not_determinable", "; ".join(planned.undetermined.values()),
                         school_ids=student_fields(row)["school_ids"])


DEFINITION = ResourceDefinition(
    name="studentAcademicRecords",
    model=StudentAcademicRecord,
    extract_sql="studentAcademicRecords.sql",
    natural_key=("educationOrganizationReference.educationOrganizationId", "schoolYearTypeReference.schoolYear",
                 "studentReference.studentUniqueId", "termDescriptor"),
    build=build,
    sis_object_type="person",
    level="student",
    upstream=("localEducationAgencies", "students", "studentSchoolAssociations"),
    references=(Reference("educationOrganizationReference", "localEducationAgencies",
                          {"educationOrganizationId": "localEducationAgencyId"}),
                Reference("studentReference", "students")),
    replace_on=("diplomas.diplomaAwardDate",),
    mapping_fields=MAPPING_FIELDS,
)
