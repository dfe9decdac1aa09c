"""A GIS clerk's round trip in the browser: download a block's Shapefile zip, upload it back on the
upload screen — the parcel layer is taken by itself (and the screen says so), every parcel is
reported unchanged, and committing writes nothing."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app.core.db import new_session
from app.models import Parcel
from tests.browser.test_upload import gis_user  # noqa: F401 - the module's fixture, reused
from tests.browser.words import page_offending

pytestmark = pytest.mark.browser


def test_a_block_export_uploads_back_unchanged(page, live_server, screenshot_dir, tmp_path, engine, gis_user):  # noqa: F811
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    username, password = gis_user
    assert page.request.post(live_server + "/api/auth/login", data={"username": username, "password": password}).ok
    block = page.request.get(live_server + "/api/blocks?limit=1").json()["features"][0]
    code = block["properties"]["code"]
    exported = page.request.get(f"{live_server}/api/blocks/{code}/export?format=shp&encoding=gbk")
    assert exported.ok
    zipped = tmp_path / f"{code}.zip"
    zipped.write_bytes(exported.body())
    with new_session(engine) as s:
        in_block = s.scalar(select(func.count()).select_from(Parcel).where(Parcel.block.has(code=code)))
        before = s.scalar(select(func.max(Parcel.updated_at)))
    page.goto(live_server + "/#/upload")
    page.wait_for_selector("body[data-map-state='ready']", state="attached", timeout=30_000)
    page.get_by_label("选择要上传的文件").set_input_files(str(zipped))
    page.wait_for_function("document.body.dataset.upload === 'staged'", timeout=30_000)
    view = page.locator("#upload-view")
    note = view.get_by_test_id("file-note").first.inner_text()
    assert f"{code}_宗地" in note  # the parcel layer, taken by itself from the two in the zip
    assert view.get_by_label("图层", exact=True).input_value() == f"{code}_宗地.shp"
    assert view.get_by_test_id("upload-verdict").inner_text() == f"{in_block} 个要素全部通过检查"
    assert view.get_by_test_id("upload-unchanged").inner_text() == f"全部 {in_block} 个要素与库中完全相同（图形和属性），入库时不会改动"
    assert view.locator(".report-list li").count() == 0  # nothing to look at feature by feature
    assert view.locator("select[name=on_existing]").count() == 0  # nothing to keep or replace
    page.screenshot(path=str(screenshot_dir / "upload-roundtrip.png"))
    view.get_by_test_id("upload-unchanged").scroll_into_view_if_needed()
    page.screenshot(path=str(screenshot_dir / "upload-roundtrip-verdict.png"))
    page.set_viewport_size({"width": 390, "height": 844})
    page.screenshot(path=str(screenshot_dir / "upload-roundtrip-phone.png"), full_page=True)
    assert page_offending(page) == []
    page.set_viewport_size({"width": 1280, "height": 800})
    page.get_by_role("button", name="确认入库").click()
    page.wait_for_function("document.body.dataset.upload === 'committed'", timeout=30_000)
    result = view.locator(".commit-result").get_by_role("status").inner_text()
    assert f"无变化 {in_block} 个" in result and "新增 0 个" in result and "替换 0 个" in result, result
    with new_session(engine) as s:
        assert s.scalar(select(func.max(Parcel.updated_at))) == before  # nothing written
    assert errors == []
