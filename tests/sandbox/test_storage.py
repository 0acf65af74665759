"""PostgreSQL storage: state survives a restart, --reset, one server per database, concurrent
writers, separate stores per school year, extra descriptor files."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

import psycopg
import pytest

from edfi_sync.sandbox.testing import run_sandbox

from .sandbox_helpers import Api


def student(n) -> dict:
    return {"studentUniqueId": f"S{n}", "firstName": "Ana", "lastSurname": "Lopez", "birthDate": "2010-05-04"}


def test_state_survives_a_restart(sandbox_db):
    with run_sandbox(database_url=sandbox_db) as sandbox:
        api = Api(sandbox.base_url, sandbox.key, sandbox.secret)
        record_id = api.create("students", student(1))
        api.create("programTypeDescriptors", {"namespace": "uri://nmped.org/ProgramTypeDescriptor",
                                              "codeValue": "X", "shortDescription": "X"})
        year_id = Api(sandbox.base_url, sandbox.key, sandbox.secret, school_year=2025).create("students", student(2))
        before = api.get("students", record_id).json()
    with run_sandbox(database_url=sandbox_db) as sandbox:
        api = Api(sandbox.base_url, sandbox.key, sandbox.secret)
        assert api.get("students", record_id).json() == before
        assert api.post("students", student(1)).status_code == 200   # same key, same id
        assert api.get("programTypeDescriptors", codeValue="X").json()[0]["namespace"] == "uri://nmped.org/ProgramTypeDescriptor"
        year = Api(sandbox.base_url, sandbox.key, sandbox.secret, school_year=2025)
        assert [s["id"] for s in year.get("students").json()] == [year_id]
        assert [s["studentUniqueId"] for s in api.get("students").json()] == ["S1"]
    with psycopg.connect(sandbox_db) as conn:
        rows = conn.execute("SELECT store, body->>'studentUniqueId' FROM edfi_sandbox.record "
                            "WHERE resource = 'students' ORDER BY store").fetchall()
    assert rows == [("", "S1"), ("2025", "S2")]


def test_reset_starts_empty(sandbox_db):
    with run_sandbox(database_url=sandbox_db) as sandbox:
        Api(sandbox.base_url, sandbox.key, sandbox.secret).create("students", student(1))
    with run_sandbox(database_url=sandbox_db, reset=True) as sandbox:
        api = Api(sandbox.base_url, sandbox.key, sandbox.secret)
        assert api.get("students").json() == []
        assert len(api.get("termDescriptors", limit=100).json()) == 16


def test_one_server_per_database(sandbox_db):
    with run_sandbox(database_url=sandbox_db):
        with pytest.raises(RuntimeError, match="another sandbox server is using this database"):
            with run_sandbox(database_url=sandbox_db):
                pass


@pytest.mark.e2e
@pytest.mark.parametrize("storage", ["memory", "postgres"])
def test_concurrent_writers(request, storage):
    database_url = request.getfixturevalue("sandbox_db") if storage == "postgres" else None
    with run_sandbox(database_url=database_url) as sandbox:
        token = sandbox.token()

        def write(worker: int) -> list[int]:
            api = Api(sandbox.base_url, "", "", token=token)
            codes = [api.post("students", student(f"{worker}-{n}")).status_code for n in range(60)]
            codes += [api.post("students", student(f"shared-{n}")).status_code for n in range(20)]
            return codes

        with ThreadPoolExecutor(8) as pool:
            codes = [code for result in pool.map(write, range(8)) for code in result]
        assert codes.count(201) == 8 * 60 + 20 and codes.count(200) == 7 * 20
        assert len(sandbox.records("students")) == 8 * 60 + 20
    if database_url:
        with psycopg.connect(database_url) as conn:
            count = conn.execute("SELECT count(*) FROM edfi_sandbox.record WHERE resource = 'students'").fetchone()[0]
        assert count == 8 * 60 + 20


def test_school_years_are_separate_stores(api, sandbox):
    y2025 = Api(sandbox.base_url, sandbox.key, sandbox.secret, school_year=2025)
    y2026 = Api(sandbox.base_url, sandbox.key, sandbox.secret, school_year=2026)
    y2025.create("students", student(1))
    assert api.get("students").json() == [] and y2026.get("students").json() == []
    ssa = {"studentReference": {"studentUniqueId": "S1"}, "schoolReference": {"schoolId": 1},
           "entryDate": "2024-08-15", "entryGradeLevelDescriptor": "uri://ed-fi.org/GradeLevelDescriptor#Ninth grade"}
    assert y2026.post("studentSchoolAssociations", ssa).json()["message"].endswith(
        "\tSchool reference could not be resolved.\n\tStudent reference could not be resolved.\n")
    assert len(y2026.get("gradeLevelDescriptors", limit=100).json()) == 26


def test_descriptor_files_add_values(tmp_path):
    extra = tmp_path / "local.json"
    extra.write_text(json.dumps([
        {"descriptor": "ExitWithdrawTypeDescriptor", "namespace": "uri://nmped.org/ExitWithdrawTypeDescriptor",
         "codeValue": "G", "shortDescription": "Graduated", "description": "Graduated with a diploma"},
        {"descriptor": "StudentCharacteristicDescriptor", "namespace": "uri://nmped.org/StudentCharacteristicDescriptor",
         "codeValue": "H", "shortDescription": "Homeless"},
    ]))
    with run_sandbox(descriptor_files=[extra]) as sandbox:
        api = Api(sandbox.base_url, sandbox.key, sandbox.secret)
        found = api.get("exitWithdrawTypeDescriptors", namespace="uri://nmped.org/ExitWithdrawTypeDescriptor").json()
        assert [(d["codeValue"], d["description"]) for d in found] == [("G", "Graduated with a diploma")]
        assert [d["codeValue"] for d in api.get("studentCharacteristicDescriptors").json()] == ["H"]
