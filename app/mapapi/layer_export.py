"""Export any layer of the registry — filtered as the read API filters — as a file, through GDAL.

``GET /api/export`` and the block export both land here: the layer's features are read once
through the shared read path (the registry's properties and named filters, the bbox and CQL2
conditions of :mod:`app.core.read.sql`), put in a GeoDataFrame in CGCS2000 (EPSG:4490),
reprojected with pyproj to the CRS asked for (4490, 4549 or 4528; easting first in every file)
and written by pyogrio: GeoJSON, GeoPackage, zipped Shapefile, CSV (WKT, UTF-8 with BOM), KML,
DXF (one CAD layer per class, the code as a text label) — or by :mod:`app.core.excel` (xlsx).

Codes are written as their Chinese labels and numbers as numbers. Chinese field names go into
every format that can hold them (GeoPackage, CSV, KML, Excel, GBK Shapefile); a UTF-8
Shapefile carries the ASCII names (a DBF name holds 10 bytes); GeoJSON keeps the API's keys.
"""

from __future__ import annotations

import datetime as dt
import io
import tempfile
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import pyogrio
import shapely
from geoalchemy2 import functions as gf
from sqlalchemy import ColumnElement, func
from sqlalchemy.orm import Session

from spatial import STORAGE_SRID

from ..core.clock import today
from ..core import excel
from ..core.read.crs import resolve
from ..core.read.layers import Layer, layers
from ..core.read.pool import bind_statement, rows_on_session, run_on_session
from ..core.read.sql import Box, conditions, filter_values
from ..enums import Classification, ParkKind, Stage, UnitKind
from ..errors import AppError, InvalidParameter
from ..messages import message
from . import export as export_mod
from .export import BLOCK_FIELDS, PARCEL_FIELDS, Field

MAX_FEATURES = 200_000  # far above the programme's parcels; bounds the memory of one export
EXPORT_SRIDS = (STORAGE_SRID, 4549, 4528)  # CGCS2000 lon/lat; 3° Gauss-Krüger CM 120°E, zone 40
ENCODINGS = {"gbk": "GBK", "utf-8": "UTF-8"}

UNIT_FIELDS = (
    Field("code", "CODE", "代码"),
    Field("name", "NAME", "名称"),
    Field("kind", "KIND", "类型", "kind_label"),
    Field("area_mu", "AREA_MU", "面积亩", kind="mu"),
)
LAYER_BLOCK_FIELDS = (
    *BLOCK_FIELDS,
    Field("approval_date", "APPR_DATE", "认定日期", kind="date"),
    Field("parcel_count", "PARCELS", "宗地数", kind="int"),
)
PARK_FIELDS = (  # the parks upload's own column names (docs/parks.md): an export uploads back
    Field("code", "CODE", "园区编号"),
    Field("name", "NAME", "园区名称"),
    Field("kind", "KIND", "类型", "kind_label"),
    Field("unit_name", "UNIT", "所属镇街"),
    Field("approval", "APPROVAL", "批准文件"),
    Field("area_mu", "AREA_MU", "面积亩", kind="mu"),
)
LAYER_PARCEL_FIELDS = (
    PARCEL_FIELDS[0],
    Field("unit_name", "UNIT", "所属镇街"),
    Field("block_code", "BLOCK", "区块编号"),
    Field("block_name", "BLK_NAME", "所属区块"),
    *PARCEL_FIELDS[1:],
)


@dataclass(frozen=True)
class Format:
    id: str
    media_type: str
    extension: str


FORMATS = {
    f.id: f
    for f in (
        Format("geojson", "application/geo+json", "geojson"),
        Format("gpkg", "application/geopackage+sqlite3", "gpkg"),
        Format("shp", "application/zip", "zip"),
        Format("csv", "text/csv; charset=utf-8", "csv"),
        Format("kml", "application/vnd.google-earth.kml+xml", "kml"),
        Format("dxf", "application/dxf", "dxf"),
        Format("xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx"),
    )
}


@dataclass(frozen=True)
class LayerSpec:
    """How one registry layer is exported: its fields, the field whose label names the DXF layer
    of a feature, the field written as its DXF text label, and the request filters it takes."""

    layer_id: str
    fields: tuple[Field, ...]
    dxf_layer: str  # a Field key
    dxf_text: str  # a Field key
    params: tuple[str, ...]  # the request filters it takes (unit, block, classification, kind, year, stage)

    @property
    def layer(self) -> Layer:
        return layers()[self.layer_id]


