"""Owners (权利人) the enterprise register does not know: the report names them (how many, which
features), the commit must say what to do — register them by name (信用代码待补充) or import the
parcels without an owner — and an enterprise without a credit code is safe on every page, export
and rule report that shows enterprises (real PostGIS)."""

from __future__ import annotations

import io
import zipfile

import pytest
from openpyxl import load_workbook
from sqlalchemy import select, text

from app.core.uow import unit_of_work
from app.ingest.schemas import UploadReport
from app.models import Enterprise, Parcel, RenewalBlock
from tests.app import upload_corpus as corpus
from tests.app.workflow_site import FOUR, make_site

KNOWN = "桐乡市永鑫合成纤维有限公司"  # in the demo register (data/geojson/enterprises.json)


@pytest.fixture()
def clerk(login_as):
    return login_as("gis_staff")


def owners_zip(tmp_path, prefix: str, owners: list[str], row: int) -> bytes:
    gdf = corpus.parcels(len(owners), style="zh", prefix=prefix, row=row)
    gdf["权利人"] = owners
    return corpus.shapefile_zip(gdf, tmp_path / prefix, encoding="GBK", cpg=False)


def stage(client, data: bytes) -> dict:
    r = client.post("/api/uploads", files={"file": ("宗地.zip", data)})
    assert r.status_code == 201, r.text
    return r.json()


def commit(client, upload_id: str, **body):
    return client.post(f"/api/uploads/{upload_id}/commit", json=body)


def rows(session, sql: str, **params) -> list:
    with unit_of_work(session):
        return session.execute(text(sql), params).all()


def test_the_report_names_the_unknown_owners_and_their_features(clerk, tmp_path):
    body = stage(clerk, owners_zip(tmp_path, "OWN", ["新甲厂", KNOWN, "新乙厂", "新甲厂"], row=20))
    report = UploadReport.model_validate(body)
    assert report.needs_owner_choice and report.counts["errors"] == 0
    unknown = report.unknown_owners
    assert unknown.count == 2 and unknown.features == 3
    assert [(n.name, n.count, n.features) for n in unknown.names] == [("新甲厂", 2, [1, 4]), ("新乙厂", 1, [3])]
    note = next(n for n in report.notes if n["code"] == "enterprise_unknown")
    assert note["severity"] == "warning" and "2 个权利人不在企业库中（涉及 3 宗地）" in note["message"]
    assert "登记为新企业" in note["message"] and "不关联企业" in note["message"]


def test_without_a_choice_the_commit_is_refused_and_nothing_is_written(clerk, db_session, tmp_path):
    body = stage(clerk, owners_zip(tmp_path, "OWR", ["新丙厂", "新丁厂"], row=21))
    r = commit(clerk, body["id"])
    assert r.status_code == 422 and r.json()["code"] == "owner_choice_required"
    assert "2 个权利人不在企业库中" in r.json()["detail"] and "新丙厂" in r.json()["detail"]
    assert r.json()["errors"] == [{"field": "unknown_owners", "message": "请选择如何处理不在企业库中的权利人"}]
    assert rows(db_session, "SELECT count(*) FROM parcels WHERE code LIKE 'OWR%'")[0][0] == 0
    assert rows(db_session, "SELECT count(*) FROM enterprises WHERE name IN ('新丙厂', '新丁厂')")[0][0] == 0
    assert clerk.get(f"/api/uploads/{body['id']}").json()["status"] == "staged"
    bad = commit(clerk, body["id"], unknown_owners="maybe")
    assert bad.status_code == 422 and bad.json()["code"] == "invalid_request"


def test_register_adds_name_only_enterprises_and_links_their_parcels(clerk, db_session, tmp_path):
    body = stage(clerk, owners_zip(tmp_path, "OWG", ["新戊厂", KNOWN, "新戊厂"], row=22))
    r = commit(clerk, body["id"], unknown_owners="register")
    assert r.status_code == 200, r.text
    assert r.json()["outcome"]["owners"] == {"choice": "register", "unknown": 1, "registered": 1,
                                             "linked_since_check": 0, "without_owner": 0}
    assert not r.json()["needs_owner_choice"]
    new = db_session.scalar(select(Enterprise).where(Enterprise.name == "新戊厂"))
    assert new.credit_code is None and new.credit_code_pending
    assert str(new.registered_from_upload_id) == body["id"]
    linked = rows(db_session, "SELECT p.code, e.name FROM parcels p JOIN enterprises e ON e.id = p.enterprise_id"
                              " WHERE p.code LIKE 'OWG%' ORDER BY p.code")
    assert linked == [("OWG0001", "新戊厂"), ("OWG0002", KNOWN), ("OWG0003", "新戊厂")]
    # the next file naming the same owner links to it: no second entry, nothing to choose
    again = stage(clerk, owners_zip(tmp_path, "OWH", ["新戊厂", "新己厂"], row=23))
    assert again["unknown_owners"]["count"] == 1 and again["unknown_owners"]["names"][0]["name"] == "新己厂"
    done = commit(clerk, again["id"], unknown_owners="register")
    assert done.status_code == 200 and done.json()["outcome"]["owners"]["registered"] == 1
    assert rows(db_session, "SELECT count(*) FROM enterprises WHERE name = '新戊厂'")[0][0] == 1


