"""Fixtures: a sandbox served over real HTTP on 127.0.0.1, in memory or on a fresh PostgreSQL database."""

from __future__ import annotations

import uuid

import pytest

from databases import create_database, drop_database
from edfi_sync.sandbox.testing import run_sandbox

from .sandbox_helpers import Api, Samples


@pytest.fixture
def sandbox_db(pg_admin_conninfo):
    """conninfo of an empty database for one sandbox test."""
    name = f"edfi_sandbox_test_{uuid.uuid4().hex[:10]}"
    conninfo = create_database(pg_admin_conninfo, name)
    yield conninfo
    drop_database(pg_admin_conninfo, name)


@pytest.fixture(scope="session")
def _shared_sandbox():
    with run_sandbox() as handle:
        yield handle


@pytest.fixture
def sandbox(_shared_sandbox):
    """A default in-memory sandbox, emptied for each test (one server serves the whole session)."""
    _shared_sandbox.reset()
    return _shared_sandbox


@pytest.fixture(params=["memory", "postgres"])
def any_sandbox(request):
    """The core contract tests run on both storage kinds."""
    database_url = request.getfixturevalue("sandbox_db") if request.param == "postgres" else None
    with run_sandbox(database_url=database_url) as handle:
        yield handle


@pytest.fixture(scope="session")
def _shared_token(_shared_sandbox):
    # One token for the session, as a well-behaved client reuses it (the server caps live tokens at 15).
    return _shared_sandbox.token()


@pytest.fixture
def api(sandbox, _shared_token):
    client = Api(sandbox.base_url, sandbox.key, sandbox.secret, token=_shared_token)
    yield client
    client.close()


@pytest.fixture
def samples(api):
    return Samples(api)
