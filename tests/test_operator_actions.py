"""The operator actions in the session's live Airflow (tests/live_airflow.py), on the demo's SIS
(scale 1; persons of the casebook, see README "Demo data"): archive, retry, a one-school resync with
its preview, the Delete Tool from a 409 row, and the audit trail, in real Chromium; a viewer refused
every action, a cross-site POST refused, nothing sent during a preview (the sandbox's request log).

Screenshots of the Resync preview and the Delete Tool preview go to $EDFI_SYNC_SCREENSHOTS when set
(`make screenshots` writes docs/screenshots/).
"""

from __future__ import annotations

import json
import os
import re
from collections import Counter
from pathlib import Path
from urllib.parse import quote

import pytest
import requests

from browser import logged_in, open_page
from live_airflow import VIEWER

pytestmark = pytest.mark.e2e

YEAR = 2025
WRITES = ("POST", "PUT", "DELETE")
MESA_VISTA = "355240001"  # the demo's first school
SSA = "studentSchoolAssociations"
CTE = "studentCTEProgramAssociations"
POST_ROUTES = ("/errors/actions", "/resync", "/resync/1/run", "/delete", "/delete/1/choose", "/delete/1/run")


def writes(airflow, since: int) -> list[tuple[str, str]]:
    """What reached the sandbox since ``since``: (method, resource) of every write, in order."""
    return [(r["method"], r["path"].split("/ed-fi/")[1].split("/")[0]) for r in airflow.sandbox.requests(since)
            if r["method"] in WRITES and "/data/" in r["path"]]


def last(airflow) -> int:
    return (airflow.sandbox.requests() or [{"seq": 0}])[-1]["seq"]


@pytest.fixture(scope="module")
def world(live_airflow):
    """The demo's SIS synced once from the command line: the casebook's broken records are errors."""
    live_airflow.load(None, demo_scale=1)
    live_airflow.cli("sync", "--school-year", str(YEAR))
    return live_airflow


@pytest.fixture(scope="module")
def browser(world, tmp_path_factory):
    """Chromium logged in to the live Airflow (admin), and where the screenshots go."""
    shots = Path(os.environ.get("EDFI_SYNC_SCREENSHOTS") or tmp_path_factory.mktemp("shots"))
    shots.mkdir(parents=True, exist_ok=True)
    with logged_in(world) as page:
        yield page, shots


def screenshot(page, path: Path) -> None:
    """The whole page inside Airflow's frame: a taller window, for the shot only."""
    page.set_viewport_size({"width": 1440, "height": 1500})
    page.screenshot(path=str(path))
    page.set_viewport_size({"width": 1440, "height": 1000})


def error_row(frame, text: str):
    return frame.locator("table.errors tbody tr", has_text=text)


def search_errors(frame, student: str, status: str | None = None):
    """Filter the Error Log by a student (and a status), and wait for the filtered page."""
    from playwright.sync_api import expect

    frame.locator("input[name=q]").fill(student)
    if status:
        frame.locator("select[name=status]").select_option(status)
    frame.get_by_role("button", name="Apply").click()
    expect(frame.locator(".chip", has_text=f"q: {student}")).to_have_count(1)
    expect(frame.locator(".chip", has_text="status:")).to_have_count(0 if status in (None, "open") else 1)


