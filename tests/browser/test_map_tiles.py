"""一图 on a large set (``?parcel_all_limit=5``): vector tiles in every colour mode and with a filter.

The parcels are painted from the OGC API's tiles whatever the colour mode and the filter
(no fallback to the view's GeoJSON); the filter is applied to the tiles' features by the
server's rules (scattered + contiguous = all), and a click on a filtered parcel still
opens its card. Screenshots (desktop and 390×844) go to /tmp/shots/h5/.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import shapely
from sqlalchemy import text

from tests.browser.test_map import open_map

pytestmark = pytest.mark.browser

SHOTS = Path("/tmp/shots/h5")
MODES = ["按分类", "现状容积率", "规划容积率", "亩均税收", "连片 / 零星", "亩均评价等级"]


@pytest.fixture(scope="module")
def parcel(engine):
    """A parcel in a block, with its point on surface."""
    with engine.connect() as conn:
        code, wkb = conn.execute(text(
            "SELECT code, ST_AsBinary(ST_PointOnSurface(geom)) FROM parcels WHERE block_id IS NOT NULL "
            "ORDER BY land_area_mu DESC LIMIT 1")).one()
    pt = shapely.from_wkb(bytes(wkb))
    return {"code": code, "lat": pt.y, "lon": pt.x}


def dataset(page, key):
    return page.evaluate(f"document.body.dataset.{key}")


def redraw(page, action):
    """Run ``action`` and wait for the map's next completed redraw."""
    seq = dataset(page, "renderSeq")
    action()
    page.wait_for_function(f"document.body.dataset.renderSeq !== '{seq}' && document.body.dataset.mapState === 'ready'")


def settled(page):
    page.wait_for_function("[...document.querySelectorAll('canvas.mvt-tile')].length > 0 && "
                           "[...document.querySelectorAll('canvas.mvt-tile')].every((t) => getComputedStyle(t).opacity === '1')")


def test_tiles_in_every_colour_mode_and_with_a_filter(page, live_server, parcel):
    SHOTS.mkdir(parents=True, exist_ok=True)
    errors, off_host = open_map(page, live_server, f"/?parcel_all_limit=5&debug=1&view={parcel['lat']},{parcel['lon']},16")
    page.wait_for_function("document.body.dataset.parcelTiles === 'true'")
    assert dataset(page, "aggregated") != "true"
    everything = int(dataset(page, "parcelsDrawn"))
    assert everything > 5
    for label in MODES:
        page.get_by_label(label, exact=True).check()
        page.wait_for_function("document.body.dataset.parcelTiles === 'true'")
        assert int(dataset(page, "parcelsDrawn")) == everything, label
    settled(page)
    page.screenshot(path=str(SHOTS / "tiles-evaluation-grade.png"))

    page.get_by_label("连片 / 零星", exact=True).check()
    drawn = {}
    for kind in ("scattered", "contiguous"):
        redraw(page, lambda kind=kind: page.locator("select[name=kind]").select_option(kind))
        assert dataset(page, "parcelTiles") == "true", kind
        drawn[kind] = int(dataset(page, "parcelsDrawn"))
    assert drawn["scattered"] + drawn["contiguous"] == everything and drawn["contiguous"] > 0
    settled(page)
    page.screenshot(path=str(SHOTS / "tiles-contiguous.png"))

    # a click on a parcel the filter keeps opens its card
    page.evaluate("([lat, lon]) => window.cloudmapDebug.map.setView([lat, lon], 17, { animate: false })",
                  [parcel["lat"], parcel["lon"]])
    page.wait_for_function("document.body.dataset.parcelTiles === 'true'")
    settled(page)
    point = page.evaluate("([lat, lon]) => { const p = window.cloudmapDebug.map.latLngToContainerPoint([lat, lon]);"
                          " const r = window.cloudmapDebug.map.getContainer().getBoundingClientRect();"
                          " return [p.x + r.left, p.y + r.top]; }", [parcel["lat"], parcel["lon"]])
    page.mouse.click(*point)
    popup = page.locator(".leaflet-popup-content")
    popup.wait_for()
    assert f"宗地 {parcel['code']}" in popup.inner_text()
    page.wait_for_function("getComputedStyle(document.querySelector('.leaflet-popup')).opacity === '1'")
    page.screenshot(path=str(SHOTS / "tiles-filtered-card.png"))
    assert errors == [] and off_host == []


def test_tiles_on_a_phone(browser, live_server, parcel):
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN", device_scale_factor=2)
    page = context.new_page()
    try:
        errors, _ = open_map(page, live_server, f"/?parcel_all_limit=5&kind=contiguous"
                                                f"&view={parcel['lat']},{parcel['lon']},16")
        page.wait_for_function("document.body.dataset.parcelTiles === 'true'")
        assert int(dataset(page, "parcelsDrawn")) > 0
        settled(page)
        page.screenshot(path=str(SHOTS / "tiles-phone.png"))
        assert errors == []
    finally:
        context.close()
