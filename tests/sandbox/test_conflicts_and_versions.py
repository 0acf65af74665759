"""Natural-key conflicts, ETag preconditions, and the ODS/API 7.3 problem-details mode."""

from __future__ import annotations

import pytest

from edfi_sync.sandbox import Client
from edfi_sync.sandbox.testing import run_sandbox

from .sandbox_helpers import Api, Samples

GRADE = "uri://ed-fi.org/GradeLevelDescriptor#Ninth grade"


def test_program_associations_share_one_identity_space(api, samples):
    body = samples.body("studentProgramAssociations")
    api.create("studentProgramAssociations", body)
    response = api.post("studentCTEProgramAssociations", body)
    assert response.status_code == 409
    assert response.json()["message"].startswith(
        "A natural key conflict occurred when attempting to create a new resource 'StudentCTEProgramAssociation' "
        "with a duplicate key.")


def test_ssa_key_change_onto_an_existing_key_is_409(api, samples):
    first = samples.body("studentSchoolAssociations", 1)
    second = {**first, "entryDate": "2024-09-01"}
    first_id = api.create("studentSchoolAssociations", first)
    api.create("studentSchoolAssociations", second)
    response = api.put("studentSchoolAssociations", first_id, second)
    assert response.status_code == 409
    assert response.json()["message"].startswith(
        "A natural key conflict occurred when attempting to update a new resource with a duplicate key.")


def test_etag_preconditions(api, samples):
    body = samples.body("students")
    record_id = api.create("students", body)
    etag = api.get("students", record_id).headers["etag"]
    assert api.http.get(api.url("students", record_id), headers={"If-None-Match": etag}).status_code == 304
    assert api.put("students", record_id, {**body, "firstName": "Eva"}, headers={"If-Match": etag}).status_code == 204
    stale = api.put("students", record_id, body, headers={"If-Match": etag})
    assert stale.status_code == 412
    assert stale.json() == {"message": "Resource was modified by another consumer."}
    assert api.delete("students", record_id, headers={"If-Match": etag}).status_code == 412


def test_unchanged_post_keeps_the_etag(api, samples):
    body = samples.body("students")
    first = api.post("students", body)
    again = api.post("students", body)
    assert again.status_code == 200 and again.headers["etag"] == first.headers["etag"]


