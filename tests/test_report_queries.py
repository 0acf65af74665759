"""The reports' queries against real sync results (tests/fixtures/sync_small.sql synced to the
sandbox), read the way the pages read them: as the role edfi_sync_reader.

Fixture errors of 2025 (see test_sync_e2e): student 3 Cal Baca (no birth date), SSA 1003 (its
student failed), SSA 1006 (a duplicate of 1007), SSA 1008 (grade KG unmapped).
"""

from __future__ import annotations

import json
import logging
import uuid
from dataclasses import fields, replace
from pathlib import Path

import psycopg
import pytest
from psycopg import sql as pgsql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from databases import create_database, drop_database
from e2e_helpers import YEAR, sql, sync
from edfi_sync import db
from edfi_sync.reports import store
from edfi_sync.reports.filters import BadFilter, ErrorFilters, IdentityMapFilters, RunFilters
from edfi_sync.sandbox.testing import run_sandbox
from edfi_sync.ui import database

REPO = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.e2e
INJECTION = "'; DROP TABLE edfi_sync.error_log; --"


@pytest.fixture(scope="module")
def synced_db(pg_admin_conninfo, migrated_template):
    """Two runs, shared by the module's tests (they only read): the fixture's errors, then Cal gets
    a birth date (his errors resolve), and one error is archived as an operator would."""
    name = f"edfi_sync_reports_{uuid.uuid4().hex[:10]}"
    conninfo = create_database(pg_admin_conninfo, name, migrated_template)
    sql(conninfo, (REPO / "tests" / "fixtures" / "sync_small.sql").read_text())
    try:
        with run_sandbox() as server, pytest.MonkeyPatch.context() as patch:
            patch.setenv("AIRFLOW_CONN_EDFI_API", json.dumps({"conn_type": "http", "host": server.base_url,
                                                              "login": server.key, "password": server.secret}))
            first = sync(conninfo)
            sql(conninfo, "UPDATE sis.person SET birth_date = '2008-05-05' WHERE person_id = 3")
            second = sync(conninfo)
        sql(conninfo, "UPDATE edfi_sync.error_log SET resolved = true, resolved_reason = 'archived', "
                      "resolved_at = now() WHERE sis_object_key = '1006'")
        yield conninfo, first, second
    finally:
        drop_database(pg_admin_conninfo, name)


@pytest.fixture
def synced(synced_db):
    """The module's database as the pages read it (the role edfi_sync_reader)."""
    conninfo, first, second = synced_db
    with database.connect(conninfo) as conn:
        yield conn, first, second


def keys(rows):
    return {(r["resource"], r["sis_object_key"]) for r in rows}


def errors(conn, **filters):
    return list(store.stream(conn, store.ERRORS, ErrorFilters(**filters)))


def test_each_error_filter_selects_what_it_names(synced):
    conn, first, second = synced
    assert keys(errors(conn)) == {("studentSchoolAssociations", "1008")}  # open, every year
    assert keys(errors(conn, status="resolved")) == {("students", "3"), ("studentSchoolAssociations", "1003")}
    assert [r["resolved_reason"] for r in errors(conn, status="resolved")] == ["sent", "sent"]
    assert keys(errors(conn, status="archived")) == {("studentSchoolAssociations", "1006")}
    every = errors(conn, status="all")
    assert len(every) == 4 and [r["state"] for r in every] == ["open", "resolved", "resolved", "archived"]
    assert keys(errors(conn, status="all", resource="students")) == {("students", "3")}
    assert keys(errors(conn, status="all", error_code="unmapped_value")) == {("studentSchoolAssociations", "1008")}
    assert keys(errors(conn, status="all", error_class="missing_reference")) == {
        ("studentSchoolAssociations", "1003")}
    assert keys(errors(conn, status="all", school_year=YEAR - 1)) == set()
    assert {r["school_id"] for r in errors(conn, status="all", school="350010001")} == {"350010001"}
    # q: a student's name (every word, any order and case), a studentUniqueId, a SIS key
    assert keys(errors(conn, status="all", q="baca CAL")) == {("students", "3"), ("studentSchoolAssociations", "1003")}
    assert keys(errors(conn, status="all", q="100000003")) == keys(errors(conn, status="all", q="Cal"))
    assert keys(errors(conn, status="all", q="1006")) == {("studentSchoolAssociations", "1006")}
    assert errors(conn, status="all", q="Cal Ruiz") == []
    assert keys(errors(conn, status="all", run_id=second.run_id)) == {  # seen again by the second run
        ("studentSchoolAssociations", "1008"), ("studentSchoolAssociations", "1006")}
    # the CLI reads the same query (`edfi-sync report errors`), every state by default in report_rows
    from edfi_sync.engine.cli import report_rows

    assert [r["error_id"] for r in report_rows("errors", YEAR, None, conninfo_of(conn))] == [
        r["error_id"] for r in every]


