"""CRS: guesses from coordinate ranges, .prj reading, reprojection and GCJ-02."""

import numpy as np
import pytest
from pyproj import CRS, Geod
from shapely import Point, box

from spatial import (
    AREA_SRID,
    STORAGE_SRID,
    ZONE_PREFIXED_AREA_SRID,
    CrsGuess,
    crs_from_prj,
    gcj02_to_storage,
    gk3_epsg,
    guess_crs,
    reproject,
    resolve_crs,
    storage_to_gcj02,
    to_area_crs,
    to_storage_crs,
    transformer,
)
from spatial.crs import gcj02_to_wgs84_xy, wgs84_to_gcj02_xy

# A grid over Tongxiang (about 120.28–120.66°E, 30.47–30.78°N), lon/lat CGCS2000
LON, LAT = np.meshgrid(np.linspace(120.28, 120.66, 9), np.linspace(30.47, 30.78, 7))
LON, LAT = LON.ravel(), LAT.ravel()


def in_crs(epsg):
    return transformer(STORAGE_SRID, epsg).transform(LON, LAT)


def test_axis_order_is_lon_lat_for_4490():
    p = reproject(Point(120.5, 30.6), STORAGE_SRID, AREA_SRID)
    assert 540_000 < p.x < 560_000 and 3_380_000 < p.y < 3_400_000


def test_round_trip_storage_area_storage_is_sub_millimetre():
    square = to_storage_crs(box(553_000, 3_389_000, 553_200, 3_389_200), AREA_SRID)
    back = to_area_crs(square)
    assert np.allclose(np.asarray(back.exterior.coords), np.asarray(box(553_000, 3_389_000, 553_200, 3_389_200).exterior.coords), atol=1e-6)


def test_any_epsg_wkt_or_proj_input_reaches_storage():
    p = Point(40_553_000.0, 3_389_000.0)
    by_code = to_storage_crs(p, 4528)
    by_wkt = to_storage_crs(p, CRS.from_epsg(4528).to_wkt())
    by_proj = to_storage_crs(p, "+proj=tmerc +lat_0=0 +lon_0=120 +k=1 +x_0=40500000 +y_0=0 +ellps=GRS80 +units=m +no_defs")
    assert by_code.distance(by_wkt) < 1e-9
    assert by_code.distance(by_proj) < 1e-7


@pytest.mark.parametrize("datum", ["cgcs2000", "xian1980", "beijing1954"])
def test_gk3_epsg_numbering_matches_the_proj_database(datum):
    label = {"cgcs2000": "CGCS2000", "xian1980": "Xian 1980", "beijing1954": "Beijing 1954"}[datum]
    for zone in (25, 39, 40, 41, 45):
        assert CRS.from_epsg(gk3_epsg(zone, prefixed=True, datum=datum)).name == f"{label} / 3-degree Gauss-Kruger zone {zone}"
    for cm in (75, 117, 120, 123, 135):
        assert CRS.from_epsg(gk3_epsg(cm, prefixed=False, datum=datum)).name == f"{label} / 3-degree Gauss-Kruger CM {cm}E"


def test_gk3_epsg_rejects_nonsense():
    with pytest.raises(ValueError):
        gk3_epsg(50, prefixed=True)
    with pytest.raises(ValueError):
        gk3_epsg(121, prefixed=False)


def test_guess_unprefixed_gk_in_tongxiang_is_4549_high():
    g = guess_crs(*in_crs(AREA_SRID))
    assert isinstance(g, CrsGuess)
    assert (g.epsg, g.confidence, g.zone_prefixed, g.axis_swapped) == (AREA_SRID, "high", False, False)
    assert "EPSG:4549" in g.explanation_zh and "桐乡" in g.explanation_zh
    assert g.confidence_zh == "高"


def test_guess_zone_prefixed_x_is_4528_high():
    xs, ys = in_crs(ZONE_PREFIXED_AREA_SRID)
    assert xs.min() > 40_000_000
    g = guess_crs(xs, ys)
    assert (g.epsg, g.confidence, g.zone, g.zone_prefixed) == (ZONE_PREFIXED_AREA_SRID, "high", 40, True)
    assert "40 带号" in g.explanation_zh


@pytest.mark.parametrize("zone, epsg", [(39, 4527), (41, 4529)])
def test_guess_neighbouring_prefixed_zones(zone, epsg):
    # real coordinates of those zones (CM 117°E / 123°E), 30.6°N
    lon = zone * 3 + np.array([-0.5, 0.0, 0.5])
    xs, ys = transformer(STORAGE_SRID, epsg).transform(lon, np.full(3, 30.6))
    g = guess_crs(xs, ys)
    assert (g.epsg, g.zone, g.zone_prefixed) == (epsg, zone, True)
    assert g.confidence == "high"


def test_unprefixed_coordinates_outside_tongxiang_are_only_a_low_guess():
    # numbers that would be valid in any zone; with CM 120°E they land in Shandong, not Tongxiang
    g = guess_crs([500_000.0, 520_000.0], [4_000_000.0, 4_020_000.0])
    assert g.epsg == AREA_SRID and g.confidence == "low"
    assert "4548" in g.explanation_zh and "4550" in g.explanation_zh


def test_guess_lon_lat():
    g = guess_crs(LON, LAT)
    assert (g.epsg, g.confidence) == (STORAGE_SRID, "high")
    assert "GCJ-02" in g.explanation_zh


