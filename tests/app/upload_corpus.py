"""A corpus of the files GIS clerks really send, built at test time with pyogrio/GDAL and zipfile.

Parcels are 100 m × 133.333 m rectangles in EPSG:4549 (exactly 20.00 亩 each)
laid out in 濮院镇, 4.5 km from every demo parcel, so each test knows the
answer in 亩 without measuring it.
"""

from __future__ import annotations

import io
import stat
import zipfile
from pathlib import Path

import geopandas as gpd
import pyogrio
import shapely
from shapely import box

import spatial

E0, N0 = 552_000.0, 3_397_500.0  # EPSG:4549, inside 濮院镇, far from the demo data
WIDTH, HEIGHT = 100.0, 400.0 / 3.0  # 20.00 亩
STEP = 150.0
MU_EACH = 20.0

FIELD_STYLES = {
    # model meaning -> column name, per naming style
    "zh": {"code": "宗地编号", "enterprise": "权利人", "floor": "建筑面积", "use": "用地性质", "cls": "分类", "area": "面积亩"},
    "pinyin": {"code": "ZDBH", "enterprise": "QLR", "floor": "JZMJ", "use": "YDXZ", "cls": "FL", "area": "ZDMJ"},
    "en": {"code": "PARCEL_CD", "enterprise": "ENT_NAME", "floor": "FLOOR_M2", "use": "LAND_USE", "cls": "CATEGORY",
           "area": "AREA_MU"},
}
ENTERPRISES = ["桐乡市恒新纺织有限公司", "浙江华盛经编股份有限公司", "嘉兴鑫源化纤有限公司"]
CLASSES = ["改造提升", "优化转型", "整治清退"]


def rectangles(n: int, *, row: int = 0, start: int = 0) -> list:
    """n parcels of 20 亩 side by side (EPSG:4549), on row ``row``."""
    y = N0 + row * 300.0
    return [box(E0 + (start + k) * STEP, y, E0 + (start + k) * STEP + WIDTH, y + HEIGHT) for k in range(n)]


def parcels(n: int = 3, *, style: str = "zh", prefix: str = "TX", row: int = 0, geoms=None) -> gpd.GeoDataFrame:
    names = FIELD_STYLES[style]
    geoms = geoms if geoms is not None else rectangles(n, row=row)
    n = len(geoms)
    area_value = [MU_EACH if style != "pinyin" else MU_EACH * spatial.M2_PER_MU for _ in range(n)]
    return gpd.GeoDataFrame({
        names["code"]: [f"{prefix}{k + 1:04d}" for k in range(n)],
        names["enterprise"]: [ENTERPRISES[k % 3] for k in range(n)],
        names["floor"]: [20_000.0 + 1000 * k for k in range(n)],
        names["use"]: ["工业用地"] * n,
        names["cls"]: [CLASSES[k % 3] for k in range(n)],
        names["area"]: area_value,
    }, geometry=list(geoms), crs=None)


def to_crs(gdf: gpd.GeoDataFrame, epsg: int) -> gpd.GeoDataFrame:
    out = gdf.copy()
    if epsg == 4528:
        out.geometry = shapely.transform(out.geometry.values, lambda xy: xy + [40_000_000.0, 0.0])
    elif epsg != 4549:
        out.geometry = spatial.reproject(out.geometry.values, 4549, epsg)
    return out


def write_shapefile(gdf: gpd.GeoDataFrame, folder: Path, stem: str = "parcels", *, encoding: str = "UTF-8",
                    epsg: int | None = 4549, cpg: bool = True) -> dict[str, bytes]:
    """The parts of a shapefile as bytes, keyed by suffix (.prj only when ``epsg``, .cpg only when ``cpg``)."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{stem}.shp"
    data = gdf.set_crs(epsg, allow_override=True) if epsg else gdf
    pyogrio.write_dataframe(data, path, encoding=encoding, layer=stem)
    parts = {}
    for suffix in (".shp", ".shx", ".dbf", ".prj", ".cpg"):
        p = path.with_suffix(suffix)
        if p.exists():
            parts[suffix] = p.read_bytes()
    if not cpg:
        parts.pop(".cpg", None)
    if not epsg:
        parts.pop(".prj", None)
    return parts


class _RawNameInfo(zipfile.ZipInfo):
    """A zip entry whose name is written as given bytes, without the UTF-8 flag (how Windows zips GBK names)."""

    raw_name: bytes = b""

    def _encodeFilenameFlags(self):  # noqa: N802 - zipfile's own hook
        return self.raw_name, self.flag_bits & ~0x800


def zip_bytes(members: dict[str, bytes], *, name_encoding: str = "utf-8", symlinks: set[str] = frozenset()) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            if name_encoding == "utf-8":
                info = zipfile.ZipInfo(name)
            else:
                info = _RawNameInfo(name)
                info.raw_name = name.encode(name_encoding)
            info.compress_type = zipfile.ZIP_DEFLATED
            if name in symlinks:
                info.external_attr = (stat.S_IFLNK | 0o777) << 16
            zf.writestr(info, data)
    return buf.getvalue()


def shapefile_zip(gdf: gpd.GeoDataFrame, tmp: Path, *, folder: str = "", stem: str = "parcels",
                  encoding: str = "GBK", epsg: int | None = 4549, cpg: bool = True,
                  name_encoding: str = "utf-8", drop: tuple[str, ...] = ()) -> bytes:
    parts = write_shapefile(gdf, tmp / f"shp-{stem}-{id(gdf)}", stem="layer", encoding=encoding, epsg=epsg, cpg=cpg)
    prefix = f"{folder.strip('/')}/" if folder else ""
    members = {f"{prefix}{stem}{suffix}": data for suffix, data in parts.items() if suffix not in drop}
    return zip_bytes(members, name_encoding=name_encoding)


def gpkg_bytes(layers: dict[str, gpd.GeoDataFrame], tmp: Path, epsg: int = 4549) -> bytes:
    path = tmp / f"layers-{len(layers)}.gpkg"
    if path.exists():
        path.unlink()
    for name, gdf in layers.items():
        pyogrio.write_dataframe(gdf.set_crs(epsg, allow_override=True), path, layer=name, driver="GPKG", append=True)
    return path.read_bytes()


def geojson_bytes(gdf: gpd.GeoDataFrame, tmp: Path, *, epsg: int = 4490, declare: bool = True) -> bytes:
    path = tmp / f"layer-{epsg}-{declare}.geojson"
    if path.exists():
        path.unlink()
    data = to_crs(gdf, epsg).set_crs(epsg if declare else None, allow_override=True)
    pyogrio.write_dataframe(data, path, driver="GeoJSON", layer="parcels")
    text = path.read_bytes()
    if not declare:
        import json

        doc = json.loads(text)
        doc.pop("crs", None)
        text = json.dumps(doc, ensure_ascii=False).encode("utf-8")
    return text