def conninfo_of(conn) -> str:
    params = conninfo_to_dict(conn.info.dsn)
    params.pop("options", None)
    return make_conninfo(**params)


@pytest.mark.parametrize("sort", ["last_seen", "first_seen", "occurrences", "resource", "student", "school"])
def test_keyset_pages_give_every_row_once_forward_and_back(synced, sort):
    conn, *_ = synced
    filters = ErrorFilters(status="all", sort=sort)
    whole = [r["error_id"] for r in store.stream(conn, store.ERRORS, filters)]
    pages, page = [], store.error_page(conn, filters, size=1)
    while True:
        pages.append([r["error_id"] for r in page.rows])
        if page.next is None:
            break
        page = store.error_page(conn, replace(filters, page=page.next), size=1)
    assert [i for p in pages for i in p] == whole and page.start == len(whole) - 1
    back = []
    while page.previous is not None:
        page = store.error_page(conn, replace(filters, page=page.previous), size=1)
        back.insert(0, [r["error_id"] for r in page.rows])
    assert back == pages[:-1] and page.start == 0
    if sort == "last_seen":  # open first, then newest first
        states = [r["state"] for r in store.stream(conn, store.ERRORS, filters)]
        assert states == sorted(states, key=["open", "resolved", "archived"].index)


def test_summaries_count_the_filtered_set(synced):
    conn, *_ = synced
    summary = store.error_summary(conn, ErrorFilters(status="all"))
    assert summary["total"][0]["n"] == 4
    assert {r["value"]: r["n"] for r in summary["resource"]} == {"studentSchoolAssociations": 3, "students": 1}
    assert {r["value"]: (r["label"], r["n"]) for r in summary["student"]}["100000003"] == ("Cal Baca", 2)
    assert sum(r["n"] for r in summary["error_code"]) == 4
    only = store.error_summary(conn, ErrorFilters(status="all", resource="students"))
    assert only["total"][0]["n"] == 1 and [r["value"] for r in only["error_code"]] == ["schema_validation"]


