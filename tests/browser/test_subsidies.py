"""扶持资金 and 典型案例 in headless Chromium on real PostGIS (the demo data and accounts): 崇福镇's officer
applies for an enterprise of 崇福东兴羽绒区块 — the live answer says 否 for a day before the block's
approval and 是 (with the block and since when) for a day after it; the reviewer approves a smaller amount
and the fund's committed figure grows by it; the administrator pays part of it and the paid figure grows;
the administrator marks a quarter's 现场会 block with a photo and it shows in 典型案例 and in the block's
map panel. Desktop and 390×844 (nothing scrolls sideways, no English or developer word). Screenshots in
tests/browser/screenshots/subsidies-*.png."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from playwright.sync_api import expect

from app.auth.demo import DEMO_PASSWORD
from app.subsidies.demo import _png
from tests.browser.words import page_offending
from tests.browser.workflow_ui import demo_site

pytestmark = pytest.mark.browser

DESKTOP = {"width": 1366, "height": 900}
PHONE = {"width": 390, "height": 844}
ENTERPRISE = "9133048317555134CX"  # 桐乡市东兴羽绒制品有限公司, 崇福东兴羽绒区块 (认定 2022-04-18)


@pytest.fixture(scope="module")
def site():
    with demo_site("txmap_test_subsidies") as (url, engine):
        yield SimpleNamespace(url=url, engine=engine)


def _page(browser, site, username: str, path: str, viewport=DESKTOP):
    page = browser.new_context(viewport=viewport, locale="zh-CN", timezone_id="Asia/Shanghai").new_page()
    page.errors = []
    page.on("pageerror", lambda exc: page.errors.append(str(exc)))
    page.goto(f"{site.url}/login?next=/regulation")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(lambda url: "/login" not in url and url.endswith("/regulation"))
    page.goto(f"{site.url}{path}")
    tab = path.split("#")[1].split("/")[0]
    page.locator("body[data-regulation-state=ready]").wait_for(timeout=30_000)
    page.locator(f"#tab-{tab}[data-state=ready]").wait_for(timeout=30_000)
    return page


def _figure(page, key: str) -> float:
    return float(page.locator(f"[data-figure={key}] .num").inner_text().replace(",", ""))


def _clean(page) -> None:
    assert page_offending(page) == []
    assert page.evaluate("document.documentElement.scrollWidth") <= page.viewport_size["width"]
    assert page.errors == []


def test_officer_applies_reviewer_approves_admin_pays(browser, site, screenshot_dir):
    officer = _page(browser, site, "chongfu", "/regulation#subsidies")
    form = officer.get_by_test_id("subsidy-apply")
    form.locator("input[name=code]").fill(ENTERPRISE)
    form.locator("input[name=applied_on]").fill("2022-03-01")
    live = officer.get_by_test_id("subsidy-live")
    expect(live).to_have_attribute("data-inside", "no")
    expect(live).to_contain_text("否")
    form.locator("input[name=applied_on]").fill("2023-05-10")
    expect(live).to_have_attribute("data-inside", "yes")
    expect(live).to_contain_text("崇福东兴羽绒区块")
    expect(live).to_contain_text("2022-04-18")
    form.locator("input[name=amount_10k]").fill("120")
    form.locator("input[name=project_name]").fill("东兴羽绒标准厂房改造")
    form.locator("textarea[name=basis]").fill("腾退老旧厂房、新建标准厂房")
    form.get_by_role("button", name="提交申请").click()
    expect(officer.locator(".sub-message")).to_contain_text("申请已提交")
    row = officer.get_by_test_id("subsidy-list").locator("tbody tr[data-status=applied]").filter(
        has_text="东兴羽绒标准厂房改造")
    expect(row).to_have_count(1)
    entry = row.get_attribute("data-id")
    expect(row.locator("button[data-action=review]")).to_have_count(0)  # not the applicant's to review
    # the lookup box answers the same
    box = officer.get_by_test_id("boundary-lookup")
    box.locator("input[name=code]").fill(ENTERPRISE)
    box.locator("input[name=on]").fill("2023-05-10")
    box.get_by_role("button", name="查询").click()
    expect(box.get_by_test_id("lookup-sentence")).to_contain_text("自 2022-04-18 起")
    _clean(officer)
    officer.screenshot(path=str(screenshot_dir / "subsidies-officer-desktop.png"), full_page=True)

    reviewer = _page(browser, site, "reviewer", "/regulation#subsidies")
    committed = _figure(reviewer, "committed_10k")
    reviewer.locator(".sub-filters select[name=block]").select_option("TX2022-CF-01")
    expect(reviewer.get_by_test_id("subsidy-list").locator("tbody tr[data-status]")).to_have_count(2)  # demo + ours
    row = reviewer.locator(f"[data-testid=subsidy-list] tbody tr[data-id='{entry}']")
    row.locator("button[data-action=review]").click()
    review = reviewer.get_by_test_id("review-form")
    review.locator("input[name=approved_10k]").fill("100")
    review.locator("input[name=comment]").fill("核减不符合条件部分")
    review.get_by_role("button", name="审核通过").click()
    expect(reviewer.locator(".sub-message")).to_contain_text("已审核通过")
    expect(reviewer.locator(f"[data-testid=subsidy-list] tbody tr[data-id='{entry}']")).to_have_attribute(
        "data-status", "approved")
    assert _figure(reviewer, "committed_10k") == pytest.approx(committed + 100)
    _clean(reviewer)

    admin = _page(browser, site, "admin", "/regulation#subsidies")
    paid, total = _figure(admin, "paid_10k"), _figure(admin, "total_10k")
    admin.locator(f"[data-testid=subsidy-list] tbody tr[data-id='{entry}'] button[data-action=pay]").click()
    pay = admin.get_by_test_id("pay-form")
    pay.locator("input[name=amount_10k]").fill("60")
    pay.get_by_role("button", name="确认拨付").click()
    expect(admin.locator(".sub-message")).to_contain_text("拨付已记录")
    expect(admin.locator("[data-figure=paid_10k] .num")).not_to_have_text(f"{paid:,.2f}")
    assert _figure(admin, "paid_10k") == pytest.approx(paid + 60)
    assert _figure(admin, "remaining_10k") == pytest.approx(total - _figure(admin, "committed_10k"))
    _clean(admin)
    admin.screenshot(path=str(screenshot_dir / "subsidies-admin-desktop.png"), full_page=True)

    phone = _page(browser, site, "admin", "/regulation#subsidies", PHONE)
    expect(phone.get_by_test_id("subsidy-list")).to_be_visible()
    _clean(phone)
    phone.screenshot(path=str(screenshot_dir / "subsidies-admin-phone.png"), full_page=True)


def test_admin_marks_a_quarters_site_meeting(browser, site, screenshot_dir):
    admin = _page(browser, site, "admin", "/regulation#cases")
    form = admin.get_by_test_id("case-form")
    form.locator("input[name=year]").fill("2024")
    form.locator("select[name=quarter]").select_option("1")
    form.locator("select[name=block]").select_option("TX2022-WT-01")
    form.locator("input[name=held_on]").fill("2024-03-20")
    form.locator("textarea[name=notes]").fill("梧桐百桃工业区块：低散乱企业集中整治，腾出空间引进优质项目。")
    form.locator("input[name=photos]").set_input_files([{"name": "现场会.png", "mimeType": "image/png",
                                                        "buffer": _png(320, 200)}])
    form.get_by_role("button", name="保存").click()
    expect(admin.locator(".case-message")).to_contain_text("2024 年第 1 季度")
    row = admin.get_by_test_id("case-list").locator("tbody tr[data-block=TX2022-WT-01]")
    expect(row).to_contain_text("梧桐百桃工业区块")
    expect(row.locator("img")).to_have_count(1)
    # a second block for the same quarter is refused, in Chinese
    form.locator("select[name=block]").select_option("TX2022-CF-02")
    form.locator("textarea[name=notes]").fill("再选一个")
    form.get_by_role("button", name="保存").click()
    expect(form).to_contain_text("每季度只能有一个")
    _clean(admin)
    admin.screenshot(path=str(screenshot_dir / "subsidies-cases-desktop.png"), full_page=True)

    phone = _page(browser, site, "planner", "/regulation#cases", PHONE)
    expect(phone.get_by_test_id("case-list")).to_contain_text("梧桐百桃工业区块")
    _clean(phone)
    phone.screenshot(path=str(screenshot_dir / "subsidies-cases-phone.png"), full_page=True)

    # the block panel on the map says so
    phone.goto(f"{site.url}/?block=TX2022-WT-01")
    phone.locator("#block-panel .panel-extras[data-state=ready]").wait_for(timeout=30_000)  # every section in
    panel = phone.get_by_test_id("panel-subsidies")
    expect(panel).to_contain_text("2024 年第 1 季度全市现场会区块", timeout=30_000)
    expect(panel).to_contain_text("已承诺")
    panel.scroll_into_view_if_needed()
    phone.screenshot(path=str(screenshot_dir / "subsidies-panel-phone.png"))
