"""The SIS tables of SPEC §3 as rows derived from the plan, one generator per table.

Each table draws from its own random stream, so adding or changing one table never reshuffles
another. Tables that must agree replay one stream (participations and their certifications,
transcripts and their credits); a student's schedule has a stream of its own, which grading scores
and transcripts both read. Ids are arithmetic (e.g. enrollment_id =
person_id * 10 + n) so that related tables can name each other's rows without holding them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from itertools import accumulate
from random import Random
from typing import Callable, Iterable, Iterator

from .world import (ALUMNI, CASEBOOK, CATALOGUE, COURSES, CTE_PROGRAMS, CURRENT, FLAGS, GRADES, HIGH_SCHOOL,
                    HIGH_SCHOOL_ELECTIVES, PRIOR, PROGRAM_INDEX, QUARTERS, SECTION_OVERRIDE, SEMESTERS,
                    SUMMER, SUMMER_SESSION, TRIMESTERS, UNMAPPED_GRADE, Calendar, Course, Student, World, stream)

Row = tuple


@dataclass(frozen=True)
class Table:
    name: str  # schema-qualified
    columns: tuple[str, ...]
    rows: Callable[[World], Iterable[Row]]
    truncate: bool = True  # SIS tables are emptied; configuration tables lose only the year's rows


def per_student(topic: str, build: Callable[[World, Student, Random], Iterable[Row]]) -> Callable[[World], Iterator[Row]]:
    """Rows of a table built student by student from the topic's stream. Tables that share a topic
    (participations and their certifications, transcripts and their credits) replay the same draws."""
    def rows(world: World) -> Iterator[Row]:
        rng = stream(world.seed, topic)
        for s in world.students:
            yield from build(world, s, rng)

    return rows


def is_casebook(s: Student) -> bool:
    return s.person_id <= len(CASEBOOK)


def days(rng: Random, start: date, span: int) -> date:
    return start + timedelta(days=rng.randrange(span))


# --- organisations and calendars ---------------------------------------------------------------

def district_rows(world: World) -> Iterator[Row]:
    for d in world.districts:
        yield d.district_id, d.name, d.number


def school_rows(world: World) -> Iterator[Row]:
    for s in world.schools.values():
        yield s.school_id, s.district_id, s.name, s.number, s.exclude


def school_year_rows(world: World) -> Iterator[Row]:
    y = world.year
    for end_year in (y - 1, y, y + 1):
        # Y itself has NULL dates: the sync must fall back to 07/01/(Y-1) - 06/30/Y.
        dated = end_year != y
        yield (end_year, f"{end_year - 1}-{end_year % 100:02d}", date(end_year - 1, 7, 1) if dated else None,
               date(end_year, 6, 30) if dated else None)


def calendar_rows(world: World) -> Iterator[Row]:
    for c in world.calendars.values():
        yield c.calendar_id, c.school_id, c.end_year, c.name, c.start, c.end, c.exclude


def schedules(world: World, c: Calendar) -> list[tuple[int, str, bool, list[tuple[str, date, date]]]]:
    """(schedule kind, name, is_primary, terms) of a calendar; a term's seq is its position."""
    if c.exclude:
        return [(SUMMER_SESSION, "Summer Session", True, [("SS", c.start, c.end)])]
    fall, spring = c.start.year, c.end.year
    found = [
        (SEMESTERS, "Semesters", True, [("S1", c.start, date(fall, 12, 20)), ("S2", date(spring, 1, 6), c.end)]),
        (QUARTERS, "Quarters", False, [("Q1", c.start, date(fall, 10, 11)), ("Q2", date(fall, 10, 15), date(fall, 12, 20)),
                                       ("Q3", date(spring, 1, 6), date(spring, 3, 14)), ("Q4", date(spring, 3, 17), c.end)]),
    ]
    if c.calendar_id == world.two_primary_calendar_id:
        found.append((TRIMESTERS, "Trimesters", True, [("T1", c.start, date(fall, 11, 15)),
                                                       ("T2", date(fall, 11, 18), date(spring, 2, 28)),
                                                       ("T3", date(spring, 3, 3), c.end)]))
    return found


