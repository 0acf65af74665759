"""What every student program association shares (GeneralStudentProgramAssociation, SPEC §7): the
triggering rule, the common elements, the natural key and the upstreams. CTE associations (seed 000)
and the seven others (SPEC §7 "Other student program associations") are each a short module on top.
No DEFINITION here: this module is not a resource.
"""

from __future__ import annotations

from typing import Any, Callable, Mapping

from ..rules.common import UnmappedValue
from ..rules.programs import (
    PROGRAMS, ProgramIdentity, area_record_counts, begin_date, end_date, overlaps_year, program_identity)
from pydantic import model_validator

from .base import BuildContext, BuildRule, Draft, EdFiModel, Reference, ResourceDefinition
from .fields import EdFiDate, EducationOrganizationReference, ProgramReference, StudentReference, dates_in_order

NATURAL_KEY = ("beginDate", "educationOrganizationReference.educationOrganizationId",
               "programReference.educationOrganizationId", "programReference.programName",
               "programReference.programTypeDescriptor", "studentReference.studentUniqueId")


class GeneralStudentProgramAssociation(EdFiModel):
    beginDate: EdFiDate
    educationOrganizationReference: EducationOrganizationReference
    programReference: ProgramReference
    studentReference: StudentReference
    endDate: EdFiDate | None = None

    @model_validator(mode="after")
    def _end_after_begin(self):
        dates_in_order(self.beginDate, self.endDate, "beginDate", "endDate")
        return self


def program_of(row: Mapping[str, Any], ctx: BuildContext, kind: str, source: str,
               name: str | None = None) -> ProgramIdentity | None:
    """The district's program the record reports under. CTE programs and flags report only when mapped
    (seeds 000, 001: no error); an unmapped area is an error row naming the mapping (SPEC §4)."""
    program = program_identity(ctx.mappings, row["district_number"], kind, source, name)
    if program is None and kind not in ("cte", "flag"):
        raise UnmappedValue(PROGRAMS, "program_type", source)
    return program


def draft(row: Mapping[str, Any], ctx: BuildContext, program: ProgramIdentity, **elements: Any) -> list[Draft]:
    """One association: the shared elements (beginDate 07/01/(Y-1) when NULL, endDate left out when
    NULL, the LEA, the program, the student) plus the kind's own ``elements``."""
    return [Draft(
        sis_object_key=str(row["record_id"]),
        body={"beginDate": begin_date(ctx.school_year, row["start_date"]),
              "educationOrganizationReference": {"educationOrganizationId": row["district_number"]},
              "programReference": program.reference(),
              "studentReference": {"studentUniqueId": row["state_id"]},
              "endDate": end_date(row["end_date"]), **elements},
        school_ids=tuple(row["school_numbers"] or ()),
        student_unique_id=row["state_id"],
        student_name=" ".join(filter(None, (row["first_name"], row["last_name"]))) or None,
        precedence=(ctx.school_year.end_year, row["record_id"]),
    )]


Elements = Callable[[Mapping[str, Any], BuildContext], dict[str, Any]]


def area_build(area: str, elements: Elements = lambda row, ctx: {}) -> BuildRule:
    """The build rule of an area's association: a counting record (locked IEP, free or reduced FRAM)
    that overlaps the year, of a student scoped in the district (the extract)."""

    def build(row, ctx: BuildContext) -> list[Draft]:
        if not area_record_counts(area, eligibility=row["eligibility"], plan_type=row["plan_type"],
                                  locked=row["locked"]):
            return []
        if not overlaps_year(ctx.school_year, row["start_date"], row["end_date"]):
            return []
        return draft(row, ctx, program_of(row, ctx, area, area), **elements(row, ctx))

    return build


def association(name: str, model: type[GeneralStudentProgramAssociation], build: BuildRule, *, source: str,
                sis_object_type: str, mapping_fields: tuple[tuple[str, str], ...] = ()) -> ResourceDefinition:
    """One association resource: its records are those of ``source`` in the shared extract."""
    return ResourceDefinition(
        name=name, model=model, extract_sql="program_associations.sql", natural_key=NATURAL_KEY, build=build,
        sis_object_type=sis_object_type, level="student",
        upstream=("localEducationAgencies", "students", PROGRAMS, "studentSchoolAssociations"),
        references=(Reference("educationOrganizationReference", "localEducationAgencies",
                              {"educationOrganizationId": "localEducationAgencyId"}),
                    Reference("programReference", PROGRAMS), Reference("studentReference", "students")),
        mapping_fields=((PROGRAMS, "program_type"), *mapping_fields),
        extract_params=(("source", source),),
    )


def area_association(name: str, model: type[GeneralStudentProgramAssociation], area: str,
                     elements: Elements = lambda row, ctx: {},
                     mapping_fields: tuple[tuple[str, str], ...] = ()) -> ResourceDefinition:
    return association(name, model, area_build(area, elements), source=area, sis_object_type=area,
                       mapping_fields=mapping_fields)
