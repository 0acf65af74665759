"""Error responses in the two shapes the ODS/API has used (shared/edfi-api/CONTRACT.md §5).

5.3: ``{"message": ...}`` or ``{"message": "The request is invalid.", "modelState": {...}}``.
7.3: RFC 7807 problem details, ``type`` = ``urn:ed-fi:api:`` + the exception class's type parts.
Each constructor below names one ODS exception and carries the text of both versions.
"""

from __future__ import annotations

import json

PROBLEM_TITLES = {
    "bad-request": "Bad Request",
    "bad-request:data-validation-failed": "Data Validation Failed",
    "bad-request:parameter-validation": "Parameter Validation Failed",
    "bad-request:data-validation-failed:key-change-not-supported": "Key Change Not Supported",
    "security:authorization": "Authorization Denied",
    "not-found": "Not Found",
    "method-not-allowed": "Method Not Allowed",
    "data-conflict:unresolved-reference": "Unresolved Reference",
    "data-conflict:dependent-item-exists": "Dependent Item Exists",
    "data-conflict:non-unique-identity": "Identifying Values Are Not Unique",
    "multi-user-conflict": "Multi-User Conflict",
    "system-error": "System Error",
}
DATA_VALIDATION_DETAIL = "Data validation failed. See 'validationErrors' for details."


class ApiError(Exception):
    """An error response; ``render(api_version)`` gives its body."""

    def __init__(self, status: int, message: str, *, problem: str, detail: str | None = None,
                 model_state: dict | None = None, validation: dict | None = None,
                 errors: list | None = None, headers: list | None = None, status_73: int | None = None):
        super().__init__(message)
        self.status = status
        self.status_73 = status_73 or status
        self.message = message
        self.problem = problem
        self.detail = detail or message
        self.model_state = model_state
        self.validation = validation
        self.errors = errors
        self.headers = headers or []

    def status_for(self, api_version: str) -> int:
        return self.status if api_version.startswith("5") else self.status_73

    def render(self, api_version: str, correlation_id: str | None = None) -> bytes:
        if api_version.startswith("5"):
            body: dict = {"message": self.message}
            if self.model_state is not None:
                body["modelState"] = self.model_state
        else:
            body = {"detail": self.detail, "type": f"urn:ed-fi:api:{self.problem}",
                    "title": PROBLEM_TITLES[self.problem], "status": self.status_73,
                    "correlationId": correlation_id, "validationErrors": self.validation or {},
                    "errors": self.errors or []}
        return json.dumps(body).encode()


def invalid_model(problems) -> ApiError:
    """Model validation (required fields, types, lengths)."""
    model_state: dict[str, list[str]] = {}
    validation: dict[str, list[str]] = {}
    for problem in problems:
        dotnet_path = ".".join(part[:1].upper() + part[1:] for part in problem.path.split("."))
        model_state.setdefault(f"request.{dotnet_path}", []).append(problem.message)
        validation.setdefault(f"$.{problem.path}", []).append(problem.message)
    return ApiError(400, "The request is invalid.", problem="bad-request:data-validation-failed",
                    detail=DATA_VALIDATION_DETAIL, model_state=model_state, validation=validation)


def malformed_body(reason: str) -> ApiError:
    return ApiError(400, "The request is invalid.", problem="bad-request:data-validation-failed",
                    detail=DATA_VALIDATION_DETAIL, model_state={"request": [reason]},
                    validation={"$": [reason]})


def client_assigned_id() -> ApiError:
    text = "Resource identifiers cannot be assigned by the client."
    return ApiError(400, text, problem="bad-request:data-validation-failed", detail=DATA_VALIDATION_DETAIL,
                    validation={"$.id": [text]})


def client_assigned_descriptor_id() -> ApiError:
    text = "Value for the auto-assigned identifier property 'DescriptorId' cannot be assigned by the client."
    return ApiError(400, text, problem="bad-request:data-validation-failed", detail=DATA_VALIDATION_DETAIL,
                    validation={"$.descriptorId": [text]})


