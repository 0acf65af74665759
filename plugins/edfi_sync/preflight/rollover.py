"""The year rollover check: what a new school year lacks (connection, toggles, mappings, terms)
compared with the year before. ``edfi-sync config copy-year`` copies; this says what is still
missing, before the first run of the new year finds it record by record."""

from __future__ import annotations

from dataclasses import dataclass

import psycopg

from ..config_io import YearConfig, read_config
from ..paths import read_sql
from .findings import Finding

TERM_MAPPING = ("sessions", "term")
EXAMPLES = 5


@dataclass(frozen=True)
class TermUse:
    value: str  # a term name, or an Ed-Fi term override value
    source: str  # term | course override | section override | transcript override
    schools: int


@dataclass(frozen=True)
class YearState:
    """What the rollover check reads of one year: its configuration and its SIS calendar."""

    year: int
    config: YearConfig
    calendars: int  # schools with a calendar in the year
    terms: tuple[TermUse, ...] = ()


def rollover_findings(previous: YearState, new: YearState) -> list[Finding]:
    """Gaps of ``new`` against ``previous`` (pure). Term values the new year uses without a
    (sessions, term) mapping are gaps whatever the previous year had: their records cannot be built."""
    before, now, year = previous.config, new.config, new.year
    copy = f"edfi-sync config copy-year {previous.year} {year} (it keeps what {year} already has)"
    found: list[Finding] = []
    if now.connection is None:
        was = f" ({previous.year} uses {before.connection.conn_id})" if before.connection else ""
        found.append(Finding("warning", "rollover", f"{year} has no Ed-Fi connection row{was}: it is out of scope.",
                             f"{copy}, then check the connection points at the {year} ODS"))
    elif not now.connection.enabled:
        found.append(Finding("warning", "rollover", f"{year}'s connection {now.connection.conn_id} is disabled: "
                             f"the year is out of scope.", f"enable it (edfi-sync config import)"))
    for resource in sorted(r for r, enabled in before.toggles.items() if not enabled and r not in now.toggles):
        found.append(Finding("warning", "rollover", f"{resource} is OFF in {previous.year} but has no toggle in "
                             f"{year}, so it is ON.", f"{copy}, or import a toggle for {year}"))
    missing: dict[tuple[str, str], list[str]] = {}
    for (resource, field, sis_value) in sorted(before.mappings.keys() - now.mappings.keys()):
        missing.setdefault((resource, field), []).append(sis_value)
    for (resource, field), values in missing.items():
        of = sum(1 for key in before.mappings if key[:2] == (resource, field))
        found.append(Finding("warning", "rollover",
                             f"{year} lacks {len(values)} of {previous.year}'s {of} {resource} {field} mappings "
                             f"({_examples(values)}).", copy))
    if previous.calendars and not new.calendars:
        found.append(Finding("warning", "rollover", f"the SIS has no calendar for {year} ({previous.year}: "
                             f"{previous.calendars} schools): nothing student-level can be sent.",
                             f"set up the {year} calendars and terms in the SIS"))
    mapped = {key[2] for key in now.mappings if key[:2] == TERM_MAPPING}
    unmapped: dict[str, list[TermUse]] = {}
    for use in new.terms:
        if use.value not in mapped:
            unmapped.setdefault(use.value, []).append(use)
    for value, uses in unmapped.items():
        where = ", ".join(f"{u.source} in {u.schools} school(s)" for u in uses)
        found.append(Finding("warning", "rollover",
                             f"{year} uses the term '{value}' ({where}) without a sessions term mapping: "
                             f"the academic records and transcripts of that term cannot be built.",
                             f"map sessions term '{value}' for {year} (edfi-sync config import)"))
    return found


def _examples(values: list[str]) -> str:
    shown = ", ".join(values[:EXAMPLES])
    return shown + (f" and {len(values) - EXAMPLES} more" if len(values) > EXAMPLES else "")


def year_state(conn: psycopg.Connection, year: int) -> YearState:
    params = {"end_year": year}
    terms = tuple(TermUse(*row) for row in conn.execute(read_sql("preflight/year_terms.sql"), params))
    calendars = conn.execute(read_sql("preflight/year_calendars.sql"), params).fetchone()[0]
    return YearState(year, read_config(conn, year).get(year, YearConfig()), calendars, terms)


def check_rollover(conn: psycopg.Connection, year: int, previous_year: int | None = None) -> list[Finding]:
    """What ``year`` lacks against ``previous_year`` (default: the year before)."""
    previous = year_state(conn, previous_year or year - 1)
    return rollover_findings(previous, year_state(conn, year))
