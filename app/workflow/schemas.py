"""Response models of the workflow endpoints: block plans and their versions, review (single and
batch), enterprises and their governance, 亩均 evaluation, 厂中厂, 投资履约 and the audit log.

Dates are ISO 8601 strings (``YYYY-MM-DD``); times are ISO 8601 with their offset. Money is 万元;
areas are 亩 unless the name says ``_m2``. Fields written ``*_10k`` from a decimal column are
decimal strings (``"30.00"``), as stored.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from ..enums import Classification, RenewalMode, ReviewStatus, Stage
from ..serve.schemas import Geometry, const
from .enums import BoundarySource, ClearanceStatus, RectificationStatus, ReferralStatus

class Out(BaseModel):
    """A response model: a key the code returns but the model lacks fails loudly (FastAPI validates responses)."""

    model_config = ConfigDict(extra="forbid")


Grade = Literal["A", "B", "C", "D"]


# --- block plans ---------------------------------------------------------------------


class UserRef(Out):
    username: str
    display_name: str


class PlanVersionSummary(Out):
    """One version of a plan, as listed (the properties of /api/plans/{code}/versions, without ``plan``)."""

    version_no: int = Field(description="版本号（1、2 …）")
    status: ReviewStatus = Field(description="draft 起草中 / submitted 已提交 / returned 已退回 / approved 已认定")
    status_label: str | None = Field(description="状态（中文）")
    name: str = Field(description="区块名称")
    year: int = Field(description="认定年度")
    area_mu: float | None = Field(description="区块边界面积（亩）")
    parcel_count: int = Field(description="宗地数")
    enterprise_count: int = Field(description="企业数")
    is_imported: bool = Field(description="工作流之前已认定（导入的第 1 版）")
    boundary_source: BoundarySource = Field(description="边界来源：derived 由宗地推导 / drawn 地图上绘制 / file 文件导入")
    based_on_version_no: int | None = Field(description="所依据的版本（变更时）")
    change_note: str | None = Field(description="变更说明")
    created_at: str = Field(description="创建时间")
    submitted_at: str | None = Field(description="提交时间")
    submitted_by: UserRef | None = Field(description="提交人")
    reviewed_at: str | None = Field(description="评审时间")
    reviewed_by: UserRef | None = Field(description="评审人")
    review_comment: str | None = Field(description="评审意见（退回理由）")
    approval_doc_no: str | None = Field(description="认定文号")
    approval_date: str | None = Field(description="认定日期")
    report_passed: bool | None = Field(description="规则检查是否通过（提交、认定时检查）")


class PlanVersionProperties(PlanVersionSummary):
    plan: str = Field(description="区块方案编号")


class VersionParcel(Out):
    code: str = Field(description="宗地编号")
    land_area_mu: float = Field(description="用地面积（亩），入方案时的数值")


class VersionEnterprise(Out):
    credit_code: str | None = Field(description="统一社会信用代码；待补充时为 null")
    name: str
    classification: Classification | None = Field(description="方案中的分类")
    classification_label: str | None = Field(description="分类（中文）")
    reason: str | None = Field(description="分类理由")


class PlanVersionDetailProperties(PlanVersionSummary):
    """One version with its details: 四至, lists and the rule report of its last check."""

    four_east: str | None = Field(description="东至")
    four_south: str | None = Field(description="南至")
    four_west: str | None = Field(description="西至")
    four_north: str | None = Field(description="北至")
    planned_new_floor_area_m2: float | None = Field(description="规划新增建筑面积（m²）")
    planned_far: float | None = Field(description="规划容积率（方案）")
    renewal_mode: RenewalMode | None = Field(description="改造方式")
    renewal_mode_label: str | None = Field(description="改造方式（中文）")
    boundary_source_label: str = Field(description="边界来源（中文）")
    industry_guidance: list[str] = Field(description="产业导向：行业代码（GB/T 4754-2017），新项目的行业应在其中；空 = 未设")
    parcels: list[VersionParcel] = Field(description="宗地清单")
    enterprises: list[VersionEnterprise] = Field(description="企业清单")
    report: dict[str, Any] | None = Field(
        description="提交或认定时保存的规则检查报告（结构同 /api/plans/{code}/check，为当时的快照）")
    plan: str = Field(description="区块方案编号")


class PlanVersionFeature(Out):
    """GET /api/plans/{code}/versions/{number}: one version as a GeoJSON Feature (EPSG:4490 lon/lat)."""

    type: Literal["Feature"] = const("Feature")
    id: str = Field(description="方案编号/v版本号，如 TX2023-CF-03/v2")
    geometry: Geometry | None = Field(description="区块边界（多面）")
    properties: PlanVersionDetailProperties


class PlanVersionSummaryFeature(Out):
    type: Literal["Feature"] = const("Feature")
    id: str = Field(description="方案编号/v版本号，如 TX2023-CF-03/v2")
    geometry: Geometry | None = Field(description="区块边界（多面）")
    properties: PlanVersionProperties


class PlanVersionCollection(Out):
    """GET /api/plans/{code}/versions: every version the caller may see, in version order."""

    type: Literal["FeatureCollection"] = const("FeatureCollection")
    numberReturned: int = Field(description="版本数")
    features: list[PlanVersionSummaryFeature]


class PlanParcelProperties(Out):
    code: str = Field(description="宗地编号")
    land_area_mu: float = Field(description="用地面积（亩），入方案时的数值")
    enterprise_name: str | None = Field(description="企业名称；无登记企业为空")
    enterprise_credit_code: str | None = Field(description="统一社会信用代码")
    classification: Classification | None = Field(description="方案中的分类（企业清单），否则宗地自身的分类")
    classification_label: str | None = Field(description="分类（中文）")
    floor_area_m2: float | None = Field(description="现状建筑面积（m²）")
    far: float | None = Field(description="现状容积率")
    planned_far: float | None = Field(description="规划容积率")
    land_use: str | None = Field(description="用地性质")


class PlanParcelFeature(Out):
    type: Literal["Feature"] = const("Feature")
    id: str = Field(description="宗地编号")
    geometry: Geometry | None = Field(description="宗地（多面）")
    properties: PlanParcelProperties


class PlanParcelCollection(Out):
    """GET /api/plans/{code}/versions/{number}/parcels: a version's parcels, in code order."""

    type: Literal["FeatureCollection"] = const("FeatureCollection")
    numberReturned: int = Field(description="宗地数")
    features: list[PlanParcelFeature]


