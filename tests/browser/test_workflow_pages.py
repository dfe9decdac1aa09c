"""The town officer's and the planner's workflow pages in headless Chromium, on the real app and PostGIS.

Officer (/workflow/officer): log in through /login, draft a block plan in the editor (parcels pasted by code, the live rule report), submit it after a confirmation and see
its status become 已提交; a plan that fails the plan's rules (under 200 亩, 四至 not complete) shows the
failed rules in Chinese and stays a draft until it is fixed in the page. Another unit's officer sees
none of it in the page, and the API refuses them (404 to read, 403 to act). Planner
(/workflow/planner): the list shows exactly what GET /api/plans returns, and the comparison of the
last two versions what GET /api/plans/{code}/compare returns.

Runs on a database of its own (like test_review.py): the plans made here must not show in the shared
test database's counts. Each test makes its own parcels, plan codes and revisions, so the tests do not
depend on one another or on their order.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.app.workflow_site import FOUR
from tests.browser.workflow_ui import (
    add_by_code,
    confirm,
    fill_draft,
    in_page,
    live_site,
    log_in,
    plan_row,
    report_settled,
)
from tests.conftest import _default_username

pytestmark = pytest.mark.browser

OFFICER_WT = _default_username("unit_officer", "wutong")  # unit_officer_wutong, 梧桐街道
OFFICER_CF = _default_username("unit_officer", "chongfu")  # unit_officer_chongfu, 崇福镇
PLANNER = _default_username("planner", None)  # test_planner
ADMIN = _default_username("admin", None)  # test_admin

@pytest.fixture(scope="module")
def site():
    with live_site("txmap_test_wfpages") as live:
        yield live


def own_plans_shown(page, site_api: list[dict]) -> None:
    """Wait until the officer's table shows exactly the plans the API lets them edit, in its order."""
    own = [p["code"] for p in site_api if p["can_edit"]]
    expect(page.locator("#plans tbody tr td:first-child")).to_have_text(own)


def js_number(x: float) -> str:
    """An area in 亩 as the pages write it (api.js ``mu``): two decimals."""
    return f"{float(x):.2f}"


# --- the town officer --------------------------------------------------------------------------------


def test_officer_drafts_and_submits_a_plan(page, site, errors, screenshot_dir):
    code, name = "TX2023-WT-S1", "百桃三期区块"
    parcels = site.parcels("wutong", "WT-PS", 2, slot=1)  # 270 亩, contiguous, classified enterprises
    log_in(page, site, OFFICER_WT, "/workflow/officer")
    expect(page.locator("#who")).to_contain_text("梧桐街道")
    own_plans_shown(page, in_page(page, "/api/plans")["body"]["data"])
    expect(page.locator("#draft-title")).to_have_text("新建区块方案")

    fill_draft(page, code=code, name=name, year=2023, parcels=parcels, four=FOUR)
    page.get_by_role("button", name="保存草稿").click()
    expect(page.locator("#message")).to_have_text("草稿已保存")
    row = plan_row(page, code)
    expect(row.locator("td").nth(2)).to_have_text("草稿")
    drafted = in_page(page, f"/api/plans/{code}")["body"]
    assert drafted["status"] == "draft" and drafted["unit"] == "wutong" and drafted["working_version_no"] == 1
    expect(row.locator("td")).to_have_text(
        [code, name, "草稿", "—", js_number(drafted["area_mu"]), "—", "修改 提交评审"])
    assert 269 < drafted["area_mu"] < 271  # two 135-亩 parcels, computed from the geometry in EPSG:4549

    row.get_by_role("button", name="提交评审").click()
    assert confirm(page) == f"提交 {code} 评审？提交后评审结束前不能修改。"
    expect(page.locator("#list-message")).to_have_text("已完成")
    expect(row.locator("td").nth(2)).to_have_text("已提交")
    expect(row.get_by_role("button")).to_have_count(0)  # a submitted plan cannot be edited or resubmitted
    page.screenshot(path=str(screenshot_dir / "officer.png"), full_page=True)

    state = in_page(page, f"/api/plans/{code}")
    assert state["status"] == 200
    plan = state["body"]
    assert plan["status"] == "submitted" and plan["status_label"] == "已提交"
    assert [(v["version_no"], v["status"], v["report_passed"]) for v in plan["versions"]] == [(1, "submitted", True)]
    assert plan["versions"][0]["submitted_by"]["username"] == OFFICER_WT
    version = in_page(page, f"/api/plans/{code}/versions/1")["body"]["properties"]
    assert [p["code"] for p in version["parcels"]] == parcels
    assert version["four_north"] == FOUR["four_north"] and version["report"]["passed"] is True
    assert errors == []


