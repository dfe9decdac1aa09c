"""An upload the clerk can finish in the browser: a key field with a typo (宗地编好 for 宗地编号) is staged
with 字段未对应 on every feature and the suggestions, PUT …/mapping checks it again from the kept file
(no second upload), and the commit goes through; the refusals of PUT …/mapping (real PostGIS)."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import text

from app.core.uow import unit_of_work
from app.ingest.schemas import UploadReport
from tests.app import upload_corpus as corpus

TYPO = "宗地编好"


@pytest.fixture()
def clerk(login_as):
    return login_as("gis_staff")


def typo_zip(tmp_path, prefix: str, n: int = 3, row: int = 11) -> bytes:
    gdf = corpus.parcels(n, style="zh", prefix=prefix, row=row).rename(columns={"宗地编号": TYPO})
    return corpus.shapefile_zip(gdf, tmp_path, encoding="GBK", cpg=False)


def stage(client, data: bytes, name: str = "宗地.zip", **form) -> dict:
    r = client.post("/api/uploads", files={"file": (name, data)}, data=form)
    assert r.status_code == 201, r.text
    return r.json()


def put_mapping(client, upload_id: str, mapping: dict, etag: str | None = None):
    headers = {"If-Match": etag} if etag is not None else {}
    return client.put(f"/api/uploads/{upload_id}/mapping", json={"mapping": mapping}, headers=headers)


def scalar(session, sql: str, **params):
    with unit_of_work(session):
        return session.execute(text(sql), params).scalar()


def test_a_typo_in_the_key_field_is_staged_with_field_unmapped_on_every_feature(clerk, db_session, tmp_path):
    r = clerk.post("/api/uploads", files={"file": ("宗地.zip", typo_zip(tmp_path, "TYP"))})
    assert r.status_code == 201, r.text
    assert r.headers["ETag"] == '"0"'
    body = r.json()
    report = UploadReport.model_validate(body)
    assert report.status == "staged" and report.revision == 0
    assert report.mapping_missing == ["code"] and "code" not in report.mapping
    assert report.mapping["enterprise"] == "权利人"  # the rest is mapped as usual
    unmapped = [p for p in report.problems if p.code == "field_unmapped"]
    assert [p.feature for p in unmapped] == [1, 2, 3] and {p.severity for p in unmapped} == {"error"}
    assert all("字段未对应" in p.message and "“宗地编号”" in p.message and f"“{TYPO}”" in p.message for p in unmapped)
    assert not [p for p in report.problems if p.code == "code_missing"]  # said once, as 字段未对应
    assert report.counts["errors"] == 3 and not report.can_commit
    code_field = next(m for m in report.mapping_fields if m.field == "code")
    assert code_field.required and code_field.label == "宗地编号"
    assert [s.model_dump() for s in code_field.suggestions] == [
        {"source": TYPO, "kind": "close", "like": "宗地编号", "score": 0.75}]
    # fields already mapped get no suggestions, and a mapped source is offered for no other field
    assert next(m for m in report.mapping_fields if m.field == "enterprise").suggestions == []
    assert all(s.source != "权利人" for m in report.mapping_fields for s in m.suggestions)
    refused = clerk.post(f"/api/uploads/{report.id}/commit", json={"unknown_owners": "none"})
    assert refused.status_code == 422 and refused.json()["code"] == "invalid_features"
    assert "字段未对应" in refused.json()["detail"]
    assert scalar(db_session, "SELECT count(*) FROM parcels WHERE code LIKE 'TYP%'") == 0


def test_pinyin_and_english_names_are_suggested_too(clerk, tmp_path):
    gdf = corpus.parcels(2, style="pinyin", prefix="PYT", row=12).rename(columns={"ZDBH": "ZDBM", "QLR": "QLRMC1"})
    body = stage(clerk, corpus.shapefile_zip(gdf, tmp_path, encoding="UTF-8"), "zd.zip")
    fields = {m["field"]: m["suggestions"] for m in body["mapping_fields"]}
    assert fields["code"][0] == {"source": "ZDBM", "kind": "pinyin", "like": "zdbh", "score": 0.75}
    assert fields["enterprise"][0]["source"] == "QLRMC1" and fields["enterprise"][0]["kind"] == "pinyin"
    en = corpus.parcels(2, style="en", prefix="ENT", row=12).rename(columns={"PARCEL_CD": "PARCEL_COD"})
    body = stage(clerk, corpus.shapefile_zip(en, tmp_path / "en", encoding="UTF-8"), "en.zip")
    first = next(m for m in body["mapping_fields"] if m["field"] == "code")["suggestions"][0]
    assert first["source"] == "PARCEL_COD" and first["kind"] == "english" and first["like"] == "parcelcode"


def test_put_mapping_checks_again_from_the_kept_file_and_the_commit_succeeds(clerk, db_session, tmp_path):
    body = stage(clerk, typo_zip(tmp_path, "FIX"))
    assert scalar(db_session, "SELECT count(*) FROM upload_sources WHERE upload_id = :id", id=body["id"]) == 1
    r = put_mapping(clerk, body["id"], {"code": TYPO}, etag='"0"')
    assert r.status_code == 200, r.text
    assert r.headers["ETag"] == '"1"'
    fixed = UploadReport.model_validate(r.json())
    assert fixed.revision == 1 and fixed.mapping["code"] == TYPO and fixed.mapping_missing == []
    assert fixed.mapping["enterprise"] == "权利人" and fixed.mapping["floor_area_m2"] == "建筑面积"  # kept
    assert fixed.counts["errors"] == 0 and fixed.can_commit and fixed.counts["area_mu"] == pytest.approx(60.0, abs=0.01)
    assert not [p for p in fixed.problems if p.code == "field_unmapped"]
    assert next(m for m in fixed.mapping_fields if m.field == "code").suggestions == []
    assert [f.properties["code"] for f in fixed.features.features] == ["FIX0001", "FIX0002", "FIX0003"]
    again = clerk.get(f"/api/uploads/{body['id']}")
    assert again.headers["ETag"] == '"1"' and again.json()["mapping"]["code"] == TYPO
    assert scalar(db_session, "SELECT count(*) FROM upload_features WHERE upload_id = :id", id=body["id"]) == 3

    stale = clerk.post(f"/api/uploads/{body['id']}/commit", json={"unknown_owners": "none"}, headers={"If-Match": '"0"'})
    assert stale.status_code == 409 and "第 0 版" in stale.json()["detail"] and "第 1 版" in stale.json()["detail"]
    done = clerk.post(f"/api/uploads/{body['id']}/commit", json={"unknown_owners": "none"}, headers={"If-Match": '"1"'})
    assert done.status_code == 200, done.text
    assert done.json()["outcome"]["inserted"] == 3
    lon0, lat0, lon1, lat1 = done.json()["outcome"]["bbox"]
    assert 120.2 < lon0 < lon1 < 120.8 and 30.4 < lat0 < lat1 < 30.9
    assert scalar(db_session, "SELECT count(*) FROM parcels WHERE code LIKE 'FIX%'") == 3
    assert scalar(db_session, "SELECT count(*) FROM upload_sources WHERE upload_id = :id", id=body["id"]) == 0
    # the clerk's correction is remembered for the next file with the same fields
    remembered = stage(clerk, typo_zip(tmp_path / "next", "FIY", row=13))
    assert remembered["mapping_remembered"] and remembered["mapping"]["code"] == TYPO
    assert remembered["counts"]["errors"] == 0


def test_null_unmaps_and_the_field_is_missing_again(clerk, tmp_path):
    body = stage(clerk, corpus.shapefile_zip(corpus.parcels(2, prefix="UNM", row=14), tmp_path))
    assert body["mapping"]["code"] == "宗地编号" and body["counts"]["errors"] == 0
    r = put_mapping(clerk, body["id"], {"code": None, "land_use": None})
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["mapping_missing"] == ["code"] and "land_use" not in out["mapping"]
    assert {p["code"] for p in out["problems"]} >= {"field_unmapped"} and out["counts"]["errors"] == 2
    # the unmapped 宗地编号 is now offered back as a suggestion (same name: score 1)
    assert next(m for m in out["mapping_fields"] if m["field"] == "code")["suggestions"][0] == {
        "source": "宗地编号", "kind": "close", "like": "宗地编号", "score": 1.0}
    # one source feeds one field: mapping 宗地编号 to another field takes it from wherever it was
    r = put_mapping(clerk, body["id"], {"code": "宗地编号"})
    assert r.json()["counts"]["errors"] == 0 and r.json()["revision"] == 2


def test_a_block_file_whose_name_field_has_another_name(clerk, tmp_path):
    gdf = corpus.parcels(geoms=[corpus.rectangles(1, row=15)[0]], prefix="QKX")
    gdf = gdf.rename(columns={"宗地编号": "区块编号", "权利人": "区块名"})[["区块编号", "区块名", "geometry"]]
    body = stage(clerk, corpus.shapefile_zip(gdf, tmp_path), "blocks.zip", target="blocks")
    assert body["mapping_missing"] == ["name"]
    assert next(m for m in body["mapping_fields"] if m["field"] == "name")["suggestions"][0]["source"] == "区块名"
    assert any("“区块名称”" in p["message"] for p in body["problems"] if p["code"] == "field_unmapped")
    r = put_mapping(clerk, body["id"], {"name": "区块名"})
    assert r.status_code == 200 and r.json()["can_commit"], r.text


def test_put_mapping_refusals(clerk, login_as, db_session, tmp_path):
    body = stage(clerk, typo_zip(tmp_path, "REF", n=2, row=16))
    uid = body["id"]
    assert put_mapping(clerk, "not-an-id", {"code": TYPO}).status_code == 400
    missing = put_mapping(clerk, str(uuid.uuid4()), {"code": TYPO})
    assert missing.status_code == 404 and "上传记录" in missing.json()["detail"]
    r = put_mapping(clerk, uid, {"code": "没有这个字段"})
    assert r.status_code == 422 and r.json()["code"] == "invalid_mapping"
    assert r.json()["errors"][0]["field"] == "mapping.code" and "不在文件中" in r.json()["errors"][0]["message"]
    r = put_mapping(clerk, uid, {"no_such_field": TYPO})
    assert r.status_code == 422 and r.json()["code"] == "invalid_mapping"
    r = clerk.put(f"/api/uploads/{uid}/mapping", json={"mapping": ["code"]})
    assert r.status_code == 422 and r.json()["code"] == "invalid_request"
    r = clerk.put(f"/api/uploads/{uid}/mapping", json={"mapping": {"code": TYPO}}, headers={"If-Match": "version-one"})
    assert r.status_code == 428 and r.json()["code"] == "if_match_required"
    r = put_mapping(clerk, uid, {"code": TYPO}, etag='"7"')
    assert r.status_code == 409 and "第 7 版" in r.json()["detail"]
    # none of that changed the report
    assert clerk.get(f"/api/uploads/{uid}").json()["revision"] == 0

    other = login_as("gis_staff", username="other_clerk")
    r = put_mapping(other, uid, {"code": TYPO})
    assert r.status_code == 403 and "test_gis_staff" in r.json()["detail"]
    assert login_as("planner").put(f"/api/uploads/{uid}/mapping", json={"mapping": {"code": TYPO}}).status_code == 403
    admin = put_mapping(login_as("admin"), uid, {"code": TYPO})
    assert admin.status_code == 200 and admin.json()["revision"] == 1
    no_csrf = clerk.put(f"/api/uploads/{uid}/mapping", json={"mapping": {"code": TYPO}},
                        headers={"X-CSRF-Token": "wrong"})
    assert no_csrf.status_code == 403

    assert clerk.post(f"/api/uploads/{uid}/commit", json={"unknown_owners": "none"}).status_code == 200
    r = put_mapping(clerk, uid, {"code": TYPO})
    assert r.status_code == 409 and "已于" in r.json()["detail"] and "入库" in r.json()["detail"]


def test_a_failed_upload_or_a_lost_file_cannot_be_checked_again(clerk, db_session, tmp_path):
    body = stage(clerk, typo_zip(tmp_path, "LOS", n=2, row=17))
    with unit_of_work(db_session):
        db_session.execute(text("DELETE FROM upload_sources WHERE upload_id = :id"), {"id": body["id"]})
    r = put_mapping(clerk, body["id"], {"code": TYPO})
    assert r.status_code == 409 and r.json()["code"] == "upload_source_lost" and "重新上传" in r.json()["detail"]
    with unit_of_work(db_session):
        db_session.execute(text("UPDATE uploads SET status = 'failed' WHERE id = :id"), {"id": body["id"]})
    r = put_mapping(clerk, body["id"], {"code": TYPO})
    assert r.status_code == 409 and "“失败”" in r.json()["detail"] and "failed" not in r.json()["detail"]
