"""Authorisation matrix of the 转让与租赁 endpoints: every state-changing endpoint × every role (and anonymous, and
another unit's officer) gets exactly 401, 403 or its 2xx; and who may read the register."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from openpyxl import Workbook
from sqlalchemy import select

from app.models import Parcel
from tests.app.test_workflow_matrix import ACTORS, _client, stack  # noqa: F401  (stack is a fixture)
from tests.app.workflow_site import FOUR, SIDE_M, make_site

TODAY = dt.date.today().isoformat()
OWN, REFER = {"officer", "admin"}, {"officer", "admin", "reviewer"}
# A sheet with another unit's parcels is refused row by row (the row's problem names the unit), not with 403.
OTHER_UNIT_SHEET = {"import_dry_run": 200, "import_commit": 422}


class World:
    def __init__(self, login_as, db_session):
        self.officer = login_as("unit_officer", unit="wutong")
        self.admin = login_as("admin")
        self.parcels = make_site(db_session, "wutong", "WT-MM", [(0, 0), (SIDE_M, 0)])
        self.owner = db_session.scalar(select(Parcel).where(Parcel.code == self.parcels[0])).enterprise
        r = self.officer.post("/api/plans", json={"code": "TX2023-WT-MM", "name": "矩阵区块", "year": 2023,
                                                  "parcels": self.parcels, **FOUR})
        assert r.status_code == 201, r.text
        r = self.officer.post("/api/plans/TX2023-WT-MM/submit")
        assert r.status_code == 200, r.text
        r = self.admin.post("/api/plans/TX2023-WT-MM/approve", json={"doc_no": "桐有更〔2023〕7号",
                                                                      "approval_date": TODAY})
        assert r.status_code == 200, r.text

    def body(self) -> dict:
        return {"kind": "lease", "parcels": [self.parcels[0]], "signed_on": TODAY, "from_name": self.owner.name,
                "from_credit_code": self.owner.credit_code, "to_name": "矩阵承租厂", "lease_start": TODAY,
                "area_m2": 600, "area_basis": "floor"}

    def record(self) -> int:
        r = self.officer.post("/api/market/records", json=self.body())
        assert r.status_code == 201, r.text
        return r.json()["id"]

    def clear_out_flag(self) -> int:
        r = self.admin.put(f"/api/enterprises/{self.owner.credit_code}/classification",
                           json={"classification": "clear_out", "reason": "低效", "decided_on": "2023-02-01"})
        assert r.status_code == 200, r.text
        r = self.officer.post("/api/market/records", json=self.body())
        return next(f["id"] for f in r.json()["flags"] if f["kind"] == "clear_out")

    def sheet(self) -> bytes:
        wb = Workbook()
        wb.active.append(["类型", "宗地编号", "签订日期", "出租方", "承租方"])
        wb.active.append(["出租", self.parcels[1], TODAY, self.owner.name, "矩阵乙厂"])
        out = io.BytesIO()
        wb.save(out)
        return out.getvalue()


CASES = [
    ("record_create", OWN, 201, "post", "/api/market/records", "BODY", None),
    ("record_update", OWN, 200, "patch", "/api/market/records/{0}", {"note": "改"}, "record"),
    ("record_delete", OWN, 204, "delete", "/api/market/records/{0}", None, "record"),
    ("flag_refer", REFER, 200, "post", "/api/market/flags/{0}/refer", {}, "clear_out_flag"),
    ("register_tenant", OWN, 201, "post", "/api/market/records/{0}/tenant", {}, "record"),
    ("import_dry_run", OWN, 200, "post", "/api/market/imports?dry_run=true", "SHEET", None),
    ("import_commit", OWN, 200, "post", "/api/market/imports?dry_run=false", "SHEET", None),
]


@pytest.mark.parametrize("actor", ACTORS)
@pytest.mark.parametrize(("name", "allowed", "ok", "method", "path", "body", "setup"), CASES, ids=[c[0] for c in CASES])
def test_matrix(name, allowed, ok, method, path, body, setup, actor, login_as, db_session, settings, stack):  # noqa: F811
    world = World(login_as, db_session)
    arg = getattr(world, setup)() if setup else None
    client = _client(actor, login_as, settings, db_session, stack)
    url = path.format(arg)
    if body == "SHEET":
        r = client.post(url, files={"file": ("a.xlsx", world.sheet(), "application/octet-stream")})
    elif method == "delete":
        r = client.delete(url, headers={"If-Match": "*"})
    else:
        r = client.request(method.upper(), url, json=world.body() if body == "BODY" else body,
                           headers={"If-Match": "*"})
    expected = 401 if actor == "anonymous" else ok if actor in allowed else 403
    if actor == "other_officer" and name in OTHER_UNIT_SHEET:
        expected = OTHER_UNIT_SHEET[name]
        assert "梧桐街道" in r.text
    assert r.status_code == expected, f"{name} as {actor}: {r.status_code} {r.text[:300]}"
    if expected in (401, 403):
        assert r.json()["code"] in {"unauthenticated", "forbidden"}


@pytest.mark.parametrize("actor", ACTORS)
def test_readers(actor, login_as, db_session, settings, stack):  # noqa: F811
    world = World(login_as, db_session)
    rid = world.record()
    client = _client(actor, login_as, settings, db_session, stack)
    listed = client.get("/api/market/records", params={"block": "TX2023-WT-MM"})
    one = client.get(f"/api/market/records/{rid}")
    flags = client.get("/api/market/flags")
    if actor == "anonymous":
        assert {listed.status_code, one.status_code, flags.status_code} == {401}
    elif actor == "gis_staff":
        assert {listed.status_code, one.status_code, flags.status_code} == {403}
    else:
        assert listed.status_code == 200 and flags.status_code == 200
        own_unit = actor != "other_officer"
        assert listed.json()["count"] == (1 if own_unit else 0)
        assert one.status_code == (200 if own_unit else 403)
