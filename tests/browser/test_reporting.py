"""月报报送 as a town's unit officer does it, in headless Chromium on real PostGIS (the demo data and the
demo accounts): 崇福镇's officer follows 报送进展 from a parcel's popup on the map, reports it 已完成 on
the 1st of this month with a real PDF as evidence, sees the report with its evidence link (the file
comes back as a PDF), submits the month and sees it 已报送 and locked; the 一表 then counts the parcel's
亩 in 崇福镇's 本月完成 and lists it as renewed on the 1st. A text file named .pdf is refused with a
Chinese message naming it, beside the file. The Excel path: the template downloaded, a row filled with
openpyxl, uploaded with its evidence file; a sheet with an unknown parcel code is refused row by row
(named, highlighted, no commit), the corrected one committed. At 390×844 nothing scrolls sideways and
no English or developer word shows. Screenshots in /tmp/shots/officer-reporting-*.png.

Every date is computed from the server's today (Asia/Shanghai), so the test holds whatever the day."""

from __future__ import annotations

import datetime as dt
import io
import re
from pathlib import Path
from types import SimpleNamespace

import httpx
import pytest
from openpyxl import load_workbook
from playwright.sync_api import expect
from sqlalchemy import text

from app.auth.demo import DEMO_PASSWORD
from tests.browser.words import offending, page_offending
from tests.browser.workflow_ui import demo_site, in_page

pytestmark = pytest.mark.browser

SHOTS = Path("/tmp/shots")
DESKTOP = {"width": 1366, "height": 900}
PHONE = {"width": 390, "height": 844}
OFFICER = "chongfu"  # 崇福镇's unit officer (demo account)
# A minimal valid PDF: header, catalog and pages objects, a cross-reference table and trailer.
PDF = (
    b"%PDF-1.4\n"
    b"1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n"
    b"2 0 obj\n<< /Type /Pages /Kids [] /Count 0 >>\nendobj\n"
    b"xref\n0 3\n0000000000 65535 f \n0000000009 00000 n \n0000000058 00000 n \n"
    b"trailer\n<< /Size 3 /Root 1 0 R >>\nstartxref\n110\n%%EOF\n"
)
NOT_A_PDF = "现场情况说明：厂房已拆除，新厂房主体结构完工。\n".encode()

# The names people gave their files (竣工验收单.pdf), wherever the page quotes them: their data, not words
# of the page.
FILE_ELEMENTS = "a.evidence-link, .file-name, .chosen, td.evidence-files"
FILE_NAMES = ["竣工验收单.pdf", "现场情况说明.pdf", "现场照片.pdf", "说明.pdf", "月报报送表.xlsx"]

# The evidence link opened from the page's own session: status, type and first bytes of the file.
OPEN_FILE = """async (href) => {
  const r = await fetch(href);
  const bytes = new Uint8Array(await r.arrayBuffer());
  return {status: r.status, type: r.headers.get('content-type'), head: String.fromCharCode(...bytes.slice(0, 5))};
}"""


@pytest.fixture(scope="module")
def site():
    with demo_site("txmap_test_officer_reporting") as (url, engine):
        yield SimpleNamespace(url=url, engine=engine)


def _context(browser, viewport):
    return browser.new_context(viewport=viewport, locale="zh-CN", timezone_id="Asia/Shanghai", accept_downloads=True)


def _log_in(page, site, path: str) -> None:
    """Log in as 崇福镇's officer through /login and come back to ``path``."""
    page.goto(f"{site.url}/login?next={path}")
    page.fill("input[name=username]", OFFICER)
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"**{path}")


def _ready(page) -> None:
    page.locator("body[data-reporting-state=ready]").wait_for(timeout=30_000)
    expect(page.locator("#reportable")).to_have_attribute("data-state", "ready")


def _clean(page) -> None:
    assert page_offending(page, FILE_ELEMENTS, FILE_NAMES) == []


