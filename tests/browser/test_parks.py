"""开发区和工业园区 on the map (issue 19 part 1): the schematic demo parks are drawn as dashed outlines with
their own 图层 checkbox that hides and shows them, the legend names both kinds and the 示意 note, a park's
popup names it; at 1366×900 and 390×844 no English or developer word shows.
Screenshots in tests/browser/screenshots/parks-*.png."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.browser.words import page_offending

pytestmark = pytest.mark.browser

SHOTS = Path(__file__).parent / "screenshots"
DESKTOP = {"width": 1366, "height": 900}
PHONE = {"width": 390, "height": 844}
PARKS = 10  # data/geojson/parks.geojson: 桐乡经济开发区 and nine 镇街工业园区


def _open(browser, live_server, viewport):
    context = browser.new_context(viewport=viewport, locale="zh-CN", timezone_id="Asia/Shanghai")
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(live_server + "/")
    page.wait_for_selector("body[data-map-state='ready']", state="attached", timeout=30_000)
    page.wait_for_selector(f"body[data-parks='{PARKS}']", state="attached", timeout=30_000)
    return context, page, errors


def test_parks_layer_shows_and_toggles(browser, live_server):
    SHOTS.mkdir(parents=True, exist_ok=True)
    context, page, errors = _open(browser, live_server, DESKTOP)
    outlines = page.locator("path.layer-parks")
    assert outlines.count() == PARKS
    assert page.locator("path.park-development_zone").count() == 1
    legend = page.locator(".legend-body")
    assert "开发区和工业园区" in legend.inner_text() and "镇街工业园区" in legend.inner_text()
    assert "园区范围为示意" in legend.inner_text()
    page.screenshot(path=str(SHOTS / "parks-desktop.png"))

    box = page.get_by_label("开发区和工业园区")
    assert box.is_checked()
    box.uncheck()
    page.wait_for_selector("body[data-layer-parks='false']", state="attached")
    assert page.locator("path.layer-parks").count() == 0
    box.check()
    page.wait_for_selector("body[data-layer-parks='true']", state="attached")
    assert page.locator("path.layer-parks").count() == PARKS

    # a park's popup: its name, kind and the 示意 note
    page.evaluate("""() => {
      const path = document.querySelector('path.park-development_zone');
      const r = path.getBoundingClientRect();
      path.dispatchEvent(new MouseEvent('click', { bubbles: true, clientX: r.x + r.width / 2, clientY: r.y + r.height / 2 }));
    }""")
    popup = page.locator(".leaflet-popup-content")
    popup.wait_for(timeout=10_000)
    page.wait_for_timeout(500)  # Leaflet fades the popup in
    text = popup.inner_text()
    assert "桐乡经济开发区（示意）" in text and "开发区" in text and "示意范围" in text
    page.screenshot(path=str(SHOTS / "parks-popup-desktop.png"))
    assert page_offending(page) == []
    assert errors == []
    context.close()


def test_parks_on_a_phone(browser, live_server):
    context, page, errors = _open(browser, live_server, PHONE)
    assert page.locator("path.layer-parks").count() == PARKS
    page.screenshot(path=str(SHOTS / "parks-phone.png"))
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    assert page_offending(page) == []
    assert errors == []
    context.close()
