"""studentHomelessProgramAssociations: one per homeless record overlapping the year (SPEC §7)."""

from __future__ import annotations

from .program_association import GeneralStudentProgramAssociation, area_association


class StudentHomelessProgramAssociation(GeneralStudentProgramAssociation):
    pass


DEFINITION = area_association("studentHomelessProgramAssociations", StudentHomelessProgramAssociation, "homeless")
