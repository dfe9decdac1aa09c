"""行动计划 on the admin page in headless Chromium: the administrator opens the seeded 2022—2023 plan,
enters the 2024—2026 plan (a wrong figure and an overlapping period named beside their fields first),
and a 2024 block is then checked against the new threshold (连片 ≥ 150 亩) while a 2022 one keeps
200 亩. Drawn at 1440×900 and 390×844 (/tmp/shots/plans-*.png), no English, no sideways scroll."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import expect

from app.core.db import new_session
from tests.app.test_action_plans import _site_160
from tests.app.workflow_site import FOUR
from tests.browser.words import page_offending
from tests.browser.workflow_ui import log_in, site_with_admin

pytestmark = pytest.mark.browser

SHOTS = Path("/tmp/shots")
VIEWPORTS = {"desktop": {"width": 1440, "height": 900}, "phone": {"width": 390, "height": 844}}
NEW = {
    "doc_no": "桐政办发〔2024〕5号", "title": "桐乡市工业园区有机更新攻坚行动计划（2024—2026年）",
    "start_year": "2024", "end_year": "2026", "target_total_mu": "9000", "target_new_floor_area_m2": "6000000",
    "target_average_far": "2.2", "min_block_mu": "150", "max_blocks_per_unit_per_year": "2", "min_parcel_mu": "20",
    "min_far": "2.2", "min_merged_parcel_mu": "20", "tolerance_m": "30",
}


@pytest.fixture(scope="module")
def site():
    with site_with_admin("txmap_test_plans", "admin_wang", "王主任") as s:
        yield s


def _open_plans(browser, site, viewport):
    context = browser.new_context(viewport=viewport, locale="zh-CN", timezone_id="Asia/Shanghai")
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    log_in(page, site, "admin_wang", "/admin")
    page.locator("body[data-admin-state=ready]").wait_for()
    page.locator("#tab-plans").click()
    expect(page.locator("#panel-plans")).to_have_attribute("data-state", "ready")
    return context, page, errors


def _no_sideways_scroll(page) -> None:
    width = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert width[0] <= width[1], width


def test_the_admin_enters_the_next_plan_and_blocks_of_2024_follow_it(browser, site):
    SHOTS.mkdir(parents=True, exist_ok=True)
    context, page, errors = _open_plans(browser, site, VIEWPORTS["desktop"])
    rows = page.locator("#plans-table tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("桐政办发〔2022〕11号")
    expect(rows.first).to_contain_text("2022—2023 年")
    rows.first.get_by_role("button", name="查看并修改").click()
    expect(page.locator("#plan-min-block-mu")).to_have_value("200")
    expect(page.locator("#plan-years tbody tr")).to_have_count(2)
    page.screenshot(path=str(SHOTS / "plans-seeded-desktop.png"), full_page=True)
    assert page_offending(page) == []

    page.locator("#plan-new").click()
    expect(page.locator("#plan-start-year")).to_have_value("2024")  # after the last plan, its figures copied
    expect(page.locator("#plan-end-year")).to_have_value("2026")
    for name, value in NEW.items():
        page.fill(f"#plan-{name.replace('_', '-')}", value)
    # a wrong figure, then an overlapping period, each named beside its field
    page.fill("#plan-min-block-mu", "很多")
    page.locator("#plan-save").click()
    expect(page.locator("[data-field=min_block_mu] .field-error")).to_have_text("连片区块面积下限（亩）应为数字")
    page.fill("#plan-min-block-mu", "150")
    page.fill("#plan-start-year", "2023")
    page.locator("#plan-save").click()
    expect(page.locator("[data-field=start_year] .field-error")).to_contain_text("重叠")
    expect(page.locator("[data-field=min_block_mu] .field-error")).to_have_count(0)
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(SHOTS / "plans-errors-desktop.png"), full_page=True)
    page.fill("#plan-start-year", "2024")
    page.fill("#plan-min-block-mu", "150")
    page.locator("#plan-save").click()
    expect(page.locator("#plan-editor-message")).to_contain_text("已录入《桐乡市工业园区有机更新攻坚行动计划（2024—2026年）》")
    expect(rows).to_have_count(2)
    expect(page.locator("#plan-years tbody tr")).to_have_count(3)
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(SHOTS / "plans-saved-desktop.png"), full_page=True)
    assert page_offending(page) == []
    assert errors == []
    context.close()

    # the rules follow the plan of the block's year
    late = _site_160_at(site, "BP24", 3_400_000.0)
    early = _site_160_at(site, "BP22", 3_405_000.0)
    with site.api("unit_officer_wutong") as officer:
        body = {"name": "计划门槛试验区块", **FOUR}
        assert officer.post("/api/plans", json={**body, "code": "TX2024-WT-81", "year": 2024,
                                                "parcels": late}).status_code == 201
        assert officer.post("/api/plans", json={**body, "code": "TX2022-WT-82", "year": 2022,
                                                "parcels": early}).status_code == 201
        r24 = officer.get("/api/plans/TX2024-WT-81/check").json()
        r22 = officer.get("/api/plans/TX2022-WT-82/check").json()
    assert r24["passed"] and r24["action_plan"]["thresholds"]["min_block_mu"] == 150
    assert not r22["passed"]
    assert any("低于 200 亩下限" in v["message_zh"] for v in r22["violations"])


def _site_160_at(site, prefix: str, y: float) -> list[str]:
    with new_session(site.engine, expire_on_commit=False) as session:
        return _site_160(session, prefix, (80_000.0, y))


def test_the_plans_section_fits_a_phone(browser, site):
    context, page, errors = _open_plans(browser, site, VIEWPORTS["phone"])
    _no_sideways_scroll(page)
    page.screenshot(path=str(SHOTS / "plans-list-phone.png"), full_page=True)
    page.locator("#plan-new").click()
    page.locator("#plan-save").click()  # nothing filled in on a fresh form would pass: the first doc field
    _no_sideways_scroll(page)
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(SHOTS / "plans-form-phone.png"), full_page=True)
    assert page_offending(page) == []
    assert errors == []
    context.close()


def test_the_progress_cards_read_the_plan_in_force(browser, site):
    for label, viewport in VIEWPORTS.items():
        context = browser.new_context(viewport=viewport, locale="zh-CN", timezone_id="Asia/Shanghai")
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda exc, seen=errors: seen.append(str(exc)))
        page.goto(site.url + "/progress")
        page.wait_for_selector("body[data-progress-state='ready']", timeout=30_000)
        page.select_option("#month", "12")
        page.wait_for_selector("body[data-progress-state='ready']", timeout=30_000)
        cards = page.locator("#cards")
        expect(cards).to_contain_text("2022—2023 年累计更新")
        expect(cards).to_contain_text("目标 6,000 亩")
        expect(cards).to_contain_text("目标 400 万 m²")
        expect(cards).to_contain_text("依据桐政办发〔2022〕11号")
        carry = page.locator("#carry-over")
        expect(carry).to_be_visible()
        expect(carry).to_contain_text("上年（2022 年）任务结转")
        _no_sideways_scroll(page)
        page.screenshot(path=str(SHOTS / f"plans-progress-{label}.png"), full_page=True)
        assert page_offending(page) == []
        assert errors == []
        context.close()
