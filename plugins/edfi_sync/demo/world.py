"""The plan of the demo districts: schools, calendars, students and the edge case each student carries.

Everything here is small (one object per school, calendar and student); the millions of rows are
derived from it table by table in ``tables``. Students 1..len(CASEBOOK) are the casebook: one
student per documented edge case, present at every scale. The others draw cases at random rates.
"""

from __future__ import annotations

import math
import random
import zlib
from dataclasses import dataclass, field
from datetime import date

GRADES = ("KG", "01", "02", "03", "04", "05", "06", "07", "08", "09", "10", "11", "12")
ALUMNI = 13  # a "grade" in Y for students who graduated in Y-1: prior-year data only
HIGH_SCHOOL = range(9, 13)
UNMAPPED_GRADE = "UG"

# Calendar kinds, the last digit of calendar_id = school_id * 10 + kind.
PRIOR, CURRENT, SUMMER = 1, 2, 3
# Term schedules, the last digit of term_schedule_id = calendar_id * 10 + schedule.
SEMESTERS, QUARTERS, TRIMESTERS, SUMMER_SESSION = 1, 2, 3, 4


@dataclass(frozen=True)
class Case:
    """A documented edge case: who gets it in the casebook, and at which rate elsewhere."""

    name: str
    group: str  # a student carries at most one random case per group
    grades: range
    rate: float
    text: str