def test_a_viewer_is_refused_every_action_and_a_cross_site_post_is_refused(world):
    viewer = requests.Session()
    viewer.headers["Authorization"] = f"Bearer {world.token(VIEWER)}"
    assert viewer.get(f"{world.url}/edfi-sync/errors", timeout=60).status_code == 200  # reading is theirs
    for path in ("/resync", "/delete"):
        refused = viewer.get(f"{world.url}/edfi-sync{path}", timeout=60)
        assert refused.status_code == 403 and "not allowed to trigger the DAG" in refused.json()["detail"], path
    for path in POST_ROUTES:
        refused = viewer.post(f"{world.url}/edfi-sync{path}", data={"action": "archive", "error_id": "1"}, timeout=60)
        assert refused.status_code == 403 and "not allowed to trigger the DAG" in refused.json()["detail"], path
        assert requests.post(f"{world.url}/edfi-sync{path}", timeout=60).status_code == 401, path

    # The admin's browser session (the cookie): a POST from another site, or without the form token, is refused.
    admin = requests.Session()
    admin.cookies.set("_token", world.token())
    page = admin.get(f"{world.url}/edfi-sync/errors?school_year={YEAR}", timeout=60).text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    error_id = world.sql("SELECT min(error_id) FROM edfi_sync.error_log WHERE NOT resolved")[0][0]
    form = {"action": "archive", "error_id": str(error_id), "note": "forged", "csrf_token": token}
    forged = admin.post(f"{world.url}/edfi-sync/errors/actions", data=form, timeout=60,
                        headers={"Origin": "https://attacker.example"}, allow_redirects=False)
    assert forged.status_code == 403 and "another site" in forged.json()["detail"]
    tokenless = admin.post(f"{world.url}/edfi-sync/errors/actions", data={**form, "csrf_token": ""}, timeout=60,
                           headers={"Origin": world.url}, allow_redirects=False)
    assert tokenless.status_code == 403 and "token" in tokenless.json()["detail"]
    assert world.sql("SELECT count(*) FROM edfi_sync.error_log WHERE resolved_reason = 'archived'") == [(0,)]
    assert world.sql("SELECT count(*) FROM edfi_sync.audit_log") == [(0,)]


def test_an_archived_error_stays_archived_while_its_record_fails_the_same_way(world, browser):
    from playwright.sync_api import expect

    page, _ = browser
    student = world.sql("SELECT state_id FROM sis.person WHERE person_id = 13")[0][0]  # end status W9: unmapped
    errors = open_page(page, "Ed-Fi Error Log")
    search_errors(errors, student)
    row = error_row(errors, "W9")
    expect(row).to_have_count(1)
    row.locator("input[name=error_id]").check()
    errors.locator("input[name=note]").fill("W9 is a local withdrawal code the state does not collect")
    errors.get_by_role("button", name="Archive").click()
    expect(errors.locator("h1")).to_contain_text("Archive")
    expect(errors.locator(".head-actions")).to_contain_text("1 archived")
    assert world.sql("SELECT actor, action FROM edfi_sync.audit_log") == [(world.user, "archive")]

    world.cli("sync", "--school-year", str(YEAR))  # fails the same way
    [(error_id, occurrences, state, by)] = world.sql(
        "SELECT error_id, occurrences, edfi_sync.error_state(resolved, resolved_reason), archived_by "
        "FROM edfi_sync.error_log WHERE resource = %s AND sis_object_key = '131'", SSA)
    assert (occurrences, state, by) == (2, "archived", world.user)
    errors.get_by_role("link", name="Error Log").click()
    search_errors(errors, student)
    expect(error_row(errors, "W9")).to_have_count(0)  # out of the default (open) view
    search_errors(errors, student, "archived")
    expect(error_row(errors, "W9")).to_have_count(1)

    world.sql("UPDATE sis.enrollment SET end_status = 'W8' WHERE enrollment_id = 131")  # fails differently
    world.cli("sync", "--school-year", str(YEAR))
    rows = world.sql("SELECT error_id, edfi_sync.error_state(resolved, resolved_reason), message LIKE '%%W8%%' "
                     "FROM edfi_sync.error_log WHERE resource = %s AND sis_object_key = '131' ORDER BY 1", SSA)
    assert rows == [(error_id, "archived", False), (rows[1][0], "open", True)]
    search_errors(errors, student, "open")
    expect(error_row(errors, "W8")).to_have_count(1)