def test_none_imports_the_parcels_without_an_owner(clerk, db_session, tmp_path):
    body = stage(clerk, owners_zip(tmp_path, "OWN0", ["新庚厂", KNOWN], row=24))
    r = commit(clerk, body["id"], unknown_owners="none")
    assert r.status_code == 200, r.text
    assert r.json()["outcome"]["owners"]["without_owner"] == 1 and r.json()["outcome"]["owners"]["registered"] == 0
    got = rows(db_session, "SELECT p.code, e.name FROM parcels p LEFT JOIN enterprises e ON e.id = p.enterprise_id"
                           " WHERE p.code LIKE 'OWN0%' ORDER BY p.code")
    assert got == [("OWN00001", None), ("OWN00002", KNOWN)]
    assert rows(db_session, "SELECT count(*) FROM enterprises WHERE name = '新庚厂'")[0][0] == 0


def test_an_owner_registered_meanwhile_is_linked_and_needs_no_choice(clerk, db_session, tmp_path):
    first = stage(clerk, owners_zip(tmp_path, "OWM", ["新辛厂"], row=25))
    second = stage(clerk, owners_zip(tmp_path, "OWP", ["新辛厂"], row=26))
    assert commit(clerk, second["id"], unknown_owners="register").status_code == 200
    r = commit(clerk, first["id"])  # 新辛厂 is in the register now
    assert r.status_code == 200, r.text
    assert r.json()["outcome"]["owners"] == {"choice": None, "unknown": 0, "registered": 0,
                                             "linked_since_check": 1, "without_owner": 0}
    assert rows(db_session, "SELECT e.name FROM parcels p JOIN enterprises e ON e.id = p.enterprise_id"
                            " WHERE p.code = 'OWM0001'") == [("新辛厂",)]


def test_an_owner_name_too_long_for_the_register_is_an_error_of_its_feature(clerk, tmp_path):
    long_name = "桐乡市" + "A" * 140  # 143 characters; still fits a DBF field (254 bytes in GBK)
    body = stage(clerk, owners_zip(tmp_path, "OWL", [long_name, "新壬厂"], row=27))
    bad = [p for p in body["problems"] if p["code"] == "owner_name_too_long"]
    assert [p["feature"] for p in bad] == [1] and "143 个字" in bad[0]["message"] and bad[0]["field"] == "权利人"


# --- an enterprise without a credit code, everywhere enterprises are shown ---------------------------

PENDING = "待补充信用代码测试企业"


@pytest.fixture()
def pending_in_a_block(db_session):
    """A name-only enterprise (as an upload registers one) on a parcel of a demo block."""
    block = db_session.scalar(select(RenewalBlock).join(Parcel, Parcel.block_id == RenewalBlock.id)
                              .order_by(RenewalBlock.code).limit(1))
    parcel = db_session.scalar(select(Parcel).where(Parcel.block_id == block.id).order_by(Parcel.code).limit(1))
    e = Enterprise(name=PENDING, credit_code=None)
    db_session.add(e)
    db_session.flush()
    parcel.enterprise_id = e.id
    db_session.commit()
    return block.code, parcel.code