CASES = {case.name: case for case in (
    # Enrollments in Y
    Case("no_show_extra", "enrollment", range(0, 13), 0.01,
         "a no-show enrollment in Y at another school besides a valid one"),
    Case("only_no_show", "enrollment", range(0, 13), 0.004, "the only enrollment in Y is a no-show"),
    Case("state_excluded", "enrollment", range(0, 13), 0.004, "the only enrollment in Y is state-excluded"),
    Case("excluded_calendar_only", "enrollment", range(0, 13), 0.004,
         "the only enrollment in Y is in an excluded (summer school) calendar"),
    Case("excluded_calendar_extra", "enrollment", range(0, 13), 0.01,
         "a summer-school enrollment in an excluded calendar besides a valid one"),
    Case("excluded_school", "enrollment", range(0, 13), 0.004, "enrolled only in the excluded school"),
    Case("null_number_school", "enrollment", range(0, 13), 0.002,
         "BROKEN: enrolled in the school whose number is NULL"),
    Case("school_change", "enrollment", range(0, 13), 0.03,
         "two primary enrollments in Y: the first ends mid-year (W1), the second starts at another school"),
    Case("mid_year_exit", "enrollment", range(0, 13), 0.03, "the enrollment ends mid-year (W2 or WD)"),
    Case("secondary", "enrollment", HIGH_SCHOOL, 0.03, "a secondary ('S') enrollment at another school"),
    Case("sped_service", "enrollment", range(0, 13), 0.02,
         "a special-ed services ('N') enrollment at another school"),
    Case("unmapped_grade", "enrollment", range(0, 13), 0.0, f"BROKEN: enrollment grade '{UNMAPPED_GRADE}' has no mapping"),
    Case("unmapped_end_status", "enrollment", range(0, 13), 0.0,
         "BROKEN: the enrollment ends mid-year with end status 'W9', which has no mapping"),
    Case("prior_year_only", "enrollment", range(1, 13), 0.02, "left after Y-1: enrollments in Y-1 only"),
    Case("at_two_primary_school", "enrollment", HIGH_SCHOOL, 0.005,
         "enrolled in Y-1 and Y at Sandia Early College High, whose Y calendar has two primary term schedules"),
    # Graduation (grade 12 in Y)
    Case("graduate", "graduation", range(12, 13), 0.80, "graduation row in Y, mapped diploma type, end status WG"),
    Case("graduate_wg_no_row", "graduation", range(12, 13), 0.03, "end status WG without a graduation row"),
    Case("graduate_null_type", "graduation", range(12, 13), 0.01,
         "graduation row in Y with a NULL diploma type, end status WG"),
    Case("graduate_null_type_not_wg", "graduation", range(12, 13), 0.0,
         "graduation row in Y with a NULL diploma type, end status WE (does not qualify)"),
    Case("graduate_outside_year", "graduation", range(12, 13), 0.01,
         "diploma date after Y (07/18/Y), end status WG (qualifies through the enrollment)"),
    Case("graduate_outside_year_not_wg", "graduation", range(12, 13), 0.0,
         "diploma date after Y, end status WE (does not qualify)"),
    Case("graduate_null_date", "graduation", range(12, 13), 0.0, "graduation row with a NULL diploma date, end status WG"),
    Case("graduate_unmapped_type", "graduation", range(12, 13), 0.0, "BROKEN: diploma type '5' has no mapping"),
    Case("graduate_date_in_no_term", "graduation", range(12, 13), 0.0,
         "diploma date 05/31/Y, after the last term ended and before summer school"),
    # Transcripts (grades 9-12)
    Case("no_transcripts", "transcript", range(9, 14), 0.03, "a high-school student without any transcript row"),
    Case("transfer_credits", "transcript", range(9, 14), 0.05,
         "manually added transcripts (score_id NULL) from out of district (school_id NULL)"),
    Case("transcript_override", "transcript", range(9, 14), 0.03,
         "transcripts with an Ed-Fi Transcript Term Override (scored and manual)"),
    Case("transcript_without_credit", "transcript", range(9, 14), 0.01, "a transcript row without a transcript_credit row"),
    Case("unknown_term_override", "transcript", range(9, 14), 0.0,
         "BROKEN: a transcript whose override 'WI' has no term mapping: its term cannot be determined"),
    Case("null_course_number", "transcript", range(9, 14), 0.0, "BROKEN: a manual transcript with a NULL course_number"),
    Case("retaken_course", "transcript", range(10, 13), 0.0,
         "BROKEN: a Y-1 row of the course of Y's first semester, re-aligned to the same term: one sent, one logged"),
    # Programs (casebook only: the population draws programs at the rates of ``tables``)
    Case("cte_unmapped", "cte", range(9, 13), 0.0, "CTE participation in Cosmetology, which has no program_type mapping"),
    Case("cte_tie_level", "cte", range(9, 13), 0.0,
         "two certifications on the same date: attempted (higher id) and passed (lower id): passed wins"),
    Case("cte_tie_full", "cte", range(9, 13), 0.0,
         "two passed certifications on the same date (highest id wins), an older one and one with a NULL date"),
    Case("cte_null_dates", "cte", range(9, 13), 0.0, "CTE participation with NULL start and end dates"),
    Case("cte_partial", "cte", range(9, 13), 0.0, "CTE participation from Y-2 that ends mid-Y (partial overlap)"),
    Case("cte_no_overlap", "cte", range(9, 13), 0.0,
         "CTE participations that do not overlap Y: one ended in Y-1, one starts in Y+1"),
    Case("cte_no_pathway", "cte", range(9, 13), 0.0,
         "CTE participation in Digital Media: program_type mapped, no career_pathway mapping"),
    Case("cte_passed_unattempted", "cte", range(9, 13), 0.0, "a certification passed with 'attempted' unchecked"),
    Case("flag_unmapped", "flag", range(0, 13), 0.0, "assigned the flag Athletics Eligibility, which has no mapping"),
    Case("flag_mapped", "flag", range(0, 13), 0.0, "assigned the flag Gifted and Talented (mapped)"),
    Case("areas_all", "area", range(0, 13), 0.0, "title1, EL, migrant and homeless records overlapping Y"),
    Case("areas_no_overlap", "area", range(0, 13), 0.0, "title1, EL, migrant and homeless records that ended in Y-1"),
    Case("iep_locked", "plan", range(0, 13), 0.0, "a locked IEP overlapping Y"),
    Case("iep_unlocked", "plan", range(0, 13), 0.0, "an unlocked IEP (does not count as SPED)"),
    Case("plan_504", "plan", range(0, 13), 0.0, "a locked 504 plan (not an IEP)"),
    Case("fram_F", "fram", range(0, 13), 0.0, "FRAM eligibility F (free)"),
    Case("fram_R", "fram", range(0, 13), 0.0, "FRAM eligibility R (reduced)"),
    Case("fram_S", "fram", range(0, 13), 0.0, "FRAM eligibility S (not eligible)"),
    Case("fram_N", "fram", range(0, 13), 0.0, "FRAM eligibility N (not eligible)"),
    # People (casebook only)
    Case("null_birth_date", "person", range(0, 13), 0.0, "BROKEN: person with a NULL birth_date"),
    Case("null_last_name", "person", range(0, 13), 0.0, "BROKEN: person with a NULL last_name"),
    Case("duplicate_state_id", "person", range(0, 13), 0.0, "BROKEN: same state_id as the casebook student before"),
    Case("null_state_id", "person", range(0, 13), 0.0, "BROKEN: person with a NULL state_id"),
)}

