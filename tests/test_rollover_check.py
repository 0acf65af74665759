"""`edfi-sync config rollover-check`: what a new school year lacks against the year before.

tests/fixtures/sync_small.sql configures 2025 (connection, SSA mappings); each test sets up 2026.
"""

from __future__ import annotations

import json

from e2e_helpers import sql
from edfi_sync.cli import main

TERMS_2026 = """
INSERT INTO sis.school_year VALUES (2026, '2025-26', NULL, NULL);
INSERT INTO sis.calendar (calendar_id, school_id, end_year, name, start_date, end_date) VALUES
    (102, 10, 2026, 'High 25-26', '2025-08-11', '2026-05-22');
INSERT INTO sis.term_schedule (term_schedule_id, calendar_id, name, is_primary) VALUES (1020, 102, 'Semesters', true);
INSERT INTO sis.term (term_id, term_schedule_id, name, seq, start_date, end_date) VALUES
    (10201, 1020, 'S1', 1, '2025-08-11', '2025-12-19'), (10202, 1020, 'S2', 2, '2026-01-05', '2026-05-22');
INSERT INTO sis.course (course_id, calendar_id, number, name, edfi_term_override) VALUES (1021, 102, 'BAND', 'Band', 'YR');
"""


def check(capsys, *argv: str) -> tuple[int, str]:
    code = main(["config", "rollover-check", *argv])
    return code, capsys.readouterr().out


def test_a_new_year_with_nothing_configured_lacks_its_connection_mappings_toggles_and_calendar(small_sis, capsys):
    sql(small_sis, "INSERT INTO edfi_sync.resource_toggle VALUES (2025, 'courses', false), (2025, 'schools', true)")
    code, out = check(capsys, "2026")
    assert code == 1
    lines = out.splitlines()
    assert lines[0].startswith("WARNING [rollover] 2026 has no Ed-Fi connection row (2025 uses edfi_api)")
    assert "Fix: edfi-sync config copy-year 2025 2026" in lines[0]
    assert any("courses is OFF in 2025 but has no toggle in 2026, so it is ON" in line for line in lines)
    assert not any("schools is" in line for line in lines)  # ON in 2025 and ON (no row) in 2026: nothing lacks
    assert any("2026 lacks 4 of 2025's 4 studentSchoolAssociations grade_level mappings (09, 10, 11, 12)" in line
               for line in lines)
    assert any("the SIS has no calendar for 2026 (2025: 3 schools)" in line for line in lines)


def test_after_copy_year_only_the_new_years_unmapped_terms_remain(small_sis, capsys):
    sql(small_sis, TERMS_2026)
    sql(small_sis, "INSERT INTO edfi_sync.mapping VALUES (2025, 'sessions', 'term', 'S1', "
                   "'uri://ed-fi.org/TermDescriptor', 'Fall Semester')")
    assert main(["config", "copy-year", "2025", "2026"]) == 0
    capsys.readouterr()
    code, out = check(capsys, "2026", "--format", "json")
    assert code == 1
    report = json.loads(out)
    assert (report["school_year"], report["compared_with"], report["counts"]["warning"]) == (2026, 2025, 2)
    messages = [f["message"] for f in report["findings"]]
    assert any("2026 uses the term 'S2' (term in 1 school(s))" in m for m in messages)
    assert any("2026 uses the term 'YR' (course override in 1 school(s))" in m for m in messages)
    assert all(f["fix"] for f in report["findings"])

    sql(small_sis, "INSERT INTO edfi_sync.mapping VALUES (2026, 'sessions', 'term', 'S2', "
                   "'uri://ed-fi.org/TermDescriptor', 'Spring Semester'), (2026, 'sessions', 'term', 'YR', "
                   "'uri://ed-fi.org/TermDescriptor', 'Year Round')")
    code, out = check(capsys, "2026")
    assert (code, out.strip()) == (0, "2026 lacks nothing 2025 has.")