def term_schedule_rows(world: World) -> Iterator[Row]:
    for c in world.calendars.values():
        for kind, name, primary, _ in schedules(world, c):
            yield c.calendar_id * 10 + kind, c.calendar_id, name, primary


def term_rows(world: World) -> Iterator[Row]:
    for c in world.calendars.values():
        for kind, _, _, terms in schedules(world, c):
            schedule_id = c.calendar_id * 10 + kind
            for seq, (name, start, end) in enumerate(terms, 1):
                yield schedule_id * 10 + seq, schedule_id, name, seq, start, end


# --- people and enrollments --------------------------------------------------------------------

FIRST_NAMES = ("Ana", "Luis", "Maria", "Jose", "Sofia", "Diego", "Isabella", "Mateo", "Camila", "Santiago", "Emma",
               "Liam", "Olivia", "Noah", "Ava", "Elijah", "Mia", "James", "Harper", "Benjamin", "Aiyana", "Kai",
               "Naomi", "Ezra", "Lucia", "Gabriel", "Valeria", "Adrian", "Elena", "Julian", "Nizhoni", "Dakota",
               "Rosa", "Miguel", "Chloe", "Samuel", "Leah", "Daniel", "Zoe", "Aaron", "Grace", "Tomas")
LAST_NAMES = ("Garcia", "Martinez", "Lopez", "Chavez", "Sanchez", "Romero", "Baca", "Trujillo", "Montoya", "Lucero",
              "Gallegos", "Vigil", "Aragon", "Sandoval", "Smith", "Johnson", "Begay", "Yazzie", "Benally", "Tsosie",
              "Archuleta", "Padilla", "Maestas", "Ortiz", "Apodaca", "Jaramillo", "Herrera", "Brown", "Williams",
              "Nguyen", "Armijo", "Salazar", "Valdez", "Cordova", "Tafoya", "Naranjo", "Roybal", "Esquibel")


def person_rows(world: World) -> Iterator[Row]:
    rng = stream(world.seed, "person")
    for s in world.students:
        first = rng.choice(FIRST_NAMES)
        middle = rng.choice(FIRST_NAMES) if rng.random() < 0.6 else None
        last = rng.choice(LAST_NAMES)
        # Age by grade: 5 on September 1st of kindergarten.
        born = days(rng, date(world.year - 7 - s.grade, 9, 2), 365)
        gender = rng.choice("FM")
        yield (s.person_id, s.state_id, str(100000 + s.person_id), first, middle,
               None if "null_last_name" in s.cases else last,
               None if "null_birth_date" in s.cases else born, gender)


GRADUATING = frozenset({"graduate", "graduate_wg_no_row", "graduate_null_type", "graduate_outside_year",
                        "graduate_null_date", "graduate_unmapped_type", "graduate_date_in_no_term"})
NOT_GRADUATING = frozenset({"graduate_null_type_not_wg", "graduate_outside_year_not_wg"})
NO_CLASSES = frozenset({"only_no_show", "excluded_calendar_only"})


