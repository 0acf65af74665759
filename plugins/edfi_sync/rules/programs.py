"""Programs (seed 001) and Student CTE Program Associations (seed 000): the rules as pure functions.

Each docstring quotes the seed bullet it implements; SPEC §7 "Our reading" settles the rest.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Iterable, Sequence

from .common import Mappings, SchoolYear

PROGRAMS = "programs"
CTE = "studentCTEProgramAssociations"
# Program areas of seed 001 and their Resource Preferences keys (SPEC §4 program_type sis_value).
AREAS = ("title1", "lep", "migrant", "homeless", "fram", "sped")


def default_begin(year: SchoolYear) -> date:
    return date(year.end_year - 1, 7, 1)


def default_end(year: SchoolYear) -> date:
    return date(year.end_year, 6, 30)


def overlaps_year(year: SchoolYear, start: date | None, end: date | None) -> bool:
    """Seed 000: "a Career Tech (CTE) program record that overlaps the configured year ... If Start
    Date is NULL, 07/01/StartYear will be used. If End Date is NULL, 06/30/EndYear will be used."
    Seed 001 ("The record must overlap the configured year") is read the same way for every area."""
    return (start or default_begin(year)) <= year.end and (end or default_end(year)) >= year.start


def area_record_counts(area: str, *, eligibility: str | None = None, plan_type: str | None = None,
                       locked: bool = False) -> bool:
    """Seed 001: "SPED - locked IEP" (only plan_type 'IEP' and locked counts) and "FRAM Eligibility"
    (Our reading, as SPEC §7 for the food service association: eligibility F or R; S and N are
    'not eligible'). Title I, Homeless, EL and Migrant records always count."""
    if area == "sped":
        return plan_type == "IEP" and bool(locked)
    if area == "fram":
        return eligibility in ("F", "R")
    return area in AREAS


def program_type(mappings: Mappings, source: str) -> str | None:
    """Seed 001: "When Flag is created and is mapped to an Ed-FI Program Type Descriptor"; seed 000:
    "Only CTE programs that are mapped to an Ed-Fi Code will be reported." The descriptor a CTE
    program, flag (by program_id) or area (by name) is mapped to; None (not reported, no error) when
    unmapped: removing a mapping is how a district stops reporting a program (seed 001 Delete)."""
    return mappings.get(PROGRAMS, "program_type", source)


def program_name(descriptor: str, kind: str, flag_name: str | None = None) -> str | None:
    """Seed 001 programName: "1. If reporting from Flags, report the Flag Name. 2. If reporting from a
    program area in Campus, report the Program Type Descriptor the program is mapped to" (its code value).
    A flag without a name gives None, which schema validation reports."""
    return flag_name if kind == "flag" else descriptor.rsplit("#", 1)[1]


@dataclass(frozen=True)
class ProgramIdentity:
    """A district-level program's natural key, as every association's programReference spells it."""

    lea_id: str | int
    name: str | None
    descriptor: str

    def reference(self) -> dict:
        return {"educationOrganizationId": self.lea_id, "programName": self.name,
                "programTypeDescriptor": self.descriptor}


def program_identity(mappings: Mappings, lea_id: str, kind: str, source: str,
                     name: str | None = None) -> ProgramIdentity | None:
    """The program a CTE participation, flag assignment or area record reports under; None when unmapped."""
    descriptor = program_type(mappings, source)
    if descriptor is None:
        return None
    return ProgramIdentity(lea_id, program_name(descriptor, kind, name), descriptor)


def program_id(sources: Iterable[str]) -> str:
    """Seed 001 programId: "1. Reports the program ID from the flag or Career Tech Programs.
    2. Otherwise, report '1'." Our reading (SPEC §7): the lowest program_id when several CTE programs
    (or flags) map to one program."""
    ids = [int(s) for s in sources if s.isdigit()]
    return str(min(ids)) if ids else "1"


def object_key(sources: Iterable[str]) -> str:
    """Seed 001 Identity Mapping Object Key: "Program: programID; Plan: 'sped'" (SPEC §4: the area
    name for the other areas). A program that several sources share is known by its programId's
    source, else by the first area in seed order."""
    sources = list(sources)
    ids = [s for s in sources if s.isdigit()]
    if ids:
        return program_id(ids)
    return min(sources, key=lambda s: AREAS.index(s) if s in AREAS else len(AREAS))


# --- Student CTE Program Associations (seed 000) -------------------------------------------------

def begin_date(year: SchoolYear, start: date | None) -> date:
    """Seed 000 beginDate: "Reports the CTE Program Start Date." Our reading (SPEC §7): 07/01/(Y-1)
    when it is NULL, the seed's default for the overlap test."""
    return start or default_begin(year)


