"""一库 /enterprises in headless Chromium on real PostGIS (the demo data and the demo accounts).

The GIS clerk imports a small register CSV with one bad credit code: the report lists that row first,
naming row and column, and 导入 stays disabled; the corrected file uploaded again commits, with a
summary. The clerk then imports the year's 税务局 figures for one of the new enterprises (the values
old → new in the report). The new enterprise is found in the list by name and its page shows the
register fields, the figures with their source, and 该年度尚未评价. A planner opens a demo enterprise
with parcels and a classification. At 1366×900 and 390×844 no English or developer word shows and
nothing scrolls sideways. Screenshots in tests/browser/screenshots/enterprises-*.png."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import pytest
from playwright.sync_api import expect
from sqlalchemy import text

from app.auth.demo import DEMO_PASSWORD
from app.credit_code import check_character
from tests.browser.words import page_offending
from tests.browser.workflow_ui import demo_site

pytestmark = pytest.mark.browser

DESKTOP = {"width": 1366, "height": 900}
PHONE = {"width": 390, "height": 844}
YEAR = dt.date.today().year - 1
# The names given to files (企业名录.csv): their data, not the page's words.
FILES = ["企业名录（改正）.csv", "企业名录.csv", "税务局数据（更正）.csv", "税务局数据.csv", "说明.pdf"]


def code(n: int) -> str:
    first17 = f"91330483MA2BQ{n:04d}"
    return first17 + check_character(first17)


GOOD_A, GOOD_B, GOOD_C = code(101), code(102), code(103)
BAD = GOOD_C[:-1] + ("0" if GOOD_C[-1] != "0" else "1")  # a wrong check character
HEADER = "统一社会信用代码,企业名称,行业代码,行业名称,规模,投产年份,地址,所在镇街\n"
ROWS = [
    f"{GOOD_A},浙江一库测试织造有限公司,C1751,化纤织造加工,规上,2015,崇福镇工业园区 8 号,崇福镇\n",
    f"{GOOD_B},桐乡一库测试机械有限公司,C3311,金属结构制造,规下,2019,梧桐街道振兴东路 3 号,梧桐街道\n",
]
BAD_CSV = (HEADER + ROWS[0] + f"{BAD},桐乡一库测试电子有限公司,C3981,电阻电容电感元件制造,规上,2020,濮院镇,濮院镇\n"
           + ROWS[1]).encode()
GOOD_CSV = (HEADER + ROWS[0] + f"{GOOD_C},桐乡一库测试电子有限公司,C3981,电阻电容电感元件制造,规上,2020,濮院镇,濮院镇\n"
            + ROWS[1]).encode()
FIGURES_CSV = (f"统一社会信用代码,企业名称,税收（万元）,用电量（万千瓦时）\n{GOOD_A},浙江一库测试织造有限公司,356.4,120.5\n").encode()


@pytest.fixture(scope="module")
def site():
    with demo_site("txmap_test_enterprises") as (url, engine):
        yield SimpleNamespace(url=url, engine=engine)


def _context(browser, viewport):
    return browser.new_context(viewport=viewport, locale="zh-CN", timezone_id="Asia/Shanghai")


def _log_in(page, site, username: str, path: str) -> None:
    page.goto(f"{site.url}/login?next={path}")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"**{path}")
    page.locator("body[data-enterprises-state=ready]").wait_for(timeout=30_000)


def _clean(page) -> None:
    assert page_offending(page, names=FILES) == []


def _no_sideways_scroll(page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= page.viewport_size["width"]


def _upload(page, kind: str, name: str, content: bytes) -> None:
    page.locator(f"#{kind}-file").set_input_files([{"name": name, "mimeType": "text/csv", "buffer": content}])
    page.locator(f"#{kind}-upload").click()
    expect(page.locator(f"#{kind}-view")).to_have_attribute("data-state", "staged")
    expect(page.locator(f"#{kind}-counts")).to_be_visible()


def test_gis_imports_the_register_and_finds_the_enterprise(browser, site, screenshot_dir):
    context = _context(browser, DESKTOP)
    page = context.new_page()
    seen: list[str] = []
    page.on("pageerror", lambda exc: seen.append(str(exc)))
    _log_in(page, site, "gis", "/enterprises")
    expect(page.locator("nav.nav a[data-page=enterprises]")).to_have_attribute("aria-current", "page")
    expect(page.locator("#list-table tbody tr").first).to_be_visible()
    _clean(page)

    # A file of another type: the server's Chinese refusal, in place.
    page.locator("#tabs a[data-tab=register]").click()
    page.locator("#register-file").set_input_files([{"name": "说明.pdf", "mimeType": "application/pdf", "buffer": b"%PDF-1.4"}])
    page.locator("#register-upload").click()
    expect(page.locator("#register-message")).to_contain_text("不支持的文件类型")
    expect(page.locator("#register-view")).to_have_attribute("data-state", "idle")

    # The bad file: its row 3 (the wrong check character) first, named with its column; no commit.
    _upload(page, "register", "企业名录.csv", BAD_CSV)
    first = page.locator("#register-rows tbody tr").first
    expect(first).to_have_attribute("data-action", "refused")
    expect(first).to_contain_text("第 3 行")
    expect(first.locator("td.problems")).to_contain_text("统一社会信用代码")
    expect(page.locator("#register-counts")).to_contain_text("有问题 1")
    expect(page.locator("#register-commit")).to_be_disabled()
    expect(page.locator("#register-commit-why")).to_contain_text("须改正")
    expect(page.locator("#register-map-credit_code")).to_have_value("统一社会信用代码")
    _clean(page)
    page.screenshot(path=str(screenshot_dir / "enterprises-import-refused.png"), full_page=True)
    page.set_viewport_size(PHONE)
    _no_sideways_scroll(page)
    page.screenshot(path=str(screenshot_dir / "enterprises-import-refused-phone.png"), full_page=True)
    page.set_viewport_size(DESKTOP)

    # The corrected file: every row new, 导入 enabled; committed with a summary.
    _upload(page, "register", "企业名录（改正）.csv", GOOD_CSV)
    expect(page.locator("#register-counts")).to_contain_text("新增 3")
    expect(page.locator("#register-rows tbody tr")).to_have_count(3)
    expect(page.locator("#register-rows tbody tr[data-action=create]")).to_have_count(3)
    expect(page.locator("#register-commit")).to_be_enabled()
    # A mapping changed on screen holds the commit until checked again; 重新检查 asks the server.
    page.locator("#register-map-address").select_option("")
    expect(page.locator("#register-commit")).to_be_disabled()
    expect(page.locator("#register-commit-why")).to_contain_text("重新检查")
    page.locator("#register-recheck").click()
    expect(page.locator("#register-recheck")).to_have_text("重新检查")
    expect(page.locator("#register-rows")).not_to_contain_text("地址：")
    expect(page.locator("#register-map-address")).to_have_value("")
    expect(page.locator("#register-commit")).to_be_enabled()
    page.locator("#register-map-address").select_option("地址")
    page.locator("#register-recheck").click()
    expect(page.locator("#register-recheck")).to_have_text("重新检查")
    expect(page.locator("#register-rows")).to_contain_text("地址：（空） → 崇福镇工业园区 8 号")
    expect(page.locator("#register-commit")).to_be_enabled()
    page.locator("#register-commit").click()
    page.locator("dialog.confirm").get_by_role("button", name="导入").click()
    expect(page.locator("#register-done")).to_contain_text("新增企业 3 家")
    expect(page.locator("#register-view")).to_have_attribute("data-state", "committed")
    _clean(page)
    page.screenshot(path=str(screenshot_dir / "enterprises-import-done.png"), full_page=True)

    # The year's 税务局 figures for one of them.
    page.locator("#tabs a[data-tab=figures]").click()
    page.locator("#figures-year").fill(str(YEAR))
    page.locator("#figures-department").select_option("税务局")
    _upload(page, "figures", "税务局数据.csv", FIGURES_CSV)
    expect(page.locator("#figures-rows tbody tr").first).to_contain_text("税收（万元）：356.4（新增）")
    expect(page.locator("#figures-dept-tax_10k")).to_have_value("税务局")
    expect(page.locator("#figures-commit")).to_be_enabled()
    _clean(page)
    page.screenshot(path=str(screenshot_dir / "enterprises-figures-report.png"), full_page=True)
    page.locator("#figures-commit").click()
    page.locator("dialog.confirm").get_by_role("button", name="导入").click()
    expect(page.locator("#figures-done")).to_contain_text("新增 2 项")
    # The department's corrected value: old → new in the report; the old value kept as history.
    page.locator("#figures-another").click()
    expect(page.locator("#figures-view")).to_have_attribute("data-state", "idle")
    page.locator("#figures-year").fill(str(YEAR))
    page.locator("#figures-department").select_option("税务局")
    _upload(page, "figures", "税务局数据（更正）.csv", FIGURES_CSV.replace(b"356.4", b"380"))
    expect(page.locator("#figures-rows")).to_contain_text("税收（万元）：356.4 → 380（变更）")
    expect(page.locator("#figures-counts")).to_contain_text("变更 1")
    page.locator("#figures-commit").click()
    page.locator("dialog.confirm").get_by_role("button", name="导入").click()
    expect(page.locator("#figures-done")).to_contain_text("变更 1 项")

    # Found in the list by name; its page.
    page.locator("#tabs a[data-tab=list]").click()
    page.locator("#f-q").fill("一库测试")
    page.locator("#f-search").click()
    expect(page.locator("#list-count")).to_contain_text("共 3 家企业")
    row = page.locator(f"#list-table tbody tr[data-code='{GOOD_A}']")
    expect(row).to_contain_text("规上")
    expect(row).to_contain_text("崇福镇")
    page.locator("#f-unit").select_option("chongfu")
    expect(page.locator("#list-count")).to_contain_text("共 1 家企业")
    _clean(page)
    page.screenshot(path=str(screenshot_dir / "enterprises-list-desktop.png"), full_page=True)
    row.locator("a.ent-link").click()
    expect(page.locator("#detail-view")).to_have_attribute("data-state", "ready")
    expect(page.locator("#ent-name")).to_have_text("浙江一库测试织造有限公司")
    register = page.locator("#ent-register")
    for value in ("C1751 化纤织造加工", "规上", "2015", "崇福镇工业园区 8 号", "崇福镇"):
        expect(register).to_contain_text(value)
    expect(page.locator("#ent-parcels")).to_contain_text("企业名下没有宗地")
    expect(page.locator("#ent-classification")).to_contain_text("尚未分类")
    page.locator("#f-detail-year").select_option(str(YEAR))
    expect(page.locator("#ent-evaluation")).to_contain_text("该年度尚未评价")
    figures = page.locator("#figures-table")
    for shown in ("税收（万元）", "380", "用电量（万千瓦时）", "120.5", "税务局", "税务局数据（更正）.csv"):
        expect(figures).to_contain_text(shown)
    fold = figures.locator("tr[data-field=tax_10k] details.superseded")
    expect(fold.locator("summary")).to_contain_text("此前的数值（1 条")
    fold.locator("summary").click()
    expect(fold).to_contain_text("356.4")
    expect(fold).to_contain_text("税务局数据.csv")
    _clean(page)
    _no_sideways_scroll(page)
    page.screenshot(path=str(screenshot_dir / "enterprises-detail-desktop.png"), full_page=True)
    page.locator("#back-to-list").click()
    expect(page.locator("#list-view")).to_be_visible()
    assert seen == []
    context.close()


def _demo_enterprise(site) -> tuple[str, str]:
    """A demo enterprise with parcels: one with a fixed 亩均评价 class, a classification, a parcel in a block first."""
    with site.engine.connect() as conn:
        row = conn.execute(text(
            "SELECT e.credit_code, e.name FROM enterprises e JOIN parcels p ON p.enterprise_id = e.id "
            "LEFT JOIN enterprise_governance g ON g.enterprise_id = e.id WHERE e.credit_code IS NOT NULL "
            "GROUP BY e.id, g.classification ORDER BY (e.evaluation_grade IS NULL), (g.classification IS NULL), "
            "bool_or(p.block_id IS NOT NULL) DESC, count(p.id) DESC, e.id LIMIT 1")).one()
    return row.credit_code, row.name


def _evaluation(credit_code: str, name: str) -> dict:
    """The answer of GET /api/evaluation/2023/enterprises/{code} for a fixed run (the page's rendering of
    an evaluated year, whether or not the demo database holds a run)."""
    return {"year": 2023, "sources": {}, "run": {
        "id": 1, "year": 2023, "number": 2, "status": "final", "status_label": "已定档", "created_at": "2024-02-20T09:00:00+08:00",
        "created_by": "admin", "note": None, "figures_as_of": "2024-02-20T09:00:00+08:00", "counts": {}, "publicity_start": None,
        "publicity_end": None, "in_publicity": False, "published_at": None, "published_by": None, "publicity_closed_at": None,
        "publicity_close_reason": None, "fixed_at": "2024-03-10T10:00:00+08:00", "fixed_by": "admin", "based_on": 1,
        "objections": {}, "changed_figures": 0, "version": 3, "actions": [], "fix_blocked_by": None},
        "enterprise": {
        "credit_code": credit_code, "name": name, "scale": "above_scale", "scale_label": "规上", "group": "above",
        "group_label": "规上工业企业", "unit_code": "shimen", "unit_name": "石门镇", "land_mu": "27.62",
        "indicators": [{"code": "tax_per_mu", "label": "亩均税收", "unit": "万元/亩", "value": "12.5", "weight": "40",
                        "benchmark": "10", "score": "50", "capped": False, "note": None},
                       {"code": "value_added_per_mu", "label": "亩均工业增加值", "unit": "万元/亩", "value": "41.2",
                        "weight": "30", "benchmark": "45", "score": "27.47", "capped": False, "note": None}],
        "indicator_score": "77.47", "adjustment_score": "-2", "total": "75.47", "rank": 12, "group_size": 180, "grade": "B",
        "reason": None, "explanations": ["亩均税收 12.5 万元/亩，为基准值 10 的 125%，得 50 分",
                                         "安全生产扣 2 分"],
        "changed_figures": [], "objections": [], "classification": None, "classification_label": None,
        "proposed_clearance": False}}


def test_planner_opens_an_enterprise_page(browser, site, screenshot_dir):
    credit_code, name = _demo_enterprise(site)
    answer = _evaluation(credit_code, name)
    for viewport, tag in ((DESKTOP, "desktop"), (PHONE, "phone")):
        context = _context(browser, viewport)
        page = context.new_page()
        seen: list[str] = []
        page.on("pageerror", lambda exc, seen=seen: seen.append(str(exc)))
        _log_in(page, site, "planner", "/enterprises")
        expect(page.locator("#tabs")).to_be_hidden()  # no imports for planners
        expect(page.locator("#list-table tbody tr").first).to_be_visible()
        _clean(page)
        _no_sideways_scroll(page)
        page.screenshot(path=str(screenshot_dir / f"enterprises-list-{tag}.png" if tag == "phone"
                                 else screenshot_dir / "enterprises-list-planner.png"), full_page=False)
        page.goto(f"{site.url}/enterprises#{credit_code}")
        expect(page.locator("#detail-view")).to_have_attribute("data-state", "ready")
        expect(page.locator("#ent-name")).to_have_text(name)
        expect(page.locator("#parcels-table tbody tr").first).to_be_visible()
        expect(page.locator("#ent-evaluation")).not_to_have_attribute("data-state", "loading")
        page.route(f"**/api/evaluation/2023/enterprises/{credit_code}", lambda route: route.fulfill(json=answer))
        page.locator("#f-detail-year").select_option("2023")
        evaluation = page.locator("#ent-evaluation")
        expect(evaluation).to_have_attribute("data-state", "ready")
        for shown in ("第 2 次评价（已定档）", "75.47", "12 / 180", "规上工业企业", "亩均税收", "万元/亩", "安全生产扣 2 分"):
            expect(evaluation).to_contain_text(shown)
        expect(evaluation.locator(".grade-B")).to_have_text("B")
        _clean(page)
        _no_sideways_scroll(page)
        page.screenshot(path=str(screenshot_dir / f"enterprises-detail-{tag}.png") if tag == "phone"
                        else str(screenshot_dir / "enterprises-detail-planner.png"), full_page=True)
        assert seen == []
        context.close()


def test_unit_officer_sees_the_own_unit_first(browser, site):
    context = _context(browser, PHONE)
    page = context.new_page()
    _log_in(page, site, "chongfu", "/enterprises")
    expect(page.locator("#f-unit")).to_have_value("chongfu")
    expect(page.locator("#officer-default")).to_contain_text("崇福镇")
    expect(page.locator("#tabs")).to_be_hidden()
    expect(page.locator("#list-table tbody tr").first).to_be_visible()
    units = page.locator("#list-table tbody tr td:nth-child(6)").all_inner_texts()
    assert units and all(u.startswith("崇福镇") for u in units), units
    page.locator("#f-reset").click()
    expect(page.locator("#f-unit")).to_have_value("")
    expect(page.locator("#officer-default")).to_have_count(0)
    _clean(page)
    _no_sideways_scroll(page)
    context.close()
