"""`edfi-sync demo-data` on a real PostgreSQL: sizes, determinism, replacement, the edge cases, the mappings."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

import psycopg
from pathlib import Path
from psycopg import sql

from edfi_sync.demo.cli import demo_data
from edfi_sync.demo.load import TABLES
from edfi_sync.sandbox.config import read_descriptor_file

REPO = Path(__file__).resolve().parents[1]


YEAR = 2025

# What the sandbox serves without a --descriptors file: the Ed-Fi DS 4.0 defaults and seed 004's New Mexico list.
EDFI_DIR = REPO / "include" / "edfi"


def preloaded_descriptors() -> set[tuple[str, str]]:
    defaults = json.loads((EDFI_DIR / "descriptors.json").read_text())
    found = {(data["namespace"], value["codeValue"])
             for name, data in defaults.items() if not name.startswith("_") for value in data["values"]}
    return found | {(row["namespace"], row["codeValue"])
                    for row in json.loads((EDFI_DIR / "descriptors-nm.json").read_text())}


# Every edge case the seeds talk about and every deliberately broken record: each query must find a row.
# Year Y = %(y)s, whose school_year row has NULL dates: 07/01/(Y-1) - 06/30/Y.
EDGE_CASES = {
    "school_year rows Y-1, Y, Y+1, one with NULL dates": """
        SELECT 1 FROM sis.school_year WHERE end_year = %(y)s AND start_date IS NULL AND end_date IS NULL
           AND (SELECT count(*) FROM sis.school_year WHERE end_year BETWEEN %(y)s - 1 AND %(y)s + 1) = 3""",
    "no-show in Y for a student with another valid enrollment in Y": """
        SELECT 1 FROM sis.enrollment e JOIN sis.calendar c USING (calendar_id)
         WHERE e.no_show AND c.end_year = %(y)s AND EXISTS (
               SELECT 1 FROM sis.enrollment v JOIN sis.calendar vc USING (calendar_id)
                 JOIN sis.school vs ON vs.school_id = vc.school_id
                WHERE v.person_id = e.person_id AND vc.end_year = %(y)s AND NOT v.no_show
                  AND NOT v.state_exclude AND NOT vc.exclude AND NOT vs.exclude)""",
    "a student whose only enrollment in Y is a no-show": """
        SELECT person_id FROM sis.enrollment JOIN sis.calendar USING (calendar_id) WHERE end_year = %(y)s
         GROUP BY person_id HAVING bool_and(no_show)""",
    "enrollment in an excluded school": """
        SELECT 1 FROM sis.enrollment JOIN sis.calendar USING (calendar_id) JOIN sis.school s USING (school_id)
         WHERE s.exclude AND end_year = %(y)s""",
    "enrollment in an excluded calendar": """
        SELECT 1 FROM sis.enrollment JOIN sis.calendar c USING (calendar_id) WHERE c.exclude AND c.end_year = %(y)s""",
    "state-excluded enrollment": "SELECT 1 FROM sis.enrollment WHERE state_exclude",
    "school change: two primary enrollments in Y at two schools, the first ended mid-year": """
        SELECT 1 FROM sis.enrollment a JOIN sis.calendar ac ON ac.calendar_id = a.calendar_id
          JOIN sis.enrollment b ON b.person_id = a.person_id AND b.enrollment_id <> a.enrollment_id
          JOIN sis.calendar bc ON bc.calendar_id = b.calendar_id
         WHERE ac.end_year = %(y)s AND bc.end_year = %(y)s AND a.service_type = 'P' AND b.service_type = 'P'
           AND ac.school_id <> bc.school_id AND a.end_date < ac.end_date AND b.start_date > a.end_date
           AND NOT a.no_show AND NOT b.no_show""",
    "enrollment that ends mid-year (withdrawn or dropout)": """
        SELECT 1 FROM sis.enrollment e JOIN sis.calendar c USING (calendar_id)
         WHERE c.end_year = %(y)s AND e.end_date < c.end_date AND e.end_status IN ('W2', 'WD')""",
    "secondary ('S') enrollment": "SELECT 1 FROM sis.enrollment WHERE service_type = 'S'",
    "special-ed services ('N') enrollment": "SELECT 1 FROM sis.enrollment WHERE service_type = 'N'",
    "prior-year calendars and enrollments (Y-1)": """
        SELECT 1 FROM sis.enrollment JOIN sis.calendar USING (calendar_id) WHERE end_year = %(y)s - 1""",
    "a student with Y-1 data only": """
        SELECT person_id FROM sis.enrollment JOIN sis.calendar USING (calendar_id)
         GROUP BY person_id HAVING max(end_year) = %(y)s - 1""",
    "several term schedules per calendar, exactly one primary": """
        SELECT calendar_id FROM sis.term_schedule GROUP BY calendar_id
        HAVING count(*) > 1 AND count(*) FILTER (WHERE is_primary) = 1""",
    "a calendar with two primary term schedules": """
        SELECT calendar_id FROM sis.term_schedule GROUP BY calendar_id HAVING count(*) FILTER (WHERE is_primary) = 2""",
    "a graduate with Y-1 transcripts at the school whose Y calendar has two primary schedules": """
        SELECT 1 FROM sis.transcript_course t JOIN sis.graduation g USING (person_id)
          JOIN sis.calendar c ON c.school_id = t.school_id AND c.end_year = %(y)s
         WHERE t.end_year = %(y)s - 1 AND t.score_id IS NOT NULL
           AND (SELECT count(*) FROM sis.term_schedule ts WHERE ts.calendar_id = c.calendar_id AND ts.is_primary) = 2""",
    "CTE participation with a NULL start date": """
        SELECT 1 FROM sis.program_participation JOIN sis.program p USING (program_id)
         WHERE p.kind = 'cte' AND start_date IS NULL""",
    "CTE participation with NULL start and end dates": """
        SELECT 1 FROM sis.program_participation JOIN sis.program p USING (program_id)
         WHERE p.kind = 'cte' AND start_date IS NULL AND end_date IS NULL""",
    "CTE participation overlapping Y only partly (starts before, ends inside)": """
        SELECT 1 FROM sis.program_participation JOIN sis.program p USING (program_id)
         WHERE p.kind = 'cte' AND start_date < make_date(%(y)s - 1, 7, 1)
           AND end_date BETWEEN make_date(%(y)s - 1, 7, 1) AND make_date(%(y)s, 6, 30)""",
    "CTE participation that ended before Y": """
        SELECT 1 FROM sis.program_participation JOIN sis.program p USING (program_id)
         WHERE p.kind = 'cte' AND end_date < make_date(%(y)s - 1, 7, 1)""",
    "CTE participation that starts after Y": """
        SELECT 1 FROM sis.program_participation JOIN sis.program p USING (program_id)
         WHERE p.kind = 'cte' AND start_date > make_date(%(y)s, 6, 30)""",
    "participation in a CTE program without a program_type mapping": """
        SELECT 1 FROM sis.program_participation pp JOIN sis.program p USING (program_id)
         WHERE p.kind = 'cte' AND NOT EXISTS (SELECT 1 FROM edfi_sync.mapping m WHERE m.end_year = %(y)s
               AND m.resource = 'programs' AND m.field = 'program_type' AND m.sis_value = p.program_id::text)""",
    "participation in a mapped CTE program without a career_pathway mapping": """
        SELECT 1 FROM sis.program_participation pp JOIN sis.program p USING (program_id)
          JOIN edfi_sync.mapping m ON m.end_year = %(y)s AND m.resource = 'programs'
               AND m.field = 'program_type' AND m.sis_value = p.program_id::text
         WHERE p.kind = 'cte' AND NOT EXISTS (SELECT 1 FROM edfi_sync.mapping c WHERE c.end_year = %(y)s
               AND c.field = 'career_pathway' AND c.sis_value = p.program_id::text)""",
    "an assigned flag without a mapping": """
        SELECT 1 FROM sis.program_participation pp JOIN sis.program p USING (program_id)
         WHERE p.kind = 'flag' AND NOT EXISTS (SELECT 1 FROM edfi_sync.mapping m WHERE m.end_year = %(y)s
               AND m.field = 'program_type' AND m.sis_value = p.program_id::text)""",
    "an assigned mapped flag": """
        SELECT 1 FROM sis.program_participation pp JOIN sis.program p USING (program_id)
          JOIN edfi_sync.mapping m ON m.end_year = %(y)s AND m.field = 'program_type'
               AND m.sis_value = p.program_id::text
         WHERE p.kind = 'flag'""",
    "several certifications per participation": """
        SELECT participation_id FROM sis.program_participation_certification GROUP BY participation_id
        HAVING count(*) >= 3""",
    "certification tie: same date, different participation level": """
        SELECT 1 FROM sis.program_participation_certification a
          JOIN sis.program_participation_certification b ON b.participation_id = a.participation_id
               AND b.certification_date = a.certification_date AND b.certification_id > a.certification_id
         WHERE a.passed AND b.attempted AND NOT b.passed""",
    "certification tie: same date and same participation level": """
        SELECT 1 FROM sis.program_participation_certification a
          JOIN sis.program_participation_certification b ON b.participation_id = a.participation_id
               AND b.certification_date = a.certification_date AND b.certification_id > a.certification_id
               AND (b.attempted, b.passed) = (a.attempted, a.passed)""",
    "certification with a NULL date": "SELECT 1 FROM sis.program_participation_certification WHERE certification_date IS NULL",
    "certification passed with attempted unchecked": """
        SELECT 1 FROM sis.program_participation_certification WHERE passed AND NOT attempted""",
    "certification neither attempted nor passed": """
        SELECT 1 FROM sis.program_participation_certification WHERE NOT passed AND NOT attempted""",
    "title1 overlapping Y": "SELECT 1 FROM sis.title1 WHERE coalesce(end_date, 'infinity') >= make_date(%(y)s - 1, 7, 1)",
    "EL (lep) overlapping Y": "SELECT 1 FROM sis.lep WHERE coalesce(end_date, 'infinity') >= make_date(%(y)s - 1, 7, 1)",
    "migrant overlapping Y": "SELECT 1 FROM sis.migrant WHERE coalesce(end_date, 'infinity') >= make_date(%(y)s - 1, 7, 1)",
    "homeless overlapping Y": "SELECT 1 FROM sis.homeless WHERE coalesce(end_date, 'infinity') >= make_date(%(y)s - 1, 7, 1)",
    "program area records that ended before Y": """
        SELECT 1 FROM sis.title1 t JOIN sis.lep l USING (person_id) JOIN sis.migrant m USING (person_id)
          JOIN sis.homeless h USING (person_id)
         WHERE greatest(t.end_date, l.end_date, m.end_date, h.end_date) < make_date(%(y)s - 1, 7, 1)""",
    "FRAM eligibility F, R, S and N": """
        SELECT 1 WHERE (SELECT count(DISTINCT eligibility) FROM sis.pos_eligibility
                         WHERE eligibility IN ('F', 'R', 'S', 'N')) = 4""",
    "locked IEP": "SELECT 1 FROM sis.plan WHERE plan_type = 'IEP' AND locked",
    "unlocked IEP": "SELECT 1 FROM sis.plan WHERE plan_type = 'IEP' AND NOT locked",
    "a plan that is not an IEP": "SELECT 1 FROM sis.plan WHERE plan_type <> 'IEP'",
    "graduate with a mapped diploma type and date in Y": """
        SELECT 1 FROM sis.graduation g JOIN edfi_sync.mapping m ON m.end_year = %(y)s
               AND m.field = 'diploma_type' AND m.sis_value = g.diploma_type
         WHERE g.diploma_date BETWEEN make_date(%(y)s - 1, 7, 1) AND make_date(%(y)s, 6, 30)""",
    "diploma date outside Y": """
        SELECT 1 FROM sis.graduation WHERE diploma_date > make_date(%(y)s, 6, 30)""",
    "graduation in Y-1 (last year's graduates)": """
        SELECT 1 FROM sis.graduation WHERE diploma_date BETWEEN make_date(%(y)s - 2, 7, 1) AND make_date(%(y)s - 1, 6, 30)""",
    "NULL diploma type": "SELECT 1 FROM sis.graduation WHERE diploma_type IS NULL AND diploma_date IS NOT NULL",
    "NULL diploma date": "SELECT 1 FROM sis.graduation WHERE diploma_date IS NULL",
    "diploma date in Y inside no term": """
        SELECT 1 FROM sis.graduation g WHERE g.diploma_date BETWEEN make_date(%(y)s - 1, 7, 1) AND make_date(%(y)s, 6, 30)
           AND NOT EXISTS (SELECT 1 FROM sis.term t WHERE g.diploma_date BETWEEN t.start_date AND t.end_date)""",
    "'WG' end status without a graduation row": """
        SELECT 1 FROM sis.enrollment e JOIN sis.calendar c USING (calendar_id)
         WHERE c.end_year = %(y)s AND e.end_status = 'WG'
           AND NOT EXISTS (SELECT 1 FROM sis.graduation g WHERE g.person_id = e.person_id)""",
    "a graduate in Y without transcripts": """
        SELECT 1 FROM sis.graduation g WHERE g.diploma_date BETWEEN make_date(%(y)s - 1, 7, 1) AND make_date(%(y)s, 6, 30)
           AND NOT EXISTS (SELECT 1 FROM sis.transcript_course t WHERE t.person_id = g.person_id)""",
    "a high-school student in Y without transcripts": """
        SELECT 1 FROM sis.enrollment e JOIN sis.calendar c USING (calendar_id)
         WHERE c.end_year = %(y)s AND e.grade IN ('09', '10', '11')
           AND NOT EXISTS (SELECT 1 FROM sis.transcript_course t WHERE t.person_id = e.person_id)""",
    "scored transcripts of Y": "SELECT 1 FROM sis.transcript_course WHERE end_year = %(y)s AND score_id IS NOT NULL",
    "scored transcripts of Y-1 (term found by seq in Y)": """
        SELECT 1 FROM sis.transcript_course t JOIN sis.grading_score USING (score_id)
          JOIN sis.term ON term.term_id = grading_score.term_id
         WHERE t.end_year = %(y)s - 1 AND t.edfi_term_override IS NULL""",
    "manually added transcripts of earlier years": """
        SELECT 1 FROM sis.transcript_course WHERE score_id IS NULL AND end_year < %(y)s - 1""",
    "transcripts from out of district (NULL school)": "SELECT 1 FROM sis.transcript_course WHERE school_id IS NULL",
    "transcripts from another school than the Y enrollment's": """
        SELECT 1 FROM sis.transcript_course t JOIN sis.enrollment e USING (person_id)
          JOIN sis.calendar c USING (calendar_id)
         WHERE c.end_year = %(y)s AND t.school_id <> c.school_id""",
    "transcript term override": "SELECT 1 FROM sis.transcript_course WHERE edfi_term_override IS NOT NULL AND score_id IS NOT NULL",
    "course term override": """
        SELECT 1 FROM sis.transcript_course t JOIN sis.grading_score USING (score_id) JOIN sis.section s USING (section_id)
          JOIN sis.course c USING (course_id) WHERE c.edfi_term_override IS NOT NULL""",
    "section term override": """
        SELECT 1 FROM sis.transcript_course t JOIN sis.grading_score USING (score_id) JOIN sis.section s USING (section_id)
         WHERE s.edfi_term_override IS NOT NULL""",
    "a transcript without credits": """
        SELECT 1 FROM sis.transcript_course t WHERE NOT EXISTS (
               SELECT 1 FROM sis.transcript_credit c WHERE c.transcript_id = t.transcript_id)""",
    "failed courses (no credit earned)": "SELECT 1 FROM sis.transcript_credit WHERE credits_earned = 0",
    "transcript grades are letter grades (SPEC §3), failed ones F": """
        SELECT 1 WHERE NOT EXISTS (SELECT 1 FROM sis.transcript_course t LEFT JOIN sis.transcript_credit c USING (transcript_id)
                                    WHERE t.grade !~ '^[A-DFP][+-]?$' OR (c.credits_earned = 0) <> (t.grade = 'F'))""",
    "cum_gpa for most students": """
        SELECT 1 WHERE (SELECT count(*) FROM sis.cum_gpa) > 0.6 * (SELECT count(*) FROM sis.person)""",
    "BROKEN person with a NULL birth_date": "SELECT 1 FROM sis.person WHERE birth_date IS NULL",
    "BROKEN person with a NULL last_name": "SELECT 1 FROM sis.person WHERE last_name IS NULL",
    "BROKEN person with a NULL state_id": "SELECT 1 FROM sis.person WHERE state_id IS NULL",
    "BROKEN two persons with one state_id": "SELECT state_id FROM sis.person GROUP BY state_id HAVING count(*) > 1",
    "BROKEN enrollment grade without a mapping": """
        SELECT 1 FROM sis.enrollment e WHERE NOT EXISTS (SELECT 1 FROM edfi_sync.mapping m
               WHERE m.end_year = %(y)s AND m.field = 'grade_level' AND m.sis_value = e.grade)""",
    "BROKEN enrollment end status without a mapping": """
        SELECT 1 FROM sis.enrollment e WHERE e.end_status IS NOT NULL AND NOT EXISTS (SELECT 1 FROM edfi_sync.mapping m
               WHERE m.end_year = %(y)s AND m.field = 'exit_withdraw_type' AND m.sis_value = e.end_status)""",
    "BROKEN enrollment in a school with a NULL number": """
        SELECT 1 FROM sis.enrollment JOIN sis.calendar USING (calendar_id) JOIN sis.school s USING (school_id)
         WHERE s.number IS NULL""",
    "BROKEN transcript whose term override has no term mapping": """
        SELECT 1 FROM sis.transcript_course t WHERE t.edfi_term_override IS NOT NULL AND NOT EXISTS (
               SELECT 1 FROM edfi_sync.mapping m WHERE m.end_year = %(y)s AND m.resource = 'sessions'
                  AND m.sis_value = t.edfi_term_override)""",
    "BROKEN transcript with a NULL course number": "SELECT 1 FROM sis.transcript_course WHERE course_number IS NULL",
    "BROKEN a course of Y's first semester retaken in Y-1's (re-aligned to the same term: a duplicate)": """
        SELECT 1 FROM sis.transcript_course a JOIN sis.grading_score ga ON ga.score_id = a.score_id
          JOIN sis.term ta ON ta.term_id = ga.term_id
          JOIN sis.transcript_course b ON b.person_id = a.person_id AND b.course_number = a.course_number
          JOIN sis.grading_score gb ON gb.score_id = b.score_id JOIN sis.term tb ON tb.term_id = gb.term_id
         WHERE a.end_year = %(y)s AND b.end_year = %(y)s - 1 AND ta.seq = tb.seq""",
    "BROKEN graduation with an unmapped diploma type": """
        SELECT 1 FROM sis.graduation g WHERE g.diploma_type IS NOT NULL AND NOT EXISTS (
               SELECT 1 FROM edfi_sync.mapping m WHERE m.end_year = %(y)s AND m.field = 'diploma_type'
                  AND m.sis_value = g.diploma_type)""",
}


def run(scale: float, seed: int = 2025, year: int = YEAR, descriptors_out=None) -> None:
    demo_data(argparse.Namespace(scale=scale, seed=seed, school_year=year, descriptors_out=descriptors_out,
                                 replace_existing=False))


def counts(conn) -> dict[str, int]:
    return {t.name: conn.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(*t.name.split(".")))
                                 ).fetchone()[0] for t in TABLES}


def checksums(conn) -> dict[str, str]:
    """md5 of each table's rows in primary-key order."""
    found = {}
    for table in TABLES:
        schema, name = table.name.split(".")
        found[table.name] = conn.execute(sql.SQL(
            "SELECT md5(coalesce(string_agg(t::text, E'\\n' ORDER BY t::text), '')) FROM {} t").format(
            sql.Identifier(schema, name))).fetchone()[0]
    return found


