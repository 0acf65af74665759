"""The Audit Trail: /edfi-sync/audit (every action, newest first: who, when, what, with which
parameters, the DAG run it started and how it ended) and /edfi-sync/audit/{id} (one action)."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse

from ...actions import audit
from ...reports import store
from ...reports.filters import BadFilter
from .. import airflow_runs, database, render
from ..auth import ReadUser

router = APIRouter()


def _filters(request: Request) -> tuple[int | None, str | None]:
    year, action = request.query_params.get("school_year") or None, request.query_params.get("action") or None
    if year is not None and not (year.isdigit() and len(year) == 4):
        raise BadFilter(f"school_year is a school year's end year such as 2025, not {year!r}")
    if action is not None and action not in audit.ACTIONS:
        raise BadFilter(f"action is one of {', '.join(audit.ACTIONS)}, not {action!r}")
    return (int(year) if year else None), action


@router.get("/audit", response_class=HTMLResponse)
def audit_trail(request: Request, user: ReadUser) -> HTMLResponse:
    year, action = _filters(request)
    with database.connect() as conn:
        entries = audit.entries(conn, school_year=year, action=action)
        years = store.school_years(conn)
    states = airflow_runs.states([(e["dag_id"], e["dag_run_id"]) for e in entries if e["dag_run_id"]])
    return render.page(request, "audit.html", user=user, entries=entries, states=states, years=years,
                       school_year=year, action=action, actions=audit.ACTIONS)


@router.get("/audit/{audit_id}", response_class=HTMLResponse)
def audit_entry(request: Request, audit_id: int, user: ReadUser) -> HTMLResponse:
    with database.connect() as conn:
        entry = audit.entry(conn, audit_id)
    if entry is None:
        raise HTTPException(404, f"no action {audit_id} in the audit trail")
    state = airflow_runs.state(entry["dag_id"], entry["dag_run_id"]) if entry["dag_run_id"] else None
    return render.page(request, "audit_entry.html", user=user, entry=entry, state=state, actions=audit.ACTIONS)
