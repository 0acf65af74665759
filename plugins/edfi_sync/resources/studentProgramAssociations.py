"""studentProgramAssociations: one per flag assignment in a mapped flag that overlaps the year, of a
student with a scoped enrollment in the flag's district (SPEC §7; seed 001 lists it in the cascade)."""

from __future__ import annotations

from ..rules.programs import overlaps_year
from .base import BuildContext, Draft
from .program_association import GeneralStudentProgramAssociation, association, draft, program_of


class StudentProgramAssociation(GeneralStudentProgramAssociation):
    pass


def build(row, ctx: BuildContext) -> list[Draft]:
    if not overlaps_year(ctx.school_year, row["start_date"], row["end_date"]):
        return []
    program = program_of(row, ctx, "flag", str(row["program_id"]), row["program_name"])
    return draft(row, ctx, program) if program else []


DEFINITION = association("studentProgramAssociations", StudentProgramAssociation, build, source="flag",
                         sis_object_type="participation")
