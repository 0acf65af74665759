"""Real Chromium (Debian's, driven by Playwright; its own browser download cannot work here)
logged in to a live Airflow, and the operator pages opened from Airflow's Browse menu."""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@contextmanager
def logged_in(airflow, height: int = 1000, **page_options) -> Iterator:
    """A page of Chromium logged in to ``airflow`` (a LiveAirflow) through Airflow's own login page."""
    assert CHROMIUM.exists(), "the browser tests need Debian's chromium: apt-get install -y chromium"
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = chromium.new_page(viewport={"width": 1440, "height": height}, **page_options)
            page.set_default_timeout(30_000)
            page.goto(airflow.url + "/")
            page.wait_for_url("**/auth/login**")
            page.get_by_label("Username").fill(airflow.user)
            page.get_by_label("Password").fill(airflow.password)
            page.get_by_role("button", name="Sign in").click()
            page.wait_for_url(airflow.url + "/")
            yield page
        finally:
            chromium.close()


def open_page(page, item: str):
    """A page of the Browse menu (its entry's name), inside Airflow; its frame."""
    from playwright.sync_api import expect

    page.get_by_role("button", name="Browse").click()
    page.get_by_role("menuitem", name=item).click()
    frame = page.frame_locator(f'iframe[title="{item}"]')
    expect(frame.locator("h1").first).to_be_visible()
    return frame
