"""The pages' FastAPI app, mounted by the plugin at /edfi-sync on Airflow's api-server.

Every route needs an Airflow login (the app-wide ``get_user`` dependency: 401 without one), and
each page also asks the auth manager about the DAG it shows, each action about the DAG it starts
(``auth.authorized``); every action is a POST from these pages (``csrf``). Errors are
pages too: a bad filter is a 400 that says what the filter takes, a database the pages cannot
read is a 503 that says what to do.
"""

from __future__ import annotations

from airflow.api_fastapi.app import get_auth_manager
from airflow.api_fastapi.core_api.security import get_user
from fastapi import Depends, FastAPI, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from ..reports.filters import BadFilter
from . import render
from .database import PagesUnavailable
from .pages import assets, audit, delete, errors, identity_map, resync, runs


def create_app() -> FastAPI:
    app = FastAPI(title="Ed-Fi sync pages", docs_url=None, redoc_url=None, openapi_url=None,
                  dependencies=[Depends(get_user)])
    for module in (errors, identity_map, runs, resync, delete, audit, assets):
        app.include_router(module.router)

    @app.get("/", include_in_schema=False)
    def home(request: Request) -> RedirectResponse:
        return RedirectResponse(f"{request.scope.get('root_path', '')}/errors")

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        return _problem(request, exc.status_code, str(exc.detail), getattr(exc, "headers", None))

    @app.exception_handler(BadFilter)
    async def bad_filter(request: Request, exc: BadFilter) -> Response:
        return _problem(request, 400, str(exc))

    @app.exception_handler(PagesUnavailable)
    async def unavailable(request: Request, exc: PagesUnavailable) -> Response:
        return _problem(request, 503, str(exc))

    return app


TITLES = {400: "This cannot be used", 401: "Log in to Airflow first", 403: "Not allowed",
          404: "Not found", 409: "Not yet", 503: "The pages cannot use the connector database"}


def _problem(request: Request, status: int, detail: str, headers: dict | None = None) -> Response:
    """An error as a page for a browser, as JSON ({"detail"}) for anything else."""
    if "text/html" not in request.headers.get("accept", ""):
        return JSONResponse({"detail": detail}, status_code=status, headers=headers)
    login = get_auth_manager().get_url_login(next_url=str(request.url)) if status == 401 else None
    response = render.page(request, "problem.html", status_code=status, title=TITLES.get(status, "Error"),
                           detail=detail, status=status, login=login)
    if headers:
        response.headers.update(headers)
    return response

