"""Two simultaneous writes with the same If-Match: one succeeds, the other gets 409 with what changed —
never 500 — on every endpoint that takes If-Match. A real server (uvicorn in a thread) on a database
of its own, real sessions, two HTTP clients released together by a barrier."""

from __future__ import annotations

import threading
from collections.abc import Callable

import httpx
import pytest
from sqlalchemy import create_engine, select, text

from app.auth.service import create_user
from app.core.db import new_session
from app.core.uow import unit_of_work
from app.errors import Conflict
from app.models import Parcel
from app.settings import Settings
from app.workflow.models import GradingRule
from tests.app.live_server import Live
from tests.app.workflow_site import FOUR, SIDE_M, make_site
from tests.conftest import TEST_PASSWORD
from tests.dbutil import demo_database

ACTORS = {"race_officer": ("unit_officer", "wutong"), "race_reviewer": ("reviewer", None),
          "race_admin": ("admin", None)}


class World:
    def __init__(self, url: str, live: Live) -> None:
        self.url, self.live = url, live
        self.engine = create_engine(url)

    def client(self, username: str) -> httpx.Client:
        """A new login session of ``username`` (each thread gets its own)."""
        c = httpx.Client(base_url=self.live.url, timeout=60)
        r = c.post("/api/auth/login", json={"username": username, "password": TEST_PASSWORD})
        assert r.status_code == 200, r.text
        c.headers["X-CSRF-Token"] = r.json()["csrf_token"]
        return c

    def site(self, prefix: str) -> list[str]:
        with new_session(self.engine) as s:
            return make_site(s, "wutong", prefix, [(0, 0), (SIDE_M, 0)], origin=(40_000.0 + 2_000 * len(prefix), 3_380_000.0))


@pytest.fixture(scope="module")
def world():
    with demo_database("txmap_test_race") as url:
        engine = create_engine(url)
        with new_session(engine) as s:
            for name, (role, unit) in ACTORS.items():
                create_user(s, username=name, role=role, password=TEST_PASSWORD, unit_code=unit)
        engine.dispose()
        with Live(Settings(database_url=url)) as live:
            w = World(url, live)
            yield w
            w.engine.dispose()


