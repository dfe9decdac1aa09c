"""WMS 1.3.0 and WFS 2.0 at /ows (MapServer) against a live server, read by real clients.

OWSLib's WebMapService reads the capabilities (Chinese titles, the offered CRSs), draws the
parcels in EPSG:4490, 4549, 4528 and 3857 — a pixel inside a parcel has its classification's
colour, a pixel away from every parcel is the background — asks GetFeatureInfo and the legend.
OWSLib's WebFeatureService and GDAL's WFS driver read the features: paging, bbox, a FES
filter, GML and GeoJSON, counts equal to the database's. The mapfile's styles are checked
against the front end's legend (frontend/src/map/styles.js).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import struct
import subprocess
import tempfile
import zlib
from pathlib import Path
from xml.etree import ElementTree

import httpx
import pyproj
import pytest
import shapely
from owslib.etree import etree
from owslib.fes2 import Filter, PropertyIsEqualTo
from owslib.wfs import WebFeatureService
from owslib.wms import WebMapService
from sqlalchemy import create_engine, text

from app.core.db import new_session
from app.core.read.layers import collections
from app.enums import Classification
from app.ogc.apikeys import create_key
from app.ows import mapfile, proxy, styles
from app.ows.proxy import mapserv_path, query_for_mapserver
from app.settings import PROJECT_ROOT, Settings
from tests.app.live_server import Live
from tests.dbutil import demo_database

needs_mapserv = pytest.mark.skipif(mapserv_path() is None,
                                   reason="MapServer (Debian cgi-mapserver) is not installed; scripts/setup.sh installs it")
SIZE = 256
WHITE = (255, 255, 255)


# -- no server: the mapfile and its styles --------------------------------------------
def _js_colours(name: str) -> dict[str, str]:
    source = (PROJECT_ROOT / "frontend/src/map/styles.js").read_text(encoding="utf-8")
    body = re.search(rf"export const {name} = \{{(.*?)\}};", source, re.S).group(1)
    return dict(re.findall(r"(\w+): '(#[0-9a-f]{6})'", body))


def test_styles_are_the_map_legend():
    assert styles.CLASSIFICATION_COLOURS == _js_colours("CLASSIFICATION_COLOURS")
    assert styles.STAGE_COLOURS == _js_colours("STAGE_COLOURS")
    source = (PROJECT_ROOT / "frontend/src/map/styles.js").read_text(encoding="utf-8")
    assert f"NO_DATA_COLOUR = '{styles.NO_DATA_COLOUR}'" in source


def test_mapfile_from_the_registry(tmp_path):
    url = Settings(database_url="postgresql://reader:s3cret@db.example:5432/cloudmap").resolved_database_url()
    from sqlalchemy.engine import make_url

    files = mapfile.write(tmp_path / "run", mapfile.conninfo(make_url(url)))
    text_ = files.mapfile.read_text(encoding="utf-8")
    assert "s3cret" not in text_ and "s3cret" not in files.config.read_text()  # the password goes by PGPASSWORD
    assert 'CONNECTION "host=db.example port=5432 dbname=cloudmap user=reader' in text_
    for layer in collections().values():
        assert f'NAME "{layer.id}"' in text_ and layer.title in text_
    for member in Classification:
        assert f'NAME "{member.label}"' in text_
    assert "classification_label" in text_ and "ST_AsEWKB" not in text_
    assert files.mapfile.stat().st_mode & 0o077 == 0 and files.directory.stat().st_mode & 0o077 == 0


def test_run_directories_of_gone_processes_are_removed():
    gone = Path(tempfile.gettempdir()) / f"{proxy.RUN_PREFIX}{2**22 + 12345}-x"  # above any pid_max
    mine = Path(tempfile.mkdtemp(prefix=f"{proxy.RUN_PREFIX}{os.getpid()}-"))
    gone.mkdir(exist_ok=True)
    proxy._sweep()
    assert not gone.exists() and mine.exists()
    mine.rmdir()


def test_the_key_and_the_mapfile_never_reach_mapserver():
    assert query_for_mapserver("SERVICE=WMS&apikey=k&APIKEY=k2&map=/etc/passwd&Map=x&request=GetMap") == \
        "SERVICE=WMS&request=GetMap"


# -- a live server ----------------------------------------------------------------------
@pytest.fixture(scope="module")
def ows_db():
    with demo_database("txmap_test_ows") as url:
        yield url


@pytest.fixture(scope="module")
def engine(ows_db):
    engine = create_engine(ows_db)
    yield engine
    engine.dispose()


@pytest.fixture(scope="module")
def live(ows_db):
    with Live(Settings(database_url=ows_db)) as server:
        yield server


@pytest.fixture(scope="module")
def wms(live):
    return WebMapService(f"{live.url}/ows", version="1.3.0", timeout=60)


@pytest.fixture(scope="module")
def wfs(live):
    return WebFeatureService(f"{live.url}/ows", version="2.0.0", timeout=60)


@pytest.fixture(scope="module")
def parcels(engine):
    """Every parcel: code → (classification, geometry in lon/lat)."""
    with new_session(engine) as s:
        rows = s.execute(text("SELECT code, classification, ST_AsBinary(geom) FROM parcels")).all()
    return {code: (cls, shapely.from_wkb(bytes(wkb))) for code, cls, wkb in rows}


@pytest.fixture(scope="module")
def target(parcels):
    """The largest classified parcel, its classification and a window three times its size."""
    code, (cls, geom) = max(((c, v) for c, v in parcels.items() if v[0]), key=lambda item: item[1][1].area)
    minx, miny, maxx, maxy = geom.bounds
    half = max(maxx - minx, maxy - miny) * 1.5
    cx, cy = (minx + maxx) / 2, (miny + maxy) / 2
    return code, cls, geom, shapely.box(cx - half, cy - half, cx + half, cy + half)


def _png(data: bytes) -> tuple[int, int, list[bytes], int, list[tuple]]:
    """A PNG's rows of 8-bit pixels: width, height, unfiltered rows, bytes per pixel, palette."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", data[:200]
    pos, idat, palette = 8, b"", []
    width = height = 0
    colour_type = 0
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        chunk = data[pos + 8:pos + 8 + length]
        pos += 12 + length
        if kind == b"IHDR":
            width, height, depth, colour_type = struct.unpack(">IIBB", chunk[:10])
            assert depth == 8
        elif kind == b"PLTE":
            palette = [tuple(chunk[i:i + 3]) for i in range(0, len(chunk), 3)]
        elif kind == b"IDAT":
            idat += chunk
    bpp = {2: 3, 6: 4, 3: 1, 0: 1, 4: 2}[colour_type]
    raw = zlib.decompress(idat)
    stride = width * bpp
    rows, prev = [], bytearray(stride)
    for y in range(height):
        ftype, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b = prev[i]
            c = prev[i - bpp] if i >= bpp else 0
            if ftype == 1:
                line[i] = (line[i] + a) & 0xFF
            elif ftype == 2:
                line[i] = (line[i] + b) & 0xFF
            elif ftype == 3:
                line[i] = (line[i] + (a + b) // 2) & 0xFF
            elif ftype == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 0xFF
        rows.append(bytes(line))
        prev = line
    return width, height, rows, bpp, palette


def _pixel(png: tuple, x: int, y: int) -> tuple[int, int, int]:
    _w, _h, rows, bpp, palette = png
    px = rows[y][x * bpp:(x + 1) * bpp]
    if palette:
        return palette[px[0]]
    return tuple(px[:3])


def _rgb(hex_colour: str) -> tuple[int, int, int]:
    return tuple(int(hex_colour[i:i + 2], 16) for i in (1, 3, 5))


def _window(window: shapely.Polygon, srid: int) -> tuple[tuple[float, float, float, float], callable]:
    """The window in ``srid`` (east/north bounds, made square) and lon/lat → pixel."""
    to = pyproj.Transformer.from_crs(4490, srid, always_xy=True)
    xs, ys = to.transform(*zip(*shapely.segmentize(window.exterior, window.length / 200).coords, strict=True))
    minx, miny, maxx, maxy = min(xs), min(ys), max(xs), max(ys)
    side = max(maxx - minx, maxy - miny)
    cx, cy = (minx + maxx) / 2, (miny + maxy) / 2
    box = (cx - side / 2, cy - side / 2, cx + side / 2, cy + side / 2)

    def pixel(lon: float, lat: float) -> tuple[int, int]:
        x, y = to.transform(lon, lat)
        return int((x - box[0]) / side * SIZE), int((box[3] - y) / side * SIZE)

    return box, pixel


def _empty_point(window: shapely.Polygon, parcels: dict, margin: float) -> shapely.Point:
    """A point of the window farther than ``margin`` (degrees) from every parcel."""
    every = shapely.union_all([g for _c, g in parcels.values()]).buffer(margin)
    minx, miny, maxx, maxy = window.bounds
    for i in range(1, 10):
        for j in range(1, 10):
            p = shapely.Point(minx + (maxx - minx) * i / 10, miny + (maxy - miny) * j / 10)
            if not every.contains(p):
                return p
    raise AssertionError("no empty point in the window")


@needs_mapserv
def test_wms_capabilities(wms, live):
    assert wms.identification.title == "桐乡工业全域治理云图"
    for layer in collections().values():
        entry = wms.contents[layer.id]
        assert entry.title == layer.title
        assert {"EPSG:4490", "EPSG:4549", "EPSG:4528", "EPSG:3857"} <= set(entry.crsOptions)
    # every URL of the capabilities is this server's
    get_map = wms.getOperationByName("GetMap").methods[0]["url"]
    assert get_map.startswith(f"{live.url}/ows?")


@needs_mapserv
@pytest.mark.parametrize("srid", [4490, 4549, 4528, 3857])
def test_getmap_draws_the_parcels_where_they_are(wms, target, parcels, srid):
    code, cls, geom, window = target
    box, pixel = _window(window, srid)
    image = wms.getmap(layers=["parcels"], styles=[""], srs=f"EPSG:{srid}", bbox=box, size=(SIZE, SIZE),
                       format="image/png", transparent=False)
    png = _png(image.read())
    assert png[:2] == (SIZE, SIZE)
    inside = shapely.maximum_inscribed_circle(geom).coords[0]  # the point farthest from the edges
    assert _pixel(png, *pixel(*inside)) == _rgb(styles.CLASSIFICATION_COLOURS[cls]), (code, srid)
    empty = _empty_point(window, parcels, (window.bounds[2] - window.bounds[0]) / 40)
    assert _pixel(png, *pixel(empty.x, empty.y)) == WHITE, srid


@needs_mapserv
def test_getfeatureinfo_names_the_parcel(wms, target):
    code, _cls, geom, window = target
    box, pixel = _window(window, 4490)
    i, j = pixel(*shapely.maximum_inscribed_circle(geom).coords[0])
    common = dict(layers=["parcels"], query_layers=["parcels"], srs="EPSG:4490", bbox=box, size=(SIZE, SIZE),
                  format="image/png", xy=(i, j))
    html = wms.getfeatureinfo(info_format="text/html", **common).read().decode("utf-8")
    assert code in html and "宗地编号" in html and "分类" in html
    assert "clear_out" not in html and "upgrade" not in html  # labels, not codes
    gml = wms.getfeatureinfo(info_format="application/vnd.ogc.gml", **common).read().decode("utf-8")
    assert f"<宗地编号>{code}</宗地编号>" in gml  # Chinese field names on screen (QGIS's identify)


@needs_mapserv
def test_legend_is_a_png_of_the_classes(wms):
    legend = wms.contents["parcels"].styles["default"]["legend"]
    answer = httpx.get(legend, timeout=30)
    assert answer.status_code == 200 and answer.headers["content-type"] == "image/png"
    width, height, *_ = _png(answer.content)
    assert width > 40 and height > 4 * 12  # four classes (改造提升, 优化转型, 整治清退, 未分类)


@needs_mapserv
def test_wfs_layers_paging_and_counts(wfs, live, parcels, engine):
    for layer in collections().values():
        assert wfs.contents[f"ms:{layer.id}"].title == layer.title
    codes = sorted(parcels)
    pages = []
    for start in (0, 7):
        answer = wfs.getfeature(typename=["ms:parcels"], maxfeatures=7, startindex=start, sortby=["code"],
                                outputFormat="application/json; subtype=geojson")
        doc = json.loads(answer.read())
        assert doc["numberMatched"] == len(parcels)
        pages.append([f["properties"]["code"] for f in doc["features"]])
    assert pages == [codes[:7], codes[7:14]]
    feature = json.loads(wfs.getfeature(typename=["ms:parcels"], maxfeatures=1, sortby=["code"],
                                        outputFormat="application/json; subtype=geojson").read())["features"][0]
    assert set(feature["properties"]) == {p.name for p in collections()["parcels"].properties}  # as /ogc
    assert feature["properties"]["classification_label"] in {m.label for m in Classification}
    # a boolean is 1/0, not the 0 OGR makes of MapServer's text "true"
    units = json.loads(wfs.getfeature(typename=["ms:units"], outputFormat="application/json; subtype=geojson").read())
    with new_session(engine) as s:
        schematic = dict(s.execute(text("SELECT code, is_schematic FROM units")).all())
    assert {f["properties"]["code"]: f["properties"]["is_schematic"] for f in units["features"]} == \
        {code: int(flag) for code, flag in schematic.items()}
    # GML 3.2, the default: numberMatched and the members
    gml = ElementTree.fromstring(wfs.getfeature(typename=["ms:parcels"], maxfeatures=5, startindex=0).read())
    assert int(gml.get("numberMatched")) == len(parcels)
    assert len(gml.findall("{http://www.opengis.net/wfs/2.0}member")) == 5


@needs_mapserv
def test_wfs_bbox_and_filter(wfs, live, target, parcels):
    _code, _cls, _geom, window = target
    minx, miny, maxx, maxy = window.bounds
    expected = {c for c, (_k, g) in parcels.items() if g.intersects(window)}
    answer = httpx.get(f"{live.url}/ows", params={
        "service": "WFS", "version": "2.0.0", "request": "GetFeature", "typeNames": "ms:parcels",
        "outputFormat": "geojson", "bbox": f"{miny},{minx},{maxy},{maxx},urn:ogc:def:crs:EPSG::4490"}, timeout=60)
    assert answer.status_code == 200, answer.text
    assert {f["properties"]["code"] for f in answer.json()["features"]} == expected
    # OWSLib sends a filter by GET as a non-standard ``query=``; GDAL and QGIS send FILTER= (KVP)
    filter_ = etree.tostring(Filter(PropertyIsEqualTo(propertyname="classification", literal="clear_out")).toXML())
    doc = httpx.get(f"{live.url}/ows", params={
        "service": "WFS", "version": "2.0.0", "request": "GetFeature", "typeNames": "ms:parcels",
        "outputFormat": "application/json; subtype=geojson", "filter": filter_.decode()}, timeout=60).json()
    cleared = {c for c, (k, _g) in parcels.items() if k == "clear_out"}
    assert doc["numberMatched"] == len(cleared) and {f["properties"]["code"] for f in doc["features"]} == cleared


@needs_mapserv
@pytest.mark.skipif(shutil.which("ogrinfo") is None, reason="gdal-bin is not installed (scripts/setup.sh installs it)")
def test_gdal_reads_the_parcels(live, parcels):
    out = subprocess.run(["ogrinfo", "-ro", "-so", f"WFS:{live.url}/ows", "ms:parcels"],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert f"Feature Count: {len(parcels)}" in out.stdout
    assert "classification_label" in out.stdout
    out = subprocess.run(["ogr2ogr", "-f", "CSV", "/vsistdout/", f"WFS:{live.url}/ows", "ms:parcels", "-select", "code"],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert sorted(out.stdout.split()[1:]) == sorted(parcels)


@pytest.fixture(scope="module")
def key(engine):
    with new_session(engine) as s:
        made = create_key(s, "自然资源和规划局 QGIS", 1000).key
        s.commit()
    return made


@needs_mapserv
def test_apikey_is_carried_into_the_capabilities(live, key):
    answer = httpx.get(f"{live.url}/ows", params={"service": "WMS", "request": "GetCapabilities", "apikey": key},
                       timeout=60)
    assert answer.status_code == 200, answer.text
    hrefs = set(re.findall(r'xlink:href="([^"]+)"', answer.text))
    assert hrefs and all(h.startswith(f"{live.url}/ows?apikey={key}&amp;") for h in hrefs), hrefs
    legend = httpx.get(next(h for h in hrefs if "GetLegendGraphic" in h).replace("&amp;", "&"), timeout=30)
    assert legend.status_code == 200 and legend.headers["content-type"] == "image/png"


@needs_mapserv
def test_no_service_is_a_chinese_400(live):
    answer = httpx.get(f"{live.url}/ows", timeout=30)
    assert answer.status_code == 400 and answer.json()["errors"][0]["field"] == "service"
    assert "WMS" in answer.json()["detail"]
    assert httpx.get(f"{live.url}/wfs", params={"service": "WCS"}, timeout=30).status_code == 400


@needs_mapserv
def test_metadata_links_of_the_capabilities_answer(wms):
    url = wms.contents["parcels"].metadataUrls[0]["url"]
    answer = httpx.get(url, timeout=30)
    assert answer.status_code == 200 and "xml" in answer.headers["content-type"]
    titles = ElementTree.fromstring(answer.content).iter("{http://www.isotc211.org/2005/gco}CharacterString")
    assert "宗地" in {t.text for t in titles}


def test_without_mapserver_a_chinese_503(live, monkeypatch):
    monkeypatch.setattr(proxy, "mapserv_path", lambda: None)
    answer = httpx.get(f"{live.url}/ows", params={"service": "WMS", "request": "GetCapabilities"}, timeout=30)
    assert answer.status_code == 503 and answer.json()["code"] == "ows_unavailable"
    assert "MapServer" in answer.json()["detail"]


@needs_mapserv
@pytest.mark.skipif(shutil.which("ogrinfo") is None, reason="gdal-bin is not installed (scripts/setup.sh installs it)")
def test_gdal_with_apikey_when_anonymous_access_is_off(ows_db, key, parcels):
    with Live(Settings(database_url=ows_db, ogc_allow_anonymous=False)) as closed:
        refused = httpx.get(f"{closed.url}/ows", params={"service": "WFS", "request": "GetCapabilities"}, timeout=30)
        assert refused.status_code == 401
        out = subprocess.run(["ogrinfo", "-ro", "-so", f"WFS:{closed.url}/ows?apikey={key}", "ms:parcels"],
                             capture_output=True, text=True, timeout=120)
        assert out.returncode == 0, out.stderr
        assert f"Feature Count: {len(parcels)}" in out.stdout
