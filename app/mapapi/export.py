"""Export one block: GeoJSON, a zipped Shapefile (GBK or UTF-8, with .prj and .cpg), or Excel.

The block outline and its parcels are read once (:func:`block_tables`, through the shared read
path: the registry's ``blocks`` and ``parcels`` layers, as rows) and written by pyogrio
(GeoJSON, Shapefile) or openpyxl (Excel). Geometry stays in CGCS2000 (EPSG:4490); areas and
FARs are the stored figures, which ``spatial`` computed.
"""

from __future__ import annotations

import io
import math
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

from decimal import Decimal

import geopandas as gpd
import pyogrio
import shapely
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from sqlalchemy.orm import Session

from spatial import STORAGE_SRID

from ..core.read.layers import layers
from ..core.read.sql import rows_on
from ..errors import NotFound
from ..messages import message


@dataclass(frozen=True)
class Field:
    """One exported attribute: the key, a short ASCII name (UTF-8 DBF), a Chinese name (GBK DBF, Excel),
    and the layer property it is read from (the key itself unless named)."""

    key: str
    ascii_name: str
    chinese_name: str  # at most 5 characters: 10 bytes in a GBK DBF header
    prop: str | None = None

    @property
    def source(self) -> str:
        return self.prop or self.key


BLOCK_FIELDS = (
    Field("code", "CODE", "区块编号"),
    Field("name", "NAME", "区块名称"),
    Field("unit_name", "UNIT", "所属镇街"),
    Field("designated_year", "YEAR", "认定年度"),
    Field("stage", "STAGE", "阶段", "stage_label"),
    Field("review_status", "REVIEW", "认定状态", "review_status_label"),
    Field("approval_doc_no", "DOC_NO", "认定文号"),
    Field("area_mu", "AREA_MU", "面积亩"),
    Field("planned_far", "PLAN_FAR", "规划容积率"),
    Field("planned_new_floor_area_m2", "NEW_FL_M2", "新增建面"),
    Field("four_east", "EAST", "东至"),
    Field("four_south", "SOUTH", "南至"),
    Field("four_west", "WEST", "西至"),
    Field("four_north", "NORTH", "北至"),
)
PARCEL_FIELDS = (
    Field("code", "CODE", "宗地编号"),
    Field("enterprise_name", "ENT_NAME", "企业名称"),
    Field("credit_code", "CREDIT", "信用代码", "enterprise_credit_code"),
    Field("land_area_mu", "AREA_MU", "用地亩"),
    Field("floor_area_m2", "FLOOR_M2", "现状建面"),
    Field("far", "FAR", "现状容积率"),
    Field("planned_floor_area_m2", "PLAN_FL_M2", "规划建面"),
    Field("planned_far", "PLAN_FAR", "规划容积率"),
    Field("land_use", "LAND_USE", "用地性质"),
    Field("classification", "CLASS", "分类", "classification_label"),
    Field("renewal_type", "RNW_TYPE", "改造类型", "renewal_type_label"),
    Field("renewal_mode", "RNW_MODE", "改造模式", "renewal_mode_label"),
    Field("status", "STATUS", "进度", "status_label"),
)
ENCODINGS = {"gbk": "GBK", "utf-8": "UTF-8"}


@dataclass(frozen=True)
class BlockRef:
    code: str
    name: str


def _plain(value):
    return float(value) if isinstance(value, Decimal) else value


def _frame(session: Session, layer_id: str, fields: tuple[Field, ...], filters) -> gpd.GeoDataFrame:
    """The layer's features matching ``filters`` as a GeoDataFrame (EPSG:4490), columns keyed by field."""
    rows = rows_on(session, layers()[layer_id], names=[f.source for f in fields], filters=filters)
    records = [{f.key: _plain(v) for f, v in zip(fields, row[2:])} for row in rows.rows]
    geometry = shapely.from_wkb([bytes(row[1]) for row in rows.rows]) if rows.rows else []
    return gpd.GeoDataFrame(records, columns=[f.key for f in fields], geometry=list(geometry), crs=STORAGE_SRID)


