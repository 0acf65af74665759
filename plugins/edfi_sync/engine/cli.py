"""`edfi-sync sync` and `edfi-sync report` (SPEC §6)."""

from __future__ import annotations

import argparse
import csv
import json
import sys
from typing import Any

import psycopg
from psycopg.rows import dict_row

from .. import db
from ..connections import find_connection
from ..hooks.client import EdFiSettings
from ..paths import read_sql
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
    options = SyncOptions(resources=tuple(args.resource), resync=args.resync, schools=schools,
                          dry_run=args.dry_run)
    try:
        GRAPH.post_order(options.resources)
    except ValueError as exc:
        print(f"sync: {exc}. Fix: name Ed-Fi resources as listed", file=sys.stderr)
        return 2
    try:
        with YearSync(args.school_year, options, settings_for=cli_settings) as run:
            summary = run.run()
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


REPORT_SQL = {"identity-map": "report/identity_map.sql", "errors": "report/errors.sql",
              "reconciliation": "report/reconciliation.sql"}


def report_rows(kind: str, school_year: int, resource: str | None, conninfo: str | None = None) -> list[dict]:
    with psycopg.connect(conninfo or db.sis_conninfo(), row_factory=dict_row) as conn:
        return conn.execute(read_sql(REPORT_SQL[kind]), {"end_year": school_year, "resource": resource}).fetchall()


def _jsonable(value: Any) -> Any:
    return value.isoformat() if hasattr(value, "isoformat") else value


def report(args: argparse.Namespace) -> int:
    rows = [{k: _jsonable(v) for k, v in row.items()} for row in
            report_rows(args.kind, args.school_year, args.resource)]
    if args.format == "json":
        json.dump(rows, sys.stdout, indent=2, default=str)
        print()
    elif args.format == "csv":
        if rows:
            writer = csv.DictWriter(sys.stdout, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows({k: json.dumps(v) if isinstance(v, (list, dict)) else v for k, v in row.items()}
                             for row in rows)
    else:
        _print_table(rows)
    return 0


def _print_table(rows: list[dict], width: int = 40) -> None:
    if not rows:
        print("(no rows)")
        return
    cells = [[_cell(row[k], width) for k in rows[0]] for row in rows]
    widths = [max(len(h), *(len(c[i]) for c in cells)) for i, h in enumerate(rows[0])]
    print("  ".join(h.ljust(w) for h, w in zip(rows[0], widths)))
    for line in cells:
        print("  ".join(c.ljust(w) for c, w in zip(line, widths)))


def _cell(value: Any, width: int) -> str:
    text = "" if value is None else (json.dumps(value) if isinstance(value, (list, dict)) else str(value))
    return text if len(text) <= width else text[: width - 1] + "…"