def enrollments(world: World, s: Student, rng: Random) -> list[Row]:
    """(enrollment_id, person_id, calendar_id, grade, service_type, start, end, start_status, end_status,
    no_show, state_exclude); ids person_id * 10 + 0 (Y-1), 1 (main in Y), 2 (no-show or second school),
    3 (secondary), 4 (special-ed services), 5 (summer school)."""
    cases, pid, found = s.cases, s.person_id, []
    if s.prior_school_id is not None:
        prior = world.calendar(s.prior_school_id, PRIOR)
        end_status = "WG" if s.grade == ALUMNI else ("W2" if "prior_year_only" in cases else "WE")
        found.append((pid * 10, pid, prior.calendar_id, GRADES[s.grade - 1], "P", prior.start, prior.end,
                      "R1", end_status, False, False))
    if s.school_id is None:
        return found
    cal = world.calendar(s.school_id, CURRENT)
    grade = UNMAPPED_GRADE if "unmapped_grade" in cases else GRADES[s.grade]
    start, end, end_status = cal.start, None, None
    if cases & GRADUATING:
        end, end_status = cal.end, "WG"
    elif cases & NOT_GRADUATING:
        end, end_status = cal.end, "WE"
    elif "excluded_calendar_only" in cases:
        cal = world.calendar(s.school_id, SUMMER)
        start, end, end_status = cal.start, cal.end, "WE"
    elif cases & {"mid_year_exit", "unmapped_end_status", "school_change"}:
        end = days(rng, date(world.year - 1, 10, 1), 200)
        end_status = ("W1" if "school_change" in cases else "W9" if "unmapped_end_status" in cases
                      else rng.choice(("W2", "WD")))
    if "no_show_extra" in cases:
        start += timedelta(days=3)  # came here after not showing up at the other school
    start_status = "E1" if s.prior_school_id is None else "R1"
    found.append((pid * 10 + 1, pid, cal.calendar_id, grade, "P", start, end, start_status, end_status,
                  "only_no_show" in cases, "state_excluded" in cases))
    other = world.calendar(s.other_school_id, CURRENT)
    if "no_show_extra" in cases:
        found.append((pid * 10 + 2, pid, other.calendar_id, grade, "P", other.start, other.start, "E1", "WN",
                      True, False))
    if "school_change" in cases:
        found.append((pid * 10 + 2, pid, other.calendar_id, grade, "P", end + timedelta(days=1), None, "E2", None,
                      False, False))
    for case, service, n in (("secondary", "S", 3), ("sped_service", "N", 4)):
        if case in cases:
            found.append((pid * 10 + n, pid, other.calendar_id, grade, service, days(rng, cal.start, 30), None,
                          "E1", None, False, False))
    if "excluded_calendar_extra" in cases:
        summer = world.calendar(s.school_id, SUMMER)
        found.append((pid * 10 + 5, pid, summer.calendar_id, grade, "P", summer.start, summer.end, "R1", "WE",
                      False, False))
    return found


# --- programs (seed 000 / 001) -----------------------------------------------------------------

SHAPES = ("current", "ended_in_year", "continuing", "null_start", "null_both", "partial", "past", "future")
SHAPE_WEIGHTS = (55, 12, 12, 5, 4, 5, 4, 3)


def period(rng: Random, year: int, shape: str | None = None) -> tuple[date | None, date | None]:
    """A program record's (start, end) around school year `year`; 'past' and 'future' miss it entirely."""
    shape = shape or rng.choices(SHAPES, SHAPE_WEIGHTS)[0]
    if shape == "current":
        return days(rng, date(year - 1, 8, 10), 40), None
    if shape == "ended_in_year":
        start = days(rng, date(year - 1, 8, 10), 60)
        return start, days(rng, start + timedelta(days=60), 150)
    if shape == "continuing":
        return days(rng, date(year - 3, 8, 10), 700), None
    if shape == "null_start":
        return None, days(rng, date(year, 1, 10), 120)
    if shape == "null_both":
        return None, None
    if shape == "partial":
        return days(rng, date(year - 3, 8, 10), 400), days(rng, date(year - 1, 9, 1), 120)
    if shape == "past":
        return days(rng, date(year - 3, 8, 10), 300), days(rng, date(year - 2, 8, 20), 250)
    return days(rng, date(year, 8, 10), 30), None  # future


CERTIFICATIONS = ("OSHA 10", "ServSafe Food Handler", "AWS D1.1", "CompTIA A+", "ASE Entry-Level", "Certified Nursing Assistant",
                  "Adobe Certified Professional", "NCCER Core")
# (attempted, passed): passed, attempted only, not attempted, passed with 'attempted' left unchecked.
OUTCOMES = ((True, True), (True, False), (False, False), (False, True))
OUTCOME_WEIGHTS = (50, 25, 20, 5)
CASEBOOK_CTE = {  # case -> [(program code, period shape, [(attempted, passed, date offset in days or None)])]
    "cte_unmapped": [("COSM", "current", [(True, True, 0)])],
    "cte_tie_level": [("WELD", "current", [(True, True, 0), (True, False, 0)])],
    "cte_tie_full": [("HLTH", "current", [(True, True, -60), (True, True, 0), (True, True, 0), (True, True, None)])],
    "cte_null_dates": [("AUTO", "null_both", [(True, False, 0)])],
    "cte_partial": [("CULN", "partial", [])],
    "cte_no_overlap": [("AGRI", "past", []), ("CONS", "future", [])],
    "cte_no_pathway": [("DMED", "current", [(False, False, 0)])],
    "cte_passed_unattempted": [("INFO", "current", [(False, True, 0)])],
}
CASEBOOK_FLAGS = {"flag_unmapped": "ATHL", "flag_mapped": "GT"}