def test_the_identity_map_is_found_by_sis_key_ed_fi_id_student_and_any_natural_key_value(synced):
    conn, *_ = synced
    every = list(store.stream(conn, store.IDENTITY_MAP, IdentityMapFilters(school_year=YEAR)))
    assert len(every) == sql(conninfo_of(conn), "SELECT count(*) FROM edfi_sync.identity_map")[0][0]
    ana_ssa = next(r for r in every if r["resource"] == "studentSchoolAssociations" and r["sis_object_key"] == "1001")

    def found(q, **more):
        return keys(store.stream(conn, store.IDENTITY_MAP, IdentityMapFilters(school_year=YEAR, q=q, **more)))

    assert found("1001") == {("studentSchoolAssociations", "1001")}
    assert found(ana_ssa["edfi_id"]) == {("studentSchoolAssociations", "1001")}
    ana = {("students", "1"), ("studentSchoolAssociations", "1001")}
    assert found("100000001") == ana and found("ruiz ana") == ana  # a studentUniqueId, a name from the SIS
    assert found("2024-08-12") >= {("studentSchoolAssociations", "1001")}  # a date in the natural key
    school = next(r for r in every if r["resource"] == "schools" and r["natural_key"]["schoolId"] == 350010001)
    assert found("350010001") >= {("schools", school["sis_object_key"]), ("studentSchoolAssociations", "1001")}
    assert found("350010001", resource="schools") == {("schools", school["sis_object_key"])}  # a number
    assert found(INJECTION) == set()
    counts = {r["resource"]: r["n"] for r in store.identity_map_counts(conn, IdentityMapFilters(school_year=YEAR))}
    assert sum(counts.values()) == len(every) and counts["students"] == 5  # Cal was sent by the second run
    page = store.identity_map_page(conn, IdentityMapFilters(school_year=YEAR, q="100000001"))
    assert {r["student_name"] for r in page.rows} == {"Ana Ruiz"}
    walked, page = [], store.identity_map_page(conn, IdentityMapFilters(school_year=YEAR), size=4)
    while True:
        walked += [(r["resource"], r["sis_object_key"]) for r in page.rows]
        if page.next is None:
            break
        page = store.identity_map_page(conn, IdentityMapFilters(school_year=YEAR, page=page.next), size=4)
    assert walked == [(r["resource"], r["sis_object_key"]) for r in every]


def test_runs_say_what_each_sent_and_what_failed(synced):
    conn, first, second = synced
    page = store.run_page(conn, RunFilters())
    assert [r["run_id"] for r in page.rows] == [second.run_id, first.run_id]  # newest first
    latest, earliest = page.rows
    assert earliest["origin"] == "cli" and earliest["dag_id"] is None
    sent = sum(n for counts in first.by_resource().values() for k, n in counts.items() if k.endswith(".ok"))
    assert (earliest["sent"], earliest["record_errors"]) == (sent, first.record_errors)
    assert latest["record_errors"] == second.record_errors == 2  # 1006's duplicate and 1008 again
    steps = store.run_steps(conn, first.run_id)
    students = next(s for s in steps if (s["resource"], s["phase"]) == ("students", "post"))
    assert (students["sis_count"], students["map_count"], students["disagree"]) == (5, 4, True)
    assert store.recent_runs(conn, YEAR)[-1]["run_id"] == second.run_id
    assert [r["run_id"] for r in store.run_page(conn, RunFilters(origin="airflow")).rows] == []
    assert store.school_years(conn) == [YEAR]
    assert store.school_names(conn, {"350010001", "nope"}) == {"350010001": "Rio High"}
    reconciliation = {r["resource"]: r for r in store.reconciliation(conn, YEAR)}
    assert reconciliation["students"]["disagree"] is False  # Cal sent: SIS 5, map 5


@pytest.mark.parametrize("filters_class", [ErrorFilters, IdentityMapFilters, RunFilters])
def test_sql_in_any_filter_is_only_a_value(synced, filters_class):
    conn, *_ = synced
    before = sql(conninfo_of(conn), "SELECT count(*) FROM edfi_sync.error_log")[0][0]
    for f in fields(filters_class):
        if f.name == "page":
            continue
        try:
            filters = filters_class.from_params({f.name: INJECTION, "school_year": str(YEAR)}
                                                if f.name != "school_year" else {f.name: INJECTION})
        except BadFilter:
            continue  # a year or a choice refuses it before any SQL
        query = {ErrorFilters: store.ERRORS, IdentityMapFilters: store.IDENTITY_MAP,
                 RunFilters: store.RUNS}[filters_class]
        assert list(store.stream(conn, query, filters, include_dry_runs=True)) == [], f.name
    assert sql(conninfo_of(conn), "SELECT count(*) FROM edfi_sync.error_log")[0][0] == before


