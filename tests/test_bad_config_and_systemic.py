"""The bad-input corpus, continued (docs/reliability.md): malformed Resource Preferences files and
systemic failures. Each is a clear CLI error naming the place and the fix, nothing is written and
nothing crashes: `edfi-sync` runs in process, as the console script does, against a real PostgreSQL
and the sandbox over HTTP. The SIS records of the corpus are in tests/test_bad_input.py.
"""

from __future__ import annotations

import json
import logging
import socket
import uuid
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest

from databases import create_database, drop_database
from e2e_helpers import YEAR
from edfi_sync import cli
from edfi_sync.connections import postgres_airflow_json
from edfi_sync.engine.errors import classify
from edfi_sync.engine.runner import YearSync
from edfi_sync.resources import RESOURCES

SMALL = Path(__file__).parent / "fixtures" / "sync_small.sql"
GRADES = "uri://ed-fi.org/GradeLevelDescriptor"
HEADER = "end_year,resource,field,sis_value,namespace,code_value\n"


@dataclass(frozen=True)
class BadFile:
    case: str
    name: str
    content: bytes
    says: tuple[str, ...]  # the problem, its place and its fix


def yaml(grade_line: str) -> bytes:
    return (f"years:\n  2025:\n    mappings:\n      studentSchoolAssociations:\n        grade_level:\n"
            f"          {grade_line}\n").encode()


BAD_FILES = [
    BadFile("YAML indented with a tab", "tab.yaml", b"years:\n\t2025: {}\n", ("line 2", "not valid YAML", "Fix:")),
    BadFile("YAML holding a NUL character", "nul.yaml", yaml(f'"09": "{GRADES}#Ninth\0grade"'),
            ("line 6", "control character U+0000", "Fix:")),
    BadFile("YAML with a NUL escape in a codeValue", "nul-escape.yaml", yaml(f'"09": "{GRADES}#Ninth\\0grade"'),
            ("line 6", "codeValue holds control character(s) U+0000")),
    BadFile("YAML naming an unknown resource", "resource.yaml",
            b"years:\n  2025:\n    mappings:\n      studentSchoolAssociation:\n        grade_level: {}\n",
            ("line 4", "unknown resource 'studentSchoolAssociation'", "did you mean 'studentSchoolAssociations'")),
    BadFile("YAML naming an unknown mapping field", "field.yaml",
            b"years:\n  2025:\n    mappings:\n      studentSchoolAssociations:\n        grades: {}\n",
            ("line 5", "'grades' is not a mapping field", "use one of: grade_level")),
    BadFile("YAML descriptor without '#'", "hash.yaml", yaml(f'"09": "{GRADES} Ninth grade"'),
            ("line 6", "has no '#'", "namespace#codeValue")),
    BadFile("YAML codeValue of 51 characters", "long.yaml", yaml(f'"09": "{GRADES}#{"N" * 51}"'),
            ("line 6", "has 51 characters (Ed-Fi allows 50)",)),
    BadFile("YAML namespace of 256 characters", "namespace.yaml", yaml(f'"09": "uri://{"n" * 250}#Ninth grade"'),
            ("line 6", "has 256 characters (Ed-Fi allows 255)",)),
    BadFile("YAML with one key twice", "twice.yaml", yaml(f'"09": "{GRADES}#Ninth grade"\n          "09": "x#y"'),
            ("line 7", "key defined twice (first on line 6)")),
    BadFile("YAML school year that is not a year", "year.yaml", b"years:\n  SY2025: {}\n",
            ("line 2", "school year 'SY2025' is not an integer", "e.g. 2025 for 2024-25")),
    BadFile("CSV without the code_value column", "header.csv", b"end_year,resource,field,sis_value,namespace\n",
            ("line 1", "missing column(s) code_value", "use the header")),
    BadFile("CSV holding a NUL character", "nul.csv",
            (HEADER + f"2025,studentSchoolAssociations,grade_level,0\0009,{GRADES},Ninth grade\n").encode(),
            ("line 2", "SIS value holds control character(s) U+0000")),
    BadFile("CSV with a line break inside a codeValue", "newline.csv",
            (HEADER + f'2025,studentSchoolAssociations,grade_level,09,{GRADES},"Ninth\ngrade"\n').encode(),
            ("codeValue holds control character(s) U+000A",)),
    BadFile("CSV saved as Latin-1", "latin1.csv",
            (HEADER + f"2025,studentSchoolAssociations,grade_level,09,{GRADES},Novena\xf1\n").encode("latin-1"),
            ("line 2", "not UTF-8 text (byte 0xf1)", "save the file as UTF-8")),
    BadFile("CSV saved as UTF-16 (Excel's Unicode Text)", "utf16.csv", HEADER.encode("utf-16"),
            ("line 1", "not UTF-8 text", "CSV UTF-8")),
    BadFile("CSV toggle that is neither true nor false", "toggle.csv",
            b"kind,end_year,resource,field,sis_value,namespace,code_value\ntoggle,2025,courses,enabled,maybe,,\n",
            ("line 2", "'maybe' is not true or false",)),
    BadFile("CSV with an unknown kind of row", "kind.csv",
            b"kind,end_year,resource,field,sis_value,namespace,code_value\nmaping,2025,programs,program_type,1,,\n",
            ("line 2", "unknown kind 'maping'", "did you mean 'mapping'")),
    BadFile("CSV with one mapping twice", "twice.csv",
            (HEADER + f"2025,studentSchoolAssociations,grade_level,09,{GRADES},Ninth grade\n" * 2).encode(),
            ("line 3", "mapping defined twice (first on line 2)",)),
]


