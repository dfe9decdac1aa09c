"""POST /api/analysis and GET /api/blocks/{code}/analysis: the plan's checks before anything is stored."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Query
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, Field, ValidationError

import spatial

from ..core.db import SessionDep
from ..errors import error_responses
from . import service
from .schemas import Analysis, StoredBlockReport

router = APIRouter(prefix="/api", tags=["分析 analysis"])

ToleranceQuery = Annotated[
    float | None, Query(ge=0, le=500, description="连片容差（米）：宗地间不超过此距离的道路、河流视为连片；"
                                                  "默认为认定年度施行的行动计划所定（2022—2023 年为 30 米）")
]
SearchQuery = Annotated[float, Query(gt=0, le=2000, description="四至搜索距离（米）")]


class AnalysisRequest(BaseModel):
    """A block plan or a set of scattered parcels to check."""

    kind: Literal["block", "scattered"] = Field("block", description="block 连片区块 / scattered 零星地块")
    crs: str | int | None = Field(
        None, description="输入坐标系：CRS84（默认，经度在前）、EPSG:4490、EPSG:4549、EPSG:4528 …", examples=["EPSG:4549"]
    )
    parcels: dict[str, Any] = Field(
        description="宗地：GeoJSON FeatureCollection 或 Feature；properties 可含 code、planned_floor_area_m2 "
        "（或 floor_area_m2）、renewal_type、classification、enterprise、merged"
    )
    block: dict[str, Any] | None = Field(None, description="区块边界（四至边界）：GeoJSON Feature 或几何，可选")
    neighbours: dict[str, Any] | None = Field(
        None, description="四至参照：道路、河流、企业等，GeoJSON FeatureCollection，properties.name 为名称"
    )
    code: str = Field("本方案", max_length=64, description="方案或区块编号，用于报告中的要素标识")
    unit: str | None = Field(None, description="镇（街道、开发区）代码；与 year 一起给出时检查每年认定不超过 2 个")
    year: int | None = Field(None, ge=2000, le=2100, description="认定年度")
    tolerance_m: float | None = Field(None, ge=0, le=500, description="连片容差（米）；默认为该年施行的行动计划所定（2022—2023 年为 30 米）")
    search_distance_m: float = Field(spatial.DEFAULT_SEARCH_DISTANCE_M, gt=0, le=2000, description="四至搜索距离（米）")


@router.post("/analysis", summary="预检：面积（亩）、容积率、有效性、连片、四至与行动计划规则", response_model=Analysis,
             responses=error_responses(413))
def analyse(
    session: SessionDep,
    body: Annotated[dict[str, Any], Body(description="AnalysisRequest，或直接提交 GeoJSON Feature / FeatureCollection")],
) -> dict:
    if body.get("type") in {"Feature", "FeatureCollection"}:
        body = {"parcels": body}
    service.check_size(body)
    try:
        request = AnalysisRequest.model_validate(body)
    except ValidationError as exc:  # the same 422 envelope as FastAPI's own body validation
        raise RequestValidationError([{**e, "loc": ("body", *e["loc"])} for e in exc.errors(include_url=False)]) from exc
    crs = service.parse_crs(request.crs)
    parcels = service.parcels_from_geojson(request.parcels)
    neighbours = service.neighbours_from_geojson(request.neighbours)
    thresholds, plan_ref = service.plan_in_force(session, request.year)
    if request.kind == "scattered":
        report = spatial.analyse_parcels(
            parcels, neighbours=neighbours, crs=crs, search_distance_m=request.search_distance_m,
            thresholds=thresholds,
        )
    else:
        report = spatial.analyse_block(
            parcels,
            block_id=request.code,
            block_geom=service.block_geometry_from_geojson(request.block),
            neighbours=neighbours,
            crs=crs,
            tolerance_m=request.tolerance_m,
            search_distance_m=request.search_distance_m,
            thresholds=thresholds,
            **service.unit_year_inputs(session, request.code, request.unit, request.year),
        )
    return report.to_dict() | {"input_crs": f"EPSG:{crs}", "action_plan": plan_ref}


@router.get("/blocks/{code}/analysis", summary="已入库区块的完整分析报告", response_model=StoredBlockReport,
            responses=error_responses(404))
def analyse_stored_block(
    code: str,
    session: SessionDep,
    tolerance_m: ToleranceQuery = None,
    search_distance_m: SearchQuery = spatial.DEFAULT_SEARCH_DISTANCE_M,
) -> dict:
    return service.stored_block_report(session, code, tolerance_m, search_distance_m)
