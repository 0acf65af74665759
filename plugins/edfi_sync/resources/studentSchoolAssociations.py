"""studentSchoolAssociations: one per scoped enrollment of the year (Ed-Fi model).

The only resource here whose natural key the ODS lets a PUT change: an entry-date or school
change of the same enrollment is a PUT to the same Ed-Fi id.
"""

from __future__ import annotations

from datetime import date

from pydantic import model_validator

from .base import BuildContext, Draft, EdFiModel, Reference, ResourceDefinition
from .fields import DescriptorUri, EdFiDate, SchoolReference, SchoolYearTypeReference, StudentReference, dates_in_order

MAPPING = "studentSchoolAssociations"


class StudentSchoolAssociation(EdFiModel):
    studentReference: StudentReference
    schoolReference: SchoolReference
    entryDate: EdFiDate
    entryGradeLevelDescriptor: DescriptorUri
    exitWithdrawDate: EdFiDate | None = None
    exitWithdrawTypeDescriptor: DescriptorUri | None = None
    primarySchool: bool | None = None
    schoolYearTypeReference: SchoolYearTypeReference | None = None

    @model_validator(mode="after")
    def _exit_after_entry(self):
        dates_in_order(self.entryDate, self.exitWithdrawDate, "entryDate", "exitWithdrawDate")
        return self


def exit_withdraw_type(ctx: BuildContext, end_date: date | None, end_status: str | None) -> str | None:
    """Mapped end status, only once the enrollment has ended."""
    if end_date is None or end_status is None:
        return None
    return ctx.mappings.require(MAPPING, "exit_withdraw_type", end_status)


def build(row, ctx: BuildContext) -> Draft:
    return Draft(
        sis_object_key=str(row["enrollment_id"]),
        body={
            "studentReference": {"studentUniqueId": row["state_id"]},
            "schoolReference": {"schoolId": row["school_number"]},
            "entryDate": row["start_date"],
            "entryGradeLevelDescriptor": ctx.mappings.require(MAPPING, "grade_level", row["grade"]),
            "exitWithdrawDate": row["end_date"],
            "exitWithdrawTypeDescriptor": exit_withdraw_type(ctx, row["end_date"], row["end_status"]),
            "primarySchool": row["service_type"] == "P" if row["service_type"] else None,
            "schoolYearTypeReference": {"schoolYear": ctx.school_year.end_year},
        },
        school_ids=(row["school_number"],) if row["school_number"] else (),
        student_unique_id=row["state_id"],
        student_name=" ".join(filter(None, (row["first_name"], row["last_name"]))) or None,
        precedence=(ctx.school_year.end_year, row["enrollment_id"]),
    )


DEFINITION = ResourceDefinition(
    name="studentSchoolAssociations",
    model=StudentSchoolAssociation,
    extract_sql="studentSchoolAssociations.sql",
    natural_key=("entryDate", "schoolReference.schoolId", "studentReference.studentUniqueId"),
    build=build,
    sis_object_type="enrollment",
    level="student",
    upstream=("students", "schools"),
    references=(Reference("studentReference", "students"), Reference("schoolReference", "schools")),
    key_change="put",
    mapping_fields=((MAPPING, "grade_level"), (MAPPING, "exit_withdraw_type")),
)
