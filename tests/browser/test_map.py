"""The first map in headless Chromium: loads, draws the three layers, toggles them, shows popups."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app.models import Parcel, RenewalBlock, Unit

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def counts(engine):
    from sqlalchemy.orm import Session

    with Session(engine) as s:
        return {
            "units": s.scalar(select(func.count()).select_from(Unit)),
            "blocks": s.scalar(select(func.count()).select_from(RenewalBlock)),
            "parcels": s.scalar(select(func.count()).select_from(Parcel)),
        }


def _wait_ready(page, live_server):
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    requests_off_host: list[str] = []
    page.on("request", lambda req: None if req.url.startswith(live_server) else requests_off_host.append(req.url))
    page.goto(live_server + "/")
    page.wait_for_selector("body[data-map-state='ready']", timeout=30_000)
    return errors, requests_off_host


def test_map_draws_the_three_layers(page, live_server, counts, screenshot_dir):
    errors, off_host = _wait_ready(page, live_server)
    assert errors == []
    assert off_host == []  # no CDN, no basemap by default: works with no internet
    assert page.title() == "桐乡工业全域治理云图"
    for layer, n in counts.items():
        assert page.locator(f"path.layer-{layer}").count() == n, layer
        assert page.evaluate(f"document.body.dataset.{layer}") == str(n)
    assert "宗地" in page.locator("#status").inner_text()
    legend = page.locator(".legend").inner_text()
    for label in ("改造提升", "优化转型", "整治清退", "示意"):
        assert label in legend
    page.screenshot(path=str(screenshot_dir / "map.png"))


def test_layer_switcher_hides_and_shows_a_layer(page, live_server, counts):
    _wait_ready(page, live_server)
    toggle = page.get_by_label("宗地（按分类着色）")
    toggle.uncheck()
    assert page.locator("path.layer-parcels").count() == 0
    assert page.locator("path.layer-blocks").count() == counts["blocks"]
    toggle.check()
    assert page.locator("path.layer-parcels").count() == counts["parcels"]


def test_clicking_a_parcel_opens_its_popup(page, live_server, screenshot_dir):
    _wait_ready(page, live_server)
    page.get_by_label("镇街边界（示意）").uncheck()
    page.get_by_label("连片改造区块").uncheck()
    # Parcels are a few pixels wide at city zoom: click the centre of one that is really under the pointer there.
    point = page.evaluate(
        """() => {
            const paths = [...document.querySelectorAll('path.layer-parcels')];
            paths.sort((a, b) => {
                const ra = a.getBoundingClientRect(), rb = b.getBoundingClientRect();
                return rb.width * rb.height - ra.width * ra.height;
            });
            for (const p of paths) {
                const r = p.getBoundingClientRect();
                const x = r.left + r.width / 2, y = r.top + r.height / 2;
                if (document.elementFromPoint(x, y) === p) return [x, y];
            }
            return null;
        }"""
    )
    assert point is not None
    page.mouse.click(*point)
    popup = page.locator(".leaflet-popup-content")
    popup.wait_for(timeout=5_000)
    page.wait_for_function("getComputedStyle(document.querySelector('.leaflet-popup')).opacity === '1'")
    text = popup.inner_text()
    for label in ("宗地", "企业", "用地面积", "亩", "容积率"):
        assert label in text
    page.screenshot(path=str(screenshot_dir / "map-popup.png"))