def schema_objects(conn) -> list[tuple]:
    return conn.execute("""
        SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint WHERE connamespace = 'sis'::regnamespace
        UNION ALL SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'sis' ORDER BY 1, 2""").fetchall()


def test_cli_scale_1_sizes_and_summary(sis_db, tmp_path):
    with psycopg.connect(sis_db) as conn:
        before = schema_objects(conn)
    descriptors = tmp_path / "local.json"
    started = time.perf_counter()
    result = subprocess.run([sys.executable, "-m", "edfi_sync.cli", "demo-data", "--scale", "1",
                             "--descriptors-out", str(descriptors)],
                            cwd=REPO, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert time.perf_counter() - started < 20
    assert "sis.grading_score" in result.stdout and "total" in result.stdout
    assert json.loads(descriptors.read_text())[0]["codeValue"] == "G"
    with psycopg.connect(sis_db) as conn:
        n = counts(conn)
        # The bulk load drops and re-creates the sis keys and indexes: they must come back exactly.
        assert schema_objects(conn) == before
        assert n["sis.district"] == 1
        # 2 regular + the excluded school, the school with a NULL number, the early college with two primaries
        assert n["sis.school"] == 5
        assert n["sis.person"] == 500
        assert 800 <= n["sis.enrollment"] <= 1100
        assert 8_000 <= n["sis.grading_score"] <= 14_000
        assert 4_000 <= n["sis.transcript_course"] <= 9_000
        assert 40 <= n["sis.graduation"] <= 120
        assert 50 <= n["edfi_sync.mapping"] <= 100
        assert n["edfi_sync.connection"] == 2
        assert sum(n.values()) > 20_000
        assert conn.execute("SELECT enabled FROM edfi_sync.connection WHERE end_year = %s", (YEAR,)).fetchone() == (True,)
        # Ids that look real: an Ed-Fi localEducationAgencyId / schoolId is an int, studentUniqueId <= 32 chars.
        assert conn.execute(r"SELECT bool_and(number ~ '^\d{7}$') FROM sis.district").fetchone()[0]
        assert conn.execute(r"SELECT bool_and(number ~ '^\d{1,9}$') FROM sis.school WHERE number IS NOT NULL"
                            ).fetchone()[0]
        assert conn.execute(r"SELECT bool_and(state_id ~ '^\d{1,32}$') FROM sis.person WHERE state_id IS NOT NULL"
                            ).fetchone()[0]


def test_every_edge_case_and_broken_record_is_present_even_at_scale_0_2(sis_db):
    run(0.2)
    with psycopg.connect(sis_db) as conn:
        assert counts(conn)["sis.person"] == 100
        missing = [name for name, query in EDGE_CASES.items()
                   if conn.execute(query, {"y": YEAR}).fetchone() is None]
    assert missing == []


def test_same_seed_same_bytes_other_seed_other_data(sis_db):
    run(0.5, seed=7)
    with psycopg.connect(sis_db) as conn:
        first = checksums(conn)
    run(0.5, seed=8)
    with psycopg.connect(sis_db) as conn:
        other = checksums(conn)
    # Again through the CLI, in a process with another string-hash seed: no set or dict order leaks in.
    subprocess.run([sys.executable, "-m", "edfi_sync.cli", "demo-data", "--scale", "0.5", "--seed", "7"],
                   cwd=REPO, check=True, capture_output=True, env={**os.environ, "PYTHONHASHSEED": "4242"})
    with psycopg.connect(sis_db) as conn:
        again = checksums(conn)
    assert again == first
    changed = {name for name in first if first[name] != other[name]}
    assert {"sis.person", "sis.enrollment", "sis.grading_score", "sis.transcript_course"} <= changed


def test_rerun_replaces_the_data_and_only_the_years_configuration(sis_db):
    with psycopg.connect(sis_db) as conn:
        # Configuration of another year and connector state must survive a re-run.
        conn.execute("""INSERT INTO edfi_sync.mapping VALUES
                        (2030, 'sessions', 'term', 'S1', 'uri://ed-fi.org/TermDescriptor', 'Fall Semester')""")
        conn.execute("INSERT INTO edfi_sync.connection VALUES (2030, 'other', true)")
        conn.execute("""INSERT INTO edfi_sync.identity_map (end_year, resource, natural_key_hash, natural_key,
                        sis_object_type, sis_object_key, payload_hash) VALUES (2025, 'students', 'h', '{}', 'x', '1', 'p')""")
        conn.commit()
    run(1)
    run(0.3)
    with psycopg.connect(sis_db) as conn:
        rerun = counts(conn)
        other_year = conn.execute("SELECT count(*) FROM edfi_sync.mapping WHERE end_year = 2030").fetchone()[0]
        connections = conn.execute("SELECT end_year, enabled FROM edfi_sync.connection ORDER BY 1").fetchall()
        kept = conn.execute("SELECT count(*) FROM edfi_sync.identity_map").fetchone()[0]
    run(0.3)  # into the same database again: the same counts, nothing doubled
    with psycopg.connect(sis_db) as conn:
        assert counts(conn) == rerun
    assert rerun["sis.person"] == 150
    assert other_year == 1 and kept == 1
    assert connections == [(2024, False), (2025, True), (2030, True)]


def test_every_mapping_points_at_a_known_descriptor(sis_db, tmp_path):
    local = tmp_path / "demo-descriptors.json"
    run(1, descriptors_out=str(local))
    known = preloaded_descriptors()
    written = read_descriptor_file(local)  # the sandbox's own reader accepts the file
    assert all(d["namespace"].endswith("/" + d["descriptor"]) and not d["namespace"].startswith("uri://ed-fi.org")
               for d in written)
    local_values = {(d["namespace"], d["codeValue"]) for d in written}
    assert not local_values & known, "the file only adds what the sandbox does not preload"
    known |= local_values
    with psycopg.connect(sis_db) as conn:
        rows = conn.execute("SELECT resource, field, sis_value, namespace, code_value FROM edfi_sync.mapping"
                            " WHERE end_year = %s", (YEAR,)).fetchall()
    unknown = [row for row in rows if (row[3], row[4]) not in known]
    assert unknown == []
    fields = {(resource, field) for resource, field, *_ in rows}
    assert fields == {
        ("programs", "program_type"), ("studentCTEProgramAssociations", "technical_skills_assessment"),
        ("studentCTEProgramAssociations", "career_pathway"), ("studentAcademicRecords", "diploma_type"),
        ("studentAcademicRecords", "achievement_category"), ("studentAcademicRecords", "transcript_term_override"),
        ("sessions", "term"), ("studentSchoolAssociations", "exit_withdraw_type"),
        ("studentSchoolAssociations", "grade_level"), ("courseTranscripts", "course_attempt_result"),
        ("localEducationAgencies", "category"), ("studentTitleIPartAProgramAssociations", "participant"),
        ("studentSchoolFoodServiceProgramAssociations", "eligibility")}
    values = {(field, sis_value) for _, field, sis_value, *_ in rows}
    assert {("program_type", area) for area in ("title1", "lep", "migrant", "homeless", "fram", "sped")} <= values
    assert {("diploma_type", "*"), ("transcript_term_override", "*"), ("category", "*")} <= values
    assert ("exit_withdraw_type", "WG") in values


def test_scale_10_is_fast(sis_db):
    started = time.perf_counter()
    run(10)
    elapsed = time.perf_counter() - started
    with psycopg.connect(sis_db) as conn:
        n = counts(conn)
    assert n["sis.person"] == 5000
    assert n["sis.school"] == 14 and n["sis.district"] == 1
    assert sum(n.values()) > 200_000
    assert elapsed < 30  # ~2 s on 2 cores; generous for a busy CI machine


def test_refuses_to_replace_sis_data_it_did_not_write(sis_db):
    """Pointed at a real SIS by mistake, demo-data changes nothing and says why."""
    with psycopg.connect(sis_db) as conn:
        conn.execute((REPO / "tests" / "fixtures" / "spec_minimal.sql").read_text())
    run = subprocess.run([sys.executable, "-m", "edfi_sync.cli", "demo-data", "--scale", "0.1"],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 2 and "did not write" in run.stderr
    with psycopg.connect(sis_db) as conn:
        assert conn.execute("SELECT array_agg(person_id) FROM sis.person").fetchone()[0] == [7]
    forced = subprocess.run([sys.executable, "-m", "edfi_sync.cli", "demo-data", "--scale", "0.1",
                             "--replace-existing"], capture_output=True, text=True, timeout=120)
    assert forced.returncode == 0, forced.stderr
    again = subprocess.run([sys.executable, "-m", "edfi_sync.cli", "demo-data", "--scale", "0.1"],
                           capture_output=True, text=True, timeout=120)
    assert again.returncode == 0, again.stderr  # its own data it replaces freely
