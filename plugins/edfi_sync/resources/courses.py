"""courses: the LEA-level courses the course transcripts reference (Ed-Fi model; SPEC §7).

One per course number of the transcript rows that make a course transcript, in the LEA of the
student's records. Many transcripts name one course: those rows are one record (the latest row's
title is sent), not duplicates.
"""

from __future__ import annotations

from typing import Annotated, Iterator

from pydantic import Field

from ..rules.common import ImpossibleValue, UnmappedValue
from .base import BuildContext, BuildError, Draft, EdFiModel, Reference, ResourceDefinition
from .fields import CourseCode, DescriptorUri, EdFiString, EducationOrganizationReference, ed_fi_descriptor
from .studentAcademicRecords import MAPPING_FIELDS, academic_records, district_of, transcripts_of

LEA_COURSE_CODE = ed_fi_descriptor("CourseIdentificationSystemDescriptor", "LEA course code")
CourseTitle = EdFiString(60)


class CourseIdentificationCode(EdFiModel):
    courseIdentificationSystemDescriptor: DescriptorUri
    identificationCode: CourseCode


class Course(EdFiModel):
    courseCode: CourseCode
    educationOrganizationReference: EducationOrganizationReference
    courseTitle: CourseTitle
    numberOfParts: int
    identificationCodes: Annotated[list[CourseIdentificationCode], Field(min_length=1)]


def build(row, ctx: BuildContext) -> Iterator[Draft]:
    try:
        found = academic_records(row, ctx)
    except (BuildError, UnmappedValue):
        # The student's course transcripts fail to build and stay as sent: so do their courses.
        found, transcripts = None, transcripts_of(row)
    else:
        if found is None:
            return
        transcripts = found[1]
    try:
        lea = district_of(row, found[0] if found else None)
    except ImpossibleValue:
        lea = None  # an enrollment date beyond the calendar: the courses fail (and stay) with the records
    for transcript in transcripts:
        if transcript.course_number is None:
            continue  # its course transcript is the error row
        yield Draft(
            sis_object_key=transcript.course_number,
            body={
                "courseCode": transcript.course_number,
                "educationOrganizationReference": {"educationOrganizationId": lea},
                "courseTitle": transcript.course_name,
                "numberOfParts": 1,
                "identificationCodes": [{"courseIdentificationSystemDescriptor": LEA_COURSE_CODE,
                                         "identificationCode": transcript.course_number}],
            },
            precedence=(transcript.end_year, transcript.transcript_id),
        )


DEFINITION = ResourceDefinition(
    name="courses",
    model=Course,
    extract_sql="courses.sql",
    natural_key=("courseCode", "educationOrganizationReference.educationOrganizationId"),
    build=build,
    sis_object_type="course code",
    level="lea",
    upstream=("localEducationAgencies",),
    references=(Reference("educationOrganizationReference", "localEducationAgencies",
                          {"educationOrganizationId": "localEducationAgencyId"}),),
    merge_duplicates=True,
    mapping_fields=MAPPING_FIELDS,
    descriptors=(LEA_COURSE_CODE,),
)
