"""localEducationAgencies: the district (Ed-Fi model; no seed)."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from .base import BuildContext, Draft, EdFiModel, ResourceDefinition
from .fields import DescriptorUri, EdOrgId, Name75, ed_fi_descriptor

DEFAULT_CATEGORY = ed_fi_descriptor("LocalEducationAgencyCategoryDescriptor", "Independent")
LEA_CATEGORY = ed_fi_descriptor("EducationOrganizationCategoryDescriptor", "Local Education Agency")


class EducationOrganizationCategory(EdFiModel):
    educationOrganizationCategoryDescriptor: DescriptorUri


class LocalEducationAgency(EdFiModel):
    localEducationAgencyId: EdOrgId
    nameOfInstitution: Name75
    localEducationAgencyCategoryDescriptor: DescriptorUri
    categories: Annotated[list[EducationOrganizationCategory], Field(min_length=1)]


def build(row, ctx: BuildContext) -> Draft:
    category = ctx.mappings.get("localEducationAgencies", "category", "*") or DEFAULT_CATEGORY
    return Draft(
        sis_object_key=str(row["district_id"]),
        body={
            "localEducationAgencyId": row["number"],
            "nameOfInstitution": row["name"],
            "localEducationAgencyCategoryDescriptor": category,
            "categories": [{"educationOrganizationCategoryDescriptor": LEA_CATEGORY}],
        },
    )


DEFINITION = ResourceDefinition(
    name="localEducationAgencies",
    model=LocalEducationAgency,
    extract_sql="localEducationAgencies.sql",
    natural_key=("localEducationAgencyId",),
    build=build,
    sis_object_type="district",
    level="lea",
    mapping_fields=(("localEducationAgencies", "category"),),
    descriptors=(LEA_CATEGORY,),
)
