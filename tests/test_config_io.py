"""`edfi-sync config import | show | copy-year` against a real, freshly migrated PostgreSQL."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import psycopg
import pytest

from edfi_sync import cli
from edfi_sync.config_io import PendingChange, load_file, pending_mapping_changes

REPO = Path(__file__).resolve().parents[1]
EXAMPLE_YAML = REPO / "examples" / "config.yaml"
EXAMPLE_CSV = REPO / "examples" / "mappings.csv"
TABLES = ("connection", "resource_toggle", "mapping")
PROGRAM_NS = "uri://ed-fi.org/ProgramTypeDescriptor"


def config(capsys, *args: str) -> tuple[int, str, str]:
    """Run `edfi-sync config ...` in-process (the same entry point as the console script)."""
    capsys.readouterr()
    code = cli.main(["config", *map(str, args)])
    out, err = capsys.readouterr()
    return code, out, err


def table_rows(conninfo: str) -> dict[str, list[tuple]]:
    with psycopg.connect(conninfo) as conn:
        return {t: conn.execute(f"SELECT * FROM edfi_sync.{t} AS r ORDER BY r").fetchall() for t in TABLES}


def clear_config(conninfo: str) -> None:
    with psycopg.connect(conninfo) as conn:
        for table in TABLES:
            conn.execute(f"DELETE FROM edfi_sync.{table}")


def write(tmp_path, name: str, text: str):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    return path


def test_examples_load_cleanly():
    assert len(load_file(EXAMPLE_YAML)[2025].mappings) == 32
    assert len(load_file(EXAMPLE_CSV)[2026].mappings) == 7


def test_yaml_import_writes_all_three_tables(sis_db, capsys):
    code, out, err = config(capsys, "import", EXAMPLE_YAML)
    assert code == 0, err
    assert "2025: mappings 32 new, 0 changed, 0 unchanged" in out
    rows = table_rows(sis_db)
    assert rows["connection"] == [(2025, "edfi_api", True)]
    assert rows["resource_toggle"] == [(2025, "courses", True)]
    mappings = {r[1:4]: r[4:] for r in rows["mapping"]}
    assert len(mappings) == 32
    # Quoted "09" stays the SIS grade text; the descriptor splits on the last '#'.
    assert mappings[("studentSchoolAssociations", "grade_level", "09")] == (
        "uri://ed-fi.org/GradeLevelDescriptor", "Ninth grade")
    assert mappings[("programs", "program_type", "101")] == (PROGRAM_NS, "Career and Technical Education")
    assert mappings[("studentAcademicRecords", "transcript_term_override", "*")] == (
        "uri://ed-fi.org/TermDescriptor", "Year Round")


def test_csv_import_with_kind_column(sis_db, capsys):
    code, out, err = config(capsys, "import", EXAMPLE_CSV)
    assert code == 0, err
    rows = table_rows(sis_db)
    assert rows["connection"] == [(2026, "edfi_api", True)]
    assert rows["resource_toggle"] == [(2026, "courses", False)]
    assert (2026, "studentSchoolAssociations", "grade_level", "09", "uri://ed-fi.org/GradeLevelDescriptor",
            "Ninth grade") in rows["mapping"]
    assert len(rows["mapping"]) == 7


def test_csv_without_kind_column_is_all_mappings(sis_db, tmp_path, capsys):
    path = write(tmp_path, "m.csv", """
        end_year,resource,field,sis_value,namespace,code_value
        2025,courseTranscripts,course_attempt_result,pass,uri://ed-fi.org/CourseAttemptResultDescriptor,Pass
        2025,sessions,term,S1,uri://ed-fi.org/TermDescriptor,Fall Semester
    """)
    assert config(capsys, "import", path)[0] == 0
    assert len(table_rows(sis_db)["mapping"]) == 2


def test_unquoted_leading_zero_keys_keep_their_text(sis_db, tmp_path, capsys):
    # YAML 1.1 reads a bare 07 as the octal integer 7; the SIS grade is the text '07'.
    path = write(tmp_path, "grades.yaml", """
        years:
          2025:
            mappings:
              studentSchoolAssociations:
                grade_level:
                  07: uri://ed-fi.org/GradeLevelDescriptor#Seventh grade
                  010: uri://ed-fi.org/GradeLevelDescriptor#Tenth grade
    """)
    assert config(capsys, "import", path)[0] == 0
    assert sorted(r[3] for r in table_rows(sis_db)["mapping"]) == ["010", "07"]


@pytest.mark.parametrize("fmt, suffix", [("yaml", ".yaml"), ("csv", ".csv")])
def test_show_output_reimports_to_identical_rows(sis_db, tmp_path, capsys, fmt, suffix):
    assert config(capsys, "import", EXAMPLE_YAML)[0] == 0
    assert config(capsys, "import", EXAMPLE_CSV)[0] == 0
    before = table_rows(sis_db)
    code, out, _ = config(capsys, "show", "--format", fmt)
    assert code == 0
    dumped = tmp_path / f"shown{suffix}"
    dumped.write_text(out, encoding="utf-8")
    clear_config(sis_db)
    code, _, err = config(capsys, "import", dumped)
    assert code == 0, err
    assert table_rows(sis_db) == before


def test_show_one_year_and_flow_connection(sis_db, capsys):
    config(capsys, "import", EXAMPLE_YAML)
    config(capsys, "import", EXAMPLE_CSV)
    code, out, _ = config(capsys, "show", "--school-year", "2026")
    assert code == 0
    assert "2026:" in out and "2025:" not in out
    assert "connection: {conn_id: edfi_api, enabled: true}" in out
    assert '"09": uri://ed-fi.org/GradeLevelDescriptor#Ninth grade' in out
    assert "# No mapping changes wait for a resync." in out


def test_import_twice_is_idempotent(sis_db, capsys):
    config(capsys, "import", EXAMPLE_YAML)
    first = table_rows(sis_db)
    code, out, _ = config(capsys, "import", EXAMPLE_YAML)
    assert code == 0
    assert "mappings 0 new, 0 changed, 32 unchanged" in out
    assert table_rows(sis_db) == first


def test_merge_keeps_other_rows_and_replace_drops_them(sis_db, tmp_path, capsys):
    config(capsys, "import", EXAMPLE_YAML)
    config(capsys, "import", EXAMPLE_CSV)
    small = write(tmp_path, "small.yaml", f"""
        years:
          2025:
            mappings:
              programs:
                program_type:
                  "101": "{PROGRAM_NS}#Vocational Education"
                  "205": "{PROGRAM_NS}#Gifted and Talented"
    """)
    code, out, _ = config(capsys, "import", small)
    assert code == 0 and "2025: mappings 1 new, 1 changed, 0 unchanged" in out
    rows = table_rows(sis_db)["mapping"]
    assert len([r for r in rows if r[0] == 2025]) == 33
    assert (2025, "programs", "program_type", "101", PROGRAM_NS, "Vocational Education") in rows

    code, out, _ = config(capsys, "import", small, "--replace")
    assert code == 0 and "0 new, 0 changed, 2 unchanged, 31 removed" in out
    rows = table_rows(sis_db)
    assert [r[3] for r in rows["mapping"] if r[0] == 2025] == ["101", "205"]
    # Years not in the file, and toggles/connections, are untouched by --replace.
    assert len([r for r in rows["mapping"] if r[0] == 2026]) == 7
    assert rows["connection"] == [(2025, "edfi_api", True), (2026, "edfi_api", True)]

    # A year section without mappings keeps its mappings even with --replace.
    toggles_only = write(tmp_path, "toggles.yaml", "years:\n  2026:\n    toggles: {courses: true}\n")
    assert config(capsys, "import", toggles_only, "--replace")[0] == 0
    assert len([r for r in table_rows(sis_db)["mapping"] if r[0] == 2026]) == 7
    emptied = write(tmp_path, "empty.yaml", "years:\n  2026:\n    mappings: {}\n")
    code, out, _ = config(capsys, "import", emptied, "--replace")
    assert code == 0 and "7 removed" in out
    assert [r for r in table_rows(sis_db)["mapping"] if r[0] == 2026] == []


BAD_YAML = f"""
    years:
      SY2025:
        toggles: {{courses: false}}
      2025:
        connection: {{conn_id: edfi_api, enabled: maybe}}
        toggles: {{corses: false, courses: false}}
        mappings:
          programz:
            program_type: {{"101": "{PROGRAM_NS}#Homeless"}}
          programs:
            program_typ: {{"101": "{PROGRAM_NS}#Homeless"}}
            program_type:
              "101": "{PROGRAM_NS} Career and Technical Education"
              "102": "http://ed-fi.org/ProgramTypeDescriptor#Homeless"
              "103": "{PROGRAM_NS}#{'x' * 51}"
              "104": "{PROGRAM_NS}#Homeless"
              bogus: "{PROGRAM_NS}#Homeless"
              "104": "{PROGRAM_NS}#Homeless"
        extra: 1
