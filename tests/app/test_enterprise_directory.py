"""一库 directory (GET /api/enterprises) and the register fields of GET /api/enterprises/{credit_code},
on real PostGIS with the demo data: filters (name or code with % and _ taken literally, 镇街, 规模,
行业 prefix, 评价分类, 信用代码待补充), paging and its bounds, who may read it, the extended view."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.enums import EnterpriseScale
from app.models import Enterprise, Parcel, Unit
from tests.app.workflow_site import make_site

URL = "/api/enterprises"
PREFIX = "一库目录"


@pytest.fixture()
def site(db_session):
    """Three parcels of 崇福镇, each with its enterprise; the first two get register fields; one name-only
    enterprise with a % and an _ in its name."""
    codes = make_site(db_session, "chongfu", PREFIX, [(0, 0), (300, 0), (600, 0)], origin=(3_950_000.0, 3_390_000.0))
    chongfu = db_session.scalar(select(Unit).where(Unit.code == "chongfu"))
    wutong = db_session.scalar(select(Unit).where(Unit.code == "wutong"))
    ents = [db_session.scalar(select(Enterprise).join(Parcel).where(Parcel.code == c)) for c in codes]
    ents[0].industry_code, ents[0].industry_name, ents[0].scale = "C1713", "棉印染精加工", EnterpriseScale.ABOVE
    ents[0].production_year, ents[0].address, ents[0].unit_id = 2012, "崇福镇工业园区 1 号", chongfu.id
    ents[0].evaluation_grade, ents[0].evaluation_year = "B", 2023
    ents[1].industry_code, ents[1].scale, ents[1].unit_id = "C3311", EnterpriseScale.BELOW, wutong.id
    ents[1].evaluation_grade, ents[1].evaluation_year = "D", 2023
    # The second enterprise's parcel goes to the first: two parcels, 亩 summed.
    db_session.scalar(select(Parcel).where(Parcel.code == codes[1])).enterprise_id = ents[0].id
    pending = Enterprise(name=f"{PREFIX}待补_100%公司", credit_code=None)
    db_session.add(pending)
    db_session.commit()
    return {"codes": codes, "ents": ents, "pending": pending}


def test_list_and_filters(login_as, site):
    c = login_as("planner")
    r = c.get(URL, params={"q": PREFIX})
    assert r.status_code == 200, r.text
    body = r.json()
    names = [row["name"] for row in body["data"]]
    assert body["numberMatched"] == 4 and len(names) == 4
    first = next(row for row in body["data"] if row["credit_code"] == site["ents"][0].credit_code)
    assert first["industry_code"] == "C1713" and first["industry_name"] == "棉印染精加工"
    assert first["scale"] == "above_scale" and first["scale_label"] == "规上"
    assert first["production_year"] == 2012 and first["unit_code"] == "chongfu" and first["unit_name"] == "崇福镇"
    assert first["parcel_count"] == 2 and first["land_mu"] == pytest.approx(270.0, abs=0.5)
    assert first["evaluation_grade"] == "B" and first["evaluation_year"] == 2023
    assert first["classification"] is None and first["credit_code_pending"] is False
    second = next(row for row in body["data"] if row["credit_code"] == site["ents"][1].credit_code)
    assert second["parcel_count"] == 0 and second["land_mu"] is None
    pending = next(row for row in body["data"] if row["credit_code"] is None)
    assert pending["credit_code_pending"] is True and pending["name"] == f"{PREFIX}待补_100%公司"

    def names_for(**params):
        r = c.get(URL, params={"q": PREFIX, **params})
        assert r.status_code == 200, r.text
        return {row["name"] for row in r.json()["data"]}

    e0, e1 = site["ents"][0].name, site["ents"][1].name
    # The third has no 所在镇街 in the register: listed under its parcel's unit.
    e2 = site["ents"][2].name
    assert names_for(unit="chongfu") == {e0, e2}
    third = next(row for row in body["data"] if row["name"] == e2)
    assert third["unit_code"] == "chongfu" and third["unit_from_parcels"] is True and first["unit_from_parcels"] is False
    assert names_for(unit="wutong") == {e1}
    assert names_for(scale="above_scale") == {e0}
    assert names_for(scale="below_scale") == {e1}
    assert names_for(industry="C17") == {e0}
    assert names_for(industry="c33") == {e1}
    assert names_for(industry="C") == {e0, e1}
    assert names_for(grade="D") == {e1}
    assert names_for(pending="true") == {f"{PREFIX}待补_100%公司"}
    assert len(names_for(pending="false")) == 3
    # The credit code finds its enterprise; % and _ are literal characters, not wildcards.
    r = c.get(URL, params={"q": site["ents"][2].credit_code[-8:].lower()})
    assert [row["name"] for row in r.json()["data"]] == [site["ents"][2].name]
    assert {row["name"] for row in c.get(URL, params={"q": "_100%"}).json()["data"]} == {f"{PREFIX}待补_100%公司"}
    assert c.get(URL, params={"q": f"{PREFIX}%目录"}).json()["numberMatched"] == 0


def test_paging_and_bounds(login_as, site):
    c = login_as("reviewer")
    page1 = c.get(URL, params={"q": PREFIX, "limit": 3}).json()
    page2 = c.get(URL, params={"q": PREFIX, "limit": 3, "offset": 3}).json()
    assert page1["numberMatched"] == page2["numberMatched"] == 4
    assert len(page1["data"]) == 3 and len(page2["data"]) == 1 and page2["offset"] == 3
    assert {r["id"] for r in page1["data"]}.isdisjoint({r["id"] for r in page2["data"]})
    everyone = c.get(URL, params={"limit": 200}).json()
    assert everyone["numberMatched"] >= 4 and len(everyone["data"]) == min(200, everyone["numberMatched"])
    for params in ({"limit": 0}, {"limit": 201}, {"offset": -1}, {"limit": "x"}, {"industry": "C17X"},
                   {"industry": "Z1"}, {"grade": "E"}, {"scale": "big"}, {"q": "长" * 101}):
        r = c.get(URL, params=params)
        assert r.status_code == 422, (params, r.status_code)
        assert r.json()["detail"], params
    r = c.get(URL, params={"unit": "nowhere"})
    assert r.status_code == 404 and "nowhere" in r.json()["detail"]


def test_who_may_read(client, login_as, site):
    assert client.get(URL).status_code == 401
    for role, unit in (("unit_officer", "wutong"), ("gis_staff", None), ("admin", None), ("planner", None)):
        r = login_as(role, unit).get(URL, params={"q": PREFIX})
        assert r.status_code == 200 and r.json()["numberMatched"] == 4, role
    # A unit officer sees every enterprise (the page defaults the filter to the officer's unit).
    r = login_as("unit_officer", "wutong").get(URL, params={"q": PREFIX, "unit": "chongfu"})
    assert {row["name"] for row in r.json()["data"]} == {site["ents"][0].name, site["ents"][2].name}


def test_enterprise_view_has_the_register(login_as, site):
    c = login_as("unit_officer", "wutong")
    e0 = site["ents"][0]
    r = c.get(f"{URL}/{e0.credit_code}")
    assert r.status_code == 200, r.text
    assert r.headers["ETag"]
    v = r.json()
    assert v["credit_code"] == e0.credit_code and v["name"] == e0.name
    assert v["industry_code"] == "C1713" and v["industry_name"] == "棉印染精加工"
    assert v["scale"] == "above_scale" and v["scale_label"] == "规上" and v["production_year"] == 2012
    assert v["address"] == "崇福镇工业园区 1 号" and v["unit_code"] == "chongfu" and v["unit_name"] == "崇福镇"
    assert v["credit_code_pending"] is False
    assert [p["code"] for p in v["parcels"]] == sorted(site["codes"][:2])
    assert all(p["unit_name"] == "崇福镇" and p["block_code"] is None for p in v["parcels"])
    assert v["land_mu"] == pytest.approx(sum(p["land_area_mu"] for p in v["parcels"]), abs=0.01)
    assert v["evaluation_grade"] == "B" and v["evaluation_year"] == 2023
    # The existing fields stay.
    assert v["classification"] is None and v["history"] == [] and v["version"] == 0
    bare = c.get(f"{URL}/{site['ents'][1].credit_code}").json()
    assert bare["parcels"] == [] and bare["land_mu"] is None and bare["address"] is None
    assert c.get(f"{URL}/91330483MA2B000000").status_code == 404
