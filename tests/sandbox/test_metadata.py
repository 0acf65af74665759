"""Discovery: version info, metadata index, Swagger generated from the schemas, dependency order; preloads."""

from __future__ import annotations

import json

import httpx

from edfi_sync.paths import INCLUDE_DIR

from .sandbox_helpers import CONTRACT, DATA_RESOURCES, DESCRIPTOR_RESOURCES


def get(sandbox, path: str):
    response = httpx.get(f"{sandbox.base_url}{path}")
    assert response.status_code == 200, path
    return response.json()


def test_version_info_and_urls(sandbox):
    info = get(sandbox, "/")
    assert info["version"] == "5.3" and info["dataModels"][0] == {
        "name": "Ed-Fi", "version": "4.0.0", "informationalVersion": "The Ed-Fi Data Standard v4.0"}
    base = sandbox.base_url
    assert info["urls"]["dataManagementApi"] == f"{base}/data/v3/"
    assert info["urls"]["oauth"] == f"{base}/oauth/token"
    assert info["urls"]["dependencies"] == f"{base}/metadata/data/v3/dependencies"
    assert info["urls"]["openApiMetadata"] == f"{base}/metadata/"
    sections = get(sandbox, "/metadata")
    assert [s["endpointUri"] for s in sections] == [f"{base}/metadata/data/v3/resources/swagger.json",
                                                   f"{base}/metadata/data/v3/descriptors/swagger.json"]


def test_swagger_documents_cover_every_resource(sandbox):
    resources = get(sandbox, "/metadata/data/v3/resources/swagger.json")
    assert resources["swagger"] == "2.0" and resources["basePath"] == "/data/v3"
    assert resources["securityDefinitions"]["oauth2_client_credentials"]["tokenUrl"] == f"{sandbox.base_url}/oauth/token"
    for name in DATA_RESOURCES:
        assert set(resources["paths"][f"/ed-fi/{name}"]) == {"get", "post"}
        assert set(resources["paths"][f"/ed-fi/{name}/{{id}}"]) == {"get", "put", "delete"}
    assert set(resources["paths"]["/ed-fi/schoolYearTypes"]) == {"get"}
    student = resources["definitions"]["edFi_student"]
    assert set(student["required"]) == {"studentUniqueId", "firstName", "lastSurname", "birthDate"}
    assert student["properties"]["studentUniqueId"] == {"type": "string", "maxLength": 32, "x-Ed-Fi-isIdentity": True}
    ssa = resources["definitions"]["edFi_studentSchoolAssociation"]
    assert ssa["properties"]["studentReference"] == {"$ref": "#/definitions/edFi_studentReference"}
    descriptors = get(sandbox, "/metadata/data/v3/descriptors/swagger.json")
    assert {path.split("/")[2] for path in descriptors["paths"]} == set(DESCRIPTOR_RESOURCES)
    year = get(sandbox, "/metadata/data/v3/2025/resources/swagger.json")
    assert year["basePath"] == "/data/v3/2025"


def test_dependencies_follow_the_official_order(sandbox):
    order = get(sandbox, "/metadata/data/v3/dependencies")
    official = json.loads((INCLUDE_DIR / "edfi" / "dependencies.json").read_text())
    served = {f"/ed-fi/{name}" for name in CONTRACT.resources}
    assert order == [entry for entry in official if entry["resource"] in served]
    students = [entry for entry in order if entry["resource"] == "/ed-fi/students"]
    assert students == [{"resource": "/ed-fi/students", "order": 3, "operations": ["Create"]},
                        {"resource": "/ed-fi/students", "order": 14, "operations": ["Update"]}]
    by_name = {entry["resource"]: entry["order"] for entry in order}
    assert by_name["/ed-fi/studentSchoolAssociations"] == 13 and by_name["/ed-fi/courseTranscripts"] == 18
    assert {f"/ed-fi/{name}" for name in DATA_RESOURCES} <= set(by_name)


def test_descriptors_and_school_years_are_preloaded(api):
    defaults = json.loads((INCLUDE_DIR / "edfi" / "descriptors.json").read_text())
    for name, data in defaults.items():
        if name.startswith("_"):
            continue
        resource = name[:1].lower() + name[1:] + "s"
        response = api.get(resource, limit=500, totalCount="true")
        assert response.headers["total-count"] == str(len(data["values"]) + (4 if name == "DiplomaTypeDescriptor" else 0))
    nm = api.get("diplomaTypeDescriptors", namespace="uri://nmped.org/DiplomaTypeDescriptor").json()
    assert sorted(d["codeValue"] for d in nm) == ["1", "2", "4", "6"]
    assert next(d for d in nm if d["codeValue"] == "1")["shortDescription"] == "Diploma of Excellence without ADC."
    years = api.get("schoolYearTypes", limit=500).json()
    assert [y["schoolYear"] for y in years] == list(range(1991, 2051))
    assert sum(y["currentSchoolYear"] for y in years) == 1
    assert api.post("schoolYearTypes", {"schoolYear": 2051, "schoolYearDescription": "x",
                                        "currentSchoolYear": False}).status_code == 405


def test_unknown_routes_are_404(sandbox, api):
    assert api.get("notAResource").status_code == 404
    assert httpx.get(f"{sandbox.base_url}/data/v3/1850/ed-fi/students").status_code == 404
    assert httpx.get(f"{sandbox.base_url}/nothing").status_code == 404
