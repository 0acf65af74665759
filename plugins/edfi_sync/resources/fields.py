"""Ed-Fi field types and references shared by the payload models (limits from the Ed-Fi schemas)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Callable

from pydantic import AfterValidator, Field, StringConstraints

from ..rules.common import OffCalendar
from .base import EdFiModel


def _text_check(max_length: int, blank_ok: bool) -> Callable[[str], str]:
    def check(value: str) -> str:
        if not blank_ok and not value.strip():
            raise ValueError("must hold more than blanks")
        # The ODS counts a string(n) in UTF-16 code units (.NET strings, SQL Server nvarchar): an emoji
        # or any character beyond the Basic Multilingual Plane takes two.
        units = len(value.encode("utf-16-le")) // 2
        if units > max_length:
            counted = "" if units == len(value) else " as the Ed-Fi API counts them (an emoji counts as 2)"
            raise ValueError(f"is {units} characters long{counted}; at most {max_length} are allowed")
        return value
    return check


def EdFiString(max_length: int, *, blank_ok: bool = False) -> Any:  # noqa: N802 - a type, as pydantic's are
    """An Ed-Fi string(n): at most n UTF-16 code units, and (unless ``blank_ok``) more than blanks."""
    return Annotated[str, AfterValidator(_text_check(max_length, blank_ok))]


def _on_calendar(value: date) -> date:
    if isinstance(value, OffCalendar):
        raise ValueError(f"{value.text!r} is not a calendar date the Ed-Fi API takes (years 0001-9999)")
    return value


def _not_in_future(value: date) -> date:
    if value > date.today():
        raise ValueError(f"{value.isoformat()} is in the future")
    return value


def dates_in_order(start: date | None, end: date | None, start_name: str, end_name: str) -> None:
    """An end date before its start date is impossible: the record is not sent (schema_validation)."""
    if start is not None and end is not None and end < start:
        raise ValueError(f"{end_name} {end.isoformat()} is before {start_name} {start.isoformat()}")


DescriptorUri = Annotated[EdFiString(306), StringConstraints(pattern=r"^\S.*#.+$")]
StudentUniqueId = EdFiString(32)
Name75 = EdFiString(75)
EdOrgId = Annotated[int, Field(gt=0, le=2_147_483_647)]  # an Ed-Fi INT (32 bits)
# Credits and averages: a JSON number, never NaN or Infinity (PostgreSQL numeric holds both).
EdFiNumber = Annotated[float, Field(allow_inf_nan=False)]
EdFiDate = Annotated[date, AfterValidator(_on_calendar)]
PastDate = Annotated[EdFiDate, AfterValidator(_not_in_future)]

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


ProgramName = EdFiString(60)
CourseCode = EdFiString(60)


class ProgramReference(EdFiModel):
    educationOrganizationId: EdOrgId
    programName: ProgramName
    programTypeDescriptor: DescriptorUri