class PlanView(Out):
    """A block plan and the versions the caller may see (the ETag is ``version``)."""

    code: str = Field(description="区块方案编号")
    unit: str = Field(description="单位代码")
    unit_name: str = Field(description="单位名称")
    status: ReviewStatus = Field(description="方案状态；他单位经办人只看到 approved")
    status_label: str = Field(description="状态（中文）")
    stage: Stage | None = Field(description="区块阶段（认定后）：planned 谋划 / started 启动 / in_progress 推进 / completed 完成")
    stage_label: str | None = Field(description="阶段（中文）")
    current_version_no: int | None = Field(description="现行（已认定）版本号")
    working_version_no: int | None = Field(description="正在起草或评审的版本号")
    name: str | None = Field(description="区块名称（最新可见版本）")
    area_mu: float | None = Field(description="面积（亩，最新可见版本）")
    version: int = Field(description="方案的版本号（即 ETag），修改时放在 If-Match 中")
    can_edit: bool = Field(description="当前用户能否办理（本单位经办人或管理员）")
    versions: list[PlanVersionSummary]


class PlanList(Out):
    data: list[PlanView]
    count: int


class SubmittedPlan(PlanView):
    submitted: PlanVersionFeature = Field(description="待评审的版本（含规则检查报告）")


class ReviewBatch(Out):
    data: list[SubmittedPlan]
    count: int


class DecisionError(Out):
    field: str | None
    message: str


class DecisionDone(Out):
    code: str = Field(description="区块方案编号")
    ok: Literal[True]
    status: ReviewStatus = Field(description="决定后的状态：approved 或 returned")
    version: int = Field(description="方案的新版本号（ETag）")


class DecisionFailed(Out):
    code: str = Field(description="区块方案编号")
    ok: Literal[False]
    status_code: int = Field(description="单独办理时会得到的 HTTP 状态码，如 403、409、422")
    error: str = Field(description="错误代码（同错误信封的 code）")
    detail: str = Field(description="中文说明")
    errors: list[DecisionError]


