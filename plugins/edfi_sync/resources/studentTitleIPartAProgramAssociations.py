"""studentTitleIPartAProgramAssociations: one per title1 record overlapping the year (SPEC §7)."""

from __future__ import annotations

from ..rules.programs import TITLE_I, title_i_participant
from .fields import DescriptorUri
from .program_association import GeneralStudentProgramAssociation, area_association


class StudentTitleIPartAProgramAssociation(GeneralStudentProgramAssociation):
    titleIPartAParticipantDescriptor: DescriptorUri


DEFINITION = area_association(
    TITLE_I, StudentTitleIPartAProgramAssociation, "title1",
    lambda row, ctx: {"titleIPartAParticipantDescriptor": title_i_participant(ctx.mappings)},
    mapping_fields=((TITLE_I, "participant"),))
