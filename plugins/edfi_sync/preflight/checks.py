"""Preflight's judgements, as pure functions over what the SIS, the run's mappings and the ODS
said: which gaps make records fail, one finding each with its fix. No I/O here."""

from __future__ import annotations

import re
from dataclasses import dataclass

from .findings import Finding


@dataclass(frozen=True)
class EdOrg:
    """A school the year sends records of, and its district (Ed-Fi ids; None when the SIS lacks one)."""

    lea_id: str | None
    lea_name: str
    school_id: str | None
    school_name: str


def uncovered_edorgs(claims: tuple[str, ...], edorgs: list[EdOrg]) -> list[Finding]:
    """Education organizations the client's claims do not reach (an LEA's claim covers its
    schools). Empty claims: the server named none, so there is nothing to compare."""
    if not claims:
        return []
    granted = set(claims)
    fix = "ask the ODS administrator to add it to the client's education organization claims"
    found, seen = [], set()
    for org in edorgs:
        if org.lea_id and org.lea_id not in granted and org.lea_id not in seen:
            seen.add(org.lea_id)
            reached = sorted(o.school_id for o in edorgs if o.lea_id == org.lea_id and o.school_id in granted)
            but = f" (only its schools {', '.join(reached)})" if reached else ""
            found.append(Finding("warning", "claims", f"the client's claims ({', '.join(sorted(granted))}) do not "
                                 f"include LEA {org.lea_id} {org.lea_name}{but}: its district-level records "
                                 f"(the LEA, programs, courses) will be refused with 403.", fix))
        if org.school_id and org.school_id not in granted and org.lea_id not in granted:
            found.append(Finding("warning", "claims", f"the client's claims do not reach school {org.school_id} "
                                 f"{org.school_name}: its records (school, enrollments, student records) will be "
                                 f"refused with 403.", fix))
    return found


def resource_access(resource: str, status: int) -> Finding | None:
    """What a ``GET <resource>?limit=1`` answer says about the client's claim set."""
    if 200 <= status < 300:
        return None
    if status in (401, 403):
        return Finding("warning", "claims", f"the client may not read {resource} (GET answered {status}): its "
                       f"claim set lacks the resource, so every {resource} record will be refused.",
                       f"ask the ODS administrator to add {resource} to the client's claim set")
    if status == 404:
        return Finding("warning", "resources", f"the ODS does not serve {resource} (GET answered 404).",
                       "check the connection's base URL, api_mode and data_standard")
    return Finding("warning", "resources", f"GET {resource} answered {status}; its records may fail.",
                   "retry later; report it to the ODS administrator if it lasts")


def descriptor_resource(namespace: str) -> str | None:
    """The Ed-Fi descriptor resource of a namespace by convention: uri://ed-fi.org/GradeLevelDescriptor
    -> gradeLevelDescriptors (also for local namespaces such as uri://nmped.org/...)."""
    name = namespace.rstrip("/").rsplit("/", 1)[-1]
    if not re.fullmatch(r"[A-Z][A-Za-z0-9]*Descriptor", name):
        return None
    return name[0].lower() + name[1:] + "s"


def missing_descriptors(used: dict[str, list[str]], present: dict[str, set[str] | None]) -> list[Finding]:
    """``used``: descriptor URI -> who uses it ("studentSchoolAssociations grade_level '09'");
    ``present``: descriptor resource -> the URIs the ODS holds (None: the ODS would not list them)."""
    found = []
    for uri in sorted(used):
        namespace, _, code_value = uri.rpartition("#")
        resource = descriptor_resource(namespace)
        users = used[uri]
        who = ", ".join(users[:3]) + (f" and {len(users) - 3} more" if len(users) > 3 else "")
        if resource is None:
            found.append(Finding("warning", "descriptors", f"{uri}: the namespace does not name a descriptor "
                                 f"(used by {who}); the ODS will refuse it.",
                                 "map to namespace#codeValue with a namespace such as uri://ed-fi.org/TermDescriptor"))
        elif present.get(resource) is None:
            continue  # said once per resource by the caller
        elif uri not in present[resource]:
            found.append(Finding("warning", "descriptors", f"{uri} is not in the ODS's {resource} (used by {who}): "
                                 f"those records will be refused.",
                                 f"ask the ODS administrator to add the value, or map to one the ODS has "
                                 f"(edfi-sync config import; it takes effect at the owner's next resync)"))
    return found
