"""Ed-Fi field types and references shared by the payload models (limits from the Ed-Fi schemas)."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, StringConstraints

from .base import EdFiModel

DescriptorUri = Annotated[str, StringConstraints(max_length=306, pattern=r"^\S.*#.+$")]
StudentUniqueId = Annotated[str, StringConstraints(min_length=1, max_length=32)]
Name75 = Annotated[str, StringConstraints(min_length=1, max_length=75)]
EdOrgId = Annotated[int, Field(gt=0)]

ED_FI = "uri://ed-fi.org"


def ed_fi_descriptor(descriptor: str, code_value: str) -> str:
    """A default Ed-Fi descriptor value, e.g. ed_fi_descriptor("GradeLevelDescriptor", "Ninth grade")."""
    return f"{ED_FI}/{descriptor}#{code_value}"


class StudentReference(EdFiModel):
    studentUniqueId: StudentUniqueId


class SchoolReference(EdFiModel):
    schoolId: EdOrgId


class LocalEducationAgencyReference(EdFiModel):
    localEducationAgencyId: EdOrgId


class EducationOrganizationReference(EdFiModel):
    educationOrganizationId: EdOrgId


class SchoolYearTypeReference(EdFiModel):
    schoolYear: Annotated[int, Field(ge=1900, le=2100)]


ProgramName = Annotated[str, StringConstraints(min_length=1, max_length=60)]


class ProgramReference(EdFiModel):
    educationOrganizationId: EdOrgId
    programName: ProgramName
    programTypeDescriptor: DescriptorUri
