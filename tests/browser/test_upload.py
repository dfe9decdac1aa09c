"""The upload screen on the upload API: a GBK zipped Shapefile, detected encoding and CRS with decoded
samples, the per-feature report with the offending feature red on the map, then commit."""

from __future__ import annotations

import pytest
from sqlalchemy import delete, select

from app.core.db import new_session
from app.models import Parcel
from tests.browser.make_gbk_shapefile import gbk_parcels_zip

pytestmark = pytest.mark.browser
CODES = ("330483-UP-0001", "330483-UP-0002", "330483-UP-0003")


@pytest.fixture(scope="module")
def gis_user(engine) -> tuple[str, str]:
    """A GIS staff account (uploads need one), made once in the run's test database."""
    from app.auth.models import User
    from app.auth.roles import Role
    from app.auth.service import create_user

    name, password = "map_test_gis", "map-test-password-1"
    with new_session(engine) as s:
        if s.scalar(select(User.id).where(User.username == name)) is None:
            create_user(s, username=name, role=Role.GIS_STAFF, password=password, display_name="地图测试 GIS 数据员")
            s.commit()
    return name, password


@pytest.fixture()
def cleanup(engine):
    """The commit writes to the shared test database: take its parcels out again afterwards."""
    yield
    with new_session(engine) as s, s.begin():
        s.execute(delete(Parcel).where(Parcel.code.in_(CODES)))


def test_upload_needs_a_login_and_says_so(page, live_server, tmp_path):
    page.goto(live_server + "/#/upload")
    page.wait_for_selector("body[data-map-state='ready']", state="attached", timeout=30_000)
    zipped = tmp_path / "宗地_GBK.zip"
    zipped.write_bytes(gbk_parcels_zip())
    page.get_by_label("选择要上传的文件").set_input_files(str(zipped))
    page.wait_for_function("document.body.dataset.upload === 'failed'")
    message = page.locator("#upload-view .message")
    assert "请先以 GIS 数据员账号登录" in message.inner_text()
    assert message.get_by_role("link", name="去登录").get_attribute("href") == "/login?next=%2F%23%2Fupload"


def test_upload_a_gbk_shapefile_see_the_report_and_commit(page, live_server, screenshot_dir, tmp_path, cleanup,
                                                          gis_user):
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    username, password = gis_user
    login = page.request.post(live_server + "/api/auth/login", data={"username": username, "password": password})
    assert login.ok, login.text()
    page.goto(live_server + "/#/upload")
    page.wait_for_selector("body[data-map-state='ready']", state="attached", timeout=30_000)
    assert page.locator("nav a[aria-current='page']").inner_text() == "数据上传"
    zipped = tmp_path / "宗地_GBK.zip"
    zipped.write_bytes(gbk_parcels_zip())
    page.get_by_label("选择要上传的文件").set_input_files(str(zipped))
    page.wait_for_function("document.body.dataset.upload === 'staged'", timeout=30_000)
    view = page.locator("#upload-view")
    assert page.get_by_label("编码").input_value() == "gbk"
    assert "EPSG:4549" in page.locator("#upload-view").get_by_label("坐标系", exact=True).input_value()
    samples = view.locator("[data-testid=samples]").inner_text()
    assert "桐乡市上传测试纺织有限公司" in samples and "宗地编号" in samples  # decoded from GBK
    assert page.locator("#map-code").input_value() == "宗地编号"
    verdict = view.locator("[data-testid=upload-verdict]").inner_text()
    assert "共 3 个要素：1 个有错误" in verdict
    assert "自相交" in view.locator(".report-list").inner_text()
    assert page.locator("path.upload-error").count() == 1  # the bow tie, red on the map
    assert page.locator("path.upload-feature").count() == 3
    view.get_by_role("button", name="要素 3（330483-UP-0003）").click()
    page.locator(".leaflet-popup-content").wait_for()
    page.wait_for_function("getComputedStyle(document.querySelector('.leaflet-popup')).opacity === '1'")
    popup = page.locator(".leaflet-popup-content").inner_text()
    assert "自相交" in popup
    # the row as the file has it, decoded from GBK, beside what the check found
    assert "文件中的属性" in popup and "桐乡市蝴蝶结机械厂" in popup and "整治清退" in popup
    assert "修复后面积 9.00 亩" in popup  # the bow tie's only area is its repaired form's
    assert popup.index("宗地编号") < popup.index("权利人") < popup.index("建筑面积") < popup.index("分类")  # file order
    page.screenshot(path=str(screenshot_dir / "upload-report.png"))
    page.get_by_label("接受自动修复（使用系统修复后的图形）").check()
    # the owners are not in the register: these parcels go in without an enterprise
    assert "3 个权利人不在企业库中" in view.get_by_test_id("unknown-owners").inner_text()
    page.get_by_label("这些宗地不关联企业导入").check()
    page.get_by_role("button", name="确认入库").click()
    page.wait_for_function("document.body.dataset.upload === 'committed'", timeout=30_000)
    assert "已入库：新增 3 个" in view.locator(".commit-result").get_by_role("status").inner_text()
    page.wait_for_function("document.body.dataset.parcelsMatched === document.body.dataset.parcelsDrawn"
                           " && Number(document.body.dataset.parcelsDrawn) > 0")
    assert "宗地" in page.locator("#status").inner_text()
    assert errors == []