def unresolved_descriptor(path: str, descriptor: str, uri: str) -> ApiError:
    if "#" not in uri:
        text73 = (f"{descriptor} value '{uri}' is not a valid value for use as a descriptor. "
                  "Descriptor values must be a URI of the form {namespace}#{codeValue}.")
    else:
        text73 = f"{descriptor} value '{uri}' does not exist."
    return ApiError(400, f"Unable to resolve value '{uri}' to an existing '{descriptor}' resource.",
                    problem="bad-request:data-validation-failed", detail=DATA_VALIDATION_DETAIL,
                    validation={f"$.{path}": [text73]})


def unresolved_references(entity: str, references) -> ApiError:
    """5.3 validates references before the database (400); 7.3 reports the FK failure (409)."""
    lines = "".join(f"\t{ref.label} reference could not be resolved.\n" for ref in references)
    first = references[0]
    return ApiError(400, f"Validation of '{entity}' failed.\n{lines}", status_73=409,
                    problem="data-conflict:unresolved-reference",
                    detail=f"The referenced '{first.target_entity}' item does not exist.",
                    validation={f"$.{ref.field}": [f"The referenced {ref.target_entity} item does not exist."]
                                for ref in references})


def natural_key_conflict(entity: str, key_names: list[str], key: tuple, *, update: bool) -> ApiError:
    values = ", ".join(str(value) for value in key)
    if update:
        message = ("A natural key conflict occurred when attempting to update a new resource with a duplicate key. "
                   "This is likely caused by multiple resources with the same key in the same file. "
                   "Exactly one of these resources was updated.")
    else:
        message = (f"A natural key conflict occurred when attempting to create a new resource '{entity}' with a "
                   f"duplicate key.  The duplicated columns and values are [{', '.join(key_names)}] ({values}) "
                   "This is likely caused by multiple resources with the same key in the same file. "
                   "Exactly one of these resources was inserted.")
    return ApiError(409, message, problem="data-conflict:non-unique-identity",
                    detail="The identifying value(s) of the item are the same as another item that already exists.",
                    errors=[f"A natural key conflict occurred when attempting to create a new resource {entity} "
                            f"with a duplicate key. The duplicate keys and values are ({', '.join(key_names)} = {values})"])


def key_change_not_supported(entity: str) -> ApiError:
    text = f"Identifying values for the {entity} data cannot be changed. Delete and recreate the item instead."
    return ApiError(400, text, problem="bad-request:data-validation-failed:key-change-not-supported", detail=text)


def dependent_item_exists(referencing_entity: str) -> ApiError:
    table = referencing_entity[:1].lower() + referencing_entity[1:]
    return ApiError(409, "The resource (or a subordinate entity of the resource) cannot be deleted because it is "
                         f"a dependency of the '{table}' entity.",
                    problem="data-conflict:dependent-item-exists",
                    detail="The requested action cannot be performed because this item is referenced by another item.")


def not_authorized(claims, subject: str, hint: str | None) -> ApiError:
    ids = ", ".join(f"'{claim}'" for claim in sorted(claims))
    detail = "Access to the requested data could not be authorized."
    if hint:
        detail += f" Hint: You may need to create a corresponding '{hint}' item."
    return ApiError(403, "Authorization denied.  The claim does not have any established relationships with the "
                         "requested resource.",
                    problem="security:authorization", detail=detail,
                    errors=[f"No relationships have been established between the caller's education organization id "
                            f"claim ({ids}) and the resource item's '{subject}' value."])


def not_found() -> ApiError:
    return ApiError(404, "Resource was not found.", problem="not-found",
                    detail="The specified item could not be found.")


def stale_etag() -> ApiError:
    return ApiError(412, "Resource was modified by another consumer.", problem="multi-user-conflict",
                    detail="The item has been modified by another user.",
                    errors=["The resource item's etag value does not match what was specified in the 'If-Match' "
                            "request header indicating that it has been modified by another client since it was "
                            "last retrieved."])


def bad_parameter(text: str) -> ApiError:
    return ApiError(400, text, problem="bad-request:parameter-validation",
                    detail="The request parameters were invalid.", errors=[text])


def method_not_allowed(method: str) -> ApiError:
    return ApiError(405, f"The requested resource does not support http method '{method}'.",
                    problem="method-not-allowed", detail="The request construction was invalid.")


def system_error() -> ApiError:
    return ApiError(500, "An unexpected error occurred on the server.", problem="system-error",
                    detail="An unexpected problem has occurred.")
