"""`edfi-sync report` in a terminal: what a person reads first, within 120 columns. CSV and JSON
keep every column."""

from __future__ import annotations

import json
import textwrap
from typing import Any

WIDTH = 120
GAP = "  "
# (header, column, widest it grows) of the error table; the message takes what is left.
ERROR_COLUMNS = (("RESOURCE", "resource", 26), ("STUDENT", "student", 24), ("SCHOOL", "school_id", 10),
                 ("ERROR CODE", "error_code", 22))


def _fit(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def student(row: dict, width: int = WIDTH) -> str:
    """"Name (studentUniqueId)", or whichever of the two the row has; a long name is cut, the id never."""
    name, unique_id = row.get("student_name"), row.get("student_unique_id")
    if not (name and unique_id):
        return _fit(name or unique_id or "", width)
    return f"{_fit(name, max(width - len(unique_id) - 3, 1))} ({unique_id})"


def error_table(rows: list[dict], width: int = WIDTH) -> list[str]:
    """One line per error (resource, student, school, error code, message), then each error
    code's fix once: the fix depends on the code alone."""
    if not rows:
        return ["(no errors)"]
    columns = ERROR_COLUMNS
    if any(row.get("state", "open") != "open" for row in rows):  # --status all: say which are still open
        columns = (("STATE", "state", 8), *columns)
    student_width = dict((k, cap) for _, k, cap in columns)["student"]
    cells = [{"student": student(row, student_width), **{k: "" if row.get(k) is None else str(row[k])
                                                         for _, k, _ in columns if k != "student"}} for row in rows]
    widths = [min(cap, max(len(header), *(len(c[key]) for c in cells))) for header, key, cap in columns]
    message_width = width - sum(widths) - len(GAP) * len(widths)
    lines = [GAP.join([*(h.ljust(w) for (h, _, _), w in zip(columns, widths)), "MESSAGE"]).rstrip()]
    for row, cell in zip(rows, cells):
        message = " ".join((row.get("message") or "").split())
        lines.append(GAP.join([*(_fit(cell[k], w).ljust(w) for (_, k, _), w in zip(columns, widths)),
                               _fit(message, message_width)]).rstrip())
    fixes: dict[str, str] = {}
    for row in rows:
        fixes.setdefault(row["error_code"], row.get("fix") or "")
    lines += ["", "HOW TO FIX"]
    for code, fix in fixes.items():
        lines += textwrap.wrap(f"{code}: {fix}", width, subsequent_indent=" " * 4)
    lines += ["", f"{len(rows)} error(s). Every column (cause, request body, run, ...): --format csv or --format json"]
    return lines


def table(rows: list[dict], cell_width: int = 40) -> list[str]:
    """Any other report: every column, each cell cut at ``cell_width``."""
    if not rows:
        return ["(no rows)"]
    cells = [[_cell(row[k], cell_width) for k in rows[0]] for row in rows]
    widths = [max(len(h), *(len(c[i]) for c in cells)) for i, h in enumerate(rows[0])]
    return [GAP.join(h.ljust(w) for h, w in zip(rows[0], widths)).rstrip()] + [
        GAP.join(c.ljust(w) for c, w in zip(line, widths)).rstrip() for line in cells]


def _cell(value: Any, width: int) -> str:
    text = "" if value is None else (json.dumps(value, default=str) if isinstance(value, (list, dict)) else str(value))
    return _fit(text, width)
