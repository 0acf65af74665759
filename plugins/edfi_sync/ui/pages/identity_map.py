"""The Identity Mapping Report: /edfi-sync/identity-map (a school year, a resource, a search by
SIS key, natural-key value, Ed-Fi id or student) and /edfi-sync/identity-map.csv."""

from __future__ import annotations

from dataclasses import replace

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, StreamingResponse

from ...reports import store
from ...reports.filters import IdentityMapFilters
from .. import database, render
from ..auth import ReadUser
from ..responses import csv_download

router = APIRouter()


def _filters(request: Request, conn) -> tuple[IdentityMapFilters, list[int]]:
    """The map is read one school year at a time: the latest one unless the URL names one."""
    filters = IdentityMapFilters.from_params(request.query_params)
    years = store.school_years(conn)
    if filters.school_year is None and years:
        filters = replace(filters, school_year=years[0])
    return filters, years


@router.get("/identity-map", response_class=HTMLResponse)
def identity_map(request: Request, user: ReadUser) -> HTMLResponse:
    with database.connect() as conn:
        filters, years = _filters(request, conn)
        page = store.identity_map_page(conn, filters)
        counts = store.identity_map_counts(conn, filters)
    return render.page(request, "identity_map.html", user=user, filters=filters, page=page, counts=counts,
                       years=years)


@router.get("/identity-map.csv")
def identity_map_csv(request: Request, user: ReadUser) -> StreamingResponse:
    with database.connect() as conn:
        filters, _ = _filters(request, conn)
    return csv_download(f"edfi-sync-identity-map-{filters.school_year}.csv", store.IDENTITY_MAP, filters)
