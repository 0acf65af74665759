"""Contract tests generated from include/edfi: every resource, every required field, every
descriptor and reference, key upsert, PUT, DELETE (404/409), paging and filters.

Expected statuses and texts are those of shared/edfi-api/CONTRACT.md for ODS/API 5.3.
"""

from __future__ import annotations

import pytest

from .sandbox_helpers import (CONTRACT, DATA_RESOURCES, DESCRIPTOR_RESOURCES, Api, Samples, changed,
                             target_resource)

ALL_RESOURCES = DATA_RESOURCES + DESCRIPTOR_RESOURCES


def _pairs(select):
    return [pytest.param(name, node.name, id=f"{name}.{node.name}")
            for name in ALL_RESOURCES for node in CONTRACT.resources[name].nodes if select(node)]


REQUIRED = _pairs(lambda node: node.required)
DESCRIPTORS = _pairs(lambda node: node.kind == "descriptor")
REFERENCES = _pairs(lambda node: node.reference is not None)
LENGTHS = _pairs(lambda node: node.kind == "string" and node.max_length)
INTEGERS = _pairs(lambda node: node.kind == "integer")
# (referenced resource, referencing resource) for every required reference: DELETE of the first is blocked.
DEPENDENCIES = sorted({(target_resource(node), name) for name in DATA_RESOURCES
                       for node in CONTRACT.resources[name].nodes
                       if node.reference is not None and node.required and target_resource(node)})


def node_of(resource: str, name: str):
    return next(node for node in CONTRACT.resources[resource].nodes if node.name == name)


@pytest.mark.parametrize("resource", DATA_RESOURCES)
def test_post_is_an_upsert_on_the_natural_key(any_sandbox, resource):
    api = Api(any_sandbox.base_url, any_sandbox.key, any_sandbox.secret)
    samples = Samples(api)
    body = samples.body(resource)
    first = api.post(resource, body)
    assert first.status_code == 201, first.text
    record_id = first.headers["location"].rsplit("/", 1)[-1]
    assert len(record_id) == 32 and first.headers["etag"]
    fetched = api.get(resource, record_id)
    assert fetched.status_code == 200
    document = fetched.json()
    assert document["id"] == record_id and document["_etag"] == first.headers["etag"].strip('"')
    assert {k: v for k, v in document.items() if k not in ("id", "_etag")} == body

    again = api.post(resource, changed(CONTRACT.resources[resource], body))
    assert again.status_code == 200, again.text
    assert again.headers["location"] == first.headers["location"]
    assert again.headers["etag"] != first.headers["etag"]
    assert [r["id"] for r in any_sandbox.records(resource)] == [record_id]


@pytest.mark.parametrize("resource", DESCRIPTOR_RESOURCES)
def test_descriptor_resources_accept_post(api, samples, resource):
    body = samples.body(resource)
    response = api.post(resource, body)
    assert response.status_code == 201, response.text
    uri = f"{body['namespace']}#{body['codeValue']}"
    found = api.get(resource, namespace=body["namespace"], codeValue=body["codeValue"]).json()
    assert [f"{d['namespace']}#{d['codeValue']}" for d in found] == [uri]


def test_descriptor_ids_are_assigned_by_the_server(api, samples):
    body = samples.body("termDescriptors")
    record_id = api.create("termDescriptors", body)
    document = api.get("termDescriptors", record_id).json()
    assert isinstance(document["termDescriptorId"], int)
    response = api.post("termDescriptors", {**body, "termDescriptorId": 5})
    assert response.status_code == 400
    assert response.json() == {"message": "Value for the auto-assigned identifier property 'DescriptorId' cannot be "
                                          "assigned by the client."}
    assert api.put("termDescriptors", record_id, {**body, "termDescriptorId": document["termDescriptorId"],
                                                  "shortDescription": "Other"}).status_code == 204


@pytest.mark.parametrize("resource,field", REQUIRED)
def test_required_field_missing(api, samples, resource, field):
    body = samples.body(resource)
    del body[field]
    response = api.post(resource, body)
    assert response.status_code == 400
    label = field[:1].upper() + field[1:]
    assert response.json() == {"message": "The request is invalid.",
                               "modelState": {f"request.{label}": [f"The {label} field is required."]}}


@pytest.mark.parametrize("resource,field", DESCRIPTORS)
def test_unknown_descriptor_value(api, samples, resource, field):
    node = node_of(resource, field)
    descriptor = node.descriptor[:1].upper() + node.descriptor[1:-1]
    uri = f"uri://ed-fi.org/{descriptor}#Not A Value"
    response = api.post(resource, {**samples.body(resource), field: uri})
    assert response.status_code == 400
    assert response.json() == {"message": f"Unable to resolve value '{uri}' to an existing '{descriptor}' resource."}


@pytest.mark.parametrize("resource,field", REFERENCES)
def test_unresolved_reference(api, samples, resource, field):
    node = node_of(resource, field)
    bogus = {child.name: (987_654_321 if child.kind == "integer" else "Missing")
             for child in node.children}
    if node.reference.space == "schoolYearTypes":
        bogus = {"schoolYear": 1850}
    for child in node.children:
        if child.kind == "descriptor":
            bogus[child.name] = samples.body(resource).get(field, {}).get(child.name) or \
                "uri://ed-fi.org/ProgramTypeDescriptor#Athletics"
    response = api.post(resource, {**samples.body(resource), field: bogus})
    assert response.status_code == 400, response.text
    entity = CONTRACT.resources[resource].entity
    assert response.json() == {
        "message": f"Validation of '{entity}' failed.\n\t{node.reference.label} reference could not be resolved.\n"}


