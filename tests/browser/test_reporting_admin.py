"""月报报送 as the administrator sees it, in headless Chromium on real PostGIS: /admin#reporting shows the
current month with every unit 未报送; 崇福镇's officer reports a parcel completed (with a PDF as evidence)
and submits the month from their own page session; the admin sees 已报送 and the report with its
evidence, returns it with a reason (已退回, the reason reaches the officer), moves the month's deadline
(a day before today refused beside the field, a later day with a reason shown); after the officer
submits again the 一表 marks every other unit 未报送, says the month is provisional and names them,
and has no mark for 崇福镇. Desktop 1440×900 and phone 390×844, word scan clean, screenshots in
/tmp/shots/reporting-*.png.

Every date is computed from the server's today (Asia/Shanghai), so the test holds whatever the day."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

from app.auth.service import create_user
from app.core.db import new_session
from tests.browser.words import offending, page_offending
from tests.browser.workflow_ui import in_page, site_with_admin
from tests.conftest import TEST_PASSWORD

pytestmark = pytest.mark.browser

SHOTS = Path("/tmp/shots")
DESKTOP = {"width": 1440, "height": 900}
PHONE = {"width": 390, "height": 844}
OFFICER = ("cf_zhang", "张经办")  # 崇福镇's officer, with a person's name as the pages show it
ADMIN = ("admin_zhao", "赵主任")
OTHER_ADMIN = ("admin_qian", "钱科长")  # another administrator, at work at the same time
REASON = "宗地 验收单缺签章，请补充后重新报送"
MOVE_REASON = "因系统培训顺延三天"

# The evidence links' text: the file names people gave their files (竣工验收单.pdf), not words of the page.
EVIDENCE_LINKS = "a.evidence-link"

# An evidence file sent from the page's own session, as the officer's page does (multipart, CSRF header).
UPLOAD = """async ([name]) => {
  const m = document.cookie.match(/(?:^|; )cloudmap_csrf=([^;]*)/);
  const text = '%PDF-1.4\\n1 0 obj << /Type /Catalog >> endobj\\ntrailer << /Root 1 0 R >>\\n%%EOF\\n';
  const form = new FormData();
  form.append('file', new Blob([new TextEncoder().encode(text)], {type: 'application/pdf'}), name);
  const r = await fetch('/api/progress/evidence', {method: 'POST', body: form,
    headers: {'Accept': 'application/json', 'X-CSRF-Token': m ? decodeURIComponent(m[1]) : ''}});
  return {status: r.status, body: await r.json()};
}"""


@pytest.fixture(scope="module")
def site():
    with site_with_admin("txmap_test_reporting", *ADMIN) as s:
        with new_session(s.engine) as session:
            create_user(session, username=OFFICER[0], role="unit_officer", password=TEST_PASSWORD,
                        display_name=OFFICER[1], unit_code="chongfu")
            create_user(session, username=OTHER_ADMIN[0], role="admin", password=TEST_PASSWORD, display_name=OTHER_ADMIN[1])
            session.commit()
        yield s


def _context(browser, viewport):
    return browser.new_context(viewport=viewport, locale="zh-CN", timezone_id="Asia/Shanghai")


def _log_in(page, site, username: str, path: str) -> None:
    """Log in through /login and come back to ``path`` (whatever the role's own first page is)."""
    page.goto(f"{site.url}/login?next={path}")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", TEST_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(lambda url: urlsplit(url).path == path)  # not /login?next=… itself


def _clean(page) -> None:
    assert page_offending(page, EVIDENCE_LINKS) == []


def _no_sideways_scroll(page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= page.viewport_size["width"]


def _ok(answer: dict, status: int = 200) -> dict:
    assert answer["status"] == status, answer
    return answer["body"]


def _choose_month(page, year: int, month: int) -> None:
    panel = page.locator("#panel-reporting")
    page.select_option("#reporting-year", str(year))
    page.select_option("#reporting-month", str(month))
    expect(panel).to_have_attribute("data-month", str(month))
    expect(panel).to_have_attribute("data-year", str(year))
    expect(panel).to_have_attribute("data-state", "ready")


def _open_admin(page, site, year: int, month: int) -> None:
    page.goto(site.url + "/admin#reporting")
    page.locator("body[data-admin-state=ready]").wait_for()
    expect(page.locator("#panel-reporting")).to_have_attribute("data-state", "ready")
    _choose_month(page, year, month)


def _row(page, unit: str):
    return page.locator(f"#reporting-table tbody tr[data-unit={unit}]")


def _day_text(iso: str, year: int) -> str:
    """A due day the way the 一表 writes it: 12 月 5 日 (with the year when it is another year's)."""
    d = dt.date.fromisoformat(iso)
    return (f"{d.year} 年 " if d.year != year else "") + f"{d.month} 月 {d.day} 日"


def _progress_month(page, site, year: int, month: int) -> None:
    page.goto(site.url + "/progress")
    page.wait_for_selector("body[data-progress-state='ready']", timeout=30_000)
    for sel, value in (("#year", year), ("#month", month)):
        if page.input_value(sel) != str(value):
            page.select_option(sel, str(value))
            page.wait_for_selector("body[data-progress-state='ready']", timeout=30_000)
    expect(page.locator("#monthly-note")).to_contain_text(f"{year} 年 {month} 月")


def test_the_admin_follows_the_months_reports(browser, site):
    SHOTS.mkdir(exist_ok=True)
    errors: list[str] = []
    admin_ctx, officer_ctx = _context(browser, DESKTOP), _context(browser, DESKTOP)
    admin, officer = admin_ctx.new_page(), officer_ctx.new_page()
    for p in (admin, officer):
        p.on("pageerror", lambda exc: errors.append(str(exc)))

    # The officer's own page session; the current month comes from the server's today.
    _log_in(officer, site, OFFICER[0], "/progress")
    opened = _ok(in_page(officer, "/api/progress/reporting/open"))
    today = dt.date.fromisoformat(opened["today"])
    year, month = today.year, today.month
    current = next(m for m in opened["months"] if (m["year"], m["month"]) == (year, month))
    assert current["submission"] is None

    # 1. The admin opens 月报报送 (after 月度通报): the current month, every unit 未报送.
    _log_in(admin, site, ADMIN[0], "/admin")
    admin.locator("body[data-admin-state=ready]").wait_for()
    tabs = admin.locator("#admin-tabs button[role=tab]").evaluate_all("bs => bs.map(b => b.dataset.section)")
    assert tabs.index("reporting") == tabs.index("reports") + 1
    expect(admin.locator("#tab-reporting")).to_have_text("月报报送")
    # From the keyboard: the tab after 月度通报.
    admin.locator("#tab-reports").click()
    admin.keyboard.press("ArrowDown")
    expect(admin.locator("#tab-reporting")).to_be_focused()
    expect(admin.locator("#tab-reporting")).to_have_attribute("aria-selected", "true")
    expect(admin.locator("#panel-reporting")).to_have_attribute("data-state", "ready")
    assert admin.evaluate("location.hash") == "#reporting"
    # It opens on the oldest open month.
    oldest = opened["months"][0]
    expect(admin.locator("#panel-reporting")).to_have_attribute("data-month", str(oldest["month"]))
    _choose_month(admin, year, month)
    rows = admin.locator("#reporting-table tbody tr[data-unit]")
    expect(rows).to_have_count(11)
    assert set(rows.evaluate_all("rs => rs.map(r => r.dataset.status)")) == {"not_submitted"}
    expect(_row(admin, "chongfu").locator(".report-status")).to_have_text("○ 未报送")
    expect(admin.locator("#reporting-count")).to_have_text("已报送 0 / 11 个单位")
    due = dt.date.fromisoformat(current["due_on"])
    expect(admin.locator("#reporting-due")).to_contain_text(f"报送截止：{due.year} 年 {due.month} 月 {due.day} 日")
    expect(admin.locator("#deadline-open")).to_be_visible()
    _clean(admin)

    # 2. The officer reports a parcel completed, with evidence, and submits the month.
    reportable = _ok(in_page(officer, "/api/progress/reportable"))
    parcel = next(p for p in reportable["parcels"] if p["status"] != "completed")
    upload = officer.evaluate(UPLOAD, ["竣工验收单.pdf"])
    assert upload["status"] == 201, upload
    evidence = upload["body"]
    entry = _ok(in_page(officer, "/api/progress/entries", "POST", {
        "parcel_code": parcel["code"], "status": "completed", "happened_on": today.isoformat(),
        "built_floor_area_m2": 12000, "note": "已竣工验收", "evidence": [evidence["id"]]}), 201)
    assert entry["status_label"] == "已完成"
    submission = _ok(in_page(officer, "/api/progress/submissions", "POST",
                             {"year": year, "month": month, "summary": "本月完成 1 宗"}), 201)
    assert submission["status"] == "submitted"

    # 3. The admin reloads: 崇福镇 已报送, by whom, its summary and figures; its report with the evidence.
    _open_admin(admin, site, year, month)
    cf = _row(admin, "chongfu")
    expect(cf).to_have_attribute("data-status", "submitted")
    expect(cf.locator(".report-status")).to_have_text("✓ 已报送")
    expect(cf).to_contain_text(OFFICER[1])
    expect(cf).to_contain_text("本月完成 1 宗")
    expect(admin.locator("#reporting-count")).to_have_text("已报送 1 / 11 个单位")
    cells = cf.locator("td.num").all_inner_texts()
    assert cells[:2] == ["1", "1"], cells
    assert cells[2] == f"{parcel['land_area_mu']:.2f}", (cells, parcel)
    cf.get_by_role("button", name="查看崇福镇的报告").click()
    detail = admin.locator("#reporting-table tr.entries-row[data-entries-of=chongfu]")
    expect(detail).to_have_attribute("data-state", "ready")
    expect(detail).to_have_attribute("data-count", "1")
    expect(detail).to_contain_text(f"宗地 {parcel['code']}")
    expect(detail).to_contain_text("已完成")
    link = detail.locator("a.evidence-link")
    expect(link).to_have_text("竣工验收单.pdf")
    assert link.get_attribute("href") == evidence["url"]
    got = admin.request.get(site.url + evidence["url"])
    assert got.status == 200 and got.body().startswith(b"%PDF")
    # At desktop width the whole table fits its panel, the report open inside it included.
    assert admin.evaluate("(() => { const w = document.querySelector('#reporting-table').parentElement;"
                          " return w.scrollWidth <= w.clientWidth; })()")
    admin.screenshot(path=str(SHOTS / "reporting-admin-desktop.png"), full_page=True)
    _clean(admin)

    # 4. 退回 with a reason, after a confirmation; the row says 已退回 and why; the officer reads the reason.
    cf.get_by_role("button", name="退回崇福镇的月报").click()
    dialog = admin.locator("dialog.confirm")
    expect(dialog).to_be_visible()
    expect(dialog.locator("#confirm-q")).to_contain_text("退回崇福镇")
    dialog.get_by_role("button", name="退回", exact=True).click()  # no reason: the dialog asks for one
    expect(dialog.locator("p.error")).to_contain_text("退回理由")
    dialog.locator("textarea").fill(REASON)
    dialog.get_by_role("button", name="退回", exact=True).click()
    expect(dialog).to_have_count(0)
    expect(admin.locator("#reporting-message")).to_have_text("已退回崇福镇的月报。")
    cf = _row(admin, "chongfu")
    expect(cf).to_have_attribute("data-status", "returned")
    expect(cf.locator(".report-status")).to_have_text("↩ 已退回")
    expect(cf).to_contain_text(f"退回理由：{REASON}")
    expect(cf.get_by_role("button", name="退回崇福镇的月报")).to_have_count(0)
    expect(admin.locator("#reporting-count")).to_have_text("已报送 0 / 11 个单位")
    mine = _ok(in_page(officer, "/api/progress/reporting/open"))
    back = next(m for m in mine["months"] if (m["year"], m["month"]) == (year, month))["submission"]
    assert back["status"] == "returned" and back["return_reason"] == REASON, back

    # 5. 调整截止日: a day before today is refused beside the field; a later day with a reason is shown.
    admin.locator("#deadline-open").click()
    form = admin.locator("#deadline-form")
    expect(form.locator("#deadline-due")).to_have_value(current["due_on"])
    form.locator("#deadline-save").click()
    expect(form.locator("[data-field=reason] .field-error")).to_have_text("请填写调整理由")
    form.locator("#deadline-due").fill((today - dt.timedelta(days=1)).isoformat())
    form.locator("#deadline-reason").fill(MOVE_REASON)
    form.locator("#deadline-save").click()
    expect(form.locator("[data-field=due_on] .field-error")).to_contain_text("截止日不能早于今天")
    expect(form.locator("#deadline-due")).to_have_attribute("aria-invalid", "true")
    assert admin.locator("#panel-reporting").get_attribute("data-state") == "ready"
    later = due + dt.timedelta(days=3)
    form.locator("#deadline-due").fill(later.isoformat())
    form.locator("#deadline-save").click()
    expect(admin.locator("#deadline-editor")).to_be_hidden()
    expect(admin.locator("#reporting-message")).to_have_text(f"截止日已调整为 {later.year} 年 {later.month} 月 {later.day} 日。")
    expect(admin.locator("#reporting-due")).to_contain_text(f"报送截止：{later.year} 年 {later.month} 月 {later.day} 日")
    expect(admin.locator("#reporting-moved")).to_have_text(f"截止日已调整。理由：{MOVE_REASON}")
    overview = _ok(in_page(admin, f"/api/progress/reporting?year={year}&month={month}"))
    assert overview["due_on"] == later.isoformat() and overview["deadline_moved"] is True
    assert overview["deadline_reason"] == MOVE_REASON
    # It holds after a reload.
    _open_admin(admin, site, year, month)
    expect(admin.locator("#reporting-moved")).to_contain_text(MOVE_REASON)
    _clean(admin)

    # 6. The officer submits again; the 一表 of the current month: marks for the others, none for 崇福镇.
    again = _ok(in_page(officer, "/api/progress/submissions", "POST", {"year": year, "month": month, "summary": "已补充签章"}), 201)
    with site.api("test_admin") as api:  # the current year needs a target to be offered on the 一表
        r = api.put(f"/api/progress/targets/chongfu/{year}", json={"contiguous_mu": 100, "scattered_mu": 50})
        assert r.status_code == 200, r.text
    monthly = _ok(in_page(admin, f"/api/progress/monthly?year={year}&month={month}"))
    assert monthly["reporting"]["provisional"] is True and monthly["reporting"]["open"] is True
    assert "崇福镇" not in monthly["reporting"]["not_submitted"]
    assert len(monthly["reporting"]["not_submitted"]) == 10
    _progress_month(admin, site, year, month)
    line = admin.locator("#reporting-line")
    expect(line).to_be_visible()
    expect(line).to_have_text(f"本月报送截止 {_day_text(later.isoformat(), year)}，数字为暂定；尚未报送："
                              + "、".join(monthly["reporting"]["not_submitted"]))
    badges = admin.locator("#monthly tbody tr[data-unit]:not(.total) .report-badge")
    expect(badges).to_have_count(10)
    assert set(badges.all_inner_texts()) == {"○未报送"}
    expect(admin.locator("#monthly tbody tr[data-unit=chongfu] .report-badge")).to_have_count(0)
    expect(admin.locator("#monthly tbody tr[data-unit=wutong] .report-badge")).to_have_attribute("data-status", "not_submitted")
    assert admin.locator("#monthly tbody tr.total .report-badge").count() == 0
    admin.screenshot(path=str(SHOTS / "reporting-progress-desktop.png"), full_page=True)
    admin.locator("section[aria-labelledby=h-monthly]").screenshot(path=str(SHOTS / "reporting-progress-table-desktop.png"))
    _clean(admin)
    # A unit's parcels still open with its name alone (the mark is not part of it).
    admin.locator("#monthly tbody tr[data-unit=wutong]").click()
    expect(admin.locator("#trace h3")).to_contain_text("梧桐街道：")
    expect(admin.locator("#trace h3")).not_to_contain_text("未报送")
    # A closed month of long ago (before 月报 began, 无需报送): no provisional line and no marks.
    _progress_month(admin, site, 2022, 10)
    expect(admin.locator("#reporting-line")).to_be_hidden()
    expect(admin.locator("#monthly tbody .report-badge")).to_have_count(0)

    # 7. A page left open while another administrator returned the report: its 退回 is refused by the
    # server, the refusal is shown and the row reloaded with what happened.
    _open_admin(admin, site, year, month)
    cf = _row(admin, "chongfu")
    expect(cf).to_have_attribute("data-status", "submitted")
    with site.api(OTHER_ADMIN[0]) as other:
        r = other.post(f"/api/progress/submissions/{again['id']}/return", json={"reason": "另一位管理员已退回"})
        assert r.status_code == 200, r.text
    cf.get_by_role("button", name="退回崇福镇的月报").click()
    admin.locator("dialog.confirm textarea").fill(REASON)
    admin.locator("dialog.confirm").get_by_role("button", name="退回", exact=True).click()
    refusal = admin.locator("#reporting-message p.error")
    expect(refusal).to_be_visible()
    assert refusal.inner_text().strip() and offending(refusal.inner_text()) == []
    expect(_row(admin, "chongfu")).to_have_attribute("data-status", "returned")
    expect(_row(admin, "chongfu")).to_contain_text("退回理由：另一位管理员已退回")
    expect(_row(admin, "chongfu")).to_contain_text(f"{OTHER_ADMIN[1]}于")

    # A closed month: said so, and its deadline can no longer be moved.
    _choose_month(admin, 2022, 10)
    expect(admin.locator("#reporting-due")).to_contain_text("已截止，不再接受报送")
    expect(admin.locator("#deadline-open")).to_have_count(0)
    expect(admin.locator("#reporting-table .give-back")).to_have_count(0)
    # December 2023 of the demo: submitted, closed — 已报送 rows but no 退回; 屠甸镇 missed it.
    _choose_month(admin, 2023, 12)
    expect(_row(admin, "chongfu")).to_have_attribute("data-status", "submitted")
    expect(_row(admin, "tudian")).to_have_attribute("data-status", "overdue")
    expect(admin.locator("#reporting-table .give-back")).to_have_count(0)
    _clean(admin)

    officer_ctx.close()
    admin_ctx.close()
    assert errors == []


def test_the_phone_layout(browser, site):
    """At 390×844: the section's rows are cards with their cells named, the report opens inside the
    card, the deadline form fits; the 一表 keeps its line and marks; nothing scrolls sideways."""
    SHOTS.mkdir(exist_ok=True)
    errors: list[str] = []
    ctx = _context(browser, PHONE)
    page = ctx.new_page()
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    _log_in(page, site, ADMIN[0], "/admin")
    page.locator("body[data-admin-state=ready]").wait_for()
    opened = _ok(in_page(page, "/api/progress/reporting/open"))
    today = dt.date.fromisoformat(opened["today"])
    _open_admin(page, site, today.year, today.month)
    cf = _row(page, "chongfu")
    expect(cf).to_be_visible()
    labels = cf.locator("td[data-label]").evaluate_all("cs => cs.map(c => getComputedStyle(c, '::before').content)")
    assert '"状态"' in labels and '"报送时间"' in labels, labels
    assert page.locator("#reporting-table thead").is_hidden()
    cf.locator("button.view-entries").click()
    expect(page.locator("tr.entries-row[data-entries-of=chongfu]")).to_have_attribute("data-state", "ready")
    _no_sideways_scroll(page)
    page.screenshot(path=str(SHOTS / "reporting-admin-phone.png"), full_page=True)
    cf.screenshot(path=str(SHOTS / "reporting-admin-phone-row.png"))
    page.locator("tr.entries-row[data-entries-of=chongfu]").screenshot(path=str(SHOTS / "reporting-admin-phone-report.png"))
    page.locator("#deadline-open").click()
    expect(page.locator("#deadline-form")).to_be_visible()
    box = page.locator("#deadline-reason").bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
    _no_sideways_scroll(page)
    page.screenshot(path=str(SHOTS / "reporting-admin-phone-deadline.png"), full_page=False)
    _clean(page)

    _progress_month(page, site, today.year, today.month)
    expect(page.locator("#reporting-line")).to_be_visible()
    expect(page.locator("#monthly tbody .report-badge").first).to_be_visible()
    _no_sideways_scroll(page)
    page.screenshot(path=str(SHOTS / "reporting-progress-phone.png"), full_page=True)
    page.locator("section[aria-labelledby=h-monthly]").screenshot(path=str(SHOTS / "reporting-progress-table-phone.png"))
    _clean(page)
    ctx.close()
    assert errors == []
