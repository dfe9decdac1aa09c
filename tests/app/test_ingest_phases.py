"""The ingest phases one by one, on small hand-made column arrays and a fake lookup (no database), the
typed Problem and its JSON, and — on the real database — every problem the upload corpus produces read
back through the API and checked against the documented schema (ProblemOut)."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import orjson
import pytest
import shapely
from fastapi.testclient import TestClient
from pydantic import ValidationError
from shapely import box

import spatial
from app.core.db import get_session
from app.core.uow import unit_of_work
from app.errors import InvalidUpload
from app.ingest import validate as v
from app.ingest.lookup import DbLookup, Existing, UnitRef
from app.ingest.mapping import resolve
from app.ingest.problems import ERROR, INFO, REPAIRABLE, WARNING, Problem, ProblemOut, blocking, dumps, worst
from app.ingest.read import Limits, RawLayer, open_upload
from app.ingest.service import decide_crs
from app.main import create_app
from tests.app import upload_corpus as corpus

E0, N0 = corpus.E0, corpus.N0
RECT = corpus.rectangles  # 20.00 亩 rectangles in EPSG:4549
# Two units side by side (EPSG:4549): 甲镇 west of E0 + 3000 m, 乙镇 east of it.
UNITS = [
    UnitRef(11, "jia", "甲镇", box(E0 - 3000, N0 - 3000, E0 + 3000, N0 + 3000)),
    UnitRef(12, "yi", "乙镇", box(E0 + 3000, N0 - 3000, E0 + 9000, N0 + 3000)),
]


class FakeLookup:
    """The stored data a test needs, in memory: what :class:`app.ingest.lookup.Lookup` promises."""

    def __init__(self, units=UNITS, blocks=None, enterprises=None, existing=None, stored=None):
        self._units = list(units)
        self._blocks = blocks or {}
        self._enterprises = enterprises or {}
        self._existing = existing or {}
        self._stored = stored or []  # (code, geometry EPSG:4490)
        self.asked: list[str] = []

    def units(self):
        self.asked.append("units")
        return self._units

    def blocks(self):
        self.asked.append("blocks")
        return self._blocks

    def enterprises(self, names, credit_codes):
        self.asked.append("enterprises")
        return {k: i for k, i in self._enterprises.items() if k in names or k in credit_codes}

    def existing(self, target, codes):
        self.asked.append("existing")
        return {c: e for c, e in self._existing.items() if c in codes}

    def stored_near(self, target, bbox_4490, exclude_codes):
        self.asked.append("stored_near")
        rows = [(c, g) for c, g in self._stored if c not in exclude_codes]
        return [c for c, _ in rows], np.array([g for _, g in rows], dtype=object)


def objects(values) -> np.ndarray:
    out = np.empty(len(values), dtype=object)
    out[:] = list(values)
    return out


def raw_layer(geoms_4549, **columns) -> RawLayer:
    """A layer as read.py hands it on: WKB and decoded attribute columns (here in EPSG:4549)."""
    wkb = objects([None if g is None else shapely.to_wkb(g) for g in geoms_4549])
    return RawLayer(format="shapefile", layer="test.shp", layers=["test.shp"], encoding="utf-8",
                    encoding_source="cpg", crs_text=None, crs_text_source=None, geometry_type="Polygon",
                    fields=list(columns), columns=[objects(c) if not isinstance(c, np.ndarray) else c
                                                    for c in columns.values()], wkb=wkb)


def measured(geoms_4549, codes=None):
    shapes = v.decode(objects(geoms_4549), spatial.AREA_SRID)
    geo = v.geometry(shapes)
    return shapes, geo, v.measure(geo, codes or [f"C{k + 1}" for k in range(len(geoms_4549))])


def codes_of(problems, feature=None) -> list[str]:
    return [p.code for p in problems if feature is None or p.feature == feature]


BOWTIE = shapely.Polygon([(E0, N0), (E0 + 100, N0 + 100), (E0 + 100, N0), (E0, N0 + 100)])


# --- Problem and its JSON --------------------------------------------------------------

def test_problem_json_leaves_out_empty_fields_in_the_reports_key_order():
    p = Problem("duplicate_code", ERROR, "宗地编号“A”在文件中重复", 3, "A", "宗地编号", (120.5, 30.6),
                other_features=(1,))
    assert p.to_json() == {"code": "duplicate_code", "severity": "error", "field": "宗地编号", "other_features": [1],
                           "message": "宗地编号“A”在文件中重复", "feature": 3, "feature_code": "A",
                           "location": [120.5, 30.6]}
    assert list(p.to_json()) == ["code", "severity", "field", "other_features", "message", "feature", "feature_code",
                                 "location"]
    bare = Problem("null_geometry", ERROR, "缺少几何图形（空值）", 1)
    assert bare.to_json() == {"code": "null_geometry", "severity": "error", "message": "缺少几何图形（空值）", "feature": 1}
    with pytest.raises(dataclasses.FrozenInstanceError):
        p.code = "other"  # type: ignore[misc]
    assert not hasattr(p, "__dict__")  # slots


@pytest.mark.parametrize("problem", [
    Problem("invalid_geometry", ERROR, "几何无效", 1, "BT0001", None, (120.1, 30.2),
            {"area_before_m2": 0.0, "area_after_m2": 5000.0}, True),
    Problem("wrong_geometry_type", ERROR, "几何类型为点", 2, values={"geom_type": "Point"}, repairable=False),
    Problem("overlap_in_file", ERROR, "与文件中第 1 个要素重叠", 2, "B", location=(120.0, 30.0), other_features=(1,)),
    Problem("unchanged", INFO, "已在库中", 7, "X"),
])
def test_problem_json_round_trip(problem):
    data = problem.to_json()
    assert Problem.from_json(data) == problem
    assert Problem.from_json(json.loads(dumps([problem]))[0]) == problem
    assert json.loads(dumps([problem, problem])) == [data, data]
    ProblemOut.model_validate(data)


def test_dumps_takes_numpy_numbers_in_values():
    p = Problem("hole", WARNING, "面内有洞", 1, values={"count": np.int64(2), "areas_m2": [np.float64(1.5)]})
    assert json.loads(dumps([p]))[0]["values"] == {"count": 2, "areas_m2": [1.5]}


def test_problem_out_documents_every_field_and_refuses_others():
    schema = ProblemOut.model_json_schema()
    assert set(schema["properties"]) == {f.name for f in dataclasses.fields(Problem)}
    assert set(schema["required"]) == {"code", "severity", "message", "feature"}
    assert all(prop.get("description") for prop in schema["properties"].values())
    severity = schema["properties"]["severity"]
    assert severity["enum"] == ["error", "warning", "info"]
    with pytest.raises(ValidationError):
        ProblemOut.model_validate({"code": "x", "severity": "fatal", "message": "m", "feature": 1})
    with pytest.raises(ValidationError):
        ProblemOut.model_validate({"code": "x", "severity": "error", "message": "m", "feature": 1, "extra": 1})
    with pytest.raises(ValidationError):
        ProblemOut.model_validate({"code": "x", "severity": "error", "message": "m", "feature": 1,
                                   "location": [120.0]})


def test_blocking_on_objects_and_on_the_stored_json_agree():
    offered = Problem("invalid_geometry", ERROR, "几何无效", 1, repairable=True)
    not_offered = Problem("wrong_geometry_type", ERROR, "几何类型为点", 1, repairable=False)
    overlap = Problem("overlap_in_file", ERROR, "重叠", 1)
    warning = Problem("hole", WARNING, "洞", 1)
    for accepted in (False, True):
        mine = [p for p in (offered, not_offered, overlap, warning) if p.blocks(accepted)]
        stored = blocking([p.to_json() for p in (offered, not_offered, overlap, warning)], accepted)
        assert [p.to_json() for p in mine] == stored
    assert not offered.blocks(accepted_repair=True) and offered.blocks(accepted_repair=False)
    assert offered.repair_offered and not not_offered.repair_offered and REPAIRABLE >= {offered.code}
    assert worst([warning]) == WARNING and worst([warning, overlap]) == ERROR
    assert worst([Problem("unchanged", INFO, "无变化", 1)]) == "ok"


# --- decode, geometry, measure ------------------------------------------------------------

def test_decode_drops_z_and_reaches_both_crss_from_the_source():
    with_z = shapely.force_3d(RECT(1)[0], 12.5)
    shapes = v.decode(objects([with_z, None, shapely.Polygon()]), spatial.AREA_SRID)
    assert not shapely.has_z(shapes.g4549[0]) and not shapely.has_z(shapes.g4490[0])
    assert shapely.equals_exact(shapes.g4549[0], RECT(1)[0], tolerance=1e-6)
    lon, lat = shapes.g4490[0].exterior.coords[0]
    assert 120.2 < lon < 120.8 and 30.4 < lat < 30.9
    assert shapes.g4549[1] is None and shapes.g4490[2] is None and len(shapes) == 3


def test_geometry_offers_repairs_and_leaves_nothing_to_measure_where_there_is_no_shape():
    point = shapely.Point(E0, N0)
    geoms = [RECT(1)[0], BOWTIE, None, point]
    shapes = v.decode(objects(geoms), spatial.AREA_SRID)
    geo = v.geometry(shapes)
    assert geo.ok.tolist() == [True, True, False, False]
    assert codes_of(geo.problems, 1) == []
    bowtie = next(p for p in geo.problems if p.code == "invalid_geometry")
    assert bowtie.feature == 2 and bowtie.repairable is True and bowtie.values["area_after_m2"] == pytest.approx(5000)
    assert "reason" not in bowtie.values and "接受自动修复" in bowtie.message
    assert bowtie.location is None and bowtie.feature_code is None  # placed by measure
    assert codes_of(geo.problems, 3) == ["null_geometry"]
    wrong = next(p for p in geo.problems if p.feature == 4)
    assert wrong.code == "wrong_geometry_type" and wrong.repairable is False and geo.use[3] is None
    assert geo.repaired_4549[1] is not None and geo.repaired_4549[0] is None


def test_measure_gives_mu_points_and_places_the_geometry_problems():
    _shapes, _geo, m = measured([RECT(1)[0], BOWTIE, None], codes=["A", "B", None])
    assert m.area_mu[0] == pytest.approx(20.0, abs=1e-6) and np.isnan(m.area_mu[2])
    # the file's own bow-tie has no storable area; its repair (two triangles) has 7.50 亩
    assert np.isnan(m.stored_area_mu[1]) and m.repaired_area_mu[1] == pytest.approx(7.5, abs=1e-6)
    assert m.repaired_4490[1].geom_type == "MultiPolygon" and m.repaired_4490[0] is None
    assert m.places.where[2] is None and m.places.codes == ["A", "B", None]
    lon, lat = m.places.where[0]
    assert 120.2 < lon < 120.8 and 30.4 < lat < 30.9 and round(lon, 7) == lon
    bowtie = next(p for p in m.problems if p.code == "invalid_geometry")
    assert bowtie.feature_code == "B" and bowtie.location == m.places.where[1]
    null = next(p for p in m.problems if p.code == "null_geometry")
    assert null.location is None and null.feature_code is None and "location" not in null.to_json()


# --- attributes -----------------------------------------------------------------------------

def test_attributes_types_values_and_reports_each_bad_one_with_its_field():
    _s, _g, m = measured(RECT(4))
    columns = {
        "宗地编号": objects(["A", "B", "C", "D"]),
        "建筑面积": objects(["1,200", "很多", None, "-5"]),
        "分类": objects(["改造提升", "transform", "拆了", None]),
        "用地性质": objects([" 工业用地 ", "", None, "仓储"]),
    }
    mapping = {"code": "宗地编号", "floor_area_m2": "建筑面积", "classification": "分类", "land_use": "用地性质"}
    attrs = v.attributes(columns, ["A", "B", "C", "D"], mapping, "parcels", m.places)
    assert attrs.cols["floor_area_m2"].tolist() == [1200.0, None, None, None]
    assert attrs.cols["classification"].tolist() == ["upgrade", "transform", None, None]
    assert attrs.cols["land_use"].tolist() == ["工业用地", None, None, "仓储"]
    assert np.isnan(attrs.numeric["floor_area_m2"][1]) and attrs.numeric["floor_area_m2"][3] == -5
    found = {(p.feature, p.code, p.field) for p in attrs.problems}
    assert found == {(2, "bad_number", "建筑面积"), (3, "bad_value", "分类"), (4, "bad_number", "建筑面积")}
    assert all(p.location == m.places.where[p.feature - 1] for p in attrs.problems)
    assert "改造提升、优化转型、整治清退" in next(p.message for p in attrs.problems if p.code == "bad_value")


def test_attributes_check_codes_missing_too_long_and_duplicated():
    _s, _g, m = measured(RECT(5))
    codes = ["A", None, "A", "X" * 65, "A"]
    columns = {"编号": objects(codes)}
    attrs = v.attributes(columns, codes, {"code": "编号"}, "parcels", m.places)
    assert codes_of(attrs.problems, 2) == ["code_missing"] and codes_of(attrs.problems, 4) == ["code_too_long"]
    dups = {p.feature: p for p in attrs.problems if p.code == "duplicate_code"}
    assert sorted(dups) == [1, 3, 5]
    assert dups[1].other_features == (3, 5) and dups[3].other_features == (1, 5)
    assert "第 3 个、第 5 个" in dups[1].message and dups[1].field == "编号"


def test_block_codes_are_named_as_such():
    _s, _g, m = measured(RECT(1))
    attrs = v.attributes({"QKBH": objects([None])}, [None], {"code": "QKBH"}, "blocks", m.places)
    assert [p.message for p in attrs.problems] == ["缺少区块编号"]


# --- references -------------------------------------------------------------------------

def test_references_locate_units_snap_near_ones_and_refuse_far_ones():
    inside = RECT(1)[0]
    near = shapely.affinity.translate(inside, xoff=-3200)  # ~100 m west of 甲镇
    far = shapely.affinity.translate(inside, xoff=-20_000)
    _s, _g, m = measured([inside, near, far, None])
    refs = v.references(FakeLookup(), "parcels", {"code": "c"}, {}, m)
    assert refs.unit_id == [11, 11, None, None]
    assert [(p.feature, p.code, p.severity) for p in refs.problems] == [
        (2, "unit_by_nearest", WARNING), (3, "outside_tongxiang", ERROR)]
    assert "甲镇" in refs.problems[0].message and refs.block_id == [None] * 4 and refs.notes == []


def test_the_units_column_wins_over_the_location_with_a_warning():
    geoms = RECT(3)
    _s, _g, m = measured(geoms)
    cols = {"unit": objects(["乙镇", "甲", "不存在镇"])}
    refs = v.references(FakeLookup(), "parcels", {"code": "c", "unit": "镇街"}, cols, m)
    assert refs.unit_id == [12, 11, 11]  # named (乙镇), named by part of its name (甲), unknown: where it lies
    assert [(p.feature, p.code, p.field) for p in refs.problems] == [
        (3, "unknown_unit", "镇街"), (1, "unit_mismatch", "镇街")]


def test_no_units_stored_is_refused():
    _s, _g, m = measured(RECT(1))
    with pytest.raises(InvalidUpload) as caught:
        v.references(FakeLookup(units=[]), "parcels", {"code": "c"}, {}, m)
    assert caught.value.code == "no_units" and caught.value.status_code == 409


def test_blocks_and_enterprises_are_matched_and_the_unknown_enterprises_noted():
    _s, _g, m = measured(RECT(3))
    cols = {"block": objects(["QK-1", None, "没有的区块"]),
            "enterprise": objects(["甲公司", "乙公司", "乙公司"]),
            "credit_code": objects([None, "91330483MA00000000", None])}
    lookup = FakeLookup(blocks={"QK-1": 5}, enterprises={"甲公司": 7, "91330483MA00000000": 8})
    mapping = {"code": "c", "block": "区块", "enterprise": "权利人", "credit_code": "信用代码"}
    refs = v.references(lookup, "parcels", mapping, cols, m)
    assert refs.block_id == [5, None, None] and refs.enterprise_id == [7, 8, None]
    assert [(p.feature, p.code, p.field) for p in refs.problems] == [(3, "unknown_block", "区块")]
    assert refs.notes == [{"code": "enterprise_unknown", "severity": "warning", "count": 1, "features": 1,
                           "names": [{"name": "乙公司", "count": 1, "features": [3]}],
                           "message": refs.notes[0]["message"]}] and "乙公司" in refs.notes[0]["message"]
    assert v.references(lookup, "blocks", mapping, cols, m).block_id == [None] * 3  # blocks name no block


# --- figures ----------------------------------------------------------------------------

def test_figures_far_from_the_geometry_and_declared_figures_checked():
    _s, _g, m = measured(RECT(3))
    land = 20 * spatial.M2_PER_MU
    columns = {"建筑面积": objects([land * 2, land * 12, None]), "面积亩": objects([20.0, 25.0, 20.0]),
               "容积率": objects([2.0, 12.0, 3.0])}
    mapping = {"floor_area_m2": "建筑面积", "declared_area": "面积亩", "declared_far": "容积率"}
    attrs = v.attributes(columns, ["A", "B", "C"], mapping, "parcels", m.places)
    figs = v.figures("parcels", mapping, attrs, m)
    assert figs.far[0] == pytest.approx(2.0) and figs.far[1] == pytest.approx(12.0) and np.isnan(figs.far[2])
    assert figs.area_unit == "mu" and np.isnan(figs.planned_far).all()
    assert [(p.feature, p.code, p.field) for p in figs.problems] == [
        (2, "far_out_of_range", None), (2, "area_mismatch", "面积亩")]
    assert "现状容积率" in figs.problems[0].message and "亩" in figs.problems[1].message


def test_declared_far_that_disagrees_is_a_warning_and_square_metres_are_recognised():
    _s, _g, m = measured(RECT(1))
    land = 20 * spatial.M2_PER_MU
    columns = {"JZMJ": objects([land * 2]), "ZDMJ": objects([land]), "RJL": objects([2.5])}
    mapping = {"floor_area_m2": "JZMJ", "declared_area": "ZDMJ", "declared_far": "RJL"}
    attrs = v.attributes(columns, ["A"], mapping, "parcels", m.places)
    figs = v.figures("parcels", mapping, attrs, m)
    assert figs.area_unit == "m2" and [(p.code, p.severity) for p in figs.problems] == [("far_mismatch", WARNING)]


# --- stored -----------------------------------------------------------------------------

def test_stored_tells_unchanged_from_existing():
    shapes, _g, m = measured(RECT(3))
    cols = {"land_use": objects(["工业用地", "工业用地", "工业用地"])}
    refs = v.References([11, 11, 11], [None] * 3, [None] * 3, [], [])
    existing = {
        "A": Existing(101, v._multi(shapes.g4490[:1])[0], {"land_use": "工业用地", "unit_id": 11}),
        "B": Existing(102, v._multi(shapes.g4490[1:2])[0], {"land_use": "仓储用地", "unit_id": 11}),
    }
    same = v.stored(FakeLookup(existing=existing), "parcels", ["A", "B", "C"], shapes.g4490, cols, refs, m.places)
    assert same.existing_id == [101, 102, None] and same.unchanged.tolist() == [True, False, False]
    assert [(p.feature, p.code, p.severity) for p in same.problems] == [(1, "unchanged", INFO),
                                                                      (2, "existing_code", INFO)]


# --- overlaps ---------------------------------------------------------------------------

def test_overlaps_in_the_file_on_both_features_and_with_stored_ones():
    a, b = RECT(2)
    shifted = shapely.affinity.translate(b, xoff=-100)  # overlaps a by 50 m × 133 m
    stored_4490 = spatial.reproject(objects([shapely.affinity.translate(b, xoff=500)]), spatial.AREA_SRID,
                                    spatial.STORAGE_SRID)[0]
    lonely = shapely.affinity.translate(b, xoff=550)
    _s, geo, m = measured([a, shifted, lonely], codes=["A", None, "C"])
    lookup = FakeLookup(stored=[("S1", stored_4490), ("C", stored_4490)])
    job = v.start_overlaps(lookup, "parcels", geo, ["A", None, "C"])
    found = v.overlap_problems(v._PendingOverlaps(job, "parcels", m.places))
    in_file = sorted((p.feature, p.other_features) for p in found if p.code == "overlap_in_file")
    assert in_file == [(1, (2,)), (2, (1,))]
    assert "6666.67" in found[0].message and any("无编号" in p.message for p in found if p.feature == 1)
    stored = [p for p in found if p.code == "overlap_stored"]
    assert [(p.feature, p.feature_code) for p in stored] == [(3, "C")] and "S1" in stored[0].message


# --- the whole pipeline, and the report -------------------------------------------------------

def _rich_layer():
    g = RECT(4)
    overlapping = shapely.affinity.translate(g[2], xoff=-100)  # overlaps g[1] by 50 m × 133 m
    geoms = [shapely.affinity.translate(BOWTIE, yoff=-500), g[1], overlapping, g[3], None]
    return raw_layer(geoms, 宗地编号=["T1", "T2", "T2", None, "T5"], 建筑面积=["很多", 100.0, 200.0, -1.0, None],
                     镇街=["乙镇", None, None, None, None])


def test_validate_runs_the_phases_and_the_report_orders_problems_by_phase():
    raw = _rich_layer()
    mapping = resolve(raw.fields, "parcels", None)
    assert mapping == {"code": "宗地编号", "floor_area_m2": "建筑面积", "unit": "镇街"}
    seen = []
    staged = v.validate(raw, spatial.AREA_SRID, mapping, FakeLookup(), progress=lambda *a: seen.append(a))
    assert [done for _phase, done, _total in seen] == [0, 1, 2, 3, 5] and {s[0] for s in seen} == {"checking"}
    by = {i + 1: [p.code for p in ps] for i, ps in staged.problems.items()}
    # geometry, then attributes, then references, then overlaps
    assert by[1] == ["invalid_geometry", "multipart", "bad_number", "unit_mismatch"]
    assert by[2] == by[3] == ["duplicate_code", "overlap_in_file"]
    assert by[4] == ["bad_number", "code_missing"] and by[5] == ["null_geometry"]
    assert staged.severity.tolist() == ["error"] * 5 and staged.pending_overlaps is None
    assert all(isinstance(p, Problem) and p.feature == i + 1 for i, ps in staged.problems.items() for p in ps)
    values = [orjson.loads(x) for x in staged.values]
    assert values[0] == {"floor_area_m2": None, "unit": "乙镇", "unit_id": 12}  # the file's unit wins
    assert values[1] == {"floor_area_m2": 100.0, "unit": None, "unit_id": 11}
    assert orjson.loads(staged.attributes[0]) == {"宗地编号": "T1", "建筑面积": "很多", "镇街": "乙镇"}
    assert staged.geom_4490[4] is None and staged.codes == ["T1", "T2", "T2", None, "T5"]
    counts = v.counts_of(staged)
    assert counts["features"] == 5 and counts["errors"] == 5 and counts["repairable"] == 1
    assert counts["problems"] == 11 and counts["new"] == 5
    for ps in staged.problems.values():
        for p in ps:
            ProblemOut.model_validate(p.to_json())


def test_deferred_overlaps_end_with_the_same_report():
    raw = _rich_layer()
    mapping = resolve(raw.fields, "parcels", None)
    now = v.validate(raw, spatial.AREA_SRID, mapping, FakeLookup())
    later = v.validate(raw, spatial.AREA_SRID, mapping, FakeLookup(), defer_overlaps=True)
    assert later.pending_overlaps is not None
    changed = v.finish_overlaps(later)
    assert changed == [1, 2] and v.finish_overlaps(later) == []
    assert later.problems == now.problems and later.severity.tolist() == now.severity.tolist()
    assert v.counts_of(later) == v.counts_of(now)


def test_the_lookup_is_asked_for_each_thing_once():
    raw = _rich_layer()
    lookup = FakeLookup()
    v.validate(raw, spatial.AREA_SRID, resolve(raw.fields, "parcels", None), lookup)
    assert sorted(lookup.asked) == ["existing", "stored_near", "units"]


# --- the corpus through the API: every problem fits the schema -------------------------------

@pytest.fixture()
def api(settings, db_session, tmp_path, sign_in):
    app = create_app(settings.model_copy(update={"upload_tmp_dir": tmp_path / "up"}))
    app.dependency_overrides[get_session] = lambda: db_session
    with TestClient(app) as c:
        yield sign_in(c, "gis_staff")


def _post(api, data: bytes, filename: str, **form):
    r = api.post("/api/uploads", files={"file": (filename, data)}, data=form)
    assert r.status_code == 201, r.json()
    return r.json()


def _mixed_geojson(tmp_path) -> bytes:
    """Points, a null shape, a polygon with a hole and a bow-tie in one GeoJSON (lon/lat), as the corpus lays them."""
    g = corpus.rectangles(5, row=4)
    holed = shapely.Polygon(g[2].exterior.coords, [box(*g[2].centroid.buffer(10).bounds).exterior.coords])
    bowtie = shapely.affinity.translate(BOWTIE, yoff=1200)
    shapes = [g[0], shapely.Point(g[1].centroid), holed, bowtie, None]
    lonlat = spatial.reproject(objects([s for s in shapes if s is not None]), 4549, 4490)
    it = iter(lonlat)
    features = [{"type": "Feature", "geometry": None if s is None else json.loads(shapely.to_geojson(next(it))),
                 "properties": {"宗地编号": f"MX{k + 1:04d}", "建筑面积": 1000.0}} for k, s in enumerate(shapes)]
    return json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False).encode()


def test_every_problem_the_corpus_produces_fits_the_documented_schema(api, db_session, tmp_path):
    files = []
    files.append((corpus.shapefile_zip(corpus.parcels(geoms=[BOWTIE] + corpus.rectangles(1, start=2), prefix="SB"),
                                       tmp_path, stem="bowtie"), "bowtie.zip", {}))
    g = corpus.rectangles(2, row=1)
    overlap = corpus.parcels(geoms=[g[0], shapely.affinity.translate(g[1], xoff=-100)], prefix="SO")
    files.append((corpus.shapefile_zip(overlap, tmp_path, stem="overlap"), "overlap.zip", {}))
    every = corpus.parcels(geoms=corpus.rectangles(5, row=2) + [shapely.affinity.translate(
        corpus.rectangles(1)[0], xoff=-200_000)], prefix="SA")
    every.loc[0, "面积亩"] = 25.0
    every.loc[1, "建筑面积"] = 20 * 10000 / 15 * 12
    every.loc[2, "分类"] = "拆了"
    every.loc[3, "宗地编号"] = "SA0005"
    every.loc[4, "建筑面积"] = -10.0
    every["所属镇街"] = ["梧桐街道", "不存在镇", None, None, None, None]
    every["所属区块"] = ["没有的区块", None, None, None, None, None]
    files.append((corpus.shapefile_zip(every, tmp_path, stem="every"), "every.zip", {}))
    files.append((_mixed_geojson(tmp_path), "mixed.geojson", {"crs": "4490"}))
    first = corpus.parcels(1, prefix="SS", row=3)
    stored = _post(api, corpus.shapefile_zip(first, tmp_path, stem="first"), "first.zip")
    assert api.post(f"/api/uploads/{stored['id']}/commit", json={"unknown_owners": "none"}).status_code == 200
    r = corpus.rectangles(1, row=3)[0]
    narrower = corpus.parcels(geoms=[box(*r.bounds[:2], r.bounds[2] - 10, r.bounds[3])], prefix="SS")
    moved = corpus.parcels(geoms=[shapely.affinity.translate(r, xoff=50)], prefix="SX")
    files.append((corpus.shapefile_zip(first, tmp_path, stem="again"), "again.zip", {}))  # unchanged
    files.append((corpus.shapefile_zip(narrower, tmp_path, stem="narrower"), "narrower.zip", {}))  # existing_code
    files.append((corpus.shapefile_zip(moved, tmp_path, stem="moved"), "moved.zip", {}))  # overlap_stored

    seen: set[str] = set()
    for data, name, form in files:
        body = _post(api, data, name, **form)
        shown = api.get(f"/api/uploads/{body['id']}", params={"limit": 100}).json()
        in_features = [p for f in shown["features"]["features"] for p in f["properties"]["problems"]]
        assert in_features == shown["problems"] == body["problems"]
        for p in body["problems"]:
            out = ProblemOut.model_validate(p)
            assert out.model_dump(exclude_none=True) == p  # nothing lost, nothing added
            assert Problem.from_json(p).to_json() == p
            seen.add(p["code"])
    assert seen >= {"invalid_geometry", "multipart", "overlap_in_file", "area_mismatch", "far_out_of_range",
                    "bad_value", "bad_number", "outside_tongxiang", "duplicate_code", "unknown_unit", "unit_mismatch",
                    "unknown_block", "wrong_geometry_type", "null_geometry", "hole", "unchanged", "existing_code",
                    "overlap_stored"}, seen


def test_problems_read_back_from_the_staging_table_are_the_ones_validation_made(api, db_session, tmp_path):
    gdf = corpus.parcels(geoms=[BOWTIE, corpus.rectangles(1, start=2)[0]], prefix="RT")
    gdf.loc[1, "分类"] = "拆了"
    data = corpus.shapefile_zip(gdf, tmp_path, stem="rt")
    body = _post(api, data, "rt.zip")
    (tmp_path / "read").mkdir()
    (tmp_path / "rt.zip").write_bytes(data)
    raw = open_upload(tmp_path / "rt.zip", "rt.zip", tmp_path / "read", Limits(1 << 30, 1000))
    with unit_of_work(db_session):
        staged = v.validate(raw, decide_crs(raw, None).source, body["mapping"], DbLookup(db_session))
    made = [p for i in sorted(staged.problems) for p in staged.problems[i]]
    assert [Problem.from_json(p) for p in body["problems"]] == made
