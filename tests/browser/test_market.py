"""转让与租赁 in headless Chromium on real PostGIS (the demo data and accounts): 崇福镇's officer registers a lease
of parcel 330483-CF-0006 to 浙江明兴羽绒服饰有限公司 — classified 整治清退 in the demo — sees the flag naming the
enterprise, and refers it to 十剑联动 with one action (after a confirmation); the flag then reads 已移交十剑联动;
the lessee is then registered as a 厂中厂 from the lease in one action.
The map shows the 转让租赁预警 layer and the block panel the block's records. Desktop and 390×844 (nothing scrolls
sideways, no English or developer word). Screenshots in tests/browser/screenshots/market-*.png."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from playwright.sync_api import expect
from sqlalchemy import text

from tests.browser.words import page_offending
from tests.browser.workflow_ui import demo_log_in, demo_site, zh_context

pytestmark = pytest.mark.browser

DESKTOP = {"width": 1366, "height": 900}
PHONE = {"width": 390, "height": 844}
LESSEE = "浙江明兴羽绒服饰有限公司"
LESSEE_CODE = "91330483MA3C8D2QBN"
LESSOR = "桐乡市永隆羽绒服饰有限公司"
LESSOR_CODE = "91330483MA266GD84F"


@pytest.fixture(scope="module")
def site():
    with demo_site("txmap_test_market") as (url, engine):
        yield SimpleNamespace(url=url, engine=engine)


def _log_in(page, site, username: str, path: str) -> None:
    demo_log_in(page, site.url, username, path)
    page.locator("body[data-regulation-state=ready]").wait_for(timeout=30_000)
    page.locator("#tab-market[data-state=ready]").wait_for(timeout=30_000)


def _clean(page) -> None:
    assert page_offending(page) == []
    assert page.evaluate("document.documentElement.scrollWidth") <= page.viewport_size["width"]


def test_officer_enters_a_lease_to_a_clear_out_enterprise_and_refers_the_flag(browser, site, screenshot_dir):
    errors: list[str] = []
    page = zh_context(browser, DESKTOP).new_page()
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    _log_in(page, site, "chongfu", "/regulation#market")
    page.get_by_test_id("market-new").click()
    form = page.locator("#market-form")
    form.locator("select[name=kind]").select_option("lease")
    form.locator("input[name=parcels]").fill("330483-CF-0006")
    form.locator("input[name=signed_on]").fill("2024-06-01")
    form.locator("input[name=from_name]").fill(LESSOR)
    form.locator("input[name=from_credit_code]").fill(LESSOR_CODE)
    form.locator("input[name=to_name]").fill(LESSEE)
    form.locator("input[name=to_credit_code]").fill(LESSEE_CODE)
    form.locator("input[name=lease_start]").fill("2024-07-01")
    form.locator("input[name=lease_end]").fill("2026-06-30")
    form.locator("input[name=area_m2]").fill("2000")
    form.locator("select[name=area_basis]").select_option("floor")
    form.locator("input[name=rent_yuan_per_m2_year]").fill("150")
    form.locator("input[name=industry_code]").fill("C1762")
    form.locator("button[type=submit]").click()
    expect(page.locator(".mk-message")).to_contain_text("产生 2 条预警")
    row = page.locator("#market-records tr", has_text=LESSOR)
    flag = row.locator(".mk-flag[data-kind=clear_out]")
    expect(flag).to_contain_text(LESSEE)
    expect(flag).to_contain_text("整治清退")
    expect(flag.locator(".mk-status")).to_have_text("待处理")
    expect(row.locator(".mk-flag[data-kind=unregistered_tenant]")).to_contain_text("尚未登记为厂中厂")
    _clean(page)
    page.screenshot(path=str(screenshot_dir / "market-flagged.png"), full_page=True)

    flag.locator("button[data-action=refer]").click()
    dialog = page.locator("dialog.confirm")
    expect(dialog).to_contain_text(LESSEE)
    dialog.locator("button[type=submit]").click()
    expect(page.locator(".mk-message")).to_contain_text("已移交十剑联动")
    flag = page.locator("#market-records tr", has_text=LESSOR).locator(".mk-flag[data-kind=clear_out]")
    expect(flag.locator(".mk-status")).to_have_text("已移交十剑联动")
    expect(flag.locator("button[data-action=refer]")).to_have_count(0)
    with site.engine.connect() as conn:
        reason = conn.execute(text(
            "SELECT r.reason FROM enforcement_referrals r JOIN enterprises e ON e.id = r.enterprise_id"
            " WHERE e.credit_code = :c AND r.status = 'open'"), {"c": LESSEE_CODE}).scalar_one()
    assert LESSEE in reason and "转让与租赁预警" in reason
    page.screenshot(path=str(screenshot_dir / "market-referred.png"), full_page=True)

    # 登记为厂中厂: the tenant made from the lease in one action
    tenant_flag = page.locator("#market-records tr", has_text=LESSOR).locator(".mk-flag[data-kind=unregistered_tenant]")
    tenant_flag.locator("button[data-action=register]").click()
    page.locator("dialog.confirm button[type=submit]").click()
    expect(page.locator(".mk-message")).to_contain_text("已登记为厂中厂")
    row = page.locator("#market-records tr", has_text=LESSOR)
    expect(row.locator(".mk-flag[data-kind=unregistered_tenant] .mk-status")).to_have_text("已登记为厂中厂")
    expect(row).to_contain_text(f"厂中厂：{LESSEE}（330483-CF-0006）")

    # the flagged-only filter and the map's layer
    page.locator("input[name=flagged]").check()
    expect(page.get_by_test_id("market-count")).to_contain_text("其中有预警 2 条")
    page.goto(f"{site.url}/#map")
    page.wait_for_function("document.body.dataset.marketFlags && document.body.dataset.marketFlags !== 'none'",
                           timeout=30_000)
    assert int(page.evaluate("document.body.dataset.marketFlags")) == 2  # CF-0005 (the demo's lease) and CF-0006
    page.goto(f"{site.url}/?block=TX2022-CF-01")
    page.locator("#block-panel .panel-extras[data-state=ready]").wait_for(timeout=30_000)  # every section in
    panel = page.get_by_test_id("panel-market")
    expect(panel).to_contain_text("已移交十剑联动")
    expect(panel).to_contain_text(LESSEE)
    panel.scroll_into_view_if_needed()
    page.screenshot(path=str(screenshot_dir / "market-map-panel.png"))
    assert errors == []


def test_phone(browser, site, screenshot_dir):
    page = zh_context(browser, PHONE).new_page()
    _log_in(page, site, "chongfu", "/regulation#market")
    expect(page.locator("#market-records .mk-flag").first).to_be_visible()
    _clean(page)
    page.screenshot(path=str(screenshot_dir / "market-phone.png"), full_page=True)
