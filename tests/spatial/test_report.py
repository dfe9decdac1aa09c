"""The full report: areas, FARs, validity, contiguity, 四至 and rules together."""

import json

import pytest
from shapely import box

from spatial import (
    ParcelInput,
    analyse_block,
    analyse_features,
    analyse_parcels,
    reproject,
)
from tests.spatial.shapes import BOWTIE, OVERLAP_A, OVERLAP_B, X0, Y0

TYPE = "industrial_to_industrial"


def block_parcels(far=2.5):
    """Two 135-亩 squares across a 24 m road: 270 亩, contiguous."""
    west = box(X0, Y0, X0 + 300, Y0 + 300)
    east = box(X0 + 324, Y0, X0 + 624, Y0 + 300)
    return [
        ParcelInput("W", west, far * west.area, TYPE, "upgrade", "甲公司"),
        ParcelInput("E", east, far * east.area, TYPE, "transform", "乙公司"),
    ]


NEIGHBOURS_4549 = [
    ("梧桐大道", box(X0 - 50, Y0 - 30, X0 + 700, Y0)),
    ("振兴路", box(X0 - 50, Y0 + 300, X0 + 700, Y0 + 330)),
    ("康泾塘", box(X0 - 40, Y0, X0 - 10, Y0 + 300)),
    ("丙公司", box(X0 + 624, Y0, X0 + 800, Y0 + 300)),
]


def test_block_report_in_4549():
    r = analyse_block(block_parcels(), block_id="B1", block_geom=box(X0, Y0, X0 + 624, Y0 + 300),
                      neighbours=NEIGHBOURS_4549, crs=4549)
    assert r.land_area_mu == 270.0 and r.boundary_area_mu == pytest.approx(280.8)
    assert r.average_far == 2.5 and [p.far for p in r.parcels] == [2.5, 2.5]
    assert r.contiguity.is_contiguous and len(r.contiguity.gaps) == 1
    assert r.four_boundaries.text == "东至丙公司，南至梧桐大道，西至康泾塘，北至振兴路"
    assert [p.code for p in r.problems] == ["gap"]  # the road inside the boundary
    assert r.violations == () and r.passed
    assert r.ellipsoidal_area_m2 == pytest.approx(r.land_area_m2, rel=2e-4)


def test_block_report_from_storage_crs_matches():
    parcels = [ParcelInput(p.id, reproject(p.geom, 4549, 4490), p.floor_area_m2, p.renewal_type, p.classification)
               for p in block_parcels()]
    neighbours = [(n, reproject(g, 4549, 4490)) for n, g in NEIGHBOURS_4549]
    r = analyse_block(parcels, neighbours=neighbours)  # default crs=4490
    assert r.land_area_mu == 270.0
    assert r.four_boundaries.south == "梧桐大道"
    gap = r.contiguity.gaps[0]
    assert 120.5 < gap.location[0] < 120.6 and 30.6 < gap.location[1] < 30.7  # lon/lat back out
    assert r.location_srid == 4490 and r.extremes_srid == 4549


def test_block_report_failures_are_data():
    small = [ParcelInput("A", box(X0, Y0, X0 + 100, Y0 + 100), None, None, None),
             ParcelInput("B", box(X0 + 500, Y0, X0 + 600, Y0 + 100), None, "commercial", "upgrade")]
    r = analyse_block(small, block_id="B2", crs=4549, unit="崇福镇", year=2022, designated_block_ids=["X", "Y", "B2"])
    assert not r.passed
    assert [v.code for v in r.violations] == [
        "block_area_below_min", "block_not_contiguous", "renewal_type_not_counted",
        "classification_missing", "unit_year_block_limit_exceeded",
    ]
    assert r.average_far is None and r.floor_area_m2 is None


def test_invalid_and_overlapping_parcels_are_reported_and_measured_repaired():
    parcels = [ParcelInput("bow", BOWTIE, 100.0, TYPE, "upgrade"),
               ParcelInput("A", OVERLAP_A, 20000.0, TYPE, "upgrade"),
               ParcelInput("B", OVERLAP_B, 20000.0, TYPE, "upgrade"),
               ParcelInput("none", None, None, TYPE, "upgrade")]
    r = analyse_block(parcels, crs=4549)
    got = [(p.code, p.feature_ids) for p in r.problems]
    assert ("invalid_geometry", ("bow",)) in got and ("overlap", ("A", "B")) in got and ("null_geometry", ("none",)) in got
    assert r.parcels[0].area_m2 == 50.0  # measured on the repaired shape
    assert r.parcels[3].area_m2 is None and r.parcels[3].far is None
    assert not r.passed
    invalid = next(p for p in r.problems if p.code == "invalid_geometry")
    assert 120.5 < invalid.location[0] < 120.6  # back in lon/lat
    assert invalid.repaired.bounds[0] == pytest.approx(invalid.location[0], abs=1e-3)


def test_scattered_parcels_report():
    ok = ParcelInput("Z1", box(X0, Y0, X0 + 100, Y0 + 400 / 3), 26_666.67, "zero_land", "upgrade", "甲公司")
    small = ParcelInput("Z2", box(X0 + 100, Y0, X0 + 199.95, Y0 + 133.3), 30_000.0, TYPE, "transform", "乙公司")
    merged = ParcelInput("Z3", box(X0 + 400, Y0, X0 + 500, Y0 + 140), None, TYPE, "upgrade", merged=True)
    r = analyse_parcels([ok, small, merged], crs=4549)
    assert [p.area_mu for p in r.parcels][0] == pytest.approx(20.0)
    assert [v.code for v in r.violations] == ["parcel_area_below_min"]
    assert r.parcels[1].violations[0].feature_ids == ("Z2",)
    assert r.parcels[0].four_boundaries.east == "乙公司" and r.parcels[1].four_boundaries.west == "甲公司"
    assert not r.passed


def test_analyse_features_dispatches():
    assert analyse_features(block_parcels(), kind="block", crs=4549).land_area_mu == 270.0
    assert analyse_features(block_parcels(), kind="scattered", crs=4549).passed
    with pytest.raises(ValueError):
        analyse_features(block_parcels(), kind="town")
    with pytest.raises(ValueError):
        analyse_block([])


def test_reports_serialise_to_json():
    r = analyse_block(block_parcels(), block_id="B1", block_geom=box(X0, Y0, X0 + 624, Y0 + 300),
                      neighbours=NEIGHBOURS_4549, crs=4549)
    text = json.dumps(r.to_dict(), ensure_ascii=False)
    back = json.loads(text)
    assert back["kind"] == "block" and back["four_boundaries"]["east"] == "丙公司"
    assert back["contiguity"]["component_count"] == 1
    s = analyse_parcels(block_parcels(), crs=4549).to_dict()
    json.dumps(s, ensure_ascii=False)
    assert s["kind"] == "scattered"