SPECS = {
    s.layer_id: s
    for s in (
        LayerSpec("units", UNIT_FIELDS, "kind", "name", ("unit", "kind")),
        LayerSpec("blocks", LAYER_BLOCK_FIELDS, "stage", "code", ("unit", "block", "year", "stage")),
        LayerSpec("approved_blocks", LAYER_BLOCK_FIELDS, "stage", "code", ("unit", "block", "year", "stage")),
        LayerSpec("parcels", LAYER_PARCEL_FIELDS, "classification", "code",
                  ("unit", "block", "classification", "kind", "year", "stage")),
        LayerSpec("parks", PARK_FIELDS, "kind", "name", ("unit", "kind")),
    )
}


@dataclass(frozen=True)
class Selection:
    """What to export: a layer, its filters (named filters or ``=queryable``), a bbox, a CQL2 condition."""

    spec: LayerSpec
    filters: tuple[tuple[str, Any], ...] = ()
    box: Box | None = None
    cql: ColumnElement | None = None


# -- parameters ------------------------------------------------------------------------
def spec_for(layer_id: str) -> LayerSpec:
    spec = SPECS.get(layer_id)
    if spec is None:
        raise InvalidParameter("layer", message("export_layer", value=layer_id, choices=_choices(SPECS)))
    return spec


def format_for(raw: str) -> Format:
    fmt = FORMATS.get(raw.lower())
    if fmt is None:
        raise InvalidParameter("format", message("export_format", value=raw, choices=_choices(FORMATS)))
    return fmt


def encoding_for(raw: str) -> str:
    enc = raw.lower().replace("utf8", "utf-8")
    if enc not in ENCODINGS:
        raise InvalidParameter("encoding", message("export_encoding", value=raw))
    return enc


def srid_for(raw: str | None, fmt: Format) -> int:
    """``crs`` as an offered EPSG code; anything else is a 400 (never silently EPSG:4490)."""
    if raw is None or raw == "":
        return STORAGE_SRID
    served = resolve(raw)
    if served is None or served.srid not in EXPORT_SRIDS:
        raise InvalidParameter("crs", message("export_crs", value=raw, choices=_crs_choices()))
    if fmt.id == "kml" and served.srid != STORAGE_SRID:
        raise InvalidParameter("crs", message("export_kml_crs", value=raw))
    return served.srid


def _choices(items) -> str:
    return "、".join(items)


def _crs_choices() -> str:
    return "、".join(f"EPSG:{s}" for s in EXPORT_SRIDS)


def request_filters(spec: LayerSpec, **given: Any) -> tuple[tuple[str, Any], ...]:
    """The request's filter parameters as the layer's filters; a filter the layer does not have is a 400."""
    out: list[tuple[str, Any]] = []
    for name, value in given.items():
        if value is None or value == "":
            continue
        if name not in spec.params:
            raise InvalidParameter(name, message("export_filter_layer", layer=spec.layer.title, param=name))
        if name == "classification":
            _check_enum(name, value, Classification)
        elif name == "stage":
            _check_enum(name, value, Stage)
        if spec.layer_id == "units":
            if name == "kind":
                _check_enum(name, value, UnitKind)
            out.append((f"={'code' if name == 'unit' else name}", value))
        elif spec.layer_id == "parks":
            if name == "kind":
                _check_enum(name, value, ParkKind)
            out.append((name, value))
        elif name == "kind":
            if value not in ("contiguous", "scattered"):
                raise InvalidParameter(name, message("export_kind", value=value))
            out.append((value, None))
        elif name == "block" and spec.layer_id != "parcels":
            out.append(("code", value))
        elif name == "block" and value == "scattered":
            out.append(("scattered", None))
        elif name == "year" and spec.layer_id != "parcels":
            out.append(("=designated_year", int(value)))
        else:
            out.append((name, value))
    return tuple(out)


def _check_enum(name: str, value: str, enum_cls) -> None:
    if value not in {m.value for m in enum_cls}:
        choices = "、".join(f"{m.value}（{m.label}）" for m in enum_cls)
        raise InvalidParameter(name, message("export_enum", value=value, choices=choices))