def participations(world: World, s: Student, rng: Random) -> list[tuple[Row, list[Row]]]:
    """CTE participations (ids person_id * 10 + 0..4) and flag assignments (+ 5..9), each with its
    certifications (certification_id = participation_id * 10 + n)."""
    district, pid, year = s.district_id * 100, s.person_id, world.year
    cert_day = date(year, 3, 14)
    planned: list[tuple[int, str, tuple, list]] = []  # (participation_id, program code, period, certs)
    if is_casebook(s):
        for case in sorted(s.cases):
            for code, shape, certs in CASEBOOK_CTE.get(case, ()):
                dated = [(a, p, None if off is None else cert_day + timedelta(days=off)) for a, p, off in certs]
                planned.append((pid * 10 + len(planned), code, period(rng, year, shape), dated))
            if case in CASEBOOK_FLAGS:
                planned.append((pid * 10 + 5, CASEBOOK_FLAGS[case], period(rng, year, "current"), []))
    else:
        if (s.grade in HIGH_SCHOOL or s.grade == ALUMNI) and rng.random() < 0.22:
            count = 1 if rng.random() < 0.8 else 2
            for n, program in enumerate(rng.sample(CTE_PROGRAMS, count)):
                when = period(rng, year)
                certs = []
                for _ in range(rng.choices((0, 1, 2, 3), (45, 35, 15, 5))[0]):
                    attempted, passed = rng.choices(OUTCOMES, OUTCOME_WEIGHTS)[0]
                    on = None if rng.random() < 0.1 else days(rng, date(year - 1, 10, 1), 240)
                    certs.append((attempted, passed, on))
                planned.append((pid * 10 + n, program[1], when, certs))
        if rng.random() < 0.08:
            planned.append((pid * 10 + 5, rng.choice(FLAGS)[1], period(rng, year), []))
    found = []
    for participation_id, code, (start, end), certs in planned:
        cte = participation_id % 10 < 5
        status = (("C" if s.grade == 12 and rng.random() < 0.3 else rng.choice("PR")) if cte else None)
        row = (participation_id, pid, district + PROGRAM_INDEX[code], start, end, status,
               cte and rng.random() < 0.1)
        found.append((row, [(participation_id * 10 + n, rng.choice(CERTIFICATIONS), attempted, passed, on)
                            for n, (attempted, passed, on) in enumerate(certs)]))
    return found


def program_rows(world: World) -> Iterator[Row]:
    for d in world.districts:
        for index, code, name, cip, category in CTE_PROGRAMS:
            yield d.district_id * 100 + index, d.district_id, "cte", name, code, cip, "CTE", category
        for index, code, name in FLAGS:
            yield d.district_id * 100 + index, d.district_id, "flag", name, code, None, None, None


def participation_rows(world: World, s: Student, rng: Random) -> Iterator[Row]:
    return (row for row, _ in participations(world, s, rng))


def certification_rows(world: World, s: Student, rng: Random) -> Iterator[Row]:
    return ((cert_id, row[0], *rest) for row, certs in participations(world, s, rng) for cert_id, *rest in certs)


# Program areas: rate, grades, extra columns drawn per record; casebook cases -> (shape, extra columns).
AREAS = {
    "title1": (0.25, range(0, 9), lambda rng: ()),
    "lep": (0.12, range(0, 14), lambda rng: ()),
    "migrant": (0.02, range(0, 14), lambda rng: ()),
    "homeless": (0.03, range(0, 14), lambda rng: ()),
    "pos_eligibility": (0.6, range(0, 14), lambda rng: (rng.choices("FRSN", (55, 20, 15, 10))[0],)),
    "plan": (0.17, range(0, 14), lambda rng: (lambda kind: (kind, rng.random() < (0.85 if kind == "IEP" else 0.5)))(
        rng.choices(("IEP", "504", "SSP"), (70, 20, 10))[0])),
}
CASEBOOK_AREAS = {
    "areas_all": {area: ("current", ()) for area in ("title1", "lep", "migrant", "homeless")},
    "areas_no_overlap": {area: ("past", ()) for area in ("title1", "lep", "migrant", "homeless")},
    **{f"fram_{code}": {"pos_eligibility": ("current", (code,))} for code in "FRSN"},
    "iep_locked": {"plan": ("current", ("IEP", True))},
    "iep_unlocked": {"plan": ("current", ("IEP", False))},
    "plan_504": {"plan": ("current", ("504", True))},
}


