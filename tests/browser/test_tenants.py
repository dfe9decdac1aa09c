"""厂中厂 in headless Chromium on real PostGIS (the demo data and accounts): 崇福镇's officer sees the town's
tenants only, registers a new one (a wrong credit code is refused under its field, in Chinese), enters its
yearly tax and output, records an inspection whose deadline has passed (marked 已逾期), is refused marking it
rectified without a date, then marks it rectified; the planner sees every town's tenants read-only, filters by
town and downloads the Excel list; the map's block panel lists the block's tenants. Desktop and 390×844
(nothing scrolls sideways, no English or developer word). Screenshots in tests/browser/screenshots/tenants-*.png."""

from __future__ import annotations

import io
from types import SimpleNamespace

import pytest
from openpyxl import load_workbook
from playwright.sync_api import expect

from tests.browser.words import page_offending, workbook_offending
from tests.browser.workflow_ui import demo_log_in, demo_site, zh_context

pytestmark = pytest.mark.browser

DESKTOP = {"width": 1366, "height": 900}
PHONE = {"width": 390, "height": 844}
LESSEE = "桐乡市某某羽绒制品加工点"
CODE = "92330483MA3300301"  # the 18th character is computed below


@pytest.fixture(scope="module")
def site():
    with demo_site("txmap_test_tenants") as (url, engine):
        yield SimpleNamespace(url=url, engine=engine)


def _credit_code() -> str:
    from app.credit_code import check_character

    return CODE + check_character(CODE)


def _open(page, site, username: str) -> None:
    demo_log_in(page, site.url, username, "/regulation#tenants")
    page.locator("body[data-regulation-state=ready]").wait_for(timeout=30_000)
    page.locator("#tab-tenants[data-state=ready]").wait_for(timeout=30_000)


def _clean(page) -> None:
    assert page_offending(page) == []
    assert page.evaluate("document.documentElement.scrollWidth") <= page.viewport_size["width"]


def _row(page, lessee: str):
    return page.locator("#tenant-list tr[data-tenant]", has_text=lessee)


def test_officer_registers_a_tenant_enters_figures_and_follows_an_inspection(browser, site, screenshot_dir):
    errors: list[str] = []
    page = zh_context(browser, DESKTOP).new_page()
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    _open(page, site, "chongfu")
    expect(page.get_by_test_id("tenants-count")).to_have_text("共 3 户，其中有待整改问题 1 户")
    expect(page.locator("#tenant-list")).not_to_contain_text("梧桐")  # another town's tenant is not listed
    expect(page.locator("select[name=unit]")).to_have_count(0)  # an officer has no town to choose

    page.get_by_test_id("tenant-new").click()
    form = page.locator("#tenant-form")
    form.locator("input[name=parcel]").fill("330483-CF-0003")
    form.locator("input[name=lessee]").fill(LESSEE)
    form.locator("input[name=credit_code]").fill("123")
    form.locator("input[name=leased_area_m2]").fill("1500")
    form.locator("input[name=business]").fill("羽绒制品")
    form.locator("input[name=lease_start]").fill("2025-01-01")
    form.locator("button[type=submit]").click()
    expect(form.locator("[data-field=credit_code] .field-error")).to_be_visible()
    assert page_offending(page) == []
    form.locator("input[name=credit_code]").fill(_credit_code())
    form.locator("button[type=submit]").click()
    expect(page.locator(".tn-message")).to_contain_text(f"已登记厂中厂租户：{LESSEE}")
    expect(page.get_by_test_id("tenants-count")).to_have_text("共 4 户，其中有待整改问题 1 户")
    row = _row(page, LESSEE)
    expect(row).to_contain_text("330483-CF-0003")
    expect(row).to_contain_text("未填报")
    detail = page.locator(f"tr.tn-detail[data-detail-of='{row.get_attribute('data-tenant')}']")
    expect(detail).to_be_visible()  # the new tenant's detail is open

    figures = detail.locator("form.tn-figures")
    figures.locator("input[name=year]").fill("2025")
    figures.locator("input[name=tax_10k_yuan]").fill("12.5")
    figures.locator("input[name=output_10k_yuan]").fill("300")
    figures.locator("button[type=submit]").click()
    expect(page.locator(".tn-message")).to_contain_text("已保存 2025 年的税收、产出")
    expect(row).to_contain_text("2025 年：税收 12.50 万元，产出 300.00 万元")

    check = detail.locator("form.tn-new-check")
    check.locator("input[name=inspected_on]").fill("2026-03-02")
    check.locator("input[name=inspector]").fill("崇福镇消防站")
    check.locator("textarea[name=findings]").fill("灭火器过期")
    check.locator("input[name=rectify_by]").fill("2026-04-01")
    check.locator("button[type=submit]").click()
    expect(page.locator(".tn-message")).to_contain_text("已登记检查")
    expect(page.get_by_test_id("tenants-count")).to_have_text("共 4 户，其中有待整改问题 2 户")
    expect(row.locator(".tn-open.tn-overdue")).to_contain_text("灭火器过期")
    expect(row.locator(".tn-late")).to_have_text("已逾期")
    _clean(page)
    page.screenshot(path=str(screenshot_dir / "tenants-officer.png"), full_page=True)

    inspection = detail.locator("[data-testid=inspections] tr[data-inspection]", has_text="灭火器过期")
    rectify = inspection.locator("form.tn-rectify")
    rectify.locator("select[name=rectification_status]").select_option("done")
    rectify.locator("button[type=submit]").click()
    expect(rectify.locator(".message")).to_contain_text("整改完成须填写完成日期")
    rectify.locator("input[name=rectified_on]").fill("2026-03-20")
    rectify.locator("button[type=submit]").click()
    expect(page.locator(".tn-message")).to_contain_text("已更新整改状态")
    expect(inspection.locator(".tag.tn-done")).to_have_text("已整改")
    expect(inspection).to_contain_text("2026-03-20 整改完成")
    expect(page.get_by_test_id("tenants-count")).to_have_text("共 4 户，其中有待整改问题 1 户")

    page.locator("input[name=pending]").check()
    expect(page.locator("#tenant-list tr[data-tenant]")).to_have_count(1)
    expect(_row(page, "羽绒分拣加工点")).to_be_visible()
    _clean(page)
    assert errors == []


