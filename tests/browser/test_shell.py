"""One application for every role: the shared top bar on every page, what each role is offered, login
that comes back, the phone layout (390×844), keyboard access to the map, and no English anywhere a
user reads (pages and spreadsheets). The demo accounts (Chinese display names) on demo data."""

from __future__ import annotations

import re

import httpx
import pytest
from playwright.sync_api import expect

from app.auth.demo import DEMO_PASSWORD
from tests.browser.words import offending, page_offending, workbook_offending
from tests.browser.workflow_ui import demo_site

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1440, "height": 900}

# What each demo account's top bar offers (the shell's entries for its role), and its pages.
NAV = {
    None: ["一图", "一表"],
    "planner": ["一图", "一表", "一库", "方案一览", "亩均评价", "规范管理"],
    "gis": ["一图", "一表", "一库", "数据上传", "方案一览", "亩均评价", "规范管理"],
    "chongfu": ["一图", "一表", "一库", "区块方案", "月报报送", "方案一览", "亩均评价", "规范管理"],
    "reviewer": ["一图", "一表", "一库", "方案审核", "方案一览", "亩均评价", "规范管理"],
    "admin": ["一图", "一表", "一库", "数据上传", "区块方案", "月报报送", "方案审核", "方案一览", "亩均评价",
              "规范管理", "系统管理"],
}
PAGES = {
    None: ["/", "/progress", "/login"],
    "planner": ["/", "/progress", "/workflow/planner", "/enterprises"],
    "gis": ["/#/upload", "/workflow/planner"],
    "chongfu": ["/workflow/officer", "/reporting", "/workflow/planner", "/regulation"],
    "reviewer": ["/workflow/review", "/evaluation"],
    "admin": ["/admin", "/workflow/officer", "/reporting", "/workflow/review", "/#/upload"],
}
READY = {  # what says a page has drawn what it loads
    "/": "body[data-map-state=ready]",
    "/#/upload": "body[data-view=upload]",
    "/progress": "body[data-progress-state=ready]",
    "/workflow/officer": "body[data-ready=true]",
    "/workflow/review": "body[data-ready=true]",
    "/workflow/planner": "#plans tbody tr",
    "/login": "#topbar[data-ready=true]",
    "/admin": "body[data-admin-state=ready]",
    "/reporting": "body[data-reporting-state=ready]",
    "/enterprises": "body[data-enterprises-state=ready]",
    "/evaluation": "body[data-evaluation-state=ready]",
    "/regulation": "body[data-regulation-state=ready]",
}


@pytest.fixture(scope="module")
def site():
    with demo_site("txmap_test_shell") as (live, _engine):
        yield live


def _context(browser, viewport):
    return browser.new_context(viewport=viewport, locale="zh-CN")


def _log_in(page, site: str, username: str) -> None:
    page.goto(site + "/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("button[type=submit]")
    # the login page moves on once the session cookie is set (argon2 may take seconds on a busy machine)
    page.wait_for_url(lambda url: "/login" not in url, timeout=30_000)
    page.wait_for_load_state("networkidle")


def _open(page, site: str, path: str) -> None:
    page.goto(site + path)
    page.locator("#topbar[data-ready=true]").wait_for()
    page.locator(READY[path]).first.wait_for(timeout=30_000)
    page.wait_for_load_state("networkidle")


def test_the_word_scanner_catches_what_it_must():
    assert offending("parcel_area_below_min") == ["parcel_area_below_min"]
    assert offending("请在 mapping 中指定") == ["mapping"]
    assert offending("Zoom in") == ["Zoom", "in"]
    assert "POST /" in offending("用 POST /api/progress/reports 印发")
    assert offending("见 docs/assessment.md") != []
    assert offending('{"detail": 1}') != []
    assert offending("区块 TX2022-CF-01 · 统一社会信用代码 91330483MA2B3C4D5E · CGCS2000 · 5 km · 导出 Excel") == []


@pytest.mark.parametrize("username", list(NAV), ids=lambda u: u or "anonymous")
def test_every_page_shares_the_top_bar_with_the_roles_entries_and_no_english(browser, site, username):
    context = _context(browser, DESKTOP)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    if username:
        _log_in(page, site, username)
    for path in PAGES[username]:
        _open(page, site, path)
        bar = page.locator("#topbar")
        expect(bar.locator(".nav a")).to_have_text(NAV[username])
        if username:
            expect(bar.locator(".who-name")).to_be_visible()
            expect(bar.get_by_role("button", name="退出")).to_be_visible()
            assert username not in bar.locator(".who-name").inner_text()  # a person's name, not a login
        elif path != "/login":
            expect(bar.get_by_role("link", name="登录")).to_be_visible()
        assert page_offending(page) == [], f"{username or '匿名'} {path}"
    assert errors == []
    context.close()


def test_logging_in_from_the_top_bar_comes_back_and_logging_out_stays(browser, site):
    context = _context(browser, DESKTOP)
    page = context.new_page()
    _open(page, site, "/progress")
    page.locator("#topbar").get_by_role("link", name="登录").click()
    page.wait_for_url("**/login?next=*")
    page.fill("input[name=username]", "planner")
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r".*/progress$"))
    page.locator("#topbar[data-ready=true]").wait_for()
    expect(page.locator("#topbar .who-name")).to_contain_text("规划查看（市有机更新办）")
    page.locator("#topbar").get_by_role("button", name="退出").click()
    page.wait_for_url(re.compile(r".*/progress$"))
    page.locator("#topbar[data-ready=true]").wait_for()
    expect(page.locator("#topbar").get_by_role("link", name="登录")).to_be_visible()
    # A page that needs a login sends there, and back after it.
    page.goto(site + "/workflow/review")
    page.wait_for_url("**/login?next=%2Fworkflow%2Freview")
    page.fill("input[name=username]", "reviewer")
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/workflow/review")
    context.close()


