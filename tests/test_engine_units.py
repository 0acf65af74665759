"""Pure parts of the engine: canonical hashing, the resource graph, rules, error catalogue, settings."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from edfi_sync.engine.canonical import canonical_json, digest
from edfi_sync.engine.errors import CATALOGUE, classify, parse_body
from edfi_sync.hooks.client import EdFiSettings
from edfi_sync.resources import GRAPH, RESOURCES
from edfi_sync.rules.common import Mappings, SchoolYear, UnmappedValue


def test_canonical_hash_ignores_key_order_number_form_dates_and_collection_order():
    a = {"b": 1.0, "a": date(2024, 8, 12), "grades": [{"g": "x"}, {"g": "y"}], "n": None}
    b = {"grades": [{"g": "y"}, {"g": "x"}], "a": "2024-08-12", "b": Decimal("1")}
    assert canonical_json(a) == canonical_json(b)
    assert digest(a) == digest(b)
    assert digest({"b": 1.5}) != digest({"b": 1})


def test_graph_orders_posts_parents_first_and_deletes_children_first():
    order = GRAPH.post_order()
    assert order.index("localEducationAgencies") < order.index("schools") < order.index(
        "studentSchoolAssociations")
    assert order.index("students") < order.index("studentSchoolAssociations")
    steps = [s.task_id for s in GRAPH.steps()]
    # New students before the SSAs, changes to students after them; students are never deleted.
    assert steps.index("post.students") < steps.index("post.studentSchoolAssociations") < steps.index(
        "update.students")
    assert "delete.students" not in steps
    deletes = [s.removeprefix("delete.") for s in steps if s.startswith("delete.")]
    assert deletes == [name for name in reversed(order) if RESOURCES[name].deletable]
    for name in deletes:  # children first
        assert all(deletes.index(child) < deletes.index(name) for child in GRAPH.children(name) if child in deletes)
    assert set(GRAPH.descendants("localEducationAgencies")) == set(RESOURCES) - {"localEducationAgencies", "students"}


def test_graph_selection_keeps_order_and_rejects_unknown():
    assert GRAPH.post_order(["studentSchoolAssociations", "schools"]) == ["schools", "studentSchoolAssociations"]
    with pytest.raises(ValueError, match="unknown resources: nope"):
        GRAPH.post_order(["nope"])


def test_every_definition_is_complete():
    from edfi_sync.paths import SQL_DIR

    for name, definition in RESOURCES.items():
        assert (SQL_DIR / "extract" / definition.extract_sql).exists(), name
        assert definition.natural_key
        for path in definition.natural_key:
            assert path.split(".")[0] in definition.model.model_fields, (name, path)


def test_school_year_defaults_and_overlap():
    year = SchoolYear.from_setup(2025)
    assert (year.start, year.end) == (date(2024, 7, 1), date(2025, 6, 30))
    assert year.overlaps(None, None)
    assert year.overlaps(date(2025, 6, 30), None)
    assert not year.overlaps(date(2025, 7, 1), None)
    assert not year.overlaps(None, date(2024, 6, 30))


def test_mappings_require_reports_the_unmapped_value():
    mappings = Mappings.from_rows([("studentSchoolAssociations", "grade_level", "09",
                                    "uri://ed-fi.org/GradeLevelDescriptor", "Ninth grade")])
    assert mappings.require("studentSchoolAssociations", "grade_level", "09").endswith("#Ninth grade")
    with pytest.raises(UnmappedValue, match="grade_level = '13'"):
        mappings.require("studentSchoolAssociations", "grade_level", "13")


@pytest.mark.parametrize("status, body, action, code", [
    (400, {"message": "Validation of 'Student' failed.\n\tBirthDate is required."}, "POST", "required_field_missing"),
    (400, {"message": "Validation of 'StudentSchoolAssociation' failed.\n\tStudent reference could not be resolved.\n"},
     "POST", "reference_unresolved"),
    (409, {"message": "The value supplied for the related 'student' resource does not exist."}, "POST",
     "reference_unresolved"),
    (400, {"message": "Unable to resolve value 'uri://x#y' to an existing 'GradeLevelDescriptor' resource."}, "POST",
     "descriptor_unresolved"),
    (403, {"message": "Authorization denied.  The claim does not have any established relationships with the "
                      "requested resource."}, "POST", "authorization_denied"),
    (404, None, "DELETE", "delete_not_found"),
    (404, None, "PUT", "record_missing_on_update"),
    (409, {"message": "A natural key conflict occurred when attempting to create a new resource 'Program' with a "
                      "duplicate key."}, "POST", "natural_key_conflict"),
    (409, {"message": "The resource (or a subordinate entity of the resource) cannot be deleted because it is a "
                      "dependency of the 'generalStudentProgramAssociation' entity."}, "DELETE",
     "delete_blocked_by_dependent"),
    (409, {"type": "urn:ed-fi:api:data-conflict:unresolved-reference", "detail": "x",
           "validationErrors": {"$.studentReference": ["The referenced Student item does not exist."]}}, "POST",
     "reference_unresolved"),
    (400, {"type": "urn:ed-fi:api:bad-request:data-validation-failed:key-change-not-supported",
           "detail": "Identifying values for the Course data cannot be changed."}, "PUT", "key_change_not_supported"),
    (500, {"message": "An unexpected error occurred on the server."}, "POST", "server_error"),
    (429, None, "POST", "rate_limited"),
])
def test_classify_maps_ed_fi_answers_to_the_catalogue(status, body, action, code):
    error = classify(status, body, action)
    assert error.code == code and error.status == status
    assert error.entry.cause and error.entry.fix


def test_parse_body_keeps_every_validation_error_of_both_formats():
    message, errors = parse_body({"message": "The request is invalid.",
                                  "modelState": {"request.birthDate": ["required"], "request.firstName": ["a", "b"]}})
    assert message == "The request is invalid." and len(errors) == 3
    message, errors = parse_body({"detail": "Data validation failed.", "validationErrors": {"$.x": ["p", "q"]},
                                  "errors": ["r"]})
    assert message == "Data validation failed." and errors == ["$.x: p", "$.x: q", "r"]
    assert set(CATALOGUE) >= {"unmapped_value", "term_not_determinable", "parent_failed", "schema_validation"}


def test_settings_from_connection_forms():
    s = EdFiSettings.from_connection(conn_type="http", host="127.0.0.1", schema=None, port=8765, login="k",
                                     password="s", extra={"api_mode": "year_specific", "max_in_flight": "auto",
                                                          "verify": "false"})
    assert s.base_url == "http://127.0.0.1:8765" and s.max_in_flight == "auto" and s.verify is False
    assert s.resource_path("students", 2025) == "/data/v3/2025/ed-fi/students"
    s = EdFiSettings.from_connection(conn_type="edfi", host="https://ods.example.org/api", schema=None, port=None,
                                     login="k", password="topsecret", extra={})
    assert s.base_url == "https://ods.example.org/api" and s.verify is True
    assert s.resource_path("students", 2025) == "/data/v3/ed-fi/students"
    assert "topsecret" not in repr(s)
