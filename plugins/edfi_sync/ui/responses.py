"""Responses the pages share: a report as a streamed CSV download."""

from __future__ import annotations

from typing import Iterator

from starlette.background import BackgroundTask
from starlette.responses import StreamingResponse

from ..reports import store
from ..reports.export import csv_lines
from . import database


CHUNK = 1 << 16  # characters sent at a time: each chunk is one hop to a worker thread


def csv_download(filename: str, query: tuple[str, ...], filters, **params) -> StreamingResponse:
    """Every row the filters select, streamed from a server-side cursor as it is read, in chunks
    of about 64 KiB. The connection opens first, so a database problem is an error page, not a
    cut download."""
    conn = database.connect_now()

    def chunks() -> Iterator[str]:
        try:
            buffer: list[str] = []
            size = 0
            for line in csv_lines(store.stream(conn, query, filters, **params)):
                buffer.append(line)
                size += len(line)
                if size >= CHUNK:
                    yield "".join(buffer)
                    buffer, size = [], 0
            if buffer:
                yield "".join(buffer)
        finally:
            conn.close()

    return StreamingResponse(chunks(), media_type="text/csv; charset=utf-8", background=BackgroundTask(conn.close),
                             headers={"Content-Disposition": f'attachment; filename="{filename}"'})
