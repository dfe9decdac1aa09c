"""An upload the GIS clerk finishes in the browser: the key field has a typo (宗地编好), the report says
字段未对应 and suggests the field, the clerk picks it and re-checks (no second upload), chooses what to
do with owners the register does not know, commits, reads the result beside the button and follows
在地图上查看. At 1440×900 and at 390×844, on a database of its own; screenshots in /tmp/shots."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pytest
from shapely import box
from sqlalchemy import text

from app.auth.demo import DEMO_PASSWORD
from tests.browser.make_gbk_shapefile import zipped_gbk_shapefile
from tests.browser.words import page_offending
from tests.browser.workflow_ui import demo_site

pytestmark = pytest.mark.browser
SHOTS = Path("/tmp/shots")
KNOWN = "桐乡市永鑫合成纤维有限公司"  # in the demo register
X0, Y0 = 542_900.0, 3_379_400.0  # near 崇福镇 (EPSG:4549), clear of the demo parcels at these rows
VIEWPORTS = {
    "desktop": ({"width": 1440, "height": 900}, "UPF-D", 1200.0),
    "phone": ({"width": 390, "height": 844}, "UPF-P", -400.0),
}


@pytest.fixture(scope="module")
def site():
    with demo_site("txmap_test_upfin") as (live, engine):
        yield live, engine


def typo_shapefile(prefix: str, dy: float) -> bytes:
    """Three parcels in GBK with the key field misspelt 宗地编好; two owners the register does not know."""
    rows = [
        {"宗地编好": f"{prefix}-0001", "权利人": f"{prefix}新登记纺织厂", "建筑面积": 12000.0, "分类": "改造提升"},
        {"宗地编好": f"{prefix}-0002", "权利人": KNOWN, "建筑面积": 8000.0, "分类": "优化转型"},
        {"宗地编好": f"{prefix}-0003", "权利人": f"{prefix}新登记纺织厂", "建筑面积": 9000.0, "分类": "改造提升"},
    ]
    geoms = [box(X0 + k * 130, Y0 + dy, X0 + k * 130 + 120, Y0 + dy + 100) for k in range(3)]
    frame = gpd.GeoDataFrame(rows, geometry=geoms, crs=4549)
    # a column of its own per run: a corrected mapping is remembered for files with the same fields
    frame[f"备注{prefix[-1]}"] = ""
    return zipped_gbk_shapefile(frame)


@pytest.mark.parametrize("size", list(VIEWPORTS))
def test_the_clerk_fixes_the_field_chooses_for_new_owners_commits_and_sees_the_parcels(browser, site, size,
                                                                                       tmp_path):
    live, engine = site
    viewport, prefix, dy = VIEWPORTS[size]
    SHOTS.mkdir(exist_ok=True)
    context = browser.new_context(viewport=viewport, locale="zh-CN")
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    login = page.request.post(live + "/api/auth/login", data={"username": "gis", "password": DEMO_PASSWORD})
    assert login.ok, login.text()
    page.goto(live + "/?debug=1#/upload")
    page.wait_for_selector("body[data-map-state='ready']", state="attached", timeout=30_000)
    zipped = tmp_path / "宗地.zip"
    zipped.write_bytes(typo_shapefile(prefix, dy))
    page.get_by_label("选择要上传的文件").set_input_files(str(zipped))
    page.wait_for_function("document.body.dataset.upload === 'staged'", timeout=30_000)
    view = page.locator("#upload-view")

    # 字段未对应: said once, every feature red, nothing can be committed; the field is suggested
    banner = view.get_by_test_id("field-unmapped")
    assert "字段未对应" in banner.inner_text() and "宗地编号" in banner.inner_text()
    assert "共 3 个要素：3 个有错误" in view.get_by_test_id("upload-verdict").inner_text()
    assert page.locator("path.upload-error").count() == 3
    assert view.get_by_role("button", name="确认入库").is_disabled()
    code = page.get_by_label("宗地编号（必填）")
    assert code.input_value() == "宗地编好"  # the suggestion, preselected
    hint = view.locator("#map-code-hint").inner_text()
    assert "建议：宗地编好（与“宗地编号”相近）" in hint and "点“重新检查”后生效" in hint
    assert page_offending(page) == []
    page.screenshot(path=str(SHOTS / f"upload-{size}-report.png"))

    code.select_option("（不导入）")
    assert "必填，尚未对应" in view.locator("#map-code-hint").inner_text()
    code.select_option("宗地编好")  # the clerk picks it
    view.get_by_role("button", name="重新检查").click()
    page.wait_for_function("document.body.dataset.uploadRevision === '1'", timeout=30_000)
    assert view.get_by_test_id("field-unmapped").count() == 0
    assert "3 个要素全部通过检查" in view.get_by_test_id("upload-verdict").inner_text()
    assert page.locator("path.upload-ok").count() == 3
    assert page.evaluate("document.activeElement.dataset.testid") == "upload-verdict"
    owners = view.get_by_test_id("unknown-owners")
    assert "1 个权利人不在企业库中（涉及 2 宗地）" in owners.inner_text()
    assert f"{prefix}新登记纺织厂" in owners.inner_text() and "要素 1" in owners.inner_text()
    assert "要素 3" in owners.inner_text() and KNOWN not in owners.inner_text()

    commit = view.locator("button.commit")
    commit.click()  # without a choice: said beside the button, nothing sent
    result = view.locator(".commit-result")
    assert "请先在上面选择如何处理不在企业库中的权利人" in result.get_by_role("alert").inner_text()
    page.get_by_label("登记为新企业（只有名称，统一社会信用代码待补充），并关联其宗地").check()
    page.screenshot(path=str(SHOTS / f"upload-{size}-owners.png"))
    commit.click()
    page.wait_for_function("document.body.dataset.upload === 'committed'", timeout=30_000)
    status = result.get_by_role("status")
    said = status.inner_text()
    assert "已入库：新增 3 个" in said and "已登记新企业 1 家（统一社会信用代码待补充）" in said
    assert page.evaluate("document.activeElement.closest('.commit-result') !== null")  # focus moved there
    box_commit, box_result = commit.bounding_box(), status.bounding_box()
    assert 0 <= box_result["y"] - (box_commit["y"] + box_commit["height"]) < 60  # right under the button
    assert page.locator("path.upload-feature").count() == 0  # the staged preview is gone
    assert page_offending(page) == []
    page.screenshot(path=str(SHOTS / f"upload-{size}-committed.png"))

    status.get_by_role("button", name="在地图上查看").click()
    page.wait_for_function("document.body.dataset.view === 'map' && document.body.dataset.uploadShown === '3'")
    assert page.locator("path.upload-imported").count() == 3
    inside = page.evaluate("""() => {
      const b = window.cloudmapDebug.map.getBounds();
      return [...document.querySelectorAll('path.upload-imported')].every((p) => {
        const r = p.getBoundingClientRect(), m = document.getElementById('map').getBoundingClientRect();
        return r.left >= m.left && r.right <= m.right && r.top >= m.top && r.bottom <= m.bottom;
      }) && b.isValid();
    }""")
    assert inside
    page.screenshot(path=str(SHOTS / f"upload-{size}-on-map.png"))
    # the new enterprise is found by its name, its credit code still to be completed
    page.fill("#search-input", prefix)  # its parcels and the enterprise: a list of results
    page.press("#search-input", "Enter")
    hit = page.locator("#search-results button.result:has(.kind-enterprise)").first
    hit.wait_for()
    assert "信用代码待补充" in hit.inner_text() and "null" not in hit.inner_text()
    assert errors == []
    context.close()

    with engine.connect() as conn:
        linked = conn.execute(text(
            "SELECT p.code, e.name, e.credit_code FROM parcels p JOIN enterprises e ON e.id = p.enterprise_id"
            " WHERE p.code LIKE :p ORDER BY p.code"), {"p": f"{prefix}-%"}).all()
    assert linked == [(f"{prefix}-0001", f"{prefix}新登记纺织厂", None), (f"{prefix}-0002", KNOWN, "91330483015005230K"),
                      (f"{prefix}-0003", f"{prefix}新登记纺织厂", None)]


def test_a_file_with_several_layers_is_read_again_with_the_layer_the_clerk_picks(browser, site, tmp_path):
    """Refused before any report (which layer?): the layers offered under the message, the same file
    read again with the one picked, no second choice of the file."""
    from tests.app import upload_corpus as corpus

    live, _ = site
    context = browser.new_context(viewport=VIEWPORTS["desktop"][0], locale="zh-CN")
    page = context.new_page()
    login = page.request.post(live + "/api/auth/login", data={"username": "gis", "password": DEMO_PASSWORD})
    assert login.ok, login.text()
    page.goto(live + "/#/upload")
    page.wait_for_selector("body[data-map-state='ready']", state="attached", timeout=30_000)
    data = corpus.gpkg_bytes({"宗地": corpus.parcels(3, prefix="GPL"), "区块": corpus.parcels(1, prefix="GQK", row=2)},
                             tmp_path)
    gpkg = tmp_path / "两个图层.gpkg"
    gpkg.write_bytes(data)
    page.get_by_label("选择要上传的文件").set_input_files(str(gpkg))
    page.wait_for_function("document.body.dataset.upload === 'failed'", timeout=30_000)
    view = page.locator("#upload-view")
    assert "请选择要导入的图层" in view.locator(".message").inner_text()
    recover = view.get_by_test_id("upload-recover")
    layer = recover.get_by_label("图层", exact=False)
    assert sorted(layer.locator("option").evaluate_all("os => os.map((o) => o.textContent)")) == ["区块", "宗地"]
    assert page_offending(page) == []
    page.screenshot(path=str(SHOTS / "upload-desktop-layers.png"))
    layer.select_option("宗地")
    recover.get_by_role("button", name="重新读取").click()
    page.wait_for_function("document.body.dataset.upload === 'staged'", timeout=30_000)
    assert "3 个要素" in view.get_by_test_id("upload-verdict").inner_text()
    context.close()
