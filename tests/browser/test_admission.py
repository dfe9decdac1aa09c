"""项目准入 in headless Chromium on real PostGIS (the demo data and accounts): 崇福镇's officer writes an
application for 崇福东兴羽绒区块 in a chemical industry (C2614, outside the block's 产业导向 C17/C18/C19),
sees the live check flag it before submitting, submits; the reviewer opens it, reads the flag in Chinese,
cannot approve without a reason, approves with one; the project then shows in 投资履约 and in the block
panel on the map. Then the demo applications (app/admission/demo.py) as chongfu, reviewer and wutong meet
them. Desktop and 390×844 (nothing scrolls sideways, no English or developer word).
Screenshots in tests/browser/screenshots/admission-*.png."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from playwright.sync_api import expect

from app.admission import demo
from tests.browser.words import page_offending
from tests.browser.workflow_ui import demo_log_in, demo_site, zh_context

pytestmark = pytest.mark.browser

DESKTOP = {"width": 1366, "height": 900}
PHONE = {"width": 390, "height": 844}
PROJECT = "顺远化工助剂技改项目"


@pytest.fixture(scope="module")
def site():
    with demo_site("txmap_test_admission") as (url, engine):
        yield SimpleNamespace(url=url, engine=engine)




def _ready(page) -> None:
    page.locator("body[data-regulation-state=ready]").wait_for(timeout=30_000)
    page.locator("#tab-admission[data-state=ready]").wait_for(timeout=30_000)


def _clean(page) -> None:
    assert page_offending(page) == []
    assert page.evaluate("document.documentElement.scrollWidth") <= page.viewport_size["width"]


def test_wrong_industry_flagged_reviewer_approves_and_it_shows_in_credit_records(browser, site, screenshot_dir):
    errors: list[str] = []
    officer = zh_context(browser, DESKTOP).new_page()
    officer.on("pageerror", lambda exc: errors.append(str(exc)))
    demo_log_in(officer, site.url, "chongfu", "/regulation#admission/new")
    _ready(officer)
    form = officer.get_by_test_id("admission-form")
    form.locator("select[name=block]").select_option("TX2022-CF-01")
    expect(officer.get_by_test_id("admission-guidance")).to_contain_text("C17 纺织业")
    form.locator("input[name=parcel][value='330483-CF-0009']").check()
    form.locator("input[name=enterprise]").fill("91330483510444980C")
    form.locator("input[name=project_name]").fill(PROJECT)
    form.locator("input[name=industry_code]").fill("C2614")
    for name, value in [("investment_10k", "12000"), ("output_10k", "40000"), ("tax_10k", "1200"),
                        ("floor_area_m2", "22000"), ("far", "2.3")]:
        form.locator(f"input[name={name}]").fill(value)
    form.locator("input[name=start_on]").fill("2024-05-01")
    form.locator("input[name=complete_on]").fill("2025-12-31")
    flag = officer.get_by_test_id("admission-live").locator("li[data-code=industry_outside_guidance]")
    expect(flag).to_contain_text("C2614")
    expect(flag).to_contain_text("产业导向")
    expect(officer.get_by_test_id("admission-live")).to_contain_text("须审慎研判")
    _clean(officer)
    officer.screenshot(path=str(screenshot_dir / "admission-officer-form.png"), full_page=True)

    form.get_by_role("button", name="保存并提交审核").click()
    detail = officer.get_by_test_id("admission-detail")
    expect(detail).to_have_attribute("data-status", "submitted")
    expect(officer.locator(".adm-message")).to_contain_text("已提交")
    code = detail.locator("h3").inner_text().split()[1]
    officer.context.close()

    reviewer = zh_context(browser, DESKTOP).new_page()
    reviewer.on("pageerror", lambda exc: errors.append(str(exc)))
    demo_log_in(reviewer, site.url, "reviewer", "/regulation#admission")
    _ready(reviewer)
    row = reviewer.get_by_test_id("admission-list").locator("tbody tr").filter(has_text=PROJECT)
    expect(row).to_contain_text("有须研判的问题")
    row.get_by_role("link", name="查看").click()
    detail = reviewer.get_by_test_id("admission-detail")
    expect(detail).to_have_attribute("data-status", "submitted")
    expect(detail.locator("li[data-code=industry_outside_guidance]")).to_contain_text("不在“崇福东兴羽绒区块”的产业导向")
    decide = reviewer.get_by_test_id("admission-decide")
    decide.get_by_test_id("admission-approve").click()
    expect(decide.locator("[data-field=comment] .field-error")).to_contain_text("理由")
    _clean(reviewer)
    reviewer.screenshot(path=str(screenshot_dir / "admission-reviewer-decide.png"), full_page=True)
    decide.locator("textarea[name=comment]").fill("为纺织印染配套的助剂项目，经领导小组研究同意准入")
    decide.locator("input[name=doc_no]").fill("桐有更准〔2024〕5号")
    decide.get_by_test_id("admission-approve").click()
    expect(reviewer.get_by_test_id("admission-detail")).to_have_attribute("data-status", "approved")
    expect(reviewer.get_by_test_id("admission-detail")).to_contain_text("已登记")

    reviewer.goto(f"{site.url}/regulation#admission")
    reviewer.reload()
    _ready(reviewer)
    credits = reviewer.get_by_test_id("credit-records")
    expect(credits.locator("tbody tr").filter(has_text=PROJECT)).to_contain_text(code)
    expect(credits.locator("tbody tr").filter(has_text=PROJECT)).to_contain_text("12,000.00")
    reviewer.context.close()

    phone = zh_context(browser, PHONE).new_page()
    phone.on("pageerror", lambda exc: errors.append(str(exc)))
    demo_log_in(phone, site.url, "chongfu", "/regulation#admission")
    _ready(phone)
    expect(phone.get_by_test_id("admission-list").locator("tbody tr").filter(has_text=PROJECT)).to_contain_text("已准入")
    expect(phone.get_by_test_id("credit-records")).to_contain_text(PROJECT)
    _clean(phone)
    phone.screenshot(path=str(screenshot_dir / "admission-phone-list.png"), full_page=True)
    phone.get_by_test_id("admission-list").locator("tbody tr").filter(has_text=PROJECT).get_by_role("link", name="查看").click()
    expect(phone.get_by_test_id("admission-detail")).to_have_attribute("data-status", "approved")
    _clean(phone)
    phone.screenshot(path=str(screenshot_dir / "admission-phone-detail.png"), full_page=True)

    # the block panel on the map: 产业导向 and the admitted project
    phone.set_viewport_size(DESKTOP)
    phone.goto(f"{site.url}/?block=TX2022-CF-01")
    phone.locator("#block-panel .panel-extras[data-state=ready]").wait_for(timeout=30_000)  # every section in
    section = phone.get_by_test_id("panel-admission")
    expect(section).to_contain_text("产业导向：C17 纺织业", timeout=60_000)
    expect(section).to_contain_text(PROJECT)
    section.scroll_into_view_if_needed()
    phone.screenshot(path=str(screenshot_dir / "admission-block-panel.png"))
    phone.context.close()
    assert errors == []


def test_the_demo_applications_walk_through(browser, site, screenshot_dir):
    """The demo data (app/admission/demo.py) as each demo user meets it: 崇福镇's officer sees the admitted
    project and its 2023 default in 投资履约; the reviewer opens the pending one, reads the flag and approves
    with a reason; 梧桐街道's officer reads the returned one's comment on a phone. 1440×900 and 390×844."""
    errors: list[str] = []
    wide = {"width": 1440, "height": 900}
    officer = zh_context(browser, wide).new_page()
    officer.on("pageerror", lambda exc: errors.append(str(exc)))
    demo_log_in(officer, site.url, "chongfu", "/regulation#admission")
    _ready(officer)
    row = officer.get_by_test_id("admission-list").locator("tbody tr").filter(has_text=demo.ADMITTED.project_name)
    expect(row).to_contain_text("已准入")
    credit = officer.get_by_test_id("credit-records").locator("tbody tr").filter(has_text=demo.ADMITTED.project_name)
    expect(credit).to_contain_text("未达承诺：产出 65%、税收 60%")
    expect(credit).to_contain_text(demo.ADMITTED_DOC_NO)
    _clean(officer)
    officer.screenshot(path=str(screenshot_dir / "admission-demo-chongfu.png"), full_page=True)
    row.get_by_role("link", name="查看").click()
    detail = officer.get_by_test_id("admission-detail")
    expect(detail).to_have_attribute("data-status", "approved")
    expect(detail).to_contain_text("演示数据，2023-02-24")
    officer.context.close()

    reviewer = zh_context(browser, wide).new_page()
    reviewer.on("pageerror", lambda exc: errors.append(str(exc)))
    demo_log_in(reviewer, site.url, "reviewer", "/regulation#admission")
    _ready(reviewer)
    row = reviewer.get_by_test_id("admission-list").locator("tbody tr").filter(has_text=demo.SUBMITTED.project_name)
    expect(row).to_contain_text("有须研判的问题")
    row.get_by_role("link", name="查看").click()
    detail = reviewer.get_by_test_id("admission-detail")
    expect(detail).to_have_attribute("data-status", "submitted")
    expect(detail.locator("li[data-code=industry_outside_guidance]")).to_contain_text("不在“梧桐百桃工业区块”的产业导向")
    decide = reviewer.get_by_test_id("admission-decide")
    decide.locator("textarea[name=comment]").fill("差别化纤维为区块电气企业配套，经领导小组研究同意准入")
    _clean(reviewer)
    reviewer.screenshot(path=str(screenshot_dir / "admission-demo-reviewer.png"), full_page=True)
    decide.get_by_test_id("admission-approve").click()
    expect(reviewer.get_by_test_id("admission-detail")).to_have_attribute("data-status", "approved")
    reviewer.context.close()

    for viewport, name in ((PHONE, "phone"), (wide, "desktop")):
        page = zh_context(browser, viewport).new_page()
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        demo_log_in(page, site.url, "wutong", "/regulation#admission")
        _ready(page)
        row = page.get_by_test_id("admission-list").locator("tbody tr").filter(has_text=demo.RETURNED.project_name)
        expect(row).to_contain_text("已退回")
        row.get_by_role("link", name="查看").click()
        detail = page.get_by_test_id("admission-detail")
        expect(detail).to_have_attribute("data-status", "returned")
        expect(detail).to_contain_text(demo.RETURNED_COMMENT)
        expect(detail.locator("li[data-code=far_below_min]")).to_contain_text("容积率")
        _clean(page)
        page.screenshot(path=str(screenshot_dir / f"admission-demo-wutong-{name}.png"), full_page=True)
        page.context.close()
    assert errors == []