# -- reading ---------------------------------------------------------------------------
def _values(sel: Selection) -> dict[str, Any]:
    values = filter_values(sel.filters)
    if sel.box is not None:
        b = sel.box
        values.update(b0=b.minx, b1=b.miny, b2=b.maxx, b3=b.maxy)
        if b.srid != STORAGE_SRID:
            values["b_step"] = max(b.maxx - b.minx, b.maxy - b.miny) / 32 or 1.0
    return values


def _where(sel: Selection) -> list[ColumnElement]:
    keys = tuple(key for key, _ in sel.filters)
    return conditions(sel.spec.layer, keys, None if sel.box is None else sel.box.srid, sel.cql)


def count(session: Session, sel: Selection) -> int:
    layer = sel.spec.layer
    stmt = layer.base.add_columns(func.count()).where(*_where(sel))
    (n,) = run_on_session(session, *bind_statement(stmt, _values(sel)))
    return int(n)


def _plain(value):
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def frame(session: Session, sel: Selection) -> gpd.GeoDataFrame:
    """The selected features as a GeoDataFrame in EPSG:4490, one column per field key (labels for codes).

    More than :data:`MAX_FEATURES` is a 413 before anything is read.
    """
    n = count(session, sel)
    if n > MAX_FEATURES:
        raise TooManyFeatures(message("export_too_many", count=n, limit=MAX_FEATURES))
    layer, fields = sel.spec.layer, sel.spec.fields
    stmt = (layer.base.add_columns(gf.ST_AsBinary(layer.geom), *[layer.prop[f.source].column for f in fields])
            .where(*_where(sel)).order_by(layer.id_column))
    rows = rows_on_session(session, *bind_statement(stmt, _values(sel)))
    records = [{f.key: _plain(v) for f, v in zip(fields, row[1:], strict=True)} for row in rows]
    geometry = shapely.from_wkb([bytes(row[0]) for row in rows]) if rows else []
    return gpd.GeoDataFrame(records, columns=[f.key for f in fields], geometry=list(geometry), crs=STORAGE_SRID)


class TooManyFeatures(AppError):
    status_code = 413
    code = "export_too_large"


# -- writing ---------------------------------------------------------------------------
@dataclass(frozen=True)
class Export:
    body: bytes
    media_type: str
    filename: str  # Chinese: 宗地_EPSG4549_20261204.dxf
    ascii_filename: str


def _names(fields: Sequence[Field], chinese: bool) -> dict[str, str]:
    return {f.key: f.chinese_name if chinese else f.ascii_name for f in fields}


@lru_cache(maxsize=1)
def _dxf_header_text() -> str:
    """GDAL's own DXF header template marked AutoCAD 2007 (AC1021): a DXF of 2007 or later is UTF-8,
    so the Chinese layer names GDAL writes as UTF-8 are read right by CAD (GDAL readers:
    ``DXF_ENCODING=UTF-8``)."""
    source = Path(pyogrio.get_gdal_data_path()) / "header.dxf"
    return source.read_text(encoding="latin-1").replace("\nAC1018\n", "\nAC1021\n", 1)


def _dxf_header(folder: Path) -> str:
    path = folder / "header.dxf"
    path.write_text(_dxf_header_text(), encoding="latin-1")
    return str(path)


def _dxf_frame(data: gpd.GeoDataFrame, spec: LayerSpec, srid: int) -> gpd.GeoDataFrame:
    """Outlines (an LWPOLYLINE per ring; GDAL writes polygons as filled HATCHes, which hide the labels in CAD)
    on a layer per class, and a text label per feature on the same layer.

    A spec without a class field (``dxf_layer`` empty) puts everything on the layer named by its title.
    """
    unclassified = message("export_dxf_no_class")
    if spec.dxf_layer:
        classes = [v if isinstance(v, str) and v else unclassified for v in data[spec.dxf_layer]]
    else:
        classes = [spec.layer.title] * len(data)
    height = 2.0 if srid != STORAGE_SRID else 0.00002  # about 2 m
    texts = [str(v).replace('"', "'") for v in data[spec.dxf_text]]
    labels = [f'LABEL(f:"SimSun",t:"{t}",s:{height}g,p:5)' for t in texts]
    return gpd.GeoDataFrame(
        {"Layer": classes + classes, "OGR_STYLE": [None] * len(data) + labels},
        geometry=list(data.geometry.boundary) + list(data.geometry.representative_point()),
        crs=data.crs,
    )


