"""一图 in headless Chromium: loads offline, layers toggle, filters, colour modes, search lands on the
result, the block panel reads 四至 and area, exports download, the aggregated view for large sets,
basemaps only with a key, keyboard use."""

from __future__ import annotations

import json
import re

import pytest
from sqlalchemy import func, select

from app.core.db import new_session
from app.models import Parcel, RenewalBlock, Unit

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def facts(engine):
    with new_session(engine) as s:
        block = s.scalar(select(RenewalBlock).order_by(RenewalBlock.code).limit(1))
        unit = s.scalar(select(Unit).where(Unit.id == block.unit_id))
        parcel = s.scalar(select(Parcel).where(Parcel.block_id.is_not(None)).order_by(Parcel.code).limit(1))
        return {
            "units": s.scalar(select(func.count()).select_from(Unit)),
            "blocks": s.scalar(select(func.count()).select_from(RenewalBlock)),
            "parcels": s.scalar(select(func.count()).select_from(Parcel)),
            "block": {
                "code": block.code, "name": block.name, "area_mu": float(block.area_mu), "unit_code": unit.code,
                "four": [block.four_east, block.four_south, block.four_west, block.four_north],
                "year": block.designated_year, "stage": block.stage.value,
            },
            "unit_parcels": s.scalar(select(func.count()).where(Parcel.unit_id == unit.id)),
            "unit_code": unit.code,
            "unit_name": unit.name,
            "stage_year_blocks": s.scalar(select(func.count()).where(
                RenewalBlock.stage == block.stage, RenewalBlock.designated_year == block.designated_year)),
            "parcel": {"code": parcel.code, "area_mu": float(parcel.land_area_mu)},
        }


def open_map(page, base_url, path="/"):
    """Load the map; collect page errors and every request that would leave the machine."""
    errors: list[str] = []
    off_host: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("request", lambda req: None if req.url.startswith(base_url) or req.url.startswith("data:")
            else off_host.append(req.url))
    page.goto(base_url + path)
    page.wait_for_selector("body[data-map-state='ready']", state="attached", timeout=30_000)
    return errors, off_host


def dataset(page, key):
    return page.evaluate(f"document.body.dataset.{key}")


def wait_ready_after(page, action):
    """Run ``action`` (which starts a redraw) and wait until the map has finished it."""
    seq = int(dataset(page, "renderSeq") or 0)
    action()
    page.wait_for_function(f"Number(document.body.dataset.renderSeq) > {seq} && document.body.dataset.mapState === 'ready'")


def test_map_loads_offline_with_all_layers(page, live_server, facts, screenshot_dir):
    errors, off_host = open_map(page, live_server)
    assert errors == []
    assert off_host == []  # no CDN, no basemap without a key: nothing leaves the machine
    assert page.title() == "桐乡工业全域治理云图"
    assert page.locator("path.layer-units").count() == facts["units"]
    assert page.locator("path.layer-blocks").count() == facts["blocks"]
    assert dataset(page, "parcelsDrawn") == str(facts["parcels"])
    assert dataset(page, "aggregated") in (None, "false")
    assert f"宗地 {facts['parcels']} 宗" in page.locator("#status").inner_text()
    legend = page.locator(".legend").inner_text()
    for label in ("改造提升", "优化转型", "整治清退", "谋划", "推进", "示意"):
        assert label in legend
    assert re.search(r"\d+ (k?m)", page.locator(".leaflet-control-scale").inner_text())
    page.mouse.move(700, 450)
    assert "经度 120." in page.locator(".coords").inner_text()
    assert page.locator("nav a[aria-current='page']").inner_text() == "一图"
    # Without a login the top bar offers the map, the dashboard and 登录 (the roles' pages: test_shell.py).
    assert page.get_by_role("link", name="一表").get_attribute("href") == "/progress"
    assert page.locator("#topbar .nav a").all_inner_texts() == ["一图", "一表"]
    assert page.locator("#topbar").get_by_role("link", name="登录").get_attribute("href") == "/login?next=%2F"
    page.screenshot(path=str(screenshot_dir / "map.png"))


def test_layer_switcher_hides_and_shows_layers(page, live_server, facts):
    open_map(page, live_server)
    parcels = page.get_by_label("宗地", exact=True)
    parcels.uncheck()
    assert dataset(page, "parcelsDrawn") == "0"
    wait_ready_after(page, parcels.check)
    assert dataset(page, "parcelsDrawn") == str(facts["parcels"])
    page.get_by_label("连片改造区块").uncheck()
    assert page.locator("path.layer-blocks").count() == 0
    page.get_by_label("连片改造区块").check()
    assert page.locator("path.layer-blocks").count() == facts["blocks"]
    page.get_by_label("镇街边界（示意）").uncheck()
    assert page.locator("path.layer-units").count() == 0


