"""亩均评价 公示 → 异议 → 定档 in headless Chromium on real PostGIS (the demo data and the demo accounts), for
the year 2024 so that nothing rests on the demo's fixed 2023 evaluation.

The administrator first posts 2024 figures of a dozen enterprises (six 规上, six 规下, some of 崇福镇) as a
department would (POST /api/enterprises/figures). Then, each person in a browser of their own:
- the admin opens /evaluation for 2024 (no run yet), 试算 with a note, sees the ranked table (each indicator's
  value and score, 总分, 等级), opens a row's detail panel, and 发布公示 with the default period (today to
  today + 6, in Asia/Shanghai);
- 崇福镇's unit officer opens one of 崇福镇's enterprises and files an objection with a reason, a corrected
  税收 and a PDF; the objection shows 待处理 with its evidence link (the file comes back as a PDF);
- the reviewer reads it in 异议处理 and 采纳 it with a reason; 定档 stays disabled, saying why (公示期未结束);
- the admin ends the publicity early (提前结束公示, with a reason); the reviewer then 定档 — the final run is
  recomputed with the upheld correction and its classes reach the map (the parcels' evaluation_grade, the
  map's 亩均评价等级 mode and legend, the block panel's class column);
- a D-class row shows 建议整治清退 and the reviewer confirms it (the enterprise becomes 整治清退).
The admin's 评价配置 screen shows the 2024 configuration frozen after 定档.
Desktop 1366×900 and phone 390×844: nothing scrolls sideways; no English or developer word shows.
Screenshots in /tmp/shots/evaluation-*.png."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest
from playwright.sync_api import expect
from sqlalchemy import text

from app.auth.demo import DEMO_PASSWORD
from tests.browser.words import offending, page_text
from tests.browser.workflow_ui import demo_site

pytestmark = pytest.mark.browser

SHOTS = Path("/tmp/shots")
DESKTOP = {"width": 1366, "height": 900}
PHONE = {"width": 390, "height": 844}
YEAR = 2024
OFFICER = "chongfu"  # 崇福镇's unit officer (demo account)
PDF = (
    b"%PDF-1.4\n"
    b"1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n"
    b"2 0 obj\n<< /Type /Pages /Kids [] /Count 0 >>\nendobj\n"
    b"xref\n0 3\n0000000000 65535 f \n0000000009 00000 n \n0000000058 00000 n \n"
    b"trailer\n<< /Size 3 /Root 1 0 R >>\nstartxref\n110\n%%EOF\n"
)
EVIDENCE_NAME = "2024年度完税证明.pdf"

# The names people gave their files and the chosen file names, and the credit codes: their data, not the
# page's words.
DATA_ELEMENTS = "a.evidence-link, .chosen, .code"


def words_of(page) -> list[str]:
    # Credit codes (18 characters of digits and capitals) are data people use, not words.
    return [w for w in offending(page_text(page, DATA_ELEMENTS)) if not re.fullmatch(r"[0-9A-Z]{18}", w)]


def no_sideways(page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1"), "the page scrolls sideways"


def shot(page, name: str, *, full: bool = False) -> None:
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / f"evaluation-{name}.png"), full_page=full)


def chinese_today() -> dt.date:
    return dt.datetime.now(ZoneInfo("Asia/Shanghai")).date()


def pick_enterprises(engine) -> tuple[list[dict], str]:
    """Twelve registered enterprises with parcels (in a 区块 first) — six 规上 and six 规下 by the register where
    it says so, four of them of 崇福镇; returns them (each with ``above``) and 崇福镇's first."""
    with engine.connect() as c:
        rows = c.execute(text("""
            SELECT e.credit_code, e.name, e.scale::text AS scale, bool_or(u.code = 'chongfu') AS chongfu
            FROM enterprises e JOIN parcels p ON p.enterprise_id = e.id JOIN units u ON u.id = p.unit_id
            WHERE e.credit_code IS NOT NULL GROUP BY e.id
            ORDER BY bool_or(p.block_id IS NOT NULL) DESC, e.credit_code""")).mappings().all()
    def scale_of(r, k):
        s = (r["scale"] or "").lower()
        return s.startswith("above") if s else k % 2 == 0
    marked = [{**dict(r), "above": scale_of(r, k)} for k, r in enumerate(rows)]
    chosen = []
    for chongfu, n in ((True, 2), (False, 4)):
        for above in (True, False):
            chosen += [r for r in marked if bool(r["chongfu"]) == chongfu and r["above"] == above][:n]
    assert len(chosen) == 12, "the demo data has too few enterprises with parcels"
    return chosen, chosen[0]["credit_code"]


