"""Responses the pages share: a report as a streamed CSV download."""

from __future__ import annotations

from typing import Iterator

from starlette.background import BackgroundTask
from starlette.responses import StreamingResponse

from ..reports import store
from ..reports.export import csv_lines
from . import database


def csv_download(filename: str, query: tuple[str, ...], filters, **params) -> StreamingResponse:
    """Every row the filters select, streamed from a server-side cursor as it is read. The
    connection opens first, so a database problem is an error page, not a cut download."""
    conn = database.connect_now()

    def lines() -> Iterator[str]:
        try:
            yield from csv_lines(store.stream(conn, query, filters, **params))
        finally:
            conn.close()

    return StreamingResponse(lines(), media_type="text/csv; charset=utf-8", background=BackgroundTask(conn.close),
                             headers={"Content-Disposition": f'attachment; filename="{filename}"'})