# The casebook: (grade in Y, cases). Student i+1 is entry i, at every scale and seed.
CASEBOOK: tuple[tuple[int, tuple[str, ...]], ...] = (
    (7, ("no_show_extra",)),
    (4, ("only_no_show",)),
    (10, ("state_excluded", "cte_tie_level")),
    (11, ("excluded_calendar_only", "cte_tie_level")),
    (5, ("excluded_calendar_extra",)),
    (9, ("excluded_school", "cte_tie_level")),
    (8, ("null_number_school",)),
    (7, ("school_change",)),
    (10, ("mid_year_exit",)),
    (11, ("secondary",)),
    (3, ("sped_service", "iep_locked")),
    (6, ("unmapped_grade",)),
    (9, ("unmapped_end_status",)),
    (8, ("prior_year_only", "areas_all")),
    (12, ("graduate",)),
    (12, ("graduate_wg_no_row",)),
    (12, ("graduate_null_type",)),
    (12, ("graduate_null_type_not_wg",)),
    (12, ("graduate_outside_year",)),
    (12, ("graduate_outside_year_not_wg",)),
    (12, ("graduate_null_date",)),
    (12, ("graduate_unmapped_type",)),
    (12, ("graduate_date_in_no_term",)),
    (12, ("graduate", "no_transcripts")),
    (12, ("graduate", "at_two_primary_school")),
    (ALUMNI, ()),
    (10, ("no_transcripts",)),
    (11, ("transfer_credits",)),
    (12, ("graduate", "transcript_override")),
    (12, ("graduate", "unknown_term_override")),
    (12, ("graduate", "transcript_without_credit")),
    (12, ("graduate", "null_course_number")),
    (10, ("cte_unmapped",)),
    (11, ("cte_tie_level",)),
    (12, ("cte_tie_full",)),
    (11, ("cte_null_dates",)),
    (12, ("cte_partial",)),
    (10, ("cte_no_overlap",)),
    (11, ("cte_no_pathway",)),
    (12, ("cte_passed_unattempted",)),
    (7, ("flag_unmapped",)),
    (5, ("flag_mapped",)),
    (2, ("areas_all",)),
    (4, ("areas_no_overlap",)),
    (1, ("iep_locked",)),
    (4, ("iep_unlocked",)),
    (6, ("plan_504",)),
    (2, ("fram_F",)),
    (3, ("fram_R",)),
    (4, ("fram_S",)),
    (5, ("fram_N",)),
    (8, ("null_birth_date",)),
    (6, ("null_last_name",)),
    (6, ("duplicate_state_id",)),
    (9, ("null_state_id",)),
    (12, ("graduate", "retaken_course")),
)



@dataclass(frozen=True)
class Course:
    """An entry of the district course catalogue; course_id = calendar_id * 100 + index."""

    index: int
    number: str
    name: str
    grades: range
    pool: int = 1  # students split over this many courses in the same slot (electives)
    term_override: str | None = None