def figure_rows(chosen: list[dict]) -> list[dict]:
    """规上 with 营业收入 ≥ 2000 万元, 规下 below; figures spread so that ranks differ."""
    out = []
    for k, e in enumerate(chosen):
        revenue = Decimal(8000 + 3000 * k) if e["above"] else Decimal(600 + 90 * k)
        step = Decimal(k + 1)
        out.append({
            "credit_code": e["credit_code"],
            "revenue_10k": str(revenue),
            "tax_10k": str((revenue * Decimal("0.004") * step).quantize(Decimal("0.1"))),
            "value_added_10k": str((revenue * Decimal("0.2")).quantize(Decimal("0.1"))),
            "energy_tce": str((revenue * Decimal("0.05") / step).quantize(Decimal("0.1"))),
            "emission_t": str((revenue * Decimal("0.001")).quantize(Decimal("0.01"))),
            "electricity_10k_kwh": str((revenue * Decimal("0.08")).quantize(Decimal("0.1"))),
            "employees": str(40 + 5 * k),
            "rd_10k": str((revenue * Decimal("0.002") * step).quantize(Decimal("0.1"))),
        })
    return out


@contextmanager
def api_client(url: str, username: str) -> Iterator[httpx.Client]:
    """An API client of the live server logged in as ``username`` (setting up and cross-checking)."""
    with httpx.Client(base_url=url, timeout=30) as c:
        r = c.post("/api/auth/login", json={"username": username, "password": DEMO_PASSWORD})
        assert r.status_code == 200, r.text
        c.headers["X-CSRF-Token"] = r.json()["csrf_token"]
        yield c


def person(browser, url: str, username: str, viewport=DESKTOP):
    context = browser.new_context(viewport=viewport, locale="zh-CN")
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(url + "/login?next=/evaluation")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(lambda u: "/login" not in u and u.endswith("/evaluation"))
    page.errors = errors
    return context, page


def open_year(page, url: str) -> None:
    page.goto(f"{url}/evaluation?year={YEAR}")
    try:
        page.locator("body[data-evaluation-state=ready]").wait_for(timeout=8000)
    except Exception:
        print("DEBUG", page.evaluate("document.body.dataset.evaluationState"), page.inner_text("main")[:2000], page.errors)
        raise


def open_detail(page, code: str):
    page.locator(f"#results-table tr[data-code='{code}'] button.open-detail").click()
    dialog = page.locator("dialog.detail")
    expect(dialog).to_be_visible()
    return dialog


def find_row(page, code: str) -> None:
    """Show the tab that lists ``code`` (规上 or 规下)."""
    for tab in page.locator("#group-tabs button[role=tab]").all():
        tab.click()
        if page.locator(f"#results-table tr[data-code='{code}']").count():
            return
    raise AssertionError(f"{code} is in no tab")


def confirm_dialog(page, *, text: str | None = None) -> None:
    dialog = page.locator("dialog.confirm")
    expect(dialog).to_be_visible()
    if text is not None:
        dialog.locator("textarea").fill(text)
    dialog.locator("button.primary").click()
    expect(dialog).to_have_count(0)