@pytest.mark.parametrize("resource", ALL_RESOURCES)
def test_client_assigned_id_is_refused(api, samples, resource):
    response = api.post(resource, {**samples.body(resource), "id": "0" * 32})
    assert response.status_code == 400
    assert response.json() == {"message": "Resource identifiers cannot be assigned by the client."}


@pytest.mark.parametrize("resource,field", LENGTHS)
def test_string_too_long(api, samples, resource, field):
    node = node_of(resource, field)
    response = api.post(resource, {**samples.body(resource), field: "x" * (node.max_length + 1)})
    assert response.status_code == 400
    state = response.json()["modelState"]
    assert state == {f"request.{node.label}": [
        f"The field {node.label} must be a string with a maximum length of {node.max_length}."]}


@pytest.mark.parametrize("resource,field", INTEGERS)
def test_wrong_type(api, samples, resource, field):
    response = api.post(resource, {**samples.body(resource), field: "not a number"})
    assert response.status_code == 400
    assert response.json()["message"] == "The request is invalid."
    assert list(response.json()["modelState"]) == [f"request.{field[:1].upper() + field[1:]}"]


@pytest.mark.parametrize("resource", ALL_RESOURCES)
def test_missing_ids_are_404(api, samples, resource):
    missing = "f" * 32
    for response in (api.get(resource, missing), api.delete(resource, missing),
                     api.put(resource, missing, samples.body(resource))):
        assert response.status_code == 404
        assert response.json() == {"message": "Resource was not found."}


@pytest.mark.parametrize("resource", ALL_RESOURCES)
def test_put_and_delete(api, samples, resource):
    definition = CONTRACT.resources[resource]
    body = samples.body(resource)
    record_id = api.create(resource, body)
    response = api.put(resource, record_id, changed(definition, body))
    assert response.status_code == 204, response.text
    document = api.get(resource, record_id).json()
    document.pop(definition.surrogate_id, None)
    assert document == {"id": record_id, **changed(definition, body), "_etag": response.headers["etag"].strip('"')}
    assert api.delete(resource, record_id).status_code == 204
    assert api.get(resource, record_id).status_code == 404
    assert api.delete(resource, record_id).status_code == 404


@pytest.mark.parametrize("resource", ALL_RESOURCES)
def test_put_key_change(api, samples, resource):
    """Only studentSchoolAssociations let a PUT change the natural key (CONTRACT.md §6)."""
    definition = CONTRACT.resources[resource]
    record_id = api.create(resource, samples.body(resource, 1))
    other_key = samples.body(resource, 2)
    response = api.put(resource, record_id, other_key)
    if definition.key_change:
        assert response.status_code == 204
        assert definition.key_of(api.get(resource, record_id).json()) == definition.key_of(other_key)
    else:
        assert response.status_code == 400
        assert response.json() == {"message": f"Identifying values for the {definition.entity} data cannot be "
                                              "changed. Delete and recreate the item instead."}


@pytest.mark.parametrize("parent,child", DEPENDENCIES)
def test_delete_of_a_referenced_record_is_409(api, samples, parent, child):
    api.create(child, samples.body(child))
    parent_body = samples.created[(parent, 1)]
    definition = CONTRACT.resources[parent]
    parent_id = next(r["id"] for r in api.get(parent, limit=500).json()
                     if definition.key_of(r) == definition.key_of(parent_body))
    response = api.delete(parent, parent_id)
    assert response.status_code == 409
    message = response.json()["message"]
    assert message.startswith("The resource (or a subordinate entity of the resource) cannot be deleted because "
                              "it is a dependency of the '")
    assert message.endswith("' entity.")


@pytest.mark.parametrize("resource", DATA_RESOURCES)
def test_paging_total_count_and_filters(api, samples, resource):
    definition = CONTRACT.resources[resource]
    bodies = [samples.body(resource, n) for n in (1, 2, 3)]
    ids = [api.create(resource, body) for body in bodies]
    everything = api.get(resource, totalCount="true")
    assert everything.headers["total-count"] == "3"
    assert [r["id"] for r in everything.json()] == ids
    assert [r["id"] for r in api.get(resource, limit=2).json()] == ids[:2]
    assert [r["id"] for r in api.get(resource, offset=2, limit=2).json()] == ids[2:]
    assert api.get(resource, offset=3).json() == []
    counted = api.get(resource, limit=0, totalCount="true")
    assert counted.json() == [] and counted.headers["total-count"] == "3"
    # Each natural-key member is a filter (reference members by their own name).
    for query, path, _ in definition.filters.values():
        if path not in definition.key_paths:
            continue
        value = definition.value_at(bodies[1], path)
        found = api.get(resource, **{query: value}).json()
        assert ids[1] in [r["id"] for r in found], (query, value)
        assert all(definition.value_at(r, path) == value for r in found)


@pytest.mark.parametrize("limit", ["501", "-1", "abc"])
def test_limit_out_of_range(api, limit):
    response = api.get("students", limit=limit)
    assert response.status_code == 400
    assert response.json() == {"message": "Limit must be omitted or set to a value between 1 and max value "
                                          "defined in configuration file (defaultPageSizeLimit)."}


def test_offset_must_not_be_negative(api):
    response = api.get("students", offset=-1)
    assert response.status_code == 400
    assert response.json() == {"message": "Offset must be greater than or equal to 0."}
