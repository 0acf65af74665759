"""programs (seed 001): one district-level program per (LEA, mapped ProgramTypeDescriptor, programName)
that some student with a scoped enrollment uses through a record overlapping the year.

A name or descriptor mapping change is a natural-key change: the program is posted under its new key
and its associations are re-keyed by the same resync (their resources descend from this one); the old
program is deleted only by a resync on all schools, once no association references it.
"""

from __future__ import annotations

from typing import Iterator

from ..rules.programs import (
    PROGRAMS, ProgramIdentity, area_record_counts, object_key, overlaps_year, program_id, program_identity)
from ..rules.common import ImpossibleValue, parse_day
from .base import BuildContext, Draft, EdFiModel, Reference, ResourceDefinition
from .fields import DescriptorUri, EdFiString, EducationOrganizationReference, ProgramName

ProgramId = EdFiString(20)


class Program(EdFiModel):
    educationOrganizationReference: EducationOrganizationReference
    programName: ProgramName
    programTypeDescriptor: DescriptorUri
    programId: ProgramId | None = None


def build(row, ctx: BuildContext) -> Iterator[Draft]:
    """One row per district: every distinct (source, period) its scoped students use; deduplicated here
    because the key depends on the mappings."""
    sources: dict[ProgramIdentity, set[str]] = {}
    for record in row["records"]:
        if record["kind"] not in ("cte", "flag") and not area_record_counts(
                record["kind"], eligibility=record["eligibility"], plan_type=record["plan_type"],
                locked=record["locked"]):
            continue
        try:
            start, end = parse_day(record["start_date"]), parse_day(record["end_date"])
        except ImpossibleValue:
            continue  # the record's own association is the error row (its extract reads the same dates)
        if not overlaps_year(ctx.school_year, start, end):
            continue
        identity = program_identity(ctx.mappings, row["district_number"], record["kind"], record["source"],
                                    record["name"])
        if identity is not None:
            sources.setdefault(identity, set()).add(record["source"])
    for identity, used in sorted(sources.items(), key=lambda item: (item[0].descriptor, item[0].name)):
        yield Draft(
            sis_object_key=object_key(used),
            body={"educationOrganizationReference": {"educationOrganizationId": identity.lea_id},
                  "programName": identity.name, "programTypeDescriptor": identity.descriptor,
                  "programId": program_id(used)},
        )


DEFINITION = ResourceDefinition(
    name="programs",
    model=Program,
    extract_sql="programs.sql",
    natural_key=("educationOrganizationReference.educationOrganizationId", "programName", "programTypeDescriptor"),
    build=build,
    sis_object_type="program",
    level="lea",
    upstream=("localEducationAgencies", "studentSchoolAssociations"),
    references=(Reference("educationOrganizationReference", "localEducationAgencies",
                          {"educationOrganizationId": "localEducationAgencyId"}),),
    mapping_fields=((PROGRAMS, "program_type"),),
    deleted_only_by_all_schools_resync=True,
)
