"""The 一表 page in headless Chromium: figures from the API, a unit's parcels on click."""

from __future__ import annotations

import httpx
import pytest

pytestmark = pytest.mark.browser


def _ready(page):
    page.wait_for_selector("body[data-progress-state='ready']", timeout=30_000)


def _open_month(page, live_server, year: int, month: int) -> None:
    """Open /progress and choose a month the way a planner does, waiting for each reload."""
    page.goto(live_server + "/progress")
    _ready(page)
    page.select_option("#year", str(year))
    _ready(page)
    page.select_option("#month", str(month))
    _ready(page)


def test_monthly_table_shows_the_computed_figures(page, live_server, screenshot_dir):
    expected = httpx.get(f"{live_server}/api/progress/monthly", params={"year": 2022, "month": 10}).json()
    _open_month(page, live_server, 2022, 10)
    rows = page.locator("#monthly tbody tr[data-unit]:not(.total)")
    assert rows.count() == len(expected["rows"]) == 11
    first = expected["rows"][0]
    text = rows.first.inner_text()
    assert first["unit_name"] in text
    assert f"{first['done_ytd_mu']:.2f}" in text.replace(",", "")
    total = page.locator("#monthly tbody tr.total").inner_text().replace(",", "")
    assert f"{expected['citywide']['done_ytd_mu']:.2f}" in total
    assert page.evaluate("document.body.dataset.behind") == str(len(expected["units_behind"]))
    assert page.evaluate("document.body.dataset.chartBars") == "11"  # Chart.js from npm, served by the app
    page.screenshot(path=str(screenshot_dir / "progress.png"), full_page=True)

    rows.first.click()
    page.wait_for_function("document.body.dataset.traceCount !== undefined")
    assert page.evaluate("document.body.dataset.traceCount") == str(first["done_ytd_parcels"])
    assert page.locator("#trace").is_visible()


def test_table_sorts_by_a_column_from_the_keyboard(page, live_server):
    expected = httpx.get(f"{live_server}/api/progress/monthly", params={"year": 2022, "month": 12}).json()
    _open_month(page, live_server, 2022, 12)
    header = page.locator("#monthly th[data-sort='done_ytd_mu'] button")
    header.focus()
    page.keyboard.press("Enter")
    assert page.locator("#monthly th[data-sort='done_ytd_mu']").get_attribute("aria-sort") == "descending"
    names = page.locator("#monthly tbody tr[data-unit]:not(.total) td:nth-child(2)").all_inner_texts()
    want = [r["unit_name"] for r in sorted(expected["rows"], key=lambda r: -r["done_ytd_mu"])]
    assert names[0] == want[0]
    shown = page.locator("#monthly tbody tr[data-unit]:not(.total) td:nth-child(5)").all_inner_texts()
    values = [float(v.replace(",", "")) for v in shown]
    assert values == sorted(values, reverse=True) and len(values) == 11
    assert "total" in page.locator("#monthly tbody tr").last.get_attribute("class").split()  # 全市 stays last
    header.click()
    assert page.locator("#monthly th[data-sort='done_ytd_mu']").get_attribute("aria-sort") == "ascending"
    names_up = page.locator("#monthly tbody tr[data-unit]:not(.total) td:nth-child(2)").all_inner_texts()
    assert names_up[-1] == want[0]


def test_opens_on_the_latest_month_with_targets_and_no_developer_words(page, live_server, errors):
    from tests.browser.words import page_offending

    periods = httpx.get(f"{live_server}/api/progress/periods").json()
    page.goto(live_server + "/progress")
    _ready(page)
    years = page.locator("#year option").evaluate_all("os => os.map(o => o.value)")
    assert years == [str(y) for y in periods["years"]] == ["2022", "2023"]
    assert page.input_value("#year") == "2023" and page.input_value("#month") == "12"
    flags = page.locator("#monthly tbody tr[data-unit]:not(.total) td.flag").all_inner_texts()
    assert len(flags) == 11 and "未下达任务" not in flags  # the default view has every unit's target
    assert page_offending(page) == []
    assert errors == []
