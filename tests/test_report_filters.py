"""The reports' pure parts: a page URL's filters, the keyset cursor and its pages, the chart's
scale, the 120-column error table (no database, no web server)."""

from __future__ import annotations

from datetime import datetime, timezone
from urllib.parse import parse_qsl

import pytest

from edfi_sync.reports.export import csv_lines
from edfi_sync.reports.filters import (
    BadFilter, Cursor, ErrorFilters, IdentityMapFilters, Page, RunFilters, as_number, name_patterns)
from edfi_sync.reports.terminal import error_table, student
from edfi_sync.ui.chart import nice_ceiling, run_chart


def test_blank_parameters_are_the_defaults_and_the_url_keeps_only_what_differs():
    filters = ErrorFilters.from_params({"school_year": "", "resource": "students", "status": "", "q": "  Maria  ",
                                        "sort": "last_seen"})
    assert (filters.school_year, filters.resource, filters.status, filters.q, filters.sort) == (
        None, "students", "open", "Maria", "last_seen")
    assert dict(parse_qsl(filters.query())) == {"resource": "students", "q": "Maria"}
    assert filters.active() == [("resource", "students"), ("q", "Maria")]
    # a summary link adds a filter; a chip removes one; both start at the first page again
    paged = ErrorFilters.from_params({"resource": "students", "page": Cursor(False, ("k", 3), 50).token()})
    assert dict(parse_qsl(paged.query(error_code="unmapped_value"))) == {"resource": "students",
                                                                         "error_code": "unmapped_value"}
    assert paged.query(resource=None) == ""


@pytest.mark.parametrize(("params", "message"), [
    ({"school_year": "2025x"}, "school_year is a school year's end year such as 2025"),
    ({"status": "closed"}, "status is one of open, resolved, archived, all"),
    ({"sort": "'; DROP TABLE edfi_sync.error_log; --"}, "sort is one of last_seen"),
    ({"error_class": "fatal"}, "error_class is one of data"),
    ({"q": "x" * 201}, "q is longer than 200 characters"),
    ({"page": "not-a-cursor"}, "page is not a page of this list"),
])
def test_a_value_a_filter_cannot_take_says_what_it_takes(params, message):
    with pytest.raises(BadFilter, match=message.replace("(", r"\(")):
        ErrorFilters.from_params(params)


def test_cursor_tokens_round_trip_and_a_cursor_of_another_list_is_refused():
    cursor = Cursor(True, ("2025-08-01T00:00:00+00:00", "cli__x__2025"), 100)
    assert Cursor.parse(cursor.token(), 2) == cursor
    with pytest.raises(BadFilter):
        IdentityMapFilters.from_params({"page": cursor.token()})  # three key columns there, not two
    assert RunFilters.from_params({"page": cursor.token()}).page == cursor


def test_sql_parameters_carry_the_keyset_and_the_search_helpers():
    params = IdentityMapFilters(school_year=2025, q="355240007").sql_params()
    assert (params["paging"], params["key_1"], params["limit"], params["q_number"]) == ("first", None, 51, 355240007)
    after = ErrorFilters(page=Cursor(False, ("0\x01k", -7), 50)).sql_params(limit=None)
    assert (after["paging"], after["key_1"], after["key_2"], after["limit"]) == ("after", "0\x01k", -7, None)
    assert ErrorFilters(page=Cursor(True, ("k", 1), 50)).sql_params()["paging"] == "before"


def test_a_name_search_needs_every_word_and_takes_like_wildcards_literally():
    assert name_patterns("  maria   LOPEZ ") == ["%maria%", "%LOPEZ%"]
    assert name_patterns("a100%_x\\") == ["%a100\\%\\_x\\\\%"]
    assert name_patterns(None) == [] and name_patterns("   ") == [] and name_patterns("604231778") == []
    assert as_number("255901") == 255901 and as_number("2.5") is not None
    assert as_number("2024-08-19") is None and as_number("abc") is None


def _rows(keys):
    return [{"k": k} for k in keys]


