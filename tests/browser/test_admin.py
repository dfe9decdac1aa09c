"""系统管理 in headless Chromium: an administrator sets next year's targets, changes a scoring weight,
creates and edits a user, creates and revokes an API key, previews and issues a month's report and
opens it; every section read for English and developer words, and drawn at 1440×900 and 390×844
(screenshots in /tmp/shots/admin-*.png) with no sideways page scroll on the phone."""

from __future__ import annotations

import io
from pathlib import Path

import httpx
import pytest
from openpyxl import load_workbook
from playwright.sync_api import expect

from tests.browser.words import offending, workbook_offending
from tests.browser.workflow_ui import log_in, site_with_admin

pytestmark = pytest.mark.browser

SHOTS = Path("/tmp/shots")
DESKTOP = {"width": 1440, "height": 900}
PHONE = {"width": 390, "height": 844}
SECTIONS = ["targets", "scoring", "users", "keys", "reports"]
BODY = "桐乡市工业园区有机更新工作领导小组办公室"
# What a person reads in a section, the users table's login names and names left out: they are the
# accounts' own data (the test accounts are named like their logins), not words of the page.
SECTION_TEXT = """(name) => {
  const panel = document.getElementById('panel-' + name);
  const clone = panel.cloneNode(true);
  for (const cell of clone.querySelectorAll('#users-table td:nth-child(-n+2)')) cell.remove();
  const parts = [document.getElementById('admin-tabs').innerText, clone.innerText];
  for (const el of clone.querySelectorAll('[title], [aria-label], [placeholder]')) {
    for (const a of ['title', 'aria-label', 'placeholder']) { const v = el.getAttribute(a); if (v) parts.push(v); }
  }
  for (const o of clone.querySelectorAll('option')) parts.push(o.textContent);
  return parts.join('\\n');
}"""


@pytest.fixture(scope="module")
def site():
    with site_with_admin("txmap_test_admin", "admin_li", "李主任") as s:
        yield s


def _context(browser, viewport):
    return browser.new_context(viewport=viewport, locale="zh-CN", timezone_id="Asia/Shanghai",
                               permissions=["clipboard-read", "clipboard-write"])


def _section(page, name: str) -> None:
    page.locator(f"#tab-{name}").click()
    expect(page.locator(f"#panel-{name}")).to_have_attribute("data-state", "ready")


def _clean(page, name: str) -> None:
    assert offending(page.evaluate(SECTION_TEXT, name)) == [], name


def _answer(page, button: str) -> str:
    """Answer the page's confirmation dialog with its action button; returns the question."""
    dialog = page.locator("dialog.confirm")
    expect(dialog).to_be_visible()
    question = dialog.locator("#confirm-q").inner_text()
    dialog.get_by_role("button", name=button, exact=True).click()
    expect(dialog).to_have_count(0)
    return question


def _row(page, unit: str):
    return page.locator(f"#targets-table tbody tr[data-unit={unit}]")