def _no_sideways_scroll(page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= page.viewport_size["width"]


def _ok(answer: dict, status: int = 200) -> dict:
    assert answer["status"] == status, answer
    return answer["body"]


def _today(page) -> dt.date:
    return dt.date.fromisoformat(_ok(in_page(page, "/api/progress/reporting/open"))["today"])


def _open_parcels(site, count: int, skip: int = 0, before: dt.date | None = None) -> list[dict]:
    """崇福镇 parcels a report can complete on ``before`` (default the 1st of this month): not completed,
    outside any completed block, of a renewal type the 一表 counts, their latest history before that day;
    ordered by code."""
    with site.engine.connect() as conn:
        rows = conn.execute(text("""
            SELECT p.code, p.land_area_mu FROM parcels p JOIN units u ON u.id = p.unit_id
            LEFT JOIN renewal_blocks b ON b.id = p.block_id
            WHERE u.code = 'chongfu' AND p.status <> 'completed' AND p.renewal_type IS NOT NULL
              AND (b.id IS NULL OR b.stage <> 'completed')
              AND NOT EXISTS (SELECT 1 FROM parcel_status_events e WHERE e.parcel_id = p.id
                              AND e.happened_on >= coalesce(CAST(:before AS date),
                                  date_trunc('month', (now() AT TIME ZONE 'Asia/Shanghai'))::date))
            ORDER BY p.block_id IS NOT NULL, p.code
            OFFSET :skip LIMIT :count"""), {"skip": skip, "count": count, "before": before}).mappings().all()
    assert len(rows) == count
    return [dict(r) for r in rows]


def _answer(page, button: str) -> str:
    """Answer the page's confirmation dialog with its action button; returns the question."""
    dialog = page.locator("dialog.confirm")
    expect(dialog).to_be_visible()
    question = dialog.locator("#confirm-q").inner_text()
    dialog.get_by_role("button", name=button, exact=True).click()
    expect(dialog).to_have_count(0)
    return question


def _month_key(day: dt.date) -> str:
    return f"{day.year}-{day.month:02d}"


def _upload_evidence(dialog, name: str, content: bytes, mime: str = "application/pdf") -> None:
    dialog.locator("input[type=file]").set_input_files([{"name": name, "mimeType": mime, "buffer": content}])


def _open_progress(page, site, year: int, month: int, units: tuple[str, ...]) -> None:
    """The 一表 of a month: it offers the years with targets, so the administrator sets this year's first."""
    with httpx.Client(base_url=site.url, timeout=30) as admin:
        login = admin.post("/api/auth/login", json={"username": "admin", "password": DEMO_PASSWORD})
        assert login.status_code == 200, login.text
        admin.headers["X-CSRF-Token"] = login.json()["csrf_token"]
        for unit in units:
            r = admin.put(f"/api/progress/targets/{unit}/{year}", json={"contiguous_mu": 200, "scattered_mu": 100})
            assert r.status_code in (200, 201), r.text
    page.goto(site.url + "/progress")
    page.wait_for_selector("body[data-progress-state='ready']", timeout=30_000)
    for sel, value in (("#year", year), ("#month", month)):
        if page.input_value(sel) != str(value):
            page.select_option(sel, str(value))
            page.wait_for_selector("body[data-progress-state='ready']", timeout=30_000)


def test_a_text_file_named_pdf_is_refused_beside_the_file(browser, site):
    context = _context(browser, DESKTOP)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    parcel = _open_parcels(site, 1, skip=2)[0]
    _log_in(page, site, f"/reporting?parcel={parcel['code']}")
    _ready(page)
    dialog = page.locator("dialog#entry-dialog")
    expect(dialog).to_be_visible()
    expect(dialog.locator("#entry-h")).to_have_text(f"报送进展：宗地 {parcel['code']}")
    dialog.locator("select[name=status]").select_option("completed")

    _upload_evidence(dialog, "现场情况说明.pdf", NOT_A_PDF)
    refused = dialog.locator("#evidence-list li[data-state=refused]")
    expect(refused).to_have_count(1)
    message = refused.locator(".file-state").inner_text()
    assert "现场情况说明.pdf" in message and offending(message.replace("现场情况说明.pdf", "")) == [], message
    # Over the size limit: refused beside that file too (the server's word).
    _upload_evidence(dialog, "现场照片.pdf", PDF + b"0" * (10 * 1024 * 1024 + 1))
    expect(refused).to_have_count(2)
    big = dialog.locator("#evidence-list li[data-file='现场照片.pdf'] .file-state")
    expect(big).to_contain_text("10 MB")
    assert offending(big.inner_text().replace("现场照片.pdf", "")) == []
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / "officer-reporting-refused-file.png"))

    # Completing without a file that was accepted: refused beside the evidence field, nothing written.
    dialog.get_by_role("button", name="保存报送").click()
    expect(dialog).to_have_attribute("data-state", "refused")
    expect(dialog.locator("[data-field=evidence] .field-error")).to_have_count(1)
    _clean(page)
    dialog.get_by_role("button", name="取消").click()
    expect(dialog).to_have_count(0)
    listed = _ok(in_page(page, "/api/progress/reportable"))
    assert next(p for p in listed["parcels"] if p["code"] == parcel["code"])["status"] != "completed"
    assert errors == []
    context.close()


