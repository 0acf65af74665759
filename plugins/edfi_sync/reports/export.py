"""Rows as CSV or JSON: the same text from `edfi-sync report --format csv|json` and from a page's
CSV download, every column kept (nested values as JSON, times in ISO 8601). A text cell that a
spreadsheet would run as a formula (a SIS name "=HYPERLINK(...)") starts with a quote."""

from __future__ import annotations

import csv
import io
import json
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Iterable, Iterator


def jsonable(value: Any) -> Any:
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: Any) -> Any:
    value = jsonable(value)
    if isinstance(value, (list, dict)):
        return json.dumps(value)
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def csv_lines(rows: Iterable[dict]) -> Iterator[str]:
    """A header (from the first row) and one line per row; nothing for no rows."""
    buffer = io.StringIO()
    writer = None
    for row in rows:
        if writer is None:
            writer = csv.DictWriter(buffer, fieldnames=list(row))
            writer.writeheader()
        writer.writerow({k: _cell(v) for k, v in row.items()})
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()


def json_text(rows: Iterable[dict]) -> str:
    return json.dumps([{k: jsonable(v) for k, v in row.items()} for row in rows], indent=2, default=str)
