"""GET /api/export and the block export: every format × CRS opened again with GDAL (pyogrio) or openpyxl —
the CRS asked for, the count the database holds, Chinese values; the filters applied; what is refused."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import pyogrio
import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from pyproj import CRS
from sqlalchemy import func, select, text

from app.enums import Classification
from app.models import Parcel, RenewalBlock, Unit

CRSS = ("EPSG:4490", "EPSG:4549", "EPSG:4528")
FORMATS = ("geojson", "gpkg", "shp", "csv", "kml", "dxf", "xlsx")
CASES = [(f, c) for f in FORMATS for c in CRSS if f != "kml" or c == "EPSG:4490"]


@pytest.fixture(scope="module")
def client(settings):
    from app.main import create_app

    with TestClient(create_app(settings)) as c:
        yield c


@pytest.fixture(scope="module")
def block(engine):
    """The block with the most parcels, its parcels' codes, classification labels and bounds in each CRS."""
    with engine.connect() as conn:
        code, name, unit_name = conn.execute(
            select(RenewalBlock.code, RenewalBlock.name, Unit.name)
            .join(Unit, RenewalBlock.unit_id == Unit.id)
            .join(Parcel, Parcel.block_id == RenewalBlock.id)
            .group_by(RenewalBlock.code, RenewalBlock.name, Unit.name)
            .order_by(func.count(Parcel.id).desc(), RenewalBlock.code).limit(1)
        ).one()
        rows = conn.execute(
            select(Parcel.code, Parcel.classification).join(RenewalBlock, Parcel.block_id == RenewalBlock.id)
            .where(RenewalBlock.code == code).order_by(Parcel.code)
        ).all()
        bounds = {}
        for crs in CRSS:
            srid = int(crs.split(":")[1])
            bounds[crs] = conn.execute(text(
                "SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM (SELECT ST_Extent(ST_Transform(p.geom, :srid)) e "
                "FROM parcels p JOIN renewal_blocks b ON p.block_id = b.id WHERE b.code = :code) t"
            ), {"srid": srid, "code": code}).one()
    labels = {Classification(c).label for _, c in rows if c}
    return {"code": code, "name": name, "unit_name": unit_name, "codes": [c for c, _ in rows], "labels": labels,
            "bounds": bounds}


def _read_dxf(path: Path):
    """A DXF of AutoCAD 2007 or later is UTF-8; GDAL reads by $DWGCODEPAGE unless told."""
    pyogrio.set_gdal_config_options({"DXF_ENCODING": "UTF-8"})
    try:
        return pyogrio.read_dataframe(path)
    finally:
        pyogrio.set_gdal_config_options({"DXF_ENCODING": None})


def _read(body: bytes, fmt: str, tmp: Path):
    """The file as a GeoDataFrame, read by GDAL from disk (a zip unpacked first)."""
    if fmt == "shp":
        with zipfile.ZipFile(io.BytesIO(body)) as zf:
            zf.extractall(tmp)
        (path,) = tmp.glob("*.shp")
        return pyogrio.read_dataframe(path), path
    path = tmp / f"export.{fmt}"
    path.write_bytes(body)
    if fmt == "dxf":
        return _read_dxf(path), path
    if fmt == "csv":
        return pyogrio.read_dataframe(path, encoding="UTF-8"), path
    return pyogrio.read_dataframe(path), path


def _close_bounds(actual, expected, crs: str) -> None:
    tolerance = 1e-6 if crs == "EPSG:4490" else 0.02  # degrees (~0.1 m) / metres
    assert actual == pytest.approx(list(expected), abs=tolerance)


