"""The demo's configuration for year Y: connections, Resource Preferences (SPEC §4) and local descriptors.

Most SIS values are mapped, a few on purpose are not (they must show up as unmapped in the error
log, or not be reported where a seed says only mapped values report). Every mapping points at an
Ed-Fi DS 4.0 default descriptor, a New Mexico one of seed 004, or one of LOCAL_DESCRIPTORS, which
the sandbox preloads from the file ``write_descriptors`` writes.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Iterator

from .tables import Table
from .world import CTE_PROGRAMS, FLAGS, GRADES, World

NM = "uri://nmped.org"


def ed_fi(descriptor: str) -> str:
    return f"uri://ed-fi.org/{descriptor}"


LOCAL_DESCRIPTORS = [
    {"descriptor": "ExitWithdrawTypeDescriptor", "namespace": f"{NM}/ExitWithdrawTypeDescriptor", "codeValue": "G",
     "shortDescription": "Graduated", "description": "Graduated: the student earned a diploma or certificate."},
]

GRADE_LEVELS = ("Kindergarten", "First grade", "Second grade", "Third grade", "Fourth grade", "Fifth grade",
                "Sixth grade", "Seventh grade", "Eighth grade", "Ninth grade", "Tenth grade", "Eleventh grade",
                "Twelfth grade")
# Left unmapped on purpose: grade 'UG', end status 'W9', term 'Q4', override 'WI', diploma type '5',
# CTE program Cosmetology (and Digital Media's career pathway), flag Athletics Eligibility.
EXIT_WITHDRAW_TYPES = {"W1": (ed_fi("ExitWithdrawTypeDescriptor"), "Transferred"),
                       "W2": (ed_fi("ExitWithdrawTypeDescriptor"), "Transferred"),
                       "WD": (ed_fi("ExitWithdrawTypeDescriptor"), "Dropout"),
                       "WE": (ed_fi("ExitWithdrawTypeDescriptor"), "End of school year"),
                       "WN": (ed_fi("ExitWithdrawTypeDescriptor"), "No show"),
                       "WG": (f"{NM}/ExitWithdrawTypeDescriptor", "G")}
TERMS = {"S1": "Fall Semester", "S2": "Spring Semester", "Q1": "First Quarter", "Q2": "Second Quarter",
         "Q3": "Third Quarter", "T1": "First Trimester", "T2": "Second Trimester", "T3": "Third Trimester",
         "SS": "Summer Semester", "YR": "Year Round"}
CTE_PROGRAM_TYPES = {"WELD": "Career and Technical Education", "AUTO": "Career and Technical Education",
                     "CULN": "Career and Technical Education", "HLTH": "Career and Technical Education",
                     "INFO": "Technical Preparatory", "AGRI": "Career and Technical Education",
                     "CONS": "Career and Technical Education", "DMED": "Vocational Education"}
CAREER_PATHWAYS = {"WELD": "Manufacturing", "AUTO": "Transportation, Distribution and Logistics",
                   "CULN": "Hospitality and Tourism", "HLTH": "Health Science", "INFO": "Information Technology",
                   "AGRI": "Agriculture, Food and Natural Resources", "CONS": "Architecture and Construction"}
FLAG_PROGRAM_TYPES = {"GT": "Gifted and Talented", "504": "Section 504 Placement", "AVID": "College Preparatory",
                      "DROP": "Student Retention/Dropout Prevention"}
AREA_PROGRAM_TYPES = {"title1": "Title I Part A", "lep": "English as a Second Language (ESL)",
                      "migrant": "Migrant Education", "homeless": "Homeless", "fram": "Student School Food Service",
                      "sped": "Special Education"}
DIPLOMAS = {"1": "Diploma Earned", "2": "Certificate Earned", "4": "Diploma Earned", "6": "Diploma Earned"}


def mappings(world: World) -> Iterator[tuple]:
    """(resource, field, sis_value, namespace, code_value) rows of the year's Resource Preferences."""
    program_type = ed_fi("ProgramTypeDescriptor")
    for district in world.districts:
        base = district.district_id * 100
        for index, code, *_ in CTE_PROGRAMS:
            if code in CTE_PROGRAM_TYPES:
                yield "programs", "program_type", str(base + index), program_type, CTE_PROGRAM_TYPES[code]
            if code in CAREER_PATHWAYS:
                yield ("studentCTEProgramAssociations", "career_pathway", str(base + index),
                       ed_fi("CareerPathwayDescriptor"), CAREER_PATHWAYS[code])
        for index, code, _ in FLAGS:
            if code in FLAG_PROGRAM_TYPES:
                yield "programs", "program_type", str(base + index), program_type, FLAG_PROGRAM_TYPES[code]
    for area, code_value in AREA_PROGRAM_TYPES.items():
        yield "programs", "program_type", area, program_type, code_value
    yield ("studentTitleIPartAProgramAssociations", "participant", "*", ed_fi("TitleIPartAParticipantDescriptor"),
           "Public Targeted Assistance Program")
    for eligibility, code_value in (("F", "Free Lunch"), ("R", "Reduced Price Lunch")):
        yield ("studentSchoolFoodServiceProgramAssociations", "eligibility", eligibility,
               ed_fi("SchoolFoodServiceProgramServiceDescriptor"), code_value)
    for outcome, code_value in (("passed", "Passed"), ("attempted", "Not Passed"), ("not_attempted", "Did Not Take")):
        yield ("studentCTEProgramAssociations", "technical_skills_assessment", outcome,
               ed_fi("TechnicalSkillsAssessmentDescriptor"), code_value)
    for diploma_type, category in DIPLOMAS.items():
        yield "studentAcademicRecords", "diploma_type", diploma_type, f"{NM}/DiplomaTypeDescriptor", diploma_type
        yield ("studentAcademicRecords", "achievement_category", diploma_type,
               ed_fi("AchievementCategoryDescriptor"), category)
    yield "studentAcademicRecords", "diploma_type", "*", f"{NM}/DiplomaTypeDescriptor", "1"
    yield "studentAcademicRecords", "transcript_term_override", "*", ed_fi("TermDescriptor"), "Year Round"
    for term, code_value in TERMS.items():
        yield "sessions", "term", term, ed_fi("TermDescriptor"), code_value
    for status, (namespace, code_value) in EXIT_WITHDRAW_TYPES.items():
        yield "studentSchoolAssociations", "exit_withdraw_type", status, namespace, code_value
    for grade, code_value in zip(GRADES, GRADE_LEVELS):
        yield "studentSchoolAssociations", "grade_level", grade, ed_fi("GradeLevelDescriptor"), code_value
    for result, code_value in (("pass", "Pass"), ("fail", "Fail")):
        yield "courseTranscripts", "course_attempt_result", result, ed_fi("CourseAttemptResultDescriptor"), code_value
    yield ("localEducationAgencies", "category", "*", ed_fi("LocalEducationAgencyCategoryDescriptor"),
           "Regular public school district")


def mapping_rows(world: World) -> Iterator[tuple]:
    return ((world.year, *row) for row in mappings(world))


def connection_rows(world: World) -> Iterator[tuple]:
    # Y-1 has data but no enabled connection: it must stay out of scope.
    yield world.year - 1, "edfi_api", False
    yield world.year, "edfi_api", True


CONFIG_TABLES = (
    Table("edfi_sync.connection", ("end_year", "conn_id", "enabled"), connection_rows, truncate=False),
    Table("edfi_sync.mapping", ("end_year", "resource", "field", "sis_value", "namespace", "code_value"),
          mapping_rows, truncate=False),
)


def write_descriptors(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(LOCAL_DESCRIPTORS, indent=2) + "\n", encoding="utf-8")
    return path