def block_tables(session: Session, code: str) -> tuple[BlockRef, gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """The block (one row) and its parcels as GeoDataFrames in EPSG:4490, Chinese labels for codes."""
    blocks = _frame(session, "blocks", BLOCK_FIELDS, [("code", code)])
    if blocks.empty:
        raise NotFound(message("block_not_found", code=code))
    parcels = _frame(session, "parcels", PARCEL_FIELDS, [("block", code)])
    return BlockRef(code, blocks.iloc[0]["name"]), blocks, parcels


def to_geojson(blocks: gpd.GeoDataFrame, parcels: gpd.GeoDataFrame) -> bytes:
    """One FeatureCollection: the block outline first (``layer: block``), then its parcels (``layer: parcel``)."""
    both = gpd.GeoDataFrame(
        [{"layer": "block", **r} for r in blocks.drop(columns="geometry").to_dict("records")]
        + [{"layer": "parcel", **r} for r in parcels.drop(columns="geometry").to_dict("records")],
        geometry=list(blocks.geometry) + list(parcels.geometry),
        crs=STORAGE_SRID,
    )
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "block.geojson"
        # RFC 7946: lon/lat, counter-clockwise exteriors, no "crs" member.
        pyogrio.write_dataframe(both, path, driver="GeoJSON", layer_options={"RFC7946": "YES", "COORDINATE_PRECISION": 7})
        return path.read_bytes()


def _renamed(frame: gpd.GeoDataFrame, fields: tuple[Field, ...], chinese: bool) -> gpd.GeoDataFrame:
    return frame.rename(columns={f.key: f.chinese_name if chinese else f.ascii_name for f in fields})


def to_shapefile_zip(code: str, blocks: gpd.GeoDataFrame, parcels: gpd.GeoDataFrame, encoding: str) -> bytes:
    """Two layers, ``<code>_区块`` and ``<code>_宗地``, each with .shp .shx .dbf .prj .cpg, in one zip.

    GBK files carry Chinese field names (≤ 10 bytes); UTF-8 files carry ASCII ones, since
    three-byte characters leave room for only three per DBF field name.
    """
    chinese = encoding == "gbk"
    buffer = io.BytesIO()
    with tempfile.TemporaryDirectory() as tmp, zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for layer, frame, fields in ((f"{code}_区块", blocks, BLOCK_FIELDS), (f"{code}_宗地", parcels, PARCEL_FIELDS)):
            path = Path(tmp) / f"{layer}.shp"
            pyogrio.write_dataframe(
                _renamed(frame, fields, chinese), path, driver="ESRI Shapefile", encoding=ENCODINGS[encoding]
            )
            for part in sorted(Path(tmp).glob(f"{layer}.*")):
                zf.write(part, part.name)
    return buffer.getvalue()


def _sheet(wb: Workbook, title: str, fields: tuple[Field, ...], rows: list[dict]) -> None:
    ws = wb.create_sheet(title)
    ws.append([f.chinese_name for f in fields])
    for cell in ws[1]:
        cell.font = Font(bold=True)
        cell.alignment = Alignment(horizontal="center")
    for row in rows:
        ws.append([row.get(f.key) for f in fields])
    for i, f in enumerate(fields, start=1):
        widest = max([len(str(f.chinese_name)) * 2] + [len(str(r.get(f.key) or "")) * 2 for r in rows[:200]])
        ws.column_dimensions[get_column_letter(i)].width = min(max(10, widest), 48)
    ws.freeze_panes = "A2"


def _blank(value) -> bool:
    """None or a pandas NaN (a column of the frame with missing values)."""
    return value is None or (isinstance(value, float) and math.isnan(value))


def to_xlsx(block: BlockRef, blocks: gpd.GeoDataFrame, parcels: gpd.GeoDataFrame) -> bytes:
    """Sheets 区块 (one row with its 四至), 宗地 (one row per parcel) and 企业 (one row per enterprise)."""
    wb = Workbook()
    wb.remove(wb.active)
    _sheet(wb, "区块", BLOCK_FIELDS, blocks.drop(columns="geometry").to_dict("records"))
    parcel_rows = parcels.drop(columns="geometry").to_dict("records")
    pending = message("credit_code_pending")
    for r in parcel_rows:  # an enterprise registered from an upload by name only: 信用代码待补充
        if not _blank(r["enterprise_name"]) and _blank(r["credit_code"]):
            r["credit_code"] = pending
    _sheet(wb, "宗地", PARCEL_FIELDS, parcel_rows)
    enterprises: dict[tuple, dict] = {}
    for r in parcel_rows:
        if _blank(r["enterprise_name"]):
            continue
        e = enterprises.setdefault(
            (r["credit_code"], r["enterprise_name"]),
            {"enterprise_name": r["enterprise_name"], "credit_code": r["credit_code"], "land_area_mu": 0.0,
             "parcel_codes": [], "classification": r["classification"]},
        )
        e["land_area_mu"] = round(e["land_area_mu"] + (r["land_area_mu"] or 0.0), 2)
        e["parcel_codes"].append(r["code"])
    enterprise_fields = (
        Field("enterprise_name", "", "企业名称"),
        Field("credit_code", "", "统一社会信用代码"),
        Field("classification", "", "分类"),
        Field("land_area_mu", "", "用地面积（亩）"),
        Field("parcel_codes", "", "宗地编号"),
    )
    rows = [e | {"parcel_codes": "、".join(e["parcel_codes"])} for e in enterprises.values()]
    _sheet(wb, "企业", enterprise_fields, rows)
    wb.properties.title = f"{block.name}（{block.code}）"
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()
