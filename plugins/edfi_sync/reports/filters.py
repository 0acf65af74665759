"""What a report asks for: its filters, its sort and its keyset page, read from a page's query
string (or the CLI's options), checked, and handed to SQL as parameters, never as SQL text.

Pure: no database and no web framework, so the pages and ``edfi-sync report`` share it.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from dataclasses import dataclass, field, fields, replace
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Callable, ClassVar, Mapping
from urllib.parse import urlencode

PAGE_SIZE = 50
MAX_TEXT = 200
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")

ERROR_STATUSES = {"open": "Open", "resolved": "Resolved", "archived": "Archived", "all": "All"}
ERROR_CLASSES = ("data", "missing_reference", "authorization", "retryable", "ignorable")
# Every sort puts open problems first, then orders by its key, then newest first.
ERROR_SORTS = {"last_seen": "Last seen, newest first", "first_seen": "First seen, oldest first",
               "occurrences": "Most occurrences first", "resource": "Resource", "student": "Student name",
               "school": "School"}
RUN_ORIGINS = ("airflow", "cli")
RUN_STATUSES = ("running", "success", "record_errors", "failed", "abandoned")


class BadFilter(ValueError):
    """A filter value a report cannot use; the message says what it expects."""


@dataclass(frozen=True)
class Cursor:
    """A keyset position: the sort key of the row a page starts after (``backward``: ends before),
    and how many rows come before the page, for "rows 51-100 of 1,234"."""

    backward: bool
    key: tuple
    start: int

    def token(self) -> str:
        raw = json.dumps([int(self.backward), list(self.key), self.start], separators=(",", ":"))
        return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")

    @classmethod
    def parse(cls, token: str, arity: int) -> "Cursor":
        try:
            raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
            backward, key, start = json.loads(raw)
            if not (isinstance(key, list) and len(key) == arity and isinstance(start, int) and start >= 0
                    and all(isinstance(v, int) or isinstance(v, str) and not _CONTROL.search(v) for v in key)):
                raise ValueError
        except (ValueError, TypeError, binascii.Error, UnicodeDecodeError):
            raise BadFilter("page is not a page of this list (follow the Next/Previous links)") from None
        return cls(bool(backward), tuple(key), start)


def _text(name: str, raw: str) -> str:
    if len(raw) > MAX_TEXT:
        raise BadFilter(f"{name} is longer than {MAX_TEXT} characters")
    if _CONTROL.search(raw):  # PostgreSQL text cannot hold a NUL: it would fail the query, not match nothing
        raise BadFilter(f"{name} holds a control character")
    return raw


def _year(name: str, raw: str) -> int:
    if not re.fullmatch(r"\d{4}", raw):
        raise BadFilter(f"{name} is a school year's end year such as 2025, not {raw!r}")
    return int(raw)


def _choice(options) -> Callable[[str, str], str]:
    def parse(name: str, raw: str) -> str:
        if raw not in options:
            raise BadFilter(f"{name} is one of {', '.join(options)}, not {raw!r}")
        return raw
    return parse


def _param(parse: Callable[[str, str], Any] = _text, default: Any = None) -> Any:
    return field(default=default, metadata={"parse": parse})


def name_patterns(text: str | None) -> list[str]:
    """ILIKE patterns for a name search: every word must appear, in any order and case
    ("lopez maria" finds "Maria Lopez"); LIKE's wildcards in the words are literal. A search
    without a letter (an id, a key) is no name: no patterns, and no name is scanned."""
    if not any(c.isalpha() for c in text or ""):
        return []
    return ["%" + re.sub(r"([\\%_])", r"\\\1", word) + "%" for word in text.split()]


def as_number(text: str | None) -> Decimal | None:
    """A search term that is a number also matches numeric natural-key values (schoolId 255901)."""
    if text is None or not re.fullmatch(r"-?\d+(\.\d+)?", text):
        return None
    try:
        return Decimal(text)
    except InvalidOperation:
        return None


@dataclass(frozen=True)
class ReportFilters:
    """A report's query string as a value: parsed field by field (blank = the default), written
    back as the shortest URL that means the same, and given to SQL as parameters."""

    CURSOR_ARITY: ClassVar[int]

    page: Cursor | None = field(default=None, metadata={"parse": None})

    @classmethod
    def from_params(cls, params: Mapping[str, str]) -> "ReportFilters":
        values: dict[str, Any] = {}
        for f in fields(cls):
            raw = (params.get(f.name) or "").strip()
            if not raw:
                continue
            values[f.name] = Cursor.parse(raw, cls.CURSOR_ARITY) if f.name == "page" else f.metadata["parse"](f.name, raw)
        return cls(**values)

    def query(self, **changes: Any) -> str:
        """The query string of these filters with ``changes``; a change of filter starts at the
        first page again unless it names one."""
        changed = replace(self, **{"page": None, **changes})
        pairs = []
        for f in fields(changed):
            value = getattr(changed, f.name)
            if value is not None and value != f.default:
                pairs.append((f.name, value.token() if isinstance(value, Cursor) else str(value)))
        return urlencode(pairs)

    def active(self) -> list[tuple[str, Any]]:
        """The filters set away from their defaults (the page and the sort aside)."""
        return [(f.name, getattr(self, f.name)) for f in fields(self)
                if f.name not in ("page", "sort") and getattr(self, f.name) not in (None, f.default)]

    def sql_params(self, limit: int | None = PAGE_SIZE) -> dict[str, Any]:
        """Every filter, plus the keyset: ``paging`` (first, after, before), ``key_1``... and ``limit``
        (None: every row, as CSV downloads and the CLI read them)."""
        params = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "page"}
        key = self.page.key if self.page else (None,) * self.CURSOR_ARITY
        params.update({f"key_{i}": value for i, value in enumerate(key, 1)})
        params["paging"] = "first" if self.page is None else ("before" if self.page.backward else "after")
        params["limit"] = None if limit is None else limit + 1  # one more tells whether a next page exists
        return params


@dataclass(frozen=True)
class ErrorFilters(ReportFilters):
    """The Error Log's URL: /edfi-sync/errors?school_year=&resource=&error_code=&error_class=&status=
    &school=&q=&run_id=&sort=&page= (SPEC §6.1's lifecycle in ``status``)."""

    CURSOR_ARITY: ClassVar[int] = 2  # (sort key, error id)

    school_year: int | None = _param(_year)
    resource: str | None = _param()
    error_code: str | None = _param()
    error_class: str | None = _param(_choice(ERROR_CLASSES))
    status: str = _param(_choice(tuple(ERROR_STATUSES)), "open")
    school: str | None = _param()
    q: str | None = _param()
    run_id: str | None = _param()
    sort: str = _param(_choice(tuple(ERROR_SORTS)), "last_seen")

    def sql_params(self, limit: int | None = PAGE_SIZE) -> dict[str, Any]:
        return {**super().sql_params(limit), "name_patterns": name_patterns(self.q)}


@dataclass(frozen=True)
class IdentityMapFilters(ReportFilters):
    """The Identity Mapping Report's URL: /edfi-sync/identity-map?school_year=&resource=&q=&page=.
    ``q`` is a SIS key, a natural-key value, an Ed-Fi id, a studentUniqueId or a student's name."""

    CURSOR_ARITY: ClassVar[int] = 3  # (resource, SIS object key, natural key hash)

    school_year: int | None = _param(_year)
    resource: str | None = _param()
    q: str | None = _param()

    def sql_params(self, limit: int | None = PAGE_SIZE) -> dict[str, Any]:
        return {**super().sql_params(limit), "name_patterns": name_patterns(self.q), "q_number": as_number(self.q)}


@dataclass(frozen=True)
class RunFilters(ReportFilters):
    """The runs' URL: /edfi-sync/runs?school_year=&origin=&status=&page=."""

    CURSOR_ARITY: ClassVar[int] = 2  # (started at, run id), newest first

    school_year: int | None = _param(_year)
    origin: str | None = _param(_choice(RUN_ORIGINS))
    status: str | None = _param(_choice(RUN_STATUSES))


@dataclass(frozen=True)
class Page:
    """One page of rows and the cursors of its neighbours (None at either end)."""

    rows: list[dict]
    start: int
    next: Cursor | None
    previous: Cursor | None

    @classmethod
    def of(cls, fetched: list[dict], page: Cursor | None, key: Callable[[dict], tuple],
           size: int = PAGE_SIZE) -> "Page":
        """``fetched``: up to size + 1 rows in page order (reversed already when paging backward)."""
        start = page.start if page else 0
        backward = bool(page and page.backward)
        more = len(fetched) > size
        rows = fetched[1:] if more and backward else fetched[:size]
        if backward:
            start = max(start - len(rows), 0)
        has_next = more if not backward else True
        has_previous = start > 0 if not backward else more
        return cls(
            rows, start,
            next=Cursor(False, _jsonable_key(key(rows[-1])), start + len(rows)) if rows and has_next else None,
            previous=Cursor(True, _jsonable_key(key(rows[0])), start) if rows and has_previous else None)


def _jsonable_key(key: tuple) -> tuple:
    return tuple(v.isoformat() if isinstance(v, datetime) else v for v in key)