def _template(page) -> tuple[bytes, dict[str, int]]:
    """The downloaded template and where its columns are: the heading row (under the sheet's title lines)
    and each column by the start of its heading."""
    with page.expect_download() as got:
        page.locator("#bulk-template").click()
    content = Path(got.value.path()).read_bytes()
    sheet = load_workbook(io.BytesIO(content)).active
    head = next(r for r in range(1, 10) if any(c.value == "宗地编号" for c in sheet[r]))
    heads = [c.value for c in sheet[head]]
    col = {name: next(i for i, h in enumerate(heads) if h and str(h).startswith(name)) + 1
           for name in ("宗地编号", "新状态", "发生日期", "建成建筑面积", "佐证材料", "说明")}
    col["head"] = head
    return content, col


def _filled(content: bytes, col: dict[str, int], rows: list[dict]) -> bytes:
    """The template with these rows filled (a code not in it is added as a new row at the end)."""
    book = load_workbook(io.BytesIO(content))
    sheet = book.active
    where = {sheet.cell(r, col["宗地编号"]).value: r for r in range(col["head"] + 1, sheet.max_row + 1)}
    for row in rows:
        r = where.get(row["code"]) or sheet.max_row + 1
        sheet.cell(r, col["宗地编号"], row["code"])
        sheet.cell(r, col["新状态"], "已完成")
        sheet.cell(r, col["发生日期"], row["day"].isoformat())
        sheet.cell(r, col["建成建筑面积"], 15000)
        sheet.cell(r, col["佐证材料"], "竣工验收单.pdf")
        sheet.cell(r, col["说明"], "已通过竣工验收")
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _upload_sheet(page, sheet: bytes) -> None:
    page.locator("#bulk-sheet").set_input_files([{"name": "月报报送表.xlsx", "buffer": sheet,
                                                  "mimeType": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}])
    page.locator("#bulk-evidence").set_input_files([{"name": "竣工验收单.pdf", "mimeType": "application/pdf", "buffer": PDF}])
    page.locator("#bulk-upload").click()
    expect(page.locator("#bulk")).to_have_attribute("data-state", "checked")