def _catalogue() -> tuple[Course, ...]:
    entries: list[tuple] = []
    cores = (("ELA", "English Language Arts"), ("MATH", "Mathematics"), ("SCI", "Science"), ("SS", "Social Studies"))
    for grade in range(0, 9):
        label = "Kindergarten" if grade == 0 else f"Grade {grade}"
        entries += [(f"{code}{GRADES[grade]}", f"{label} {name}", range(grade, grade + 1)) for code, name in cores]
    high = (("ENG09", "English 9"), ("ALG1", "Algebra I"), ("PHYSCI", "Physical Science"), ("WGEO", "World Geography"),
            ("ENG10", "English 10"), ("GEOM", "Geometry"), ("BIO", "Biology"), ("WHIST", "World History"),
            ("ENG11", "English 11"), ("ALG2", "Algebra II"), ("CHEM", "Chemistry"), ("USHIST", "U.S. History"),
            ("ENG12", "English 12"), ("PRECALC", "Pre-Calculus"), ("PHYS", "Physics"), ("GOVECON", "Government/Economics"))
    entries += [(number, name, range(9 + i // 4, 10 + i // 4)) for i, (number, name) in enumerate(high)]
    entries += [("PE-E", "Physical Education", range(0, 6)), ("ART-E", "Art", range(0, 6)),
                ("PE-M", "Physical Education", range(6, 9)), ("ART-M", "Art", range(6, 9), 2),
                ("BAND-M", "Band", range(6, 9), 2, "YR"),
                ("PE", "Physical Education", range(9, 13), 2), ("HEALTH", "Health", range(9, 13), 2)]
    electives = (("ART1", "Art I", None), ("SPAN1", "Spanish I", None), ("SPAN2", "Spanish II", None),
                 ("BAND", "Band", "YR"), ("CHOIR", "Choir", "YR"), ("CSP", "Computer Science Principles", None),
                 ("WELD1", "Welding I", None), ("AUTO1", "Automotive Technology I", None),
                 ("CULIN1", "Culinary Arts I", None), ("HLTHSCI1", "Health Science I", None),
                 ("IT1", "Information Technology I", None), ("AGSCI1", "Agricultural Science I", None),
                 ("CONST1", "Construction Trades I", None), ("DMEDIA1", "Digital Media I", None),
                 ("COSMO1", "Cosmetology I", None))
    entries += [(number, name, range(9, 13), len(electives), override) for number, name, override in electives]
    return tuple(Course(i, *entry) for i, entry in enumerate(entries))


CATALOGUE = _catalogue()
COURSES = {course.number: course for course in CATALOGUE}
HIGH_SCHOOL_ELECTIVES = tuple(c for c in CATALOGUE if c.grades == range(9, 13) and c.pool > 2)
SECTION_OVERRIDE = ("HEALTH", "S2")  # odd-numbered Health sections carry an Ed-Fi term override

# Program setup per district: program_id = district_id * 100 + index.
CTE_PROGRAMS = (  # (index, code, name, CIP state code, type category)
    (1, "WELD", "Welding Technology", "48.0508", "Trade and Industry"),
    (2, "AUTO", "Automotive Technology", "47.0604", "Trade and Industry"),
    (3, "CULN", "Culinary Arts", "12.0503", "Hospitality"),
    (4, "HLTH", "Health Science", "51.0000", "Health Science"),
    (5, "INFO", "Information Technology", "11.0103", "Business"),
    (6, "AGRI", "Agricultural Science", "01.0000", "Agriculture"),
    (7, "CONS", "Construction Trades", "46.0000", "Trade and Industry"),
    (8, "DMED", "Digital Media", "10.0304", "Arts and Communication"),
    (9, "COSM", "Cosmetology", "12.0401", "Personal Services"),
)
FLAGS = (  # (index, code, name)
    (11, "GT", "Gifted and Talented"),
    (12, "504", "Section 504"),
    (13, "AVID", "AVID"),
    (14, "DROP", "Dropout Prevention"),
    (15, "ATHL", "Athletics Eligibility"),
)
PROGRAM_INDEX = {code: index for index, code, *_ in CTE_PROGRAMS + FLAGS}

DISTRICT_NAMES = ("Sierra Vista Public Schools", "Pecos Valley Schools", "Jemez Mountain Schools",
                  "Rio Puerco Schools", "Llano Estacado Schools", "Gila Basin Schools")
PLACES = ("Mesa Vista", "Rio Grande", "Sandia", "Manzano", "Cibola", "La Cueva", "Valle Verde", "Los Alamitos",
          "Piedra Lisa", "Sierra Blanca", "Tres Ritos", "Ojo Caliente", "Cerro Gordo", "Arroyo Seco", "Bosque",
          "Corrales", "Placitas", "Tijeras", "Galisteo", "Chimayo", "Abiquiu", "Truchas", "Pojoaque", "Zuni")
# Grade spans (first, last grade index) of the regular schools in a district.
TWO_SCHOOL_SPANS = ((0, 8, "K-8 Academy"), (6, 12, "6-12 Academy"))
SPANS = ((0, 5, "Elementary"), (6, 8, "Middle School"), (9, 12, "High School"))


def stream(seed: int, topic: str, key: int = 0) -> random.Random:
    """An independent random stream per (seed, topic, key): tables and students never share one."""
    return random.Random((seed * 0x1_0000_0001 + zlib.crc32(topic.encode())) * 10_000_019 + key)


@dataclass(frozen=True)
class School:
    school_id: int
    district_id: int
    name: str
    number: str | None
    exclude: bool
    grades: range
    regular: bool


@dataclass(frozen=True)
class Calendar:
    calendar_id: int
    school_id: int
    end_year: int
    name: str
    start: date
    end: date
    exclude: bool


@dataclass(frozen=True)
class District:
    district_id: int
    name: str
    number: str
    schools: tuple[School, ...]


@dataclass(slots=True)
class Student:
    person_id: int
    district_id: int
    grade: int  # grade index in Y (ALUMNI: graduated in Y-1)
    school_id: int | None  # the main school in Y
    prior_school_id: int | None  # the school in Y-1 (None: new to the district)
    other_school_id: int | None  # second school of a school change, secondary/no-show/services enrollment
    cases: frozenset[str]
    state_id: str | None = None


@dataclass
class World:
    seed: int
    year: int
    districts: list[District]
    schools: dict[int, School]
    calendars: dict[int, Calendar]
    students: list[Student]
    two_primary_calendar_id: int
    sections: dict[int, int] = field(default_factory=dict)  # course_id -> number of sections

    def calendar(self, school_id: int, kind: int) -> Calendar:
        return self.calendars[school_id * 10 + kind]


def sizes(scale: float) -> tuple[int, int, int]:
    """(districts, regular schools, students): scale 1 = 1 district, 2 schools, 500 students."""
    students = max(100, round(500 * scale))
    schools = max(2, round(2 * scale ** 0.75))
    districts = max(1, min(round(math.sqrt(scale) / 3), schools // 2, len(DISTRICT_NAMES)))
    return districts, schools, students


def _calendars(school: School, year: int, rng: random.Random) -> list[Calendar]:
    offset = rng.randrange(5)
    found = []
    for kind, end_year in ((PRIOR, year - 1), (CURRENT, year)):
        label = f"{end_year - 1 - 2000:02d}-{end_year - 2000:02d}"
        found.append(Calendar(school.school_id * 10 + kind, school.school_id, end_year,
                              f"{label} {school.name}", date(end_year - 1, 8, 10 + offset),
                              date(end_year, 5, 21 + offset), False))
    if school.regular:
        found.append(Calendar(school.school_id * 10 + SUMMER, school.school_id, year,
                              f"Summer {year} {school.name}", date(year, 6, 2), date(year, 6, 27), True))
    return found


def _schools(n_districts: int, n_regular: int, rng: random.Random) -> list[District]:
    numbers = rng.sample(range(35001, 35999), n_districts)
    per_district = [n_regular // n_districts + (d < n_regular % n_districts) for d in range(n_districts)]
    districts, school_id, name_uses = [], 100, {}
    for d, count in enumerate(per_district):
        number = f"{numbers[d]}00"
        spans = TWO_SCHOOL_SPANS if count == 2 else SPANS
        schools = []
        for i in range(count):
            school_id += 1
            low, high, kind = spans[i % len(spans)]
            place = PLACES[(school_id - 101) % len(PLACES)]
            name = f"{place} {kind}"
            name_uses[name] = name_uses.get(name, 0) + 1
            if name_uses[name] > 1:
                name = f"{name} {name_uses[name]}"
            schools.append(School(school_id, d + 1, name, f"{number[:5]}{i + 1:04d}", False,
                                  range(low, high + 1), True))
        districts.append(District(d + 1, DISTRICT_NAMES[d], number, tuple(schools)))
    first = districts[0]
    n = len(first.schools)
    edge = (School(school_id + 1, 1, "Online Learning Academy", f"{first.number[:5]}{n + 1:04d}", True,
                   range(0, 13), False),
            School(school_id + 2, 1, "Desert Sky Charter", None, False, range(0, 13), False),
            School(school_id + 3, 1, "Sandia Early College High", f"{first.number[:5]}{n + 2:04d}", False,
                   range(9, 13), False))
    districts[0] = District(first.district_id, first.name, first.number, first.schools + edge)
    return districts


def build(seed: int, scale: float, year: int) -> World:
    n_districts, n_regular, n_students = sizes(scale)
    districts = _schools(n_districts, n_regular, stream(seed, "schools"))
    schools = {s.school_id: s for d in districts for s in d.schools}
    calendar_rng = stream(seed, "calendars")
    calendars = {c.calendar_id: c for s in schools.values() for c in _calendars(s, year, calendar_rng)}
    regular = {d.district_id: [s for s in d.schools if s.regular] for d in districts}
    # The early college's Y calendar gets a second primary term schedule.
    excluded_school, null_number_school, two_primary_school = districts[0].schools[-3:]

    rng = stream(seed, "students")
    weights = [len(regular[d.district_id]) for d in districts]
    by_group: dict[str, list[Case]] = {}
    for case in CASES.values():
        if case.rate:
            by_group.setdefault(case.group, []).append(case)

    def serving(district_id: int, grade: int) -> list[School]:
        return [s for s in regular[district_id] if grade in s.grades]

    students = []
    for index in range(n_students):
        person_id = index + 1
        if index < len(CASEBOOK):
            grade, cases = CASEBOOK[index]
            district_id = 1
        else:
            grade = rng.randrange(14)
            district_id = rng.choices(districts, weights)[0].district_id
            cases = []
            for group in by_group.values():
                draw, acc = rng.random(), 0.0
                for case in group:
                    if grade in case.grades:
                        acc += case.rate
                        if draw < acc:
                            cases.append(case.name)
                            break
        cases = frozenset(cases)
        # Kindergartners and some others are new to the district; last year's graduates never are.
        new_student = grade == 0 or (index >= len(CASEBOOK) and grade != ALUMNI and rng.random() < 0.08)
        school = None
        if grade != ALUMNI and "prior_year_only" not in cases:
            if "excluded_school" in cases:
                school = excluded_school
            elif "null_number_school" in cases:
                school = null_number_school
            elif "at_two_primary_school" in cases:
                school = two_primary_school
            else:
                school = rng.choice(serving(district_id, grade))
        prior = None
        if not new_student:
            prior = school if school and grade - 1 in school.grades else rng.choice(serving(district_id, grade - 1))
        others = [s for s in serving(district_id, min(grade, 12)) if s is not school] or \
                 [s for s in regular[district_id] if s is not school]
        students.append(Student(person_id, district_id, grade, school and school.school_id,
                                prior and prior.school_id, rng.choice(others).school_id, cases))

    state_ids = stream(seed, "state_ids").sample(range(100_000_000, 1_000_000_000), n_students)
    for student, state_id in zip(students, state_ids):
        student.state_id = str(state_id)
        if "duplicate_state_id" in student.cases:
            student.state_id = students[student.person_id - 2].state_id
        elif "null_state_id" in student.cases:
            student.state_id = None

    world = World(seed, year, districts, schools, calendars, students,
                  two_primary_school.school_id * 10 + CURRENT)
    class_sizes: dict[tuple[int, int], int] = {}  # (calendar_id, grade) -> students
    for s in students:
        for school_id, kind, grade in ((s.school_id, CURRENT, s.grade), (s.prior_school_id, PRIOR, s.grade - 1)):
            if school_id is not None and 0 <= grade <= 12:
                key = (school_id * 10 + kind, grade)
                class_sizes[key] = class_sizes.get(key, 0) + 1
    for calendar in calendars.values():
        if calendar.exclude:
            continue  # summer school teaches no graded courses
        grades = schools[calendar.school_id].grades
        for course in CATALOGUE:
            if course.grades.start in grades or course.grades[-1] in grades:
                size = sum(class_sizes.get((calendar.calendar_id, g), 0) for g in course.grades)
                world.sections[calendar.calendar_id * 100 + course.index] = \
                    min(9, max(1, math.ceil(size / 25 / course.pool)))
    return world
