"""edfi-api-client (PyPI, unmodified) reads from and writes to the sandbox."""

from __future__ import annotations

import json

import pytest

from edfi_sync.sandbox.testing import run_sandbox

pytestmark = pytest.mark.e2e


def test_edfi_api_client_reads_and_writes(sandbox_db):
    from edfi_api_client import EdFiClient

    with run_sandbox(database_url=sandbox_db) as sandbox:
        client = EdFiClient(sandbox.base_url, sandbox.key, sandbox.secret)
        assert client.api_mode == "sandbox"
        assert client.get_ods_version() == "5.3"
        assert client.get_data_model_version() == "4.0.0"
        assert "students" in [name for _, name in client.resources]
        assert "gradeLevelDescriptors" in [name for _, name in client.descriptors]

        students = client.resource("students")
        for n in range(7):
            response = client.session.post_response(students.url, data={
                "studentUniqueId": f"S{n}", "firstName": "Ana", "lastSurname": "Lopez", "birthDate": "2010-05-04"})
            assert response.status_code == 201, response.text
        assert students.get_total_count() == 7
        rows = list(students.get_rows(page_size=3))
        assert sorted(row["studentUniqueId"] for row in rows) == [f"S{n}" for n in range(7)]
        one = students.get_by_id(rows[0]["id"])
        assert one["firstName"] == "Ana"

        response = client.session.put_response(students.url, one["id"],
                                               {**{k: v for k, v in one.items() if k != "_etag"}, "firstName": "Eva"})
        assert response.status_code == 204
        assert students.get_by_id(one["id"])["firstName"] == "Eva"

        grades = client.descriptor("gradeLevelDescriptors")
        codes = {row["codeValue"] for row in grades.get_rows(page_size=10)}
        assert "Ninth grade" in codes and len(codes) == 26

        response = client.session.delete_response(students.url, one["id"])
        assert response.status_code == 204
        assert students.get_total_count() == 6

        info = client.get_token_info()
        assert info["active"] is True and info["client_id"] == sandbox.key
        assert sandbox.secret not in json.dumps(info)


def test_edfi_api_client_pages_by_token_on_7_3():
    from edfi_api_client import EdFiClient

    with run_sandbox(api_version="7.3") as sandbox:
        for n in range(30):
            sandbox.insert_record("students", {"studentUniqueId": f"S{n}", "firstName": "Ana", "lastSurname": "Lopez",
                                               "birthDate": "2010-05-04"})
        client = EdFiClient(sandbox.base_url, sandbox.key, sandbox.secret)
        assert client.get_ods_version() == "7.3"
        rows = list(client.resource("students").get_rows(page_size=7))
        assert sorted(int(row["studentUniqueId"][1:]) for row in rows) == list(range(30))