def test_guess_swapped_lat_lon_and_swapped_gk():
    g = guess_crs(LAT, LON)
    assert g.axis_swapped and g.epsg == STORAGE_SRID and g.confidence == "low"
    xs, ys = in_crs(ZONE_PREFIXED_AREA_SRID)
    g = guess_crs(ys, xs)
    assert g.axis_swapped and g.epsg == ZONE_PREFIXED_AREA_SRID and g.confidence == "low"


def test_guess_gives_up_honestly():
    assert guess_crs([], []).confidence == "none"
    g = guess_crs([1e9, 2e9], [5.0, 6.0])
    assert g.epsg is None and g.confidence == "none" and ".prj" in g.explanation_zh
    assert g.to_dict()["confidence_zh"] == "无法判断"


@pytest.mark.parametrize(
    "epsg, datum, prefixed, approximate",
    [
        (4549, "cgcs2000", False, False),
        (4528, "cgcs2000", True, False),
        (2385, "xian1980", False, True),
        (2364, "xian1980", True, True),
        (2437, "beijing1954", False, True),
        (2416, "beijing1954", True, True),
    ],
)
def test_crs_from_esri_prj(epsg, datum, prefixed, approximate):
    prj = CRS.from_epsg(epsg).to_wkt(version="WKT1_ESRI")
    g = crs_from_prj(prj)
    assert (g.epsg, g.datum, g.zone_prefixed, g.approximate_datum, g.confidence) == (epsg, datum, prefixed, approximate, "high")
    if approximate:
        assert "近似" in g.explanation_zh and "数十米" in g.explanation_zh


def test_crs_from_prj_without_names_recognises_the_ellipsoid():
    # a hand-written .prj with made-up names, as some desktop tools write them
    prj = ('PROJCS["unnamed",GEOGCS["unnamed",DATUM["unknown",SPHEROID["unnamed",6378140.0,298.257]],'
           'PRIMEM["Greenwich",0.0],UNIT["Degree",0.0174532925199433]],PROJECTION["Transverse_Mercator"],'
           'PARAMETER["False_Easting",500000.0],PARAMETER["False_Northing",0.0],PARAMETER["Central_Meridian",120.0],'
           'PARAMETER["Scale_Factor",1.0],PARAMETER["Latitude_Of_Origin",0.0],UNIT["Meter",1.0]]')
    g = crs_from_prj(prj)
    assert (g.epsg, g.datum, g.approximate_datum) == (2385, "xian1980", True)


def test_crs_from_prj_geographic_and_garbage():
    assert crs_from_prj(CRS.from_epsg(4490).to_wkt(version="WKT1_ESRI")).epsg == STORAGE_SRID
    assert crs_from_prj(CRS.from_epsg(4326).to_wkt(version="WKT1_ESRI")).epsg == 4326
    assert crs_from_prj("EPSG:3857").epsg == 3857
    assert crs_from_prj("").confidence == "none"
    assert crs_from_prj("not a crs at all").epsg is None


def test_xian80_datum_shift_is_tens_of_metres_at_most():
    # PROJ's ballpark Xian 1980 -> CGCS2000: the documented "approximate" shift
    xs, ys = in_crs(AREA_SRID)
    x2, y2 = transformer(2385, AREA_SRID).transform(xs, ys)
    assert np.hypot(x2 - xs, y2 - ys).max() < 100


def test_resolve_crs_missing_prj_uses_the_coordinates():
    g = resolve_crs(None, *in_crs(ZONE_PREFIXED_AREA_SRID))
    assert g.epsg == ZONE_PREFIXED_AREA_SRID and g.explanation_zh.startswith("缺少 .prj")


def test_resolve_crs_prefers_a_consistent_prj_and_overrides_a_contradicting_one():
    xs, ys = in_crs(ZONE_PREFIXED_AREA_SRID)
    good = CRS.from_epsg(4528).to_wkt(version="WKT1_ESRI")
    assert resolve_crs(good, xs, ys).epsg == 4528
    wrong = CRS.from_epsg(4549).to_wkt(version="WKT1_ESRI")  # says no prefix, X has one
    g = resolve_crs(wrong, xs, ys)
    assert g.epsg == 4528 and g.confidence == "medium" and "不符" in g.explanation_zh


GEOD = Geod(ellps="GRS80")


def test_gcj02_round_trip_within_half_a_metre():
    glon, glat = wgs84_to_gcj02_xy(LON, LAT)
    back_lon, back_lat = gcj02_to_wgs84_xy(glon, glat)
    _, _, err = GEOD.inv(LON, LAT, back_lon, back_lat)
    assert np.max(np.abs(err)) < 0.5
    # in practice far better: the inversion converges to millimetres
    assert np.max(np.abs(err)) < 0.01


def test_gcj02_offset_in_tongxiang_is_hundreds_of_metres():
    glon, glat = wgs84_to_gcj02_xy(LON, LAT)
    _, _, shift = GEOD.inv(LON, LAT, glon, glat)
    assert 300 < np.min(np.abs(shift)) and np.max(np.abs(shift)) < 700


def test_gcj02_geometry_round_trip():
    parcel = box(120.55, 30.62, 120.552, 30.622)
    back = gcj02_to_storage(storage_to_gcj02(parcel))
    _, _, err = GEOD.inv(*np.asarray(parcel.exterior.coords).T, *np.asarray(back.exterior.coords).T)
    assert np.max(np.abs(err)) < 0.5