def area_rows(area: str) -> Callable[[World, Student, Random], list[Row]]:
    rate, grades, extra = AREAS[area]

    def rows(world: World, s: Student, rng: Random) -> list[Row]:
        pid, year = s.person_id, world.year
        if is_casebook(s):
            planned = [CASEBOOK_AREAS[case][area] for case in sorted(s.cases)
                       if area in CASEBOOK_AREAS.get(case, {})]
            return [(pid * 10 + n, pid, *period(rng, year, shape), *columns)
                    for n, (shape, columns) in enumerate(planned)]
        if s.grade not in grades or rng.random() >= rate:
            return []
        found = [(pid * 10, pid, *period(rng, year), *extra(rng))]
        if rng.random() < 0.15:  # an earlier, closed record of the same area
            found.append((pid * 10 + 1, pid, *period(rng, year, "past"), *extra(rng)))
        return found

    return rows


# --- courses, grades and transcripts -----------------------------------------------------------

LETTERS = ("A", "A-", "B+", "B", "B-", "C+", "C", "D", "F")
LETTER_CUM_WEIGHTS = tuple(accumulate((14, 10, 10, 14, 10, 10, 14, 10, 8)))


def course_rows(world: World) -> Iterator[Row]:
    for course_id in world.sections:
        course = CATALOGUE[course_id % 100]
        yield course_id, course_id // 100, course.number, course.name, course.term_override


def section_rows(world: World) -> Iterator[Row]:
    for course_id, count in world.sections.items():
        course = CATALOGUE[course_id % 100]
        for n in range(1, count + 1):
            override = SECTION_OVERRIDE[1] if course.number == SECTION_OVERRIDE[0] and n % 2 else None
            yield course_id * 10 + n, course_id, str(n), override


CORE = {grade: [c for c in CATALOGUE if c.grades == range(grade, grade + 1)] for grade in range(13)}


def elective(s: Student, grade: int) -> Course:
    """A high-school student's elective of a grade: a different one every year (no retakes)."""
    return HIGH_SCHOOL_ELECTIVES[(s.person_id + grade) % len(HIGH_SCHOOL_ELECTIVES)]


def courses_for(s: Student, grade: int, rng: Random) -> list[Course]:
    """A student's six classes in a year: four core subjects, PE or Health, an elective."""
    if grade in HIGH_SCHOOL:
        return CORE[grade] + [COURSES["PE" if grade % 2 else "HEALTH"], elective(s, grade)]
    if grade < 6:
        return CORE[grade] + [COURSES["PE-E"], COURSES["ART-E"]]
    return CORE[grade] + [COURSES["PE-M"], COURSES[rng.choice(("ART-M", "BAND-M"))]]


def schedule(world: World, s: Student, back: int) -> list[tuple[Course, int, list[tuple[int, int, str]]]]:
    """The student's classes in Y - back (0 or 1): (course, section_id, [(term_id, score_id, letter)]).
    score_id = (back + 1) * 10**7 + person_id * 16 + slot * 2 + semester."""
    school_id = s.school_id if back == 0 else s.prior_school_id
    grade = s.grade - back
    if school_id is None or not 0 <= grade <= 12 or (back == 0 and s.cases & NO_CLASSES):
        return []
    rng = stream(world.seed, "schedule", s.person_id * 2 + back)
    calendar_id = school_id * 10 + (CURRENT if back == 0 else PRIOR)
    semesters = (calendar_id * 10 + SEMESTERS) * 10
    courses = courses_for(s, grade, rng)
    letters = rng.choices(LETTERS, cum_weights=LETTER_CUM_WEIGHTS, k=2 * len(courses))
    first_score = (back + 1) * 10 ** 7 + s.person_id * 16
    found = []
    for slot, course in enumerate(courses):
        course_id = calendar_id * 100 + course.index
        section_id = course_id * 10 + 1 + (s.person_id + slot) % world.sections[course_id]
        found.append((course, section_id, [(semesters + 1, first_score + slot * 2, letters[slot * 2]),
                                           (semesters + 2, first_score + slot * 2 + 1, letters[slot * 2 + 1])]))
    return found