def test_the_excel_path_refuses_a_bad_row_and_commits_the_good_one(browser, site):
    context = _context(browser, DESKTOP)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    parcel = _open_parcels(site, 1, skip=1)[0]
    _log_in(page, site, "/reporting")
    _ready(page)
    first = _today(page).replace(day=1)
    # The month shown is the one the sheet goes to: the current month.
    page.locator(f".month-card[data-month='{_month_key(first)}'] button.show-month").click()
    expect(page.locator(f".month-card[data-month='{_month_key(first)}']")).to_have_class("month-card selected")
    template, col = _template(page)
    good = {"code": parcel["code"], "day": first}

    # One row of an unknown parcel: named by its row and field, highlighted, the commit withheld.
    _upload_sheet(page, _filled(template, col, [good, {"code": "CF-不存在-999", "day": first}]))
    result = page.locator("#bulk-result")
    expect(result).to_have_attribute("data-can-commit", "false")
    bad = page.locator("#bulk-rows tbody tr.problem")
    expect(bad).to_have_count(1)
    bad_text = bad.inner_text()
    row_no = int(bad.get_attribute("data-row"))
    assert f"第 {row_no} 行" in bad_text and "CF-不存在-999" in bad_text, bad_text
    assert "宗地编号" in bad.locator("td.problems").inner_text()
    expect(page.locator("#bulk-rows tbody tr:not(.problem)[data-row]").filter(has_text=parcel["code"])).to_have_count(1)
    expect(page.locator("#bulk-commit")).to_be_disabled()
    expect(page.locator("#bulk-message")).to_contain_text("有 1 行有问题")
    _clean(page)
    SHOTS.mkdir(exist_ok=True)
    page.locator("#bulk").screenshot(path=str(SHOTS / "officer-reporting-excel-refused.png"))

    # The corrected sheet: checked, then committed after the confirmation.
    _upload_sheet(page, _filled(template, col, [good]))
    expect(result).to_have_attribute("data-can-commit", "true")
    expect(page.locator("#bulk-rows tbody tr.problem")).to_have_count(0)
    expect(page.locator("#bulk-counts")).to_contain_text("可报送 1 行")
    page.locator("#bulk").screenshot(path=str(SHOTS / "officer-reporting-excel-checked.png"))
    page.locator("#bulk-commit").click()
    assert "确认报送这 1 条进展" in _answer(page, "确认报送")
    expect(page.locator("#bulk")).to_have_attribute("data-state", "committed")
    expect(page.locator("#bulk-message")).to_contain_text("已报送 1 条进展")
    row = page.locator(f"#entries-table tbody tr[data-code='{parcel['code']}']")
    expect(row).to_have_count(1)
    expect(row.locator("a.evidence-link")).to_have_text("竣工验收单.pdf")
    expect(page.locator(f"#reportable-table tr[data-code='{parcel['code']}']")).to_have_count(0)  # 仅看未完成

    # 撤回 (while the month is open and not submitted): the parcel is back to what it was.
    row.get_by_role("button", name="撤回").click()
    assert parcel["code"] in _answer(page, "撤回")
    expect(row).to_have_class("withdrawn")
    expect(row.locator(".badge.withdrawn")).to_have_text("已撤回")
    expect(row.get_by_role("button", name="撤回")).to_have_count(0)
    expect(page.locator("#entries-message")).to_contain_text(f"已撤回：宗地 {parcel['code']}")
    expect(page.locator(f"#reportable-table tr[data-code='{parcel['code']}']")).not_to_have_attribute("data-status", "completed")
    _clean(page)
    page.screenshot(path=str(SHOTS / "officer-reporting-withdrawn.png"), full_page=True)
    assert errors == []
    context.close()


def test_news_of_a_closed_month_is_a_late_record(browser, site):
    context = _context(browser, DESKTOP)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    _log_in(page, site, "/reporting")
    _ready(page)
    months = _ok(in_page(page, "/api/progress/reporting/open"))["months"]
    oldest = months[0]
    # The 1st of the month before the first open one: that month's 月报 is closed.
    closed = (dt.date(oldest["year"], oldest["month"], 1) - dt.timedelta(days=1)).replace(day=1)
    parcel = _open_parcels(site, 1, skip=3, before=closed)[0]
    page.goto(f"{site.url}/reporting?parcel={parcel['code']}")
    _ready(page)
    dialog = page.locator("dialog#entry-dialog")
    expect(dialog).to_be_visible()
    dialog.locator("select[name=status]").select_option("completed")
    dialog.locator("input[name=happened_on]").fill(closed.isoformat())
    expect(dialog.locator("[data-field=happened_on] .into")).to_have_text(
        f"该日期所在月份已截止，将作为补报计入 {oldest['label']}。")
    _upload_evidence(dialog, "竣工验收单.pdf", PDF)
    expect(dialog.locator("#evidence-list li[data-state=uploaded]")).to_have_count(1)
    dialog.get_by_role("button", name="保存报送").click()
    expect(dialog).to_have_count(0)
    _ready(page)
    expect(page.locator("#page-message")).to_contain_text(f"已报送：宗地 {parcel['code']} 已完成（补报）")
    key = f"{oldest['year']}-{oldest['month']:02d}"
    expect(page.locator(f".month-card[data-month='{key}']")).to_have_class("month-card selected")
    row = page.locator(f"#entries-table tbody tr[data-code='{parcel['code']}']")
    expect(row).to_have_attribute("data-late", "true")
    expect(row.locator(".badge.late")).to_have_text("补报")
    expect(row).to_contain_text(closed.isoformat())
    _clean(page)
    page.screenshot(path=str(SHOTS / "officer-reporting-late.png"), full_page=True)

    # The 一表 of that first open month says so under its table: 更正与补报, counted from the day recorded.
    year, month = oldest["year"], oldest["month"]
    _open_progress(page, site, year, month, ("chongfu",))
    box = page.locator("#corrections")
    expect(box).to_be_visible()
    expect(box.locator("li", has_text=parcel["code"])).to_have_count(1)
    assert not offending(box.inner_text())
    assert errors == []
    context.close()