class BatchResult(Out):
    """Each decision succeeds or fails on its own (成熟一批评审一批)."""

    results: list[DecisionDone | DecisionFailed]
    approved: int = Field(description="认定的方案数")
    returned: int = Field(description="退回的方案数")
    failed: int = Field(description="未能办理的方案数")


class FromTo(Out):
    from_: str | None = Field(alias="from")
    to: str | None


class AreaChange(Out):
    from_: float = Field(alias="from", description="前一版面积（亩）")
    to: float = Field(description="后一版面积（亩）")
    change: float = Field(description="增减（亩）")


class ChangeProperties(Out):
    change: Literal["added", "removed", "unchanged"] = Field(description="added 新增 / removed 减少 / unchanged 未变")
    area_mu: float = Field(description="面积（亩，EPSG:4549 平面）")


class ChangeFeature(Out):
    type: Literal["Feature"] = const("Feature")
    geometry: Geometry | None = Field(description="该部分的图形（EPSG:4490）；为空表示没有这部分")
    properties: ChangeProperties


class ChangeCollection(Out):
    type: Literal["FeatureCollection"] = const("FeatureCollection")
    features: list[ChangeFeature] = Field(description="新增、减少、未变三部分")


class ParcelRef(Out):
    code: str
    land_area_mu: float


class ParcelChanges(Out):
    added: list[ParcelRef]
    removed: list[ParcelRef]


class EnterpriseRef(Out):
    credit_code: str | None
    name: str


class Reclassified(Out):
    credit_code: str | None
    name: str
    from_: Classification | None = Field(alias="from")
    to: Classification | None


class EnterpriseChanges(Out):
    added: list[EnterpriseRef]
    removed: list[EnterpriseRef]
    reclassified: list[Reclassified]


class PlanComparison(Out):
    """Two versions compared: boundary gained and lost (亩), list changes and changed fields."""

    plan: str
    from_version: int
    to_version: int
    area_mu: AreaChange
    geometry: ChangeCollection
    parcels: ParcelChanges
    enterprises: EnterpriseChanges
    fields: dict[str, FromTo] = Field(description="变化的字段（name、year、four_east … planned_new_floor_area_m2），值为文本")


# --- enterprises and governance -----------------------------------------------------------


class ClassificationHistory(Out):
    classification: Classification
    reason: str
    decided_on: str | None
    decided_by: str | None = Field(description="决定人（用户名）")
    suggested_grade: Grade | None = Field(description="决定时上一年度亩均评价的建议等级")


class EnterpriseParcel(Out):
    code: str = Field(description="宗地编号")
    land_area_mu: float = Field(description="用地面积（亩）")
    block_code: str | None = Field(description="所在区块编号（零星宗地为空）")
    unit_name: str | None = Field(description="宗地所在镇街")


class EnterpriseView(Out):
    credit_code: str = Field(description="统一社会信用代码")
    name: str
    classification: Classification | None = Field(description="当前分类：upgrade 改造提升 / transform 优化转型 / clear_out 整治清退")
    classification_label: str | None
    reason: str | None = Field(description="分类理由")
    decided_on: str | None = Field(description="分类日期")
    decided_by: str | None = Field(description="决定人（用户名）")
    clearance_status: ClearanceStatus | None = Field(description="整治清退进度：listed 已列入清单 / rectifying 整治中 / cleared 已清退")
    clearance_deadline: str | None = Field(description="清退期限")
    version: int = Field(description="分类记录的版本号（ETag）；尚未分类为 0")
    history: list[ClassificationHistory] = Field(description="分类历史")
    # The register (一库): 行业、规模、投产年份、地址、所在镇街, the parcels and the latest fixed 亩均评价 class.
    industry_code: str | None = Field(None, description="行业代码（GB/T 4754-2017）")
    industry_name: str | None = Field(None, description="行业名称")
    scale: str | None = Field(None, description="规模：above_scale 规上 / below_scale 规下")
    scale_label: str | None = None
    production_year: int | None = Field(None, description="投产年份")
    address: str | None = Field(None, description="地址")
    unit_code: str | None = Field(None, description="所在镇街代码")
    unit_name: str | None = None
    credit_code_pending: bool = Field(False, description="信用代码待补充（有信用代码的企业总为 false）")
    parcels: list[EnterpriseParcel] = Field(default_factory=list, description="企业的宗地")
    land_mu: float | None = Field(None, description="用地面积（亩，宗地合计）")
    evaluation_grade: Grade | None = Field(None, description="最近一次定档的亩均评价分类")
    evaluation_year: int | None = Field(None, description="该评价的年度")