def test_the_admin_runs_the_programme_from_the_page(browser, site):
    context = _context(browser, DESKTOP)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    log_in(page, site, "admin_li", "/admin")
    page.locator("body[data-admin-state=ready]").wait_for()
    expect(page.locator("#panel-targets")).to_have_attribute("data-state", "ready")

    # 年度任务: 2024 is offered though nothing is set for it; a wrong figure is named beside its field.
    page.select_option("#targets-year", "2024")
    expect(page.locator("#panel-targets")).to_have_attribute("data-state", "ready")
    fengming = _row(page, "fengming")
    expect(fengming.locator(".row-state")).to_have_text("未下达")
    fengming.locator("td[data-field=contiguous_mu] input").fill("-5")
    fengming.locator("td[data-field=scattered_mu] input").fill("30")
    fengming.get_by_role("button", name="保存").click()
    expect(fengming.locator("td[data-field=contiguous_mu] .field-error")).to_have_text("连片面积不能为负数")
    fengming.locator("td[data-field=contiguous_mu] input").fill("50")
    expect(fengming.locator("td").nth(2)).to_have_text("80.00")
    fengming.get_by_role("button", name="保存").click()
    expect(fengming.locator(".row-state")).to_have_text("已保存")
    expect(fengming.locator(".field-error")).to_have_count(0)
    # Another admin changes 凤鸣 meanwhile: this page's save is refused beside the row, naming the figures now.
    with site.api("test_admin") as other:
        assert other.put("/api/progress/targets/fengming/2024", json={"contiguous_mu": 70, "scattered_mu": 30}).status_code == 200
    fengming.locator("td[data-field=contiguous_mu] input").fill("55")
    fengming.get_by_role("button", name="保存").click()
    expect(fengming.locator("td[data-field=contiguous_mu] .field-error")).to_contain_text("刚被他人修改，现为连片 70.00 亩、零星 30.00 亩")
    fengming.locator("td[data-field=contiguous_mu] input").fill("50")
    fengming.get_by_role("button", name="保存").click()  # now against the version it was told about
    expect(fengming.locator(".row-state")).to_have_text("已保存")
    # Two more rows at once.
    _row(page, "wutong").locator("td[data-field=contiguous_mu] input").fill("100")
    _row(page, "wutong").locator("td[data-field=scattered_mu] input").fill("60.5")
    _row(page, "shimen").locator("td[data-field=contiguous_mu] input").fill("120")
    _row(page, "shimen").locator("td[data-field=scattered_mu] input").fill("40")
    page.locator("#targets-save-all").click()
    expect(page.locator("#targets-message")).to_have_text("已保存 2 个单位的任务。")
    with httpx.Client(base_url=site.url) as anon:
        targets = {u["unit_code"]: u["target"] for u in anon.get("/api/progress/targets", params={"year": 2024}).json()["units"]}
    assert targets["fengming"] == {"renewal_mu": 80.0, "contiguous_mu": 50.0, "scattered_mu": 30.0}
    assert targets["wutong"]["renewal_mu"] == 160.5 and targets["shimen"]["renewal_mu"] == 160.0
    expect(page.locator("#targets-city")).to_have_text("400.50")
    _clean(page, "targets")

    # 考核配置: the first 连片 indicator's weight 50 → 40; a wrong pair of track weights is refused.
    _section(page, "scoring")
    page.select_option("#scoring-year", "2024")
    expect(page.locator("#panel-scoring")).to_have_attribute("data-state", "ready")
    expect(page.locator("#scoring-meta")).to_have_text("该年度尚未设置，以下为默认配置。")
    page.fill("#weight-contiguous", "70")
    page.locator("#scoring-save").click()
    expect(page.locator("#scoring-message")).to_contain_text("连片与零星的轨道权重之和须为 100")
    page.fill("#weight-contiguous", "60")
    weight = page.locator("td[data-field='contiguous.indicators.0.weight'] input")
    expect(weight).to_have_value("50")
    weight.fill("40")
    page.locator("#scoring-save").click()
    expect(page.locator("#scoring-message")).to_have_text("2024 年考核配置已保存。")
    expect(page.locator("#scoring-meta")).to_contain_text("上次修改：李主任")
    with httpx.Client(base_url=site.url) as anon:
        saved = anon.get("/api/progress/config/2024").json()
    assert saved["is_default"] is False
    assert [i["weight"] for i in saved["config"]["contiguous"]["indicators"]] == [40, 30, 20]
    assert saved["config"]["schedule"][9] == 10 / 12  # an untouched month goes back exactly, not 83.33 %
    assert saved["config"]["contiguous"]["indicators"][0]["full_at"] == 1.0  # shown as 100 %
    expect(page.locator("td[data-field='contiguous.indicators.0.full_at'] input")).to_have_value("100")
    _clean(page, "scoring")

    # 用户: create a unit officer, then rename and make a planner of them, and reset the password.
    _section(page, "users")
    page.fill("#new-username", "wangjingban")
    page.fill("#new-display-name", "王经办")
    page.select_option("#new-role", "unit_officer")
    page.locator("#user-create button[type=submit]").click()
    expect(page.locator("#user-create [data-field=unit] .field-error")).to_have_text("镇街经办人须选择所属单位")
    page.select_option("#new-unit", "fengming")
    page.fill("#new-password", "short")
    page.locator("#user-create button[type=submit]").click()
    expect(page.locator("#user-create [data-field=password] .field-error")).to_contain_text("密码至少 8 位")
    page.fill("#new-password", "fengming-2024")
    page.locator("#user-create button[type=submit]").click()
    expect(page.locator("#users-message")).to_have_text("已新建用户“王经办”。")
    row = page.locator("#users-table tr[data-user=wangjingban]")
    expect(row).to_contain_text("镇街经办人")
    expect(row).to_contain_text("凤鸣街道")
    row.get_by_role("button", name="修改").click()
    page.fill("#edit-display-name", "王小明")
    page.select_option("#edit-role", "planner")
    page.locator("#user-editor form").first.locator("button[type=submit]").click()
    expect(page.locator("#user-editor .message")).to_have_text("已保存用户“王小明”。")
    expect(row).to_contain_text("规划查看")
    page.fill("#reset-password", "new-pass-2024")
    page.fill("#reset-password-2", "new-pass-2025")
    page.locator("#user-editor form").nth(1).locator("button[type=submit]").click()
    expect(page.locator("#user-editor [data-field=password2] .field-error")).to_have_text("两次输入的密码不一致")
    page.fill("#reset-password-2", "new-pass-2024")
    page.locator("#user-editor form").nth(1).locator("button[type=submit]").click()
    expect(page.locator("#user-editor .message")).to_contain_text("已重置“王小明”的密码")
    with httpx.Client(base_url=site.url) as c:
        assert c.post("/api/auth/login", json={"username": "wangjingban", "password": "new-pass-2024"}).status_code == 200
        assert c.get("/api/auth/me").json()["user"]["role"] == "planner"
    _clean(page, "users")

    # 接口密钥: created and shown once with a copy button; works on /ogc; revoked after a confirmation.
    _section(page, "keys")
    page.fill("#key-name", "市场监管局 企业画像系统")
    page.fill("#key-rate", "120")
    page.locator("#key-create button[type=submit]").click()
    key_input = page.locator("#new-key-value")
    expect(key_input).to_be_visible()
    key = key_input.input_value()
    assert key.startswith("cmk_")
    page.locator("#copy-key").click()
    expect(page.locator("#new-key")).to_contain_text("已复制")
    assert page.evaluate("navigator.clipboard.readText()") == key
    key_row = page.locator("#keys-table tbody tr").filter(has_text="市场监管局 企业画像系统")
    expect(key_row).to_contain_text("每分钟 120 次")
    expect(key_row).to_contain_text("使用中")
    assert key not in page.locator("#keys-table").inner_text()
    with httpx.Client(base_url=site.url) as anon:
        assert anon.get("/ogc/collections", headers={"X-API-Key": key}).status_code == 200
        key_row.get_by_role("button", name="停用").click()
        assert "停用“市场监管局 企业画像系统”的接口密钥" in _answer(page, "停用")
        expect(page.locator("#keys-message")).to_have_text("已停用“市场监管局 企业画像系统”的接口密钥。")
        expect(key_row.locator(".key-state")).to_contain_text("已停用")
        assert anon.get("/ogc/collections", headers={"X-API-Key": key}).status_code == 401
    _clean(page, "keys")

    # 月度通报: the latest month with data (December 2023) is offered; preview, then issue it.
    _section(page, "reports")
    expect(page.locator("#report-year")).to_have_value("2023")
    expect(page.locator("#report-month")).to_have_value("12")
    expect(page.locator("#issue-no")).to_have_value("1")
    expect(page.locator("#issuing-body")).to_have_value(BODY)
    with context.expect_page() as opened:
        page.locator("#report-preview").click()
    preview = opened.value
    preview.wait_for_load_state()
    expect(preview.locator(".issue-no")).to_contain_text("2023 年第 1 期")
    expect(preview.locator(".issue-no")).to_contain_text("预览")
    preview.close()
    page.locator("#issue-form button[type=submit]").click()
    expect(page.locator("#issue-form [data-field=signed_by] .field-error")).to_have_text("请填写签发人")
    page.fill("#signed-by", "李主任")
    page.locator("#issue-form button[type=submit]").click()
    assert "印发 2023 年 12 月的通报（2023 年第 1 期）" in _answer(page, "印发")
    expect(page.locator("#issue-result")).to_contain_text("已印发 2023 年 12 月的通报（2023 年第 1 期）")
    with context.expect_page() as opened:
        page.locator("#open-issued").click()
    issued = opened.value
    issued.wait_for_load_state()
    expect(issued.locator("body")).to_have_attribute("data-report-state", "issued")
    expect(issued.locator(".issue-no")).to_have_text("2023 年第 1 期")
    expect(issued.locator(".issuing-body")).to_have_text(BODY)
    expect(issued.locator(".signoff")).to_have_text("签发人：李主任")
    expect(issued.locator(".meta")).to_contain_text("李主任")
    assert "admin_li" not in issued.locator("body").inner_text()
    SHOTS.mkdir(parents=True, exist_ok=True)
    issued.screenshot(path=str(SHOTS / "admin-issued-report.png"))
    issued.close()
    listed = page.locator("#reports-table tr[data-report='2023-12']")
    expect(listed).to_contain_text("2023 年第 1 期")
    expect(listed).to_contain_text("李主任")
    expect(page.locator("#report-state")).to_contain_text("已于")
    with httpx.Client(base_url=site.url) as anon:
        xlsx = anon.get(page.locator("#issued-xlsx").get_attribute("href"))
    assert xlsx.status_code == 200 and workbook_offending(xlsx.content) == []
    cells = [str(v) for row in load_workbook(io.BytesIO(xlsx.content))["月度通报"].iter_rows(values_only=True)
             for v in row if v is not None]
    assert "2023 年第 1 期" in cells and f"印发单位：{BODY}" in cells and "签发人：李主任" in cells
    # The next month's form offers the next number.
    page.select_option("#report-month", "11")
    expect(page.locator("#issue-no")).to_have_value("2")
    _clean(page, "reports")
    assert errors == []
    context.close()


