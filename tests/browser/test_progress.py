"""The 一表 page in headless Chromium: figures from the API, a unit's parcels on click."""

from __future__ import annotations

import httpx
import pytest

pytestmark = pytest.mark.browser


def _ready(page):
    page.wait_for_selector("body[data-progress-state='ready']", timeout=30_000)


def test_monthly_table_shows_the_computed_figures(page, live_server, screenshot_dir):
    expected = httpx.get(f"{live_server}/api/progress/monthly", params={"year": 2022, "month": 10}).json()
    page.goto(live_server + "/progress")
    _ready(page)
    page.select_option("#year", "2022")
    _ready(page)
    page.select_option("#month", "10")
    _ready(page)
    rows = page.locator("#monthly tbody tr[data-unit]:not(.total)")
    assert rows.count() == len(expected["rows"]) == 11
    first = expected["rows"][0]
    text = rows.first.inner_text()
    assert first["unit_name"] in text
    assert f"{first['done_ytd_mu']:.2f}" in text.replace(",", "")
    total = page.locator("#monthly tbody tr.total").inner_text().replace(",", "")
    assert f"{expected['citywide']['done_ytd_mu']:.2f}" in total
    assert page.evaluate("document.body.dataset.behind") == str(len(expected["units_behind"]))
    page.screenshot(path=str(screenshot_dir / "progress.png"), full_page=True)

    rows.first.click()
    page.wait_for_function("document.body.dataset.traceCount !== undefined")
    assert page.evaluate("document.body.dataset.traceCount") == str(first["done_ytd_parcels"])
    assert page.locator("#trace").is_visible()
