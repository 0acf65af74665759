"""Test fixtures: a real PostgreSQL for the whole session, a fresh database per test.

The server is the embedded one (in a private EDFI_SYNC_HOME, stopped at the end), or the
server of AIRFLOW_CONN_EDFI_SIS when that is set. Each test that asks for ``sis_db`` gets its
own database cloned from a migrated template, so tests never see each other's rows.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from pathlib import Path

import pytest

from databases import create_database, drop_database

_SESSION_DIR = Path(tempfile.mkdtemp(prefix="edfi-sync-tests-"))
# Airflow reads its configuration at import: settle it before any test imports airflow.
os.environ["AIRFLOW_HOME"] = str(_SESSION_DIR / "airflow")
os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
os.environ["AIRFLOW__CORE__UNIT_TEST_MODE"] = "True"
# The repository's folders, as docker-compose mounts them (the plugin registers the timetable).
os.environ["AIRFLOW__CORE__DAGS_FOLDER"] = str(Path(__file__).resolve().parents[1] / "dags")
os.environ["AIRFLOW__CORE__PLUGINS_FOLDER"] = str(Path(__file__).resolve().parents[1] / "plugins")
_USER_SIS_CONN = os.environ.pop("AIRFLOW_CONN_EDFI_SIS", None)
os.environ["EDFI_SYNC_HOME"] = str(_SESSION_DIR / "home")

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def pg_admin_conninfo():
    """conninfo of a maintenance database on the session's PostgreSQL server."""
    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    from edfi_sync import embedded
    from edfi_sync.connections import parse_connection, postgres_conninfo

    if _USER_SIS_CONN:
        params = conninfo_to_dict(postgres_conninfo(parse_connection("edfi_sis", _USER_SIS_CONN)))
        params["dbname"] = "postgres"
        yield make_conninfo(**params)
        return
    home = _SESSION_DIR / "home"
    home.mkdir(parents=True, exist_ok=True)
    yield embedded.conninfo("postgres", home)
    embedded.stop(home)
    shutil.rmtree(_SESSION_DIR, ignore_errors=True)


@pytest.fixture(scope="session")
def migrated_template(pg_admin_conninfo):
    """A database with `edfi-sync db init` applied, used as the template of every test database."""
    from edfi_sync import db

    name = f"edfi_sync_tmpl_{uuid.uuid4().hex[:8]}"
    conninfo = create_database(pg_admin_conninfo, name)
    db.init_schema(conninfo)
    yield name
    drop_database(pg_admin_conninfo, name)


@pytest.fixture
def sis_db(pg_admin_conninfo, migrated_template, monkeypatch):
    """A fresh, migrated database; AIRFLOW_CONN_EDFI_SIS points at it for the test (and its subprocesses)."""
    from edfi_sync.connections import postgres_airflow_json

    name = f"edfi_sync_test_{uuid.uuid4().hex[:10]}"
    conninfo = create_database(pg_admin_conninfo, name, template=migrated_template)
    monkeypatch.setenv("AIRFLOW_CONN_EDFI_SIS", postgres_airflow_json(conninfo))
    yield conninfo
    drop_database(pg_admin_conninfo, name)


@pytest.fixture
def small_sis(sis_db):
    """sis_db loaded with tests/fixtures/sync_small.sql (the engine tests' district)."""
    import psycopg

    with psycopg.connect(sis_db) as conn:
        conn.execute((REPO / "tests" / "fixtures" / "sync_small.sql").read_text())
    return sis_db


@pytest.fixture
def empty_db(pg_admin_conninfo, monkeypatch):
    """A fresh database with no schema at all (for migration tests)."""
    from edfi_sync.connections import postgres_airflow_json

    name = f"edfi_sync_empty_{uuid.uuid4().hex[:10]}"
    conninfo = create_database(pg_admin_conninfo, name)
    monkeypatch.setenv("AIRFLOW_CONN_EDFI_SIS", postgres_airflow_json(conninfo))
    yield conninfo
    drop_database(pg_admin_conninfo, name)


@pytest.fixture
def sandbox(monkeypatch):
    """The Ed-Fi sandbox (in memory) on a free 127.0.0.1 port; AIRFLOW_CONN_EDFI_API points at it."""
    import json

    from edfi_sync.sandbox.testing import run_sandbox

    with run_sandbox() as server:
        monkeypatch.setenv("AIRFLOW_CONN_EDFI_API", json.dumps({
            "conn_type": "http", "host": server.base_url, "login": server.key, "password": server.secret,
            "extra": {"max_in_flight": 8}}))
        yield server


@pytest.fixture(scope="session")
def live_airflow(pg_admin_conninfo, migrated_template, tmp_path_factory):
    """One real Airflow for the session (tests/live_airflow.py): modules call ``load(...)`` first."""
    from live_airflow import start_live_airflow

    with start_live_airflow(pg_admin_conninfo, migrated_template, tmp_path_factory.mktemp("live"),
                            uuid.uuid4().hex[:8]) as airflow:
        yield airflow


@pytest.fixture(scope="session")
def reliability_tally():
    """What the reliability tests injected, survived and compared (tests/reliability.py); `make soak`
    prints it at its end."""
    from reliability import Tally

    return Tally()


def pytest_configure(config):
    config.addinivalue_line("markers", "soak: the reliability soak; runs only with SOAK_MINUTES set (make soak)")


def pytest_collection_finish(session):
    """A worker of `make test` refuses to run when pytest-xdist did not apply the groups: it would
    split modules and start a live Airflow per worker, as it silently did with pytest 9.2."""
    config = session.config
    if os.environ.get("PYTEST_XDIST_WORKER") and config.getvalue("loadgroup") and session.items:
        if "@" not in session.items[0].nodeid:
            raise pytest.UsageError(f"pytest-xdist's --dist loadgroup did not group the tests (pytest "
                                    f"{pytest.__version__}): pin the pytest of pyproject.toml")


@pytest.hookimpl(tryfirst=True)  # before pytest-xdist reads the groups
def pytest_collection_modifyitems(config, items):
    """The soak (tests/test_soak.py) runs only when SOAK_MINUTES asks for it (`make soak`).

    With pytest-xdist's ``--dist loadgroup`` (`make test`), a module's tests stay on one worker (its
    module-scoped fixtures run once), and every test of the session's one Airflow on the same worker.
    The longest groups are queued first (the live Airflow's, then the end-to-end modules; the Makefile
    passes --no-loadscope-reorder so xdist keeps this order): short unit modules then fill the gaps,
    instead of a long group starting last and running alone."""
    rank, group_of = {}, {}
    for item in items:
        group = "live_airflow" if "live_airflow" in item.fixturenames else item.nodeid.split("::")[0]
        item.add_marker(pytest.mark.xdist_group(group))
        group_of[item.nodeid] = group
        item_rank = 0 if group == "live_airflow" else 1 if item.get_closest_marker("e2e") else 2
        rank[group] = min(rank.get(group, 2), item_rank)
    items.sort(key=lambda item: rank[group_of[item.nodeid]])  # stable: a module keeps its order
    if os.environ.get("SOAK_MINUTES"):
        return
    soak = [item for item in items if item.get_closest_marker("soak")]
    if soak:
        config.hook.pytest_deselected(items=soak)
        items[:] = [item for item in items if not item.get_closest_marker("soak")]
