"""Preflight (SPEC §6.1): before a run sends anything, ask the ODS whether it will accept it.

It asks for a token (the run's cached one while it lives, so a check costs no token of the
client's limit) and GETs, nothing else, and writes nothing but that token (a dry run stays pure).
What makes the run pointless fails it: the year out of scope, the connection unreadable, the ODS
unreachable, the credentials refused. Every other gap is a warning, one line per problem
with its fix, and the records then fail one by one as they would: a descriptor value the run's
mappings use that the ODS lacks, an education organization or resource the client's claims do
not reach. It also lists the mapping changes waiting for a resync and what the year lacks against
the year before (the rollover check). It reads the mapping snapshots the run will use (the
``mapping`` table only for owners without one, or that the run resyncs), never writes one.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Callable

import psycopg

from ..config_io import pending_mapping_changes
from ..engine import queries
from ..engine.runner import SyncOptions, edfi_settings, plan, resync_owners
from ..hooks.client import EdFiClient, EdFiSettings, EdFiUnavailable, OdsInfo
from ..hooks.token_cache import DbTokenCache
from ..paths import read_sql
from ..resources import RESOURCES
from .checks import EdOrg, descriptor_resource, missing_descriptors, resource_access, uncovered_edorgs
from .findings import Finding, counts, ordered
from .rollover import check_rollover

log = logging.getLogger(__name__)

FINDINGS_IN_SUMMARY = 50  # an XCom summary stays small; the log has every line


@dataclass
class PreflightReport:
    school_year: int
    findings: list[Finding] = field(default_factory=list)
    conn_id: str | None = None
    base_url: str | None = None
    ods: OdsInfo | None = None

    @property
    def fatal(self) -> list[Finding]:
        return [f for f in self.findings if f.level == "fatal"]

    @property
    def status(self) -> str:
        if self.fatal:
            return "fatal"
        return "warnings" if any(f.level == "warning" for f in self.findings) else "clean"

    def headline(self) -> str:
        where = f" against {self.conn_id} ({self.base_url})" if self.conn_id else ""
        ods = f": {self.ods.describe()}" if self.ods else ""
        tally = counts(self.findings)
        return (f"preflight {self.school_year}{where}{ods}: {self.status} "
                f"({tally['fatal']} fatal, {tally['warning']} warnings, {tally['info']} notes)")

    def as_dict(self, limit: int | None = None) -> dict[str, Any]:
        findings = ordered(self.findings)
        shown = findings if limit is None else findings[:limit]
        return {"school_year": self.school_year, "status": self.status, "conn_id": self.conn_id,
                "base_url": self.base_url, "ods": self.ods.describe() if self.ods else None,
                "counts": counts(findings), "findings": [f.as_dict() for f in shown],
                **({"findings_not_shown": len(findings) - len(shown)} if len(shown) < len(findings) else {})}


@dataclass(frozen=True)
class _YearFacts:
    """What preflight reads of the connector database before asking the ODS."""

    resources: list[str]  # the run's enabled resources, in post order
    edorgs: list[EdOrg]
    descriptors: dict[str, list[str]]  # descriptor URI -> who uses it
    notes: list[Finding]


def run_preflight(year: int, options: SyncOptions = SyncOptions(), *, conninfo: str,
                  settings_for: Callable[[str], EdFiSettings] = edfi_settings) -> PreflightReport:
    report = PreflightReport(year)
    with psycopg.connect(conninfo) as conn:
        row = conn.execute(queries.engine("year_connection"), {"end_year": year}).fetchone()
        if row is None or not row[1]:
            report.findings.append(Finding(
                "fatal", "scope", f"school year {year} has no enabled Ed-Fi connection: it is out of scope.",
                f"add or enable its row in edfi_sync.connection (edfi-sync config import, or "
                f"edfi-sync config copy-year {year - 1} {year})"))
            return report
        report.conn_id = row[0]
        facts = _year_facts(conn, year, options)
    try:
        settings = settings_for(report.conn_id)
    except Exception as exc:  # noqa: BLE001 - Airflow raises its own not-found type
        report.findings.append(Finding("fatal", "connection", f"the Ed-Fi connection {report.conn_id!r} cannot "
                                       f"be read: {exc}", f"define the Airflow connection {report.conn_id}"))
        return report
    report.base_url = settings.base_url
    token_cache = DbTokenCache(conninfo)
    try:
        report.findings += asyncio.run(_ask_ods(settings, year, facts, report, token_cache))
    finally:
        token_cache.close()
    report.findings += facts.notes
    return report


def _year_facts(conn: psycopg.Connection, year: int, options: SyncOptions) -> _YearFacts:
    ids = {"end_year": year}
    selected = list(dict.fromkeys(step.resource for step in plan(options)))
    resources = [name for name in selected
                 if conn.execute(queries.engine("resource_enabled"), {**ids, "resource": name}).fetchone()[0]]
    edorgs = [EdOrg(*row) for row in conn.execute(read_sql("preflight/year_edorgs.sql"), ids)]
    # The values the run will read: each owner's snapshot, or the current rows where it has none
    # or the run resyncs it (SPEC §5), limited to the fields its resources read.
    fields = {f for name in resources for f in RESOURCES[name].mapping_fields}
    resynced = sorted({o for name in resources for o in resync_owners(RESOURCES[name])}) if options.resync else []
    descriptors: dict[str, list[str]] = {}
    for resource, field_, sis_value, namespace, code_value in conn.execute(
            queries.engine("dry_mappings"), {**ids, "current": resynced}):
        if (resource, field_) in fields and namespace and code_value:
            descriptors.setdefault(f"{namespace}#{code_value}", []).append(f"{resource} {field_} '{sis_value}'")
    for name in resources:
        for uri in RESOURCES[name].descriptors:
            descriptors.setdefault(uri, []).append(f"every {name} record")
    waiting = Counter(c.resource for c in pending_mapping_changes(conn, year) if c.resource not in resynced)
    notes = [Finding("info", "mappings", f"{n} mapping change(s) of {owner} wait for a resync of {owner}.",
                     f"edfi-sync config show --school-year {year} lists them; a resync of {owner} sends them")
             for owner, n in sorted(waiting.items())]
    notes += check_rollover(conn, year)
    return _YearFacts(resources, edorgs, descriptors, notes)


async def _ask_ods(settings: EdFiSettings, year: int, facts: _YearFacts, report: PreflightReport,
                   token_cache: DbTokenCache) -> list[Finding]:
    found: list[Finding] = []
    async with EdFiClient(settings, token_cache) as client:
        try:
            report.ods = await client.root()
        except EdFiUnavailable as exc:
            return [Finding("fatal", "ods", str(exc), "check the connection's base URL and that the ODS is up")]
        found += [Finding("warning", "connection", problem) for problem in report.ods.mismatches(settings)]
        try:
            claims = await client.authenticate()
        except EdFiUnavailable as exc:
            return found + [Finding("fatal", "credentials", str(exc),
                                    f"check the client key and secret of connection {report.conn_id}")]
        found += uncovered_edorgs(claims, facts.edorgs)

        async def status(resource: str) -> int:
            response = await client.request("GET", settings.resource_path(resource, year), params={"limit": 1})
            return response.status

        statuses = await asyncio.gather(*(status(name) for name in facts.resources))
        if statuses and all(code == 404 for code in statuses):
            return found + [Finding("fatal", "ods", f"the ODS has no route for any resource of {year} "
                                    f"({settings.resource_path(facts.resources[0], year)} answered 404)",
                                    "check the connection's base URL and api_mode (year_specific puts the "
                                    "school year in the path)")]
        found += [f for name, code in zip(facts.resources, statuses) if (f := resource_access(name, code))]

        types = sorted({t for uri in facts.descriptors if (t := descriptor_resource(uri.rpartition("#")[0]))})

        async def values(resource: str) -> set[str] | None:
            try:
                return {f"{d['namespace']}#{d['codeValue']}" async for d in
                        client.get_all(settings.resource_path(resource, year))}
            except EdFiUnavailable as exc:
                found.append(Finding("warning", "descriptors", f"cannot list {resource}: {exc}",
                                     f"ask the ODS administrator to let the client read {resource}"))
                return None

        present = dict(zip(types, await asyncio.gather(*(values(t) for t in types))))
        found += missing_descriptors(facts.descriptors, present)
    return found
