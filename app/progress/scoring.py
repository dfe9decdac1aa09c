"""Differentiated assessment (差异化考核): contiguous and scattered renewal scored apart, plus the scale bonus.

The formula, its defaults and a worked example are in docs/assessment.md. In short,
for a unit and a year:

* each indicator *i* of a track has a value v, a ``full_at`` level F and a weight w:
  ``score_i = 100 × min(v / F, 1)`` (0 when there is no value);
* a track's score is ``S = Σ w_i × score_i / Σ w_i`` (0–100);
* the base score is ``W_c × S_c / 100 + W_s × S_s / 100`` with track weights
  ``W_c + W_s = 100``;
* the contiguous scale bonus (连片规模化加权赋分) is
  ``B = min(cap, k × Σ_b R_b² / P_b / 100)``, where for each approved block b of the
  unit, R_b is the 亩 renewed in the year and P_b the 亩 of all its parcels: the
  renewed area weighted by the share of its block it makes up, so 100 亩 finished in
  one block counts for more than 100 亩 spread thinly over several;
* total = base + B.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, Field, ValidationError, field_validator, model_validator
from sqlalchemy import select
from sqlalchemy.orm import Session

from ..errors import AppError, FieldError
from ..messages import message
from ..auth.models import User
from ..core.audit import audit_context
from ..core.uow import unit_of_work
from . import service
from .models import AssessmentConfig
from .service import ZERO, Totals, q2, q4, ratio

IndicatorCode = Literal["completion_rate", "average_far", "compliant_share", "tax_per_mu_ratio"]

INDICATORS: dict[str, dict] = {
    "completion_rate": {"label": "任务完成率", "unit": "%", "meaning": "本轨道完成面积 ÷ 本轨道年度任务"},
    "average_far": {"label": "平均容积率", "unit": "", "meaning": "完成宗地规划容积率按面积加权平均"},
    "compliant_share": {
        "label": "达标面积占比",
        "unit": "%",
        "meaning": "符合行动计划规则的完成面积 ÷ 完成面积（零星：≥20 亩且容积率 ≥2.0，或整合归宗；连片：更新类型计入）",
    },
    "tax_per_mu_ratio": {"label": "亩均税收提升倍数", "unit": "倍", "meaning": "改造后亩均税收 ÷ 改造前亩均税收（同一批宗地）"},
}


class IndicatorWeight(BaseModel):
    code: IndicatorCode
    weight: float = Field(ge=0, le=100, description="权重")
    full_at: float = Field(gt=0, description="满分值：指标值达到此值得 100 分")


class TrackConfig(BaseModel):
    weight: float = Field(ge=0, le=100, description="轨道权重（连片 + 零星 = 100）")
    indicators: list[IndicatorWeight] = Field(min_length=1)

    @field_validator("indicators")
    @classmethod
    def _distinct(cls, value: list[IndicatorWeight]) -> list[IndicatorWeight]:
        codes = [i.code for i in value]
        if len(set(codes)) != len(codes):
            raise ValueError(message("scoring_indicator_repeated"))
        if sum(i.weight for i in value) <= 0:
            raise ValueError(message("scoring_weights_zero"))
        return value


class ScaleBonus(BaseModel):
    points_per_100_mu: float = Field(10.0, ge=0, le=100, description="k：每 100 亩“满块等效”完成面积加分")
    cap_points: float = Field(10.0, ge=0, le=100, description="加分上限")


class ScoringConfig(BaseModel):
    contiguous: TrackConfig
    scattered: TrackConfig
    scale_bonus: ScaleBonus = ScaleBonus()
    schedule: list[float] = Field(
        default_factory=service.linear_schedule, min_length=12, max_length=12,
        description="序时进度：1～12 月底应完成的年度任务比例（累计，末项为 1）",
    )

    @model_validator(mode="after")
    def _consistent(self) -> ScoringConfig:
        if abs(self.contiguous.weight + self.scattered.weight - 100) > 1e-9:
            raise ValueError(message("scoring_tracks_sum"))
        s = self.schedule
        if any(not 0 <= x <= 1 for x in s) or any(b < a for a, b in zip(s, s[1:])) or abs(s[-1] - 1) > 1e-9:
            raise ValueError(message("scoring_schedule_invalid"))
        return self


DEFAULT_CONFIG = ScoringConfig(
    contiguous=TrackConfig(
        weight=60,
        indicators=[
            IndicatorWeight(code="completion_rate", weight=50, full_at=1.0),
            IndicatorWeight(code="average_far", weight=30, full_at=2.0),
            IndicatorWeight(code="tax_per_mu_ratio", weight=20, full_at=1.5),
        ],
    ),
    scattered=TrackConfig(
        weight=40,
        indicators=[
            IndicatorWeight(code="completion_rate", weight=50, full_at=1.0),
            IndicatorWeight(code="compliant_share", weight=30, full_at=1.0),
            IndicatorWeight(code="tax_per_mu_ratio", weight=20, full_at=1.5),
        ],
    ),
)


def get_config(session: Session, year: int) -> tuple[ScoringConfig, dict]:
    """The year's configuration (or the default) and who set it."""
    row = session.scalar(select(AssessmentConfig).where(AssessmentConfig.year == year))
    if row is None:
        return DEFAULT_CONFIG, {"year": year, "is_default": True, "updated_by": None, "updated_by_name": None,
                                "updated_at": None}
    name = session.scalar(select(User.display_name).where(User.username == row.updated_by))
    return ScoringConfig.model_validate(row.config), {
        "year": year, "is_default": False, "updated_by": row.updated_by, "updated_by_name": name or row.updated_by,
        "updated_at": row.updated_at.isoformat() if row.updated_at else None,
    }


