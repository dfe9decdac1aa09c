"""Authorisation matrix of the subsidy ledger and the typical cases: every state-changing endpoint × every
role (and anonymous, and another unit's officer) gets exactly 401, 403 or its 2xx; the reads need an
account. Reuses the workflow matrix's actors and clients."""

from __future__ import annotations

import pytest

from app.subsidies.demo import _png
from tests.app.test_workflow_matrix import ACTORS, _client, stack  # noqa: F401  (stack: the fixture)

WUTONG_ENTERPRISE = "9133048332155419FA"  # on the list of 梧桐百桃工业区块 (认定 2022-06-27)
OWN, ADMIN, REVIEW = {"officer", "admin"}, {"admin"}, {"reviewer", "admin"}
CASE_FORM = [("year", (None, "2025")), ("quarter", (None, "1")), ("block", (None, "TX2022-WT-01")),
             ("held_on", (None, "2025-03-10")), ("notes", (None, "矩阵现场会"))]


class World:
    def __init__(self, login_as):
        self.officer = login_as("unit_officer", unit="wutong")
        self.reviewer = login_as("reviewer")
        self.admin = login_as("admin")

    def applied(self) -> int:
        r = self.officer.post("/api/subsidies/entries", json={
            "enterprise": WUTONG_ENTERPRISE, "applied_on": "2023-01-10", "amount_10k": "50", "basis": "矩阵申请"})
        assert r.status_code == 201, r.text
        return r.json()["id"]

    def approved(self) -> int:
        entry = self.applied()
        r = self.reviewer.post(f"/api/subsidies/entries/{entry}/approve", json={"approved_10k": "40"},
                               headers={"If-Match": "*"})
        assert r.status_code == 200, r.text
        return entry

    def case(self) -> int:
        r = self.admin.post("/api/cases", files=CASE_FORM)
        assert r.status_code == 201, r.text
        return r.json()["id"]


APPLY = {"enterprise": WUTONG_ENTERPRISE, "applied_on": "2023-01-11", "amount_10k": "10", "basis": "申请"}
# (name, allowed actors, success status, method, path template, body, setup → path value)
CASES = [
    ("fund_set", ADMIN, 200, "put", "/api/subsidies/fund", {"name": "有机更新专项扶持资金", "total_10k": "20000"}, None),
    ("apply", OWN, 201, "post", "/api/subsidies/entries", APPLY, None),
    ("approve", REVIEW, 200, "post", "/api/subsidies/entries/{0}/approve", {"approved_10k": "30"}, "applied"),
    ("reject", REVIEW, 200, "post", "/api/subsidies/entries/{0}/reject", {"comment": "材料不全"}, "applied"),
    ("pay", ADMIN, 200, "post", "/api/subsidies/entries/{0}/payments", {"paid_on": "2023-03-01", "amount_10k": "10"},
     "approved"),
    ("case_create", ADMIN, 201, "post", "/api/cases", "CASE_FORM", None),
    ("case_update", ADMIN, 200, "patch", "/api/cases/{0}", {"notes": "改"}, "case"),
    ("case_photos", ADMIN, 200, "post", "/api/cases/{0}/photos", "PHOTOS", "case"),
]


@pytest.mark.parametrize("actor", ACTORS)
@pytest.mark.parametrize(("name", "allowed", "ok", "method", "path", "body", "setup"), CASES, ids=[c[0] for c in CASES])
def test_matrix(name, allowed, ok, method, path, body, setup, actor, login_as, db_session, settings, stack):  # noqa: F811
    world = World(login_as)
    arg = getattr(world, setup)() if setup else None
    client = _client(actor, login_as, settings, db_session, stack)
    url = path.format(arg)
    if body == "CASE_FORM":
        r = client.post(url, files=CASE_FORM)
    elif body == "PHOTOS":
        r = client.post(url, files=[("photos", ("p.png", _png(), "image/png"))], headers={"If-Match": "*"})
    else:
        r = getattr(client, method)(url, json=body, headers={"If-Match": "*"})
    expected = 401 if actor == "anonymous" else ok if actor in allowed else 403
    assert r.status_code == expected, f"{name} as {actor}: {r.status_code} {r.text[:300]}"
    if expected in (401, 403):
        assert r.json()["code"] in {"unauthenticated", "forbidden"}


@pytest.mark.parametrize("actor", ACTORS)
def test_reads_need_an_account(actor, login_as, db_session, settings, stack):  # noqa: F811
    client = _client(actor, login_as, settings, db_session, stack)
    for path in ("/api/subsidies/fund", "/api/subsidies/entries", "/api/subsidies/export.xlsx", "/api/cases",
                 "/api/cases/export.xlsx", "/api/subsidies/blocks/TX2022-WT-01",
                 f"/api/boundary-membership?enterprise={WUTONG_ENTERPRISE}&on=2023-01-10"):
        assert client.get(path).status_code == (401 if actor == "anonymous" else 200), (path, actor)


@pytest.mark.parametrize("actor", ACTORS)
def test_officers_read_their_own_unit(actor, login_as, db_session, settings, stack):  # noqa: F811
    entry = World(login_as).applied()  # a wutong entry
    client = _client(actor, login_as, settings, db_session, stack)
    r = client.get(f"/api/subsidies/entries/{entry}")
    assert r.status_code == {"anonymous": 401, "other_officer": 403}.get(actor, 200), (actor, r.text)
