"""OAuth2 client credentials, the live-token cap, and relationship-based authorization (403)."""

from __future__ import annotations

import base64
import time

import httpx
import pytest

from edfi_sync.sandbox import Client
from edfi_sync.sandbox.testing import run_sandbox

from .sandbox_helpers import Api

DENIED = "Authorization denied.  The claim does not have any established relationships with the requested resource."
LEA, SCHOOL, OTHER_LEA, OTHER_SCHOOL = 255901, 255901001, 255902, 255902001
GRADE = "uri://ed-fi.org/GradeLevelDescriptor#Ninth grade"


def token_response(base_url: str, **kwargs) -> httpx.Response:
    return httpx.post(f"{base_url}/oauth/token", **kwargs)


def test_token_by_basic_auth_form_and_json(sandbox):
    grant = {"grant_type": "client_credentials"}
    basic = token_response(sandbox.base_url, data=grant, auth=(sandbox.key, sandbox.secret))
    form = token_response(sandbox.base_url, data={**grant, "client_id": sandbox.key, "client_secret": sandbox.secret})
    as_json = token_response(sandbox.base_url, json={**grant, "client_id": sandbox.key,
                                                     "client_secret": sandbox.secret})
    for response in (basic, form, as_json):
        assert response.status_code == 200
        body = response.json()
        assert body["token_type"] == "bearer" and body["expires_in"] == 1800 and len(body["access_token"]) == 32


@pytest.mark.parametrize("kwargs,status,error", [
    ({"data": {"grant_type": "client_credentials"}, "auth": ("sandbox", "wrong")}, 401, "invalid_client"),
    ({"data": {"grant_type": "client_credentials"}, "auth": ("nobody", "sandbox-secret")}, 401, "invalid_client"),
    ({"data": {"grant_type": "password"}, "auth": ("sandbox", "sandbox-secret")}, 400, "unsupported_grant_type"),
    ({"data": {}, "auth": ("sandbox", "sandbox-secret")}, 400, "invalid_request"),
    ({"data": {"grant_type": "client_credentials"}, "headers": {"Authorization": "Digest abc"}}, 401, "invalid_client"),
])
def test_token_errors(sandbox, kwargs, status, error):
    response = token_response(sandbox.base_url, **kwargs)
    assert response.status_code == status
    assert response.json() == {"error": error}
    assert sandbox.secret not in response.text


@pytest.mark.parametrize("authorization", [None, "Bearer not-a-token", "Basic c2FuZGJveDpzYW5kYm94LXNlY3JldA=="])
def test_data_requests_need_a_valid_bearer_token(sandbox, authorization):
    headers = {"Authorization": authorization} if authorization else {}
    response = httpx.get(f"{sandbox.base_url}/data/v3/ed-fi/students", headers=headers)
    assert response.status_code == 401


def test_expired_token_is_401_and_a_new_one_works():
    with run_sandbox(token_lifetime=1) as sandbox:
        api = Api(sandbox.base_url, sandbox.key, sandbox.secret)
        assert api.get("students").status_code == 200
        time.sleep(1.2)
        assert api.get("students").status_code == 401
        assert Api(sandbox.base_url, sandbox.key, sandbox.secret).get("students").status_code == 200
        sandbox.expire_tokens()
        assert api.get("students").status_code == 401


def test_live_tokens_per_client_are_capped():
    with run_sandbox(max_tokens=3, token_lifetime=2) as sandbox:
        tokens = [sandbox.token() for _ in range(3)]
        refused = token_response(sandbox.base_url, data={"grant_type": "client_credentials"},
                                 auth=(sandbox.key, sandbox.secret))
        assert refused.status_code == 429
        assert refused.json()["error"] == "invalid_request"
        assert 1 <= int(refused.headers["retry-after"]) <= 2
        # The tokens already issued keep working; once they expire a new one is granted.
        assert Api(sandbox.base_url, "", "", token=tokens[0]).get("students").status_code == 200
        time.sleep(2.1)
        assert sandbox.token()