def test_filter_by_unit_year_and_stage(page, live_server, facts, screenshot_dir):
    open_map(page, live_server)
    wait_ready_after(page, lambda: page.get_by_label("镇（街道、开发区）").select_option(label=facts["unit_name"]))
    assert dataset(page, "parcelsMatched") == str(facts["unit_parcels"])
    assert dataset(page, "parcelsDrawn") == str(facts["unit_parcels"])
    page.get_by_role("button", name="清除筛选").click()
    page.wait_for_function(f"document.body.dataset.parcelsDrawn === '{facts['parcels']}'")
    b = facts["block"]
    wait_ready_after(page, lambda: page.get_by_label("认定年度").select_option(str(b["year"])))
    wait_ready_after(page, lambda: page.get_by_label("区块阶段").select_option(b["stage"]))
    assert page.locator("path.layer-blocks").count() == facts["stage_year_blocks"]
    assert int(dataset(page, "parcelsDrawn")) < facts["parcels"]
    page.screenshot(path=str(screenshot_dir / "map-filtered.png"))


def test_colour_modes_change_the_legend(page, live_server, screenshot_dir):
    open_map(page, live_server)
    page.get_by_label("亩均税收").check()
    assert "亩均税收（万元/亩）" in page.locator(".legend").inner_text()
    assert "≥ 30" in page.locator(".legend").inner_text()
    page.screenshot(path=str(screenshot_dir / "map-tax-per-mu.png"))
    page.get_by_label("现状容积率").check()
    assert "≥ 2.0" in page.locator(".legend").inner_text()
    page.get_by_label("连片 / 零星").check()
    legend = page.locator(".legend").inner_text()
    assert "连片改造" in legend and "零星改造" in legend


def test_search_a_parcel_code_lands_on_it(page, live_server, facts, screenshot_dir):
    open_map(page, live_server)
    code = facts["parcel"]["code"]
    page.get_by_label("搜索宗地编号、企业名称、信用代码或区块").fill(code)
    page.keyboard.press("Enter")
    page.wait_for_function(f"document.body.dataset.parcel === '{code}'")
    popup = page.locator(".leaflet-popup-content")
    text = popup.inner_text()
    assert f"宗地 {code}" in text and "亩" in text and "容积率" in text
    assert page.locator("path.parcel-selected").count() == 1  # outlined on the map
    assert page.evaluate("document.querySelector('.leaflet-popup') !== null")
    close = page.locator(".leaflet-popup-close-button")  # Leaflet's own English name replaced
    assert close.get_attribute("aria-label") == "关闭" and close.get_attribute("title") == "关闭"
    # The popup sits over the parcel, inside the visible map.
    page.wait_for_function("getComputedStyle(document.querySelector('.leaflet-popup')).opacity === '1'")
    box = page.locator(".leaflet-popup").bounding_box()
    assert 0 < box["x"] < 1400 and 52 < box["y"] + box["height"] < 900
    page.screenshot(path=str(screenshot_dir / "search-parcel.png"))


def test_search_block_by_keyboard_opens_the_panel(page, live_server, facts, screenshot_dir):
    open_map(page, live_server)
    b = facts["block"]
    page.get_by_label("搜索宗地编号、企业名称、信用代码或区块").focus()
    page.keyboard.type(b["name"][2:6])
    page.keyboard.press("Enter")
    first = page.locator(".search-results button.result").first
    first.wait_for()
    page.keyboard.press("ArrowDown")
    assert page.evaluate("document.activeElement.classList.contains('result')")
    page.screenshot(path=str(screenshot_dir / "search-results.png"))
    page.keyboard.press("Enter")
    page.wait_for_function(f"document.body.dataset.block === '{b['code']}'")
    panel = page.locator("#block-panel")
    assert panel.locator("h2").inner_text() == b["name"]
    four = panel.locator("[data-testid=four]").inner_text()
    for side, text in zip("东南西北", b["four"], strict=True):
        assert (text if text.startswith(f"{side}至") else f"{side}至{text}") in four
    assert f"{b['area_mu']:,.2f} 亩" in panel.inner_text()
    assert "企业名单" in panel.inner_text()
    page.screenshot(path=str(screenshot_dir / "block-panel.png"))
    panel.locator(".report .verdict").wait_for(timeout=30_000)
    assert "登录" in panel.locator(".history").inner_text()  # the plan history needs a login
    panel.locator(".exports").scroll_into_view_if_needed()
    page.screenshot(path=str(screenshot_dir / "block-panel-report.png"))
    page.keyboard.press("Escape")
    assert panel.is_hidden()


