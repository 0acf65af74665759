"""`edfi-sync preflight` and `edfi-sync config rollover-check`."""

from __future__ import annotations

import argparse
import json
import sys

import psycopg

from .. import db
from .findings import Finding, counts, ordered


def print_findings(findings: list[Finding], header: dict, fmt: str, clean: str) -> None:
    """Text: one line per problem with its fix; json: the header plus the findings, for machines."""
    findings = ordered(findings)
    if fmt == "json":
        json.dump({**header, "counts": counts(findings), "findings": [f.as_dict() for f in findings]},
                  sys.stdout, indent=2, default=str)
        print()
        return
    for finding in findings:
        print(finding.line())
    if not any(f.level != "info" for f in findings):
        print(clean)


def preflight(args: argparse.Namespace) -> int:
    """Exit 0 when the run would make sense (warnings and notes printed); 2 when it would be
    pointless: out of scope, connection unreadable, ODS unreachable, credentials refused."""
    from ..engine.cli import cli_settings
    from ..engine.runner import SyncOptions
    from .run import run_preflight

    options = SyncOptions(resources=tuple(args.resource), resync=args.resync)
    try:
        report = run_preflight(args.school_year, options, conninfo=db.sis_conninfo(), settings_for=cli_settings)
    except psycopg.OperationalError as exc:
        print(f"preflight failed: the connector database is unreachable: {exc}", file=sys.stderr)
        return 2
    if args.format == "text":
        print(report.headline())
    header = {k: v for k, v in report.as_dict().items() if k not in ("counts", "findings")}
    print_findings(report.findings, header, args.format, "Nothing found that would make records fail.")
    return 2 if report.fatal else 0


def rollover_check(args: argparse.Namespace) -> int:
    """Exit 0 when the year lacks nothing the previous one had, 1 when it does."""
    from .rollover import check_rollover

    previous = args.from_year or args.school_year - 1
    try:
        with db.connect() as conn:
            findings = check_rollover(conn, args.school_year, previous)
    except psycopg.errors.UndefinedTable as exc:
        print(f"the database has no schema ({exc.diag.message_primary}). Fix: run `edfi-sync db init` first",
              file=sys.stderr)
        return 2
    print_findings(findings, {"school_year": args.school_year, "compared_with": previous}, args.format,
                   f"{args.school_year} lacks nothing {previous} has.")
    return 1 if findings else 0