@pytest.mark.parametrize(("fmt", "crs"), CASES)
def test_every_format_and_crs_opens_with_the_crs_count_and_chinese_values(client, block, tmp_path, fmt, crs):
    r = client.get("/api/export", params={"layer": "parcels", "format": fmt, "crs": crs, "block": block["code"]})
    assert r.status_code == 200, r.text
    disposition = r.headers["content-disposition"]
    assert "filename*=UTF-8''" in disposition and crs.replace(":", "") in disposition
    n = len(block["codes"])
    if fmt == "xlsx":
        ws = load_workbook(io.BytesIO(r.content)).active
        header = [c.value for c in ws[4]]  # title, date line, the coordinates' note, then the header row
        rows = [dict(zip(header, [c.value for c in row], strict=True)) for row in ws.iter_rows(min_row=5)]
        assert sorted(row["宗地编号"] for row in rows) == block["codes"]
        assert {row["所属镇街"] for row in rows} == {block["unit_name"]}
        assert isinstance(rows[0]["用地亩"], float)
        assert crs in ws["A3"].value
        assert ws.page_setup.orientation == "landscape" and ws.print_title_rows == "$4:$4"
        return
    data, path = _read(r.content, fmt, tmp_path)
    if fmt == "dxf":
        texts = data[data["Text"].notna()]
        assert sorted(texts["Text"]) == block["codes"]  # the code as a label, one per parcel
        assert set(texts["Layer"]) == block["labels"]  # a CAD layer per classification
        outlines = data[data["Text"].isna()]
        assert set(outlines["Layer"]) == block["labels"] and len(outlines) >= n
        _close_bounds(list(outlines.total_bounds), block["bounds"][crs], crs)
        return
    assert len(data) == n
    if fmt == "geojson":
        assert sorted(data["code"]) == block["codes"]
        assert set(data["classification"]) == block["labels"] and set(data["unit_name"]) == {block["unit_name"]}
        doc = json.loads(r.content)
        assert ("crs" in doc) == (crs != "EPSG:4490")  # RFC 7946 lon/lat, else the CRS named in the file
        # RFC 7946 is WGS 84 lon/lat, which CGCS2000 coordinates match far below the 7 decimals written
        assert CRS(data.crs).equals(CRS(crs if crs != "EPSG:4490" else "EPSG:4326"), ignore_axis_order=True)
    elif fmt == "csv":
        assert r.content.startswith(b"\xef\xbb\xbf")  # the BOM that makes Excel read UTF-8
        assert data.columns[0] == "WKT" and sorted(data["宗地编号"]) == block["codes"]
        assert set(data["分类"]) == block["labels"] and set(data["所属镇街"]) == {block["unit_name"]}
        assert data.crs is None  # CSV holds no CRS: the coordinates are in the asked one
    else:
        name_field = {"kml": "Name"}.get(fmt, "宗地编号")
        assert sorted(data[name_field]) == block["codes"]
        if fmt != "kml":
            assert set(data["分类"]) == block["labels"] and set(data["所属镇街"]) == {block["unit_name"]}
        else:
            assert set(data["分类"]) == block["labels"]
        assert CRS(data.crs).equals(CRS(crs if fmt != "kml" else "EPSG:4326"), ignore_axis_order=True)
    if fmt == "shp":
        assert path.with_suffix(".cpg").read_text() == "GBK" and path.with_suffix(".prj").exists()
    _close_bounds(list(data.total_bounds), block["bounds"][crs], crs)


def test_utf8_shapefile_carries_ascii_names(client, block, tmp_path):
    r = client.get("/api/export", params={"layer": "parcels", "format": "shp", "encoding": "utf-8",
                                          "block": block["code"], "crs": "EPSG:4549"})
    data, path = _read(r.content, "shp", tmp_path)
    assert {"CODE", "CLASS", "UNIT", "AREA_MU"} <= set(data.columns)
    assert set(data["CLASS"]) == block["labels"]
    assert path.with_suffix(".cpg").read_text() == "UTF-8"


def test_other_layers_and_their_filters(client, engine, tmp_path):
    with engine.connect() as conn:
        towns = conn.scalar(select(func.count()).select_from(Unit).where(Unit.kind == "town"))
        chongfu_blocks = conn.scalar(select(func.count()).select_from(RenewalBlock).join(Unit)
                                     .where(Unit.code == "chongfu"))
        approved = conn.scalar(select(func.count()).select_from(RenewalBlock)
                               .where(RenewalBlock.review_status == "approved"))
    r = client.get("/api/export", params={"layer": "units", "format": "gpkg", "kind": "town"})
    units, _ = _read(r.content, "gpkg", tmp_path)
    assert len(units) == towns and set(units["类型"]) == {"镇"}
    r = client.get("/api/export", params={"layer": "blocks", "format": "geojson", "unit": "chongfu"})
    assert len(json.loads(r.content)["features"]) == chongfu_blocks
    r = client.get("/api/export", params={"layer": "approved_blocks", "format": "csv"})
    assert r.content.decode("utf-8-sig").count("\r\n") == approved + 1