def released(first: Callable[[], httpx.Response], second: Callable[[], httpx.Response]) -> list[httpx.Response]:
    """Both requests released at once; the answers in the order given."""
    barrier = threading.Barrier(2)
    out: list[httpx.Response | BaseException | None] = [None, None]

    def run(i: int, send: Callable[[], httpx.Response]) -> None:
        barrier.wait()
        try:
            out[i] = send()
        except BaseException as exc:  # noqa: BLE001 - reported below
            out[i] = exc

    threads = [threading.Thread(target=run, args=(i, f)) for i, f in enumerate((first, second))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(90)
    assert all(isinstance(r, httpx.Response) for r in out), out
    return out  # type: ignore[return-value]


def race(first: Callable[[], httpx.Response], second: Callable[[], httpx.Response]) -> list[httpx.Response]:
    """Both requests released at once; the answers sorted by status."""
    return sorted(released(first, second), key=lambda r: r.status_code)


def assert_one_wins(responses: list[httpx.Response], ok: int = 200) -> None:
    codes = [r.status_code for r in responses]
    assert codes == [ok, 409], [(r.status_code, r.text[:300]) for r in responses]
    loser = responses[1].json()
    assert loser["code"] == "conflict" and "已被他人修改" in loser["detail"], loser
    assert loser["errors"], "a 409 lists what was changed, by whom and when"


def _plan(world: World, officer: httpx.Client, code: str, prefix: str) -> str:
    r = officer.post("/api/plans", json={"code": code, "name": f"{code} 并发试验区块", "year": 2023,
                                         "parcels": world.site(prefix), **FOUR})
    assert r.status_code == 201, r.text
    return r.headers["ETag"]


def test_draft_edits(world):
    a, b = world.client("race_officer"), world.client("race_officer")
    etag = _plan(world, a, "TX2023-WT-R1", "RACE-A")
    assert_one_wins(race(
        lambda: a.patch("/api/plans/TX2023-WT-R1/draft", json={"four_east": "东至甲"}, headers={"If-Match": etag}),
        lambda: b.patch("/api/plans/TX2023-WT-R1/draft", json={"four_east": "东至乙"}, headers={"If-Match": etag})))


def test_submits_approve_against_return_revisions_and_stages(world):
    a, b = world.client("race_officer"), world.client("race_officer")
    etag = _plan(world, a, "TX2023-WT-R2", "RACE-B")
    plan = "/api/plans/TX2023-WT-R2"
    assert_one_wins(race(lambda: a.post(f"{plan}/submit", headers={"If-Match": etag}),
                         lambda: b.post(f"{plan}/submit", headers={"If-Match": etag})))
    r1, r2 = world.client("race_reviewer"), world.client("race_reviewer")
    etag = r1.get(plan).headers["ETag"]
    decision = {"doc_no": "桐有更〔2023〕21号", "approval_date": "2023-07-01"}
    assert_one_wins(race(lambda: r1.post(f"{plan}/approve", json=decision, headers={"If-Match": etag}),
                         lambda: r2.post(f"{plan}/return", json={"comment": "请补充"}, headers={"If-Match": etag})))
    if a.get(plan).json()["status"] != "approved":  # the return won: submit again and approve
        etag = a.get(plan).headers["ETag"]
        assert a.post(f"{plan}/submit", headers={"If-Match": etag}).status_code == 200
        assert r1.post(f"{plan}/approve", json=decision).status_code == 200
    etag = a.get(plan).headers["ETag"]
    assert_one_wins(race(lambda: a.post(f"{plan}/stage", json={"stage": "started"}, headers={"If-Match": etag}),
                         lambda: b.post(f"{plan}/stage", json={"stage": "started"}, headers={"If-Match": etag})))
    etag = a.get(plan).headers["ETag"]
    assert_one_wins(race(
        lambda: a.post(f"{plan}/revisions", json={"change_note": "甲"}, headers={"If-Match": etag}),
        lambda: b.post(f"{plan}/revisions", json={"change_note": "乙"}, headers={"If-Match": etag})), ok=201)


def test_enterprise_classification_and_clearance(world):
    admin1, admin2 = world.client("race_admin"), world.client("race_admin")
    with new_session(world.engine) as s:
        code = s.scalar(select(Parcel).where(Parcel.code == world.site("RACE-C")[0])).enterprise.credit_code
    url = f"/api/enterprises/{code}"
    body = {"classification": "clear_out", "reason": "亩均税收低", "decided_on": "2023-02-01"}
    assert admin1.put(f"{url}/classification", json=body).status_code == 200
    etag = admin1.get(url).headers["ETag"]
    assert_one_wins(race(
        lambda: admin1.put(f"{url}/classification", json=body | {"reason": "甲"}, headers={"If-Match": etag}),
        lambda: admin2.put(f"{url}/classification", json=body | {"reason": "乙"}, headers={"If-Match": etag})))
    etag = admin1.get(url).headers["ETag"]
    assert_one_wins(race(
        lambda: admin1.put(f"{url}/clearance", json={"status": "rectifying"}, headers={"If-Match": etag}),
        lambda: admin2.put(f"{url}/clearance", json={"status": "cleared"}, headers={"If-Match": etag})))


def test_grading_thresholds_and_users(world):
    admin1, admin2 = world.client("race_admin"), world.client("race_admin")
    rule = next(r for r in admin1.get("/api/grading").json()["data"] if r["grade"] == "A")
    tax, output = float(rule["min_tax_per_mu_10k"]), float(rule["min_output_per_mu_10k"])
    body = {"min_output_per_mu_10k": output, "suggested_classification": "upgrade"}
    etag = f'"{rule["version"]}"'
    assert_one_wins(race(  # two different changes (the same values again would change nothing)
        lambda: admin1.put("/api/grading/A", json=body | {"min_tax_per_mu_10k": tax + 1}, headers={"If-Match": etag}),
        lambda: admin2.put("/api/grading/A", json=body | {"min_tax_per_mu_10k": tax + 2}, headers={"If-Match": etag})))
    user = next(u for u in admin1.get("/api/users").json()["data"] if u["username"] == "race_reviewer")
    etag = f'"{user["version"]}"'
    assert_one_wins(race(
        lambda: admin1.patch("/api/users/race_reviewer", json={"display_name": "甲"}, headers={"If-Match": etag}),
        lambda: admin2.patch("/api/users/race_reviewer", json={"display_name": "乙"}, headers={"If-Match": etag})))


def test_tenants_inspections_and_credit_records(world):
    a, b = world.client("race_officer"), world.client("race_officer")
    parcel = world.site("RACE-D")[0]
    r = a.post("/api/tenants", json={"parcel": parcel, "lessee": "桐乡某并发租户", "leased_area_m2": 800,
                                     "lease_start": "2022-01-01"})
    assert r.status_code == 201, r.text
    tenant, etag = r.json()["id"], r.headers["ETag"]
    assert_one_wins(race(
        lambda: a.patch(f"/api/tenants/{tenant}", json={"business": "甲"}, headers={"If-Match": etag}),
        lambda: b.patch(f"/api/tenants/{tenant}", json={"business": "乙"}, headers={"If-Match": etag})))
    r = a.post(f"/api/tenants/{tenant}/inspections", json={"inspected_on": "2023-04-01", "inspector": "消防",
                                                           "findings": "通道堵塞"})
    assert r.status_code == 201, r.text
    inspection, etag = r.json()["id"], f'"{r.json()["version"]}"'
    assert_one_wins(race(
        lambda: a.patch(f"/api/inspections/{inspection}", json={"rectification_status": "in_progress"},
                        headers={"If-Match": etag}),
        lambda: b.patch(f"/api/inspections/{inspection}", json={"rectification_status": "in_progress"},
                        headers={"If-Match": etag})))
    with new_session(world.engine) as s:
        code = s.scalar(select(Parcel).where(Parcel.code == parcel)).enterprise.credit_code
    r = a.post("/api/credit-records", json={"project_name": "并发试验项目", "enterprise": code, "year": 2023,
                                            "promised_investment_10k": 1000, "promised_output_10k": 2000,
                                            "promised_tax_10k": 100})
    assert r.status_code == 201, r.text
    record, etag = r.json()["id"], f'"{r.json()["version"]}"'
    assert_one_wins(race(
        lambda: a.patch(f"/api/credit-records/{record}", json={"actual_tax_10k": 80}, headers={"If-Match": etag}),
        lambda: b.patch(f"/api/credit-records/{record}", json={"actual_tax_10k": 90}, headers={"If-Match": etag})))


def test_a_write_that_loses_the_row_version_is_a_409_not_a_500(db_session):
    """The last line of defence (SQLAlchemy's StaleDataError in the unit of work)."""
    rule = db_session.get(GradingRule, "B")
    db_session.execute(text("UPDATE grading_rules SET row_version = row_version + 1 WHERE grade = 'B'"))
    with pytest.raises(Conflict) as caught:
        with unit_of_work(db_session):
            rule.min_tax_per_mu_10k = rule.min_tax_per_mu_10k + 1
    assert caught.value.status_code == 409 and caught.value.code == "conflict"
