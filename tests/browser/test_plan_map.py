"""Block plans made and reviewed on the map, in headless Chromium on the real app and PostGIS.

The officer builds a plan of parcels separated by roads without drawing anything (picked on the map,
lassoed, pasted by code; the boundary derived from them), or draws the boundary; the leadership group
reviews each submitted plan with its map, figures, warnings, rule report and lists in front of them,
and approves or returns it after a confirmation; the approved block shows its 认定文号 and 认定日期 on
the map; moving a block's stage asks first; a planner who opens the review page is told why not.

Runs on a database of its own: approvals add blocks the shared test database's counts must not see.
Each test makes its own plans (the demo cluster 330483-CF-0060…0066 is used by one test only).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest
from playwright.sync_api import expect

from tests.app.workflow_site import FOUR, SIDE_M
from tests.browser.workflow_ui import (
    add_by_code,
    confirm,
    in_page,
    live_site,
    log_in,
    plan_row,
    report_settled,
)
from tests.conftest import _default_username

pytestmark = pytest.mark.browser

OFFICER_WT = _default_username("unit_officer", "wutong")
OFFICER_CF = _default_username("unit_officer", "chongfu")
REVIEWER = _default_username("reviewer", None)
PLANNER = _default_username("planner", None)

# Seven 崇福镇 parcels of the demo data, 222.38 亩, lying up to ~15 m apart across roads; three have no
# registered enterprise. The case: refused as "7 个互不相连的面" before the boundary was derived.
CLUSTER = [f"330483-CF-{k:04d}" for k in range(60, 67)]
NO_ENTERPRISE = ["330483-CF-0060", "330483-CF-0061", "330483-CF-0063"]
PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="module")
def site():
    with live_site("txmap_test_planmap") as live:
        yield live


@contextmanager
def phone(browser) -> Iterator:
    context = browser.new_context(viewport=PHONE, locale="zh-CN", is_mobile=True, has_touch=True)
    try:
        yield context.new_page()
    finally:
        context.close()


def no_horizontal_scroll(page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"the page is {width} px wide on a {PHONE['width']} px phone"


def parcel_box(page, code: str) -> dict:
    shape = page.locator(f'#plan-map path[data-parcel="{code}"]')
    expect(shape).to_have_count(1)
    return shape.bounding_box()


def click_ring(page, corners: list[tuple[float, float]]) -> None:
    """Click the corners of a polygon on the map, then the first one again to close it (as a user draws)."""
    for x, y in [*corners, corners[0]]:
        page.mouse.click(x, y)
        page.wait_for_timeout(120)


def around(boxes: list[dict], margin: float) -> list[tuple[float, float]]:
    left = min(b["x"] for b in boxes) - margin
    top = min(b["y"] for b in boxes) - margin
    right = max(b["x"] + b["width"] for b in boxes) + margin
    bottom = max(b["y"] + b["height"] for b in boxes) + margin
    return [(left, top), (right, top), (right, bottom), (left, bottom)]


def selected(page) -> list[str]:
    return page.locator("#parcel-list tbody tr td:first-child").all_inner_texts()


def submit_plan(client: httpx.Client, code: str, name: str, parcels: list[str], **fields) -> None:
    r = client.post("/api/plans", json={"code": code, "name": name, "year": 2026, "parcels": parcels,
                                        **FOUR, **fields})
    assert r.status_code == 201, r.text
    r = client.post(f"/api/plans/{code}/submit", headers={"If-Match": r.headers["ETag"]})
    assert r.status_code == 200, r.text


# --- the town officer --------------------------------------------------------------------------------


def test_officer_makes_a_plan_of_road_separated_parcels_without_drawing(page, browser, site, errors,
                                                                         screenshot_dir):
    code = "TX2026-CF-11"
    log_in(page, site, OFFICER_CF, "/workflow/officer")
    page.locator("body[data-ready=true]").wait_for()
    form = page.locator("#draft")
    form.locator("input[name=code]").fill(code)
    form.locator("input[name=name]").fill("崇福镇芝村连片区块")
    form.locator("input[name=year]").fill("2026")

    # Pick one parcel on the map, change one's mind (a second click takes it out), lasso the rest.
    add_by_code(page, CLUSTER[:1])  # brings the cluster into view
    report_settled(page)
    page.locator("#plan-map").scroll_into_view_if_needed()
    first = parcel_box(page, CLUSTER[1])
    page.mouse.click(first["x"] + first["width"] / 2, first["y"] + first["height"] / 2)
    expect(page.locator("#parcel-list tbody tr")).to_have_count(2)
    page.mouse.click(first["x"] + first["width"] / 2, first["y"] + first["height"] / 2)
    expect(page.locator("#parcel-list tbody tr")).to_have_count(1)
    page.get_by_role("button", name="缩小").click()  # the whole cluster in view
    page.locator("#plan-map details.plan-legend summary").click()  # fold the legend away from the corner
    page.locator("[data-tool=lasso]").click()
    expect(page.locator("#tool-hint")).to_contain_text("范围内的宗地加入方案")
    page.wait_for_timeout(400)  # the zoom animation
    ring = around([parcel_box(page, c) for c in CLUSTER], 4)
    view = page.locator("#plan-map").bounding_box()
    assert all(view["x"] < x < view["x"] + view["width"] and view["y"] < y < view["y"] + view["height"]
               for x, y in ring), (ring, view)
    click_ring(page, ring)
    page.locator("[data-tool=pick]").click()
    for extra in sorted(set(selected(page)) - set(CLUSTER)):  # whatever else the lasso caught goes out again
        page.get_by_role("button", name=f"移出 {extra}").click()
    expect(page.locator("#parcel-list tbody tr td:first-child")).to_have_text(CLUSTER)
    report_settled(page)

    # The boundary is derived: one dashed outline over the roads between the parcels, the gaps marked.
    expect(page.locator("#plan-map path.plan-boundary.derived")).to_have_count(1)
    expect(page.locator("#boundary-status")).to_have_text("边界：由宗地推导")
    live = page.locator("#live-report")
    expect(live.locator("[data-testid=verdict]")).to_have_text("1 项规则未通过，1 项提示")
    expect(live.locator("li.error")).to_have_text(["四至未写全：缺东至、南至、西至、北至"])
    expect(live.locator("li.warning")).to_have_text([f"3 宗宗地没有登记企业：{'、'.join(NO_ENTERPRISE)}"])
    figures = live.locator("table.figures")
    expect(figures).to_contain_text("222.38 亩")
    expect(figures).to_contain_text("连成一片（跨接")
    expect(figures.locator("tr", has_text="无登记企业的宗地").locator("td")).to_have_text("3")
    expect(page.locator("#parcel-summary")).to_have_text("已选宗地 7 宗，222.38 亩")

    # 四至, planned FAR, renewal mode; one enterprise classified against the register needs a reason.
    for side, text in {"four_east": "东至芝村港", "four_south": "南至崇德路", "four_west": "西至工业大道",
                       "four_north": "北至新兴路"}.items():
        form.locator(f"input[name={side}]").fill(text)
    form.locator("input[name=planned_far]").fill("2.2")
    form.locator("select[name=renewal_mode]").select_option(label="企业自主改造")
    ent_rows = page.locator("#enterprise-list tbody tr")
    expect(ent_rows).to_have_count(4)
    first_ent = ent_rows.first
    name = first_ent.locator("td").first.inner_text().split("\n")[0]
    first_ent.locator("select").select_option("clear_out")
    report_settled(page)
    unreasoned = f"企业“{name}”的分类与企业库中的“改造提升”不同，请写明分类理由"
    expect(live.locator("[data-testid=verdict]")).to_have_text("1 项规则未通过，1 项提示")
    expect(live.locator("li.error")).to_have_text([unreasoned])
    expect(figures.locator("tr", has_text="规划容积率").locator("td")).to_have_text("2.20（方案所填）")
    expect(figures.locator("tr", has_text="分类构成")).to_contain_text("整治清退")
    page.get_by_role("button", name="保存草稿").click()  # refused, the reason asked for beside the enterprise
    expect(page.locator("#message p.error")).to_contain_text(unreasoned)
    expect(ent_rows.first.locator(".field-error")).to_have_text(unreasoned)
    ent_rows.first.locator("input").fill("厂房老旧、亩均税收连续三年低于 5 万元")
    ent_rows.first.locator("input").press("Tab")
    report_settled(page)
    expect(live.locator("[data-testid=verdict]")).to_have_text("全部规则通过，1 项提示")
    page.get_by_role("button", name="保存草稿").click()
    expect(page.locator("#message")).to_have_text("草稿已保存")
    page.screenshot(path=str(screenshot_dir / "plan_officer_derived.png"), full_page=True)

    saved = in_page(page, f"/api/plans/{code}/versions/1")["body"]["properties"]
    assert sorted(p["code"] for p in saved["parcels"]) == CLUSTER
    assert saved["boundary_source"] == "derived" and saved["planned_far"] == 2.2
    assert saved["renewal_mode"] == "enterprise"
    assert [e["reason"] for e in saved["enterprises"] if e["classification"] == "clear_out"] == [
        "厂房老旧、亩均税收连续三年低于 5 万元"]

    page.locator("#submit-draft").click()
    assert confirm(page) == f"提交 {code} 评审？提交后评审结束前不能修改。"
    expect(page.locator("#message")).to_have_text("已提交评审")
    expect(plan_row(page, code).locator("td").nth(2)).to_have_text("已提交")
    assert in_page(page, f"/api/plans/{code}")["body"]["status"] == "submitted"

    with phone(browser) as small:  # the same editor on a phone: no sideways scrolling, the map in view
        log_in(small, site, OFFICER_CF, "/workflow/officer")
        small.locator("body[data-ready=true]").wait_for()
        add_by_code(small, CLUSTER[-3:])
        report_settled(small)
        no_horizontal_scroll(small)
        expect(small.locator("#plan-map")).to_be_visible()
        expect(small.locator("#plan-map details.plan-legend")).not_to_have_attribute("open", "")
        small.screenshot(path=str(screenshot_dir / "plan_officer_phone.png"), full_page=True)
    assert errors == []


def test_officer_draws_the_boundary_and_it_stays(page, site, errors, screenshot_dir):
    code = "TX2026-WT-21"
    parcels = site.parcels_at("wutong", "WT-DR", [(0, 0), (SIDE_M, 0)], slot=4)  # 270 亩
    log_in(page, site, OFFICER_WT, "/workflow/officer")
    page.locator("body[data-ready=true]").wait_for()
    form = page.locator("#draft")
    form.locator("input[name=code]").fill(code)
    form.locator("input[name=name]").fill("梧桐街道绘制边界区块")
    add_by_code(page, parcels)
    for side, text in FOUR.items():
        form.locator(f"input[name={side}]").fill(text)
    report_settled(page)
    derived = page.locator("#plan-map path.plan-boundary.derived")
    expect(derived).to_have_count(1)

    page.locator("#plan-map").scroll_into_view_if_needed()
    page.locator("#plan-map details.plan-legend summary").click()
    page.locator("[data-tool=draw]").click()
    expect(page.locator("#tool-hint")).to_have_text("逐点画出区块边界，点击第一个点结束")
    click_ring(page, around([derived.bounding_box()], 12))
    expect(page.locator("#plan-map path.plan-boundary.drawn")).to_have_count(1)
    expect(page.locator("#boundary-status")).to_have_text("边界：地图上绘制")
    report_settled(page)
    live = page.locator("#live-report")
    boundary_mu = float(live.locator("tr", has_text="区块边界面积").locator("td").inner_text().split()[0])
    assert boundary_mu > 270  # drawn a little outside the parcels: the boundary holds more than they do
    page.get_by_role("button", name="保存草稿").click()
    expect(page.locator("#message")).to_have_text("草稿已保存")

    saved = in_page(page, f"/api/plans/{code}/versions/1")["body"]
    assert saved["properties"]["boundary_source"] == "drawn"
    assert saved["geometry"]["type"] in {"Polygon", "MultiPolygon"}

    # Opened again, the drawn boundary is what the editor shows; 改用推导边界 goes back to the parcels'.
    page.get_by_role("button", name="新建另一个").click()
    expect(page.locator("#plan-map path.plan-boundary")).to_have_count(0)
    plan_row(page, code).get_by_role("button", name="修改").click()
    expect(page.locator("#draft-title")).to_have_text(f"修改 {code} 第 1 版")
    expect(page.locator("#plan-map path.plan-boundary.drawn")).to_have_count(1)
    page.screenshot(path=str(screenshot_dir / "plan_officer_drawn.png"), full_page=True)
    page.locator("[data-tool=derive]").click()
    expect(page.locator("#boundary-status")).to_have_text("边界：由宗地推导")
    expect(page.locator("#plan-map path.plan-boundary.derived")).to_have_count(1)
    page.get_by_role("button", name="新建另一个").click()  # leave without saving: the drawn boundary stays
    assert in_page(page, f"/api/plans/{code}/versions/1")["body"]["properties"]["boundary_source"] == "drawn"
    assert errors == []


# --- the leadership group ----------------------------------------------------------------------------


def test_reviewer_sees_each_plan_on_the_map_and_decides_after_confirming(page, browser, site, errors,
                                                                        screenshot_dir):
    approve, give_back = "TX2026-CF-31", "TX2026-WT-31"
    # Three 崇福 parcels 20 m apart across two roads (405 亩), the first without an enterprise.
    cf = site.parcels_at("chongfu", "CF-RV", [(0, 0), (SIDE_M + 20, 0), (2 * SIDE_M + 40, 0)], slot=5,
                      without_enterprise=1)
    wt = site.parcels_at("wutong", "WT-RV", [(0, 0), (SIDE_M, 0)], slot=6)
    with site.api(OFFICER_CF) as officer:
        submit_plan(officer, approve, "崇福镇评审测试区块", cf, planned_far=2.4, renewal_mode="government")
    with site.api(OFFICER_WT) as officer:
        submit_plan(officer, give_back, "梧桐街道评审测试区块", wt)

    log_in(page, site, REVIEWER, "/workflow/review")
    card = page.locator(f".review-card[data-code='{approve}']")
    other = page.locator(f".review-card[data-code='{give_back}']")
    expect(card).to_be_visible(timeout=15_000)
    expect(other).to_be_visible()
    expect(card.locator("h3")).to_have_text(f"{approve} 崇福镇评审测试区块（崇福镇，第 1 版）")
    # Warnings first, then the map: boundary, the plan's parcels by classification, the bridged roads.
    expect(card.locator(".warn-box li")).to_have_text([f"1 宗宗地没有登记企业：{cf[0]}"])
    expect(card.locator(".plan-map path.plan-boundary.derived")).to_have_count(1)
    expect(card.locator(".plan-map .leaflet-overlay-pane path")).not_to_have_count(0)
    expect(card.locator(".plan-map details.plan-legend")).to_contain_text("整治清退")
    report = card.locator(".report")
    expect(report.locator("[data-testid=verdict]")).to_have_text("全部规则通过，1 项提示")
    expect(report).to_contain_text("连成一片（跨接 2 处道路、河道等间隙）")
    expect(report.locator("tr", has_text="规划容积率").locator("td")).to_have_text("2.40（方案所填）")
    expect(report.locator("tr", has_text="分类构成")).to_contain_text("改造提升")
    facts = card.locator("table.info").last
    expect(facts).to_contain_text("政府主导改造")
    expect(facts).to_contain_text("由宗地推导")
    lists = card.locator("table.list")
    expect(lists.first.locator("tbody tr td:first-child")).to_have_text(cf)
    expect(lists.first.locator("tbody tr").first).to_contain_text("无登记企业")
    expect(lists.nth(1).locator("tbody tr")).to_have_count(2)
    page.screenshot(path=str(screenshot_dir / "plan_review.png"), full_page=True)

    # Approve one plan from its card: missing fields are named beside them before anything is asked.
    card.get_by_role("button", name="认定", exact=True).click()
    expect(card.locator("[data-field=doc_no] .field-error")).to_have_text("认定须填写认定文号")
    expect(card.locator("[data-field=approval_date] .field-error")).to_have_text("认定须填写认定日期")
    expect(page.locator("dialog.confirm")).to_have_count(0)
    card.locator("input[name=doc_no]").fill("桐有更〔2026〕11号")
    card.locator("input[name=approval_date]").fill("2026-11-30")
    card.get_by_role("button", name="认定", exact=True).click()
    dialog = page.locator("dialog.confirm")
    expect(dialog.locator("li")).to_have_text([f"认定 {approve}：桐有更〔2026〕11号（2026-11-30）"])
    confirm(page)
    expect(page.locator("#message p.ok")).to_have_text("认定 1 个，退回 0 个，未成功 0 个")
    expect(card).to_have_count(0)

    # Return the other: a reason is required; cancelling the confirmation decides nothing.
    other.get_by_role("button", name="退回", exact=True).click()
    expect(other.locator("[data-field=comment] .field-error")).to_have_text("退回须写明理由")
    other.locator("textarea[name=comment]").fill("东侧宗地权属未理清，请补充说明后重报")
    other.get_by_role("button", name="退回", exact=True).click()
    confirm(page, ok=False)
    assert in_page(page, f"/api/plans/{give_back}")["body"]["status"] == "submitted"
    expect(other).to_be_visible()
    other.get_by_role("button", name="退回", exact=True).click()
    expect(page.locator("dialog.confirm li")).to_have_text([f"退回 {give_back}：东侧宗地权属未理清，请补充说明后重报"])
    confirm(page)
    expect(page.locator("#message p.ok")).to_have_text("认定 0 个，退回 1 个，未成功 0 个")

    approved = in_page(page, f"/api/plans/{approve}")["body"]
    assert approved["status"] == "approved"
    assert (approved["versions"][0]["approval_doc_no"], approved["versions"][0]["approval_date"]) == (
        "桐有更〔2026〕11号", "2026-11-30")
    returned = in_page(page, f"/api/plans/{give_back}")["body"]
    assert returned["status"] == "returned"
    assert returned["versions"][0]["review_comment"] == "东侧宗地权属未理清，请补充说明后重报"

    with phone(browser) as small:  # the review page on a phone, with a plan waiting
        with site.api(OFFICER_WT) as officer:
            submit_plan(officer, "TX2026-WT-32", "梧桐街道手机评审区块",
                        site.parcels_at("wutong", "WT-RP", [(0, 0), (SIDE_M, 0)], slot=7))
        log_in(small, site, REVIEWER, "/workflow/review")
        expect(small.locator(".review-card[data-code='TX2026-WT-32'] .plan-map path.plan-boundary")).to_have_count(1)
        no_horizontal_scroll(small)
        small.screenshot(path=str(screenshot_dir / "plan_review_phone.png"), full_page=True)
    assert errors == []


def test_approved_block_shows_its_designation_and_moving_its_stage_asks_first(page, site, errors, screenshot_dir):
    code = "TX2026-CF-41"
    parcels = site.parcels_at("chongfu", "CF-ST", [(0, 0), (SIDE_M, 0)], slot=8)
    with site.api(OFFICER_CF) as officer:
        submit_plan(officer, code, "崇福镇阶段测试区块", parcels)
    with site.api(REVIEWER) as reviewer:
        r = reviewer.post("/api/review/batch", json={"decisions": [
            {"code": code, "action": "approve", "doc_no": "桐有更〔2026〕12号", "approval_date": "2026-11-28"}]})
        assert r.status_code == 200 and r.json()["approved"] == 1, r.text

    log_in(page, site, OFFICER_CF, "/workflow/officer")
    row = plan_row(page, code)
    expect(row.locator("td").nth(5)).to_have_text("桐有更〔2026〕12号（2026-11-28）")
    expect(row.locator("td").nth(3)).to_have_text("谋划")
    row.get_by_role("button", name="推进到“启动”").click()
    assert confirm(page, ok=False) == f"把 {code} 的阶段由“谋划”推进到“启动”？阶段只能逐级推进，不能退回。"
    assert in_page(page, f"/api/plans/{code}")["body"]["stage"] == "planned"
    expect(row.locator("td").nth(3)).to_have_text("谋划")
    row.get_by_role("button", name="推进到“启动”").click()
    confirm(page)
    expect(page.locator("#list-message")).to_have_text("已完成")
    expect(row.locator("td").nth(3)).to_have_text("启动")
    assert in_page(page, f"/api/plans/{code}")["body"]["stage"] == "started"

    # The planner's list links the block to the map, where its panel shows the designation.
    page.goto(site.url + "/workflow/planner")
    planner_row = plan_row(page, code)
    expect(planner_row.locator(".version")).to_have_text(["v1 已认定（桐有更〔2026〕12号，2026-11-28）"])
    planner_row.get_by_role("link", name="在地图上查看").click()
    page.wait_for_url(f"**/?block={code}")
    page.wait_for_function(f"document.body.dataset.block === '{code}'", timeout=30_000)
    panel = page.locator("#block-panel")
    expect(panel.locator("tr", has_text="认定文号")).to_contain_text("桐有更〔2026〕12号")
    expect(panel.locator("tr", has_text="认定日期")).to_contain_text("2026-11-28")
    page.wait_for_timeout(1_000)  # the map flies to the block
    page.screenshot(path=str(screenshot_dir / "plan_on_map.png"))
    assert errors == []


def test_a_planner_opening_the_review_page_is_told_why(page, site, errors):
    log_in(page, site, PLANNER, "/")
    page.goto(site.url + "/workflow/review")
    message = page.locator("#page-message p.error")
    expect(message).to_contain_text("您无权使用此页面：")
    assert "forbidden" not in message.inner_text()
    expect(page.locator("#send")).to_be_hidden()
    assert errors == []