def test_an_administrator_reports_for_a_unit_chosen_on_the_page(browser, site):
    context = _context(browser, DESKTOP)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(f"{site.url}/login?next=/reporting")
    page.fill("input[name=username]", "admin")
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/reporting")
    _ready(page)
    expect(page.locator("#unit-pick")).to_be_visible()
    expect(page.locator("#reportable-count")).to_have_text("请先选择要代为报送的单位。")
    page.select_option("#unit-select", "wutong")
    _ready(page)
    page.wait_for_url("**/reporting?unit=wutong")
    expect(page.locator("#reporting-status")).to_contain_text("梧桐街道")
    wutong = _ok(in_page(page, "/api/progress/reportable?unit=wutong"))
    open_rows = [p for p in wutong["parcels"] if p["status"] != "completed"]
    expect(page.locator("#reportable-table tbody tr[data-kind=parcel]")).to_have_count(min(len(open_rows), 50))
    expect(page.locator("#bulk-template")).to_have_attribute("href", re.compile(r"unit=wutong"))
    _clean(page)
    page.screenshot(path=str(SHOTS / "officer-reporting-admin.png"))
    # The map's link for an administrator names the unit too; Escape closes the form and the focus is
    # back on the row's button.
    code = open_rows[0]["code"]
    page.goto(f"{site.url}/reporting?parcel={code}&unit=wutong")
    _ready(page)
    dialog = page.locator("dialog#entry-dialog")
    expect(dialog).to_have_attribute("data-code", code)
    page.keyboard.press("Escape")
    expect(dialog).to_have_count(0)
    assert page.evaluate("document.activeElement.closest('tr')?.dataset.code") == code
    assert errors == []
    context.close()


def test_the_page_on_a_phone(browser, site):
    context = _context(browser, PHONE)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    _log_in(page, site, "/reporting")
    _ready(page)
    SHOTS.mkdir(exist_ok=True)
    _no_sideways_scroll(page)
    _clean(page)
    page.screenshot(path=str(SHOTS / "officer-reporting-phone.png"))
    # 50 rows at a time (仅看未完成 by default), 再显示 brings the rest.
    listed = _ok(in_page(page, "/api/progress/reportable"))
    open_rows = [r for r in listed["parcels"] + listed["blocks"] if r.get("status", r.get("stage")) != "completed"]
    rows = page.locator("#reportable-table tbody tr[data-code]")
    expect(rows).to_have_count(min(50, len(open_rows)))
    if len(open_rows) > 50:
        page.locator("#reportable-show-more").click()
        expect(rows).to_have_count(min(100, len(open_rows)))
    page.locator("#reportable-table tbody tr[data-kind=parcel]").first.scroll_into_view_if_needed()
    _no_sideways_scroll(page)
    page.screenshot(path=str(SHOTS / "officer-reporting-phone-list.png"))
    # The report form fills the screen; a refused file says why in Chinese.
    page.locator("#reportable-table tbody tr[data-kind=parcel] button.report").first.click()
    dialog = page.locator("dialog#entry-dialog")
    expect(dialog).to_be_visible()
    _upload_evidence(dialog, "说明.pdf", NOT_A_PDF)
    expect(dialog.locator("#evidence-list li[data-state=refused]")).to_have_count(1)
    box = dialog.bounding_box()
    assert box["width"] <= PHONE["width"] and box["x"] >= 0
    _clean(page)
    page.screenshot(path=str(SHOTS / "officer-reporting-phone-form.png"))
    dialog.get_by_role("button", name="取消").click()
    expect(dialog).to_have_count(0)
    # The shell's menu carries the page.
    page.locator(".menu-toggle").click()
    expect(page.locator("#main-nav a[data-page=reporting]")).to_have_attribute("aria-current", "page")
    assert errors == []
    context.close()