def test_the_map_search_block_panel_and_feature_apis(client, pending_in_a_block):
    block, parcel = pending_in_a_block
    hits = client.get("/api/search", params={"q": PENDING})
    assert hits.status_code == 200, hits.text
    hit = next(h for h in hits.json()["results"] if h["kind"] == "enterprise")
    assert hit["code"] is None and hit["label"] == PENDING and hit["parcel_code"] == parcel
    summary = client.get(f"/api/map/blocks/{block}/summary")
    assert summary.status_code == 200, summary.text
    assert {"name": PENDING, "credit_code": None} in [{k: e[k] for k in ("name", "credit_code")}
                                                       for e in summary.json()["enterprises"]]
    for url in (f"/api/blocks/{block}", f"/api/parcels?block={block}", "/api/map/parcels?bbox=119,29,122,32",
                f"/api/blocks/{block}/analysis", "/ogc/collections/parcels/items?limit=5000"):
        r = client.get(url)
        assert r.status_code == 200, (url, r.text[:300])
    props = next(f["properties"] for f in client.get(f"/api/parcels?block={block}").json()["features"]
                 if f["properties"]["code"] == parcel)
    assert props["enterprise_name"] == PENDING and props["enterprise_credit_code"] is None


def test_the_block_exports(client, pending_in_a_block):
    block, parcel = pending_in_a_block
    for fmt in ("geojson", "shp", "xlsx"):
        r = client.get(f"/api/blocks/{block}/export", params={"format": fmt})
        assert r.status_code == 200, (fmt, r.text[:300])
    xlsx = client.get(f"/api/blocks/{block}/export", params={"format": "xlsx"}).content
    wb = load_workbook(io.BytesIO(xlsx))
    parcels = [[c.value for c in row] for row in wb["宗地"].iter_rows(min_row=3)]  # title, date line, header
    header = parcels[0]
    row = next(r for r in parcels if r[0] == parcel)
    assert row[header.index("信用代码")] == "信用代码待补充"
    enterprises = [[c.value for c in row] for row in wb["企业"].iter_rows()]
    assert [PENDING, "信用代码待补充"] in [r[:2] for r in enterprises]  # listed, not dropped
    shp = zipfile.ZipFile(io.BytesIO(client.get(f"/api/blocks/{block}/export", params={"format": "shp"}).content))
    assert any(n.endswith("_宗地.dbf") for n in shp.namelist())


def test_evaluation_and_a_block_plan_with_a_pending_enterprise(login_as, db_session):
    officer = login_as("unit_officer", unit="wutong")
    codes = make_site(db_session, "wutong", "WT-PND", [(0, 0), (300, 0), (0, 300)])
    pending = db_session.scalar(select(Enterprise).join(Parcel, Parcel.enterprise_id == Enterprise.id)
                                .where(Parcel.code == codes[1]))
    pending.credit_code = None
    pending.name = "待补充方案测试企业"
    db_session.commit()
    ev = officer.get("/api/evaluation", params={"year": 2022, "unit": "wutong"})
    assert ev.status_code == 200, ev.text
    assert {"name": "待补充方案测试企业", "credit_code": None} in [
        {k: e[k] for k in ("name", "credit_code")} for e in ev.json()["enterprises"]]

    preview = officer.post("/api/plans/preview", json={"parcels": codes, "year": 2023, **FOUR})
    assert preview.status_code == 200, preview.text
    by_code = {v["code"]: v for v in preview.json()["violations"]}
    assert "待补充方案测试企业" in by_code["enterprise_credit_code_pending"]["message_zh"]
    assert "enterprise_list_incomplete" not in by_code
    listed = preview.json()["enterprises"]
    assert [e["credit_code"] is None for e in listed].count(True) == 1

    created = officer.post("/api/plans", json={"code": "TX2023-WT-PND", "name": "待补充试验区块", "year": 2023,
                                               "parcels": codes, **FOUR})
    assert created.status_code == 201, created.text
    version = officer.get("/api/plans/TX2023-WT-PND/versions/1")
    assert version.status_code == 200, version.text
    # the officer's editor sends the list back: the pending enterprise is named by its name
    items = [{"credit_code": e["credit_code"], "name": e["name"], "classification": "upgrade"}
             for e in listed]
    etag = officer.get("/api/plans/TX2023-WT-PND").headers["ETag"]
    patched = officer.patch("/api/plans/TX2023-WT-PND/draft", json={"enterprises": items}, headers={"If-Match": etag})
    assert patched.status_code == 200, patched.text
    check = officer.get("/api/plans/TX2023-WT-PND/check")
    assert check.status_code == 200, check.text
    assert "enterprise_list_incomplete" not in {v["code"] for v in check.json()["violations"]}
    for url in ("/api/plans/TX2023-WT-PND/versions", "/api/plans/TX2023-WT-PND/versions/1/parcels"):
        assert officer.get(url).status_code == 200, url