def test_publicity_objection_fix(browser):
    SHOTS.mkdir(exist_ok=True)
    with demo_site("txmap_eval_ui") as (url, engine):
        chosen, ours = pick_enterprises(engine)
        with api_client(url, "admin") as admin_api:
            r = admin_api.post("/api/enterprises/figures", json={"year": YEAR, "department": "统计局",
                                                                 "rows": figure_rows(chosen)})
            assert r.status_code in (200, 201), r.text
            assert admin_api.get(f"/api/evaluation/{YEAR}/runs").json()["runs"] == []

        # -- the admin: 试算, the table, a row's detail, 发布公示 --------------------------------------------
        admin_ctx, admin = person(browser, url, "admin")
        open_year(admin, url)
        expect(admin.locator("#run-body")).to_contain_text(f"{YEAR} 年度还没有评价")
        admin.get_by_role("button", name="试算").click()
        admin.locator("dialog.form-dialog textarea[name=note]").fill("2024 年度数据汇总后试算")
        admin.locator("dialog.form-dialog button.primary").click()
        expect(admin.locator("[data-testid=run-status]")).to_have_text("试算")
        expect(admin.locator("#page-message")).to_contain_text("已完成第 1 次试算")
        expect(admin.locator("#group-tabs button[role=tab]")).to_have_count(3)
        rows = admin.locator("#results-table tbody tr.result-row")
        expect(rows.first).to_be_visible()
        assert rows.count() >= 3
        first = rows.first
        expect(first.locator("td.rank")).to_have_text("1")
        expect(first.locator("td.grade-cell .grade")).to_have_text("A")
        assert re.fullmatch(r"[\d,]+\.\d{2}", first.locator("td.total").inner_text()), "总分 with two decimals"
        assert first.locator("td.ind").count() >= 2, "each indicator a column"
        assert admin.evaluate("getComputedStyle(document.querySelector('#results-table td.total')).textAlign") == "right"
        no_sideways(admin)
        shot(admin, "results-desktop")
        dialog = open_detail(admin, rows.first.get_attribute("data-code"))
        expect(dialog.locator("table.indicators tbody tr")).to_have_count(first.locator("td.ind").count() + 3)
        expect(dialog.locator("table.sources-table tbody tr")).to_have_count(8)  # the eight figures posted
        shot(admin, "detail-desktop")
        dialog.locator("button.close").click()

        admin.get_by_role("button", name="发布公示").click()
        form = admin.locator("dialog.form-dialog")
        today = chinese_today()
        expect(form.locator("input[name=publicity_start]")).to_have_value(today.isoformat())
        expect(form.locator("input[name=publicity_end]")).to_have_value((today + dt.timedelta(days=6)).isoformat())
        form.locator("button.primary").click()
        expect(admin.locator("[data-testid=run-status]")).to_have_text("公示中")
        expect(admin.locator("#run-body")).to_contain_text("公示期内，可以提出异议")
        expect(admin.get_by_role("button", name="提前结束公示")).to_be_visible()
        assert not words_of(admin), words_of(admin)
        assert not admin.errors, admin.errors

        # -- 崇福镇's officer: an objection with a corrected figure and a PDF ----------------------------------
        officer_ctx, officer = person(browser, url, OFFICER)
        open_year(officer, url)
        expect(officer.locator("[data-testid=run-status]")).to_have_text("公示中")
        find_row(officer, ours)
        dialog = open_detail(officer, ours)
        dialog.get_by_role("button", name="提出异议").click()
        form = officer.locator("dialog.objection-form")
        expect(form.locator("input[name='corrections.tax_10k']")).to_be_visible()
        form.locator("textarea[name=reason]").fill("税务数据未计入企业 2024 年 12 月补缴的增值税，附完税证明")
        in_run = Decimal(next(r["tax_10k"] for r in figure_rows(chosen) if r["credit_code"] == ours))
        claimed = in_run * 3
        form.locator("input[name='corrections.tax_10k']").fill(str(claimed))
        form.locator("input[name=files]").set_input_files([{"name": EVIDENCE_NAME, "mimeType": "application/pdf",
                                                             "buffer": PDF}])
        expect(form.locator(".chosen")).to_have_text(EVIDENCE_NAME)
        shot(officer, "objection-form-desktop")
        assert not words_of(officer), words_of(officer)
        form.get_by_role("button", name="提交异议").click()
        expect(officer.locator("#page-message")).to_contain_text("异议已提交")
        dialog = officer.locator("dialog.detail")
        expect(dialog.locator(".objection-list li[data-status=open]")).to_contain_text("待处理")
        link = dialog.locator("a.evidence-link")
        expect(link).to_have_text(EVIDENCE_NAME)
        got = officer.evaluate("async (href) => { const r = await fetch(href); return [r.status, r.headers.get('content-type')]; }",
                               link.get_attribute("href"))
        assert got[0] == 200 and got[1].startswith("application/pdf"), got
        expect(dialog.get_by_role("button", name="提出异议")).to_have_count(0)  # one open objection per enterprise
        assert not officer.errors, officer.errors

        # -- the reviewer: 采纳; 定档 disabled while the period runs --------------------------------------------
        reviewer_ctx, reviewer = person(browser, url, "reviewer")
        open_year(reviewer, url)
        item = reviewer.locator("#objection-list li[data-status=open]")
        expect(item).to_have_count(1)
        expect(item).to_contain_text("税务数据未计入")
        expect(item.locator("a.evidence-link")).to_have_text(EVIDENCE_NAME)
        fix = reviewer.locator("button[name=fix]")
        expect(fix).to_be_disabled()
        expect(reviewer.locator("#fix-blocked")).to_contain_text("暂不能定档")
        expect(reviewer.locator("#fix-blocked")).to_contain_text("公示")
        reviewer.locator("#objections").scroll_into_view_if_needed()
        shot(reviewer, "objections-desktop")
        item.get_by_role("button", name="采纳", exact=True).click()
        confirm_dialog(reviewer, text="经税务局核实，补缴税款属 2024 年度，采纳更正")
        expect(reviewer.locator("#objection-list li[data-status=upheld]")).to_contain_text("已采纳")
        expect(reviewer.locator("button[name=fix]")).to_be_disabled()
        assert not words_of(reviewer), words_of(reviewer)

        # -- the admin ends the period early; the reviewer fixes ----------------------------------------------
        open_year(admin, url)
        admin.get_by_role("button", name="提前结束公示").click()
        confirm_dialog(admin, text="各镇街已确认无其他异议")
        expect(admin.locator("#page-message")).to_contain_text("公示已提前结束")
        expect(admin.locator("#run-body")).to_contain_text("提前结束公示（各镇街已确认无其他异议）")

        open_year(reviewer, url)
        expect(reviewer.locator("button[name=fix]")).to_be_enabled()
        reviewer.locator("button[name=fix]").click()
        confirm_dialog(reviewer)
        expect(reviewer.locator("[data-testid=run-status]")).to_have_text("已定档")
        expect(reviewer.locator("#run-body")).to_contain_text("据公示结果（第 1 次）采纳的更正重新计算")
        expect(reviewer.locator("[data-testid=objection-counts]")).to_contain_text("已采纳 1 件")
        expect(reviewer.locator("#objection-list li[data-status=upheld]")).to_have_count(1)
        with api_client(url, "admin") as admin_api:
            final = admin_api.get(f"/api/evaluation/{YEAR}").json()
            assert final["run"]["status"] == "final" and final["run"]["based_on"] is not None
            row = next(e for e in final["enterprises"] if e["credit_code"] == ours)
            tax = next(i for i in row["indicators"] if i["code"] == "tax_per_mu")
            land = Decimal(row["land_mu"])
            assert abs(Decimal(tax["value"]) - claimed / land) < Decimal("0.01"), "the upheld correction is used"
            graded = {e["credit_code"]: e["grade"] for e in final["enterprises"] if e["grade"]}
            d_rows = [e for e in final["enterprises"] if e["grade"] == "D"]
        assert d_rows and all(e["proposed_clearance"] for e in d_rows)

        # -- 建议整治清退: the reviewer confirms a D-class enterprise -------------------------------------------
        d_code = d_rows[0]["credit_code"]
        find_row(reviewer, d_code)
        d_row = reviewer.locator(f"#results-table tr[data-code='{d_code}']")
        expect(d_row.locator(".mark.clearance")).to_have_text("建议整治清退")
        dialog = open_detail(reviewer, d_code)
        dialog.get_by_role("button", name="确认整治清退").click()
        form = reviewer.locator("dialog.form-dialog")
        expect(form.locator("textarea[name=reason]")).to_have_value(f"{YEAR} 年度亩均效益综合评价 D 档")
        expect(form.locator("input[name=decided_on]")).to_have_value(chinese_today().isoformat())
        form.locator("button.primary").click()
        expect(reviewer.locator("#page-message")).to_contain_text("已设为整治清退")
        expect(reviewer.locator("dialog.detail")).to_contain_text("当前分类：整治清退")
        expect(reviewer.locator(f"#results-table tr[data-code='{d_code}'] .mark.clearance")).to_have_count(0)
        assert not reviewer.errors, reviewer.errors

        # -- the map: parcels carry the fixed class; the grade mode and its legend; the block panel --------------
        with api_client(url, "admin") as admin_api:
            parcels = admin_api.get("/api/map/parcels").json()["features"]
        with engine.connect() as c:
            owner = dict(c.execute(text("SELECT p.code, e.credit_code FROM parcels p JOIN enterprises e "
                                        "ON e.id = p.enterprise_id WHERE e.credit_code IS NOT NULL")).all())
        shown = {f["properties"].get("code"): f["properties"].get("evaluation_grade") for f in parcels}
        checked = [code for code, credit in owner.items() if credit in graded and code in shown]
        assert checked, "graded enterprises' parcels are on the map"
        for code in checked:
            assert shown[code] == graded[owner[code]], code
        at = next(f for f in parcels if f["properties"].get("code") == checked[0])["geometry"]["coordinates"]
        while isinstance(at[0], list):
            at = at[0]
        admin.goto(f"{url}/?view={at[1]},{at[0]},16")
        admin.locator("input[name=mode][value=evaluation_grade]").check()
        legend = admin.locator(".legend")
        expect(legend).to_contain_text("亩均评价等级")
        for g in "ABCD":
            expect(legend).to_contain_text(f"{g} 档")
        admin.wait_for_timeout(800)
        shot(admin, "map-grade-desktop")
        with engine.connect() as c:
            block, credit = c.execute(text(
                "SELECT b.code, e.credit_code FROM parcels p JOIN renewal_blocks b ON b.id = p.block_id "
                "JOIN enterprises e ON e.id = p.enterprise_id WHERE e.credit_code = ANY(:codes) ORDER BY b.code LIMIT 1"),
                {"codes": list(graded)}).one()
        admin.goto(f"{url}/?block={block}")
        badge = admin.locator(f"#block-panel .grade-badge[data-grade={graded[credit]}]",
                              has_text=f"{YEAR} 年度").first
        expect(badge).to_have_text(f"{YEAR} 年度 {graded[credit]} 档")
        shot(admin, "block-panel-desktop")
        assert not admin.errors, admin.errors

        # -- the configuration of a fixed year is frozen ------------------------------------------------------
        admin.goto(url + "/admin#evalconfig")
        panel = admin.locator("#panel-evalconfig")
        expect(panel).to_have_attribute("data-state", "ready")
        admin.locator("#evalconfig-year").select_option(str(YEAR))
        expect(panel).to_have_attribute("data-frozen", "true")
        expect(panel).to_contain_text("配置已冻结")
        expect(admin.locator("button[name=save]")).to_be_disabled()
        admin.locator("#evalconfig-year").select_option(str(YEAR + 1))
        expect(panel).to_have_attribute("data-frozen", "false")
        expect(panel).to_contain_text("以下为默认配置")
        expect(admin.locator("[data-testid=weight-sum-above]")).to_have_text("100")
        shot(admin, "config-desktop")
        assert not words_of(admin), words_of(admin)
        assert not admin.errors, admin.errors

        # -- a phone: the results as cards, the detail, the objection form, the config editor, the map ----------
        for ctx in (admin_ctx, officer_ctx, reviewer_ctx):
            ctx.close()
        phone_ctx, phone = person(browser, url, "admin", viewport=PHONE)
        open_year(phone, url)
        no_sideways(phone)
        shot(phone, "results-phone")
        open_detail(phone, ours)
        no_sideways(phone)
        shot(phone, "detail-phone")
        phone.locator("dialog.detail button.close").click()
        phone.goto(url + "/admin#evalconfig")
        expect(phone.locator("#panel-evalconfig")).to_have_attribute("data-state", "ready")
        no_sideways(phone)
        shot(phone, "config-phone")
        phone.goto(url + "/")
        phone.locator("body").wait_for()
        assert not phone.errors, phone.errors
        phone_ctx.close()