def test_clicking_a_block_opens_it_and_exports_download(page, live_server, facts, tmp_path):
    open_map(page, live_server)
    b = facts["block"]
    page.get_by_label("宗地", exact=True).uncheck()
    page.locator("path.layer-blocks").first.click(force=True)
    page.wait_for_function("document.body.dataset.block")
    code = dataset(page, "block")
    with page.expect_download() as info:
        page.get_by_role("link", name="GeoJSON").click()
    download = info.value
    path = tmp_path / download.suggested_filename
    download.save_as(path)
    assert download.suggested_filename.endswith(".geojson") and code in download.suggested_filename
    body = json.loads(path.read_text(encoding="utf-8"))
    assert body["features"][0]["properties"]["code"] == code
    with page.expect_download() as info:
        page.get_by_role("link", name="Excel").click()
    assert info.value.suggested_filename.endswith(".xlsx")
    with page.expect_download() as info:
        page.get_by_role("link", name="Shapefile（GBK）").click()
    assert info.value.suggested_filename.endswith("_gbk.zip")
    assert b["code"]  # the fixture's block exists; any block may be under the pointer


def test_large_sets_are_aggregated_by_unit_then_drawn_by_view(page, live_server, facts, screenshot_dir):
    """Above the drawing limit the city view shows per-unit figures; zoomed in, only the view's parcels."""
    open_map(page, live_server, "/?parcel_all_limit=50")
    assert dataset(page, "aggregated") == "true"
    assert dataset(page, "parcelsDrawn") == "0"
    labels = page.locator(".unit-label").all_inner_texts()
    assert any(re.search(r"\d+ 宗 · [\d,]+ 亩", t) for t in labels)
    assert "按镇街汇总" in page.locator(".legend").inner_text()
    page.screenshot(path=str(screenshot_dir / "map-aggregated.png"))
    page.get_by_label("搜索宗地编号、企业名称、信用代码或区块").fill(facts["parcel"]["code"])
    page.keyboard.press("Enter")
    page.wait_for_function(f"document.body.dataset.parcel === '{facts['parcel']['code']}'")
    assert dataset(page, "aggregated") == "false"
    assert dataset(page, "parcelTiles") == "true"  # painted from the OGC API's vector tiles
    drawn = int(dataset(page, "parcelsDrawn"))
    assert 0 < drawn < facts["parcels"]
    assert f"宗地 {facts['parcel']['code']}" in page.locator(".leaflet-popup-content").inner_text()
    page.wait_for_function("getComputedStyle(document.querySelector('.leaflet-popup')).opacity === '1'")
    page.wait_for_function("[...document.querySelectorAll('canvas.mvt-tile')].every((t) => getComputedStyle(t).opacity === '1')")
    page.screenshot(path=str(screenshot_dir / "map-vector-tiles.png"))
    # Every colour mode is served by the tiles (they carry 亩均税收 too): no fall-back to GeoJSON.
    page.get_by_label("亩均税收").check()
    page.wait_for_function("document.body.dataset.colourMode === 'tax_per_mu'")
    assert dataset(page, "parcelTiles") == "true"


def test_basemaps_only_with_a_key(page, settings, facts):
    """With a 天地图 key the vector and imagery basemaps are offered; still none is on until chosen."""
    from tests.browser.conftest import serve

    keyed = settings.model_copy(update={"tianditu_key": "test-key-0000"})
    with serve(keyed) as base_url:
        tile_requests: list[str] = []
        page.route("**/*tianditu.gov.cn/**", lambda route: (tile_requests.append(route.request.url), route.abort()))
        _errors, off_host = open_map(page, base_url)
        assert off_host == []
        page.get_by_label("天地图 矢量").check()
        page.wait_for_function("document.body.dataset.basemap === 'vec'")
        page.wait_for_timeout(300)
        assert tile_requests and all("vec_w" in u or "cva_w" in u for u in tile_requests)
        assert all("tk=test-key-0000" in u for u in tile_requests)
        page.get_by_label("无底图（本地数据，离线可用）").check()
        assert dataset(page, "basemap") == "none"


def test_deep_links_preset_the_filter_and_open_a_block(page, live_server, facts):
    """The dashboard and review pages link here with ?unit=… or ?block=…."""
    b = facts["block"]
    open_map(page, live_server, f"/?unit={facts['unit_code']}&block={b['code']}")
    assert page.get_by_label("镇（街道、开发区）").input_value() == facts["unit_code"]
    assert dataset(page, "parcelsMatched") == str(facts["unit_parcels"])
    page.wait_for_function(f"document.body.dataset.block === '{b['code']}'")
    assert page.locator("#block-panel h2").inner_text() == b["name"]
    open_map(page, live_server, "/?unit=nowhere")  # an unknown code is ignored, not an error
    assert page.get_by_label("镇（街道、开发区）").input_value() == ""
    assert dataset(page, "parcelsDrawn") == str(facts["parcels"])
