"""The map's 导出 control: a planner exports the parcels on the screen (the view's bbox and the side
panel's filter) as a GeoPackage in EPSG:4549 and receives the file; desktop and phone screenshots."""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pyogrio
import pytest
from pyproj import CRS
from sqlalchemy import text

from app.auth.deps import SESSION_COOKIE
from tests.browser.words import offending, page_offending

pytestmark = pytest.mark.browser

SHOTS = Path(os.environ.get("CLOUDMAP_SHOTS", "/tmp/shots/h2"))


def _planner_context(browser, live_server, standing_sessions, viewport):
    context = browser.new_context(viewport=viewport, locale="zh-CN", accept_downloads=True)
    token, _csrf = standing_sessions["test_planner"]
    context.add_cookies([{"name": SESSION_COOKIE, "value": token, "url": live_server}])
    return context


def _open(page, live_server, path):
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(live_server + path)
    page.wait_for_selector("body[data-map-state='ready']", state="attached", timeout=30_000)
    return errors


def test_planner_exports_what_is_on_the_screen(browser, live_server, standing_sessions, engine, tmp_path):
    SHOTS.mkdir(parents=True, exist_ok=True)
    context = _planner_context(browser, live_server, standing_sessions, {"width": 1440, "height": 900})
    page = context.new_page()
    errors = _open(page, live_server, "/?unit=chongfu&kind=contiguous")
    page.get_by_role("button", name="导出 ▸").click()
    page.get_by_label("格式").select_option("gpkg")
    page.get_by_label("坐标系（CGCS2000）").select_option("EPSG:4549")
    page.screenshot(path=str(SHOTS / "map-export-desktop.png"))
    with page.expect_download() as info:
        page.get_by_role("link", name="下载").click()
    download = info.value
    assert download.suggested_filename.startswith("宗地_EPSG4549_") and download.suggested_filename.endswith(".gpkg")
    path = tmp_path / download.suggested_filename
    download.save_as(path)

    query = parse_qs(urlparse(page.get_by_role("link", name="下载").get_attribute("href")).query)
    assert query["unit"] == ["chongfu"] and query["kind"] == ["contiguous"] and query["layer"] == ["parcels"]
    minx, miny, maxx, maxy = (float(v) for v in query["bbox"][0].split(","))
    with engine.connect() as conn:
        expected = conn.scalar(text(
            "SELECT count(*) FROM parcels p JOIN units u ON p.unit_id = u.id WHERE u.code = 'chongfu' "
            "AND p.block_id IS NOT NULL AND ST_Intersects(p.geom, ST_MakeEnvelope(:a, :b, :c, :d, 4490))"
        ), {"a": minx, "b": miny, "c": maxx, "d": maxy})
    data = pyogrio.read_dataframe(path)
    assert expected > 0 and len(data) == expected
    assert CRS(data.crs).equals(CRS("EPSG:4549"), ignore_axis_order=True)
    assert set(data["所属镇街"]) == {"崇福镇"}
    # KML is lon/lat only: choosing it fixes the CRS and says why
    page.get_by_label("格式").select_option("kml")
    assert page.get_by_label("坐标系（CGCS2000）").is_disabled()
    assert page.get_by_text("KML 只能使用经纬度坐标").is_visible()
    assert errors == []
    context.close()


def test_export_control_on_a_phone(browser, live_server, standing_sessions):
    context = _planner_context(browser, live_server, standing_sessions, {"width": 390, "height": 844})
    page = context.new_page()
    errors = _open(page, live_server, "/")
    page.get_by_role("button", name="导出 ▸").click()
    body = page.locator(".export-body")
    box = body.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390
    assert page.get_by_role("link", name="下载").is_visible()
    page.screenshot(path=str(SHOTS / "map-export-phone.png"))
    options = page.locator(".export-control option").all_inner_texts()
    assert offending(" ".join(options)) == [] and page_offending(page, names=("test_planner",)) == []  # the account name is data
    assert errors == []
    context.close()
