"""The map's endpoints: search, drawing layers with filters, per-unit aggregates, block export."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import pyogrio
import pytest
from openpyxl import load_workbook
from shapely.geometry import shape
from sqlalchemy import func, select

from app.models import Enterprise, Parcel, RenewalBlock, Unit


@pytest.fixture()
def a_block(db_session) -> RenewalBlock:
    return db_session.scalar(select(RenewalBlock).order_by(RenewalBlock.code).limit(1))


def test_search_finds_a_block_by_name_part(client, a_block):
    body = client.get("/api/search", params={"q": a_block.name[2:5]}).json()
    hits = [r for r in body["results"] if r["kind"] == "block" and r["code"] == a_block.code]
    assert len(hits) == 1
    minx, miny, maxx, maxy = hits[0]["bbox"]
    lon, lat = hits[0]["point"]
    assert minx <= lon <= maxx and miny <= lat <= maxy
    assert hits[0]["label"] == a_block.name


def test_search_exact_parcel_code_comes_first_and_its_point_is_inside(client, db_session):
    parcel = db_session.scalar(select(Parcel).order_by(Parcel.code).limit(1))
    body = client.get("/api/search", params={"q": parcel.code.lower()}).json()
    first = body["results"][0]
    assert (first["kind"], first["code"]) == ("parcel", parcel.code)
    from shapely import Point

    assert parcel.shape.contains(Point(first["point"]))


def test_search_by_credit_code_and_by_enterprise_name(client, db_session):
    ent = db_session.scalar(select(Enterprise).join(Parcel).order_by(Enterprise.credit_code).limit(1))
    by_code = client.get("/api/search", params={"q": ent.credit_code}).json()["results"]
    assert by_code[0]["kind"] == "enterprise" and by_code[0]["label"] == ent.name
    assert by_code[0]["parcel_code"] is not None
    by_name = client.get("/api/search", params={"q": ent.name}).json()["results"]
    assert any(r["kind"] == "enterprise" and r["code"] == ent.credit_code for r in by_name)


def test_search_takes_wildcards_literally_and_rejects_empty(client):
    assert client.get("/api/search", params={"q": "%"}).json()["results"] == []
    assert client.get("/api/search", params={"q": "_"}).json()["results"] == []
    r = client.get("/api/search", params={"q": "  "})
    assert r.status_code == 400
    assert r.json()["errors"][0]["field"] == "q"
    assert "搜索" in r.json()["detail"]
    r = client.get("/api/search", params={"q": "桐" * 65})
    assert r.status_code == 400 and "64" in r.json()["detail"]


def test_map_parcels_filters(client, db_session):
    total = db_session.scalar(select(func.count()).select_from(Parcel))
    body = client.get("/api/map/parcels", params={"limit": 20000}).json()
    assert body["numberReturned"] == len(body["features"]) == total
    assert body["truncated"] is False
    props = body["features"][0]["properties"]
    for key in ("code", "classification", "far", "planned_far", "tax_per_mu", "block_code", "stage", "land_area_mu"):
        assert key in props

    scattered = client.get("/api/map/parcels", params={"kind": "scattered", "limit": 20000}).json()["features"]
    assert len(scattered) == db_session.scalar(select(func.count()).where(Parcel.block_id.is_(None)))
    assert all(f["properties"]["block_code"] is None for f in scattered)

    block = db_session.scalar(select(RenewalBlock).order_by(RenewalBlock.code).limit(1))
    by_stage = client.get("/api/map/parcels", params={"stage": block.stage.value, "year": block.designated_year,
                                                      "limit": 20000}).json()["features"]
    assert by_stage and all(f["properties"]["stage"] == block.stage.value for f in by_stage)
    assert all(f["properties"]["designated_year"] == block.designated_year for f in by_stage)

    unit = db_session.scalar(select(Unit).order_by(Unit.code).limit(1))
    in_unit = client.get("/api/map/parcels", params={"unit": unit.code, "limit": 20000}).json()["features"]
    assert len(in_unit) == db_session.scalar(select(func.count()).where(Parcel.unit_id == unit.id))


def test_map_parcels_bbox_and_truncation(client):
    first = client.get("/api/map/parcels", params={"limit": 2}).json()
    assert first["numberReturned"] == 2 and first["truncated"] is True
    geom = shape(first["features"][0]["geometry"])
    minx, miny, maxx, maxy = geom.bounds
    inside = client.get("/api/map/parcels", params={"bbox": f"{minx},{miny},{maxx},{maxy}"}).json()["features"]
    assert first["features"][0]["id"] in {f["id"] for f in inside}
    assert client.get("/api/map/parcels", params={"bbox": "1,2,3"}).status_code == 400
    assert client.get("/api/map/parcels", params={"stage": "done"}).status_code in (400, 422)


def test_tax_per_mu_is_the_enterprise_tax_over_all_its_land(client, db_session):
    ent = db_session.scalar(
        select(Enterprise).join(Parcel).where(Enterprise.tax_10k_yuan.is_not(None)).order_by(Enterprise.id).limit(1)
    )
    land = sum(float(p.land_area_mu) for p in ent.parcels)
    features = client.get("/api/map/parcels", params={"limit": 20000}).json()["features"]
    mine = [f for f in features if f["properties"]["code"] in {p.code for p in ent.parcels}]
    assert mine
    for f in mine:
        assert f["properties"]["tax_per_mu"] == pytest.approx(float(ent.tax_10k_yuan) / land, abs=0.01)


def test_map_units_sum_to_the_parcels(client, db_session):
    body = client.get("/api/map/units").json()
    assert len(body["units"]) == db_session.scalar(select(func.count()).select_from(Unit))
    assert body["parcel_count"] == db_session.scalar(select(func.count()).select_from(Parcel))
    total_mu = float(db_session.scalar(select(func.sum(Parcel.land_area_mu))))
    assert sum(u["land_area_mu"] or 0 for u in body["units"]) == pytest.approx(total_mu, abs=0.1)
    for u in body["units"]:
        if u["parcel_count"]:
            assert (u["contiguous_mu"] or 0) + (u["scattered_mu"] or 0) == pytest.approx(u["land_area_mu"], abs=0.02)
    filtered = client.get("/api/map/units", params={"kind": "contiguous"}).json()
    assert all(not u["scattered_mu"] for u in filtered["units"])


def test_export_geojson(client, a_block):
    r = client.get(f"/api/blocks/{a_block.code}/export", params={"format": "geojson"})
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/geo+json")
    assert "attachment" in r.headers["content-disposition"]
    body = json.loads(r.content)
    layers = [f["properties"]["layer"] for f in body["features"]]
    assert layers[0] == "block" and layers.count("parcel") == len(a_block.parcels)
    assert body["features"][0]["properties"]["four_east"] == a_block.four_east
    assert shape(body["features"][0]["geometry"]).is_valid


@pytest.mark.parametrize(("encoding", "cpg", "name_field"), [("gbk", "GBK", "区块名称"), ("utf-8", "UTF-8", "NAME")])
def test_export_shapefile_zip(client, a_block, tmp_path: Path, encoding, cpg, name_field):
    r = client.get(f"/api/blocks/{a_block.code}/export", params={"format": "shp", "encoding": encoding})
    assert r.status_code == 200 and r.headers["content-type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(r.content)) as zf:
        names = set(zf.namelist())
        for layer in (f"{a_block.code}_区块", f"{a_block.code}_宗地"):
            assert {f"{layer}.{ext}" for ext in ("shp", "shx", "dbf", "prj", "cpg")} <= names
        zf.extractall(tmp_path)
    assert (tmp_path / f"{a_block.code}_区块.cpg").read_text() == cpg
    assert "China_2000" in (tmp_path / f"{a_block.code}_区块.prj").read_text()
    blocks = pyogrio.read_dataframe(tmp_path / f"{a_block.code}_区块.shp")
    assert blocks[name_field].tolist() == [a_block.name]
    assert blocks.crs.to_epsg() == 4490
    parcels = pyogrio.read_dataframe(tmp_path / f"{a_block.code}_宗地.shp")
    assert len(parcels) == len(a_block.parcels)


def test_export_xlsx(client, a_block):
    r = client.get(f"/api/blocks/{a_block.code}/export", params={"format": "xlsx"})
    assert r.status_code == 200
    wb = load_workbook(io.BytesIO(r.content))
    assert wb.sheetnames == ["区块", "宗地", "企业"]
    header = [c.value for c in wb["区块"][3]]  # below the title and the date line
    row = dict(zip(header, [c.value for c in wb["区块"][4]], strict=True))
    assert row["区块名称"] == a_block.name and row["东至"] == a_block.four_east
    assert row["面积亩"] == pytest.approx(float(a_block.area_mu))
    assert wb["宗地"].max_row == len(a_block.parcels) + 3


def test_export_errors(client, a_block):
    r = client.get(f"/api/blocks/{a_block.code}/export", params={"format": "pdf"})
    assert r.status_code == 400 and r.json()["errors"][0]["field"] == "format"
    r = client.get(f"/api/blocks/{a_block.code}/export", params={"format": "shp", "encoding": "big5"})
    assert r.status_code == 400 and r.json()["errors"][0]["field"] == "encoding"
    r = client.get("/api/blocks/NO-SUCH/export")
    assert r.status_code == 404 and "NO-SUCH" in r.json()["detail"]