def test_failed_rules_are_shown_in_chinese_and_the_plan_stays_a_draft(page, site, errors, screenshot_dir):
    code, name = "TX2023-WT-F1", "百桃四期区块"
    parcels = site.parcels("wutong", "WT-PF", 2, slot=2)
    log_in(page, site, OFFICER_WT, "/workflow/officer")
    expect(page.locator("#who")).to_contain_text("梧桐街道")
    own_plans_shown(page, in_page(page, "/api/plans")["body"]["data"])

    # One parcel (135 亩, under the 200 亩 minimum) and no 北至.
    fill_draft(page, code=code, name=name, year=2023, parcels=parcels[:1],
               four={**{k: v for k, v in FOUR.items() if k != "four_north"}, "four_north": ""})
    live = page.locator("#live-report")  # the rules are shown while drafting, before anything is saved
    expect(live.locator("[data-testid=verdict]")).to_have_text("2 项规则未通过")
    expect(live.locator("li.error")).to_contain_text(["低于 200 亩下限", "四至未写全：缺北至"])
    expect(page.locator("#map-summary")).to_contain_text("2 项规则未通过")
    page.get_by_role("button", name="保存草稿").click()
    expect(page.locator("#message")).to_have_text("草稿已保存")
    row = plan_row(page, code)
    expect(row.locator("td").nth(2)).to_have_text("草稿")

    check = in_page(page, f"/api/plans/{code}/check")["body"]  # the same rules, run without changing anything
    failed = [v["message_zh"] for v in check["violations"] if v["severity"] == "error"]
    assert check["passed"] is False
    assert any(m.startswith("连片区块面积 ") and m.endswith("亩，低于 200 亩下限") for m in failed), failed
    assert "四至未写全：缺北至" in failed

    row.get_by_role("button", name="提交评审").click()
    confirm(page)
    message = page.locator("#list-message")
    expect(message.locator("p.error")).to_contain_text("方案未通过规则检查，不能提交")
    shown = message.locator("li").all_inner_texts()
    assert len(shown) == len(failed)
    for rule in failed:  # every failed rule, in Chinese, each naming the plan it is about
        assert f"[{code}] {rule}" in shown, (rule, shown)
    expect(row.locator("td").nth(2)).to_have_text("草稿")
    expect(row.get_by_role("button", name="提交评审")).to_be_visible()
    page.screenshot(path=str(screenshot_dir / "officer_rules_failed.png"), full_page=True)

    plan = in_page(page, f"/api/plans/{code}")["body"]
    assert plan["status"] == "draft"
    assert [(v["status"], v["submitted_at"]) for v in plan["versions"]] == [("draft", None)]

    # Fixed in the page: open the draft, add the neighbouring parcel and the 北至, save, submit.
    row.get_by_role("button", name="修改").click()
    expect(page.locator("#editor")).not_to_have_attribute("aria-busy", "true")  # the stored draft is loaded
    expect(page.locator("#draft-title")).to_have_text(f"修改 {code} 第 1 版")
    expect(page.locator("#parcel-list tbody tr td:first-child")).to_have_text(parcels[:1])
    expect(page.locator("#draft input[name=code]")).to_be_disabled()
    add_by_code(page, parcels[1:])
    page.locator("#draft input[name=four_north]").fill(FOUR["four_north"])
    report_settled(page)
    expect(live.locator("[data-testid=verdict]")).to_have_text("全部规则通过")
    page.get_by_role("button", name="保存草稿").click()  # PATCH …/draft with the plan's ETag in If-Match
    expect(page.locator("#message")).to_have_text("草稿已保存")
    fixed = in_page(page, f"/api/plans/{code}")["body"]
    expect(row.locator("td").nth(4)).to_have_text(js_number(fixed["area_mu"]))
    assert fixed["area_mu"] > 200
    page.locator("#submit-draft").click()  # from the editor: saves what is open, then submits it
    confirm(page)
    expect(page.locator("#message")).to_have_text("已提交评审")
    expect(row.locator("td").nth(2)).to_have_text("已提交")
    assert in_page(page, f"/api/plans/{code}")["body"]["status"] == "submitted"
    assert errors == []


