"""The upload preview as a layer of the shared read path (app.core.read): the staged features of one
upload, with their problems, drawn on the map before anything is stored."""

from __future__ import annotations

import uuid
from functools import lru_cache

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..core.read import sql
from ..core.read.layers import Layer, Prop, param
from .models import UploadFeature

PREVIEW_MAX = 100_000


@lru_cache(maxsize=1)
def staged_features() -> Layer:
    f = UploadFeature
    return Layer(
        id="upload_features",
        title="上传预览（暂存要素）",
        description="一次上传的暂存要素：图形（或系统修复后的图形）、面积、映射后的属性、文件原始属性与检查问题。",
        table=UploadFeature,
        base=select().select_from(UploadFeature),
        id_column=f.feature_no,
        geom=func.coalesce(f.geom, f.repaired_geom),
        properties=(
            Prop("feature", f.feature_no, "要素序号", "integer"),
            Prop("code", f.code, "编号"),
            Prop("severity", f.severity, "检查结果"),
            Prop("area_mu", func.coalesce(f.area_mu, f.repaired_area_mu), "面积（亩）", "number"),
            Prop("far", f.far, "现状容积率", "number"),
            Prop("planned_far", f.planned_far, "规划容积率", "number"),
            Prop("existing", f.existing_id.is_not(None), "库中已有同编号要素", "boolean"),
            Prop("repairable", f.repaired_geom.is_not(None), "可接受修复后的图形", "boolean"),
            Prop("values", f.mapped_values, "映射后的属性", "object"),
            Prop("source", f.attributes, "文件中的原始属性", "object"),
            Prop("problems", f.problems, "检查问题", "array"),
        ),
        filters={
            "upload": lambda: f.upload_id == param("upload", f.upload_id.type),
            "severity": lambda: f.severity == param("severity"),
        },
    )


def preview_page(session: Session, upload_id: uuid.UUID, *, limit: int, offset: int = 0,
                 severity: str | None = None) -> sql.Page:
    """A page of an upload's staged features (GeoJSON text), in feature order."""
    filters: list[tuple[str, object]] = [("upload", upload_id)]
    if severity is not None:
        filters.append(("severity", severity))
    query = sql.page_query(staged_features(), limit=min(limit, PREVIEW_MAX), offset=offset, filters=filters)
    return sql.feature_page_on(session, query)
