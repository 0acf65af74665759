"""students: persons with a scoped enrollment in the year (Ed-Fi model).

Never deleted (the ODS keeps person records). New students are posted before the SSAs;
changes to existing students go after them, because the ODS authorizes a student update
through the student's SSA.
"""

from __future__ import annotations

from .base import BuildContext, Draft, EdFiModel, ResourceDefinition
from .fields import Name75, PastDate, StudentUniqueId


class Student(EdFiModel):
    studentUniqueId: StudentUniqueId
    firstName: Name75
    middleName: Name75 | None = None
    lastSurname: Name75
    birthDate: PastDate


def build(row, ctx: BuildContext) -> Draft:
    return Draft(
        sis_object_key=str(row["person_id"]),
        body={
            "studentUniqueId": row["state_id"],
            "firstName": row["first_name"],
            "middleName": row["middle_name"],
            "lastSurname": row["last_name"],
            "birthDate": row["birth_date"],
        },
        school_ids=tuple(row["school_numbers"] or ()),
        student_unique_id=row["state_id"],
        student_name=" ".join(filter(None, (row["first_name"], row["last_name"]))) or None,
    )


DEFINITION = ResourceDefinition(
    name="students",
    model=Student,
    extract_sql="students.sql",
    natural_key=("studentUniqueId",),
    build=build,
    sis_object_type="person",
    level="student",
    deletable=False,
    updates_after=("studentSchoolAssociations",),
)
