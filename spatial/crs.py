"""Coordinate reference systems used by the product.

Storage is CGCS2000 geographic (EPSG:4490, always lon/lat order in code);
official areas are plane areas in CGCS2000 3-degree Gauss-Krüger, central
meridian 120°E (EPSG:4549), the zone that covers Tongxiang.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, replace
from functools import lru_cache

import numpy as np
from pyproj import CRS, Transformer
from shapely import transform
from shapely.geometry.base import BaseGeometry

STORAGE_SRID = 4490  # CGCS2000 geographic, lon/lat
AREA_SRID = 4549  # CGCS2000 / 3-degree Gauss-Kruger CM 120E (no zone prefix in X)
ZONE_PREFIXED_AREA_SRID = 4528  # same projection, X carries the zone number 40
WGS84_SRID = 4326
WEB_MERCATOR_SRID = 3857


@lru_cache(maxsize=64)
def transformer(src: int | str, dst: int | str) -> Transformer:
    """Cached pyproj transformer from ``src`` to ``dst`` with x=lon/easting, y=lat/northing.

    ``always_xy=True`` is essential: EPSG:4490's official axis order is lat/lon.

    Parameters
    ----------
    src, dst : int or str
        EPSG code, ``"EPSG:n"``, WKT or PROJ string.

    Examples
    --------
    >>> x, y = transformer(4549, 4490).transform(500000.0, 3320000.0)
    >>> round(x, 6)
    120.0
    """
    return Transformer.from_crs(CRS.from_user_input(src), CRS.from_user_input(dst), always_xy=True)


def reproject(geom: BaseGeometry, src: int | str, dst: int | str) -> BaseGeometry:
    """Reproject a shapely geometry (or an array of them) between two CRSs.

    x/y are lon/lat or easting/northing whatever the CRS's official axis order.

    Examples
    --------
    >>> from shapely import Point
    >>> p = reproject(Point(120.0, 30.0), 4490, 4549)
    >>> round(p.x, 3)
    500000.0
    """
    if src == dst:
        return geom
    t = transformer(src, dst)
    return transform(geom, lambda xy: np.column_stack(t.transform(xy[:, 0], xy[:, 1])))


def to_area_crs(geom_4490: BaseGeometry) -> BaseGeometry:
    """Project a geometry from storage CRS EPSG:4490 (lon/lat) to EPSG:4549 metres.

    Examples
    --------
    >>> from shapely import Point
    >>> round(to_area_crs(Point(120.0, 30.0)).x, 3)
    500000.0
    """
    return reproject(geom_4490, STORAGE_SRID, AREA_SRID)


def to_storage_crs(geom: BaseGeometry, src: int | str) -> BaseGeometry:
    """Project a geometry in CRS ``src`` (EPSG code, WKT or PROJ string) to EPSG:4490 lon/lat.

    Examples
    --------
    >>> from shapely import Point
    >>> p = to_storage_crs(Point(40_500_000.0, 3_320_000.0), 4528)  # zone-prefixed X
    >>> round(p.x, 6)
    120.0
    """
    return reproject(geom, src, STORAGE_SRID)


# --- CRS identifiers as people and clients write them ----------------------
CRS84 = "OGC:CRS84"  # WGS84 / CGCS2000-compatible lon/lat, the GeoJSON and OGC API default

_CRS84_SPELLINGS = {
    "crs84",
    "ogc:crs84",
    "urn:ogc:def:crs:ogc:1.3:crs84",
    "urn:ogc:def:crs:ogc::crs84",
    "http://www.opengis.net/def/crs/ogc/1.3/crs84",
    "https://www.opengis.net/def/crs/ogc/1.3/crs84",
}
_EPSG_PREFIXES = (
    "http://www.opengis.net/def/crs/epsg/0/",
    "https://www.opengis.net/def/crs/epsg/0/",
    "urn:ogc:def:crs:epsg::",
    "urn:ogc:def:crs:epsg:0:",
    "epsg:",
)


def parse_crs_identifier(value: str | int) -> str | None:
    """Normalise a CRS identifier to ``"OGC:CRS84"`` or ``"EPSG:<code>"``; None when not one.

    Accepts OGC URIs and URNs, safe CURIEs (``[EPSG:4549]``), ``EPSG:4549`` and a bare
    code. Whether PROJ knows the code is not checked here.

    Examples
    --------
    >>> parse_crs_identifier("http://www.opengis.net/def/crs/EPSG/0/4549")
    'EPSG:4549'
    >>> parse_crs_identifier("[EPSG:4528]"), parse_crs_identifier("crs84"), parse_crs_identifier("WGS 84")
    ('EPSG:4528', 'OGC:CRS84', None)
    """
    text = str(value).strip()
    if text.startswith("[") and text.endswith("]"):
        text = text[1:-1]
    lower = text.lower()
    if lower in _CRS84_SPELLINGS:
        return CRS84
    code = lower
    for prefix in _EPSG_PREFIXES:
        if lower.startswith(prefix):
            code = lower[len(prefix):]
            break
    return f"EPSG:{int(code)}" if code.isdigit() else None


@lru_cache(maxsize=64)
def first_axis_is_north(identifier: str) -> bool:
    """Whether a CRS's official first axis points north (EPSG:4490, 4549, 4528 do; CRS84, 3857 don't).

    Read from the EPSG database through PROJ, never typed in: OGC API Part 2 serves
    coordinates in this official order, while everything inside the product is x/y.

    Examples
    --------
    >>> first_axis_is_north("EPSG:4490"), first_axis_is_north("EPSG:4549"), first_axis_is_north("OGC:CRS84")
    (True, True, False)
    """
    return CRS.from_user_input(identifier).axis_info[0].direction.lower() == "north"


def crs_name(identifier: str) -> str:
    """The CRS's name from the EPSG database (e.g. ``CGCS2000 / 3-degree Gauss-Kruger CM 120E``)."""
    return CRS.from_user_input(identifier).name


