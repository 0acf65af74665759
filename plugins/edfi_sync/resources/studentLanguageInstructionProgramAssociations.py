"""studentLanguageInstructionProgramAssociations: one per EL (lep) record overlapping the year (SPEC §7)."""

from __future__ import annotations

from .program_association import GeneralStudentProgramAssociation, area_association


class StudentLanguageInstructionProgramAssociation(GeneralStudentProgramAssociation):
    pass


DEFINITION = area_association("studentLanguageInstructionProgramAssociations",
                              StudentLanguageInstructionProgramAssociation, "lep")