def test_every_section_fits_a_desktop_and_a_phone(browser, site):
    SHOTS.mkdir(parents=True, exist_ok=True)
    for label, viewport in (("desktop", DESKTOP), ("phone", PHONE)):
        context = _context(browser, viewport)
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda exc, seen=errors: seen.append(str(exc)))
        log_in(page, site, "admin_li", "/admin")
        page.locator("body[data-admin-state=ready]").wait_for()
        for name in SECTIONS:
            _section(page, name)
            if name == "keys" and label == "phone":  # a freshly made key, as it is shown once
                page.fill("#key-name", "自然资源和规划局 一张图")
                page.locator("#key-create button[type=submit]").click()
                expect(page.locator("#new-key-value")).to_be_visible()
            if name == "reports":  # a month not yet issued: the form
                page.select_option("#report-month", "11")
                expect(page.locator("#issue-form")).to_be_visible()
                page.fill("#signed-by", "李主任")
            width = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
            assert width[0] <= width[1], (label, name, width)  # no sideways scroll of the page
            page.screenshot(path=str(SHOTS / f"admin-{name}-{label}.png"), full_page=True)
            _clean(page, name)
        assert errors == []
        context.close()


def test_the_admin_page_is_for_admins_only(browser, site):
    context = _context(browser, DESKTOP)
    page = context.new_page()
    page.goto(site.url + "/admin")
    page.wait_for_url("**/login?next=%2Fadmin")
    log_in(page, site, "test_planner", "/")
    page.goto(site.url + "/admin")
    page.locator("body[data-admin-state=refused]").wait_for()
    expect(page.locator("main .notice")).to_contain_text("不能使用此页面")
    context.close()