def test_a_retry_sends_the_fixed_record_and_nothing_else(world, browser):
    from playwright.sync_api import expect

    page, _ = browser
    student = world.sql("SELECT state_id FROM sis.person WHERE person_id = 12")[0][0]  # grade UG: unmapped
    world.sql("UPDATE sis.enrollment SET grade = '08' WHERE enrollment_id = 121")  # fixed
    other = world.sql("SELECT min(enrollment_id) FROM sis.enrollment WHERE person_id > 56 AND grade = '10'")[0][0]
    world.sql("UPDATE sis.enrollment SET grade = '11' WHERE enrollment_id = %s", other)  # waits for the next run
    since = last(world)
    errors = open_page(page, "Ed-Fi Error Log")
    search_errors(errors, student)
    error_row(errors, "UG").locator("input[name=error_id]").check()
    errors.get_by_role("button", name="Retry their records").click()
    expect(errors.locator("h1")).to_contain_text("Retry")
    run_id = world.sql("SELECT dag_run_id FROM edfi_sync.audit_log WHERE action = 'retry'")[0][0]
    assert world.wait_run(run_id, timeout=300) == "success"
    assert world.api("GET", f"/dags/edfi_sync/dagRuns/{quote(run_id, safe='')}")["conf"]["records"] == [f"{SSA}:121"]
    assert writes(world, since) == [("POST", SSA)]
    assert world.sql("SELECT resolved_reason FROM edfi_sync.error_log WHERE resource = %s AND sis_object_key = '121'",
               SSA) == [("sent",)]
    expect(errors.locator(".head-actions")).to_contain_text("sent 1", timeout=60_000)


def test_a_one_school_resync_is_previewed_then_run(world, browser):
    from playwright.sync_api import expect

    page, shots = browser
    # In Mesa Vista: a new secondary enrollment (POST), a changed entry date (PUT), a secondary
    # enrollment gone (DELETE).
    calendar = world.sql("SELECT min(calendar_id) FROM sis.calendar c JOIN sis.school s USING (school_id) "
                         "WHERE s.number = %s AND c.end_year = %s AND NOT c.exclude", MESA_VISTA, YEAR)[0][0]
    newcomer = world.sql("SELECT min(e.person_id) FROM sis.enrollment e JOIN sis.calendar c USING (calendar_id) "
                         "JOIN sis.school s USING (school_id) WHERE e.person_id > 56 AND s.number = '355240002' "
                         "AND c.end_year = %s AND e.service_type = 'P' AND NOT e.no_show", YEAR)[0][0]
    world.sql("INSERT INTO sis.enrollment (enrollment_id, person_id, calendar_id, grade, service_type, start_date) "
              "SELECT 990001, person_id, %s, grade, 'S', DATE '2024-09-03' FROM sis.enrollment "
              "WHERE person_id = %s AND service_type = 'P' LIMIT 1", calendar, newcomer)
    world.sql("UPDATE sis.enrollment SET start_date = start_date + 1 WHERE enrollment_id = 82")
    world.sql("DELETE FROM sis.enrollment WHERE enrollment_id = 103")

    resync = open_page(page, "Ed-Fi Resync")
    resync.locator("select[name=school]").select_option(MESA_VISTA)
    resync.locator(f"input[name=resources][value={SSA}]").check()
    since = last(world)
    resync.get_by_role("button", name="Preview").click()
    preview = resync.locator(".preview", has_text=SSA)
    expect(preview).to_be_visible(timeout=300_000)
    assert writes(world, since) == []  # a preview sends nothing
    counts = {action: int(preview.locator(f"h2 .would-{action}").inner_text().split()[1])
              for action in WRITES if preview.locator(f"h2 .would-{action}").count()}
    newcomer_id, moved_id = (world.sql("SELECT state_id FROM sis.person WHERE person_id = %s", person)[0][0]
                             for person in (newcomer, world.sql("SELECT person_id FROM sis.enrollment "
                                                                "WHERE enrollment_id = 82")[0][0]))
    expect(preview.locator("tbody tr:has(.would-POST)", has_text=newcomer_id)).to_have_count(1)
    expect(preview.locator("tbody tr:has(.would-PUT)", has_text=moved_id)).to_have_count(1)
    expect(preview.locator("tbody tr:has(.would-DELETE)", has_text="103")).to_have_count(1)
    screenshot(page, shots / "resync-preview.png")

    resync.get_by_role("button", name="Run").click()
    expect(resync.locator("section.card > h2")).to_contain_text("Resync #", timeout=30_000)
    run_id = world.sql("SELECT dag_run_id FROM edfi_sync.audit_log WHERE action = 'resync'")[0][0]
    assert world.wait_run(run_id, timeout=300) == "success"
    # The run sends what the preview said, resource by resource, and nothing else.
    sent = writes(world, since)
    assert {resource for _, resource in sent} == {SSA}
    assert dict(Counter(method for method, _ in sent)) == counts, preview.inner_text()
    assert counts["PUT"] == 1 and counts["DELETE"] == 1
    expect(resync.locator("section.card > p", has_text="record errors")).to_contain_text("Sent ", timeout=60_000)
    newcomer_ssas = [r for r in world.sandbox.records(SSA) if r["studentReference"]["studentUniqueId"] == newcomer_id]
    assert int(MESA_VISTA) in {r["schoolReference"]["schoolId"] for r in newcomer_ssas}