def parse_config(body: dict) -> ScoringConfig:
    """The configuration as sent, or a 400 whose every error names its field in Chinese
    (连片第 2 项指标的权重：不能大于 100), keyed by the field's path (``contiguous.indicators.1.weight``)."""
    try:
        return ScoringConfig.model_validate(body)
    except ValidationError as exc:
        errors = [
            FieldError(".".join(str(p) for p in e["loc"]) or "config",
                       f"{config_field_label(e['loc'])}：{_config_problem(e)}")
            for e in exc.errors(include_url=False)
        ]
        raise AppError(message("progress_config_invalid", reason="；".join(e.message for e in errors)), errors) from exc


TRACK_NAMES = {"contiguous": "连片", "scattered": "零星"}
CONFIG_FIELDS = {"weight": "权重", "full_at": "满分值", "code": "指标", "indicators": "指标",
                 "points_per_100_mu": "每 100 亩满块等效面积加分", "cap_points": "加分上限"}


def config_field_label(loc: tuple) -> str:
    """The Chinese name of a place in the configuration: ``("contiguous", "indicators", 1, "weight")`` →
    连片第 2 项指标的权重; ``("schedule", 9)`` → 序时进度 10 月; ``()`` → 考核配置."""
    parts = list(loc)
    if not parts:
        return "考核配置"
    head = parts[0]
    if head in TRACK_NAMES:
        track = TRACK_NAMES[head]
        if len(parts) == 1:
            return f"{track}轨道"
        if parts[1] == "weight":
            return f"{track}轨道权重"
        if parts[1] == "indicators" and len(parts) >= 3 and isinstance(parts[2], int):
            what = CONFIG_FIELDS.get(str(parts[3]), "") if len(parts) >= 4 else ""
            return f"{track}第 {parts[2] + 1} 项指标" + (f"的{what}" if what and what != "指标" else "")
        return f"{track}的指标"
    if head == "scale_bonus":
        return "规模化加分" + (CONFIG_FIELDS.get(str(parts[1]), "") if len(parts) > 1 else "")
    if head == "schedule":
        return f"序时进度 {parts[1] + 1} 月" if len(parts) > 1 and isinstance(parts[1], int) else "序时进度"
    return "考核配置"


def _config_problem(err: dict) -> str:
    kind, ctx = err.get("type", ""), err.get("ctx") or {}
    ctx = {k: f"{v:g}" if isinstance(v, int | float) else v for k, v in ctx.items()}
    if kind in ("too_short", "too_long") and tuple(err.get("loc", ()))[:1] == ("schedule",):
        return message("scoring_schedule_months")
    if kind == "value_error":
        return str(err.get("msg", "")).removeprefix("Value error, ")
    texts = {
        "missing": message("scoring_missing"),
        "greater_than_equal": message("scoring_at_least", limit=ctx.get("ge")),
        "greater_than": message("scoring_more_than", limit=ctx.get("gt")),
        "less_than_equal": message("scoring_at_most", limit=ctx.get("le")),
        "float_parsing": message("scoring_not_number"), "float_type": message("scoring_not_number"),
        "literal_error": message("scoring_unknown_indicator", choices="、".join(v["label"] for v in INDICATORS.values())),
        "too_short": message("scoring_too_few"), "too_long": message("scoring_too_many"),
        "list_type": message("scoring_not_list"), "model_type": message("scoring_not_list"),
        "dict_type": message("scoring_not_list"),
    }
    return texts.get(kind, message("scoring_invalid_value"))


def set_config(session: Session, year: int, config: ScoringConfig, user: str) -> dict:
    service.check_year(year)
    with unit_of_work(session), audit_context(session, "set_scoring_config"):
        row = session.scalar(select(AssessmentConfig).where(AssessmentConfig.year == year))
        if row is None:
            row = AssessmentConfig(year=year)
            session.add(row)
        row.config = config.model_dump(mode="json")
        row.updated_by = user
    return {"year": year, "updated_by": user, "config": config.model_dump(mode="json")}


