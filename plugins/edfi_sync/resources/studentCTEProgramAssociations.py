"""studentCTEProgramAssociations (seed 000): one per CTE participation in a mapped CTE program that
overlaps the year, of a student with a scoped enrollment in the program's district.

Its natural key holds beginDate and the program's key: a start date or program mapping change is a
DELETE of the old record and a POST of the new one; any other change is a PUT to the same id.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

from pydantic import StringConstraints

from ..rules.programs import (
    CTE, Certification, begin_date, cte_programs, end_date, non_traditional_gender_status, overlaps_year,
    parse_day, private_cte_program, program_identity, technical_skills_assessment)
from .base import BuildContext, Draft, EdFiModel, Reference, ResourceDefinition
from .fields import DescriptorUri, EducationOrganizationReference, ProgramReference, StudentReference


class CTEProgram(EdFiModel):
    careerPathwayDescriptor: DescriptorUri
    cipCode: Annotated[str, StringConstraints(max_length=120)] | None = None
    primaryCTEProgramIndicator: bool | None = None
    cteProgramCompletionIndicator: bool | None = None


class StudentCTEProgramAssociation(EdFiModel):
    beginDate: date
    educationOrganizationReference: EducationOrganizationReference
    programReference: ProgramReference
    studentReference: StudentReference
    endDate: date | None = None
    nonTraditionalGenderStatus: bool | None = None
    privateCTEProgram: bool | None = None
    technicalSkillsAssessmentDescriptor: DescriptorUri | None = None
    ctePrograms: list[CTEProgram] | None = None  # DS 4.0 only


def build(row, ctx: BuildContext) -> list[Draft]:
    year = ctx.school_year
    if not overlaps_year(year, row["start_date"], row["end_date"]):
        return []
    program = program_identity(ctx.mappings, row["district_number"], "cte", str(row["program_id"]))
    if program is None:
        return []
    certifications = [Certification(c["certification_id"], c["attempted"], c["passed"],
                                    parse_day(c["certification_date"])) for c in row["certifications"]]
    return [Draft(
        sis_object_key=str(row["participation_id"]),
        body={
            "beginDate": begin_date(year, row["start_date"]),
            "educationOrganizationReference": {"educationOrganizationId": row["district_number"]},
            "programReference": program.reference(),
            "studentReference": {"studentUniqueId": row["state_id"]},
            "endDate": end_date(row["end_date"]),
            "nonTraditionalGenderStatus": non_traditional_gender_status(row["non_traditional"]),
            "privateCTEProgram": private_cte_program(),
            "technicalSkillsAssessmentDescriptor": technical_skills_assessment(ctx.mappings, certifications),
            "ctePrograms": cte_programs(ctx.mappings, row["program_id"], row["state_code"], row["student_status"],
                                       ctx.data_standard),
        },
        school_ids=tuple(row["school_numbers"] or ()),
        student_unique_id=row["state_id"],
        student_name=" ".join(filter(None, (row["first_name"], row["last_name"]))) or None,
        precedence=(year.end_year, row["participation_id"]),
    )]


DEFINITION = ResourceDefinition(
    name=CTE,
    model=StudentCTEProgramAssociation,
    extract_sql="studentCTEProgramAssociations.sql",
    natural_key=("beginDate", "educationOrganizationReference.educationOrganizationId",
                 "programReference.educationOrganizationId", "programReference.programName",
                 "programReference.programTypeDescriptor", "studentReference.studentUniqueId"),
    build=build,
    sis_object_type="participation",
    level="student",
    upstream=("localEducationAgencies", "students", "programs", "studentSchoolAssociations"),
    references=(Reference("educationOrganizationReference", "localEducationAgencies",
                          {"educationOrganizationId": "localEducationAgencyId"}),
                Reference("programReference", "programs"), Reference("studentReference", "students")),
    mapping_fields=(("programs", "program_type"), (CTE, "technical_skills_assessment"), (CTE, "career_pathway")),
)
