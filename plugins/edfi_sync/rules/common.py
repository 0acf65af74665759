"""Rules every resource shares (SPEC §7 "Common")."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Mapping


@dataclass(frozen=True)
class SchoolYear:
    """The configured (scope) year: end_year Y runs from start to end, both inclusive."""

    end_year: int
    start: date
    end: date

    @classmethod
    def from_setup(cls, end_year: int, start: date | None = None, end: date | None = None) -> "SchoolYear":
        """School Year Setup; NULL dates mean 07/01/(Y-1) and 06/30/Y."""
        return cls(end_year, start or date(end_year - 1, 7, 1), end or date(end_year, 6, 30))

    def overlaps(self, start: date | None, end: date | None) -> bool:
        """start <= year end AND (end NULL or end >= year start); a NULL start counts as open."""
        return (start is None or start <= self.end) and (end is None or end >= self.start)

    def contains(self, day: date | None) -> bool:
        return day is not None and self.start <= day <= self.end


def descriptor_uri(namespace: str, code_value: str) -> str:
    """Ed-Fi descriptor values travel as ``namespace#codeValue``."""
    return f"{namespace}#{code_value}"


class OffCalendar(date):
    """A date PostgreSQL holds but the calendar of Python and Ed-Fi does not: 'infinity' and years after
    9999 compare as the last day, '-infinity' and BC dates as the first, so rules read them as
    PostgreSQL does (an end of 'infinity' never ends); a record that would carry one is not sent."""

    text: str

    def __new__(cls, text: str) -> "OffCalendar":
        day = date.min if text.startswith("-") or text.endswith("BC") else date.max
        self = super().__new__(cls, day.year, day.month, day.day)
        self.text = text
        return self

    def isoformat(self) -> str:
        return self.text

    __str__ = isoformat

    def __repr__(self) -> str:
        return repr(self.text)


class ImpossibleValue(ValueError):
    """A SIS value no Ed-Fi record can carry: PostgreSQL holds dates beyond the calendar ('infinity',
    before year 1, after 9999) and numbers that are none (NaN, Infinity). The record is an error row."""


def parse_day(value: str | date | None, what: str = "date") -> date | None:
    """Dates arrive as ISO text from JSON aggregates."""
    if value is None or isinstance(value, date):
        return value
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ImpossibleValue(f"{what} {value!r} is not a calendar date the Ed-Fi API takes "
                              f"(years 0001-9999)") from None


def finite(value: Decimal | None, what: str = "number") -> Decimal | None:
    if value is not None and not value.is_finite():
        raise ImpossibleValue(f"{what} {str(value)!r} is not a number the Ed-Fi API takes")
    return value


class UnmappedValue(LookupError):
    """A SIS value with no Resource Preferences mapping (an error-log row where the seeds say so)."""

    def __init__(self, resource: str, field: str, sis_value: object):
        self.resource, self.field, self.sis_value = resource, field, sis_value
        super().__init__(f"no {resource} mapping for {field} = {sis_value!r}")


class Mappings:
    """Resource Preferences of one year: (resource, field, sis_value) -> descriptor URI."""

    def __init__(self, rows: Mapping[tuple[str, str, str], str] | None = None):
        self._rows = dict(rows or {})

    @classmethod
    def from_rows(cls, rows) -> "Mappings":
        """From (resource, field, sis_value, namespace, code_value) rows; incomplete rows are no mapping."""
        return cls({(r, f, v): descriptor_uri(ns, code) for r, f, v, ns, code in rows if ns and code})

    def get(self, resource: str, field: str, sis_value: object) -> str | None:
        if sis_value is None:
            return None
        return self._rows.get((resource, field, str(sis_value)))

    def require(self, resource: str, field: str, sis_value: object) -> str:
        uri = self.get(resource, field, sis_value)
        if uri is None:
            raise UnmappedValue(resource, field, sis_value)
        return uri

    def values(self, resource: str, field: str) -> dict[str, str]:
        return {v: uri for (r, f, v), uri in self._rows.items() if r == resource and f == field}