@pytest.fixture(scope="module")
def module_db(pg_admin_conninfo, migrated_template):
    """One database for the module: the engine tests' district, its configuration of 2025."""
    name = f"edfi_sync_bad_{uuid.uuid4().hex[:10]}"
    conninfo = create_database(pg_admin_conninfo, name, template=migrated_template)
    with psycopg.connect(conninfo) as conn:
        conn.execute(SMALL.read_text())
    yield conninfo
    drop_database(pg_admin_conninfo, name)


@pytest.fixture
def db(module_db, monkeypatch):
    monkeypatch.setenv("AIRFLOW_CONN_EDFI_SIS", postgres_airflow_json(module_db))
    return module_db


@pytest.fixture
def edfi_sync(capsys):
    """`edfi-sync ...` in process: (exit status, stdout, stderr). The package's log handler is put
    back afterwards (the CLI installs its own)."""
    package = logging.getLogger("edfi_sync")
    saved = package.handlers[:], package.propagate, package.level

    def run(*args: str) -> tuple[int, str, str]:
        capsys.readouterr()
        code = cli.main([str(arg) for arg in args])
        out, err = capsys.readouterr()
        return code, out, err

    yield run
    package.handlers[:], package.propagate, package.level = saved[0], saved[1], saved[2]


def configuration(conninfo: str) -> list[tuple]:
    with psycopg.connect(conninfo) as conn:
        return conn.execute("SELECT * FROM edfi_sync.mapping UNION ALL SELECT end_year, resource, NULL, NULL, "
                            "NULL, enabled::text FROM edfi_sync.resource_toggle ORDER BY 1, 2, 3, 4").fetchall()


@pytest.mark.parametrize("bad", BAD_FILES, ids=lambda b: b.name)
def test_malformed_preferences_file_is_refused_whole_with_its_line_and_fix(db, edfi_sync, tmp_path, bad):
    before = configuration(db)
    path = tmp_path / bad.name
    path.write_bytes(bad.content)
    code, out, err = edfi_sync("config", "import", path)
    assert code == 1 and "nothing was written" in err, err
    for words in bad.says:
        assert words in err, f"{bad.case}: {words!r} not in {err!r}"
    assert configuration(db) == before