def test_a_program_in_the_way_of_a_409_is_deleted_with_its_associations_through_the_delete_tool(world, browser):
    from playwright.sync_api import expect

    page, shots = browser
    # Technical Preparatory (CTE program 105) loses its mapping while its associations are toggled
    # off: the all-schools resync's DELETE of the program meets them (409).
    world.sql("INSERT INTO edfi_sync.resource_toggle VALUES (%s, %s, false)", YEAR, CTE)
    world.sql("DELETE FROM edfi_sync.mapping WHERE resource = 'programs' AND sis_value = '105'")
    world.cli("sync", "--school-year", str(YEAR), "--resync", "--resource", "programs")
    [(error_id,)] = world.sql("SELECT error_id FROM edfi_sync.error_log WHERE resource = 'programs' AND status = 409 "
                              "AND NOT resolved")
    ours = world.sql("SELECT count(*) FROM edfi_sync.identity_map WHERE resource = %s AND natural_key -> "
                     "'programName' = '\"Technical Preparatory\"'", CTE)[0][0]
    assert ours > 0

    errors = open_page(page, "Ed-Fi Error Log")
    errors.locator("select[name=error_code]").select_option("delete_blocked_by_dependent")
    errors.get_by_role("button", name="Apply").click()
    expect(errors.locator(".chip", has_text="error code:")).to_have_count(1)
    error_row(errors, "programs").get_by_role("link", name="Delete Tool").click()
    expect(errors.locator("h1")).to_have_text("Delete Tool")
    expect(errors.locator("input[name='key.programName']")).to_have_value("Technical Preparatory")
    since = last(world)
    errors.get_by_role("button", name="Preview").click()
    plan = errors.locator("table.plan tbody tr")
    expect(plan).to_have_count(ours + 1, timeout=300_000)
    assert writes(world, since) == []  # a preview sends nothing
    expect(plan.first).to_contain_text(CTE)
    expect(plan.first).to_contain_text("dependent")
    expect(plan.last).to_contain_text("programs")
    expect(plan.last).to_contain_text("target")
    expect(errors.locator("input[name='key.programName']")).to_have_value("Technical Preparatory")  # what was asked
    screenshot(page, shots / "delete-preview.png")

    errors.get_by_role("button", name=f"Delete these {ours + 1} records").click()
    expect(errors.locator(".totals")).to_contain_text(f"deleted {ours + 1}", timeout=300_000)
    assert writes(world, since) == [("DELETE", CTE)] * ours + [("DELETE", "programs")]
    assert "Technical Preparatory" not in {p["programName"] for p in world.sandbox.records("programs")}
    assert world.sql("SELECT resolved_reason FROM edfi_sync.error_log WHERE error_id = %s", error_id) == [("deleted",)]

    # The trail shows every action logged, newest first (the module's earlier tests' too, each of
    # which checks its own entry): here the preview and the deletion, by whom, with the count.
    logged = [action for (action,) in world.sql("SELECT action FROM edfi_sync.audit_log "
                                                "ORDER BY at DESC, audit_id DESC")]
    assert logged[:2] == ["delete", "delete_preview"]
    trail = open_page(page, "Ed-Fi Audit Trail")
    rows = trail.locator("table.audit tbody tr")
    expect(rows).to_have_count(len(logged))
    assert [rows.nth(i).locator("td").nth(3).inner_text() for i in range(2)] == ["Delete", "Delete preview"]
    expect(rows.first).to_contain_text(world.user)
    expect(rows.first).to_contain_text(f"deleted {ours + 1}")
    assert [e["action"] for e in json.loads(world.cli("report", "audit", "--format", "json"))] == logged