def _xlsx(data: gpd.GeoDataFrame, spec: LayerSpec, title: str, srid: int) -> bytes:
    """One sheet: the fields, then a point inside each feature in ``srid`` (经度/纬度, or X/Y in metres)."""
    wb = excel.new_workbook()
    point = _in(data, srid).geometry.representative_point()
    geographic = srid == STORAGE_SRID
    columns = [excel.Column(f.chinese_name, f.kind) for f in spec.fields] + [
        excel.Column(message("export_point_lon" if geographic else "export_point_x"), "money", 14,
                     "0.0000000" if geographic else "0.00"),
        excel.Column(message("export_point_lat" if geographic else "export_point_y"), "money", 14,
                     "0.0000000" if geographic else "0.00"),
    ]
    rows = [row + [p.x, p.y] for row, p in zip(table_rows(data, spec.fields), point, strict=True)]
    notes = [message("export_point_note", crs=f"EPSG:{srid}")]
    excel.table_sheet(wb, spec.layer.title, columns, rows, title=title, date_line=excel.exported_line(), notes=notes)
    wb.properties.title = title
    return excel.to_bytes(wb)


def table_rows(data: gpd.GeoDataFrame, fields: Sequence[Field]) -> list[list]:
    """The frame's values in field order, pandas' missing values as None."""
    table = data[[f.key for f in fields]].astype(object)
    return table.where(table.notna(), None).values.tolist()


@dataclass(frozen=True)
class Part:
    """One layer of a file: its name in the file (a GeoPackage or KML layer, a Shapefile's name)."""

    name: str
    data: gpd.GeoDataFrame  # EPSG:4490, field keys
    spec: LayerSpec
    tag: str | None = None  # its features' ``layer`` in a GeoJSON of several parts (the name by default)


def write(parts: Sequence[Part], fmt: Format, srid: int, encoding: str = "gbk") -> bytes:
    """The parts as one file of ``fmt`` in EPSG:``srid`` (xlsx: see :func:`_xlsx`)."""
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        if fmt.id == "geojson":
            return _geojson(parts, folder, srid)
        if fmt.id == "dxf":
            path = folder / "export.dxf"
            header = _dxf_header(folder)
            frames = [_dxf_frame(_in(p.data, srid), p.spec, srid) for p in parts]
            both = gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), geometry="geometry", crs=frames[0].crs)
            pyogrio.write_dataframe(both, path, driver="DXF", dataset_options={"HEADER": header})
            return path.read_bytes()
        for p in parts:
            out = _in(p.data, srid)
            chinese = fmt.id != "shp" or encoding == "gbk"
            out = out.rename(columns=_names(p.spec.fields, chinese))
            if fmt.id == "gpkg":
                pyogrio.write_dataframe(out, folder / "export.gpkg", driver="GPKG", layer=p.name, append=p is not parts[0])
            elif fmt.id == "kml":
                # GDAL's KML writer turns a first folder's "-" into "_" (not an appended one's): both, here
                pyogrio.write_dataframe(out, folder / "export.kml", driver="KML", layer=p.name.replace("-", "_"),
                                        append=p is not parts[0],
                                        dataset_options=None if p is not parts[0] else {
                                            "NameField": _names(p.spec.fields, True)[p.spec.dxf_text]})
            elif fmt.id == "shp":
                pyogrio.write_dataframe(out, folder / f"{p.name}.shp", driver="ESRI Shapefile",
                                        encoding=ENCODINGS[encoding])
            elif fmt.id == "csv":
                pyogrio.write_dataframe(out, folder / f"{p.name}.csv", driver="CSV",
                                        layer_options={"GEOMETRY": "AS_WKT", "WRITE_BOM": "YES", "LINEFORMAT": "CRLF"})
        if fmt.id in ("gpkg", "kml"):
            return (folder / f"export.{fmt.id}").read_bytes()
        if fmt.id == "csv" and len(parts) == 1:
            return (folder / f"{parts[0].name}.csv").read_bytes()
        return _zip(folder)