"""


def test_every_yaml_problem_is_reported_and_nothing_written(sis_db, tmp_path, capsys):
    path = write(tmp_path, "bad.yaml", BAD_YAML)
    code, out, err = config(capsys, "import", path)
    assert code == 1
    assert "11 problem(s), nothing was written" in err
    expected = [
        "line 2, years > SY2025: school year 'SY2025' is not an integer",
        "line 5, 2025 > connection > enabled: expected true or false",
        "line 6, 2025 > toggles > corses: unknown resource 'corses' for a toggle. Fix: did you mean 'courses'?",
        "line 8, 2025 > mappings > programz: unknown resource 'programz' for a mapping. Fix: did you mean 'programs'?",
        "line 11, 2025 > mappings > programs > program_typ: 'program_typ' is not a mapping field of programs",
        "line 13, 2025 > mappings > programs > program_type > 101: descriptor",
        "has no '#'. Fix: write namespace#codeValue",
        "line 14, 2025 > mappings > programs > program_type > 102: namespace 'http://ed-fi.org/ProgramTypeDescriptor'"
        " does not start with uri://",
        "line 15, 2025 > mappings > programs > program_type > 103: codeValue 'xxxxxxxxxxxxxxxxxxxx...' has 51 "
        "characters (Ed-Fi allows 50)",
        "line 17, 2025 > mappings > programs > program_type > bogus: 'bogus' is neither a program_id nor a program area",
        "line 18, 2025 > mappings > programs > program_type > 104: key defined twice (first on line 16)",
        "line 19, 2025 > extra: unknown key 'extra'",
    ]
    for text in expected:
        assert text in err
    assert table_rows(sis_db) == {t: [] for t in TABLES}


def test_every_csv_problem_is_reported_and_nothing_written(sis_db, tmp_path, capsys):
    path = write(tmp_path, "bad.csv", f"""
        kind,end_year,resource,field,sis_value,namespace,code_value
        mapping,2025,programs,program_type,101,{PROGRAM_NS},Career and Technical Education
        mapping,twenty,programs,program_type,102,{PROGRAM_NS},Homeless
        mapping,2025,sessions,trm,Q1,uri://ed-fi.org/TermDescriptor,Fall Semester
        mapping,2025,programs,program_type,103,ed-fi.org/ProgramTypeDescriptor,
        mapping,2025,programs,program_type,101,{PROGRAM_NS},Homeless
        toggle,2025,sessions,enabled,false,,
        connection,2025,,enabled,perhaps,,
        widget,2025,,,,,
    """)
    code, _, err = config(capsys, "import", path)
    assert code == 1
    for text in ["line 3, mapping programs program_type 102: school year 'twenty' is not an integer",
                 "line 4, mapping sessions trm Q1: 'trm' is not a mapping field of sessions",
                 "line 5, mapping programs program_type 103: namespace 'ed-fi.org/ProgramTypeDescriptor'",
                 "line 5, mapping programs program_type 103: the descriptor has no codeValue",
                 "line 6, mapping programs program_type 101: mapping defined twice (first on line 2)",
                 "line 7, toggle sessions enabled false: unknown resource 'sessions' for a toggle",
                 "line 8, connection enabled perhaps: 'perhaps' is not true or false",
                 "line 9, kind: unknown kind 'widget'"]:
        assert text in err
    assert table_rows(sis_db) == {t: [] for t in TABLES}


def test_unreadable_and_unknown_files_are_refused(sis_db, tmp_path, capsys):
    assert "unknown file type '.json'" in config(capsys, "import", tmp_path / "x.json")[2]
    assert "cannot read the file" in config(capsys, "import", tmp_path / "missing.yaml")[2]
    header = write(tmp_path, "h.csv", "year,resource\n2025,programs\n")
    code, _, err = config(capsys, "import", header)
    assert code == 1 and "unknown column(s) year" in err and "missing column(s) end_year" in err
    broken = write(tmp_path, "b.yaml", "years:\n  2025: [\n")
    assert "not valid YAML" in config(capsys, "import", broken)[2]


def test_copy_year_keeps_target_rows_unless_overwrite(sis_db, tmp_path, capsys):
    config(capsys, "import", EXAMPLE_YAML)
    target = write(tmp_path, "t.yaml", f"""
        years:
          2026:
            connection: {{conn_id: edfi_api_2026, enabled: false}}
            mappings:
              programs:
                program_type:
                  "101": "{PROGRAM_NS}#Vocational Education"
                  "999": "{PROGRAM_NS}#Other"
    """)
    config(capsys, "import", target)
    code, out, _ = config(capsys, "copy-year", 2025, 2026)
    assert code == 0
    assert "mappings: 31 copied, 1 kept as 2026 had them (of 32)" in out
    assert "connection: 0 copied, 1 kept as 2026 had them (of 1)" in out
    assert "toggles: 1 copied (of 1)" in out
    assert "use --overwrite" in out
    rows = table_rows(sis_db)
    assert (2026, "programs", "program_type", "101", PROGRAM_NS, "Vocational Education") in rows["mapping"]
    assert (2026, "edfi_api_2026", False) in rows["connection"]
    assert len([r for r in rows["mapping"] if r[0] == 2026]) == 33

    code, out, _ = config(capsys, "copy-year", 2025, 2026, "--overwrite")
    assert code == 0
    assert "mappings: 0 copied, 32 replaced (of 32)" in out
    rows = table_rows(sis_db)
    as_2025 = {r[1:] for r in rows["mapping"] if r[0] == 2025}
    as_2026 = {r[1:] for r in rows["mapping"] if r[0] == 2026}
    # 2026 now equals 2025, plus the row only 2026 had.
    assert as_2026 - as_2025 == {("programs", "program_type", "999", PROGRAM_NS, "Other")}
    assert as_2025 <= as_2026
    assert (2026, "edfi_api", True) in rows["connection"]


def test_copy_year_refuses_an_empty_source(sis_db, capsys):
    config(capsys, "import", EXAMPLE_YAML)
    before = table_rows(sis_db)
    code, _, err = config(capsys, "copy-year", 2019, 2026)
    assert code == 1
    assert "2019 has no mappings, toggles or connection to copy" in err
    assert config(capsys, "copy-year", 2025, 2025)[0] == 1
    assert table_rows(sis_db) == before


def test_pending_mapping_changes_against_snapshots(sis_db, tmp_path, capsys):
    config(capsys, "import", EXAMPLE_YAML)
    with psycopg.connect(sis_db) as conn:
        # The last resync of programs saw: 101 with another code, title1 as now, 777 since removed,
        # and no lep/migrant/homeless/sped yet. SSAs have no snapshot: nothing waits for them.
        conn.execute("INSERT INTO edfi_sync.mapping_snapshot_taken (end_year, resource, run_id) "
                     "VALUES (2025, 'programs', 'manual')")
        conn.execute(
            "INSERT INTO edfi_sync.mapping_snapshot (end_year, resource, field, sis_value, namespace, code_value) "
            "VALUES (2025, 'programs', 'program_type', '101', %(ns)s, 'Vocational Education'),"
            "       (2025, 'programs', 'program_type', 'title1', %(ns)s, 'Title I Part A'),"
            "       (2025, 'programs', 'program_type', '777', %(ns)s, 'Other'),"
            "       (2025, 'programs', 'program_type', 'lep', %(ns)s, 'English as a Second Language (ESL)'),"
            "       (2025, 'programs', 'program_type', 'migrant', %(ns)s, 'Migrant Education'),"
            "       (2025, 'programs', 'program_type', 'homeless', %(ns)s, 'Homeless')",
            {"ns": PROGRAM_NS})
        conn.commit()
        changes = pending_mapping_changes(conn, 2025)
        assert pending_mapping_changes(conn, 2026) == []
    assert changes == [
        PendingChange(2025, "programs", "program_type", "101", "changed",
                      f"{PROGRAM_NS}#Vocational Education", f"{PROGRAM_NS}#Career and Technical Education"),
        PendingChange(2025, "programs", "program_type", "777", "removed", f"{PROGRAM_NS}#Other", None),
        PendingChange(2025, "programs", "program_type", "sped", "added", None, f"{PROGRAM_NS}#Special Education"),
    ]
    code, out, _ = config(capsys, "show", "--school-year", "2025")
    assert code == 0
    assert "# 2025 programs: 3 mapping changes wait for a resync of programs:" in out
    assert (f"#   program_type 101: {PROGRAM_NS}#Vocational Education -> "
            f"{PROGRAM_NS}#Career and Technical Education") in out
    assert f"#   program_type 777: removed (was {PROGRAM_NS}#Other)" in out
    assert f"#   program_type sped: added {PROGRAM_NS}#Special Education" in out
    # Only programs has a snapshot, so only programs has changes waiting.
    assert [line for line in out.splitlines() if "wait for a resync" in line] == [
        "# 2025 programs: 3 mapping changes wait for a resync of programs:"]
    # The listing is YAML comments, so the output still re-imports; CSV has no comments: stderr.
    shown = tmp_path / "shown.yaml"
    shown.write_text(out, encoding="utf-8")
    assert config(capsys, "import", shown)[0] == 0
    code, out, err = config(capsys, "show", "--format", "csv", "--school-year", "2025")
    assert code == 0 and "3 mapping changes wait for a resync of programs" in err
    assert "resync" not in out


def test_cli_subprocess_import_and_show(sis_db):
    """The console-script path in a separate process, reading AIRFLOW_CONN_EDFI_SIS like Airflow would."""
    run = [sys.executable, "-m", "edfi_sync.cli", "config"]
    done = subprocess.run([*run, "import", str(EXAMPLE_CSV)], capture_output=True, text=True, cwd=REPO, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "2026: mappings 7 new" in done.stdout
    shown = subprocess.run([*run, "show", "--format", "csv"], capture_output=True, text=True, cwd=REPO, timeout=60)
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.splitlines()[0] == "kind,end_year,resource,field,sis_value,namespace,code_value"
    assert "toggle,2026,courses,enabled,false,," in shown.stdout
    bad = subprocess.run([*run, "import", str(REPO / "pyproject.toml")], capture_output=True, text=True,
                         cwd=REPO, timeout=60)
    assert bad.returncode == 1 and "unknown file type '.toml'" in bad.stderr