def test_objection_form_on_a_phone(browser):
    """The officer's objection form at 390×844 during a publicity period: no sideways scroll, every label
    Chinese; a correction that is not a number is refused beside its field before anything is sent."""
    with demo_site("txmap_eval_phone") as (url, engine):
        chosen, ours = pick_enterprises(engine)
        with api_client(url, "admin") as admin_api:
            assert admin_api.post("/api/enterprises/figures", json={"year": YEAR, "department": "统计局",
                                                                    "rows": figure_rows(chosen)}).status_code in (200, 201)
            run = admin_api.post(f"/api/evaluation/{YEAR}/runs", json={"note": "试算"}).json()
            today = chinese_today()
            r = admin_api.post(f"/api/evaluation/runs/{run['id']}/publish", headers={"If-Match": f'"{run["version"]}"'},
                               json={"publicity_start": today.isoformat(),
                                     "publicity_end": (today + dt.timedelta(days=6)).isoformat()})
            assert r.status_code == 200, r.text
        ctx, page = person(browser, url, OFFICER, viewport=PHONE)
        open_year(page, url)
        find_row(page, ours)
        no_sideways(page)
        dialog = open_detail(page, ours)
        dialog.get_by_role("button", name="提出异议").click()
        form = page.locator("dialog.objection-form")
        form.locator("textarea[name=reason]").fill("用电量数据有误")
        form.locator("input[name='corrections.electricity_10k_kwh']").fill("一千")
        form.get_by_role("button", name="提交异议").click()
        expect(form.locator("[data-field='corrections.electricity_10k_kwh'] .field-error")).to_contain_text("请填写数字")
        no_sideways(page)
        shot(page, "objection-form-phone")
        assert not words_of(page), words_of(page)
        assert not page.errors, page.errors
        ctx.close()