def test_officer_cannot_see_or_act_on_another_units_plans(page, site, errors, screenshot_dir):
    code = "TX2023-WT-X1"
    parcels = site.parcels("wutong", "WT-PX", 2, slot=3)
    with site.api(OFFICER_WT) as wutong:
        r = wutong.post("/api/plans", json={"code": code, "name": "梧桐他单位测试区块", "year": 2023,
                                            "parcels": parcels, **FOUR})
        assert r.status_code == 201, r.text
        etag = r.headers["ETag"]

        log_in(page, site, OFFICER_CF, "/workflow/officer")
        expect(page.locator("#who")).to_contain_text("崇福镇")
        listed = in_page(page, "/api/plans")["body"]["data"]
        own_plans_shown(page, listed)
        assert {p["unit"] for p in listed if p["can_edit"]} == {"chongfu"}
        assert code not in {p["code"] for p in listed}  # another unit's draft is not even listed
        shown = page.locator("#plans tbody").inner_text()
        assert "WT" not in shown and "梧桐" not in shown  # nor 梧桐's approved block: only the own unit's plans
        page.screenshot(path=str(screenshot_dir / "officer_other_unit.png"), full_page=True)

        # The editor cannot take another unit's parcels: they are not on its map, and pasting their codes
        # says so; the server refuses them too, naming the parcel, and creates nothing.
        page.locator("body[data-ready=true]").wait_for()
        add_by_code(page, parcels)
        expect(page.locator("#by-code-message")).to_have_text(f"以下编号不在本单位可选宗地中：{'、'.join(parcels)}")
        expect(page.locator("#parcel-list tbody tr")).to_have_count(0)
        forged = in_page(page, "/api/plans", "POST", {"code": "TX2023-CF-X1", "name": "越界测试区块", "year": 2023,
                                                       "parcels": parcels, **FOUR})
        assert forged["status"] == 422, forged
        assert forged["body"]["errors"][0]["message"] == f"宗地“{parcels[0]}”不在本单位辖区内"
        assert in_page(page, "/api/plans/TX2023-CF-X1")["status"] == 404

        # The API with the same browser session: reading is 404 (drafts of other units do not exist for
        # them), acting is 403, as tests/app/test_workflow_matrix.py expects for another unit's officer.
        for path in (f"/api/plans/{code}", f"/api/plans/{code}/versions/1", f"/api/plans/{code}/check"):
            assert in_page(page, path)["status"] == 404, path
        assert in_page(page, f"/api/plans/{code}/versions")["status"] == 404
        submit = in_page(page, f"/api/plans/{code}/submit", "POST", None, "*")
        assert submit["status"] == 403 and submit["body"]["code"] == "forbidden"
        assert "只能办理本单位的区块方案" in submit["body"]["detail"]
        patch = in_page(page, f"/api/plans/{code}/draft", "PATCH", {"four_east": "东至越界路"}, etag)
        assert patch["status"] == 403 and patch["body"]["code"] == "forbidden"

        # The top bar's 方案一览 link (the list page): other units' plans appear only as approved versions.
        page.locator("#topbar").get_by_role("link", name="方案一览").click()
        page.wait_for_url("**/workflow/planner")
        everything = in_page(page, "/api/plans")["body"]["data"]
        expect(page.locator("#plans tbody tr td:first-child")).to_have_text([p["code"] for p in everything])
        assert code not in page.locator("#plans tbody").inner_text()
        others = [p for p in everything if p["unit"] != "chongfu"]
        assert others and {p["status"] for p in others} == {"approved"}
        assert {v["status"] for p in others for v in p["versions"]} == {"approved"}
        for p in others:
            expect(plan_row(page, p["code"]).locator("td").nth(3)).to_have_text("已认定")
        expect(page.get_by_role("button", name="比较最近两版")).to_have_count(
            sum(len(p["versions"]) > 1 for p in everything))

        untouched = wutong.get(f"/api/plans/{code}").json()
        assert untouched["status"] == "draft" and untouched["version"] == r.json()["version"]
        assert wutong.get(f"/api/plans/{code}/versions/1").json()["properties"]["four_east"] == FOUR["four_east"]
    assert errors == []