def test_pages_forward_and_backward_with_their_neighbours():
    first = Page.of(_rows(range(51)), None, lambda r: (r["k"],), size=50)
    assert [r["k"] for r in first.rows] == list(range(50)) and first.start == 0
    assert first.previous is None and first.next == Cursor(False, (49,), 50)
    last = Page.of(_rows(range(50, 60)), first.next, lambda r: (r["k"],), size=50)
    assert last.start == 50 and last.next is None and last.previous == Cursor(True, (50,), 50)
    # backward: the rows before key 50 come in page order, the extra one (furthest back) dropped
    back = Page.of(_rows(range(0, 51)), last.previous, lambda r: (r["k"],), size=50)
    assert [r["k"] for r in back.rows] == list(range(1, 51)) and back.start == 0  # never below 0
    assert back.next == Cursor(False, (50,), 50) and back.previous == Cursor(True, (1,), 0)
    stamp = datetime(2025, 9, 1, tzinfo=timezone.utc)
    assert Page.of([{"t": stamp}], None, lambda r: (r["t"],)).next is None
    assert Page.of([{"t": stamp}] * 51, None, lambda r: (r["t"],)).next.key == (stamp.isoformat(),)


def test_the_chart_scales_each_panel_on_its_own_so_few_errors_stay_visible():
    assert [nice_ceiling(v) for v in (0, 1, 3, 10, 11, 4_300, 50_001)] == [1, 1, 5, 10, 20, 5_000, 100_000]
    runs = [{"sent": 4_300, "record_errors": 3, "run_id": "a"}, {"sent": 0, "record_errors": 0, "run_id": "b"}]
    chart = run_chart(runs, width=300, panel=60, slots=30)
    assert (chart.top_sent, chart.top_errors) == (5_000, 5)
    assert [b.sent_height for b in chart.bars] == [51.6, 0] and [b.errors_height for b in chart.bars] == [36, 0]
    assert chart.bars[1].x == chart.bars[0].x + 25  # a slot is at least a twelfth of the width
    many = run_chart(runs * 40, width=300)
    assert len(many.bars) == 30 and many.bars[1].x - many.bars[0].x == 10  # the last 30 runs


def test_csv_keeps_every_column_and_no_cell_is_a_spreadsheet_formula():
    rows = [{"name": "=HYPERLINK(\"http://x\")", "n": -1, "body": {"a": [1]}, "at": datetime(2025, 9, 1, tzinfo=timezone.utc),
             "none": None}, {"name": "Ana, \"Lu\"", "n": 2, "body": None, "at": None, "none": None}]
    assert "".join(csv_lines(rows)) == (
        'name,n,body,at,none\r\n"\'=HYPERLINK(""http://x"")",-1,"{""a"": [1]}",2025-09-01T00:00:00+00:00,\r\n'
        '"Ana, ""Lu""",2,,,\r\n')
    assert list(csv_lines([])) == []


ERROR = {"resource": "studentSchoolFoodServiceProgramAssociations", "student_name": "Maximiliano Montoya-Gallegos",
         "student_unique_id": "604231778", "school_id": "355240001", "error_code": "delete_blocked_by_dependent",
         "message": "The resource item cannot be deleted because it is a dependency of another item " * 3,
         "fix": "Delete (or resync) the dependent records named in the message first; the delete is retried on "
                "the next run. The record stays in the identity map until then.", "state": "open"}


def test_the_terminal_error_table_fits_120_columns_and_gives_each_fix_once():
    rows = [ERROR, {**ERROR, "student_name": None, "school_id": None}, {**ERROR, "error_code": "unmapped_value",
                                                                       "fix": "Add the mapping."}]
    lines = error_table(rows)
    assert all(len(line) <= 120 for line in lines)
    assert lines[0].split() == ["RESOURCE", "STUDENT", "SCHOOL", "ERROR", "CODE", "MESSAGE"]
    assert "(604231778)" in lines[1] and "604231778" in lines[2]  # a long name is cut, the id never
    text = "\n".join(lines)
    assert text.count("delete_blocked_by_dependent: Delete (or resync)") == 1 and "unmapped_value: Add the mapping." in text
    assert "--format csv or --format json" in lines[-1]
    mixed = error_table([ERROR, {**ERROR, "state": "resolved"}])
    assert mixed[0].startswith("STATE") and all(len(line) <= 120 for line in mixed)
    assert student({"student_name": "Ana", "student_unique_id": None}) == "Ana"
    assert error_table([]) == ["(no errors)"]
