"""What the workflow pages' browser tests share: a demo database of their own with the standing
actors and a live server, test parcels at a spot of their own, logging in through /login, the
page's own fetch, the editor's parcel box, the live report's settling, the confirmation dialog."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import httpx
from playwright.sync_api import expect
from sqlalchemy import create_engine, update
from sqlalchemy.engine import Engine

from app.auth.demo import seed_demo_users
from app.auth.service import create_user
from app.core.db import new_session
from app.models import Parcel
from app.settings import Settings
from tests.app.workflow_site import ORIGIN_X, ORIGIN_Y, SIDE_M, make_site
from tests.browser.conftest import serve
from tests.conftest import STANDING_ACTORS, TEST_PASSWORD, _default_username
from tests.dbutil import demo_database

# ``fetch`` from inside the page with the page's own session and CSRF cookie, as api.js does.
FETCH = """async ([path, method, body, ifMatch]) => {
  const m = document.cookie.match(/(?:^|; )cloudmap_csrf=([^;]*)/);
  const headers = {"Accept": "application/json", "Content-Type": "application/json"};
  if (method !== "GET") headers["X-CSRF-Token"] = m ? decodeURIComponent(m[1]) : "";
  if (ifMatch) headers["If-Match"] = ifMatch;
  const r = await fetch(path, {method, headers, body: body === null ? undefined : JSON.stringify(body)});
  return {status: r.status, body: r.status === 204 ? null : await r.json()};
}"""



@dataclass
class Site:
    url: str
    engine: Engine

    def parcels(self, unit: str, prefix: str, count: int, slot: int) -> list[str]:
        """``count`` 300 m × 300 m parcels (135 亩 each) side by side, at a spot of their own (``slot``)."""
        return self.parcels_at(unit, prefix, [(k * SIDE_M, 0) for k in range(count)], slot)

    def parcels_at(self, unit: str, prefix: str, offsets: list[tuple[float, float]], slot: int,
                   without_enterprise: int = 0) -> list[str]:
        """300 m boxes at ``offsets`` (metres) at spot ``slot``; the first ``without_enterprise`` of them
        have no enterprise."""
        with new_session(self.engine, expire_on_commit=False) as session:
            codes = make_site(session, unit, prefix, offsets, origin=(ORIGIN_X, ORIGIN_Y + slot * 5_000.0))
            if without_enterprise:
                session.execute(update(Parcel).where(Parcel.code.in_(codes[:without_enterprise]))
                                .values(enterprise_id=None))
                session.commit()
            return codes

    @contextmanager
    def api(self, username: str) -> Iterator[httpx.Client]:
        """An API client of the live server logged in as ``username`` (for setting up and cross-checking)."""
        with httpx.Client(base_url=self.url, timeout=30) as c:
            r = c.post("/api/auth/login", json={"username": username, "password": TEST_PASSWORD})
            assert r.status_code == 200, r.text
            c.headers["X-CSRF-Token"] = r.json()["csrf_token"]
            yield c


@contextmanager
def live_site(prefix: str) -> Iterator[Site]:
    """The demo data on a database of its own, the standing actors' accounts in it, and a live server."""
    with demo_database(prefix) as url:
        engine = create_engine(url)
        with new_session(engine) as session:
            for role, unit in STANDING_ACTORS:
                create_user(session, username=_default_username(role, unit), role=role, password=TEST_PASSWORD,
                            unit_code=unit)
            session.commit()
        try:
            with serve(Settings(database_url=url)) as live:
                yield Site(live, engine)
        finally:
            engine.dispose()


@contextmanager
def site_with_admin(prefix: str, username: str, display_name: str) -> Iterator[Site]:
    """``live_site`` with an administrator of a person's (Chinese) name, as the admin pages show it."""
    with live_site(prefix) as site:
        with new_session(site.engine) as session:
            create_user(session, username=username, role="admin", password=TEST_PASSWORD, display_name=display_name)
            session.commit()
        yield site


@contextmanager
def demo_site(prefix: str) -> Iterator[tuple[str, Engine]]:
    """The demo data and the demo accounts (Chinese names, the demo password) on a database of its own,
    and a live server: (its URL, an engine on its database)."""
    with demo_database(prefix) as url:
        engine = create_engine(url)
        with new_session(engine) as session:
            seed_demo_users(session)
            session.commit()
        try:
            with serve(Settings(database_url=url)) as live:
                yield live, engine
        finally:
            engine.dispose()


def zh_context(browser, viewport):
    """A browser context as the programme's users have one: Chinese, Tongxiang's time zone."""
    return browser.new_context(viewport=viewport, locale="zh-CN", timezone_id="Asia/Shanghai")


def demo_log_in(page, url: str, username: str, path: str) -> None:
    """Log in as a demo user through /login (coming back to the 规范管理 page), then open ``path``
    (a hash of that page, e.g. /regulation#admission/new)."""
    from app.auth.demo import DEMO_PASSWORD

    page.goto(f"{url}/login?next=/regulation")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(lambda u: "/login" not in u)
    page.goto(f"{url}{path}")


def log_in(page, site: Site, username: str, lands_on: str) -> None:
    """Log in through the real /login page; without ``next`` it sends each role to its own page."""
    page.goto(site.url + "/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", TEST_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**" + lands_on)


def in_page(page, path: str, method: str = "GET", body=None, if_match: str | None = None) -> dict:
    return page.evaluate(FETCH, [path, method, body, if_match])


def plan_row(page, code: str):
    return page.locator("#plans tbody tr").filter(has=page.get_by_role("cell", name=code, exact=True))


def add_by_code(page, codes: list[str]) -> None:
    """Add parcels through the editor's 按编号添加宗地 box (the clerk's paste of a list)."""
    box = page.locator("#by-code")
    box.locator("textarea[name=codes]").fill("\n".join(codes))
    box.get_by_role("button", name="添加").click()


def report_settled(page) -> None:
    """Wait until the live rule report has answered the editor's latest change (aria-busy is set from
    the change until that answer is in)."""
    page.wait_for_function("""() => {
      const body = document.querySelector('#live-report .body');
      return !body.hasAttribute('aria-busy') && body.querySelector('[data-testid=verdict], .hint, .error');
    }""")


def fill_draft(page, *, code: str, name: str, year: int, parcels: list[str], four: dict[str, str]) -> None:
    page.locator("body[data-ready=true]").wait_for()
    form = page.locator("#draft")
    form.locator("input[name=code]").fill(code)
    form.locator("input[name=name]").fill(name)
    form.locator("input[name=year]").fill(str(year))
    add_by_code(page, parcels)
    expect(page.locator("#parcel-list tbody tr")).to_have_count(len(parcels))
    report_settled(page)
    for side, text in four.items():
        form.locator(f"input[name={side}]").fill(text)
    report_settled(page)


def confirm(page, *, ok: bool = True, text: str | None = None) -> str:
    """Answer the page's confirmation dialog; returns its question."""
    dialog = page.locator("dialog.confirm")
    expect(dialog).to_be_visible()
    question = dialog.locator("#confirm-q").inner_text()
    if text is not None:
        dialog.locator("textarea").fill(text)
    dialog.get_by_role("button", name="确定" if ok else "取消").click()
    expect(dialog).to_have_count(0)
    return question
