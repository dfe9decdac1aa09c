"""Response models of the spatial report (``spatial``'s ``BlockReport.to_dict()`` / ``ParcelsReport.to_dict()``):
POST /api/analysis, GET /api/blocks/{code}/analysis, and a plan version's rule check (/api/plans/{code}/check).

Areas are plane areas in EPSG:4549 (亩 = m² / 666.67); problem locations and repaired shapes are
EPSG:4490 lon/lat (``location_srid``); the 四至 extremes are EPSG:4549 metres (``extremes_srid``).
Definitions: docs/spatial.md.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class Out(BaseModel):
    """A response model: a key the code returns but the model lacks fails loudly (FastAPI validates responses)."""

    model_config = ConfigDict(extra="forbid")


FeatureId = Annotated[Any, Field(description="要素标识：宗地编号、区块编号，或未给编号时的序号（#1、#2 …）")]
Severity = Literal["error", "warning"]


class Violation(Out):
    """A failed rule of the plan (行动计划规则)."""

    code: str = Field(description="稳定的规则代码，如 block_area_below_min、parcel_far_below_min")
    message_zh: str = Field(description="中文说明")
    values: dict[str, Any] = Field(description="涉及的数值（随规则而定，如 area_mu、min_mu、far）")
    feature_ids: list[FeatureId] = Field(description="涉及的要素")
    severity: Severity = Field(description="error 不通过 / warning 提醒")


class Problem(Out):
    """A validity or topology problem of a geometry (自相交、重叠、超出区块边界 …)."""

    code: str = Field(description="稳定的问题代码，如 self_intersection、overlap")
    message_zh: str = Field(description="中文说明")
    severity: Severity = Field(description="error 不通过 / warning 提醒")
    feature_ids: list[FeatureId] = Field(description="涉及的要素")
    location: list[float] | None = Field(description="问题位置 [x, y]（坐标系见 location_srid）")
    values: dict[str, Any] = Field(description="涉及的数值（随问题而定）")
    repaired: dict[str, Any] | None = Field(description="系统修复后的图形（GeoJSON 几何，坐标系见 location_srid）")
    repair_changes_area: bool | None = Field(description="修复是否改变了面积")


class SideOther(Out):
    name: str
    facing_m: float = Field(description="该侧朝向此名称的边界长度（米）")


class Side(Out):
    """What one side of the subject faces (四至的一侧)."""

    direction: Literal["east", "south", "west", "north"]
    name: str | None = Field(description="该侧相邻要素的名称（最长者）；无则为空")
    facing_m: float = Field(description="朝向该名称的边界长度（米）")
    side_length_m: float = Field(description="朝向该方向的边界总长（米）")
    distance_m: float | None = Field(description="到该名称的平均距离（米）")
    others: list[SideOther] = Field(description="该侧遇到的其他名称，按长度排序")


class Extremes(Out):
    east_x: float = Field(description="最东点的 X（米）")
    south_y: float = Field(description="最南点的 Y（米）")
    west_x: float = Field(description="最西点的 X（米）")
    north_y: float = Field(description="最北点的 Y（米）")


class FourBoundaries(Out):
    """四至: the name on each side, the standard sentence and the extreme coordinates."""

    east: str | None = Field(description="东至")
    south: str | None = Field(description="南至")
    west: str | None = Field(description="西至")
    north: str | None = Field(description="北至")
    text: str = Field(description="四至表述，如“东至环城路，南至河道，西至甲公司，北至……”")
    extremes: Extremes = Field(description="四至极值坐标（坐标系见 extremes_srid）")
    search_distance_m: float = Field(description="四至搜索距离（米）")
    sides: list[Side]


class ParcelFigures(Out):
    """One parcel's measured figures."""

    id: FeatureId
    area_m2: float | None = Field(description="面积（平方米，EPSG:4549 平面）")
    area_mu: float | None = Field(description="面积（亩）")
    floor_area_m2: float | None = Field(description="规划建筑面积（平方米）")
    far: float | None = Field(description="容积率（规划建筑面积 ÷ 用地面积）")
    four_boundaries: FourBoundaries | None = Field(description="宗地四至（零星地块）")
    violations: list[Violation] = Field(description="本宗地未通过的规则")


