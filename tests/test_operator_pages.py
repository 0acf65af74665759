"""The operator pages inside the session's live Airflow (tests/live_airflow.py), after a demo-size
sync with its broken records: behind Airflow's login on every route, escaped, the CSV equal to
`edfi-sync report errors`, and, in real Chromium, what an operator does to find why a record
failed (log in, the Browse menu, filters, a summary link, the CSV, the identity map, a run).

Chromium is Debian's (`apt-get install -y chromium`, which .ci/run does); without it the browser
test fails. Screenshots go to $EDFI_SYNC_SCREENSHOTS when set (`make screenshots` writes docs/).
"""

from __future__ import annotations

import csv
import io
import os
import re
from pathlib import Path
from urllib.parse import quote, urlencode

import psycopg
import pytest
import requests

from browser import logged_in, open_page

pytestmark = pytest.mark.e2e

YEAR = 2025
SCRIPT_NAME = '<script>alert("x")</script>'
INJECTION = "'; DROP TABLE edfi_sync.error_log; --"


@pytest.fixture(scope="module")
def synced(live_airflow):
    """The demo's SIS (scale 1) synced twice: from the command line, which meets every broken
    record of the casebook, then, once person 53 has a last name, by a DAG run (his errors resolve,
    the others are seen again by Airflow tasks). Person 52 (no birth date) is named with a script tag.
    The engine run ids: (the CLI's, the DAG run's)."""
    live_airflow.load(None, demo_scale=1)
    with psycopg.connect(live_airflow.sis) as conn:
        conn.execute("UPDATE sis.person SET first_name = %s WHERE person_id = 52", (SCRIPT_NAME,))
    out = live_airflow.cli("sync", "--school-year", str(YEAR))
    [first] = re.findall(r"^run (cli__\S+) - school year", out, re.M)
    with psycopg.connect(live_airflow.sis) as conn:
        conn.execute("UPDATE sis.person SET last_name = 'Sandoval' WHERE person_id = 53")
    second = live_airflow.run({"school_years": [YEAR]}, timeout=300)
    return live_airflow, first, second


def routes(airflow, first: str) -> list[tuple[str, str]]:
    """Every route of the app (method, path), its path parameters filled with real values (an entry
    of the audit trail: a Delete Tool preview from the command line)."""
    from fastapi.routing import APIRoute

    from edfi_sync.ui.app import create_app

    error_id = airflow.sql("SELECT min(error_id) FROM edfi_sync.error_log")[0][0]
    # a record asked for that is not found: exit 1
    airflow.cli("delete", "--school-year", str(YEAR), "--resource", "programs", "--id", "no-such-id", exit_status=1)
    audit_id = airflow.sql("SELECT max(audit_id) FROM edfi_sync.audit_log")[0][0]
    values = {"error_id": str(error_id), "run_id": quote(first, safe=""), "name": "edfi-sync.css",
              "audit_id": str(audit_id)}
    found = [(method, "/edfi-sync" + re.sub(r"\{(\w+)\}", lambda m: values[m.group(1)], route.path))
             for route in create_app().routes if isinstance(route, APIRoute) for method in route.methods]
    assert {"/errors", "/errors.csv", "/identity-map", "/identity-map.csv", "/runs", "/runs.csv", "/resync",
            "/delete", "/audit"} <= {path.removeprefix("/edfi-sync") for method, path in found if method == "GET"}
    return found


def test_every_route_needs_an_airflow_login(synced):
    airflow, first, _ = synced
    logged_in = requests.Session()
    logged_in.headers["Authorization"] = f"Bearer {airflow.token()}"
    for method, path in routes(airflow, first):
        anonymous = requests.request(method, airflow.url + path, timeout=30, allow_redirects=False)
        assert anonymous.status_code == 401, (method, path, anonymous.status_code)
        # an action needs its form's token too: a POST without one is refused, and nothing is done
        expected = 200 if method == "GET" else 403
        assert logged_in.request(method, airflow.url + path, timeout=60).status_code == expected, (method, path)
    # a browser gets a page that leads to Airflow's login
    page = requests.get(f"{airflow.url}/edfi-sync/errors", headers={"Accept": "text/html"}, timeout=30)
    assert page.status_code == 401 and "Log in to Airflow" in page.text and "/auth/login?next=" in page.text
    with_cookie = requests.get(f"{airflow.url}/edfi-sync/errors", cookies={"_token": airflow.token()}, timeout=60)
    assert with_cookie.status_code == 200  # the UI's session cookie