def test_the_pages_role_reads_the_reports_and_nothing_else(synced):
    conn, *_ = synced
    assert conn.execute("SELECT current_user").fetchone() == ("edfi_sync_reader",)
    for statement in ("SELECT * FROM edfi_sync.token_cache", "SELECT * FROM edfi_sync.mapping",
                      "SELECT * FROM sis.enrollment"):
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute(statement)
    with pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
        conn.execute("UPDATE edfi_sync.error_log SET occurrences = 0")
    conn.execute("RESET ROLE")  # a role taken at connection start stays the session's
    assert conn.execute("SELECT current_user").fetchone() == ("edfi_sync_reader",)
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        conn.execute("SELECT * FROM edfi_sync.token_cache")


def test_the_actions_role_archives_and_writes_the_audit_trail_and_nothing_else(synced_db):
    from edfi_sync.actions import audit
    from edfi_sync.actions.errors import archive

    conninfo, *_ = synced_db
    with database.connect(conninfo, role=database.OPERATOR_ROLE) as conn, conn.transaction(force_rollback=True):
        assert conn.execute("SELECT current_user").fetchone() == ("edfi_sync_operator",)
        [(error_id,)] = conn.execute("SELECT error_id FROM edfi_sync.error_log WHERE NOT resolved").fetchall()
        assert archive(conn, [error_id], "operator", "a local code the state does not collect") == [error_id]
        assert audit.record(conn, actor="operator", origin="ui", action="archive", params={"error_ids": [error_id]})
    for statement in ("SELECT * FROM edfi_sync.token_cache", "SELECT message FROM edfi_sync.error_log",
                      "UPDATE edfi_sync.error_log SET occurrences = 0", "DELETE FROM edfi_sync.error_log",
                      "SELECT * FROM edfi_sync.identity_map", "UPDATE edfi_sync.audit_log SET actor = 'someone'",
                      "DELETE FROM edfi_sync.audit_log"):
        with database.connect(conninfo, role=database.OPERATOR_ROLE) as conn:
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(statement)


def test_a_login_that_may_not_create_roles_still_migrates_and_the_pages_stay_closed(
        pg_admin_conninfo, caplog, monkeypatch):
    """The role exists on the server (the template's migration made it) but this owner may not
    grant it to itself: `db init` warns and succeeds, the pages refuse with what to ask a DBA."""
    login, dbname = f"owner_{uuid.uuid4().hex[:8]}", f"edfi_sync_owner_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(pg_admin_conninfo, autocommit=True) as admin:
        admin.execute(pgsql.SQL("CREATE ROLE {} LOGIN NOCREATEROLE").format(pgsql.Identifier(login)))
        admin.execute(pgsql.SQL("CREATE DATABASE {} OWNER {}").format(pgsql.Identifier(dbname),
                                                                      pgsql.Identifier(login)))
    owner = make_conninfo(pg_admin_conninfo, dbname=dbname, user=login)
    try:
        with caplog.at_level(logging.WARNING, logger="edfi_sync.db"):
            db.init_schema(owner)
        assert db.schema_version(owner) == db.migrations()[-1].version
        assert any(f"GRANT edfi_sync_reader TO {login}" in r.getMessage() for r in caplog.records)
        with pytest.raises(database.PagesUnavailable, match="A database administrator runs: CREATE ROLE"):
            database.connect_now(owner)
        # once a DBA grants the role, `db init` again opens the pages
        with psycopg.connect(pg_admin_conninfo, autocommit=True) as admin:
            admin.execute(pgsql.SQL("GRANT edfi_sync_reader TO {}").format(pgsql.Identifier(login)))
        db.init_schema(owner)
        with database.connect(owner) as conn:
            assert conn.execute("SELECT count(*) FROM edfi_sync.error_log").fetchone() == (0,)
    finally:
        drop_database(pg_admin_conninfo, dbname)
        with psycopg.connect(pg_admin_conninfo, autocommit=True) as admin:
            admin.execute(pgsql.SQL("DROP ROLE IF EXISTS {}").format(pgsql.Identifier(login)))