def test_logging_in_before_the_top_bar_is_ready_still_logs_in_and_never_puts_the_password_in_the_address(
        browser, site):
    """The login form works while the shell still waits for the session answer (a slow network or a
    busy server); a native submit there sent the password in the query string."""
    context = _context(browser, DESKTOP)
    page = context.new_page()
    held = []
    page.route("**/api/auth/session", lambda route: held.append(route))  # the top bar's question stays unanswered
    addresses: list[str] = []
    page.on("request", lambda req: addresses.append(req.url))
    page.goto(site + "/login?next=/progress")
    page.fill("input[name=username]", "planner")
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r".*/progress$"), timeout=15_000)
    assert held, "the login page's top bar asked for the session and was kept waiting"
    assert not any(DEMO_PASSWORD in url or "password=" in url for url in addresses), addresses
    context.close()


def test_a_page_not_for_the_role_says_so_in_chinese(browser, site):
    context = _context(browser, DESKTOP)
    page = context.new_page()
    _log_in(page, site, "planner")
    page.goto(site + "/workflow/officer")
    expect(page.locator("main .notice")).to_contain_text("当前账号（规划查看）不能使用此页面")
    context.close()


def _no_wider_than_the_screen(page) -> None:
    width = page.evaluate("Math.max(document.documentElement.scrollWidth, document.body.scrollWidth)")
    assert width <= PHONE["width"], f"{page.url} is {width} px wide"


@pytest.mark.parametrize("username", ["planner", "gis", "chongfu", "reviewer", "admin"])
def test_at_phone_size_no_page_is_wider_than_the_screen(browser, site, username, screenshot_dir):
    context = _context(browser, PHONE)
    page = context.new_page()
    _log_in(page, site, username)
    for path in dict.fromkeys(["/", "/progress", *PAGES[username]]):
        _open(page, site, path)
        _no_wider_than_the_screen(page)
        name = re.sub(r"[^a-z]+", "_", path).strip("_") or "map"
        page.screenshot(path=str(screenshot_dir / f"phone_{username}_{name}.png"))
    context.close()