def test_token_info_names_the_client_and_its_claims():
    with run_sandbox(claims=[LEA]) as sandbox:
        token = sandbox.token()
        response = httpx.post(f"{sandbox.base_url}/oauth/token_info", data={"token": token},
                              headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 200
        info = response.json()
        assert info["active"] and info["client_id"] == sandbox.key
        assert info["education_organizations"] == [{"education_organization_id": LEA}]


# ---- relationship-based authorization ----------------------------------------------------------------------
@pytest.fixture
def district():
    """An unrestricted 'state' client that loads the organizations, and a district client claimed on one LEA."""
    clients = [Client.make("district", "district-secret", [LEA]), Client.make("state", "state-secret")]
    with run_sandbox(clients=clients) as sandbox:
        state = Api(sandbox.base_url, "state", "state-secret")
        for lea in (LEA, OTHER_LEA):
            state.create("localEducationAgencies", {
                "localEducationAgencyId": lea, "nameOfInstitution": f"LEA {lea}",
                "localEducationAgencyCategoryDescriptor": "uri://ed-fi.org/LocalEducationAgencyCategoryDescriptor#Independent",
                "categories": [{"educationOrganizationCategoryDescriptor":
                                "uri://ed-fi.org/EducationOrganizationCategoryDescriptor#Local Education Agency"}]})
            state.create("schools", {
                "schoolId": lea * 1000 + 1, "nameOfInstitution": f"School {lea}", "localEducationAgencyReference":
                {"localEducationAgencyId": lea},
                "educationOrganizationCategories": [{"educationOrganizationCategoryDescriptor":
                                                     "uri://ed-fi.org/EducationOrganizationCategoryDescriptor#School"}],
                "gradeLevels": [{"gradeLevelDescriptor": GRADE}]})
        yield Api(sandbox.base_url, "district", "district-secret"), state


def student(unique_id: str) -> dict:
    return {"studentUniqueId": unique_id, "firstName": "Ana", "lastSurname": "Lopez", "birthDate": "2010-05-04"}


def ssa(unique_id: str, school: int) -> dict:
    return {"studentReference": {"studentUniqueId": unique_id}, "schoolReference": {"schoolId": school},
            "entryDate": "2024-08-15", "entryGradeLevelDescriptor": GRADE}


def test_student_needs_a_school_association_within_the_claims(district):
    api, _ = district
    created = api.post("students", student("S1"))
    assert created.status_code == 201   # creating a student needs no relationship (dependency order 3)
    student_id = created.headers["location"].rsplit("/", 1)[-1]
    for response in (api.post("students", {**student("S1"), "firstName": "Eva"}), api.get("students", student_id),
                     api.delete("students", student_id)):
        assert response.status_code == 403
        assert response.json() == {"message": DENIED}
    assert api.get("students").json() == []
    assert api.post("studentSchoolAssociations", ssa("S1", SCHOOL)).status_code == 201
    assert api.post("students", {**student("S1"), "firstName": "Eva"}).status_code == 200   # order 14: update
    assert [s["studentUniqueId"] for s in api.get("students").json()] == ["S1"]


def test_records_outside_the_claims_are_403(district):
    api, state = district
    state.create("students", student("S2"))
    denied = api.post("studentSchoolAssociations", ssa("S2", OTHER_SCHOOL))
    assert denied.status_code == 403 and denied.json() == {"message": DENIED}
    state.create("studentSchoolAssociations", ssa("S2", OTHER_SCHOOL))
    program = {"educationOrganizationReference": {"educationOrganizationId": LEA}, "programName": "CTE",
               "programTypeDescriptor": "uri://ed-fi.org/ProgramTypeDescriptor#Career and Technical Education"}
    assert api.post("programs", program).status_code == 201
    association = {"beginDate": "2024-08-15", "educationOrganizationReference": {"educationOrganizationId": LEA},
                   "programReference": {"educationOrganizationId": LEA, "programName": "CTE",
                                        "programTypeDescriptor": program["programTypeDescriptor"]},
                   "studentReference": {"studentUniqueId": "S2"}}
    assert api.post("studentCTEProgramAssociations", association).status_code == 403
    assert api.post("programs", {**program, "educationOrganizationReference":
                                 {"educationOrganizationId": OTHER_LEA}}).status_code == 403
    other_lea = {k: v for k, v in state.get("localEducationAgencies").json()[1].items() if k not in ("id", "_etag")}
    assert api.post("localEducationAgencies", other_lea).json() == {"message": DENIED}
    # Descriptors carry no education organization: any client may read them.
    assert api.get("gradeLevelDescriptors", limit=1).status_code == 200


def test_claims_on_an_lea_reach_its_schools(district):
    api, _ = district
    api.create("students", student("S3"))
    assert api.post("studentSchoolAssociations", ssa("S3", SCHOOL)).status_code == 201
    assert [s["schoolId"] for s in api.get("schools").json()] == [SCHOOL]


def test_basic_header_is_read_for_tokens(sandbox):
    credentials = base64.b64encode(f"{sandbox.key}:{sandbox.secret}".encode()).decode()
    response = token_response(sandbox.base_url, data={"grant_type": "CLIENT_CREDENTIALS"},
                              headers={"Authorization": f"Basic {credentials}"})
    assert response.status_code == 200
