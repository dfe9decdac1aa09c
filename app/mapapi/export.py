"""One block's export: its outline and its parcels, and the fields every export writes.

The block and its parcels are read once (:func:`block_tables`, through the shared read path: the
registry's ``blocks`` and ``parcels`` layers, as rows) and written by
:func:`app.mapapi.layer_export.write` in any export format and CRS, or here as a workbook of
three sheets (区块, 宗地, 企业) through :mod:`app.core.excel`. Areas and FARs are the stored
figures, which ``spatial`` computed.

The Shapefile column names (:data:`BLOCK_FIELDS`, :data:`PARCEL_FIELDS`: ASCII for UTF-8, Chinese
of at most 5 characters for GBK) are what the upload recognises on the way back: keep them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal

import geopandas as gpd
import shapely
from sqlalchemy.orm import Session

from spatial import STORAGE_SRID

from ..core import excel
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
    kind: str = "text"  # the Excel column kind (app.core.excel.KINDS)

    @property
    def source(self) -> str:
        return self.prop or self.key


BLOCK_FIELDS = (
    Field("code", "CODE", "区块编号"),
    Field("name", "NAME", "区块名称"),
    Field("unit_name", "UNIT", "所属镇街"),
    Field("designated_year", "YEAR", "认定年度", kind="int"),
    Field("stage", "STAGE", "阶段", "stage_label"),
    Field("review_status", "REVIEW", "认定状态", "review_status_label"),
    Field("approval_doc_no", "DOC_NO", "认定文号"),
    Field("area_mu", "AREA_MU", "面积亩", kind="mu"),
    Field("planned_far", "PLAN_FAR", "规划容积率", kind="far"),
    Field("planned_new_floor_area_m2", "NEW_FL_M2", "新增建面", kind="area"),
    Field("four_east", "EAST", "东至"),
    Field("four_south", "SOUTH", "南至"),
    Field("four_west", "WEST", "西至"),
    Field("four_north", "NORTH", "北至"),
)
PARCEL_FIELDS = (
    Field("code", "CODE", "宗地编号"),
    Field("enterprise_name", "ENT_NAME", "企业名称"),
    Field("credit_code", "CREDIT", "信用代码", "enterprise_credit_code"),
    Field("land_area_mu", "AREA_MU", "用地亩", kind="mu"),
    Field("floor_area_m2", "FLOOR_M2", "现状建面", kind="area"),
    Field("far", "FAR", "现状容积率", kind="far"),
    Field("planned_floor_area_m2", "PLAN_FL_M2", "规划建面", kind="area"),
    Field("planned_far", "PLAN_FAR", "规划容积率", kind="far"),
    Field("land_use", "LAND_USE", "用地性质"),
    Field("classification", "CLASS", "分类", "classification_label"),
    Field("renewal_type", "RNW_TYPE", "改造类型", "renewal_type_label"),
    Field("renewal_mode", "RNW_MODE", "改造模式", "renewal_mode_label"),
    Field("status", "STATUS", "进度", "status_label"),
)


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


def _blank(value) -> bool:
    """None or a pandas NaN (a column of the frame with missing values)."""
    return value is None or (isinstance(value, float) and math.isnan(value))


def _rows(records: list[dict], fields: tuple[Field, ...]) -> list[list]:
    return [[None if _blank(r.get(f.key)) else r.get(f.key) for f in fields] for r in records]


def _columns(fields: tuple[Field, ...]) -> list[excel.Column]:
    return [excel.Column(f.chinese_name, f.kind) for f in fields]


ENTERPRISE_FIELDS = (
    Field("enterprise_name", "", "企业名称"),
    Field("credit_code", "", "统一社会信用代码"),
    Field("classification", "", "分类"),
    Field("land_area_mu", "", "用地面积（亩）", kind="mu"),
    Field("parcel_codes", "", "宗地编号"),
)


def to_xlsx(block: BlockRef, blocks: gpd.GeoDataFrame, parcels: gpd.GeoDataFrame) -> bytes:
    """Sheets 区块 (one row with its 四至), 宗地 (one row per parcel) and 企业 (one row per enterprise),
    each with the block's name as its title and the export time, printable on A4."""
    title = f"{block.name}（{block.code}）"
    when = excel.exported_line()
    wb = excel.new_workbook()
    excel.table_sheet(wb, "区块", _columns(BLOCK_FIELDS),
                      _rows(blocks.drop(columns="geometry").to_dict("records"), BLOCK_FIELDS),
                      title=title, date_line=when)
    parcel_rows = parcels.drop(columns="geometry").to_dict("records")
    pending = message("credit_code_pending")
    for r in parcel_rows:  # an enterprise registered from an upload by name only: 信用代码待补充
        if not _blank(r["enterprise_name"]) and _blank(r["credit_code"]):
            r["credit_code"] = pending
    excel.table_sheet(wb, "宗地", _columns(PARCEL_FIELDS), _rows(parcel_rows, PARCEL_FIELDS),
                      title=f"{title}宗地", date_line=when)
    enterprises: dict[tuple, dict] = {}
    for r in parcel_rows:
        if _blank(r["enterprise_name"]):
            continue
        e = enterprises.setdefault(
            (r["credit_code"], r["enterprise_name"]),
            {"enterprise_name": r["enterprise_name"], "credit_code": r["credit_code"], "land_area_mu": 0.0,
             "parcel_codes": [], "classification": r["classification"]},
        )
        e["land_area_mu"] = round(e["land_area_mu"] + (0.0 if _blank(r["land_area_mu"]) else r["land_area_mu"]), 2)
        e["parcel_codes"].append(r["code"])
    rows = [e | {"parcel_codes": "、".join(e["parcel_codes"])} for e in enterprises.values()]
    excel.table_sheet(wb, "企业", _columns(ENTERPRISE_FIELDS), _rows(rows, ENTERPRISE_FIELDS),
                      title=f"{title}企业", date_line=when)
    wb.properties.title = title
    return excel.to_bytes(wb)
