"""The Resync page, /edfi-sync/resync: a school year, resources, one school or All Schools.
"Preview" triggers an edfi_sync dry run of that resync and, once it has ended, shows what a run
would POST, PUT and DELETE (``?audit=<id>`` of the preview); "Run" triggers the same conf for real.
Every Ed-Fi request is the DAG run's, on a worker (SPEC §6.1)."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from starlette.concurrency import run_in_threadpool

from ...actions import audit
from ...actions import resync as actions
from ...reports import store
from ...resources import GRAPH
from .. import airflow_runs, csrf, database, render
from ..auth import SyncUser

router = APIRouter()


@router.get("/resync", response_class=HTMLResponse)
def resync_page(request: Request, user: SyncUser, audit_id: int | None = None) -> HTMLResponse:
    with database.connect() as conn:
        years, schools = store.school_years(conn), store.schools(conn)
        entry = audit.entry(conn, audit_id) if audit_id else None
        if audit_id and (entry is None or entry["action"] not in ("resync_preview", "resync")):
            raise HTTPException(404, f"no resync in the audit trail with id {audit_id}")
        state = airflow_runs.state("edfi_sync", entry["dag_run_id"]) if entry else None
        preview = actions.preview(conn, entry["dag_run_id"], entry["school_year"]) \
            if entry and state in airflow_runs.TERMINAL else None
    return render.page(request, "resync.html", user=user, years=years, schools=schools, entry=entry,
                       state=state, preview=preview, conf=entry["params"] if entry else {},
                       resources=GRAPH.post_order(), paused=airflow_runs.paused("edfi_sync"))


@router.post("/resync")
async def resync(request: Request, user: SyncUser) -> RedirectResponse:
    """Preview (a dry run) or run the resync the form describes."""
    form = await csrf.checked_form(request, user)
    try:
        year = int(str(form.get("school_year") or ""))
        conf = actions.conf(year, form.getlist("resources"), str(form.get("school") or "").strip() or None,
                            dry_run=form.get("action") != "run")
    except ValueError as exc:
        raise HTTPException(400, f"choose a school year and known resources ({exc})") from None
    action = "resync_preview" if conf["dry_run"] else "resync"
    audit_id = await run_in_threadpool(airflow_runs.start, request, user, action, "edfi_sync", conf, year)
    return RedirectResponse(f"{render.base(request)}/resync?audit_id={audit_id}", status_code=303)


@router.post("/resync/{audit_id}/run")
async def run_previewed(request: Request, audit_id: int, user: SyncUser) -> RedirectResponse:
    """The previewed conf, for real."""
    await csrf.checked_form(request, user)

    def run() -> int:
        with database.connect() as conn:
            entry = audit.entry(conn, audit_id)
        if entry is None or entry["action"] != "resync_preview":
            raise HTTPException(404, f"no resync preview in the audit trail with id {audit_id}")
        conf = {**entry["params"], "dry_run": False}
        return airflow_runs.start(request, user, "resync", "edfi_sync", conf, entry["school_year"],
                         params={**conf, "preview": audit_id})

    new_id = await run_in_threadpool(run)
    return RedirectResponse(f"{render.base(request)}/resync?audit_id={new_id}", status_code=303)