def indicator_value(code: str, t: Totals, target: Decimal | None, track: str) -> Decimal | None:
    if code == "completion_rate":
        return ratio(t.track_mu(track), target)
    if code == "average_far":
        return t.average_far
    if code == "compliant_share":
        return ratio(t.compliant_mu, t.mu)
    if code == "tax_per_mu_ratio":
        return ratio(t.tax_per_mu_after, t.tax_per_mu_before)
    raise AssertionError(code)


def score_track(track: str, cfg: TrackConfig, t: Totals, target: Decimal | None) -> dict:
    items = []
    weight_sum = Decimal(str(sum(i.weight for i in cfg.indicators)))
    total = ZERO
    for ind in cfg.indicators:
        value = indicator_value(ind.code, t, target, track)
        full_at = Decimal(str(ind.full_at))
        score = ZERO if value is None else min(value / full_at, Decimal(1)) * 100
        points = Decimal(str(ind.weight)) * score / weight_sum
        total += points
        items.append({
            "code": ind.code, "label": INDICATORS[ind.code]["label"], "value": q4(value), "full_at": ind.full_at,
            "score": q2(score), "weight": ind.weight, "points": q2(points),
            "note": "无数据，计 0 分" if value is None else None,
        })
    return {
        "track": track, "label": service.TRACK_LABELS[track], "target_mu": q2(target), "done_mu": q2(t.mu),
        "parcels": t.parcels, "indicators": items, "score": q2(total), "track_weight": cfg.weight,
        "points": q2(total * Decimal(str(cfg.weight)) / 100), "_score": total,
    }


def scale_bonus(cfg: ScaleBonus, renewed_by_block: dict[str, Decimal], land: dict[str, tuple[str, str, Decimal]]) -> dict:
    """B = min(cap, k × Σ R_b² / P_b / 100), with the per-block terms for the meeting."""
    terms = []
    effective = ZERO
    for code, r_mu in sorted(renewed_by_block.items()):
        _unit, name, p_mu = land[code]
        share = r_mu / p_mu if p_mu else ZERO
        term = r_mu * share
        effective += term
        terms.append({"block_code": code, "block_name": name, "renewed_mu": q2(r_mu), "block_parcel_mu": q2(p_mu),
                      "share": q4(share), "effective_mu": q2(term)})
    k, cap = Decimal(str(cfg.points_per_100_mu)), Decimal(str(cfg.cap_points))
    raw = k * effective / 100
    return {"blocks": terms, "effective_mu": q2(effective), "points_per_100_mu": cfg.points_per_100_mu,
            "cap_points": cfg.cap_points, "uncapped_points": q2(raw), "points": q2(min(raw, cap)), "_points": min(raw, cap)}


def scores(session: Session, year: int, as_of: dt.date | None = None) -> dict:
    """Every unit's assessment score for ``year`` with its full breakdown, ranked."""
    service.check_year(year)
    config, meta = get_config(session, year)
    as_of = min(as_of or service.today(), dt.date(year, 12, 31))
    parcels = service.renewed_parcels(session, as_of, since=dt.date(year, 1, 1))
    by_unit_track = service.totals_by(parcels, lambda p: (p.unit_code, p.track))
    renewed_by_block: dict[str, dict[str, Decimal]] = defaultdict(dict)
    for p in parcels:
        if p.contiguous:
            renewed_by_block[p.unit_code][p.block_code] = renewed_by_block[p.unit_code].get(p.block_code, ZERO) + p.land_area_mu
    land = service.block_parcel_land(session, as_of)  # the blocks' versions in force on the day
    year_targets = service.targets(session, year)
    rows = []
    for unit in service.units(session):
        target = year_targets.get(unit.code)
        tracks = [
            score_track(track, getattr(config, track), by_unit_track[(unit.code, track)],
                        target.of(track) if target else None)
            for track in service.TRACKS
        ]
        bonus = scale_bonus(config.scale_bonus, renewed_by_block.get(unit.code, {}), land)
        base = sum((t["_score"] * Decimal(str(t["track_weight"])) / 100 for t in tracks), ZERO)
        total = base + bonus.pop("_points")
        for t in tracks:
            t.pop("_score")
        rows.append({"unit_code": unit.code, "unit_name": unit.name, "has_target": target is not None,
                     "tracks": tracks, "base_score": q2(base), "scale_bonus": bonus, "total": q2(total)})
    rows.sort(key=lambda r: (-r["total"], r["unit_code"]))
    for rank, r in enumerate(rows, start=1):
        r["rank"] = rank
    return {"year": year, "as_of": as_of.isoformat(), "config": config.model_dump(mode="json"), "config_meta": meta,
            "indicator_catalogue": INDICATORS, "units": rows}
