"""The Error Log: /edfi-sync/errors (filters as query parameters, summaries, a chart of the
last runs), /edfi-sync/errors.csv (the whole filtered set) and /edfi-sync/errors/{id}."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, StreamingResponse

from ...engine.errors import CATALOGUE
from ...reports import store
from ...reports.filters import ERROR_CLASSES, ERROR_SORTS, ERROR_STATUSES, ErrorFilters
from ...resources import GRAPH
from .. import database, render
from ..auth import ReadUser
from ..chart import run_chart
from ..responses import csv_download

router = APIRouter()


@router.get("/errors", response_class=HTMLResponse)
def error_log(request: Request, user: ReadUser) -> HTMLResponse:
    filters = ErrorFilters.from_params(request.query_params)
    with database.connect() as conn:
        page = store.error_page(conn, filters)
        summary = store.error_summary(conn, filters)
        runs = store.recent_runs(conn, filters.school_year)
        years = store.school_years(conn)
        schools = store.school_names(conn, {r["school_id"] for r in page.rows} | {r["value"] for r in summary["school"]})
    return render.page(request, "errors.html", user=user, filters=filters, page=page, summary=summary, schools=schools,
                       chart=run_chart(runs), years=years, resources=GRAPH.post_order(), codes=sorted(CATALOGUE),
                       classes=ERROR_CLASSES, statuses=ERROR_STATUSES, sorts=ERROR_SORTS)


@router.get("/errors.csv")
def error_log_csv(request: Request, user: ReadUser) -> StreamingResponse:
    filters = ErrorFilters.from_params(request.query_params)
    suffix = f"-{filters.school_year}" if filters.school_year else ""
    return csv_download(f"edfi-sync-errors{suffix}.csv", store.ERRORS, filters)


@router.get("/errors/{error_id}", response_class=HTMLResponse)
def error_detail(request: Request, error_id: int, user: ReadUser) -> HTMLResponse:
    with database.connect() as conn:
        row = store.error(conn, error_id)
        schools = store.school_names(conn, {row["school_id"]}) if row else {}
    if row is None:
        raise HTTPException(404, f"no error-log row {error_id}")
    return render.page(request, "error.html", user=user, error=row, schools=schools)
