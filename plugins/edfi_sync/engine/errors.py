"""The error catalogue (SPEC §8): every failure gets the Ed-Fi answer plus our cause and fix.

Ed-Fi answers come in two shapes: ODS/API 5.x ``{"message", "modelState"}`` and 7.x RFC 7807
problem details (``detail``, ``type``, ``validationErrors``, ``errors``). Both are parsed and
every validation error is kept.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

ErrorClass = Literal["retryable", "data", "missing_reference", "authorization", "ignorable"]


@dataclass(frozen=True)
class CatalogueEntry:
    code: str
    error_class: ErrorClass
    cause: str
    fix: str


CATALOGUE: dict[str, CatalogueEntry] = {e.code: e for e in (
    CatalogueEntry(
        "required_field_missing", "data",
        "A field the Ed-Fi API requires is missing or empty in the record we built from the SIS.",
        "Fill in the SIS value behind the field named in the message (e.g. birth date, name, grade) for this "
        "record; it is sent again on the next run."),
    CatalogueEntry(
        "reference_unresolved", "missing_reference",
        "The record references another record (student, school, program, ...) that the ODS does not have.",
        "Resync the referenced resource named in the message, then resync this one. If it persists, check the "
        "referenced ids in the SIS (e.g. the school's Ed-Fi schoolId = school number)."),
    CatalogueEntry(
        "descriptor_unresolved", "data",
        "A descriptor value we sent does not exist in the ODS.",
        "Check the Resource Preferences mapping for this value (edfi-sync config show): the namespace and code "
        "value must exist in the ODS (load the descriptor there, or map to an existing one), then resync."),
    CatalogueEntry(
        "authorization_denied", "authorization",
        "The API credentials may not write this record: the student has no StudentSchoolAssociation with a "
        "school of the key's education organizations, or the education organization is outside the key's claims.",
        "Check the key/secret of the year's Ed-Fi connection and its education organization claims. Resync the "
        "student's studentSchoolAssociations (and students), then resync this resource."),
    CatalogueEntry(
        "delete_not_found", "ignorable",
        "The record we tried to delete is no longer in the ODS.",
        "Nothing to do: its id was cleared from the identity map and will not be deleted again."),
    CatalogueEntry(
        "natural_key_conflict", "data",
        "The ODS already has a record with this natural key: duplicate SIS data, or a natural key too weak to "
        "tell two SIS records apart.",
        "Look for duplicate records in the SIS (same student, school and date, ...) and remove the duplicate. If "
        "there is none, report it: the key needs more fields."),
    CatalogueEntry(
        "delete_blocked_by_dependent", "data",
        "The ODS refused the delete because other records still reference this one.",
        "Delete (or resync) the dependent records named in the message first; the delete is retried on the next "
        "run. The record stays in the identity map until then."),
    CatalogueEntry(
        "key_change_not_supported", "data",
        "The ODS does not allow this resource's natural key to change with a PUT.",
        "Resync the resource: the sync deletes the old record and posts the new one."),
    CatalogueEntry(
        "server_error", "retryable",
        "The ODS/API failed with a server error (5xx) even after retries: ODS trouble, or a request that "
        "trips an ODS bug.",
        "Check that the ODS is healthy, then rerun the resource. Report it if it happens again for the same "
        "record."),
    CatalogueEntry(
        "rate_limited", "retryable",
        "The ODS/API kept answering 429 Too Many Requests after every retry.",
        "Lower max_in_flight on the Ed-Fi connection (or set it to auto) and rerun the resource."),
    CatalogueEntry(
        "record_missing_on_update", "missing_reference",
        "The record the identity map points at is gone from the ODS (deleted behind the sync's back).",
        "Nothing to do by hand: the sync posts the record again in the same run (its map row then holds the new "
        "id); if that POST fails, its own error is logged."),
    CatalogueEntry(
        "bad_request", "data",
        "The ODS/API rejected the request as invalid.",
        "Read the Ed-Fi message: it names the field. Correct the SIS data or the mapping, then rerun."),
    CatalogueEntry(
        "unmapped_value", "data",
        "A SIS value has no Resource Preferences mapping, so the record cannot be built.",
        "Add the mapping (edfi-sync config import) for the field and value named in the message, then resync "
        "the resource that owns the mapping."),
    CatalogueEntry(
        "term_not_determinable", "data",
        "The term of this transcript could not be determined from overrides, grading score or preferences.",
        "Set an Ed-Fi transcript term override on the record, map the term name (sessions/term), or set the "
        "SAR transcript term override preference, then resync."),
    CatalogueEntry(
        "parent_failed", "missing_reference",
        "Not sent: a record it references failed earlier in this run.",
        "Fix the parent record's error (see its error-log row); this record is sent with it on the next run."),
    CatalogueEntry(
        "schema_validation", "data",
        "The record built from the SIS does not satisfy the Ed-Fi schema (a missing, blank, too long or "
        "malformed value) or cannot be true (an end date before its start, a birth date in the future, a date "
        "beyond the calendar, a number that is not one), so it was not sent.",
        "Correct the SIS fields named in the validation errors; the record is sent on the next run."),
    CatalogueEntry(
        "duplicate_sis_record", "data",
        "Several SIS records yield the same Ed-Fi record (same natural key); only one is sent.",
        "Remove or correct the duplicate SIS records. The one sent is the one with the latest school year, then "
        "the highest id."),
)}


@dataclass
class EdFiError:
    entry: CatalogueEntry
    status: int | None
    message: str | None
    validation_errors: list[str] = field(default_factory=list)

    @property
    def code(self) -> str:
        return self.entry.code


def parse_body(body: Any) -> tuple[str | None, list[str]]:
    """(message, every validation error) from a 5.x or 7.x error body."""
    if not isinstance(body, dict):
        return (str(body) if body else None), []
    message = body.get("message") or body.get("detail") or body.get("error") or body.get("title")
    errors: list[str] = []
    for source in (body.get("modelState"), body.get("validationErrors")):
        if isinstance(source, dict):
            for path, problems in source.items():
                for problem in problems if isinstance(problems, list) else [problems]:
                    errors.append(f"{path}: {problem}" if path else str(problem))
    for problem in body.get("errors") or []:
        errors.append(str(problem))
    return message, errors


def classify(status: int, body: Any, action: str) -> EdFiError:
    """Catalogue entry for an Ed-Fi answer."""
    message, validation = parse_body(body)
    problem_type = body.get("type", "") if isinstance(body, dict) else ""
    text = " ".join([message or "", *validation]).lower()

    def entry(code: str) -> EdFiError:
        return EdFiError(CATALOGUE[code], status, message, validation)

    if status == 404:
        return entry("delete_not_found" if action == "DELETE" else "record_missing_on_update")
    if status == 403:
        return entry("authorization_denied")
    if status == 409:
        if action == "DELETE" or "dependent-item" in problem_type or "is a dependency" in text \
                or "referenced by" in text:
            return entry("delete_blocked_by_dependent")
        if "unresolved-reference" in problem_type or "does not exist" in text:
            return entry("reference_unresolved")
        return entry("natural_key_conflict")
    if status == 400:
        if "key-change" in problem_type or "cannot be changed" in text:
            return entry("key_change_not_supported")
        if "unable to resolve value" in text or "not a valid value for use as a descriptor" in text:
            return entry("descriptor_unresolved")
        if "reference could not be resolved" in text or "does not exist" in text:
            return entry("reference_unresolved")
        if "is required" in text or "required" in problem_type:
            return entry("required_field_missing")
        return entry("bad_request")
    if status == 429:
        return entry("rate_limited")
    if status >= 500:
        return entry("server_error")
    return entry("bad_request")


def own_error(code: str, message: str, validation_errors: list[str] | None = None) -> EdFiError:
    """An error the sync itself raises before anything is sent."""
    return EdFiError(CATALOGUE[code], None, message, list(validation_errors or []))
