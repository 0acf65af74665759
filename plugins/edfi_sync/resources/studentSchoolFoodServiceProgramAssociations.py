"""studentSchoolFoodServiceProgramAssociations: one per FRAM eligibility F or R overlapping the year (SPEC §7)."""

from __future__ import annotations

from ..rules.programs import FOOD_SERVICE, food_service_program_services
from .base import EdFiModel
from .fields import DescriptorUri
from .program_association import GeneralStudentProgramAssociation, area_association


class SchoolFoodServiceProgramService(EdFiModel):
    schoolFoodServiceProgramServiceDescriptor: DescriptorUri


class StudentSchoolFoodServiceProgramAssociation(GeneralStudentProgramAssociation):
    schoolFoodServiceProgramServices: list[SchoolFoodServiceProgramService] | None = None


DEFINITION = area_association(
    FOOD_SERVICE, StudentSchoolFoodServiceProgramAssociation, "fram",
    lambda row, ctx: {"schoolFoodServiceProgramServices": food_service_program_services(ctx.mappings,
                                                                                         row["eligibility"])},
    mapping_fields=((FOOD_SERVICE, "eligibility"),))
