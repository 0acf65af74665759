"""studentCTEProgramAssociations (seed 000): one per CTE participation in a mapped CTE program that
overlaps the year, of a student with a scoped enrollment in the program's district.

Its natural key holds beginDate and the program's key: a start date or program mapping change is a
DELETE of the old record and a POST of the new one; any other change is a PUT to the same id.
"""

from __future__ import annotations

from ..rules.programs import (
    CTE, Certification, cte_programs, non_traditional_gender_status, overlaps_year, private_cte_program,
    technical_skills_assessment)
from ..rules.common import parse_day
from .base import BuildContext, Draft, EdFiModel
from .fields import DescriptorUri, EdFiString
from .program_association import GeneralStudentProgramAssociation, association, draft, program_of

CipCode = EdFiString(120, blank_ok=True)


class CTEProgram(EdFiModel):
    careerPathwayDescriptor: DescriptorUri
    cipCode: CipCode | None = None
    primaryCTEProgramIndicator: bool | None = None
    cteProgramCompletionIndicator: bool | None = None


class StudentCTEProgramAssociation(GeneralStudentProgramAssociation):
    nonTraditionalGenderStatus: bool | None = None
    privateCTEProgram: bool | None = None
    technicalSkillsAssessmentDescriptor: DescriptorUri | None = None
    ctePrograms: list[CTEProgram] | None = None  # DS 4.0 only


def build(row, ctx: BuildContext) -> list[Draft]:
    if not overlaps_year(ctx.school_year, row["start_date"], row["end_date"]):
        return []
    program = program_of(row, ctx, "cte", str(row["program_id"]))
    if program is None:
        return []
    certifications = [Certification(c["certification_id"], c["attempted"], c["passed"],
                                    parse_day(c["certification_date"], f"certification {c['certification_id']} date"))
                      for c in row["certifications"]]
    return draft(
        row, ctx, program,
        nonTraditionalGenderStatus=non_traditional_gender_status(row["non_traditional"]),
        privateCTEProgram=private_cte_program(),
        technicalSkillsAssessmentDescriptor=technical_skills_assessment(ctx.mappings, certifications),
        ctePrograms=cte_programs(ctx.mappings, row["program_id"], row["state_code"], row["student_status"],
                                 ctx.data_standard),
    )


DEFINITION = association(
    CTE, StudentCTEProgramAssociation, build, source="cte", sis_object_type="participation",
    mapping_fields=((CTE, "technical_skills_assessment"), (CTE, "career_pathway")),
)