def _in(data: gpd.GeoDataFrame, srid: int) -> gpd.GeoDataFrame:
    return data.to_crs(srid) if srid != STORAGE_SRID else data


def _geojson(parts: Sequence[Part], folder: Path, srid: int) -> bytes:
    """One FeatureCollection; with several parts each feature's ``layer`` names its part.

    RFC 7946 for lon/lat (written as WGS 84, which CGCS2000 matches far below the 7 decimals);
    a projected CRS is not RFC 7946: the file names it in a ``crs`` member.
    """
    if len(parts) == 1:
        data = parts[0].data
    else:
        data = gpd.GeoDataFrame(
            pd.concat([p.data.assign(layer=p.tag or p.name) for p in parts], ignore_index=True),
            geometry="geometry", crs=STORAGE_SRID)
        data = data[["layer", *[c for c in data.columns if c != "layer"]]]
    options = ({"RFC7946": "YES", "COORDINATE_PRECISION": 7} if srid == STORAGE_SRID
               else {"RFC7946": "NO", "COORDINATE_PRECISION": 2})
    path = folder / "export.geojson"
    pyogrio.write_dataframe(_in(data, srid), path, driver="GeoJSON", layer_options=options)
    return path.read_bytes()


def _zip(folder: Path) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for part in sorted(folder.iterdir()):
            zf.write(part, part.name)
    return buffer.getvalue()


def media_type(fmt: Format, parts: int) -> tuple[str, str]:
    """The media type and file extension of ``parts`` layers in ``fmt`` (several CSVs come zipped)."""
    if fmt.id == "csv" and parts > 1:
        return FORMATS["shp"].media_type, "zip"
    return fmt.media_type, fmt.extension


def file_names(title: str, ascii_stem: str, fmt: Format, srid: int, encoding: str, parts: int = 1) -> tuple[str, str]:
    """(Chinese file name, ASCII fallback): title, CRS, today's date — 宗地_EPSG4549_20261204.dxf."""
    suffix = f"_{encoding}" if fmt.id == "shp" else ""
    tail = f"EPSG{srid}_{today().strftime('%Y%m%d')}{suffix}.{media_type(fmt, parts)[1]}"
    return f"{title}_{tail}", f"{ascii_stem}_{tail}"


def export(session: Session, sel: Selection, fmt: Format, srid: int, encoding: str = "gbk") -> Export:
    """The selection as a file, named by the layer's Chinese title, the CRS and today's date."""
    data = frame(session, sel)
    title = sel.spec.layer.title
    if fmt.id == "xlsx":
        body = _xlsx(data, sel.spec, title, srid)
    else:
        body = write([Part(title, data, sel.spec)], fmt, srid, encoding)
    name, ascii_name = file_names(title, sel.spec.layer_id, fmt, srid, encoding)
    return Export(body, fmt.media_type, name, ascii_name)


BLOCK_SPEC = LayerSpec("blocks", BLOCK_FIELDS, "", "code", ())
BLOCK_PARCEL_SPEC = LayerSpec("parcels", PARCEL_FIELDS, "classification", "code", ())


def block_export(session: Session, code: str, fmt: Format, srid: int, encoding: str = "gbk") -> Export:
    """One block: its outline (``<code>_区块``) and its parcels (``<code>_宗地``) as two layers of one
    file — two Shapefiles or two CSVs in a zip, one GeoPackage or KML with two layers, one GeoJSON
    (``properties.layer``: block or parcel), one DXF (the outline on a layer of its own) — or Excel."""
    block, blocks, parcels = export_mod.block_tables(session, code)
    if fmt.id == "xlsx":
        body = export_mod.to_xlsx(block, blocks, parcels)
    else:
        parts = [Part(f"{block.code}_区块", blocks, BLOCK_SPEC, tag="block"),
                 Part(f"{block.code}_宗地", parcels, BLOCK_PARCEL_SPEC, tag="parcel")]
        body = write(parts, fmt, srid, encoding)
    name, ascii_name = file_names(f"{block.code}_{block.name}", block.code, fmt, srid, encoding, parts=2)
    return Export(body, media_type(fmt, 2)[0], name, ascii_name)
