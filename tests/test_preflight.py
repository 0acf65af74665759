"""`edfi-sync preflight` against the sandbox (SPEC §6.1): a token request and GETs only, nothing
written; what makes the run pointless exits 2; every other gap is a warning line with its fix.

Fixture tests/fixtures/sync_small.sql: year 2025, LEA 3500100 with schools 350010001 and
350010002 (350010003 is excluded), SSA mappings in the ed-fi namespaces.
"""

from __future__ import annotations

import json
import socket

from e2e_helpers import sql, sync
from edfi_sync.cli import main
from edfi_sync.sandbox.testing import run_sandbox

STATE_TABLES = ("mapping_snapshot_taken", "mapping_snapshot", "sync_run", "resource_run", "error_log",
                "identity_map", "staged_record")


def preflight(capsys, *argv: str) -> tuple[int, dict]:
    code = main(["preflight", "--school-year", "2025", "--format", "json", *argv])
    return code, json.loads(capsys.readouterr().out)


def state(conninfo: str) -> dict[str, int]:
    return {table: sql(conninfo, f"SELECT count(*) FROM edfi_sync.{table}")[0][0] for table in STATE_TABLES}


def use(monkeypatch, server) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_EDFI_API", json.dumps({
        "conn_type": "edfi", "host": server.base_url, "login": server.key, "password": server.secret}))


def test_a_clean_year_reads_only_and_writes_nothing(small_sis, sandbox, capsys):
    before = state(small_sis)
    code, report = preflight(capsys)
    assert code == 0
    assert (report["status"], report["counts"]) == ("clean", {"fatal": 0, "warning": 0, "info": 0})
    assert report["ods"] == "ODS/API 5.3 (Data Standard 4.0.0, Sandbox)"
    requests = sandbox.requests()
    assert {r["method"] for r in requests if r["path"] != "/oauth/token"} == {"GET"}
    assert [r["path"] for r in requests if r["method"] != "GET"] == ["/oauth/token"]
    # Every enabled resource was read, and the descriptor lists its mappings use.
    paths = {r["path"] for r in requests}
    assert {"/data/v3/ed-fi/students", "/data/v3/ed-fi/courseTranscripts",
            "/data/v3/ed-fi/gradeLevelDescriptors"} <= paths
    assert state(small_sis) == before  # no snapshot, run row or anything else written

    main(["preflight", "--school-year", "2025"])
    assert capsys.readouterr().out.splitlines()[-1] == "Nothing found that would make records fail."


def test_preflight_takes_the_runs_token_so_frequent_runs_never_use_up_the_clients_token_limit(
        small_sis, sandbox, capsys):
    """The ODS/API limits live tokens per client (the sandbox: 15). A token of its own per preflight
    used them up after 15 runs within a token's lifetime, and preflight then failed every run as
    'credentials refused'. It takes the run's cached token instead, and the run takes its token."""
    for _ in range(16):
        code, report = preflight(capsys)
        assert (code, report["status"]) == (0, "clean")
    sync(small_sis, resources=("localEducationAgencies",))
    assert [r["path"] for r in sandbox.requests() if r["method"] != "GET"].count("/oauth/token") == 1


def test_a_missing_descriptor_and_a_pending_mapping_change_are_reported(small_sis, sandbox, capsys):
    # The first run takes the snapshot: preflight then reads it, not the mapping table.
    sync(small_sis, resources=("studentSchoolAssociations",))
    sql(small_sis, "UPDATE edfi_sync.mapping SET code_value = 'Twelfth grade (senior)' "
                   "WHERE end_year = 2025 AND field = 'grade_level' AND sis_value = '12'")
    sql(small_sis, "INSERT INTO edfi_sync.mapping VALUES (2025, 'studentSchoolAssociations', 'grade_level', '13', "
                   "'uri://ed-fi.org/GradeLevelDescriptor', 'Thirteenth grade')")
    capsys.readouterr()
    code, report = preflight(capsys)
    assert code == 0 and report["status"] == "clean"  # the snapshot still maps 12 to a value the ODS has
    [note] = report["findings"]
    assert note["level"] == "info" and note["message"] == (
        "2 mapping change(s) of studentSchoolAssociations wait for a resync of studentSchoolAssociations.")

    code, report = preflight(capsys, "--resync")  # a resync takes the current values
    assert code == 0 and report["status"] == "warnings"
    assert sorted(f["message"] for f in report["findings"]) == [
        "uri://ed-fi.org/GradeLevelDescriptor#Thirteenth grade is not in the ODS's gradeLevelDescriptors (used by "
        "studentSchoolAssociations grade_level '13'): those records will be refused.",
        "uri://ed-fi.org/GradeLevelDescriptor#Twelfth grade (senior) is not in the ODS's gradeLevelDescriptors "
        "(used by studentSchoolAssociations grade_level '12'): those records will be refused."]
    assert all("ask the ODS administrator to add the value" in f["fix"] for f in report["findings"])


def test_missing_claims_an_education_organization_and_a_resource(small_sis, monkeypatch, capsys):
    # The client may touch school 350010001 only; and the ODS refuses it courses altogether.
    with run_sandbox(claims=[350010001]) as server:
        use(monkeypatch, server)
        server.set_faults(error_rate=1.0, error_statuses=[403], paths="^/data/v3/ed-fi/courses$", methods=["GET"])
        code, report = preflight(capsys)
    assert code == 0 and report["status"] == "warnings"
    messages = [f["message"] for f in report["findings"]]
    assert messages == [
        "the client's claims (350010001) do not include LEA 3500100 Rio Arriba Schools (only its schools "
        "350010001): its district-level records (the LEA, programs, courses) will be refused with 403.",
        "the client's claims do not reach school 350010002 Rio Middle: its records (school, enrollments, student "
        "records) will be refused with 403.",
        "the client may not read courses (GET answered 403): its claim set lacks the resource, so every courses "
        "record will be refused."]
    assert [f["check"] for f in report["findings"]] == ["claims", "claims", "claims"]


def test_what_makes_the_run_pointless_exits_2(small_sis, monkeypatch, capsys):
    code, report = preflight(capsys, "--school-year", "2030")
    assert code == 2
    assert report["findings"][0]["message"] == "school year 2030 has no enabled Ed-Fi connection: it is out of scope."

    with run_sandbox() as server:
        monkeypatch.setenv("AIRFLOW_CONN_EDFI_API", json.dumps({
            "conn_type": "edfi", "host": server.base_url, "login": server.key, "password": "not-the-secret"}))
        code, report = preflight(capsys)
        assert code == 2
        [fatal] = report["findings"]
        assert (fatal["check"], fatal["level"]) == ("credentials", "fatal")
        assert "refused the client credentials (401)" in fatal["message"] and "not-the-secret" not in json.dumps(report)
        assert not [r for r in server.requests() if r["path"].startswith("/data/")]  # nothing after the refusal

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    monkeypatch.setenv("AIRFLOW_CONN_EDFI_API", json.dumps({
        "conn_type": "edfi", "host": f"http://127.0.0.1:{port}", "login": "k", "password": "s"}))
    code, report = preflight(capsys)
    assert code == 2 and report["findings"][0]["check"] == "ods"
    assert f"cannot reach the Ed-Fi API at http://127.0.0.1:{port}" in report["findings"][0]["message"]
