"""转让与租赁 under concurrent writes on a real server: two changes of one record made with the same If-Match
(exactly one 200, one 409, the winner's value stored), and one flag referred twice at once (one referral)."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import create_engine, text

from app.auth.service import create_user
from app.core.db import new_session
from app.settings import Settings
from tests.app.live_server import Live
from tests.app.test_concurrency import released
from tests.conftest import TEST_PASSWORD
from tests.dbutil import demo_database


@pytest.fixture(scope="module")
def server():
    with demo_database("txmap_test_market_races") as url:
        engine = create_engine(url)
        with new_session(engine) as s:
            create_user(s, username="race_admin", role="admin", password=TEST_PASSWORD)
            s.commit()
        engine.dispose()
        with Live(Settings(database_url=url, db_lock_timeout_ms=1000)) as live:
            yield live, url


def _client(live: Live) -> httpx.Client:
    c = httpx.Client(base_url=live.url, timeout=60)
    r = c.post("/api/auth/login", json={"username": "race_admin", "password": TEST_PASSWORD})
    assert r.status_code == 200, r.text
    c.headers["X-CSRF-Token"] = r.json()["csrf_token"]
    return c


def test_two_edits_with_one_etag_and_a_flag_referred_twice(server):
    live, url = server
    a, b = _client(live), _client(live)
    try:
        records = a.get("/api/market/records", params={"flagged": "true"}).json()["data"]
        record = records[0]  # the demo's lease by the 整治清退 enterprise (app/market/demo.py)
        rid = record["id"]
        etag = a.get(f"/api/market/records/{rid}").headers["ETag"]
        path = f"/api/market/records/{rid}"
        out = released(lambda: a.patch(path, json={"note": "甲"}, headers={"If-Match": etag}),
                       lambda: b.patch(path, json={"note": "乙"}, headers={"If-Match": etag}))
        codes = sorted(r.status_code for r in out)
        assert codes == [200, 409], [(r.status_code, r.text[:200]) for r in out]
        won = next(i for i, r in enumerate(out) if r.status_code == 200)
        assert a.get(path).json()["note"] == ["甲", "乙"][won]
        flag = next(f for f in record["flags"] if f["kind"] == "clear_out")
        refer = f"/api/market/flags/{flag['id']}/refer"
        out = released(lambda: a.post(refer, json={}), lambda: b.post(refer, json={}))
        codes = sorted(r.status_code for r in out)
        assert codes == [200, 409], [(r.status_code, r.text[:200]) for r in out]
        engine = create_engine(url)
        try:
            with engine.connect() as conn:
                assert conn.execute(text("SELECT count(*) FROM enforcement_referrals r JOIN market_flags f"
                                         " ON f.referral_id = r.id WHERE f.id = :f"), {"f": flag["id"]}).scalar() == 1
                assert conn.execute(text("SELECT count(*) FROM enforcement_referrals WHERE enterprise_id ="
                                         " (SELECT enterprise_id FROM market_flags WHERE id = :f)"),
                                    {"f": flag["id"]}).scalar() == 1
        finally:
            engine.dispose()
    finally:
        a.close()
        b.close()