class Component(Out):
    feature_ids: list[FeatureId] = Field(description="连成一片的宗地")
    area_m2: float
    area_mu: float


class Gap(Out):
    feature_ids: list[FeatureId] = Field(description="被连片容差跨接（或最近处相隔）的两宗地")
    distance_m: float = Field(description="两宗地之间的最短距离（米）")
    location: list[float] = Field(description="间隙中点 [x, y]（坐标系见 location_srid）")
    line: list[list[float]] = Field(description="最短连线的两个端点（坐标系见 location_srid）")


class Contiguity(Out):
    """连片: the connected groups of parcels within the tolerance, and the gaps it bridged."""

    tolerance_m: float = Field(description="连片容差（米）")
    is_contiguous: bool = Field(description="是否连成一片")
    component_count: int = Field(description="片数")
    components: list[Component]
    gaps: list[Gap] = Field(description="容差跨接的间隙（道路、河道等）")
    separations: list[Gap] = Field(description="不连片时各片之间最近处的距离（均超过容差），片数减一条")
    problems: list[Problem]


class Thresholds(Out):
    """spatial.PlanThresholds: the rules' thresholds of a 行动计划."""

    min_block_mu: float = Field(description="连片区块面积下限（亩）")
    max_blocks_per_unit_per_year: int = Field(description="每单位每年认定连片区块上限（个）")
    min_parcel_mu: float = Field(description="零星宗地面积下限（亩）")
    min_far: float = Field(description="改造后容积率下限")
    min_merged_parcel_mu: float = Field(description="整合归宗单宗面积下限（亩）")
    tolerance_m: float = Field(description="连片容差（米）")
    max_outside_park_mu: float = Field(description="园区外面积容差（亩）：连片区块位于开发区和工业园区之外不超过此面积视为边界误差")


class PlanRef(Out):
    """The 行动计划 whose thresholds the rules were checked against."""

    id: int
    doc_no: str = Field(description="文号")
    title: str = Field(description="标题")
    start_year: int = Field(description="实施期起始年")
    end_year: int = Field(description="实施期末年")
    thresholds: Thresholds


class BlockReport(Out):
    """The report of a contiguous renewal block (连片腾退改造区块)."""

    kind: Literal["block"] = Field(description="block 连片区块")
    block_id: FeatureId
    land_area_m2: float = Field(description="宗地面积合计（平方米）")
    land_area_mu: float = Field(description="宗地面积合计（亩）")
    ellipsoidal_area_m2: float = Field(description="椭球面积（平方米），用于核对平面面积")
    boundary_area_mu: float | None = Field(description="区块边界面积（亩）")
    floor_area_m2: float | None = Field(description="规划建筑面积合计（平方米）")
    average_far: float | None = Field(description="平均容积率（按面积加权）")
    existing_far: float | None = Field(description="现状容积率（现状建筑面积 ÷ 用地面积；每宗地都有现状建筑面积时）")
    planned_far: float | None = Field(description="方案所填的规划容积率（填写时按它检查 2.0 目标）")
    parcels: list[ParcelFigures]
    problems: list[Problem] = Field(description="图形有效性问题")
    contiguity: Contiguity | None
    four_boundaries: FourBoundaries | None = Field(description="区块四至")
    violations: list[Violation] = Field(description="行动计划规则的检查结果（未通过者）")
    passed: bool = Field(description="是否通过：没有任何 error")
    action_plan: PlanRef | None = Field(None, description="检查所依据的行动计划（该年施行的计划）")
    boundary: dict[str, Any] | None = Field(
        description="检查所用的区块边界（GeoJSON 面，EPSG:4490 经纬度）：给出的边界，或由宗地推导的边界")
    boundary_derived: bool = Field(description="边界由宗地推导（未给出边界：把连片容差以内的道路、河道间隙合并进来）")
    area_srid: int = Field(description="面积计算所用坐标系（4549）")
    location_srid: int = Field(description="问题位置与修复图形的坐标系（4490 经纬度）")
    extremes_srid: int = Field(description="四至极值坐标的坐标系（4549）")


