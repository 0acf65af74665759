"""courseTranscripts: one per transcript row of a qualifying student, under the record of its term
(seed 004 names them the records' dependents; SPEC §7).

They follow their record: a record's key change or DELETE/POST deletes them and posts them again
(the engine's replace cascade finds them through studentAcademicRecordReference, part of the key).
"""

from __future__ import annotations

from typing import Iterator

from ..rules.academic_records import course_attempt_result, earned_credits
from ..rules.common import UnmappedValue
from .base import BuildContext, BuildError, Draft, EdFiModel, Reference, ResourceDefinition
from .fields import CourseCode, DescriptorUri, EdFiNumber, EdFiString, EdOrgId, StudentUniqueId
from .studentAcademicRecords import (MAPPING_FIELDS, academic_records, credits, district_of, record_reference,
                                     student_fields, transcripts_of)

LetterGrade = EdFiString(20, blank_ok=True)


class CourseReference(EdFiModel):
    courseCode: CourseCode
    educationOrganizationId: EdOrgId


class StudentAcademicRecordReference(EdFiModel):
    educationOrganizationId: EdOrgId
    schoolYear: int
    studentUniqueId: StudentUniqueId
    termDescriptor: DescriptorUri


class CourseTranscript(EdFiModel):
    courseAttemptResultDescriptor: DescriptorUri
    courseReference: CourseReference
    studentAcademicRecordReference: StudentAcademicRecordReference
    earnedCredits: EdFiNumber | None = None
    attemptedCredits: EdFiNumber | None = None
    finalLetterGradeEarned: LetterGrade | None = None


def build(row, ctx: BuildContext) -> Iterator[Draft | BuildError]:
    try:
        found = academic_records(row, ctx)
    except (BuildError, UnmappedValue) as exc:
        # Without the student's records none of his transcripts can be sent; each stays as sent.
        reason = exc.message if isinstance(exc, BuildError) else str(exc)
        for transcript in transcripts_of(row):
            yield BuildError("parent_failed", f"not built: the student's academic records cannot be built: {reason}",
                             sis_object_key=str(transcript.transcript_id), school_ids=student_fields(row)["school_ids"])
        return
    if found is None:
        return
    planned, transcripts, _ = found
    for transcript in transcripts:
        term = planned.transcript_terms.get(transcript.transcript_id)
        if term is None:
            yield BuildError("term_not_determinable", planned.undetermined[transcript.transcript_id],
                             sis_object_key=str(transcript.transcript_id), school_ids=student_fields(row)["school_ids"])
            continue
        yield Draft(
            sis_object_key=str(transcript.transcript_id),
            body={
                "courseAttemptResultDescriptor": course_attempt_result(transcript, ctx.mappings),
                "courseReference": {"courseCode": transcript.course_number,
                                    "educationOrganizationId": district_of(row, planned)},
                "studentAcademicRecordReference": record_reference(planned, row, ctx, term),
                "earnedCredits": credits(earned_credits(transcript, ctx.data_standard)),
                "attemptedCredits": credits(transcript.credits_attempted),
                "finalLetterGradeEarned": transcript.grade,
            },
            precedence=(transcript.end_year, transcript.transcript_id),
            **student_fields(row),
        )


DEFINITION = ResourceDefinition(
    name="courseTranscripts",
    model=CourseTranscript,
    extract_sql="courseTranscripts.sql",
    natural_key=("courseAttemptResultDescriptor", "courseReference.courseCode",
                 "courseReference.educationOrganizationId", "studentAcademicRecordReference.educationOrganizationId",
                 "studentAcademicRecordReference.schoolYear", "studentAcademicRecordReference.studentUniqueId",
                 "studentAcademicRecordReference.termDescriptor"),
    build=build,
    sis_object_type="transcript",
    level="student",
    upstream=("studentAcademicRecords", "courses"),
    references=(Reference("studentAcademicRecordReference", "studentAcademicRecords"),
                Reference("courseReference", "courses")),
    mapping_fields=(*MAPPING_FIELDS, ("courseTranscripts", "course_attempt_result")),
)
