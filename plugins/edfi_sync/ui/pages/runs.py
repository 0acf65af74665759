"""Engine runs: /edfi-sync/runs (per school year, CLI and Airflow, with the year's
reconciliation), /edfi-sync/runs.csv and /edfi-sync/runs/{run_id} (per-resource counts, SIS vs
ODS vs identity map, the DAG run)."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, StreamingResponse

from ...reports import store
from ...reports.filters import RUN_ORIGINS, RUN_STATUSES, RunFilters
from .. import database, render
from ..auth import ReadUser
from ..responses import csv_download

router = APIRouter()


@router.get("/runs", response_class=HTMLResponse)
def runs(request: Request, user: ReadUser) -> HTMLResponse:
    filters = RunFilters.from_params(request.query_params)
    with database.connect() as conn:
        page = store.run_page(conn, filters)
        years = store.school_years(conn)
        year = filters.school_year or (years[0] if years else None)
        reconciliation = store.reconciliation(conn, year) if year else []
    return render.page(request, "runs.html", user=user, filters=filters, page=page, years=years,
                       reconciliation_year=year, reconciliation=reconciliation, origins=RUN_ORIGINS,
                       statuses=RUN_STATUSES)


@router.get("/runs.csv")
def runs_csv(request: Request, user: ReadUser) -> StreamingResponse:
    filters = RunFilters.from_params(request.query_params)
    return csv_download("edfi-sync-runs.csv", store.RUNS, filters, include_dry_runs=True)


@router.get("/runs/{run_id}", response_class=HTMLResponse)
def run(request: Request, run_id: str, user: ReadUser) -> HTMLResponse:
    with database.connect() as conn:
        found = store.run(conn, run_id)
        steps = store.run_steps(conn, run_id) if found else []
    if found is None:
        raise HTTPException(404, f"no run {run_id}")
    return render.page(request, "run.html", user=user, run=found, steps=steps)