def grading_score_rows(world: World, s: Student, rng: Random) -> Iterator[Row]:
    for back in (0, 1):
        for _, section_id, scores in schedule(world, s, back):
            for term_id, score_id, letter in scores:
                yield score_id, section_id, s.person_id, term_id, letter


def transcripts(world: World, s: Student, rng: Random) -> list[list]:
    """[transcript_id, person_id, school_id, end_year, course_number, course_name, score_id, override,
    grade, credits_attempted, credits_earned, has_credit_row]; transcript_id = person_id * 100 + n.
    Y and Y-1 come from posted grading scores (one per semester; a course or section with an Ed-Fi
    term override posts its final score only, else both would land in one term), earlier high-school
    years were added by hand, one row per course. No course repeats in one term: a retake is a case."""
    if "no_transcripts" in s.cases or not (s.grade in HIGH_SCHOOL or s.grade == ALUMNI):
        return []
    year, found = world.year, []
    for back in (0, 1):
        grade = s.grade - back
        if grade in HIGH_SCHOOL:
            school_id = s.school_id if back == 0 else s.prior_school_id
            for course, section_id, scores in schedule(world, s, back):
                overridden = course.term_override or (course.number == SECTION_OVERRIDE[0] and section_id % 2)
                for _, score_id, letter in scores[-1:] if overridden else scores:
                    credits = "1" if overridden else "0.5"
                    found.append([school_id, year - back, course.number, course.name, score_id, None, letter,
                                  credits, "0" if letter == "F" else credits, True])
    for back in (2, 3):
        grade = s.grade - back
        if grade in HIGH_SCHOOL:
            for course in courses_for(s, grade, rng):
                letter = "F" if rng.random() < 0.05 else rng.choice(LETTERS[:-1])
                found.append([s.prior_school_id, year - back, course.number, course.name.upper(), None, None,
                              letter, "1", "0" if letter == "F" else "1", True])
    if "retaken_course" in s.cases:
        # A Y-1 first-semester score posted under the course of Y's first row: re-aligned to the same term.
        taken, before = found[0], next(row for row in found if row[1] == year - 1)
        found.append([s.prior_school_id, year - 1, taken[2], taken[3], before[4], None, "D", taken[7], taken[8], True])
    if "transfer_credits" in s.cases:
        own = {elective(s, grade) for grade in HIGH_SCHOOL}
        for course in rng.sample([c for c in HIGH_SCHOOL_ELECTIVES if c not in own], 4):
            found.append([None, year - 1, course.number, f"{course.name} (transfer)", None, None, "P", "1", "1", True])
    if "null_course_number" in s.cases:
        found.append([None, year - 1, None, "Independent Study", None, None, "P", "1", "1", True])
    if found and "transcript_override" in s.cases:
        found[0][5] = "S1"  # on a scored row of Y (or Y-1 for last year's graduates)
        found[-1][5] = "SS"
    if found and "unknown_term_override" in s.cases:
        found[0][5] = "WI"
    if found and "transcript_without_credit" in s.cases:
        found[-1][-1] = False
    return [[s.person_id * 100 + n, s.person_id, *row] for n, row in enumerate(found)]


def transcript_course_rows(world: World, s: Student, rng: Random) -> Iterator[Row]:
    return (tuple(t[:9]) for t in transcripts(world, s, rng))


def transcript_credit_rows(world: World, s: Student, rng: Random) -> Iterator[Row]:
    return ((t[0], t[0], t[9], t[10]) for t in transcripts(world, s, rng) if t[11])


DIPLOMA_TYPES = ("1", "2", "4", "6")
DIPLOMA_WEIGHTS = (82, 6, 6, 6)


