"""`edfi-sync sync` and `edfi-sync report` (SPEC §6)."""

from __future__ import annotations

import argparse
import sys
from typing import Iterator

import psycopg

from .. import db
from ..actions import audit
from ..connections import find_connection
from ..hooks.client import EdFiSettings
from ..reports import store
from ..reports.export import csv_lines, json_text
from ..reports.filters import ErrorFilters, IdentityMapFilters
from ..reports.terminal import error_table, table
from ..resources import GRAPH
from .progress import summary_table
from .runner import OutOfScope, RunSummary, SyncOptions, SystemicFailure, YearSync, edfi_settings

SANDBOX_URL = "http://127.0.0.1:8765"


def cli_settings(conn_id: str) -> EdFiSettings:
    """The year's Ed-Fi connection; without one, the local sandbox (and we say so)."""
    try:
        return edfi_settings(conn_id)
    except Exception as exc:  # noqa: BLE001 - Airflow raises its own not-found type
        if find_connection(conn_id) is not None:
            raise
        print(f"note: no Ed-Fi connection {conn_id!r} ({type(exc).__name__}); using the local sandbox at "
              f"{SANDBOX_URL} with the default credentials", file=sys.stderr)
        return EdFiSettings(base_url=SANDBOX_URL, client_key="sandbox", client_secret="sandbox-secret")


def print_summary(summary: RunSummary, out=None) -> None:
    out = out or sys.stdout  # at call time: a default bound at import would outlive a replaced stdout
    what = "would send" if summary.dry_run else "sent"
    print(f"\nrun {summary.run_id} - school year {summary.school_year}: {summary.status}"
          f"{' (dry run: nothing ' + what + ')' if summary.dry_run else ''}", file=out)
    for line in summary_table(summary.by_resource(), summary.dry_run):
        print(line, file=out)
    if summary.record_errors:
        print(f"  {summary.record_errors} record(s) need attention: edfi-sync report errors "
              f"--school-year {summary.school_year}", file=out)


def sync(args: argparse.Namespace) -> int:
    schools = None if args.schools.strip().lower() == "all" else tuple(
        s.strip() for s in args.schools.split(",") if s.strip())
    try:
        options = SyncOptions(resources=tuple(args.resource), resync=args.resync, schools=schools,
                              dry_run=args.dry_run, records=tuple(args.only))
    except ValueError as exc:
        print(f"sync: {exc}", file=sys.stderr)
        return 2
    try:
        GRAPH.post_order(options.resources)
    except ValueError as exc:
        print(f"sync: {exc}. Fix: name Ed-Fi resources as listed", file=sys.stderr)
        return 2
    try:
        with YearSync(args.school_year, options, settings_for=cli_settings) as run:
            summary = run.run(partitions=args.partitions)
            fail_on_errors = run.settings.fail_on_record_errors
    except OutOfScope as exc:
        print(str(exc))
        return 0
    except SystemicFailure as exc:
        print_summary(exc.summary)
        print(f"sync failed: {exc}", file=sys.stderr)
        return 2
    print_summary(summary)
    return 1 if fail_on_errors and summary.record_errors else 0


def report_stream(conn: psycopg.Connection, kind: str, school_year: int, resource: str | None,
                  status: str = "all") -> Iterator[dict]:
    """The rows of a report in order (the same queries as the pages in the Airflow UI)."""
    if kind == "reconciliation":
        return iter(store.reconciliation(conn, school_year, resource))
    if kind == "audit":
        return iter(audit.entries(conn, school_year=school_year, limit=None))
    if kind == "errors":
        return store.stream(conn, store.ERRORS, ErrorFilters(school_year=school_year, resource=resource, status=status))
    return store.stream(conn, store.IDENTITY_MAP, IdentityMapFilters(school_year=school_year, resource=resource))


def report_rows(kind: str, school_year: int, resource: str | None, conninfo: str | None = None,
                status: str = "all") -> list[dict]:
    with psycopg.connect(conninfo or db.sis_conninfo()) as conn:
        return list(report_stream(conn, kind, school_year, resource, status))


def report(args: argparse.Namespace) -> int:
    if args.school_year is None and args.kind != "audit":
        print(f"report {args.kind}: --school-year is required", file=sys.stderr)
        return 2
    with psycopg.connect(db.sis_conninfo()) as conn:
        rows = report_stream(conn, args.kind, args.school_year, args.resource, args.status)
        if args.format == "csv":
            sys.stdout.writelines(csv_lines(rows))
        elif args.format == "json":
            print(json_text(rows))
        else:
            lines = error_table(list(rows)) if args.kind == "errors" else table(list(rows))
            print("\n".join(lines))
    return 0
