"""`edfi-sync db init` creates SPEC §3/§4 exactly: read back from information_schema."""

from __future__ import annotations

import subprocess
import sys

import psycopg
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

I, T, D, N, B = "integer", "text", "date", "numeric", "boolean"

# SPEC §3, written out by hand from the spec text: (column, type) in order.
SIS_TABLES = {
    "district": [("district_id", I), ("name", T), ("number", T)],
    "school": [("school_id", I), ("district_id", I), ("name", T), ("number", T), ("exclude", B)],
    "school_year": [("end_year", I), ("label", T), ("start_date", D), ("end_date", D)],
    "calendar": [("calendar_id", I), ("school_id", I), ("end_year", I), ("name", T), ("start_date", D),
                 ("end_date", D), ("exclude", B)],
    "term_schedule": [("term_schedule_id", I), ("calendar_id", I), ("name", T), ("is_primary", B)],
    "term": [("term_id", I), ("term_schedule_id", I), ("name", T), ("seq", I), ("start_date", D), ("end_date", D)],
    "person": [("person_id", I), ("state_id", T), ("student_number", T), ("first_name", T), ("middle_name", T),
               ("last_name", T), ("birth_date", D), ("gender", T)],
    "enrollment": [("enrollment_id", I), ("person_id", I), ("calendar_id", I), ("grade", T), ("service_type", T),
                   ("start_date", D), ("end_date", D), ("start_status", T), ("end_status", T), ("no_show", B),
                   ("state_exclude", B)],
    "program": [("program_id", I), ("district_id", I), ("kind", T), ("name", T), ("code", T), ("state_code", T),
                ("program_type", T), ("type_category", T)],
    "program_participation": [("participation_id", I), ("person_id", I), ("program_id", I), ("start_date", D),
                              ("end_date", D), ("student_status", T), ("non_traditional", B)],
    "program_participation_certification": [("certification_id", I), ("participation_id", I), ("name", T),
                                            ("attempted", B), ("passed", B), ("certification_date", D)],
    "title1": [("title1_id", I), ("person_id", I), ("start_date", D), ("end_date", D)],
    "lep": [("lep_id", I), ("person_id", I), ("start_date", D), ("end_date", D)],
    "migrant": [("migrant_id", I), ("person_id", I), ("start_date", D), ("end_date", D)],
    "homeless": [("homeless_id", I), ("person_id", I), ("start_date", D), ("end_date", D)],
    "pos_eligibility": [("pos_eligibility_id", I), ("person_id", I), ("start_date", D), ("end_date", D),
                        ("eligibility", T)],
    "plan": [("plan_id", I), ("person_id", I), ("start_date", D), ("end_date", D), ("plan_type", T), ("locked", B)],
    "course": [("course_id", I), ("calendar_id", I), ("number", T), ("name", T), ("edfi_term_override", T)],
    "section": [("section_id", I), ("course_id", I), ("number", T), ("edfi_term_override", T)],
    "grading_score": [("score_id", I), ("section_id", I), ("person_id", I), ("term_id", I), ("score", T)],
    "transcript_course": [("transcript_id", I), ("person_id", I), ("school_id", I), ("end_year", I),
                          ("course_number", T), ("course_name", T), ("score_id", I), ("edfi_term_override", T),
                          ("grade", T)],
    "transcript_credit": [("transcript_credit_id", I), ("transcript_id", I), ("credits_attempted", N),
                          ("credits_earned", N)],
    "graduation": [("graduation_id", I), ("person_id", I), ("diploma_type", T), ("diploma_date", D)],
    "cum_gpa": [("person_id", I), ("cum_gpa", N)],
}

# "Foreign keys, exactly these": (table, column) -> referenced table.
SIS_FOREIGN_KEYS = {
    ("school", "district_id"): "district",
    ("calendar", "school_id"): "school",
    ("calendar", "end_year"): "school_year",
    ("term_schedule", "calendar_id"): "calendar",
    ("term", "term_schedule_id"): "term_schedule",
    ("enrollment", "person_id"): "person",
    ("enrollment", "calendar_id"): "calendar",
    ("program", "district_id"): "district",
    ("program_participation", "person_id"): "person",
    ("program_participation", "program_id"): "program",
    ("program_participation_certification", "participation_id"): "program_participation",
    ("title1", "person_id"): "person",
    ("lep", "person_id"): "person",
    ("migrant", "person_id"): "person",
    ("homeless", "person_id"): "person",
    ("pos_eligibility", "person_id"): "person",
    ("plan", "person_id"): "person",
    ("course", "calendar_id"): "calendar",
    ("section", "course_id"): "course",
    ("grading_score", "section_id"): "section",
    ("grading_score", "person_id"): "person",
    ("grading_score", "term_id"): "term",
    ("transcript_course", "person_id"): "person",
    ("transcript_course", "school_id"): "school",
    ("transcript_course", "score_id"): "grading_score",
    ("transcript_credit", "transcript_id"): "transcript_course",
    ("graduation", "person_id"): "person",
    ("cum_gpa", "person_id"): "person",
}

FLAGS = {"exclude", "is_primary", "no_show", "state_exclude", "non_traditional", "attempted", "passed", "locked"}