def test_a_script_in_a_student_name_is_shown_as_text(synced):
    airflow, *_ = synced
    student = airflow.sql("SELECT state_id FROM sis.person WHERE person_id = 52")[0][0]
    html = requests.get(f"{airflow.url}/edfi-sync/errors?" + urlencode({"q": student}), timeout=60,
                        headers={"Authorization": f"Bearer {airflow.token()}"}).text
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in html
    assert SCRIPT_NAME not in html
    rename_script_student(airflow)


def rename_script_student(airflow) -> None:
    """The screenshots the browser test takes show a district's names, not the script tag."""
    with psycopg.connect(airflow.sis) as conn:
        conn.execute("UPDATE sis.person SET first_name = 'Mia' WHERE person_id = 52")
        conn.execute("UPDATE edfi_sync.error_log SET student_name = replace(student_name, %s, 'Mia')", (SCRIPT_NAME,))


def test_the_csv_download_is_the_cli_report_and_errors_link_to_their_airflow_task(synced):
    airflow, first, second = synced
    http = requests.Session()
    http.headers["Authorization"] = f"Bearer {airflow.token()}"
    download = http.get(f"{airflow.url}/edfi-sync/errors.csv?school_year={YEAR}&status=all", timeout=60)
    assert download.headers["content-type"].startswith("text/csv")
    assert download.text == airflow.cli("report", "errors", "--school-year", str(YEAR), "--status", "all",
                                "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(download.text)))
    assert {r["state"] for r in rows} == {"open", "resolved"}
    resolved = [r for r in rows if r["state"] == "resolved"]
    assert {(r["resolved_reason"], r["resolved_by_run"]) for r in resolved} == {("sent", f"{second}__{YEAR}")}
    assert {r["run_id"] for r in resolved} == {first} and {r["dag_id"] for r in resolved} == {""}  # from the CLI
    # an error the DAG run met again links to the task instance that logged it, which Airflow knows
    row = next(r for r in rows if r["state"] == "open")
    assert (row["dag_id"], row["dag_run_id"]) == ("edfi_sync", second) and row["task_id"].startswith("post.")
    html = http.get(f"{airflow.url}/edfi-sync/errors/{row['error_id']}", timeout=60).text
    link = f"/dags/edfi_sync/runs/{quote(row['dag_run_id'], safe='')}/tasks/{quote(row['task_id'], safe='')}"
    assert f'href="{link}"' in html
    assert airflow.api("GET", f"/dags/edfi_sync/dagRuns/{quote(row['dag_run_id'], safe='')}/taskInstances/"
                              f"{row['task_id']}")["state"] == "success"
    run_page = http.get(f"{airflow.url}/edfi-sync/runs/{quote(second + f'__{YEAR}', safe='')}", timeout=60).text
    assert f'href="/dags/edfi_sync/runs/{quote(second, safe="")}"' in run_page
    runs_csv = list(csv.DictReader(io.StringIO(http.get(f"{airflow.url}/edfi-sync/runs.csv", timeout=60).text)))
    assert [(r["run_id"], r["origin"]) for r in runs_csv] == [(f"{second}__{YEAR}", "airflow"), (first, "cli")]


def test_filters_that_cannot_be_used_say_why_and_sql_in_any_filter_is_only_a_value(synced):
    airflow, *_ = synced
    http = requests.Session()
    http.headers.update({"Authorization": f"Bearer {airflow.token()}", "Accept": "text/html"})
    bad = http.get(f"{airflow.url}/edfi-sync/errors?school_year=twenty", timeout=60)
    assert bad.status_code == 400 and "school_year is a school year&#39;s end year such as 2025" in bad.text
    count = airflow.sql("SELECT count(*) FROM edfi_sync.error_log")[0][0]
    pages = {"errors": ("school_year", "resource", "error_code", "error_class", "status", "school", "q", "run_id",
                        "sort", "page"),
             "identity-map": ("school_year", "resource", "q", "page"), "runs": ("school_year", "origin", "status", "page"),
             # the action pages (a typed id is refused by FastAPI itself: 422)
             "audit": ("school_year", "action"), "resync": ("audit_id",),
             "delete": ("school_year", "resource", "key.programName", "audit_id")}
    for page, params in pages.items():
        for param in params:
            for suffix in ("", ".csv") if page in ("errors", "identity-map", "runs") else ("",):
                response = http.get(f"{airflow.url}/edfi-sync/{page}{suffix}?" + urlencode({param: INJECTION}),
                                    timeout=60)
                assert response.status_code in (200, 400, 422), (page, param, response.status_code)
    assert airflow.sql("SELECT count(*) FROM edfi_sync.error_log")[0][0] == count


def test_an_operator_finds_why_a_record_failed_in_chromium(synced, tmp_path):
    from playwright.sync_api import expect

    airflow, first, second = synced
    rename_script_student(airflow)
    shots = Path(os.environ.get("EDFI_SYNC_SCREENSHOTS") or tmp_path)
    shots.mkdir(parents=True, exist_ok=True)
    failing = airflow.sql("SELECT student_unique_id, student_name FROM edfi_sync.error_log "
                          "WHERE NOT resolved AND resource = 'studentSchoolAssociations' "
                          "AND student_name NOT LIKE '%%<%%' ORDER BY error_id LIMIT 1")[0]
    with logged_in(airflow, height=900, accept_downloads=True) as page:
        errors = open_page(page, "Ed-Fi Error Log")
        expect(page).to_have_url(re.compile(r"/plugin/edfi-errors"))
        expect(errors.locator("h1")).to_have_text("Error Log")
        page.screenshot(path=str(shots / "error-log.png"))

        # filter by resource, then by a student's name
        errors.locator("select[name=resource]").select_option("studentSchoolAssociations")
        errors.get_by_role("button", name="Apply").click()
        expect(errors.locator(".chip")).to_contain_text(["resource: studentSchoolAssociations"])
        cells = errors.locator("table.errors td.record b")
        expect(cells.first).to_have_text("studentSchoolAssociations")
        assert set(cells.all_inner_texts()) == {"studentSchoolAssociations"}
        errors.locator("input[name=q]").fill(" ".join(reversed(failing[1].split())).lower())
        errors.get_by_role("button", name="Apply").click()
        expect(errors.locator("table.errors tbody tr").first).to_contain_text(failing[0])
        assert all(failing[0] in text for text in errors.locator("table.errors tbody tr").all_inner_texts())
        assert re.search(r"/plugin/edfi-errors/edfi-sync/errors\?.*resource=studentSchoolAssociations", page.url)

        # a summary link adds its filter
        errors.get_by_role("link", name="Reset").click()
        expect(errors.locator(".chip")).to_have_count(0)
        first_code = errors.locator(".summary", has_text="By error code").locator("a").first
        code = first_code.locator(".label").inner_text()
        first_code.click()
        expect(errors.locator(".chip")).to_contain_text([f"error code: {code}"])
        assert set(errors.locator("table.errors .problem .badge").all_inner_texts()) == {code}

        # the CSV of a school year is `edfi-sync report errors`
        errors.get_by_role("link", name="Reset").click()
        expect(errors.locator(".chip")).to_have_count(0)
        errors.locator("select[name=school_year]").select_option(str(YEAR))
        errors.get_by_role("button", name="Apply").click()
        expect(errors.locator(".chip")).to_contain_text([f"school year: {YEAR}"])
        with page.expect_download() as downloaded:
            errors.get_by_role("link", name="Download CSV").click()
        assert Path(downloaded.value.path()).read_bytes().decode() == airflow.cli(
            "report", "errors", "--school-year", str(YEAR), "--format", "csv")
        errors.locator("table.errors tbody tr").first.get_by_role("link", name="Details & request body").click()
        expect(errors.locator("h2", has_text="Request body")).to_be_visible()
        page.screenshot(path=str(shots / "error-detail.png"))

        # the identity map, searched for a student
        identity = open_page(page, "Ed-Fi Identity Mapping Report")
        page.screenshot(path=str(shots / "identity-map.png"))
        sent = airflow.sql("SELECT p.state_id, p.first_name || ' ' || p.last_name FROM sis.person p "
                           "JOIN edfi_sync.identity_map m ON m.student_unique_id = p.state_id "
                           "WHERE m.resource = 'studentSchoolAssociations' ORDER BY p.person_id LIMIT 1")[0]
        identity.locator("input[name=q]").fill(sent[1])
        identity.get_by_role("button", name="Search").click()
        rows = identity.locator("table tbody tr")
        expect(rows.first).to_contain_text(sent[0])
        assert all(sent[0] in text for text in rows.all_inner_texts())
        assert "studentSchoolAssociations" in identity.locator(".resource-counts").inner_text()

        # a run: its steps, then its DAG run in Airflow
        runs = open_page(page, "Ed-Fi Runs and Reconciliation")
        page.screenshot(path=str(shots / "runs.png"))
        runs.get_by_role("link", name=f"{second}__{YEAR}", exact=True).first.click()
        expect(runs.locator("h1")).to_have_text(f"{second}__{YEAR}")
        expect(runs.locator("table tbody tr").first).to_be_visible()
        assert "post.students" in runs.locator("table").inner_text()
        page.screenshot(path=str(shots / "run.png"))
        runs.locator("a[data-airflow]").first.click()
        page.wait_for_url(re.compile(rf"/dags/edfi_sync/runs/{re.escape(quote(second, safe=''))}"))
