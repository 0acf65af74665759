"""Test helpers: an authenticated API client, and sample bodies generated from the contract.

Samples hold only the required members; a required reference is satisfied by POSTing the
referenced record first (recursively), so any resource's sample can be sent to an empty sandbox.
"""

from __future__ import annotations

from datetime import date, timedelta

import httpx

from edfi_sync.sandbox.contract import EDORG_SPACE, Node, Resource, camel, load_contract, plural

CONTRACT = load_contract()
# The resources the issue lists (and that SPEC §2 syncs); descriptors are tested as a group.
DATA_RESOURCES = sorted(name for name, r in CONTRACT.resources.items() if not r.is_descriptor and not r.read_only)
DESCRIPTOR_RESOURCES = sorted(name for name, r in CONTRACT.resources.items() if r.is_descriptor)
SCHOOL_YEAR = 2025


class Api:
    """An Ed-Fi client of one sandbox: a token, JSON in and out, shared or year-specific routes."""

    def __init__(self, base_url: str, key: str, secret: str, school_year: int | None = None,
                 token: str | None = None):
        self.http = httpx.Client(base_url=base_url, timeout=30)
        if token is None:
            response = self.http.post("/oauth/token", data={"grant_type": "client_credentials"}, auth=(key, secret))
            response.raise_for_status()
            token = response.json()["access_token"]
        self.http.headers["Authorization"] = f"Bearer {token}"
        self.prefix = "/data/v3/" + (f"{school_year}/" if school_year else "") + "ed-fi/"

    def url(self, resource: str, record_id: str | None = None) -> str:
        return self.prefix + resource + (f"/{record_id}" if record_id else "")

    def post(self, resource: str, body: dict) -> httpx.Response:
        return self.http.post(self.url(resource), json=body)

    def put(self, resource: str, record_id: str, body: dict, **kwargs) -> httpx.Response:
        return self.http.put(self.url(resource, record_id), json=body, **kwargs)

    def get(self, resource: str, record_id: str | None = None, **params) -> httpx.Response:
        return self.http.get(self.url(resource, record_id), params=params)

    def delete(self, resource: str, record_id: str, **kwargs) -> httpx.Response:
        return self.http.delete(self.url(resource, record_id), **kwargs)

    def create(self, resource: str, body: dict) -> str:
        response = self.post(resource, body)
        assert response.status_code in (200, 201), (resource, response.status_code, response.text)
        return response.headers["location"].rsplit("/", 1)[-1]

    def close(self) -> None:
        self.http.close()


def first_descriptor(space: str) -> str:
    name = next(name for name, resource_name in CONTRACT.descriptor_names.items() if resource_name == space)
    row = next(row for row in CONTRACT.default_descriptors if row["descriptor"] == name)
    return f"{row['namespace']}#{row['codeValue']}"


def target_resource(node: Node) -> str | None:
    """The resource a sample creates to satisfy a reference (None: preloaded, e.g. school years)."""
    entity = node.reference.target_entity
    if node.reference.space == EDORG_SPACE and entity == "EducationOrganization":
        return "localEducationAgencies"
    name = camel(plural(entity))
    return None if CONTRACT.resources[name].read_only else name


class Samples:
    def __init__(self, api: Api):
        self.api = api
        self.created: dict[tuple[str, int], dict] = {}

    def body(self, resource_name: str, n: int = 1) -> dict:
        resource = CONTRACT.resources[resource_name]
        return self._object(resource, resource.nodes, n)

    def parent(self, resource_name: str, n: int) -> dict:
        """POST (once) sample ``n`` of a resource; returns its body."""
        if (resource_name, n) not in self.created:
            body = self.body(resource_name, n)
            self.api.create(resource_name, body)
            self.created[(resource_name, n)] = body
        return self.created[(resource_name, n)]

    def _object(self, resource: Resource, nodes: tuple[Node, ...], n: int) -> dict:
        return {node.name: self.value(resource, node, n) for node in nodes if node.required}

    def value(self, resource: Resource, node: Node, n: int):
        if node.kind == "object" and node.reference is not None:
            target = target_resource(node)
            if target is None:
                return {node.reference.leaves[0]: SCHOOL_YEAR}
            parent = CONTRACT.resources[target]
            key = parent.key_of(self.parent(target, n))
            return dict(zip(node.reference.leaves, key))
        if node.kind == "object":
            return self._object(resource, node.children, n)
        if node.kind == "array":
            return [self._object(resource, node.children, n)]
        if node.kind == "descriptor":
            return first_descriptor(node.descriptor)
        if node.kind == "date":
            return (date(2024, 8, 1) + timedelta(days=n)).isoformat()
        if node.kind == "integer":
            # Distinct id ranges per resource: LEAs and schools share one identity space.
            return 100_000 * (1 + sorted(CONTRACT.resources).index(resource.name)) + n
        if node.kind == "number":
            return 1.0
        if node.kind == "boolean":
            return True
        if resource.is_descriptor and node.name == "namespace":
            return f"uri://test.org/{resource.entity}"
        return f"{node.name[:3].upper()}{n}"[: node.max_length or 60]


def mutable_node(resource: Resource) -> Node:
    """A top-level scalar that is not part of the key, to change in update tests."""
    key_names = {path[0] for path in resource.key_paths}
    return next(node for node in resource.nodes
                if node.kind in _CHANGED and node.name not in key_names)


_CHANGED = {"string": "Changed", "number": 7.5, "date": "2030-06-30", "boolean": False}


def changed(resource: Resource, body: dict) -> dict:
    node = mutable_node(resource)
    return {**body, node.name: _CHANGED[node.kind]}