class ScatteredReport(Out):
    """The report of scattered renewal parcels (零星地块)."""

    kind: Literal["scattered"] = Field(description="scattered 零星地块")
    land_area_m2: float = Field(description="面积合计（平方米）")
    land_area_mu: float = Field(description="面积合计（亩）")
    parcels: list[ParcelFigures]
    problems: list[Problem] = Field(description="图形有效性问题")
    violations: list[Violation] = Field(description="行动计划规则的检查结果（未通过者）")
    passed: bool = Field(description="是否通过：没有任何 error")
    action_plan: PlanRef | None = Field(None, description="检查所依据的行动计划（该年施行的计划）")
    area_srid: int = Field(description="面积计算所用坐标系（4549）")
    location_srid: int = Field(description="问题位置与修复图形的坐标系（4490 经纬度）")
    extremes_srid: int = Field(description="四至极值坐标的坐标系（4549）")


class BlockAnalysis(BlockReport):
    """POST /api/analysis for a block plan."""

    input_crs: str = Field(description="输入数据的坐标系，如 EPSG:4490、EPSG:4549")


class ScatteredAnalysis(ScatteredReport):
    """POST /api/analysis for scattered parcels."""

    input_crs: str = Field(description="输入数据的坐标系，如 EPSG:4490、EPSG:4549")


Analysis = Annotated[BlockAnalysis | ScatteredAnalysis, Field(discriminator="kind")]


class BlockRef(Out):
    code: str = Field(description="区块编号")
    name: str = Field(description="区块名称")
    unit: str = Field(description="所属镇（街道、开发区）名称")


class StoredBlockReport(BlockReport):
    """GET /api/blocks/{code}/analysis: the report of a stored block and its surroundings."""

    block: BlockRef


class ClassificationShare(Out):
    classification: Literal["upgrade", "transform", "clear_out", "unclassified", "no_enterprise"] = Field(
        description="分类；unclassified 企业未分类，no_enterprise 宗地无登记企业")
    label: str = Field(description="分类（中文）")
    area_mu: float = Field(description="该类宗地面积合计（亩）")


class PlanFigures(Out):
    """What a reviewer reads first: land, FAR now and planned, the classification mix."""

    land_area_mu: float = Field(description="宗地面积合计（亩），计入 200 亩下限")
    boundary_area_mu: float | None = Field(description="区块边界面积（亩），含边界内道路、河道")
    parcel_count: int = Field(description="宗地数")
    enterprise_count: int = Field(description="企业清单家数")
    parcels_without_enterprise: int = Field(description="无登记企业的宗地数")
    far_now: float | None = Field(description="现状容积率")
    far_planned: float | None = Field(description="规划容积率：方案所填，未填则按宗地规划建筑面积计算")
    far_planned_declared: bool = Field(description="规划容积率为方案所填")
    classification_mu: list[ClassificationShare] = Field(description="按企业分类的宗地面积（亩）")


class PlanEnterprise(Out):
    credit_code: str | None = Field(description="统一社会信用代码；由上传登记、尚待补充的为 null")
    name: str = Field(description="企业名称")
    classification: str | None = Field(description="方案中的分类")
    classification_label: str | None = Field(description="方案中的分类（中文）")
    current_classification: str | None = Field(description="企业库中的当前分类")
    reason: str | None = Field(description="分类理由")
    parcels: list[str] = Field(description="该企业在方案中的宗地")


class PlanPreview(StoredBlockReport):
    """POST /api/plans/preview: the live report of an unsaved draft."""

    figures: PlanFigures
    enterprises: list[PlanEnterprise] = Field(description="企业清单（未给出时为宗地上的企业及其当前分类）")


class PlanCheckReport(StoredBlockReport):
    """A plan version's rule check: the block report plus the 四至 and enterprise-list rules."""

    figures: PlanFigures | None = Field(None, description="面积、容积率与分类构成（较早的检查报告没有此项）")

    version_no: int = Field(description="所检查的版本号")
    checked_at: str = Field(description="检查时间（ISO 8601，UTC）")
