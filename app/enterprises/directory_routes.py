"""一库 directory endpoint: GET /api/enterprises, the register as a paged, filterable list (signed-in users)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field

from ..auth.deps import CurrentUser
from ..core.db import SessionDep
from ..enums import EnterpriseScale
from ..errors import error_responses
from . import directory

router = APIRouter(prefix="/api/enterprises", tags=["一库 enterprise register"], responses=error_responses(401, 403))


class DirectoryRow(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: int = Field(description="企业编号")
    credit_code: str | None = Field(description="统一社会信用代码；信用代码待补充的为空")
    credit_code_pending: bool = Field(description="信用代码待补充（上传宗地时按名称登记）")
    name: str
    industry_code: str | None = Field(description="行业代码（GB/T 4754-2017）")
    industry_name: str | None
    scale: EnterpriseScale | None = Field(description="above_scale 规上 / below_scale 规下")
    scale_label: str | None
    production_year: int | None = Field(description="投产年份")
    unit_code: str | None = Field(description="所在镇街代码（名录未填时为其宗地多数所在的镇街）")
    unit_name: str | None
    unit_from_parcels: bool = Field(description="名录未填所在镇街，按宗地所在镇街列出")
    parcel_count: int = Field(description="宗地数")
    land_mu: float | None = Field(description="用地面积（亩，宗地合计）")
    classification: str | None = Field(description="当前分类：upgrade / transform / clear_out")
    classification_label: str | None
    evaluation_grade: Literal["A", "B", "C", "D"] | None = Field(description="最近一次定档的亩均评价分类")
    evaluation_year: int | None


class Directory(BaseModel):
    model_config = ConfigDict(extra="forbid")

    data: list[DirectoryRow]
    numberMatched: int = Field(description="符合条件的企业总数")
    numberReturned: int
    limit: int
    offset: int


@router.get("", summary="企业库：按名称或信用代码、镇街、规模、行业、评价分类、信用代码待补充筛选，分页",
            response_model=Directory, responses=error_responses(404))
def enterprise_directory(
    session: SessionDep, _user: CurrentUser,
    q: Annotated[str | None, Query(max_length=100, description="企业名称或统一社会信用代码的一部分")] = None,
    unit: Annotated[str | None, Query(max_length=32, description="所在镇街代码，如 chongfu（名录未填镇街的企业按其宗地）")] = None,
    scale: Annotated[EnterpriseScale | None, Query(description="规模：above_scale 规上 / below_scale 规下")] = None,
    industry: Annotated[str | None, Query(pattern=r"^[A-Ta-t][0-9]{0,4}$",
                                          description="行业代码的开头，如 C、C17、C1713")] = None,
    grade: Annotated[Literal["A", "B", "C", "D"] | None, Query(description="亩均评价分类")] = None,
    pending: Annotated[bool | None, Query(description="true：只列信用代码待补充的企业；false：只列已登记信用代码的")] = None,
    limit: Annotated[int, Query(ge=1, le=directory.MAX_LIMIT, description=f"每页条数（≤ {directory.MAX_LIMIT}）")] = 50,
    offset: Annotated[int, Query(ge=0, le=10_000_000, description="跳过的条数")] = 0,
) -> dict:
    filters = directory.Filters(q=q or None, unit=unit or None, scale=scale,
                                industry=industry.upper() if industry else None, grade=grade, pending=pending)
    return directory.directory(session, filters, limit=limit, offset=offset)
