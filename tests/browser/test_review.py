"""The leadership group's batch review in headless Chromium: log in, see the submitted plan and
its rule report, approve it with a document number. Runs on a database of its own, because an
approval adds a block that the other tests' counts must not see."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from playwright.sync_api import expect
from sqlalchemy import create_engine

from app.auth.service import create_user
from app.core.db import new_session
from app.main import create_app
from app.settings import Settings
from tests.app.workflow_site import FOUR, SIDE_M, make_site
from tests.browser.conftest import serve
from tests.dbutil import demo_database

pytestmark = pytest.mark.browser

PASSWORD = "review-pass-2022"
PLAN = "TX2023-WT-B1"


@pytest.fixture(scope="module")
def review_site():
    """A submitted two-parcel plan in 梧桐街道 (270 亩, contiguous) on its own database, and a live server."""
    with demo_database("txmap_test_review") as url:
        engine = create_engine(url)
        with new_session(engine, expire_on_commit=False) as session:
            create_user(session, username="officer_wt", role="unit_officer", password=PASSWORD, unit_code="wutong")
            create_user(session, username="leader", role="reviewer", password=PASSWORD)
            session.commit()
            parcels = make_site(session, "wutong", "WT-B", [(0, 0), (SIDE_M, 0)])
        engine.dispose()
        settings = Settings(database_url=url)
        with TestClient(create_app(settings)) as officer:
            r = officer.post("/api/auth/login", json={"username": "officer_wt", "password": PASSWORD})
            officer.headers["X-CSRF-Token"] = r.json()["csrf_token"]
            r = officer.post("/api/plans", json={"code": PLAN, "name": "百桃二期区块", "year": 2023,
                                                 "parcels": parcels, **FOUR})
            assert r.status_code == 201, r.text
            r = officer.post(f"/api/plans/{PLAN}/submit")
            assert r.status_code == 200, r.text
        with serve(settings) as live:
            yield live


def test_reviewer_approves_a_submitted_plan(page, review_site, screenshot_dir):
    page.goto(review_site + "/login?next=/workflow/review")
    page.fill("input[name=username]", "leader")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/workflow/review")
    card = page.locator(f".card[data-code='{PLAN}']")
    card.wait_for(timeout=15_000)
    assert "百桃二期区块" in card.inner_text() and "梧桐街道" in card.inner_text()
    assert "全部规则通过" in card.inner_text()  # the rule report from spatial, shown with the plan
    page.screenshot(path=str(screenshot_dir / "review.png"), full_page=True)

    card.locator("select[name=action]").select_option("approve")
    card.locator("input[name=doc_no]").fill("桐有更〔2023〕5号")
    card.locator("input[name=approval_date]").fill("2023-06-01")
    page.click("#send")
    dialog = page.locator("dialog.confirm")  # nothing is decided before the reviewer confirms the batch
    expect(dialog.locator("li")).to_have_text([f"认定 {PLAN}：桐有更〔2023〕5号（2023-06-01）"])
    dialog.get_by_role("button", name="确定").click()
    page.wait_for_selector("#message .ok", timeout=15_000)
    assert "认定 1 个" in page.locator("#message").inner_text()
    assert page.locator(f".card[data-code='{PLAN}']").count() == 0  # no longer waiting for review

    state = page.evaluate(f"fetch('/api/plans/{PLAN}').then(r => r.json())")
    assert state["status"] == "approved"
