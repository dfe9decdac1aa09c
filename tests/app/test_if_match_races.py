"""Two writes with the same If-Match released together on the If-Match endpoints that
tests/app/test_concurrency.py does not race (action plans, annual targets, the evaluation's
configuration): exactly one 2xx and one 409, never a 500, and what is stored is the winner's.
A real server on a demo database of its own; a barrier releases the two threads at once."""

from __future__ import annotations

from collections.abc import Callable

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

PLAN = {
    "doc_no": "桐政办发〔2027〕9号", "title": "桐乡市工业园区有机更新行动计划（2027—2029年）",
    "start_year": 2027, "end_year": 2029,
    "target_total_mu": 9000, "target_new_floor_area_m2": 6_000_000, "target_average_far": 2.2,
    "min_block_mu": 150, "max_blocks_per_unit_per_year": 3, "min_parcel_mu": 15, "min_far": 2.2,
    "min_merged_parcel_mu": 15, "tolerance_m": 40,
}
YEAR = 2032
LOCK_TIMEOUT_MS = 1000  # a loser waits this long at most for the winner's row lock, then 409


@pytest.fixture(scope="module")
def server():
    with demo_database("txmap_test_ifmatch") as url:
        engine = create_engine(url)
        with new_session(engine) as s:
            create_user(s, username="ifmatch_admin", role="admin", password=TEST_PASSWORD)
            s.commit()
        engine.dispose()
        with Live(Settings(database_url=url, db_lock_timeout_ms=LOCK_TIMEOUT_MS)) as live:
            yield live


def _client(server: Live) -> httpx.Client:
    c = httpx.Client(base_url=server.url, timeout=60)
    r = c.post("/api/auth/login", json={"username": "ifmatch_admin", "password": TEST_PASSWORD})
    assert r.status_code == 200, r.text
    c.headers["X-CSRF-Token"] = r.json()["csrf_token"]
    return c


@pytest.fixture(scope="module")
def admins(server):
    a, b = _client(server), _client(server)
    yield a, b
    a.close()
    b.close()


def race(first: Callable[[], httpx.Response], second: Callable[[], httpx.Response]) -> tuple[int, list[httpx.Response]]:
    """Both released at once: (index of the 2xx one, the answers in order)."""
    out = released(first, second)
    codes = sorted(r.status_code for r in out)  # type: ignore[union-attr]
    assert codes[0] // 100 == 2 and codes[1] == 409, [(r.status_code, r.text[:300]) for r in out]  # type: ignore[union-attr]
    loser = next(r for r in out if r.status_code == 409)  # type: ignore[union-attr]
    assert loser.json()["code"] == "conflict", loser.text
    return next(i for i, r in enumerate(out) if r.status_code // 100 == 2), out  # type: ignore[union-attr, return-value]


def test_action_plan_edits(admins):
    a, b = admins
    r = a.post("/api/action-plans", json=PLAN)
    assert r.status_code == 201, r.text
    url, etag = f"/api/action-plans/{r.json()['id']}", r.headers["ETag"]
    titles = [PLAN["title"] + "（甲）", PLAN["title"] + "（乙）"]
    won, _ = race(lambda: a.put(url, json=PLAN | {"title": titles[0]}, headers={"If-Match": etag}),
                  lambda: b.put(url, json=PLAN | {"title": titles[1]}, headers={"If-Match": etag}))
    assert a.get(url).json()["title"] == titles[won]


def test_a_row_locked_longer_than_the_lock_timeout_is_a_409_not_a_wait(admins, server):
    a, _ = admins
    plan = PLAN | {"doc_no": "桐政办发〔2030〕1号", "title": "桐乡市工业园区有机更新行动计划（2030—2032年）",
                   "start_year": 2030, "end_year": 2032}
    r = a.post("/api/action-plans", json=plan)
    assert r.status_code == 201, r.text
    plan_id, etag = r.json()["id"], r.headers["ETag"]
    engine = create_engine(server.app.state.settings.database_url)
    try:
        with engine.begin() as conn:  # another writer holds the row
            conn.execute(text("SELECT 1 FROM action_plans WHERE id = :id FOR UPDATE"), {"id": plan_id})
            r = a.put(f"/api/action-plans/{plan_id}", json=plan | {"title": "锁等待"}, headers={"If-Match": etag})
    finally:
        engine.dispose()
    assert r.status_code == 409 and r.json()["code"] == "conflict", r.text
    assert a.get(f"/api/action-plans/{plan_id}").json()["title"] == plan["title"]


def test_annual_targets(admins):
    a, b = admins
    url = f"/api/progress/targets/fengming/{YEAR}"
    r = a.put(url, json={"contiguous_mu": 10, "scattered_mu": 10})
    assert r.status_code == 200, r.text
    etag = r.headers["ETag"]
    won, _ = race(lambda: a.put(url, json={"contiguous_mu": 11, "scattered_mu": 10}, headers={"If-Match": etag}),
                  lambda: b.put(url, json={"contiguous_mu": 12, "scattered_mu": 10}, headers={"If-Match": etag}))
    rows = a.get("/api/progress/targets", params={"year": YEAR}).json()["units"]
    stored = next(u for u in rows if u["unit_code"] == "fengming")
    assert stored["target"]["contiguous_mu"] == [11, 12][won], stored


def test_evaluation_configuration(admins):
    a, b = admins
    url = f"/api/evaluation/{YEAR}/config"
    config = a.get(url).json()["config"]
    r = a.put(url, json={"config": config})
    assert r.status_code == 200, r.text
    etag = r.headers["ETag"]
    first, second = (_weighted(config, w) for w in (60, 50))
    won, _ = race(lambda: a.put(url, json={"config": first}, headers={"If-Match": etag}),
                  lambda: b.put(url, json={"config": second}, headers={"If-Match": etag}))
    stored = a.get(url).json()["config"]["groups"][0]["indicators"]
    assert [i["weight"] for i in stored] == [i["weight"] for i in (first, second)[won]["groups"][0]["indicators"]]


def _weighted(config: dict, top: int) -> dict:
    """The configuration with the first group's weights changed (they still add up to 100)."""
    groups = [dict(g) for g in config["groups"]]
    indicators = [dict(i) for i in groups[0]["indicators"]]
    rest = (100 - top) // (len(indicators) - 1)
    for k, i in enumerate(indicators):
        i["weight"] = top if k == 0 else rest
    indicators[-1]["weight"] += 100 - top - rest * (len(indicators) - 1)
    groups[0] = {**groups[0], "indicators": indicators}
    return {**config, "groups": groups}
