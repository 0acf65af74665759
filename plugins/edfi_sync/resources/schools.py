"""schools: non-excluded schools of the district with a calendar in the year (Ed-Fi model)."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from .base import BuildContext, Draft, EdFiModel, Reference, ResourceDefinition
from .fields import DescriptorUri, EdOrgId, LocalEducationAgencyReference, Name75, ed_fi_descriptor
from .localEducationAgencies import EducationOrganizationCategory

SCHOOL_CATEGORY = ed_fi_descriptor("EducationOrganizationCategoryDescriptor", "School")


class GradeLevel(EdFiModel):
    gradeLevelDescriptor: DescriptorUri


class School(EdFiModel):
    schoolId: EdOrgId
    nameOfInstitution: Name75
    localEducationAgencyReference: LocalEducationAgencyReference
    educationOrganizationCategories: Annotated[list[EducationOrganizationCategory], Field(min_length=1)]
    gradeLevels: Annotated[list[GradeLevel], Field(min_length=1)]


def build(row, ctx: BuildContext) -> Draft:
    # Unmapped grades are reported on the enrollments' SSAs; the school lists the mapped ones.
    grades = sorted({uri for g in row["grades"] if (uri := ctx.mappings.get("studentSchoolAssociations",
                                                                             "grade_level", g))})
    return Draft(
        sis_object_key=str(row["school_id"]),
        body={
            "schoolId": row["number"],
            "nameOfInstitution": row["name"],
            "localEducationAgencyReference": {"localEducationAgencyId": row["district_number"]},
            "educationOrganizationCategories": [{"educationOrganizationCategoryDescriptor": SCHOOL_CATEGORY}],
            "gradeLevels": [{"gradeLevelDescriptor": uri} for uri in grades],
        },
        school_ids=(row["number"],) if row["number"] else (),
    )


DEFINITION = ResourceDefinition(
    name="schools",
    model=School,
    extract_sql="schools.sql",
    natural_key=("schoolId",),
    build=build,
    sis_object_type="school",
    level="school",
    upstream=("localEducationAgencies",),
    references=(Reference("localEducationAgencyReference", "localEducationAgencies"),),
    mapping_fields=(("studentSchoolAssociations", "grade_level"),),
    descriptors=(SCHOOL_CATEGORY,),
)