def test_planner_reads_every_town_filters_and_downloads_the_list(browser, site, screenshot_dir):
    page = zh_context(browser, DESKTOP).new_page()
    _open(page, site, "planner")
    rows = page.locator("#tenant-list tr[data-tenant]")
    expect(rows.filter(has_text="梧桐街道")).to_have_count(1)
    expect(page.locator("#tab-tenants [data-testid=tenant-new]")).to_have_count(0)  # nothing to register
    ended = _row(page, "梧桐某某袜业加工点")
    expect(ended.locator(".tn-ended")).to_have_text("租期已满")
    ended.locator("[data-action=details]").click()
    detail = page.locator("tr.tn-detail")
    expect(detail).to_contain_text("只有宗地所在镇")
    expect(detail.locator("form")).to_have_count(0)  # read-only: no form to change anything
    page.select_option("select[name=unit]", "wutong")
    expect(rows).to_have_count(1)
    _clean(page)
    page.screenshot(path=str(screenshot_dir / "tenants-planner.png"), full_page=True)

    with page.expect_download() as dl:
        page.get_by_test_id("tenants-export").click()
    with open(dl.value.path(), "rb") as f:
        data = f.read()
    book = load_workbook(io.BytesIO(data))
    sheet = book.active
    values = [c for r in sheet.iter_rows(values_only=True) for c in r if c is not None]
    assert "厂中厂清单" in values and "桐乡市梧桐某某袜业加工点" in values
    assert "桐乡市崇福某某羽绒分拣加工点" not in values  # the list follows the town chosen
    assert workbook_offending(data) == []


def test_at_phone_size_tenants_are_cards_and_the_detail_fits(browser, site, screenshot_dir):
    page = zh_context(browser, PHONE).new_page()
    _open(page, site, "chongfu")
    row = _row(page, "羽绒分拣加工点")
    labels = row.locator("td[data-label]").evaluate_all("cs => cs.map(c => getComputedStyle(c, '::before').content)")
    assert '"租赁面积"' in labels and '"检查与整改"' in labels, labels
    assert page.locator("#tenant-list thead").is_hidden()
    row.locator("[data-action=details]").click()
    detail = page.locator("tr.tn-detail")
    expect(detail.locator("form.tn-rectify")).to_be_visible()
    box = detail.locator("form.tn-new-check textarea[name=findings]").bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
    _clean(page)
    page.screenshot(path=str(screenshot_dir / "tenants-phone.png"), full_page=True)


def test_the_block_panel_lists_the_blocks_tenants(browser, site):
    page = zh_context(browser, DESKTOP).new_page()
    demo_log_in(page, site.url, "chongfu", "/?block=TX2022-CF-02")
    page.locator("#block-panel .panel-extras[data-state=ready]").wait_for(timeout=30_000)
    section = page.get_by_test_id("panel-tenants")
    expect(section).to_contain_text("1 户租户，无待整改问题")
    expect(section).to_contain_text("桐乡市某某包装材料经营部（宗地 330483-CF-0019，900.00 平方米）")
    section.get_by_role("link", name="到规范管理查看、填报").click()  # to the tab, this block's tenants only
    page.locator("#tab-tenants[data-state=ready]").wait_for(timeout=30_000)
    expect(page.locator("#tab-tenants .tn-tools")).to_contain_text("只看区块 TX2022-CF-02 的租户")
    expect(page.locator("#tenant-list tr[data-tenant]")).to_have_count(1)
    expect(page.get_by_test_id("tenants-export")).to_have_attribute("href", "/api/tenants/export.xlsx?block=TX2022-CF-02")
    page.get_by_role("link", name="看全部租户").click()
    page.wait_for_function("document.querySelectorAll('#tenant-list tr[data-tenant]').length >= 3")  # the town's two blocks
    expect(page.locator("#tab-tenants .tn-tools")).not_to_contain_text("只看区块")