# --- the planner -------------------------------------------------------------------------------------


def test_planner_sees_the_plans_and_the_comparison_the_api_returns(page, site, errors, screenshot_dir):
    code = "TX2022-TD-01"  # approved on paper (demo data); the admin starts version 2 and drops a parcel
    with site.api(ADMIN) as admin:
        r = admin.post(f"/api/plans/{code}/revisions", json={"change_note": "南侧一宗地块不再纳入"})
        assert r.status_code == 201, r.text
        v2 = admin.get(f"/api/plans/{code}/versions/2").json()["properties"]
        kept, dropped = [p["code"] for p in v2["parcels"][:-1]], v2["parcels"][-1]["code"]
        # The imported boundary stays as it is unless the boundary is derived again from the parcels.
        r = admin.patch(f"/api/plans/{code}/draft", json={"parcels": kept, "boundary": None},
                        headers={"If-Match": r.headers["ETag"]})
        assert r.status_code == 200, r.text

    log_in(page, site, PLANNER, "/")
    page.goto(site.url + "/workflow/planner")
    expect(page.locator("#who")).to_contain_text("test_planner")
    plans = in_page(page, "/api/plans")["body"]
    rows = page.locator("#plans tbody tr")
    expect(rows).to_have_count(plans["count"])
    assert plans["count"] >= 6  # at least the six blocks of the demo data
    for row, p in zip(rows.all(), plans["data"], strict=True):
        expect(row.locator("td").nth(0)).to_have_text(p["code"])
        cells = row.locator("td").all_inner_texts()
        status, area = p["status_label"], js_number(p["area_mu"])
        if p["code"] == code:  # under revision: the approved version 1 is still in force, and the page says so
            assert (p["current_version_no"], p["working_version_no"]) == (1, 2)
            status += "（修订第 2 版；第 1 版已认定，仍有效）"
            area += "（修订稿）"
        assert cells[:6] == [p["code"], p["name"] or "", p["unit_name"], status, p["stage_label"] or "—", area], (
            p["code"], cells)
        versions = row.locator("td").nth(6)
        assert versions.locator(".version").all_inner_texts() == [
            f"v{v['version_no']} {v['status_label']}"
            + (f"（{v['approval_doc_no']}{'，' + v['approval_date'] if v['approval_date'] else ''}）"
               if v["approval_doc_no"] else "")
            for v in p["versions"]]
        # No raw JSON for a planner: a block in force opens on the map.
        links = versions.locator("a")
        assert [links.nth(k).get_attribute("href") for k in range(links.count())] == (
            [f"/?block={p['code']}"] if p["current_version_no"] else [])
        expect(row.get_by_role("button", name="比较最近两版")).to_have_count(1 if len(p["versions"]) > 1 else 0)

    td = next(p for p in plans["data"] if p["code"] == code)
    assert (td["status_label"], [v["status"] for v in td["versions"]]) == ("草稿", ["approved", "draft"])
    plan_row(page, code).get_by_role("button", name="比较最近两版").click()
    panel = page.locator("#compare")
    expect(panel).to_be_visible()
    diff = in_page(page, f"/api/plans/{code}/compare?from=1&to=2")["body"]
    parts = {f["properties"]["change"]: f["properties"]["area_mu"] for f in diff["geometry"]["features"]}
    expect(panel.locator("h3")).to_have_text(f"{code}：第 1 版 → 第 2 版")
    expect(panel.locator("p")).to_have_text([
        f"面积 {js_number(diff['area_mu']['from'])} → {js_number(diff['area_mu']['to'])} 亩"
        f"（新增 {js_number(parts['added'])} 亩，减少 {js_number(parts['removed'])} 亩）",
        f"宗地增加：无；减少：{dropped}",
        f"企业增加：无；减少：{'、'.join(e['name'] for e in diff['enterprises']['removed']) or '无'}",
    ])
    assert [p["code"] for p in diff["parcels"]["removed"]] == [dropped] and parts["removed"] > 0
    page.screenshot(path=str(screenshot_dir / "planner.png"), full_page=True)
    assert errors == []