# --- GCJ-02 (the Amap / 高德 offset datum) ---------------------------------
# The public forward algorithm; the inverse is iterated to sub-millimetre
# convergence. GCJ-02 is defined relative to WGS84; CGCS2000 and WGS84 agree
# to a few centimetres, well under this conversion's own accuracy.
_GCJ_A = 6378245.0
_GCJ_EE = 0.00669342162296594323


def _gcj_delta(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    x = lon - 105.0
    y = lat - 35.0
    dlat = (
        -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * np.sqrt(np.abs(x))
        + (20.0 * np.sin(6.0 * x * math.pi) + 20.0 * np.sin(2.0 * x * math.pi)) * 2.0 / 3.0
        + (20.0 * np.sin(y * math.pi) + 40.0 * np.sin(y / 3.0 * math.pi)) * 2.0 / 3.0
        + (160.0 * np.sin(y / 12.0 * math.pi) + 320.0 * np.sin(y * math.pi / 30.0)) * 2.0 / 3.0
    )
    dlon = (
        300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * np.sqrt(np.abs(x))
        + (20.0 * np.sin(6.0 * x * math.pi) + 20.0 * np.sin(2.0 * x * math.pi)) * 2.0 / 3.0
        + (20.0 * np.sin(x * math.pi) + 40.0 * np.sin(x / 3.0 * math.pi)) * 2.0 / 3.0
        + (150.0 * np.sin(x / 12.0 * math.pi) + 300.0 * np.sin(x / 30.0 * math.pi)) * 2.0 / 3.0
    )
    radlat = lat / 180.0 * math.pi
    magic = 1 - _GCJ_EE * np.sin(radlat) ** 2
    sqrtmagic = np.sqrt(magic)
    dlat = (dlat * 180.0) / ((_GCJ_A * (1 - _GCJ_EE)) / (magic * sqrtmagic) * math.pi)
    dlon = (dlon * 180.0) / (_GCJ_A / sqrtmagic * np.cos(radlat) * math.pi)
    return dlon, dlat


def wgs84_to_gcj02_xy(lon, lat):
    """Offset WGS84 / CGCS2000 lon/lat arrays (degrees) to GCJ-02 (forward algorithm, inside China).

    Examples
    --------
    >>> lon, lat = wgs84_to_gcj02_xy([120.56], [30.63])
    >>> bool(0.003 < lon[0] - 120.56 < 0.006)
    True
    """
    lon = np.asarray(lon, dtype=float)
    lat = np.asarray(lat, dtype=float)
    dlon, dlat = _gcj_delta(lon, lat)
    return lon + dlon, lat + dlat


def gcj02_to_wgs84_xy(lon, lat, tol_deg: float = 1e-10, max_iter: int = 20):
    """Invert the GCJ-02 offset by fixed-point iteration; converges to < 1 mm.

    Accuracy relative to true WGS84 is that of the forward algorithm itself
    (the published formula, exact by construction); the inversion adds < 1 mm.

    Examples
    --------
    >>> lon, lat = gcj02_to_wgs84_xy(*wgs84_to_gcj02_xy([120.56], [30.63]))
    >>> round(float(lon[0]), 8), round(float(lat[0]), 8)
    (120.56, 30.63)
    """
    glon = np.asarray(lon, dtype=float)
    glat = np.asarray(lat, dtype=float)
    wlon, wlat = glon.copy(), glat.copy()
    for _ in range(max_iter):
        flon, flat = wgs84_to_gcj02_xy(wlon, wlat)
        elon, elat = flon - glon, flat - glat
        wlon, wlat = wlon - elon, wlat - elat
        if np.all(np.abs(elon) < tol_deg) and np.all(np.abs(elat) < tol_deg):
            break
    return wlon, wlat


def gcj02_to_storage(geom_gcj02: BaseGeometry) -> BaseGeometry:
    """Convert a GCJ-02 lon/lat geometry (Amap sources) to CGCS2000 EPSG:4490 lon/lat.

    Examples
    --------
    >>> from shapely import Point
    >>> p = gcj02_to_storage(Point(120.565, 30.63))
    >>> 0.003 < 120.565 - p.x < 0.006
    True
    """
    return transform(geom_gcj02, lambda xy: np.column_stack(gcj02_to_wgs84_xy(xy[:, 0], xy[:, 1])))


def storage_to_gcj02(geom_4490: BaseGeometry) -> BaseGeometry:
    """Convert a CGCS2000 EPSG:4490 lon/lat geometry to GCJ-02 lon/lat (for Amap basemaps).

    Examples
    --------
    >>> from shapely import Point
    >>> p = storage_to_gcj02(Point(120.56, 30.63))
    >>> 0.003 < p.x - 120.56 < 0.006
    True
    """
    return transform(geom_4490, lambda xy: np.column_stack(wgs84_to_gcj02_xy(xy[:, 0], xy[:, 1])))


# --- Guessing the CRS of Gauss-Krüger coordinates ---------------------------
# EPSG numbering of the 3-degree GK families (checked against the PROJ database
# in tests): CGCS2000 zone-prefixed X: 4488 + zone (zone 25..45), unprefixed:
# 4534 + (CM - 75) / 3. Xian 1980: 2324 + zone / 2370 + (CM - 75) / 3.
# Beijing 1954: 2376 + zone / 2422 + (CM - 75) / 3.
_GK3_FAMILIES = {
    "cgcs2000": (4488, 4534),
    "xian1980": (2324, 2370),
    "beijing1954": (2376, 2422),
}
_DATUM_LABELS = {
    "cgcs2000": "CGCS2000（2000国家大地坐标系）",
    "xian1980": "西安80坐标系",
    "beijing1954": "北京54坐标系",
    "wgs84": "WGS84",
}
HOME_ZONE = 40  # 3-degree zone 40, central meridian 120°E, covers all of Tongxiang
# Tongxiang's outline (about 120.28–120.66°E, 30.47–30.78°N) with a few km of margin.
TONGXIANG_BBOX_LONLAT = (120.2, 30.4, 120.75, 30.85)
# Mainland China with the islands, generous: a coordinate outside it is not Chinese data.
CHINA_BBOX_LONLAT = (73.0, 3.0, 136.0, 54.0)
# Half-width of a 3-degree zone in easting metres is about 1.5° x 111 km x cos(lat);
# data up to 0.2° outside the nominal zone edge is still common (zone overlap).
_GK_EASTING_RANGE = (250_000.0, 750_000.0)
_GK_NORTHING_RANGE = (300_000.0, 6_000_000.0)  # 3°N .. 54°N, the China range

CONFIDENCE_LABELS_ZH = {"high": "高", "medium": "中", "low": "低", "none": "无法判断"}


def gk3_epsg(zone_or_cm: int, *, prefixed: bool, datum: str = "cgcs2000") -> int:
    """EPSG code of a 3-degree Gauss-Krüger CRS.

    Parameters
    ----------
    zone_or_cm : int
        The zone number (25..45) when ``prefixed``, else the central meridian in
        degrees east (75..135, a multiple of 3).
    prefixed : bool
        True when X carries the zone number (false easting ``zone*1e6 + 500000``).
    datum : {"cgcs2000", "xian1980", "beijing1954"}

    Examples
    --------
    >>> gk3_epsg(40, prefixed=True), gk3_epsg(120, prefixed=False)
    (4528, 4549)
    >>> gk3_epsg(120, prefixed=False, datum="xian1980")
    2385
    """
    if datum not in _GK3_FAMILIES:
        raise ValueError(f"unknown datum {datum!r}; expected one of {sorted(_GK3_FAMILIES)}")
    zoned, by_cm = _GK3_FAMILIES[datum]
    if prefixed:
        if not 25 <= zone_or_cm <= 45:
            raise ValueError(f"3-degree zone must be 25..45 in China, got {zone_or_cm}")
        return zoned + zone_or_cm
    if zone_or_cm % 3 or not 75 <= zone_or_cm <= 135:
        raise ValueError(f"central meridian must be a multiple of 3 in 75..135, got {zone_or_cm}")
    return by_cm + (zone_or_cm - 75) // 3


@dataclass(frozen=True)
class CrsGuess:
    """What the coordinates (or a .prj) say about their CRS, and how sure that is.

    ``epsg`` is None when nothing can be said. ``confidence`` is one of
    ``"high"`` / ``"medium"`` / ``"low"`` / ``"none"``; ``explanation_zh`` is
    the sentence shown to GIS staff. ``source`` is what to pass to
    :func:`reproject` (the EPSG code, or the .prj WKT when it has no EPSG code).
    """

    epsg: int | None
    confidence: str
    explanation_zh: str
    zone: int | None = None
    zone_prefixed: bool | None = None
    axis_swapped: bool = False
    datum: str | None = None
    approximate_datum: bool = False
    wkt: str | None = None

    @property
    def confidence_zh(self) -> str:
        """Chinese label of ``confidence`` (高 / 中 / 低 / 无法判断)."""
        return CONFIDENCE_LABELS_ZH[self.confidence]

    @property
    def source(self) -> int | str | None:
        """Argument for :func:`reproject` / :func:`to_storage_crs` (EPSG code or WKT)."""
        return self.epsg if self.epsg is not None else self.wkt

    def to_dict(self) -> dict:
        """Plain JSON-ready dict (no WKT blob)."""
        d = asdict(self)
        d.pop("wkt")
        d["confidence_zh"] = self.confidence_zh
        return d


def _in_bbox(lon: np.ndarray, lat: np.ndarray, bbox: tuple[float, float, float, float]) -> float:
    """Fraction of points inside a lon/lat bbox."""
    inside = (lon >= bbox[0]) & (lon <= bbox[2]) & (lat >= bbox[1]) & (lat <= bbox[3])
    return float(inside.mean()) if inside.size else 0.0


def _lonlat_of(epsg: int, xs: np.ndarray, ys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    lon, lat = transformer(epsg, STORAGE_SRID).transform(xs, ys)
    return np.asarray(lon), np.asarray(lat)


def _place_zh(lon: np.ndarray, lat: np.ndarray) -> tuple[str, str]:
    """('tongxiang' | 'china' | 'elsewhere', Chinese phrase with the centre)."""
    where = (
        "tongxiang"
        if _in_bbox(lon, lat, TONGXIANG_BBOX_LONLAT) >= 0.95
        else "china" if _in_bbox(lon, lat, CHINA_BBOX_LONLAT) >= 0.95 else "elsewhere"
    )
    centre = f"（中心约 东经{np.nanmedian(lon):.3f}°、北纬{np.nanmedian(lat):.3f}°）"
    phrase = {"tongxiang": "落在桐乡市范围内", "china": "落在中国境内但不在桐乡市", "elsewhere": "不在中国境内"}[where]
    return where, phrase + centre


def guess_crs(xs, ys) -> CrsGuess:
    """Guess the CRS of coordinates from their range (for files with no or a vague .prj).

    Recognises lon/lat (EPSG:4490) and CGCS2000 3-degree Gauss-Krüger metres
    with the zone number prefixed to X (zones 39/40/41 → EPSG:4527/4528/4529)
    or without it (central meridian 117/120/123°E → EPSG:4548/4549/4550), and
    X/Y swapped. Without a prefix the zone cannot be read from the numbers, so
    the guess is the zone that puts the data in Tongxiang (CM 120°E); it is
    "high" only when the data then falls inside Tongxiang.

    Parameters
    ----------
    xs, ys : array_like
        The file's X and Y values as stored (any CRS, any units).

    Returns
    -------
    CrsGuess
        EPSG code (or None), confidence and a Chinese explanation.

    Examples
    --------
    >>> g = guess_crs([40_553_000.0], [3_389_000.0])
    >>> g.epsg, g.confidence, g.zone
    (4528, 'high', 40)
    >>> guess_crs([553_000.0], [3_389_000.0]).epsg
    4549
    """
    xs = np.asarray(xs, dtype=float).ravel()
    ys = np.asarray(ys, dtype=float).ravel()
    ok = np.isfinite(xs) & np.isfinite(ys)
    xs, ys = xs[ok], ys[ok]
    if xs.size == 0:
        return CrsGuess(None, "none", "没有可用的坐标，无法判断坐标系。")
    xmin, xmax, ymin, ymax = xs.min(), xs.max(), ys.min(), ys.max()

    # lon/lat degrees, possibly in lat/lon order (EPSG:4490's official axis order)
    degrees = -180 <= xmin and xmax <= 180 and -90 <= ymin and ymax <= 90
    swapped_degrees = -90 <= xmin and xmax <= 90 and -180 <= ymin and ymax <= 180
    if degrees or swapped_degrees:
        where, phrase = _place_zh(xs, ys) if degrees else ("elsewhere", "")
        if where == "elsewhere" and _in_bbox(ys, xs, CHINA_BBOX_LONLAT) >= 0.95:
            return CrsGuess(
                STORAGE_SRID, "low",
                "坐标像是经纬度但经度、纬度顺序颠倒（先纬度后经度），请交换 X/Y 后再导入。",
                axis_swapped=True, datum="cgcs2000",
            )
        conf = {"tongxiang": "high", "china": "medium", "elsewhere": "low"}[where]
        return CrsGuess(
            STORAGE_SRID, conf,
            f"坐标为经纬度（度），按 CGCS2000 地理坐标 EPSG:4490 处理，{phrase}。"
            "若数据来自高德等互联网地图（GCJ-02），需先纠偏。",
            datum="cgcs2000",
        )

    def gk(x_lo, x_hi, y_lo, y_hi, swapped: bool) -> CrsGuess | None:
        if not (_GK_NORTHING_RANGE[0] <= y_lo and y_hi <= _GK_NORTHING_RANGE[1]):
            return None
        zone_lo, zone_hi = int(x_lo // 1_000_000), int(x_hi // 1_000_000)
        swap_zh = "X、Y 两列顺序颠倒（X 为北坐标），请交换后再导入；" if swapped else ""
        if zone_lo == zone_hi and 25 <= zone_lo <= 45:
            e_lo, e_hi = x_lo - zone_lo * 1e6, x_hi - zone_lo * 1e6
            if not (_GK_EASTING_RANGE[0] <= e_lo and e_hi <= _GK_EASTING_RANGE[1]):
                return None
            epsg = gk3_epsg(zone_lo, prefixed=True)
            xx, yy = (xs, ys) if not swapped else (ys, xs)
            where, phrase = _place_zh(*_lonlat_of(epsg, xx, yy))
            # the prefix states the zone: sure of the CRS wherever in China the data lies
            conf = "low" if swapped or where == "elsewhere" else "high"
            return CrsGuess(
                epsg, conf,
                f"{swap_zh}X 坐标带有 {zone_lo} 带号前缀（{x_lo:.0f}…{x_hi:.0f}），判断为 CGCS2000 3 度分带"
                f"高斯-克吕格第 {zone_lo} 带（中央经线 {zone_lo * 3}°E），EPSG:{epsg}；{phrase}。",
                zone=zone_lo, zone_prefixed=True, axis_swapped=swapped, datum="cgcs2000",
            )
        if zone_lo == zone_hi == 0 and _GK_EASTING_RANGE[0] <= x_lo and x_hi <= _GK_EASTING_RANGE[1]:
            epsg = gk3_epsg(120, prefixed=False)
            xx, yy = (xs, ys) if not swapped else (ys, xs)
            where, phrase = _place_zh(*_lonlat_of(epsg, xx, yy))
            if where == "tongxiang":
                conf = "low" if swapped else "high"
                why = f"按中央经线 120°E 换算后{phrase}，桐乡正位于该带"
                phrase = ""
            else:
                conf = "low"
                why = (f"按中央经线 120°E 换算后{phrase}；X 无带号时无法从坐标判断分带"
                       "（也可能是 117°E 的 EPSG:4548 或 123°E 的 EPSG:4550），请补充 .prj 文件")
                phrase = ""
            return CrsGuess(
                epsg, conf,
                f"{swap_zh}X 坐标无带号（{x_lo:.0f}…{x_hi:.0f}），Y 为北坐标，判断为 CGCS2000 3 度分带"
                f"高斯-克吕格 中央经线 120°E，EPSG:{epsg}；{why}" + (f"，{phrase}" if phrase else "") + "。",
                zone=HOME_ZONE, zone_prefixed=False, axis_swapped=swapped, datum="cgcs2000",
            )
        return None

    guess = gk(xmin, xmax, ymin, ymax, swapped=False) or gk(ymin, ymax, xmin, xmax, swapped=True)
    if guess is not None:
        return guess
    return CrsGuess(
        None, "none",
        f"坐标范围 X {xmin:.1f}…{xmax:.1f}、Y {ymin:.1f}…{ymax:.1f} 既不像经纬度，也不像 3 度分带"
        "高斯-克吕格坐标（也可能混有不同坐标系的要素），无法判断坐标系，请提供 .prj 文件。",
    )


def _classify_datum(crs: CRS) -> str | None:
    geod = crs.geodetic_crs
    text = " ".join(
        filter(None, [geod.name if geod else "", geod.datum.name if geod and geod.datum else "", crs.name])
    ).lower().replace("_", " ").replace("-", " ")
    if "2000" in text and ("china" in text or "cgcs" in text):
        return "cgcs2000"
    if "xian" in text or "xi'an" in text or "1980" in text:
        return "xian1980"
    if "beijing" in text or "1954" in text:
        return "beijing1954"
    if "wgs" in text and "84" in text:
        return "wgs84"
    if crs.ellipsoid is not None:  # name-less WKT: recognise by the ellipsoid
        a, rf = crs.ellipsoid.semi_major_metre, crs.ellipsoid.inverse_flattening
        if a == 6378137.0 and abs(rf - 298.257222101) < 1e-6:
            return "cgcs2000"
        if a == 6378140.0:
            return "xian1980"
        if a == 6378245.0:
            return "beijing1954"
    return None


def _tm_parameters(crs: CRS) -> tuple[float, float, float] | None:
    """(central meridian °, false easting m, scale) of a Transverse Mercator CRS, else None."""
    op = crs.coordinate_operation
    if op is None or "transverse mercator" not in op.method_name.lower().replace("_", " ") and (
        "gauss" not in op.method_name.lower()
    ):
        return None
    values = {}
    for p in op.params:
        name = p.name.lower()
        if "longitude of natural origin" in name or "central meridian" in name:
            values["cm"] = p.value
        elif "false easting" in name:
            values["fe"] = p.value
        elif "scale factor" in name:
            values["k"] = p.value
    if "cm" not in values:
        return None
    return values["cm"], values.get("fe", 0.0), values.get("k", 1.0)


def crs_from_prj(text: str) -> CrsGuess:
    """Read an ESRI .prj (or any WKT / PROJ / "EPSG:n" string) into an EPSG code.

    Understands CGCS2000, Xian 1980 and Beijing 1954 3-degree Gauss-Krüger
    (with or without the zone prefix), CGCS2000/WGS84 lon/lat, and anything
    PROJ can identify. Xian 1980 and Beijing 1954 are converted with PROJ's
    ballpark datum change (no official parameters are public): expect errors of
    tens of metres, flagged by ``approximate_datum``.

    Parameters
    ----------
    text : str
        The .prj contents (WKT1 ESRI or OGC, WKT2, PROJ string or EPSG code).

    Returns
    -------
    CrsGuess
        ``confidence`` is "high" for a recognised CRS, "medium" when PROJ can
        only use the WKT itself, "none" when the text cannot be parsed.

    Examples
    --------
    >>> g = crs_from_prj('PROJCS["CGCS2000_3_Degree_GK_Zone_40",GEOGCS["GCS_China_Geodetic_Coordinate_System_2000",'
    ...     'DATUM["D_China_2000",SPHEROID["CGCS2000",6378137.0,298.257222101]],PRIMEM["Greenwich",0.0],'
    ...     'UNIT["Degree",0.0174532925199433]],PROJECTION["Gauss_Kruger"],PARAMETER["False_Easting",40500000.0],'
    ...     'PARAMETER["False_Northing",0.0],PARAMETER["Central_Meridian",120.0],PARAMETER["Scale_Factor",1.0],'
    ...     'PARAMETER["Latitude_Of_Origin",0.0],UNIT["Meter",1.0]]')
    >>> g.epsg, g.zone_prefixed, g.approximate_datum
    (4528, True, False)
    """
    if text is None or not str(text).strip():
        return CrsGuess(None, "none", "缺少 .prj 文件或其内容为空，需根据坐标范围判断坐标系。")
    text = str(text).strip().lstrip("\ufeff")
    try:
        crs = CRS.from_user_input(text)
    except Exception:  # pyproj raises CRSError and others on malformed text
        return CrsGuess(None, "none", ".prj 内容无法解析为坐标系定义，需根据坐标范围判断坐标系。")

    datum = _classify_datum(crs)
    approximate = datum in ("xian1980", "beijing1954")
    shift_zh = (
        f"；注意：{_DATUM_LABELS[datum]}与 CGCS2000 之间没有公开的官方转换参数，"
        "系统按椭球变换近似换算，位置误差可达数十米，面积误差可忽略（约十万分之一）"
        if approximate else ""
    )
    label = _DATUM_LABELS.get(datum or "", crs.name)

    if crs.is_geographic:
        epsg = STORAGE_SRID if datum in ("cgcs2000", None) else crs.to_epsg(min_confidence=70)
        if datum == "wgs84":
            epsg = WGS84_SRID
        return CrsGuess(
            epsg, "high" if datum else "medium",
            f".prj 为{label}经纬度坐标" + (f"（EPSG:{epsg}）" if epsg else "") + shift_zh + "。",
            datum=datum, approximate_datum=approximate, wkt=text,
        )

    tm = _tm_parameters(crs) if crs.is_projected else None
    if tm is not None and datum in _GK3_FAMILIES:
        cm, fe, k = tm
        zone_number, rest = divmod(fe, 1_000_000)
        if abs(k - 1.0) < 1e-9 and abs(rest - 500_000) < 1e-6 and abs(cm / 3 - round(cm / 3)) < 1e-9:
            prefixed = zone_number > 0
            zone = int(round(cm / 3))
            if not prefixed or int(zone_number) == zone:
                epsg = gk3_epsg(zone if prefixed else int(round(cm)), prefixed=prefixed, datum=datum)
                prefix_zh = f"X 带 {zone} 带号前缀" if prefixed else "X 无带号"
                return CrsGuess(
                    epsg, "high",
                    f".prj 为{label} 3 度分带高斯-克吕格投影，中央经线 {cm:g}°E（第 {zone} 带），{prefix_zh}，"
                    f"EPSG:{epsg}{shift_zh}。",
                    zone=zone, zone_prefixed=prefixed, datum=datum, approximate_datum=approximate, wkt=text,
                )
    epsg = crs.to_epsg(min_confidence=70)
    if epsg is not None:
        return CrsGuess(
            epsg, "high", f".prj 识别为 {crs.name}（EPSG:{epsg}）{shift_zh}。",
            datum=datum, approximate_datum=approximate, wkt=text,
        )
    return CrsGuess(
        None, "medium",
        f".prj 定义了坐标系“{crs.name}”，但不是常用的国家坐标系，将直接按其定义换算，请核对结果位置{shift_zh}。",
        datum=datum, approximate_datum=approximate, wkt=text,
    )


def resolve_crs(prj_text: str | None, xs, ys) -> CrsGuess:
    """Decide a file's CRS from its .prj and its coordinates together.

    The .prj wins when it agrees with the coordinates. When it is missing,
    unreadable or contradicts them (a 4549 .prj over X values carrying the
    zone prefix 40 is the common case), the coordinate guess wins and the
    explanation says so.

    Parameters
    ----------
    prj_text : str or None
        The .prj contents, or None when the file had none.
    xs, ys : array_like
        The coordinates as stored in the file.

    Examples
    --------
    >>> resolve_crs(None, [40_553_000.0], [3_389_000.0]).epsg
    4528
    >>> resolve_crs("EPSG:4549", [40_553_000.0], [3_389_000.0]).epsg  # contradicting .prj
    4528
    """
    from_prj = crs_from_prj(prj_text) if prj_text else None
    from_coords = guess_crs(xs, ys)
    if from_prj is None or from_prj.source is None:
        reason = "缺少 .prj 文件" if from_prj is None else from_prj.explanation_zh.rstrip("。")
        return replace(from_coords, explanation_zh=f"{reason}；{from_coords.explanation_zh}")
    xs_a = np.asarray(xs, dtype=float).ravel()
    ys_a = np.asarray(ys, dtype=float).ravel()
    try:
        lon, lat = transformer(from_prj.source, STORAGE_SRID).transform(xs_a, ys_a)
        lon, lat = np.asarray(lon), np.asarray(lat)
        plausible = _in_bbox(lon, lat, CHINA_BBOX_LONLAT) >= 0.95
    except Exception:  # a CRS PROJ cannot transform from: treat as contradicting
        plausible = False
    if plausible or from_coords.epsg is None:
        return from_prj
    return replace(
        from_coords,
        confidence="medium" if from_coords.confidence == "high" else from_coords.confidence,
        explanation_zh=f".prj 声明的坐标系与坐标数值不符（按 .prj 换算后不在中国境内）；{from_coords.explanation_zh}",
    )