def test_malformed_json_is_400(api):
    response = api.http.post(api.url("students"), content=b"{not json", headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    assert response.json()["message"] == "The request is invalid."


def test_dates_are_normalised(api, samples):
    body = {**samples.body("students"), "birthDate": "2010-05-04T00:00:00"}
    record_id = api.create("students", body)
    assert api.get("students", record_id).json()["birthDate"] == "2010-05-04"
    assert api.post("students", {**body, "birthDate": "2010-02-30"}).status_code == 400


# ---- ODS/API 7.3: RFC 7807 problem details --------------------------------------------------------------
@pytest.fixture(scope="module")
def v73():
    clients = [Client.make("sandbox", "sandbox-secret"), Client.make("district", "district-secret", [1])]
    with run_sandbox(api_version="7.3", clients=clients) as sandbox:
        yield sandbox


def problem(response, status: int, kind: str) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["type"] == f"urn:ed-fi:api:{kind}" and body["status"] == status
    assert set(body) == {"detail", "type", "title", "status", "correlationId", "validationErrors", "errors"}
    return body


def test_problem_details(v73):
    api = Api(v73.base_url, v73.key, v73.secret)
    samples = Samples(api)
    assert api.http.get(v73.base_url + "/").json()["version"] == "7.3"

    body = problem(api.post("students", {"studentUniqueId": "S1"}), 400, "bad-request:data-validation-failed")
    assert body["title"] == "Data Validation Failed"
    assert body["detail"] == "Data validation failed. See 'validationErrors' for details."
    assert body["validationErrors"]["$.firstName"] == ["The FirstName field is required."]

    ssa = {"studentReference": {"studentUniqueId": "nobody"}, "schoolReference": {"schoolId": 9},
           "entryDate": "2024-08-15", "entryGradeLevelDescriptor": GRADE}
    body = problem(api.post("studentSchoolAssociations", ssa), 409, "data-conflict:unresolved-reference")
    assert body["title"] == "Unresolved Reference"
    assert body["detail"] == "The referenced 'School' item does not exist."

    uri = "uri://ed-fi.org/GradeLevelDescriptor#Nope"
    body = problem(api.post("studentSchoolAssociations", {**ssa, "entryGradeLevelDescriptor": uri}), 400,
                   "bad-request:data-validation-failed")
    assert body["validationErrors"] == {"$.entryGradeLevelDescriptor": [f"GradeLevelDescriptor value '{uri}' does not exist."]}

    child = samples.body("studentSchoolAssociations")
    api.create("studentSchoolAssociations", child)
    student_id = api.get("students").json()[0]["id"]
    body = problem(api.delete("students", student_id), 409, "data-conflict:dependent-item-exists")
    assert body["detail"] == "The requested action cannot be performed because this item is referenced by another item."

    problem(api.get("students", "0" * 32), 404, "not-found")
    record = api.get("students", student_id).json()
    assert record["_lastModifiedDate"].endswith("Z")
    changed_key = {k: v for k, v in record.items() if not k.startswith("_") and k != "id"} | {"studentUniqueId": "X"}
    body = problem(api.put("students", student_id, changed_key), 400,
                   "bad-request:data-validation-failed:key-change-not-supported")
    assert body["title"] == "Key Change Not Supported"

    body = problem(api.get("students", limit=501), 400, "bad-request:parameter-validation")
    assert body["errors"] == ["Limit must be omitted or set to a value between 1 and 500."]

    body = problem(api.get("students", pageToken="x", limit=5), 400, "bad-request:parameter-validation")
    assert body["errors"] == ["Both offset/limit and key set paging parameters are provided, but only one type of "
                              "paging can be used."]
    first = api.get("gradeLevelDescriptors")
    second = api.get("gradeLevelDescriptors", pageSize=20, pageToken=first.headers["next-page-token"])
    assert len(first.json()) == 25 and len(second.json()) == 1 and "next-page-token" not in second.headers

    district = Api(v73.base_url, "district", "district-secret")
    body = problem(district.get("students", student_id), 403, "security:authorization")
    assert body["title"] == "Authorization Denied"
    assert body["detail"] == ("Access to the requested data could not be authorized. Hint: You may need to create a "
                              "corresponding 'StudentSchoolAssociation' item.")
    assert body["errors"] == ["No relationships have been established between the caller's education organization "
                              "id claim ('1') and the resource item's 'StudentUniqueId' value."]


def test_descriptors_inside_untyped_collections_are_resolved(api, samples):
    body = samples.body("studentCTEProgramAssociations")
    good = {**body, "ctePrograms": [{"careerPathwayDescriptor": "uri://ed-fi.org/CareerPathwayDescriptor#Manufacturing",
                                     "cipCode": "48.0508", "primaryCTEProgramIndicator": True}]}
    assert api.post("studentCTEProgramAssociations", good).status_code == 201
    uri = "uri://ed-fi.org/CareerPathwayDescriptor#Underwater Welding"
    bad = {**body, "ctePrograms": [{"careerPathwayDescriptor": uri}]}
    response = api.post("studentCTEProgramAssociations", bad)
    assert response.status_code == 400
    assert response.json() == {"message": f"Unable to resolve value '{uri}' to an existing 'CareerPathwayDescriptor' resource."}


def test_nested_members_are_validated(api, samples):
    body = samples.body("studentSchoolAssociations")
    response = api.post("studentSchoolAssociations", {**body, "studentReference": {"studentUniqueId": "x" * 33}})
    assert response.status_code == 400
    assert response.json()["modelState"] == {"request.StudentReference.StudentUniqueId": [
        "The field StudentUniqueId must be a string with a maximum length of 32."]}
    response = api.post("schools", {**samples.body("schools"), "gradeLevels": []})
    assert response.json()["modelState"] == {"request.GradeLevels": ["GradeLevels must have at least 1 item(s)."]}


def test_filters_on_other_members(api, samples):
    first = samples.body("studentSchoolAssociations", 1)
    second = {**samples.body("studentSchoolAssociations", 2), "entryGradeLevelDescriptor":
              "uri://ed-fi.org/GradeLevelDescriptor#Tenth grade", "exitWithdrawDate": "2025-05-30"}
    first_id, second_id = api.create("studentSchoolAssociations", first), api.create("studentSchoolAssociations", second)

    def ids(**params):
        return [r["id"] for r in api.get("studentSchoolAssociations", **params).json()]

    assert ids(entryGradeLevelDescriptor="uri://ed-fi.org/GradeLevelDescriptor#Tenth grade") == [second_id]
    assert ids(exitWithdrawDate="2025-05-30") == [second_id]
    assert ids(schoolId=first["schoolReference"]["schoolId"]) == [first_id]
    assert ids(schoolId="not a number") == []
    assert ids(unknownParameter="x") == [first_id, second_id]   # unknown parameters are ignored
    api.create("students", {**samples.body("students", 9), "firstName": "Zoe"})
    assert [s["firstName"] for s in api.get("students", firstName="Zoe").json()] == ["Zoe"]


def test_members_the_model_lacks_are_ignored(api, samples):
    body = {**samples.body("studentSchoolAssociations"), "favoriteColor": "blue"}
    body["studentReference"] = {**body["studentReference"], "link": {"rel": "Student"}}
    record_id = api.create("studentSchoolAssociations", body)
    stored = api.get("studentSchoolAssociations", record_id).json()
    assert "favoriteColor" not in stored and stored["studentReference"] == {
        "studentUniqueId": body["studentReference"]["studentUniqueId"]}
    transcript = {**samples.body("courseTranscripts"), "responsibleTeacherStaffReference": {"staffUniqueId": "T1"}}
    transcript_id = api.create("courseTranscripts", transcript)
    assert api.get("courseTranscripts", transcript_id).json()["responsibleTeacherStaffReference"] == {"staffUniqueId": "T1"}