def test_at_phone_size_the_map_fills_the_screen_and_its_panels_are_drawers(browser, site, screenshot_dir):
    context = _context(browser, PHONE)
    page = context.new_page()
    _open(page, site, "/")
    _no_wider_than_the_screen(page)
    box = page.locator("#map").bounding_box()
    assert box["width"] == PHONE["width"] and box["height"] >= PHONE["height"] - 60
    side = page.locator("#side")
    expect(side).to_be_hidden()  # the layer panel starts closed
    legend = page.locator(".legend")
    expect(legend.locator(".legend-body")).to_be_hidden()
    assert legend.bounding_box()["height"] < 60
    expect(page.locator("#search-input")).to_be_visible()
    search = page.locator("#search-input").bounding_box()
    assert search["x"] >= 0 and search["x"] + search["width"] <= PHONE["width"]
    page.screenshot(path=str(screenshot_dir / "phone_map_closed.png"))

    page.get_by_role("button", name="图层").click()
    expect(side).to_be_visible()
    page.screenshot(path=str(screenshot_dir / "phone_map_layers.png"))
    page.keyboard.press("Escape")
    expect(side).to_be_hidden()

    legend.get_by_role("button", name=re.compile("图例")).click()
    expect(legend.locator(".legend-body")).to_be_visible()
    legend.get_by_role("button", name=re.compile("图例")).click()
    expect(legend.locator(".legend-body")).to_be_hidden()

    # The menu folds the navigation away and opens it on demand.
    nav = page.locator("#main-nav")
    expect(nav).to_be_hidden()
    page.get_by_role("button", name="菜单").click()
    expect(nav.get_by_role("link", name="一表")).to_be_visible()
    page.screenshot(path=str(screenshot_dir / "phone_menu.png"))
    page.keyboard.press("Escape")
    expect(nav).to_be_hidden()

    # A block opens as a sheet over the lower part of the map, inside the screen, and closes.
    page.goto(site + "/?block=TX2022-CF-01")
    page.wait_for_function("document.body.dataset.block === 'TX2022-CF-01'", timeout=30_000)
    page.wait_for_timeout(1_500)  # the map flies to the block
    panel = page.locator("#block-panel").bounding_box()
    assert panel["x"] == 0 and panel["width"] == PHONE["width"] and panel["y"] > PHONE["height"] * 0.3
    page.screenshot(path=str(screenshot_dir / "phone_block.png"))
    page.locator("#block-panel button.close").click()
    expect(page.locator("#block-panel")).to_be_hidden()
    context.close()


def test_blocks_are_reachable_by_keyboard_with_names_and_enter_opens_them(browser, site):
    context = _context(browser, DESKTOP)
    page = context.new_page()
    _open(page, site, "/")
    skip = page.locator(".skip-link")
    page.keyboard.press("Tab")
    expect(skip).to_be_focused()
    expect(skip).to_have_text("跳到地图")
    outline = page.get_by_role("button", name=re.compile(r"^区块 .*（TX2022-CF-01，"))
    expect(outline).to_have_count(1)
    outline.focus()
    page.keyboard.press("Enter")
    page.wait_for_function("document.body.dataset.block === 'TX2022-CF-01'", timeout=30_000)
    page.keyboard.press("Escape")
    expect(page.locator("#block-panel")).to_be_hidden()
    expect(outline).to_be_focused()  # focus goes back to the block it came from
    # Leaflet's own controls speak Chinese, and its attribution has no flag.
    expect(page.locator(".leaflet-control-zoom-in")).to_have_attribute("title", "放大")
    expect(page.locator(".leaflet-control-zoom-out")).to_have_attribute("title", "缩小")
    assert "Leaflet" not in page.locator(".leaflet-control-attribution").inner_text()
    assert page.locator(".leaflet-control-attribution svg").count() == 0
    context.close()


def test_search_results_show_no_internal_codes(browser, site):
    context = _context(browser, DESKTOP)
    page = context.new_page()
    _open(page, site, "/")
    page.fill("#search-input", "石门")
    page.keyboard.press("Enter")
    results = page.locator(".search-results")
    expect(results.locator("button.result")).not_to_have_count(0)
    assert "shimen" not in results.inner_text()
    assert page_offending(page) == []
    context.close()


def test_the_spreadsheets_and_the_report_page_have_no_english(site):
    with httpx.Client(base_url=site, timeout=60) as c:
        r = c.post("/api/auth/login", json={"username": "admin", "password": DEMO_PASSWORD})
        assert r.status_code == 200
        c.headers["X-CSRF-Token"] = r.json()["csrf_token"]
        sheets = {
            "月度进度": "/api/progress/monthly.xlsx?year=2022&month=10",
            "整治清退清单": "/api/exports/clearance.xlsx",
            "十剑联动清单": "/api/exports/enforcement.xlsx",
            "区块导出": "/api/blocks/TX2022-CF-01/export?format=xlsx",
        }
        for name, url in sheets.items():
            r = c.get(url)
            assert r.status_code == 200, (name, r.text[:200])
            assert workbook_offending(r.content) == [], name
        preview = c.get("/progress/preview/2022/10")
        assert preview.status_code == 200
        text = re.sub(r"<style.*?</style>|<script.*?</script>|<[^>]+>", " ", preview.text, flags=re.S)
        assert offending(text) == []
