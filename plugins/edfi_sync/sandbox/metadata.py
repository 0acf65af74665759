"""Discovery documents: version info, the metadata index, Swagger 2.0 and the dependency order."""

from __future__ import annotations

from .contract import Contract, Node, Resource, pascal, singular

_VERSIONS = {
    "5.3": {"version": "5.3", "informationalVersion": "5.3", "suite": "3", "build": "5.3.1446.0"},
    "7.3": {"version": "7.3", "informationalVersion": "7.3", "suite": "3", "build": "7.3.10341.0"},
}


def version_info(base: str, api_version: str) -> dict:
    return {
        **_VERSIONS[api_version],
        "apiMode": "Sandbox",
        "dataModels": [{"name": "Ed-Fi", "version": "4.0.0", "informationalVersion": "The Ed-Fi Data Standard v4.0"}],
        "urls": {
            "dependencies": f"{base}/metadata/data/v3/dependencies",
            "openApiMetadata": f"{base}/metadata/",
            "oauth": f"{base}/oauth/token",
            "dataManagementApi": f"{base}/data/v3/",
            "xsdMetadata": f"{base}/metadata/xsd",
        },
    }


def metadata_index(base: str, year: str | None) -> list[dict]:
    prefix = f"{base}/metadata/data/v3/" + (f"{year}/" if year else "")
    return [
        {"name": "Resources", "endpointUri": f"{prefix}resources/swagger.json", "prefix": ""},
        {"name": "Descriptors", "endpointUri": f"{prefix}descriptors/swagger.json", "prefix": ""},
    ]


_TYPES = {"string": ("string", None), "descriptor": ("string", None), "date": ("string", "date"),
          "integer": ("integer", "int32"), "number": ("number", "double"), "boolean": ("boolean", None)}


def swagger(contract: Contract, base: str, year: str | None, descriptors: bool) -> dict:
    """A Swagger 2.0 document for the resources (or the descriptors), generated from the schemas."""
    resources = [r for r in contract.resources.values() if r.is_descriptor == descriptors]
    definitions: dict[str, dict] = {}
    paths: dict[str, dict] = {}
    for resource in resources:
        name = _definition_name(resource.name)
        identity = {path[0] for path in resource.key_paths}
        definitions[name] = _object_definition(resource.nodes, name, definitions, identity)
        if resource.surrogate_id:
            definitions[name]["properties"][resource.surrogate_id] = {"type": "integer", "format": "int32"}
        ref = {"$ref": f"#/definitions/{name}"}
        tag = [resource.name]
        paths[f"/ed-fi/{resource.name}"] = {
            "get": _operation(tag, f"get{pascal(resource.name)}", "Retrieves resources with paging and filters.",
                              {"type": "array", "items": ref}, list_params=True, resource=resource),
            **({} if resource.read_only else {"post": _operation(
                tag, f"post{pascal(singular(resource.name))}", "Creates or updates a resource by its natural key.",
                None, body=ref)}),
        }
        item = {"get": _operation(tag, f"get{pascal(resource.name)}ById", "Retrieves a resource by id.", ref, by_id=True)}
        if not resource.read_only:
            item["put"] = _operation(tag, f"put{pascal(singular(resource.name))}", "Updates a resource by id.",
                                     None, body=ref, by_id=True)
            item["delete"] = _operation(tag, f"delete{pascal(singular(resource.name))}ById", "Deletes a resource by id.",
                                        None, by_id=True)
        paths[f"/ed-fi/{resource.name}/{{id}}"] = item
    return {
        "swagger": "2.0",
        "basePath": "/data/v3" + (f"/{year}" if year else ""),
        "consumes": ["application/json"],
        "produces": ["application/json"],
        "info": {"title": "Ed-Fi Sandbox " + ("Descriptors" if descriptors else "Resources"),
                 "version": "3", "description": "Ed-Fi ODS/API sandbox (edfi-sync), Data Standard 4.0"},
        "securityDefinitions": {"oauth2_client_credentials": {
            "type": "oauth2", "description": "Ed-Fi ODS/API OAuth 2.0 Client Credentials Grant Type authorization",
            "flow": "application", "tokenUrl": f"{base}/oauth/token", "scopes": {}}},
        "security": [{"oauth2_client_credentials": []}],
        "tags": [{"name": r.name, "description": f"{pascal(singular(r.name))} items"} for r in resources],
        "paths": paths,
        "definitions": definitions,
    }


def _definition_name(resource_name: str) -> str:
    return f"edFi_{singular(resource_name)}"


def _object_definition(nodes: tuple[Node, ...], name: str, definitions: dict, identity=frozenset()) -> dict:
    """``identity``: the members marked ``x-Ed-Fi-isIdentity``, as the ODS does (lightbeam reads them)."""
    properties: dict[str, dict] = {"id": {"type": "string", "description": "The item id."}} if name.count("_") == 1 else {}
    for node in nodes:
        properties[node.name] = _property(node, name, definitions)
        if node.name in identity and "$ref" not in properties[node.name]:   # a $ref takes no siblings
            properties[node.name] = {**properties[node.name], "x-Ed-Fi-isIdentity": True}
    if name.count("_") == 1:
        properties["_etag"] = {"type": "string", "description": "A unique system-generated value for the item."}
    definition: dict = {"type": "object", "properties": properties}
    required = [node.name for node in nodes if node.required]
    if required:
        definition["required"] = required
    return definition


def _property(node: Node, parent: str, definitions: dict) -> dict:
    if node.kind in _TYPES:
        kind, fmt = _TYPES[node.kind]
        prop: dict = {"type": kind}
        if fmt:
            prop["format"] = fmt
        if node.max_length:
            prop["maxLength"] = node.max_length
        return prop
    if node.kind == "object":
        name = f"edFi_{node.name}" if node.reference else f"{parent}{pascal(node.name)}"
        identity = {child.name for child in node.children} if node.reference else frozenset()
        definitions.setdefault(name, _object_definition(node.children, name, definitions, identity))
        return {"$ref": f"#/definitions/{name}"}
    if node.kind == "array":
        name = f"{parent}{pascal(singular(node.name))}"
        definitions.setdefault(name, _object_definition(node.children, name, definitions))
        return {"type": "array", "items": {"$ref": f"#/definitions/{name}"}}
    return {"type": "object"}


def _operation(tags, operation_id: str, summary: str, schema, *, body=None, by_id=False, list_params=False,
               resource: Resource | None = None) -> dict:
    parameters: list[dict] = []
    if by_id:
        parameters.append({"name": "id", "in": "path", "required": True, "type": "string"})
    if list_params:
        parameters += [
            {"name": "offset", "in": "query", "type": "integer", "format": "int32", "required": False},
            {"name": "limit", "in": "query", "type": "integer", "format": "int32", "required": False,
             "minimum": 0, "maximum": 500},
            {"name": "totalCount", "in": "query", "type": "boolean", "required": False},
        ]
        parameters += [{"name": query_name, "in": "query", "type": _TYPES.get(kind, ("string", None))[0],
                        "required": False} for query_name, _, kind in resource.filters.values()]
    if body is not None:
        parameters.append({"name": "body", "in": "body", "required": True, "schema": body})
    responses: dict = {"200": {"description": "OK", **({"schema": schema} if schema else {})},
                       "400": {"description": "Bad Request"}, "401": {"description": "Unauthorized"},
                       "403": {"description": "Forbidden"}, "404": {"description": "Not Found"},
                       "409": {"description": "Conflict"}, "500": {"description": "Error"}}
    return {"tags": tags, "operationId": operation_id, "summary": summary, "parameters": parameters,
            "responses": responses}