def test_bbox_and_cql_filter_are_applied(client, engine, block):
    minx, miny, maxx, maxy = block["bounds"]["EPSG:4490"]
    box = f"{minx},{miny},{(minx + maxx) / 2},{maxy}"
    with engine.connect() as conn:
        in_box = conn.scalar(text(
            "SELECT count(*) FROM parcels WHERE ST_Intersects(geom, ST_MakeEnvelope(:a, :b, :c, :d, 4490))"
        ), {"a": minx, "b": miny, "c": (minx + maxx) / 2, "d": maxy})
        big = conn.scalar(select(func.count()).select_from(Parcel).where(Parcel.land_area_mu > 20))
    r = client.get("/api/export", params={"layer": "parcels", "bbox": box})
    assert len(json.loads(r.content)["features"]) == in_box
    r = client.get("/api/export", params={"layer": "parcels", "filter": "land_area_mu > 20"})
    assert len(json.loads(r.content)["features"]) == big
    r = client.get("/api/export", params={"layer": "parcels", "filter": "land_area_mu > 20 AND",
                                          "filter-lang": "cql-text"})
    assert r.status_code == 400 and r.json()["errors"][0]["field"] == "filter"


@pytest.mark.parametrize(("params", "field"), [
    ({"layer": "parcels", "crs": "EPSG:3857"}, "crs"),
    ({"layer": "parcels", "crs": "EPSG:4326"}, "crs"),
    ({"layer": "parcels", "crs": "nonsense"}, "crs"),
    ({"layer": "parcels", "format": "kml", "crs": "EPSG:4549"}, "crs"),
    ({"layer": "roads"}, "layer"),
    ({"layer": "parcels", "format": "pdf"}, "format"),
    ({"layer": "parcels", "format": "shp", "encoding": "big5"}, "encoding"),
    ({"layer": "units", "classification": "upgrade"}, "classification"),
    ({"layer": "blocks", "kind": "scattered"}, "kind"),
    ({"layer": "parcels", "classification": "bad"}, "classification"),
    ({"layer": "parcels", "kind": "town"}, "kind"),
    ({"layer": "parcels", "bbox": "1,2,3"}, "bbox"),
    ({"layer": "parcels", "filter": "no_such = 1"}, "filter"),
])
def test_refusals_name_the_parameter_in_chinese(client, params, field):
    r = client.get("/api/export", params=params)
    assert r.status_code == 400, r.text
    body = r.json()
    assert body["errors"][0]["field"] == field
    assert any("\u4e00" <= ch <= "\u9fff" for ch in body["detail"])


def test_too_many_features_is_a_413(client, monkeypatch):
    from app.mapapi import layer_export

    monkeypatch.setattr(layer_export, "MAX_FEATURES", 3)
    r = client.get("/api/export", params={"layer": "parcels"})
    assert r.status_code == 413 and "上限" in r.json()["detail"]


@pytest.mark.parametrize("fmt", ["gpkg", "csv", "kml", "dxf"])
def test_block_export_offers_every_format_and_crs(client, block, tmp_path, fmt):
    crs = "EPSG:4490" if fmt == "kml" else "EPSG:4528"
    r = client.get(f"/api/blocks/{block['code']}/export", params={"format": fmt, "crs": crs})
    assert r.status_code == 200, r.text
    path = tmp_path / f"block.{fmt}"
    path.write_bytes(r.content)
    if fmt == "csv":
        with zipfile.ZipFile(io.BytesIO(r.content)) as zf:
            assert sorted(zf.namelist()) == sorted([f"{block['code']}_区块.csv", f"{block['code']}_宗地.csv"])
        return
    if fmt == "dxf":
        data = _read_dxf(path)
        assert "连片改造区块" in set(data["Layer"]) and block["code"] in set(data["Text"])
        return
    names = [name for name, _ in pyogrio.list_layers(path)]
    code = block["code"] if fmt != "kml" else block["code"].replace("-", "_")  # KML's folder names
    assert names == [f"{code}_区块", f"{code}_宗地"]
    parcels = pyogrio.read_dataframe(path, layer=f"{code}_宗地")
    assert len(parcels) == len(block["codes"])
    assert CRS(parcels.crs).equals(CRS(crs if fmt != "kml" else "EPSG:4326"), ignore_axis_order=True)


def test_block_export_crs_not_offered_is_a_400(client, block):
    r = client.get(f"/api/blocks/{block['code']}/export", params={"format": "shp", "crs": "EPSG:3857"})
    assert r.status_code == 400 and r.json()["errors"][0]["field"] == "crs"
