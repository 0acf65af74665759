"""The Delete Tool's page, /edfi-sync/delete: records of a school year's ODS by resource and natural
key, by Ed-Fi id or from a CSV of keys. "Preview" triggers the DAG edfi_delete, which finds them and
every record that references them (GETs only) and stores the plan; the page shows it
(``?audit_id=<id>`` of the preview), and "Delete" runs exactly that plan. A 409 row of the Error Log
links here with its record filled in."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from ...actions import audit
from ...deletion import tool
from ...deletion.plan import BadTarget, Target, checked, deletable_resources, key_names, target, targets_from_csv
from ...reports import store
from .. import airflow_runs, csrf, database, render
from ..auth import DeleteUser

router = APIRouter()
MAX_CSV = 1 << 20  # bytes


@router.get("/delete", response_class=HTMLResponse)
def delete_page(request: Request, user: DeleteUser, audit_id: int | None = None) -> HTMLResponse:
    with database.connect() as conn:
        years = store.school_years(conn)
        entry = audit.entry(conn, audit_id) if audit_id else None
        if audit_id and (entry is None or entry["action"] not in ("delete_preview", "delete")):
            raise HTTPException(404, f"no Delete Tool action in the audit trail with id {audit_id}")
        state = airflow_runs.state("edfi_delete", entry["dag_run_id"]) if entry else None
        plan = tool.load(conn, entry["plan_id"]) if entry and entry["plan_id"] else None
    # The form: what the query asks for (a 409 row's link), else what the preview shown asked for.
    params, resources = request.query_params, deletable_resources()
    asked = ((entry or {}).get("params") or {}).get("targets") or [{}]
    resource = next((r for r in (params.get("resource"), asked[0].get("resource")) if r in resources), resources[0])
    key = {k[4:]: v for k, v in params.items() if k.startswith("key.")} \
        or ((asked[0].get("key") or {}) if asked[0].get("resource") == resource else {})
    year = params.get("school_year")
    school_year = int(year) if year and year.isdigit() \
        else (entry or {}).get("school_year") or (years[0] if years else None)
    return render.page(request, "delete.html", user=user, years=years, resources=resources, resource=resource,
                       key_names=key_names(resource), key=key, school_year=school_year,
                       entry=entry, state=state, plan=plan, paused=airflow_runs.paused("edfi_delete"))


@router.post("/delete")
async def preview(request: Request, user: DeleteUser) -> RedirectResponse:
    """A preview of what the form asks for (the DAG run stores the plan)."""
    form = await csrf.checked_form(request, user)
    resource = str(form.get("resource") or "")
    try:
        year = int(str(form.get("school_year") or ""))
        targets = []
        key = {name[4:]: value for name, value in form.items() if name.startswith("key.") and str(value).strip()}
        if key:
            targets.append(target(resource, key))
        targets += [target(resource, None, line) for line in str(form.get("ids") or "").split() if line]
        upload = form.get("csv")
        if isinstance(upload, UploadFile) and upload.filename:
            text = (await upload.read(MAX_CSV + 1)).decode("utf-8-sig")
            if len(text) > MAX_CSV:
                raise BadTarget(f"the CSV is larger than {MAX_CSV // 1024} KiB: split it")
            targets += targets_from_csv(text, resource)
        targets = checked(targets)
    except (BadTarget, UnicodeDecodeError) as exc:
        raise HTTPException(400, str(exc)) from None
    except ValueError:
        raise HTTPException(400, "choose a school year") from None
    return await _preview(request, user, year, targets)


@router.post("/delete/{audit_id}/choose")
async def preview_with_chosen(request: Request, audit_id: int, user: DeleteUser) -> RedirectResponse:
    """Preview again, the records outside the identity map that were ticked now asked for too."""
    form = await csrf.checked_form(request, user)
    entry = await run_in_threadpool(_entry, audit_id, "delete_preview")
    chosen = [str(value).partition(":") for value in form.getlist("choose")]
    try:
        targets = checked([Target.from_dict(item) for item in entry["params"]["targets"]]
                          + [target(resource, None, edfi_id) for resource, _, edfi_id in chosen])
    except BadTarget as exc:
        raise HTTPException(400, str(exc)) from None
    return await _preview(request, user, entry["school_year"], targets)


@router.post("/delete/{audit_id}/run")
async def run_plan(request: Request, audit_id: int, user: DeleteUser) -> RedirectResponse:
    """Delete exactly what the preview ``audit_id`` stored."""
    await csrf.checked_form(request, user)

    def run() -> int:
        entry = _entry(audit_id, "delete_preview")
        if not entry["plan_id"]:
            raise HTTPException(409, "this preview has no plan yet: wait for its DAG run to end")
        conf = {"school_year": entry["school_year"], "targets": [], "plan": entry["plan_id"]}
        return airflow_runs.start(request, user, "delete", "edfi_delete", conf, entry["school_year"],
                         params={**conf, "preview": audit_id})

    new_id = await run_in_threadpool(run)
    return RedirectResponse(f"{render.base(request)}/delete?audit_id={new_id}", status_code=303)


async def _preview(request: Request, user, year: int, targets: list[Target]) -> RedirectResponse:
    conf = {"school_year": year, "targets": [t.as_dict() for t in targets], "plan": None}
    audit_id = await run_in_threadpool(airflow_runs.start, request, user, "delete_preview", "edfi_delete", conf, year)
    return RedirectResponse(f"{render.base(request)}/delete?audit_id={audit_id}", status_code=303)


def _entry(audit_id: int, action: str) -> dict:
    with database.connect() as conn:
        entry = audit.entry(conn, audit_id)
    if entry is None or entry["action"] != action:
        raise HTTPException(404, f"no {action.replace('_', ' ')} in the audit trail with id {audit_id}")
    return entry
