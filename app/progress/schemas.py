"""Response models of /api/progress (一表): monthly progress, indicators, the parcels behind a figure,
targets, assessment scores and their configuration, issued monthly reports.

Areas are 亩 (two decimals), rates are fractions (four decimals: 0.1234 = 12.34 %), money is 万元,
dates ISO 8601 strings. Definitions and the scoring formula: docs/assessment.md.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from ..enums import RenewalType


class Out(BaseModel):
    """A response model: a key the code returns but the model lacks fails loudly (FastAPI validates responses)."""

    model_config = ConfigDict(extra="forbid")


Track = Literal["contiguous", "scattered"]
IndicatorCode = Literal["completion_rate", "average_far", "compliant_share", "tax_per_mu_ratio"]


class Target(Out):
    """年度任务 of a unit (or the sum of the units' for the city)."""

    renewal_mu: float = Field(description="年度任务（亩）= 连片 + 零星")
    contiguous_mu: float = Field(description="其中连片（亩）")
    scattered_mu: float = Field(description="其中零星（亩）")


# --- monthly progress --------------------------------------------------------------------


class ProgressRow(Out):
    """One unit's (or the city's) progress in the month and year to date."""

    unit_code: str = Field(description="单位代码；全市为 citywide")
    unit_name: str
    target: Target | None = Field(description="年度任务；未下达为空")
    done_month_mu: float = Field(description="本月完成（亩）")
    done_month_parcels: int = Field(description="本月完成宗地数")
    done_ytd_mu: float = Field(description="年度累计完成（亩）")
    done_ytd_contiguous_mu: float = Field(description="其中连片（亩）")
    done_ytd_scattered_mu: float = Field(description="其中零星（亩）")
    done_ytd_parcels: int = Field(description="年度累计完成宗地数")
    completion_rate: float | None = Field(description="完成率 = 累计完成 ÷ 年度任务")
    contiguous_rate: float | None = Field(description="连片完成率")
    scattered_rate: float | None = Field(description="零星完成率")
    previous_done_ytd_mu: float = Field(description="上月底累计完成（亩）")
    previous_completion_rate: float | None = Field(description="上月底完成率")
    change_mu: float = Field(description="较上月增加（亩）")
    change_rate: float | None = Field(description="完成率较上月变化")
    expected_mu: float | None = Field(description="按序时进度应完成（亩）")
    gap_mu: float | None = Field(description="与序时进度的差距（亩，不低于 0）")
    behind_schedule: bool = Field(description="落后于序时进度")
    was_behind_schedule: bool = Field(description="上月底落后于序时进度")
    average_far: float | None = Field(description="完成宗地的平均规划容积率（按面积加权）")
    parcel_codes_month: list[str] = Field(description="本月完成的宗地编号")


class RankedProgressRow(ProgressRow):
    rank: int | None = Field(description="按完成率排名；无任务为空")
    reporting_status: Literal["not_submitted", "submitted", "returned", "overdue", "not_required"] = Field(
        description="本月月报：not_submitted 未报送 / submitted 已报送 / returned 已退回 / overdue 逾期未报送 / "
        "not_required 月报制度实行前的月份")
    reporting_status_label: str


class MonthReporting(Out):
    due_on: str = Field(description="本月月报截止日（次月）")
    open: bool = Field(description="月报仍可报送（截止日前）")
    provisional: bool = Field(description="截止日前数字为暂定：截止后不再改变")
    not_submitted: list[str] = Field(description="尚未报送（或已退回）的单位")


class Correction(Out):
    """更正: a record made in the month about an earlier day (docs/assessment.md §1)."""

    event_id: int
    parcel_code: str
    unit_name: str
    source: str = Field(description="来源：correction（更正）、upload（上传）、report（填报）、edit（直接修改）")
    happened_on: str = Field(description="所更正的事实发生之日")
    recorded_on: str = Field(description="记录之日：自此日起计入")
    recorded_by: str | None
    note: str | None = Field(description="更正说明")
    corrects: int | None = Field(description="被更正的记录")
    text: str = Field(description="通报中的一行：更正：…")


class CorrectionSaved(Out):
    event_id: int = Field(description="更正记录")
    parcel_code: str
    status: str = Field(description="更正后的状态")
    completed_on: str | None = Field(description="更正后的完成日期")
    happened_on: str = Field(description="所更正的事实发生之日")
    recorded_on: str = Field(description="记录之日：自此日起计入")
    corrects: int | None = Field(description="被更正的记录")


class MonthlyProgress(Out):
    year: int
    month: int
    as_of: str = Field(description="统计截止日")
    previous_as_of: str | None = Field(description="上月底（1 月为空）")
    schedule_rate: float = Field(description="本月底的序时进度（应完成年度任务的比例）")
    units_behind: list[str] = Field(description="落后于序时进度的单位")
    units_without_target: list[str] = Field(description="未下达年度任务的单位")
    rows: list[RankedProgressRow] = Field(description="各单位，按完成率排名")
    citywide: ProgressRow = Field(description="全市")
    corrections: list[Correction] = Field(description="本月记录的对以前日期的更正与补录：自记录之日起计入，以前各期数字不变")
    reporting: MonthReporting = Field(description="本月月报的报送情况")


# --- indicators ----------------------------------------------------------------------------


class YearFigures(Out):
    target: Target | None
    done_mu: float = Field(description="完成（亩）")
    done_contiguous_mu: float = Field(description="其中连片（亩）")
    done_scattered_mu: float = Field(description="其中零星（亩）")
    completion_rate: float | None
    contiguous_rate: float | None
    scattered_rate: float | None


class Programme(Out):
    done_mu: float = Field(description="行动计划期内完成（亩）")
    target_mu: float | None = Field(description="目标（亩）：全市为 6000；单位为两年任务之和（缺一年为空）")
    rate: float | None = Field(description="完成率")


class NewFloorArea(Out):
    done_m2: float = Field(description="新增厂房建筑面积（m²）= 规划建筑面积 − 现状，不低于 0")
    parcels_without_plan: int = Field(description="缺规划建筑面积（容积率）的完成宗地数")


class CityNewFloorArea(NewFloorArea):
    target_m2: float = Field(description="目标 400 万 m²")
    rate: float | None = Field(description="完成率")


class AverageFar(Out):
    after: float | None = Field(description="改造后平均容积率（规划，按面积加权）")
    before: float | None = Field(description="改造前平均容积率（现状）")
    target: float = Field(description="目标 2.0")
    met: bool | None = Field(description="是否达到目标")
    land_mu: float = Field(description="有规划容积率的完成面积（亩）")


class ApprovedBlock(Out):
    code: str
    name: str
    approval_doc_no: str | None = Field(description="认定文号")


class UnitBlocksApproved(Out):
    count: int = Field(description="该年认定区块数")
    limit: int = Field(description="每年上限（2）")
    exceeded: bool = Field(description="超过上限")
    blocks: list[ApprovedBlock]


class CityBlocksApproved(Out):
    count: int = Field(description="该年全市认定区块数")
    limit: int = Field(description="每单位每年认定上限（该年施行的行动计划所定，2022—2023 年为 2 个）")
    units_over_limit: list[str] = Field(description="超过每年上限的单位代码")


class TaxPerMu(Out):
    before: float | None = Field(description="改造前亩均税收（万元/亩）")
    after: float | None = Field(description="改造后亩均税收（万元/亩，改造次年起首个完整年度）")
    parcels: int = Field(description="有改造前后税收可比的宗地数")
    land_mu: float = Field(description="这些宗地的面积（亩）")
    ratio: float | None = Field(description="提升倍数 = 改造后 ÷ 改造前")


class UnitIndicators(Out):
    unit_code: str
    unit_name: str
    years: dict[str, YearFigures] = Field(description="按年份（2022、2023）")
    programme: Programme
    new_floor_area: NewFloorArea
    average_far: AverageFar
    blocks_approved: dict[str, UnitBlocksApproved] = Field(description="按年份")
    tax_per_mu: TaxPerMu
    parcels: int = Field(description="完成宗地数")


class CityIndicators(Out):
    years: dict[str, YearFigures] = Field(description="按年份（2022、2023）")
    programme: Programme
    new_floor_area: CityNewFloorArea
    average_far: AverageFar
    blocks_approved: dict[str, CityBlocksApproved] = Field(description="按年份")
    tax_per_mu: TaxPerMu
    parcels: int = Field(description="完成宗地数")


class Indicators(Out):
    as_of: str = Field(description="统计截止日")
    citywide: CityIndicators
    units: list[UnitIndicators]


# --- parcels behind a figure -----------------------------------------------------------------


class RenewedParcel(Out):
    code: str = Field(description="宗地编号")
    unit_code: str
    unit_name: str
    block_code: str | None = Field(description="所在区块编号")
    block_name: str | None
    track: Track = Field(description="contiguous 连片（已认定区块内）/ scattered 零星")
    track_label: str
    renewed_on: str = Field(description="完成日期（宗地状态为已完成之日，或区块阶段为完成之日，取早者）")
    land_area_mu: float = Field(description="用地面积（亩）")
    far: float | None = Field(description="现状容积率")
    planned_far: float | None = Field(description="规划容积率")
    floor_area_m2: float | None = Field(description="现状建筑面积（m²）")
    planned_floor_area_m2: float | None = Field(description="规划建筑面积（m²）")
    built_floor_area_m2: float | None = Field(None, description="建成建筑面积（m²，月报报送）")
    new_floor_area_m2: float | None = Field(description="新增建筑面积（m²）")
    renewal_type: RenewalType | None = Field(description="更新类型：secondary_upgrade 退二优二 / industrial_to_industrial 工改工 / zero_land 零土地技改")
    enterprise_name: str | None
    tax_before_10k_yuan: float | None = Field(description="改造前税收（万元，企业税收按用地面积分摊）")
    tax_before_year: int | None
    tax_after_10k_yuan: float | None = Field(description="改造后税收（万元）")
    tax_after_year: int | None
    rule_problems: list[str] = Field(description="未满足的行动计划规则代码")
    rule_notes: list[str] = Field(description="未满足的行动计划规则（中文说明，与 rule_problems 逐项对应）")


class ParcelTrace(Out):
    count: int
    land_area_mu: float | None = Field(description="面积合计（亩）")
    parcels: list[RenewedParcel]


# --- targets -----------------------------------------------------------------------------------


class UnitTarget(Out):
    unit_code: str
    unit_name: str
    target: Target | None = Field(description="年度任务；未下达为空")
    etag: str = Field(description="该单位该年任务的 ETag，修改时放在 If-Match 中")


class Periods(Out):
    years: list[int] = Field(description="已下达年度任务的年份")
    default_year: int = Field(description="一表默认显示的年份：有任务、有完成数据的最近月份所在年")
    default_month: int = Field(description="一表默认显示的月份")
    today: str = Field(description="今天（Asia/Shanghai）")


class Targets(Out):
    year: int
    units: list[UnitTarget]


class TargetSaved(Out):
    unit_code: str
    unit_name: str
    year: int
    target: Target
    created: bool = Field(description="新下达（而非修改）")
    updated_by: str = Field(description="下达人（用户名）")
    etag: str = Field(description="保存后的 ETag（也在 ETag 响应头中）")


# --- scoring -----------------------------------------------------------------------------------


class IndicatorWeightOut(Out):
    code: IndicatorCode
    weight: float = Field(description="权重")
    full_at: float = Field(description="满分值：指标值达到此值得 100 分")


class TrackConfigOut(Out):
    weight: float = Field(description="轨道权重（连片 + 零星 = 100）")
    indicators: list[IndicatorWeightOut]


class ScaleBonusOut(Out):
    points_per_100_mu: float = Field(description="k：每 100 亩“满块等效”完成面积加分")
    cap_points: float = Field(description="加分上限")


class ScoringConfigOut(Out):
    """The assessment configuration (the body of PUT /api/progress/config/{year})."""

    contiguous: TrackConfigOut
    scattered: TrackConfigOut
    scale_bonus: ScaleBonusOut
    schedule: list[float] = Field(description="序时进度：1～12 月底应完成的年度任务比例（累计，末项为 1）")


class IndicatorInfo(Out):
    label: str = Field(description="指标名称")
    unit: str = Field(description="单位（%、倍 或空）")
    meaning: str = Field(description="计算方法")


class ConfigMeta(Out):
    year: int
    is_default: bool = Field(description="未设置，使用默认配置")
    updated_by: str | None = Field(description="最后修改人的登录名（审计用）")
    updated_by_name: str | None = Field(description="最后修改人姓名")
    updated_at: str | None


class ConfigView(ConfigMeta):
    config: ScoringConfigOut
    indicator_catalogue: dict[str, IndicatorInfo] = Field(description="可选指标：代码 → 名称、单位、计算方法")


class ConfigSaved(Out):
    year: int
    updated_by: str
    config: ScoringConfigOut


class IndicatorScore(Out):
    code: IndicatorCode
    label: str
    value: float | None = Field(description="指标值；无数据为空")
    full_at: float = Field(description="满分值")
    score: float = Field(description="得分 0～100 = 100 × min(值 ÷ 满分值, 1)")
    weight: float = Field(description="权重")
    points: float = Field(description="计入轨道得分的分数")
    note: str | None = Field(description="说明，如“无数据，计 0 分”")


class TrackScore(Out):
    track: Track
    label: str
    target_mu: float | None = Field(description="本轨道年度任务（亩）")
    done_mu: float = Field(description="本轨道完成（亩）")
    parcels: int
    indicators: list[IndicatorScore]
    score: float = Field(description="轨道得分 0～100")
    track_weight: float = Field(description="轨道权重")
    points: float = Field(description="计入基础分的分数")


class BonusBlock(Out):
    block_code: str
    block_name: str
    renewed_mu: float = Field(description="R：本年完成（亩）")
    block_parcel_mu: float = Field(description="P：区块全部宗地（亩）")
    share: float = Field(description="R ÷ P")
    effective_mu: float = Field(description="满块等效面积 R² ÷ P（亩）")


class ScaleBonusScore(Out):
    blocks: list[BonusBlock]
    effective_mu: float = Field(description="满块等效面积合计（亩）")
    points_per_100_mu: float
    cap_points: float
    uncapped_points: float = Field(description="未封顶的加分")
    points: float = Field(description="加分 = min(上限, k × 满块等效 ÷ 100)")


class UnitScore(Out):
    unit_code: str
    unit_name: str
    has_target: bool = Field(description="已下达年度任务")
    tracks: list[TrackScore]
    base_score: float = Field(description="基础分 = Σ 轨道权重 × 轨道得分 ÷ 100")
    scale_bonus: ScaleBonusScore = Field(description="连片规模化加权赋分")
    total: float = Field(description="总分 = 基础分 + 加分")
    rank: int


class Scores(Out):
    year: int
    as_of: str
    config: ScoringConfigOut
    config_meta: ConfigMeta
    indicator_catalogue: dict[str, IndicatorInfo]
    units: list[UnitScore] = Field(description="各单位，按总分排名")


# --- monthly reports --------------------------------------------------------------------------


class ReportLinks(Out):
    json_: str = Field(alias="json", description="快照（JSON）")
    xlsx: str = Field(description="印发时生成的 Excel")
    print: str = Field(description="打印页")


class ReportSummary(Out):
    year: int
    month: int
    as_of: str = Field(description="统计截止日（该月最后一天）")
    issue_no: int = Field(description="期号：该年第几期")
    issue_label: str = Field(description="期号的写法，如“第 3 期”")
    issuing_body: str = Field(description="印发单位")
    issue_date: str = Field(description="印发日期")
    signed_by: str = Field(description="签发人")
    issued_by: str = Field(description="印发人的登录名（审计用）")
    issued_by_name: str = Field(description="印发人姓名（印发时的显示名）")
    issued_at: str = Field(description="印发时间")
    data_sha256: str = Field(description="快照（规范 JSON）的 SHA-256")
    xlsx_sha256: str = Field(description="Excel 文件的 SHA-256")
    links: ReportLinks


class IssuePreviewLinks(Out):
    preview: str = Field(description="通报预览页")
    xlsx: str = Field(description="预览 Excel")


class IssuePreview(Out):
    """印发表单的默认值：下一个期号、印发单位、今天；该月是否已结束、是否已印发。"""

    year: int
    month: int
    issue_no: int = Field(description="下一个期号")
    issuing_body: str = Field(description="默认印发单位")
    issue_date: str = Field(description="默认印发日期（今天）")
    month_over: bool = Field(description="该月月报已截止，可以印发")
    due_on: str = Field(description="该月月报截止日：截止之后才能印发")
    issued: ReportSummary | None = Field(description="该月已印发的通报；未印发为空")
    links: IssuePreviewLinks


class ReportList(Out):
    reports: list[ReportSummary] = Field(description="已印发的月度通报，新者在前")


class ReportSnapshot(ReportSummary):
    data: dict[str, Any] = Field(
        description="印发时冻结的通报内容，不再改变：title、year、month、as_of、progress（结构同 /api/progress/monthly）、"
        "indicators（citywide、units，结构同 /api/progress/indicators）、parcels_in_month（结构同 /api/progress/parcels 的 "
        "parcels）、issued_by、issued_by_name、issued_at、issue（期号、印发单位、印发日期、签发人；第 9 版迁移前印发的通报没有）。结构为印发当时的版本，故不逐项约束")