class Graded(Out):
    """亩均 figures and grade (the thresholds of /api/grading)."""

    land_mu: float | None = Field(description="用地面积（亩）")
    tax_10k_yuan: float | None = Field(description="年度税收（万元）")
    output_10k_yuan: float | None = Field(description="年度产出（万元）")
    tax_per_mu_10k: float | None = Field(description="亩均税收（万元/亩）")
    output_per_mu_10k: float | None = Field(description="亩均产出（万元/亩）")
    grade: Grade | None = Field(description="A/B/C/D 分级；缺数据为空")
    suggested_classification: Classification | None = Field(description="该等级的建议分类")


class EnterpriseFigures(Out):
    credit_code: str
    year: int
    tax_10k_yuan: float | None = Field(description="年度税收（万元）")
    output_10k_yuan: float | None = Field(description="年度产出（万元）")
    land_mu: float | None = Field(description="用地面积（亩）")
    tax_per_mu_10k: float | None = Field(description="亩均税收（万元/亩）")
    output_per_mu_10k: float | None = Field(description="亩均产出（万元/亩）")
    grade: Grade | None = Field(description="A/B/C/D 分级；缺数据为空")
    suggested_classification: Classification | None = Field(description="该等级的建议分类")


class Threshold(Out):
    grade: Grade
    min_tax_per_mu_10k: float | None = Field(description="亩均税收下限（万元/亩）；D 级为空")
    min_output_per_mu_10k: float | None = Field(description="亩均产出下限（万元/亩）；D 级为空")
    suggested_classification: Classification


class GradeCounts(Out):
    A: int
    B: int
    C: int
    D: int


class _EnterpriseOf(Out):
    credit_code: str | None
    name: str
    unit: str = Field(description="所在单位名称")


class _TenantOf(Out):
    id: int
    lessee: str = Field(description="承租企业")
    credit_code: str | None
    parcel: str = Field(description="宗地编号")
    unit: str = Field(description="所在单位名称")


class EvaluatedEnterprise(Graded, _EnterpriseOf):
    """An enterprise's evaluation (its own fields first, then the graded figures)."""

    classification: Classification | None = Field(description="当前分类")
    differs_from_suggestion: bool = Field(description="当前分类与建议分类不同")


class EvaluatedTenant(Graded, _TenantOf):
    """A 厂中厂 tenant's evaluation."""


class Evaluation(Out):
    year: int
    thresholds: list[Threshold]
    grades: GradeCounts = Field(description="各等级企业数")
    enterprises: list[EvaluatedEnterprise]
    tenants: list[EvaluatedTenant] = Field(description="厂中厂租户（用地按租赁面积折算为亩）")


class GradingRule(Out):
    grade: Grade
    min_tax_per_mu_10k: str | None = Field(description="亩均税收下限（万元/亩，十进制文本）；D 级为空")
    min_output_per_mu_10k: str | None = Field(description="亩均产出下限（万元/亩，十进制文本）；D 级为空")
    suggested_classification: Classification
    version: int = Field(description="版本号（ETag）")


class GradingRules(Out):
    data: list[GradingRule]


class GradingSaved(Out):
    grade: Grade
    version: int


class ReferralCreated(Out):
    id: int
    credit_code: str
    status: ReferralStatus = Field(description="open 联动执法中 / closed 已办结")
    version: int


class ReferralClosed(Out):
    id: int
    status: ReferralStatus


# --- 厂中厂 ------------------------------------------------------------------------------