CONFIG_TABLES = {
    "connection": [("end_year", I), ("conn_id", T), ("enabled", B)],
    "resource_toggle": [("end_year", I), ("resource", T), ("enabled", B)],
    "mapping": [("end_year", I), ("resource", T), ("field", T), ("sis_value", T), ("namespace", T),
                ("code_value", T)],
}
CONFIG_KEYS = {
    "connection": ["end_year"],
    "resource_toggle": ["end_year", "resource"],
    "mapping": ["end_year", "resource", "field", "sis_value"],
}


def _columns(conn, schema, table):
    return conn.execute(
        """SELECT column_name, data_type, is_nullable, column_default
             FROM information_schema.columns WHERE table_schema = %s AND table_name = %s
            ORDER BY ordinal_position""", (schema, table)).fetchall()


def _primary_key(conn, schema, table):
    return [r[0] for r in conn.execute(
        """SELECT kcu.column_name FROM information_schema.table_constraints tc
             JOIN information_schema.key_column_usage kcu
               ON kcu.constraint_name = tc.constraint_name AND kcu.table_schema = tc.table_schema
            WHERE tc.table_schema = %s AND tc.table_name = %s AND tc.constraint_type = 'PRIMARY KEY'
            ORDER BY kcu.ordinal_position""", (schema, table))]


def test_sis_tables_match_spec_column_for_column(sis_db):
    with psycopg.connect(sis_db) as conn:
        tables = {r[0] for r in conn.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'sis'")}
        assert set(SIS_TABLES) <= tables
        for table, expected in SIS_TABLES.items():
            cols = _columns(conn, "sis", table)
            assert [(c[0], c[1]) for c in cols][:len(expected)] == expected, table
            pk = _primary_key(conn, "sis", table)
            assert pk == [expected[0][0]], table
            for name, _type, nullable, default in cols:
                if name in FLAGS:
                    assert nullable == "NO" and default == "false", (table, name)
                elif name != pk[0]:
                    assert nullable == "YES", f"{table}.{name} must stay nullable (dirty SIS data)"


def test_sis_foreign_keys_are_exactly_the_specified_ones(sis_db):
    with psycopg.connect(sis_db) as conn:
        rows = conn.execute(
            """SELECT cl.relname, att.attname, ref.relname
                 FROM pg_constraint con
                 JOIN pg_class cl ON cl.oid = con.conrelid
                 JOIN pg_namespace ns ON ns.oid = cl.relnamespace
                 JOIN pg_class ref ON ref.oid = con.confrelid
                 JOIN pg_attribute att ON att.attrelid = con.conrelid AND att.attnum = ANY (con.conkey)
                WHERE con.contype = 'f' AND ns.nspname = 'sis'""").fetchall()
    assert {(t, c): r for t, c, r in rows} == SIS_FOREIGN_KEYS
    assert len(rows) == len(SIS_FOREIGN_KEYS)


def test_config_tables_match_spec(sis_db):
    with psycopg.connect(sis_db) as conn:
        for table, expected in CONFIG_TABLES.items():
            cols = _columns(conn, "edfi_sync", table)
            assert [(c[0], c[1]) for c in cols] == expected, table
            assert _primary_key(conn, "edfi_sync", table) == CONFIG_KEYS[table]
        conn_cols = {c[0]: c for c in _columns(conn, "edfi_sync", "connection")}
        assert conn_cols["conn_id"][2] == "NO" and conn_cols["conn_id"][3].startswith("'edfi_api'")
        assert conn_cols["enabled"][2] == "NO" and conn_cols["enabled"][3] == "true"
        # State the project owns.
        owned = {r[0] for r in conn.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'edfi_sync'")}
        assert {"identity_map", "error_log", "sync_run", "resource_run", "schema_migration"} <= owned


def test_db_init_is_idempotent_and_versioned(empty_db):
    from edfi_sync import db

    applied = db.init_schema(empty_db)
    assert [m.version for m in applied] == [m.version for m in db.migrations()]
    assert db.init_schema(empty_db) == []
    assert db.schema_version(empty_db) == db.migrations()[-1].version


def test_db_init_cli_uses_airflow_conn_edfi_sis(empty_db):
    out = subprocess.run([sys.executable, "-m", "edfi_sync.cli", "db", "init"], capture_output=True, text=True,
                         check=True)
    assert "schema version" in out.stdout
    with psycopg.connect(empty_db) as conn:
        assert conn.execute("SELECT count(*) FROM edfi_sync.schema_migration").fetchone()[0] >= 2


def test_fixture_written_against_spec_alone_loads(sis_db):
    """tests/fixtures/spec_minimal.sql uses only SPEC §3 names: the DDL must accept it as is."""
    sql = (REPO / "tests" / "fixtures" / "spec_minimal.sql").read_text()
    with psycopg.connect(sis_db) as conn:
        conn.execute(sql)
        conn.commit()
        assert conn.execute("SELECT count(*) FROM sis.enrollment").fetchone()[0] == 3
        assert conn.execute("SELECT count(*) FROM sis.transcript_credit").fetchone()[0] == 2