def free_port() -> int:
    """A 127.0.0.1 port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def api(monkeypatch, host: str, password: str = "sandbox-secret", **extra) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_EDFI_API", json.dumps({
        "conn_type": "http", "host": host, "login": "sandbox", "password": password,
        "extra": {"max_attempts": 1, **extra}}))


def test_unreachable_ed_fi_server_fails_the_run_with_the_host_and_the_fix(db, edfi_sync, monkeypatch):
    port = free_port()
    api(monkeypatch, f"http://127.0.0.1:{port}")
    code, out, err = edfi_sync("sync", "--school-year", YEAR)
    assert code == 2
    assert f"cannot reach the Ed-Fi API at http://127.0.0.1:{port}" in err and "Fix: check the Ed-Fi connection" in err
    assert "Traceback" not in err


def test_refused_credential_fails_the_run_and_never_shows_the_secret(db, edfi_sync, monkeypatch, sandbox):
    secret = f"wrong-{uuid.uuid4().hex}"
    api(monkeypatch, sandbox.base_url, password=secret)
    code, out, err = edfi_sync("sync", "--school-year", YEAR)
    assert code == 2
    assert "refused the client credentials (401). Fix: check the key (login) and secret (password)" in err
    assert secret not in out + err
    assert [r["path"] for r in sandbox.requests()] == ["/oauth/token"]  # asked once, not retried


def test_host_that_is_no_ed_fi_api_is_said_so(db, edfi_sync, monkeypatch, sandbox):
    api(monkeypatch, f"{sandbox.base_url}/metadata")
    code, out, err = edfi_sync("sync", "--school-year", YEAR)
    assert code == 2 and "is not an Ed-Fi ODS/API. Fix: set it to the API's base URL" in err


@pytest.mark.parametrize("command", [
    ("sync", "--school-year", "2025"), ("report", "errors", "--school-year", "2025"), ("config", "show"),
    ("config", "copy-year", "2025", "2026")])
def test_unreachable_database_is_one_clear_line_for_every_command(edfi_sync, monkeypatch, command):
    secret = f"db-{uuid.uuid4().hex}"
    monkeypatch.setenv("AIRFLOW_CONN_EDFI_SIS", json.dumps({
        "conn_type": "postgres", "host": "127.0.0.1", "port": free_port(), "login": "sis", "password": secret,
        "schema": "sis"}))
    code, out, err = edfi_sync(*command)
    assert code == 2 and "the connector database is unreachable" in err and "Fix: check AIRFLOW_CONN_EDFI_SIS" in err
    assert "Traceback" not in err and secret not in out + err


def test_database_without_the_schema_says_to_run_db_init(edfi_sync, monkeypatch, empty_db):
    code, out, err = edfi_sync("report", "errors", "--school-year", YEAR)
    assert code == 2 and "run `edfi-sync db init`" in err


def test_unknown_resource_is_refused_before_anything_runs(db, edfi_sync, sandbox):
    code, out, err = edfi_sync("sync", "--school-year", YEAR, "--resource", "student")
    assert code == 2 and "unknown resources: student" in err and "studentSchoolAssociations" in err
    assert sandbox.requests() == []


def test_an_ed_fi_answer_holding_nul_is_logged_with_it_shown(db):
    """PostgreSQL text and jsonb refuse NUL: an ODS message carrying one must not lose the error row."""
    error = classify(400, {"message": "bad \x00 value", "modelState": {"firstName": ["a\x00b"]}}, "POST")
    with YearSync(YEAR, conninfo=db) as run:
        row = run.error_log.row(RESOURCES["students"], {"sis_object_key": "1", "payload": {"firstName": "a\x00b"}},
                                "POST", error)
        run.error_log.write([row])
        stored = run.conn.execute("SELECT message, validation_errors, request_body FROM edfi_sync.error_log "
                                  "WHERE run_id = %s", (run.run_id,)).fetchone()
    assert stored == ("bad \\0 value", ["firstName: a\\0b"], {"firstName": "a\\0b"})


def test_nul_cannot_enter_the_sis(module_db):
    """Why no SIS record holds a NUL: PostgreSQL text refuses it, so the engine never reads one."""
    with psycopg.connect(module_db) as conn, pytest.raises(psycopg.DataError, match="NUL"):
        conn.execute("UPDATE sis.person SET first_name = %s WHERE person_id = 1", ("Ana\x00",))