class InspectionView(Out):
    id: int
    inspected_on: str | None = Field(description="检查日期")
    inspector: str = Field(description="检查人")
    findings: str = Field(description="检查发现")
    rectification_status: RectificationStatus = Field(
        description="none_needed 无需整改 / pending 待整改 / in_progress 整改中 / done 已整改")
    rectification_label: str = Field(description="整改状态（中文）")
    rectify_by: str | None = Field(description="整改期限")
    rectified_on: str | None = Field(description="整改完成日期")
    version: int


class TenantYear(Out):
    year: int
    tax_10k_yuan: float = Field(description="年度税收（万元）")
    output_10k_yuan: float = Field(description="年度产出（万元）")


class TenantView(Out):
    id: int
    parcel: str = Field(description="宗地编号")
    unit: str = Field(description="宗地所在单位代码")
    unit_name: str = Field(description="宗地所在单位名称")
    block_name: str | None = Field(description="宗地所在区块（不在区块内为空）")
    lessee: str = Field(description="承租企业")
    credit_code: str | None
    leased_area_m2: float = Field(description="租赁面积（m²）")
    business: str | None = Field(description="经营内容")
    lease_start: str | None
    lease_end: str | None
    lease_id: int | None = Field(None, description="对应的转让与租赁登记（租赁记录编号）")
    version: int
    figures: list[TenantYear] = Field(description="年度税收、产出（新的年份在前）")
    can_edit: bool = Field(description="本人可修改租户、登记检查（所在单位经办人、管理员）")
    can_enter_figures: bool = Field(description="本人可填报年度税收、产出（另含 GIS 专员）")
    inspections: list[InspectionView]


class TenantList(Out):
    data: list[TenantView]
    count: int


class TenantFigures(Out):
    tenant: int = Field(description="租户编号")
    year: int
    tax_10k_yuan: float = Field(description="年度税收（万元）")
    output_10k_yuan: float = Field(description="年度产出（万元）")


class InspectionSaved(Out):
    id: int
    version: int
    rectification_status: RectificationStatus


# --- 投资履约 ----------------------------------------------------------------------------


class MissedPromise(Out):
    item: Literal["investment", "output", "tax"]
    label: str = Field(description="投资 / 产出 / 税收")
    promised_10k: float = Field(description="承诺（万元）")
    actual_10k: float = Field(description="实际（万元）")
    rate: float = Field(description="实际 ÷ 承诺")


class CreditView(Out):
    id: int
    project_name: str
    enterprise: str = Field(description="企业名称")
    credit_code: str
    unit: str = Field(description="单位代码")
    year: int
    promised_investment_10k: str | None = Field(description="承诺投资（万元，十进制文本）")
    actual_investment_10k: str | None = Field(description="实际投资（万元，十进制文本）")
    promised_output_10k: str | None = Field(description="承诺产出（万元，十进制文本）")
    actual_output_10k: str | None = Field(description="实际产出（万元，十进制文本）")
    promised_tax_10k: str | None = Field(description="承诺税收（万元，十进制文本）")
    actual_tax_10k: str | None = Field(description="实际税收（万元，十进制文本）")
    note: str | None
    version: int
    is_defaulter: bool = Field(description="失信：任一项实际低于承诺 × default_ratio")
    missed: list[MissedPromise] = Field(description="未达承诺的项目")


class CreditList(Out):
    data: list[CreditView]
    count: int
    default_ratio: float = Field(description="失信判定比例（CLOUDMAP_CREDIT_DEFAULT_RATIO）")


# --- audit ---------------------------------------------------------------------------------


class AuditRow(Out):
    id: int
    at: str = Field(description="写入时间")
    user: str = Field(description="用户名")
    action: str = Field(description="操作，如 plan_create、submit、approve、classify")
    object_type: str = Field(description="表名，如 block_versions")
    object_id: str = Field(description="行的主键")
    object_version: int | None = Field(description="写入后行的版本号")
    subject: str | None = Field(description="对象，如 plan:TX2022-CF-01")
    subject_version: int | None = Field(description="写入后对象的版本号（ETag）")
    before: dict[str, Any] | None = Field(description="改动前的值（字段 → 值）；新建时为空")
    after: dict[str, Any] | None = Field(description="改动后的值（字段 → 值）；删除时为空")


class AuditLog(Out):
    data: list[AuditRow]
    count: int