def graduation_rows(world: World, s: Student, rng: Random) -> list[Row]:
    if s.grade < 12:
        return []
    diploma_type = rng.choices(DIPLOMA_TYPES, DIPLOMA_WEIGHTS)[0]
    if s.grade == ALUMNI:
        return [(s.person_id * 10, s.person_id, diploma_type, world.calendar(s.prior_school_id, PRIOR).end)]
    cases = s.cases
    if (s.grade != 12 or s.school_id is None or not cases & (GRADUATING | NOT_GRADUATING)
            or "graduate_wg_no_row" in cases):
        return []
    on = world.calendar(s.school_id, CURRENT).end
    if cases & {"graduate_null_type", "graduate_null_type_not_wg"}:
        diploma_type = None
    elif "graduate_unmapped_type" in cases:
        diploma_type = "5"
    if cases & {"graduate_outside_year", "graduate_outside_year_not_wg"}:
        on = date(world.year, 7, 18)
    elif "graduate_null_date" in cases:
        on = None
    elif "graduate_date_in_no_term" in cases:
        on = date(world.year, 5, 31)
    return [(s.person_id * 10, s.person_id, diploma_type, on)]


def cum_gpa_rows(world: World) -> Iterator[Row]:
    rng = stream(world.seed, "cum_gpa")
    for s in world.students:
        if s.grade >= 3 and rng.random() < 0.92:
            yield s.person_id, f"{rng.uniform(1.2, 4.0):.2f}"


SIS_TABLES = (
    Table("sis.district", ("district_id", "name", "number"), district_rows),
    Table("sis.school", ("school_id", "district_id", "name", "number", "exclude"), school_rows),
    Table("sis.school_year", ("end_year", "label", "start_date", "end_date"), school_year_rows),
    Table("sis.calendar", ("calendar_id", "school_id", "end_year", "name", "start_date", "end_date", "exclude"),
          calendar_rows),
    Table("sis.term_schedule", ("term_schedule_id", "calendar_id", "name", "is_primary"), term_schedule_rows),
    Table("sis.term", ("term_id", "term_schedule_id", "name", "seq", "start_date", "end_date"), term_rows),
    Table("sis.person", ("person_id", "state_id", "student_number", "first_name", "middle_name", "last_name",
                         "birth_date", "gender"), person_rows),
    Table("sis.enrollment", ("enrollment_id", "person_id", "calendar_id", "grade", "service_type", "start_date",
                             "end_date", "start_status", "end_status", "no_show", "state_exclude"),
          per_student("enrollment", enrollments)),
    Table("sis.program", ("program_id", "district_id", "kind", "name", "code", "state_code", "program_type",
                          "type_category"), program_rows),
    Table("sis.program_participation", ("participation_id", "person_id", "program_id", "start_date", "end_date",
                                         "student_status", "non_traditional"), per_student("participation", participation_rows)),
    Table("sis.program_participation_certification", ("certification_id", "participation_id", "name", "attempted",
                                                       "passed", "certification_date"), per_student("participation", certification_rows)),
    *(Table(f"sis.{area}", (f"{area}_id", "person_id", "start_date", "end_date")
            + {"pos_eligibility": ("eligibility",), "plan": ("plan_type", "locked")}.get(area, ()),
            per_student(area, area_rows(area))) for area in AREAS),
    Table("sis.course", ("course_id", "calendar_id", "number", "name", "edfi_term_override"), course_rows),
    Table("sis.section", ("section_id", "course_id", "number", "edfi_term_override"), section_rows),
    Table("sis.grading_score", ("score_id", "section_id", "person_id", "term_id", "score"),
          per_student("grading_score", grading_score_rows)),
    Table("sis.transcript_course", ("transcript_id", "person_id", "school_id", "end_year", "course_number",
                                    "course_name", "score_id", "edfi_term_override", "grade"),
          per_student("transcript", transcript_course_rows)),
    Table("sis.transcript_credit", ("transcript_credit_id", "transcript_id", "credits_attempted", "credits_earned"),
          per_student("transcript", transcript_credit_rows)),
    Table("sis.graduation", ("graduation_id", "person_id", "diploma_type", "diploma_date"),
          per_student("graduation", graduation_rows)),
    Table("sis.cum_gpa", ("person_id", "cum_gpa"), cum_gpa_rows),
)