def end_date(end: date | None) -> date | None:
    """Seed 000 endDate: "Reports the CTE Program End Date. Does not report if the CTE Program End
    Date is NULL." (None is left out of the payload.)"""
    return end


def non_traditional_gender_status(non_traditional: bool | None) -> bool:
    """Seed 000: "Reports True if Non-Traditional Participation is checked. Reports False in all other situations.\""""
    return non_traditional is True


def private_cte_program() -> bool:
    """Seed 000 privateCTEProgram: "Reports False. This is hard-coded.\""""
    return False


@dataclass(frozen=True)
class Certification:
    certification_id: int
    attempted: bool
    passed: bool
    certification_date: date | None

    @property
    def outcome(self) -> str:
        """The technical_skills_assessment mapping key: passed counts even if attempted is unchecked."""
        if self.passed:
            return "passed"
        return "attempted" if self.attempted else "not_attempted"

    @property
    def participation_level(self) -> int:
        return {"passed": 2, "attempted": 1, "not_attempted": 0}[self.outcome]


def chosen_certification(certifications: Sequence[Certification]) -> Certification | None:
    """Seed 000: "If there are multiple certifications, report based on the following priority order:
    Most recent (latest) Date, Highest Participation, Certification ID". Our reading (SPEC §7): NULL
    dates last; passed > attempted > neither; the highest id."""
    if not certifications:
        return None
    return max(certifications, key=lambda c: (c.certification_date is not None,
                                              c.certification_date or date.min, c.participation_level,
                                              c.certification_id))


def technical_skills_assessment(mappings: Mappings, certifications: Sequence[Certification]) -> str | None:
    """Seed 000 technicalSkillsAssessmentDescriptor: "Reports the Ed-Fi Code mapped to the values entered
    in the CTE Program's Certifications section ... looks at the Attempted checkbox, Passed checkbox, and
    Date fields." Omitted without a certification or when the outcome is unmapped (SPEC §7)."""
    chosen = chosen_certification(certifications)
    return None if chosen is None else mappings.get(CTE, "technical_skills_assessment", chosen.outcome)


def cte_programs(mappings: Mappings, program_id_: int | str, cip_code: str | None, student_status: str | None,
                 data_standard: str) -> list[dict] | None:
    """Seed 000 ctePrograms ("The career cluster representing the career path of the Vocational/Career
    Tech concentrator", from programID, code, studentStatus). Our reading (SPEC §7): one entry only when
    the CTE program has a career_pathway mapping; otherwise omitted, without an error. Data Standard 5
    has no such collection (CONTRACT.md §9): always omitted there."""
    if not data_standard.startswith("4"):
        return None
    pathway = mappings.get(CTE, "career_pathway", program_id_)
    if pathway is None:
        return None
    return [{"careerPathwayDescriptor": pathway, "cipCode": cip_code, "primaryCTEProgramIndicator": True,
             "cteProgramCompletionIndicator": student_status == "C"}]


# --- the other student program associations (SPEC §7; no seed gives their elements) --------------

TITLE_I = "studentTitleIPartAProgramAssociations"
FOOD_SERVICE = "studentSchoolFoodServiceProgramAssociations"


def title_i_participant(mappings: Mappings) -> str:
    """SPEC §7: titleIPartAParticipantDescriptor (required by Ed-Fi) from the (studentTitleIPartA-
    ProgramAssociations, participant, '*') mapping; without it, an error row naming that mapping."""
    return mappings.require(TITLE_I, "participant", "*")


def food_service_program_services(mappings: Mappings, eligibility: str | None) -> list[dict] | None:
    """SPEC §7: schoolFoodServiceProgramServices from the (…, eligibility, F|R) mapping when present."""
    service = mappings.get(FOOD_SERVICE, "eligibility", eligibility)
    return [{"schoolFoodServiceProgramServiceDescriptor": service}] if service else None


def last_qualifying_move(year: SchoolYear, start: date | None) -> date:
    """SPEC §7: the migrant record's start date (required by Ed-Fi); Our reading: the beginDate
    default 07/01/(Y-1) when it is NULL."""
    return begin_date(year, start)


def priority_for_services() -> bool:
    """SPEC §7: priorityForServices (required by Ed-Fi) is false; the SIS has no source."""
    return False
