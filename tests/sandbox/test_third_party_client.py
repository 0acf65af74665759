"""Third-party Ed-Fi clients from PyPI, unmodified, read from and write to the sandbox:
edfi-api-client and lightbeam."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from edfi_sync.sandbox.testing import lightbeam_config, run_sandbox

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


def lightbeam(command: list[str], config) -> subprocess.CompletedProcess:
    result = subprocess.run([str(Path(sys.executable).parent / "lightbeam"), *command, "-c", str(config)],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    return result


def test_lightbeam_validates_sends_and_fetches(tmp_path):
    """lightbeam (PyPI, unmodified) reads the Swagger and dependencies, validates, sends in order, fetches."""
    grade = "uri://ed-fi.org/GradeLevelDescriptor#Ninth grade"
    files = {
        "localEducationAgencies": [{
            "localEducationAgencyId": 255901, "nameOfInstitution": "LEA",
            "localEducationAgencyCategoryDescriptor": "uri://ed-fi.org/LocalEducationAgencyCategoryDescriptor#Independent",
            "categories": [{"educationOrganizationCategoryDescriptor":
                            "uri://ed-fi.org/EducationOrganizationCategoryDescriptor#Local Education Agency"}]}],
        "schools": [{
            "schoolId": 255901001, "nameOfInstitution": "School", "localEducationAgencyReference": {"localEducationAgencyId": 255901},
            "educationOrganizationCategories": [{"educationOrganizationCategoryDescriptor":
                                                 "uri://ed-fi.org/EducationOrganizationCategoryDescriptor#School"}],
            "gradeLevels": [{"gradeLevelDescriptor": grade}]}],
        "students": [{"studentUniqueId": f"S{n}", "firstName": "Ana", "lastSurname": "Lopez", "birthDate": "2010-05-04"}
                     for n in range(5)],
        "studentSchoolAssociations": [{"studentReference": {"studentUniqueId": f"S{n}"}, "entryDate": "2024-08-15",
                                       "schoolReference": {"schoolId": 255901001}, "entryGradeLevelDescriptor": grade}
                                      for n in range(5)],
    }
    data, fetched = tmp_path / "data", tmp_path / "fetched"
    data.mkdir()
    fetched.mkdir()
    for name, rows in files.items():
        (data / f"{name}.jsonl").write_text("".join(json.dumps(row) + "\n" for row in rows))
    with run_sandbox() as sandbox:
        send_config = tmp_path / "send.yaml"
        send_config.write_text(lightbeam_config(sandbox, tmp_path / "state", data))
        result = lightbeam(["validate+send"], send_config)
        assert "VALIDATION ERROR" not in result.stderr
        for name, rows in files.items():
            assert len(sandbox.records(name)) == len(rows), name
        # Sent in dependency order: every SSA found its student and school.
        assert {r["status"] for r in sandbox.requests() if r["method"] == "POST" and "/data/" in r["path"]} == {201}

        fetch_config = tmp_path / "fetch.yaml"
        fetch_config.write_text(lightbeam_config(sandbox, tmp_path / "state2", fetched))
        lightbeam(["fetch", "-s", "students,studentSchoolAssociations"], fetch_config)
        students = [json.loads(line) for line in (fetched / "students.jsonl").read_text().splitlines()]
        assert sorted(s["studentUniqueId"] for s in students) == [f"S{n}" for n in range(5)]
        assert len((fetched / "studentSchoolAssociations.jsonl").read_text().splitlines()) == 5
