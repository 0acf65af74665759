"""studentMigrantEducationProgramAssociations: one per migrant record overlapping the year (SPEC §7)."""

from __future__ import annotations

from ..rules.programs import last_qualifying_move, priority_for_services
from .fields import EdFiDate
from .program_association import GeneralStudentProgramAssociation, area_association


class StudentMigrantEducationProgramAssociation(GeneralStudentProgramAssociation):
    lastQualifyingMove: EdFiDate
    priorityForServices: bool


DEFINITION = area_association(
    "studentMigrantEducationProgramAssociations", StudentMigrantEducationProgramAssociation, "migrant",
    lambda row, ctx: {"lastQualifyingMove": last_qualifying_move(ctx.school_year, row["start_date"]),
                      "priorityForServices": priority_for_services()})
