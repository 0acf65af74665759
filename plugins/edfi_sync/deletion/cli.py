"""`edfi-sync delete`: the Delete Tool from the command line, run directly (the pages run the same
tool as the DAG ``edfi_delete``). A preview unless --delete; every invocation is in the audit trail.

Exit status: 0 done; 1 something asked for was not found, kept or not deleted; 2 the request
cannot be used, or the database or the ODS cannot be reached.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import psycopg

from .. import db
from ..actions import audit
from ..engine.cli import cli_settings
from ..engine.runner import OutOfScope, new_run_id
from ..hooks.client import EdFiUnavailable
from ..reports.terminal import table
from . import tool
from .plan import BadTarget, Target, checked, target, targets_from_csv

ATTENTION = ("not_found", "kept", "failed", "skipped")


def short(value: Any) -> str:
    """A natural-key value as a person reads it (a descriptor's code value)."""
    text = str(value)
    return text.rsplit("#", 1)[1] if text.startswith("uri://") and "#" in text else text


def describe_key(key: dict | None) -> str:
    return ", ".join(f"{k}={short(v)}" for k, v in (key or {}).items())


def plan_lines(plan: tool.Plan) -> list[str]:
    rows = [{"SEQ": r["seq"], "ACTION": r["outcome"] or r["action"], "RESOURCE": r["resource"], "ROLE": r["role"],
             "STUDENT": (r["natural_key"] or {}).get("studentUniqueId") or "",
             "NATURAL KEY": describe_key(r["natural_key"]), "EDFI ID": r["edfi_id"] or "-",
             "OURS": "yes" if r["in_identity_map"] else "no", "WHY": r["message"] or r["reason"] or ""}
            for r in plan.records]
    return table(rows, cell_width=60)


def _targets(args: argparse.Namespace) -> list[Target]:
    found: list[Target] = []
    if args.key:
        pairs = [item.partition("=") for item in args.key]
        if any(not sep for _, sep, _ in pairs):
            raise BadTarget("--key takes NAME=VALUE, e.g. --key programName='Career and Technical Education'")
        found.append(target(args.resource or "", {name: value for name, _, value in pairs}))
    found += [target(args.resource or "", None, edfi_id) for edfi_id in args.id]
    if args.csv:
        found += targets_from_csv(Path(args.csv).read_text(encoding="utf-8"), args.resource)
    return checked(found)


def main(args: argparse.Namespace) -> int:
    conninfo = db.sis_conninfo()
    try:
        if args.plan:
            if args.key or args.id or args.csv:
                raise BadTarget("--plan runs or shows a stored plan: give it without --key, --id or --csv")
            plan = _stored(conninfo, args.plan)
        else:
            targets = _targets(args)
            plan = tool.preview(args.school_year, targets, plan_id=new_run_id("cli"), conninfo=conninfo,
                                settings_for=cli_settings)
            _audit(conninfo, "delete_preview", args.school_year, plan, {"targets": plan.requested}, "previewed")
        print(f"delete plan {plan.plan_id}, school year {plan.end_year} ({plan.status}):")
        print("\n".join(plan_lines(plan)))
        if args.delete and (plan.status != "previewed" or plan.counts().get("to_delete")):
            run_id = new_run_id("cli")
            try:
                plan = tool.execute(args.school_year, plan.plan_id, run_id=run_id, conninfo=conninfo,
                                    settings_for=cli_settings)
            finally:
                _audit(conninfo, "delete", args.school_year, plan, {"plan": plan.plan_id}, None, run_id)
            print(f"\nran by {run_id}:")
            print("\n".join(plan_lines(plan)))
    except (BadTarget, tool.PlanRefused, OutOfScope) as exc:
        print(f"delete: {exc}", file=sys.stderr)
        return 2
    except (EdFiUnavailable, psycopg.OperationalError) as exc:
        print(f"delete failed: {exc}", file=sys.stderr)
        return 2
    summary = plan.counts()
    print("\n" + ", ".join(f"{n} {key.replace('_', ' ')}" for key, n in summary.items()))
    if plan.status == "previewed":
        print("A preview: nothing was deleted." + (
            f" To delete exactly the records marked delete: edfi-sync delete --school-year {plan.end_year} "
            f"--plan {plan.plan_id} --delete" if summary.get("to_delete") else " Nothing here can be deleted."))
    return 1 if any(summary.get(key) for key in ATTENTION) else 0


def _stored(conninfo: str, plan_id: str) -> tool.Plan:
    with psycopg.connect(conninfo) as conn:
        plan = tool.load(conn, plan_id)
    if plan is None:
        raise tool.PlanRefused(f"no delete plan {plan_id!r}")
    return plan


def _audit(conninfo: str, action: str, school_year: int, plan: tool.Plan, params: dict, outcome: str | None,
           run_id: str | None = None) -> None:
    """The audit row of what the command did; a run's outcome is read back from its plan (done,
    failed, or refused when another run had it)."""
    if action == "delete":
        plan = _stored(conninfo, plan.plan_id)
        outcome = plan.status if plan.executed_by == run_id else "refused"
    with psycopg.connect(conninfo, autocommit=True) as conn:
        audit.record(conn, actor=audit.cli_actor(), origin="cli", action=action, school_year=school_year,
                     params={**params, "plan": plan.plan_id, **({"run_id": run_id} if run_id else {})},
                     outcome=outcome, result=plan.counts())