def test_the_officer_reports_from_the_map_and_submits_the_month(browser, site):
    SHOTS.mkdir(exist_ok=True)
    context = _context(browser, DESKTOP)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    parcel = _open_parcels(site, 1)[0]
    code, area_mu = parcel["code"], float(parcel["land_area_mu"])

    # 1. The map: the parcel's popup has 报送进展 for an officer of its unit.
    _log_in(page, site, "/")
    page.locator("body[data-map-state=ready]").wait_for(timeout=30_000)
    today = _today(page)
    first = today.replace(day=1)
    year, month = first.year, first.month
    before = _ok(in_page(page, f"/api/progress/monthly?year={year}&month={month}"))
    done_before = next(r for r in before["rows"] if r["unit_code"] == "chongfu")["done_month_mu"]
    page.get_by_label("搜索宗地编号、企业名称、信用代码或区块").fill(code)
    page.keyboard.press("Enter")
    page.wait_for_function(f"document.body.dataset.parcel === '{code}'")
    link = page.locator(".leaflet-popup-content a", has_text="报送进展")
    expect(link).to_have_attribute("href", f"/reporting?parcel={code}")
    page.wait_for_function("getComputedStyle(document.querySelector('.leaflet-popup')).opacity === '1'")
    page.screenshot(path=str(SHOTS / "officer-reporting-map-popup.png"))
    link.click()

    # 2. The deep link opens the form for that parcel: today by default, no later day allowed.
    page.wait_for_url(f"**/reporting?parcel={code}")
    _ready(page)
    dialog = page.locator("dialog#entry-dialog")
    expect(dialog).to_be_visible()
    expect(dialog).to_have_attribute("data-code", code)
    day = dialog.locator("input[name=happened_on]")
    expect(day).to_have_value(today.isoformat())
    expect(day).to_have_attribute("max", today.isoformat())
    dialog.locator("select[name=status]").select_option("completed")
    day.fill(first.isoformat())
    expect(dialog.locator("[data-field=happened_on] .into")).to_have_text(f"将计入 {year} 年 {month} 月。")
    dialog.locator("input[name=built_floor_area_m2]").fill("18000")
    dialog.locator("textarea[name=note]").fill("新厂房已通过竣工验收")
    _upload_evidence(dialog, "竣工验收单.pdf", PDF)
    uploaded = dialog.locator("#evidence-list li[data-state=uploaded]")
    expect(uploaded).to_have_count(1)
    expect(uploaded).to_contain_text("已上传")
    page.screenshot(path=str(SHOTS / "officer-reporting-form.png"))
    dialog.get_by_role("button", name="保存报送").click()
    expect(dialog).to_have_count(0)
    _ready(page)
    expect(page.locator("#page-message")).to_contain_text(f"已报送：宗地 {code} 已完成")

    # 3. The month's reports: the parcel, its evidence link (the PDF itself), 撤回 while open.
    card = page.locator(f".month-card[data-month='{_month_key(first)}']")
    expect(card).to_have_class("month-card selected")
    row = page.locator(f"#entries-table tbody tr[data-code='{code}']")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("已完成")
    expect(row).to_contain_text(first.isoformat())
    expect(row.get_by_role("button", name="撤回")).to_have_count(1)
    evidence = row.locator("a.evidence-link")
    expect(evidence).to_have_text("竣工验收单.pdf")
    opened = page.evaluate(OPEN_FILE, evidence.get_attribute("href"))
    assert opened["status"] == 200 and opened["type"].startswith("application/pdf") and opened["head"] == "%PDF-", opened
    expect(page.locator(f"#reportable-table tr[data-code='{code}']")).to_have_attribute("data-status", "completed")
    _clean(page)
    page.screenshot(path=str(SHOTS / "officer-reporting-reported.png"), full_page=True)

    # 4. 提交月报 after the confirmation: 已报送, and the month is locked (no 撤回, no upload).
    card.locator("textarea[name=summary]").fill("本月完成宗地一宗，已附竣工验收单。")
    card.locator("button.submit-month").click()
    assert f"{year} 年 {month} 月" in _answer(page, "提交")
    expect(card).to_have_attribute("data-status", "submitted")
    expect(card.locator(".badge")).to_contain_text("已报送")
    expect(card.locator(".locked")).to_be_visible()
    expect(card.locator("button.submit-month")).to_have_count(0)
    expect(row.get_by_role("button", name="撤回")).to_have_count(0)
    expect(page.locator("#bulk-upload")).to_be_disabled()
    opened_months = _ok(in_page(page, "/api/progress/reporting/open"))["months"]
    mine = next(m for m in opened_months if (m["year"], m["month"]) == (year, month))
    assert mine["submission"]["status"] == "submitted"
    _clean(page)
    page.screenshot(path=str(SHOTS / "officer-reporting-submitted.png"), full_page=True)

    # 5. The 一表 counts it: the parcel's 亩 in 崇福镇's 本月完成, the parcel renewed on the 1st.
    after = _ok(in_page(page, f"/api/progress/monthly?year={year}&month={month}"))
    done_after = next(r for r in after["rows"] if r["unit_code"] == "chongfu")["done_month_mu"]
    assert round(done_after - done_before, 2) == round(area_mu, 2), (done_before, done_after, area_mu)
    trace = _ok(in_page(page, f"/api/progress/parcels?unit=chongfu&year={year}&month={month}"))
    listed = next(p for p in trace["parcels"] if p["code"] == code)
    assert listed["renewed_on"] == first.isoformat()
    # The 一表 offers the years with targets: the administrator has set this year's (as every January).
    _open_progress(page, site, year, month, ("chongfu", "wutong"))
    cell = page.locator("#monthly tbody tr[data-unit=chongfu] td:nth-child(4)")
    assert float(cell.inner_text().replace(",", "")) == pytest.approx(done_after)
    page.screenshot(path=str(SHOTS / "officer-reporting-progress.png"))

    # 6. The office returns the month with a reason: the page shows it and reporting is open again.
    reason = "竣工验收单缺少签章，请补充后重新提交"
    with httpx.Client(base_url=site.url, timeout=30) as admin:
        login = admin.post("/api/auth/login", json={"username": "admin", "password": DEMO_PASSWORD})
        admin.headers["X-CSRF-Token"] = login.json()["csrf_token"]
        back = admin.post(f"/api/progress/submissions/{mine['submission']['id']}/return", json={"reason": reason})
        assert back.status_code == 200, back.text
    page.goto(site.url + "/reporting")
    _ready(page)
    page.locator(f".month-card[data-month='{_month_key(first)}'] button.show-month").click()
    expect(card).to_have_attribute("data-status", "returned")
    expect(card.locator(".badge")).to_contain_text("已退回")
    expect(card.locator(".returned .reason")).to_have_text(f"退回原因：{reason}")
    expect(row.get_by_role("button", name="撤回")).to_have_count(1)
    expect(page.locator("#bulk-upload")).to_be_enabled()
    _clean(page)
    page.screenshot(path=str(SHOTS / "officer-reporting-returned.png"), full_page=True)
    card.locator("button.submit-month").click()
    _answer(page, "提交")
    expect(card).to_have_attribute("data-status", "submitted")

    # 7. On a phone, the submitted month reads the same and nothing scrolls sideways.
    phone = _context(browser, PHONE)
    small = phone.new_page()
    small.on("pageerror", lambda exc: errors.append(str(exc)))
    _log_in(small, site, "/reporting")
    _ready(small)
    small.locator(f".month-card[data-month='{_month_key(first)}'] button.show-month").click()
    expect(small.locator(f"#entries-table tbody tr[data-code='{code}']")).to_have_count(1)
    _no_sideways_scroll(small)
    _clean(small)
    small.screenshot(path=str(SHOTS / "officer-reporting-phone-submitted.png"), full_page=True)
    phone.close()
    assert errors == []
    context.close()


def test_the_map_offers_reporting_only_to_the_parcels_own_unit(browser, site):
    """梧桐街道's officer reads a 崇福镇 parcel on the map: no 报送进展 (the server would refuse it anyway)."""
    context = _context(browser, DESKTOP)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    code = _open_parcels(site, 1, skip=4)[0]["code"]
    page.goto(f"{site.url}/login?next=/")
    page.fill("input[name=username]", "wutong")
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/")
    page.locator("body[data-map-state=ready]").wait_for(timeout=30_000)
    page.get_by_label("搜索宗地编号、企业名称、信用代码或区块").fill(code)
    page.keyboard.press("Enter")
    page.wait_for_function(f"document.body.dataset.parcel === '{code}'")
    expect(page.locator(".leaflet-popup-content h3")).to_have_text(f"宗地 {code}")
    expect(page.locator(".leaflet-popup-content a", has_text="报送进展")).to_have_count(0)
    assert errors == []
    context.close()
