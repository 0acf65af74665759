"""The Error Log: /edfi-sync/errors (filters as query parameters, summaries, a chart of the
last runs), /edfi-sync/errors.csv (the whole filtered set) and /edfi-sync/errors/{id}; and its
actions, POST /edfi-sync/errors/actions: archive the chosen rows with a reason, or retry their
records (an edfi_sync run of just those records)."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, StreamingResponse
from starlette.concurrency import run_in_threadpool

from ...actions import audit
from ...actions import errors as actions
from ...engine.errors import CATALOGUE
from ...reports import store
from ...reports.filters import ERROR_CLASSES, ERROR_SORTS, ERROR_STATUSES, ErrorFilters
from ...resources import GRAPH
from .. import airflow_runs, csrf, database, render
from ..auth import ReadUser, SyncUser, may
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
        delete_tool = actions.delete_tool_queries(conn, page.rows)
    return render.page(request, "errors.html", user=user, filters=filters, page=page, summary=summary, schools=schools,
                       chart=run_chart(runs), years=years, resources=GRAPH.post_order(), codes=sorted(CATALOGUE),
                       classes=ERROR_CLASSES, statuses=ERROR_STATUSES, sorts=ERROR_SORTS, delete_tool=delete_tool,
                       can_act=may(user, "edfi_sync"))


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
        delete_tool = actions.delete_tool_queries(conn, [row]) if row else {}
    if row is None:
        raise HTTPException(404, f"no error-log row {error_id}")
    return render.page(request, "error.html", user=user, error=row, schools=schools, delete_tool=delete_tool)


@router.post("/errors/actions")
async def error_actions(request: Request, user: SyncUser) -> RedirectResponse:
    """Archive or retry the chosen rows; then the action's entry in the audit trail."""
    form = await csrf.checked_form(request, user)
    try:
        error_ids = sorted({int(value) for value in form.getlist("error_id")})
    except ValueError:
        raise HTTPException(400, "error_id takes error-log row ids") from None
    if not error_ids or len(error_ids) > actions.MAX_CHOSEN:
        raise HTTPException(400, f"choose between 1 and {actions.MAX_CHOSEN} errors first")
    action, note = form.get("action"), str(form.get("note") or "").strip()
    if action not in ("archive", "retry"):
        raise HTTPException(400, "action is archive or retry")
    audit_id = await run_in_threadpool(_act, request, user, action, error_ids, note)
    return RedirectResponse(f"{render.base(request)}/audit/{audit_id}", status_code=303)


def _act(request: Request, user, action: str, error_ids: list[int], note: str) -> int:
    with database.connect() as conn:
        rows = actions.chosen(conn, error_ids)
    if not rows:
        raise HTTPException(404, "none of the chosen errors is in the error log (any more): reload the page")
    return _archive(user, rows, note) if action == "archive" else _retry(request, user, rows)


def _archive(user, rows: list[dict], note: str) -> int:
    if not note or len(note) > actions.MAX_NOTE:
        raise HTTPException(400, f"say why these errors are archived (a reason of at most {actions.MAX_NOTE} "
                                 "characters): it stays with them")
    with database.connect(role=database.OPERATOR_ROLE) as conn, conn.transaction():
        archived = actions.archive(conn, [r["error_id"] for r in rows], user.get_name(), note)
        return audit.record(conn, actor=user.get_name(), origin="ui", action="archive",
                            school_year=actions.one_year(rows), params={"error_ids": [r["error_id"] for r in rows],
                                                                         "note": note},
                            outcome="archived", result={"archived": len(archived),
                                                        "already_closed": len(rows) - len(archived)})


def _retry(request: Request, user, rows: list[dict]) -> int:
    by_year = actions.records_by_year(rows)
    if not by_year:
        raise HTTPException(400, "none of these errors names a SIS record to send again")
    # One run per school year, each sending only its own records; the page shows the last one's entry.
    return [airflow_runs.start(request, user, "retry", "edfi_sync", {"school_years": [year], "records": records},
                               school_year=year) for year, records in by_year.items()][-1]

