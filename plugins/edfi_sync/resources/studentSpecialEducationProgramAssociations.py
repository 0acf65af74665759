"""studentSpecialEducationProgramAssociations: one per locked IEP overlapping the year (SPEC §7)."""

from __future__ import annotations

from .program_association import GeneralStudentProgramAssociation, area_association


class StudentSpecialEducationProgramAssociation(GeneralStudentProgramAssociation):
    pass


DEFINITION = area_association("studentSpecialEducationProgramAssociations",
                              StudentSpecialEducationProgramAssociation, "sped")
