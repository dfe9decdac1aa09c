"""Progress, indicators and monthly reports, computed from the stored parcels and blocks.

Nothing here is typed in: a parcel is *renewed* on the day its status reached
已完成 (``parcels.completed_on``) or its block's stage reached 完成
(``renewal_blocks.completed_on``), whichever came first. It is *contiguous*
(连片) when its block is approved (已认定), otherwise *scattered* (零星). Areas
and FARs are the figures ``spatial`` stored at write time; SQL only selects and
this module only adds them up (docs/assessment.md).
"""

from __future__ import annotations

import calendar
import datetime as dt
import hashlib
from collections import defaultdict
from dataclasses import dataclass, field
from functools import cached_property
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import or_, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

import spatial

from ..actionplans.calendar import knowledge_day
from ..actionplans.service import thresholds_lookup
from ..core.clock import today
from ..core.audit import audit_context
from ..core.history import event_source
from ..core.uow import unit_of_work
from ..enums import ParcelStatus
from ..errors import AppError, Conflict, FieldError, InvalidParameter, NotFound
from ..messages import message
from ..models import AnnualTarget, Parcel, Unit
from .submissions import month_state, status_label
from spatial.rules import ERROR as RULE_ERROR  # severity of a failed rule (not re-exported by spatial)

# 二、主要目标: "力争实施工业园区有机更新土地6000亩"
PROGRAMME_TOTAL_MU = Decimal("6000")
# 二、主要目标: "新增厂房建筑面积400万平方米以上"
NEW_FLOOR_AREA_TARGET_M2 = Decimal("4000000")
# 实施期为2022—2023年
PROGRAMME_YEARS = (2022, 2023)
LAST_TARGET_YEAR = max(PROGRAMME_YEARS) + 10  # targets may be set for the following years
PROGRAMME_START = dt.date(2022, 1, 1)
PROGRAMME_END = dt.date(2023, 12, 31)
# 二: "改造区域内平均容积率提升到2.0以上"; the rule constants live in spatial.
MIN_FAR = Decimal(str(spatial.MIN_FAR))
MAX_BLOCKS_PER_UNIT_PER_YEAR = spatial.MAX_BLOCKS_PER_UNIT_PER_YEAR

TRACKS = ("contiguous", "scattered")
TRACK_LABELS = {"contiguous": "连片", "scattered": "零星"}
ZERO = Decimal("0")


def month_end(year: int, month: int) -> dt.date:
    return dt.date(year, month, calendar.monthrange(year, month)[1])


def q2(value: Decimal | None) -> float | None:
    """A figure as reported: 2 decimals (亩, m², 万元)."""
    return None if value is None else float(value.quantize(Decimal("0.01"), ROUND_HALF_UP))


def q4(value: Decimal | None) -> float | None:
    """A ratio as reported: 4 decimals (rates; 0.1234 = 12.34 %)."""
    return None if value is None else float(value.quantize(Decimal("0.0001"), ROUND_HALF_UP))


def ratio(num: Decimal | None, den: Decimal | None) -> Decimal | None:
    if num is None or den is None or den == 0:
        return None
    return num / den


# --------------------------------------------------------------------------------------------
# Renewed parcels: the one query every figure is built on
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class RenewedParcel:
    """A renewed parcel with the stored figures the indicators add up."""

    code: str
    unit_code: str
    unit_name: str
    block_code: str | None
    block_name: str | None
    contiguous: bool  # 连片: inside an approved block
    renewed_on: dt.date
    land_area_mu: Decimal
    floor_area_m2: Decimal | None
    planned_floor_area_m2: Decimal | None
    far: Decimal | None
    planned_far: Decimal | None
    renewal_type: str | None
    enterprise_name: str | None
    tax_before_10k_yuan: Decimal | None  # the enterprise's tax, pro rata to this parcel's share of its land
    tax_before_year: int | None
    tax_after_10k_yuan: Decimal | None
    tax_after_year: int | None
    built_floor_area_m2: Decimal | None = None  # 建成建筑面积, as the town reported it (月报)
    # The rules of the 行动计划 in force in the renewal year (app.actionplans); the 2022 plan's by default.
    thresholds: spatial.PlanThresholds = spatial.DEFAULT_THRESHOLDS

    @property
    def track(self) -> str:
        return "contiguous" if self.contiguous else "scattered"

    @property
    def new_floor_area_m2(self) -> Decimal | None:
        """新增厂房建筑面积: built (as reported) or else planned (after) minus existing (before), never below zero."""
        after = self.planned_floor_area_m2 if self.built_floor_area_m2 is None else self.built_floor_area_m2
        if after is None:
            return None
        return max(after - (self.floor_area_m2 or ZERO), ZERO)

    def rule_problems(self) -> list[str]:
        """Codes of the plan's rules this renewal misses (spatial decides; app only asks)."""
        return [v.code for v in self._violations()]

    def rule_notes(self) -> list[str]:
        """The same, as the Chinese sentences people read (Excel, pages)."""
        return [v.message_zh for v in self._violations()]

    @cached_property
    def _violation_list(self) -> tuple:
        """Checked once per parcel: the monthly table adds each parcel into several sums."""
        return tuple(self._check())

    def _violations(self) -> tuple:
        return self._violation_list

    def _check(self) -> list:
        if self.contiguous:
            found = spatial.check_renewal_type(self.renewal_type)
        else:
            found = spatial.check_parcel(
                float(self.land_area_mu),
                None if self.planned_far is None else float(self.planned_far),
                renewal_type=self.renewal_type,
                thresholds=self.thresholds,
            )
        return [v for v in found if v.severity == RULE_ERROR]

    def to_dict(self) -> dict:
        return {
            "code": self.code,
            "unit_code": self.unit_code,
            "unit_name": self.unit_name,
            "block_code": self.block_code,
            "block_name": self.block_name,
            "track": self.track,
            "track_label": TRACK_LABELS[self.track],
            "renewed_on": self.renewed_on.isoformat(),
            "land_area_mu": q2(self.land_area_mu),
            "far": q4(self.far),
            "planned_far": q4(self.planned_far),
            "floor_area_m2": q2(self.floor_area_m2),
            "planned_floor_area_m2": q2(self.planned_floor_area_m2),
            "built_floor_area_m2": q2(self.built_floor_area_m2),
            "new_floor_area_m2": q2(self.new_floor_area_m2),
            "renewal_type": self.renewal_type,
            "enterprise_name": self.enterprise_name,
            "tax_before_10k_yuan": q2(self.tax_before_10k_yuan),
            "tax_before_year": self.tax_before_year,
            "tax_after_10k_yuan": q2(self.tax_after_10k_yuan),
            "tax_after_year": self.tax_after_year,
            "rule_problems": self.rule_problems(),
            "rule_notes": self.rule_notes(),
        }


# The data as it stood on a day (:as_of): every figure is computed from these, never from the current
# columns of parcels and blocks (docs/assessment.md §1, "as-of truth"). What counts is what was recorded by
# :known, the due day of the day's month (its 月报 deadline, app.actionplans.calendar): what the towns
# report for a month by its deadline counts in it; after that its figures never change.
#   parcel_state    a parcel's status, completion date and measures: its last event that happened by the day
#                   and was known by :known, less the events a correction known by then replaces;
#   block_state     a block's stage and completion date, likewise;
#   in_force        per block plan, the approved version in force: approved (认定) on or before the day, the
#                   decision recorded by :known, and not yet superseded by a later approved version;
#   membership      the parcels of the versions in force (连片); an approved block that has no plan (loaded
#                   before the workflow, never revised) counts with its current parcels from its approval.
AS_OF_CTES = """
parcel_state AS (
    SELECT DISTINCT ON (e.parcel_id) e.parcel_id, e.status, e.completed_on, e.land_area_mu, e.floor_area_m2,
           e.planned_floor_area_m2, e.built_floor_area_m2, e.far, e.planned_far
    FROM parcel_status_events e
    WHERE e.known_on <= :known AND e.happened_on <= :as_of
      AND NOT EXISTS (SELECT 1 FROM parcel_status_events c WHERE c.corrects_id = e.id AND c.known_on <= :known)
    ORDER BY e.parcel_id DESC, e.happened_on DESC, e.known_on DESC, e.id DESC
),
block_state AS (
    SELECT DISTINCT ON (e.block_id) e.block_id, e.stage, e.completed_on
    FROM block_stage_events e
    WHERE e.known_on <= :known AND e.happened_on <= :as_of
      AND NOT EXISTS (SELECT 1 FROM block_stage_events c WHERE c.corrects_id = e.id AND c.known_on <= :known)
    ORDER BY e.block_id DESC, e.happened_on DESC, e.known_on DESC, e.id DESC
),
in_force AS (
    SELECT DISTINCT ON (v.plan_id) v.id AS version_id, bp.block_id, v.name, v.year, v.approval_doc_no
    FROM block_versions v JOIN block_plans bp ON bp.id = v.plan_id
    WHERE v.status = 'approved' AND bp.block_id IS NOT NULL
      AND coalesce(v.approval_date, make_date(v.year, 1, 1)) <= :as_of
      -- decided in the workflow: counts from the day it was decided (known), even when dated earlier on paper
      AND (v.is_imported OR v.reviewed_at IS NULL OR (v.reviewed_at AT TIME ZONE 'Asia/Shanghai')::date <= :known)
    ORDER BY v.plan_id, coalesce(v.approval_date, make_date(v.year, 1, 1)) DESC, v.version_no DESC
),
blocks_in_force AS (
    SELECT f.block_id, f.version_id, f.name, f.year, f.approval_doc_no FROM in_force f
    UNION ALL
    SELECT b.id, NULL, b.name, coalesce(b.designated_year, extract(year FROM b.approval_date)::int),
           b.approval_doc_no
    FROM renewal_blocks b
    WHERE b.review_status = 'approved' AND NOT EXISTS (SELECT 1 FROM block_plans bp WHERE bp.block_id = b.id)
      AND coalesce(b.approval_date, make_date(b.designated_year, 1, 1), :as_of) <= :as_of
),
membership AS (
    SELECT DISTINCT ON (m.parcel_id) m.parcel_id, m.block_id, m.block_name FROM (
        SELECT vp.parcel_id, f.block_id, f.name AS block_name
        FROM blocks_in_force f JOIN block_version_parcels vp ON vp.version_id = f.version_id
        UNION ALL
        SELECT p.id, f.block_id, f.name
        FROM blocks_in_force f JOIN parcels p ON p.block_id = f.block_id WHERE f.version_id IS NULL
    ) m ORDER BY m.parcel_id, m.block_id
)
"""

RENEWED_FROM = "WITH " + AS_OF_CTES + """,
enterprise_land AS (
    SELECT enterprise_id, sum(land_area_mu) AS land_mu FROM parcels WHERE enterprise_id IS NOT NULL GROUP BY enterprise_id
),
renewed AS (
    SELECT p.id, p.code, u.code AS unit_code, u.name AS unit_name, b.code AS block_code, m.block_name,
           (m.block_id IS NOT NULL) AS contiguous,
           CASE WHEN s.status = 'completed' AND bs.stage = 'completed' THEN least(s.completed_on, bs.completed_on)
                WHEN s.status = 'completed' THEN s.completed_on
                WHEN bs.stage = 'completed' THEN bs.completed_on END AS renewed_on,
           coalesce(s.land_area_mu, p.land_area_mu) AS land_area_mu,
           CASE WHEN s.parcel_id IS NULL THEN p.floor_area_m2 ELSE s.floor_area_m2 END AS floor_area_m2,
           CASE WHEN s.parcel_id IS NULL THEN p.planned_floor_area_m2 ELSE s.planned_floor_area_m2 END
               AS planned_floor_area_m2,
           CASE WHEN s.parcel_id IS NULL THEN p.built_floor_area_m2 ELSE s.built_floor_area_m2 END
               AS built_floor_area_m2,
           CASE WHEN s.parcel_id IS NULL THEN p.far ELSE s.far END AS far,
           CASE WHEN s.parcel_id IS NULL THEN p.planned_far ELSE s.planned_far END AS planned_far,
           p.renewal_type, en.name AS enterprise_name,
           en.tax_10k_yuan * p.land_area_mu / nullif(el.land_mu, 0) AS tax_before, en.data_year AS tax_before_year
    FROM parcels p
    JOIN units u ON u.id = p.unit_id
    LEFT JOIN parcel_state s ON s.parcel_id = p.id
    LEFT JOIN membership m ON m.parcel_id = p.id
    LEFT JOIN renewal_blocks b ON b.id = m.block_id
    LEFT JOIN block_state bs ON bs.block_id = m.block_id
    LEFT JOIN enterprises en ON en.id = p.enterprise_id
    LEFT JOIN enterprise_land el ON el.enterprise_id = p.enterprise_id
    WHERE s.status = 'completed' OR bs.stage = 'completed'
)
"""

RENEWED_SQL = RENEWED_FROM + """
SELECT r.*, a.tax_10k_yuan AS tax_after, a.year AS tax_after_year
FROM renewed r
LEFT JOIN LATERAL (
    SELECT t.tax_10k_yuan, t.year FROM parcel_tax_records t
    WHERE t.parcel_id = r.id AND t.year > extract(year FROM r.renewed_on) AND t.year <= :as_of_year
    ORDER BY t.year LIMIT 1
) a ON true
WHERE r.renewed_on IS NOT NULL AND r.renewed_on <= :until AND r.renewed_on >= :since
ORDER BY r.unit_code, r.code
"""

# The same renewals summed per unit (a month's table needs only last month's 亩, not its parcels).
RENEWED_SUMS_SQL = RENEWED_FROM + """
SELECT r.unit_code, r.contiguous, sum(r.land_area_mu) AS mu, count(*) AS parcels FROM renewed r
WHERE r.renewed_on IS NOT NULL AND r.renewed_on <= :until AND r.renewed_on >= :since
GROUP BY r.unit_code, r.contiguous
"""



def as_of_params(session: Session, as_of: dt.date) -> dict[str, dt.date]:
    """The parameters of ``AS_OF_CTES``: the day, and the day up to which records count for it."""
    return {"as_of": as_of, "known": knowledge_day(session, as_of)}


def renewed_parcels(session: Session, as_of: dt.date, since: dt.date | None = None,
                    until: dt.date | None = None) -> list[RenewedParcel]:
    """Parcels renewed from ``since`` to ``until`` (default: ``as_of``), ordered by unit and code, from
    the data as it stood on ``as_of`` (``AS_OF_CTES``): later records never change the answer."""
    out = []
    until = as_of if until is None else min(until, as_of)
    params = {**as_of_params(session, as_of), "as_of_year": until.year, "since": since or dt.date.min,
              "until": until}
    in_force = thresholds_lookup(session)  # the plan of each renewal year
    for r in session.execute(text(RENEWED_SQL), params):
        out.append(
            RenewedParcel(
                code=r.code,
                unit_code=r.unit_code,
                unit_name=r.unit_name,
                block_code=r.block_code,
                block_name=r.block_name,
                contiguous=bool(r.contiguous),
                renewed_on=r.renewed_on,
                land_area_mu=r.land_area_mu,
                floor_area_m2=r.floor_area_m2,
                planned_floor_area_m2=r.planned_floor_area_m2,
                built_floor_area_m2=r.built_floor_area_m2,
                far=r.far,
                planned_far=r.planned_far,
                renewal_type=None if r.renewal_type is None else str(r.renewal_type),
                enterprise_name=r.enterprise_name,
                tax_before_10k_yuan=r.tax_before,
                tax_before_year=r.tax_before_year,
                tax_after_10k_yuan=r.tax_after,
                tax_after_year=r.tax_after_year,
                thresholds=in_force(r.renewed_on.year),
            )
        )
    return out


def renewed_sums(session: Session, as_of: dt.date, since: dt.date) -> defaultdict[str, Totals]:
    """亩 renewed from ``since`` to ``as_of`` per unit (连片 and 零星), as known then: the sums of
    ``renewed_parcels`` without building the parcels."""
    out: defaultdict[str, Totals] = defaultdict(Totals)
    params = {**as_of_params(session, as_of), "since": since, "until": as_of}
    for r in session.execute(text(RENEWED_SUMS_SQL), params):
        t = out[r.unit_code]
        t.parcels += int(r.parcels)
        t.mu += r.mu
        if r.contiguous:
            t.contiguous_mu += r.mu
        else:
            t.scattered_mu += r.mu
    return out


def sum_totals(parts) -> Totals:
    """The sum of per-unit ``renewed_sums`` (亩 and parcel counts only)."""
    out = Totals()
    for t in parts:
        out.parcels += t.parcels
        out.mu += t.mu
        out.contiguous_mu += t.contiguous_mu
        out.scattered_mu += t.scattered_mu
    return out


def block_parcel_land(session: Session, as_of: dt.date) -> dict[str, tuple[str, str, Decimal]]:
    """P_b as of a day: Σ 亩 of the parcels of each block's version in force → {block code: (unit, name, 亩)}."""
    rows = session.execute(text(
        "WITH " + AS_OF_CTES + """
        SELECT b.code, u.code AS unit_code, min(m.block_name) AS name,
               sum(coalesce(s.land_area_mu, p.land_area_mu)) AS mu
        FROM membership m JOIN parcels p ON p.id = m.parcel_id
        JOIN renewal_blocks b ON b.id = m.block_id JOIN units u ON u.id = b.unit_id
        LEFT JOIN parcel_state s ON s.parcel_id = p.id
        GROUP BY b.code, u.code"""), as_of_params(session, as_of))
    return {r.code: (r.unit_code, r.name, r.mu) for r in rows}


def corrections(session: Session, since: dt.date, known_from: dt.date, known_until: dt.date) -> list[dict]:
    """更正: what was recorded from ``known_from`` to ``known_until`` (after the previous month's deadline, up
    to this month's) about a day before ``since`` — explicit corrections, and late records (a 补报, an upload or
    an edit of something that happened in a closed month). They change the figures of this month on, never
    of the months before, and the report says so."""
    rows = session.execute(text("""
        SELECT e.id, p.code, u.name AS unit_name, e.status, e.completed_on, e.land_area_mu, e.happened_on,
               e.known_on, e.source, e.recorded_by, e.note, e.corrects_id,
               c.status AS was_status, c.completed_on AS was_completed_on
        FROM parcel_status_events e JOIN parcels p ON p.id = e.parcel_id JOIN units u ON u.id = p.unit_id
        LEFT JOIN parcel_status_events c ON c.id = e.corrects_id
        WHERE e.known_on BETWEEN :known_from AND :known_until AND e.source NOT IN ('seed', 'backfill')
          AND (e.source = 'correction' OR e.corrects_id IS NOT NULL OR e.happened_on < :since)
          -- a report withdrawn (撤回) before the deadline was never in any month's figures: neither it nor
          -- its withdrawal is a correction
          AND NOT (e.source <> 'correction' AND coalesce(c.known_on >= :known_from, false))
          AND NOT EXISTS (SELECT 1 FROM parcel_status_events w WHERE w.corrects_id = e.id AND w.source <> 'correction'
                          AND w.known_on <= :known_until)
        ORDER BY e.known_on, e.id"""), {"since": since, "known_from": known_from, "known_until": known_until})
    out = []
    for r in rows:
        now = ParcelStatus(r.status).label + (f"（{r.completed_on.isoformat()}）" if r.completed_on else "")
        was = (ParcelStatus(r.was_status).label + (f"（{r.was_completed_on.isoformat()}）" if r.was_completed_on else "")
               if r.was_status else message("progress_correction_none"))
        out.append({
            "event_id": r.id, "parcel_code": r.code, "unit_name": r.unit_name, "source": r.source,
            "happened_on": r.happened_on.isoformat(), "recorded_on": r.known_on.isoformat(),
            "recorded_by": r.recorded_by, "note": r.note, "corrects": r.corrects_id,
            "text": message("progress_correction_line", parcel=r.code, unit=r.unit_name, day=r.happened_on.isoformat(),
                            was=was, now=now, recorded=r.known_on.isoformat(),
                            note=f"：{r.note}" if r.note else ""),
        })
    return out


def record_correction(session: Session, parcel_code: str, *, status: ParcelStatus, completed_on: dt.date | None,
                      note: str, by: str) -> dict:
    """An explicit, dated correction of a parcel's status or completion date (source ``correction``):
    it replaces the parcel's latest event from today on; the figures of earlier days stay as they were."""
    if not (note or "").strip():
        raise InvalidParameter("note", message("progress_correction_note_missing"))
    if completed_on is not None and completed_on > today():
        raise InvalidParameter("completed_on", message("progress_correction_future"))
    with unit_of_work(session), audit_context(session, "record_correction"):
        parcel = session.scalar(select(Parcel).where(Parcel.code == parcel_code).with_for_update())
        if parcel is None:
            raise NotFound(message("progress_correction_unknown_parcel", code=parcel_code))
        event_source(session, "correction", by, note.strip())
        parcel.status = status
        parcel.completed_on = completed_on if status == ParcelStatus.COMPLETED else None
        session.flush()
        event = session.execute(text(
            "SELECT id, happened_on, known_on, corrects_id FROM parcel_status_events WHERE parcel_id = :p"
            " ORDER BY id DESC LIMIT 1"), {"p": parcel.id}).one()
    return {"event_id": event.id, "parcel_code": parcel_code, "status": status.value,
            "completed_on": None if completed_on is None else completed_on.isoformat(),
            "happened_on": event.happened_on.isoformat(), "recorded_on": event.known_on.isoformat(),
            "corrects": event.corrects_id}


# --------------------------------------------------------------------------------------------
# Sums
# --------------------------------------------------------------------------------------------
@dataclass
class Totals:
    """Sums over a set of renewed parcels (stored figures only)."""

    parcels: int = 0
    mu: Decimal = ZERO
    contiguous_mu: Decimal = ZERO
    scattered_mu: Decimal = ZERO
    far_weighted: Decimal = ZERO  # Σ planned_far × 亩
    far_mu: Decimal = ZERO  # Σ 亩 of parcels with a planned FAR
    far_before_weighted: Decimal = ZERO
    far_before_mu: Decimal = ZERO
    new_floor_area_m2: Decimal = ZERO
    missing_plan: int = 0
    tax_parcels: int = 0  # parcels with both a before and an after tax figure
    tax_mu: Decimal = ZERO
    tax_before: Decimal = ZERO
    tax_after: Decimal = ZERO
    compliant_mu: Decimal = ZERO
    codes: list[str] = field(default_factory=list)

    def add(self, p: RenewedParcel) -> None:
        self.parcels += 1
        self.codes.append(p.code)
        self.mu += p.land_area_mu
        if p.contiguous:
            self.contiguous_mu += p.land_area_mu
        else:
            self.scattered_mu += p.land_area_mu
        if p.planned_far is not None:
            self.far_weighted += p.planned_far * p.land_area_mu
            self.far_mu += p.land_area_mu
        else:
            self.missing_plan += 1
        if p.far is not None:
            self.far_before_weighted += p.far * p.land_area_mu
            self.far_before_mu += p.land_area_mu
        if p.new_floor_area_m2 is not None:
            self.new_floor_area_m2 += p.new_floor_area_m2
        if p.tax_after_10k_yuan is not None:
            # Like for like: the same land before and after; vacant land paid no tax before.
            self.tax_parcels += 1
            self.tax_mu += p.land_area_mu
            self.tax_before += p.tax_before_10k_yuan or ZERO
            self.tax_after += p.tax_after_10k_yuan
        if not p.rule_problems():
            self.compliant_mu += p.land_area_mu

    def track_mu(self, track: str) -> Decimal:
        return self.contiguous_mu if track == "contiguous" else self.scattered_mu

    @property
    def average_far(self) -> Decimal | None:
        """Area-weighted average planned FAR: Σ(FAR × 亩) / Σ 亩."""
        return ratio(self.far_weighted, self.far_mu)

    @property
    def average_far_before(self) -> Decimal | None:
        return ratio(self.far_before_weighted, self.far_before_mu)

    @property
    def tax_per_mu_before(self) -> Decimal | None:
        return ratio(self.tax_before, self.tax_mu)

    @property
    def tax_per_mu_after(self) -> Decimal | None:
        return ratio(self.tax_after, self.tax_mu)


def totals_by(parcels: list[RenewedParcel], key) -> dict:
    out: dict = defaultdict(Totals)
    for p in parcels:
        out[key(p)].add(p)
    return out


def total_of(parcels: list[RenewedParcel]) -> Totals:
    t = Totals()
    for p in parcels:
        t.add(p)
    return t


# --------------------------------------------------------------------------------------------
# Units and targets
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class UnitRow:
    id: int
    code: str
    name: str


@dataclass(frozen=True)
class Target:
    renewal_mu: Decimal
    contiguous_mu: Decimal
    scattered_mu: Decimal

    def of(self, track: str | None) -> Decimal:
        return {"contiguous": self.contiguous_mu, "scattered": self.scattered_mu}.get(track, self.renewal_mu)

    def to_dict(self) -> dict:
        return {"renewal_mu": q2(self.renewal_mu), "contiguous_mu": q2(self.contiguous_mu), "scattered_mu": q2(self.scattered_mu)}


def target_etag(target: Target | AnnualTarget | None) -> str:
    """The ETag of a unit's target for a year: its figures (a target has no version column, and two
    edits that leave the same figures do not conflict); ``"none"`` while there is none."""
    if target is None:
        return '"none"'
    text = f"{Decimal(target.contiguous_mu):.2f}|{Decimal(target.scattered_mu):.2f}"
    return '"' + hashlib.sha256(text.encode()).hexdigest()[:16] + '"'


def units(session: Session) -> list[UnitRow]:
    return [UnitRow(r.id, r.code, r.name) for r in session.execute(select(Unit.id, Unit.code, Unit.name).order_by(Unit.id))]


def find_unit(session: Session, code_or_name: str) -> UnitRow:
    row = session.execute(
        select(Unit.id, Unit.code, Unit.name).where(or_(Unit.code == code_or_name, Unit.name == code_or_name))
    ).first()
    if row is None:
        raise NotFound(message("unknown_unit", code=code_or_name), [FieldError("unit", message("unknown_unit", code=code_or_name))])
    return UnitRow(row.id, row.code, row.name)


def targets(session: Session, year: int) -> dict[str, Target]:
    rows = session.execute(
        select(Unit.code, AnnualTarget.renewal_mu, AnnualTarget.contiguous_mu, AnnualTarget.scattered_mu)
        .join(AnnualTarget.unit)
        .where(AnnualTarget.year == year)
    )
    return {r.code: Target(r.renewal_mu, r.contiguous_mu, r.scattered_mu) for r in rows}


def check_year(year: int, field_name: str = "year") -> None:
    if not (2000 <= year <= 2100):
        raise InvalidParameter(field_name, message("progress_year_range"))


def set_target(
    session: Session, unit_code: str, year: int, contiguous_mu: Decimal, scattered_mu: Decimal,
    if_match: str | None = None,
) -> tuple[UnitRow, Target, bool]:
    """年度任务 of one unit (an admin's act); returns (unit, target, created).

    ``if_match`` (the ETag the admin's screen read, :func:`target_etag`) refuses the change when
    someone changed the target since (409, naming the figures it now has); ``*`` or None skip it."""
    errors = [
        FieldError(name, message("progress_target_negative", field=label))
        for name, label, value in (("contiguous_mu", "连片面积", contiguous_mu), ("scattered_mu", "零星面积", scattered_mu))
        if value < 0
    ]
    if not (min(PROGRAMME_YEARS) <= year <= LAST_TARGET_YEAR):
        errors.append(FieldError("year", message("progress_target_year", first=min(PROGRAMME_YEARS),
                                                 last=LAST_TARGET_YEAR)))
    if errors:
        raise AppError(message("progress_target_invalid", reason="；".join(e.message for e in errors)), errors)
    unit = find_unit(session, unit_code)
    try:
        return _write_target(session, unit, year, contiguous_mu, scattered_mu, if_match)
    except IntegrityError as exc:  # another admin set the first target of this unit and year meanwhile
        reason = message("progress_target_created_now", unit=unit.name, year=year)
        raise Conflict(reason, [FieldError("contiguous_mu", reason)]) from exc


def _write_target(session: Session, unit: UnitRow, year: int, contiguous_mu: Decimal, scattered_mu: Decimal,
                  if_match: str | None) -> tuple[UnitRow, Target, bool]:
    with unit_of_work(session), audit_context(session, "set_target"):
        target = session.scalar(select(AnnualTarget).where(AnnualTarget.unit_id == unit.id, AnnualTarget.year == year)
                                .with_for_update())
        if if_match not in (None, "", "*") and if_match.strip().removeprefix("W/") != target_etag(target):
            now = (message("progress_target_now", contiguous=f"{target.contiguous_mu:.2f}",
                           scattered=f"{target.scattered_mu:.2f}") if target else message("progress_target_now_none"))
            reason = message("progress_target_stale", unit=unit.name, year=year, now=now)
            raise Conflict(reason, [FieldError("contiguous_mu", reason)])
        created = target is None
        if created:
            target = AnnualTarget(unit_id=unit.id, year=year)
            session.add(target)
        target.contiguous_mu = contiguous_mu
        target.scattered_mu = scattered_mu
        target.renewal_mu = contiguous_mu + scattered_mu
    return unit, Target(target.renewal_mu, target.contiguous_mu, target.scattered_mu), created


def periods(session: Session, now: dt.date | None = None) -> dict:
    """The years that have targets, and the month the 一表 opens on: the latest month, up to now,
    of a year with targets in which land was renewed (so the first view is never empty)."""
    now = now or today()
    years = sorted(session.scalars(select(AnnualTarget.year).distinct()))
    renewed = sorted({p.renewed_on for p in renewed_parcels(session, now) if p.renewed_on.year in years})
    if renewed:
        default = renewed[-1]
        year, month = default.year, default.month
    elif years:
        year = max(y for y in years if y <= now.year) if any(y <= now.year for y in years) else min(years)
        month = now.month if year == now.year else 12
    else:
        year, month = now.year, now.month
    return {"years": years, "default_year": year, "default_month": month, "today": now.isoformat()}


# --------------------------------------------------------------------------------------------
# Monthly progress (月度进度) and the monthly report rows
# --------------------------------------------------------------------------------------------
def linear_schedule() -> list[float]:
    """序时进度: by the end of month m, m/12 of the year's target (the default).

    Not rounded: 序时应完成 = target × m/12 is multiplied first and rounded once when reported
    (3,000 亩 by the end of October is 2,500.00, not 3,000 × 0.8333 = 2,499.90)."""
    return [m / 12 for m in range(1, 13)]


def check_month(year: int, month: int) -> None:
    check_year(year)
    if not 1 <= month <= 12:
        raise InvalidParameter("month", message("progress_month_range"))


def monthly_progress(session: Session, year: int, month: int, schedule: list[float] | None = None,
                     as_of: dt.date | None = None) -> dict:
    """Each unit's progress in ``month`` and year to date, ranked by completion rate.

    ``as_of`` defaults to the month's last day (or today, within the current month).
    The change since last month compares year-to-date figures at the end of the
    previous month (zero in January: a year's progress starts afresh).
    """
    check_month(year, month)
    schedule = schedule or linear_schedule()
    end = month_end(year, month)
    as_of = as_of or min(end, max(today(), dt.date(year, month, 1)))
    first_of_year = dt.date(year, 1, 1)
    first_of_month = dt.date(year, month, 1)
    prev_end = first_of_month - dt.timedelta(days=1)
    parcels = renewed_parcels(session, as_of, since=first_of_year)
    ytd = totals_by(parcels, lambda p: p.unit_code)
    in_month = totals_by([p for p in parcels if p.renewed_on >= first_of_month], lambda p: p.unit_code)
    # Last month as it stood at its end (what its report said): a later record moves this month's figures,
    # and is listed under corrections, but never last month's.
    before = renewed_sums(session, prev_end, since=first_of_year) if month > 1 else defaultdict(Totals)
    year_targets = targets(session, year)
    schedule_rate = Decimal(str(schedule[month - 1]))
    prev_schedule_rate = Decimal(str(schedule[month - 2])) if month > 1 else ZERO

    rows = []
    state = month_state(session, year, month, today())
    for unit in units(session):
        t = year_targets.get(unit.code)
        done, month_t, prev = ytd[unit.code], in_month[unit.code], before[unit.code]
        row = _progress_row(unit.code, unit.name, t, done, month_t, prev, schedule_rate, prev_schedule_rate)
        row["reporting_status"] = state.status(unit.id)
        row["reporting_status_label"] = status_label(row["reporting_status"])
        rows.append(row)
    rows.sort(key=lambda r: (r["completion_rate"] is None, -(r["completion_rate"] or 0), -r["done_ytd_mu"], r["unit_code"]))
    for rank, r in enumerate(rows, start=1):
        r["rank"] = rank if r["completion_rate"] is not None else None
    with_target = [t for c, t in year_targets.items()]
    city_target = (
        Target(
            sum((t.renewal_mu for t in with_target), ZERO),
            sum((t.contiguous_mu for t in with_target), ZERO),
            sum((t.scattered_mu for t in with_target), ZERO),
        )
        if with_target
        else None
    )
    city = _progress_row(
        "citywide", "全市", city_target, total_of(parcels),
        total_of([p for p in parcels if p.renewed_on >= first_of_month]),
        sum_totals(before.values()), schedule_rate, prev_schedule_rate,
    )
    return {
        "year": year,
        "month": month,
        "as_of": as_of.isoformat(),
        "previous_as_of": prev_end.isoformat() if month > 1 else None,
        "schedule_rate": q4(schedule_rate),
        "units_behind": [r["unit_name"] for r in rows if r["behind_schedule"]],
        "units_without_target": [r["unit_name"] for r in rows if r["target"] is None],
        "rows": rows,
        "citywide": city,
        "corrections": corrections(session, first_of_month, knowledge_day(session, prev_end) + dt.timedelta(days=1),
                                   knowledge_day(session, as_of)),
        "reporting": {
            "due_on": state.deadline.due_on.isoformat(), "open": state.deadline.is_open(state.on),
            "provisional": not state.deadline.is_closed(state.on),
            "not_submitted": [r["unit_name"] for r in sorted(rows, key=lambda r: r["unit_code"])
                              if r["reporting_status"] not in ("submitted", "not_required")],
        },
    }


def _progress_row(code, name, target: Target | None, done: Totals, month_t: Totals, prev: Totals,
                  schedule_rate: Decimal, prev_schedule_rate: Decimal) -> dict:
    rate = ratio(done.mu, target.renewal_mu) if target else None
    prev_rate = ratio(prev.mu, target.renewal_mu) if target else None
    expected = target.renewal_mu * schedule_rate if target else None
    return {
        "unit_code": code,
        "unit_name": name,
        "target": target.to_dict() if target else None,
        "done_month_mu": q2(month_t.mu),
        "done_month_parcels": month_t.parcels,
        "done_ytd_mu": q2(done.mu),
        "done_ytd_contiguous_mu": q2(done.contiguous_mu),
        "done_ytd_scattered_mu": q2(done.scattered_mu),
        "done_ytd_parcels": done.parcels,
        "completion_rate": q4(rate),
        "contiguous_rate": q4(ratio(done.contiguous_mu, target.contiguous_mu)) if target else None,
        "scattered_rate": q4(ratio(done.scattered_mu, target.scattered_mu)) if target else None,
        "previous_done_ytd_mu": q2(prev.mu),
        "previous_completion_rate": q4(prev_rate),
        "change_mu": q2(done.mu - prev.mu),
        "change_rate": q4(rate - prev_rate) if rate is not None and prev_rate is not None else None,
        "expected_mu": q2(expected),
        "gap_mu": q2(max(expected - done.mu, ZERO)) if expected is not None else None,
        "behind_schedule": bool(target is not None and rate is not None and rate < schedule_rate),
        "was_behind_schedule": bool(target is not None and prev_rate is not None and prev_schedule_rate > 0
                                    and prev_rate < prev_schedule_rate),
        "average_far": q4(done.average_far),
        "parcel_codes_month": month_t.codes,
    }


# --------------------------------------------------------------------------------------------
# Indicators (主要目标), per unit and citywide
# --------------------------------------------------------------------------------------------
def approved_blocks_per_unit_year(session: Session, as_of: dt.date) -> dict[tuple[str, int], list[dict]]:
    """认定区块 per unit and year (the designated year of the version in force), as of a day."""
    rows = session.execute(text(
        "WITH " + AS_OF_CTES + """
        SELECT u.code AS unit_code, f.year, b.code AS block_code, f.name, f.approval_doc_no
        FROM blocks_in_force f JOIN renewal_blocks b ON b.id = f.block_id JOIN units u ON u.id = b.unit_id
        ORDER BY u.code, b.code"""), as_of_params(session, as_of))
    out: dict[tuple[str, int], list[dict]] = defaultdict(list)
    for r in rows:
        if r.year is not None:
            out[(r.unit_code, int(r.year))].append({"code": r.block_code, "name": r.name, "approval_doc_no": r.approval_doc_no})
    return out


def _indicator_block(t: Totals, targets_by_year: dict[int, Target | None], done_by_year: dict[int, Totals],
                     blocks: dict[int, list[dict]],
                     block_limit=lambda _year: MAX_BLOCKS_PER_UNIT_PER_YEAR) -> dict:
    years = {}
    for year in PROGRAMME_YEARS:
        target, done = targets_by_year.get(year), done_by_year.get(year, Totals())
        years[str(year)] = {
            "target": target.to_dict() if target else None,
            "done_mu": q2(done.mu),
            "done_contiguous_mu": q2(done.contiguous_mu),
            "done_scattered_mu": q2(done.scattered_mu),
            "completion_rate": q4(ratio(done.mu, target.renewal_mu)) if target else None,
            "contiguous_rate": q4(ratio(done.contiguous_mu, target.contiguous_mu)) if target else None,
            "scattered_rate": q4(ratio(done.scattered_mu, target.scattered_mu)) if target else None,
        }
    programme_target = (
        sum((t_.renewal_mu for t_ in targets_by_year.values() if t_), ZERO)
        if all(targets_by_year.get(y) for y in PROGRAMME_YEARS) else None
    )
    return {
        "years": years,
        "programme": {"done_mu": q2(t.mu), "target_mu": q2(programme_target),
                      "rate": q4(ratio(t.mu, programme_target))},
        "new_floor_area": {"done_m2": q2(t.new_floor_area_m2), "parcels_without_plan": t.missing_plan},
        "average_far": {"after": q4(t.average_far), "before": q4(t.average_far_before), "target": float(MIN_FAR),
                        "met": None if t.average_far is None else bool(t.average_far >= MIN_FAR),
                        "land_mu": q2(t.far_mu)},
        "blocks_approved": {str(y): {"count": len(blocks.get(y, [])), "limit": block_limit(y),
                                     "exceeded": len(blocks.get(y, [])) > block_limit(y),
                                     "blocks": blocks.get(y, [])}
                            for y in sorted(set(PROGRAMME_YEARS) | set(blocks))},
        "tax_per_mu": {"before": q2(t.tax_per_mu_before), "after": q2(t.tax_per_mu_after),
                       "parcels": t.tax_parcels, "land_mu": q2(t.tax_mu),
                       "ratio": q4(ratio(t.tax_per_mu_after, t.tax_per_mu_before))},
        "parcels": t.parcels,
    }


def indicators(session: Session, as_of: dt.date | None = None) -> dict:
    """The programme's indicators (二、主要目标) per unit and citywide, as of a day."""
    as_of = as_of or today()
    parcels = renewed_parcels(session, as_of, since=PROGRAMME_START, until=PROGRAMME_END)
    by_unit = totals_by(parcels, lambda p: p.unit_code)
    by_unit_year = totals_by(parcels, lambda p: (p.unit_code, p.renewed_on.year))
    by_year = totals_by(parcels, lambda p: p.renewed_on.year)
    year_targets = {y: targets(session, y) for y in PROGRAMME_YEARS}
    blocks = approved_blocks_per_unit_year(session, as_of)
    in_force = thresholds_lookup(session)  # ≤ N blocks a year: N of the 行动计划 in force in that year

    def block_limit(year: int) -> int:
        return in_force(year).max_blocks_per_unit_per_year

    unit_rows = []
    for unit in units(session):
        block = _indicator_block(
            by_unit[unit.code],
            {y: year_targets[y].get(unit.code) for y in PROGRAMME_YEARS},
            {y: by_unit_year[(unit.code, y)] for y in PROGRAMME_YEARS},
            {y: b for (u, y), b in blocks.items() if u == unit.code},
            block_limit,
        )
        unit_rows.append({"unit_code": unit.code, "unit_name": unit.name, **block})
    city_targets = {}
    for y in PROGRAMME_YEARS:
        ts = list(year_targets[y].values())
        city_targets[y] = Target(sum((t.renewal_mu for t in ts), ZERO), sum((t.contiguous_mu for t in ts), ZERO),
                                 sum((t.scattered_mu for t in ts), ZERO)) if ts else None
    city_blocks: dict[int, list[dict]] = defaultdict(list)
    for (u, y), b in blocks.items():
        city_blocks[y].extend(b)
    city = _indicator_block(total_of(parcels), city_targets, {y: by_year[y] for y in PROGRAMME_YEARS}, city_blocks,
                            block_limit)
    city["programme"]["target_mu"] = q2(PROGRAMME_TOTAL_MU)  # the plan's figure, whatever the yearly split
    city["programme"]["rate"] = q4(ratio(total_of(parcels).mu, PROGRAMME_TOTAL_MU))
    city["new_floor_area"]["target_m2"] = q2(NEW_FLOOR_AREA_TARGET_M2)
    city["new_floor_area"]["rate"] = q4(ratio(total_of(parcels).new_floor_area_m2, NEW_FLOOR_AREA_TARGET_M2))
    city["blocks_approved"] = {
        str(y): {"count": len(b), "limit": block_limit(y), "units_over_limit": sorted(
            u for (u, yy), bb in blocks.items() if yy == y and len(bb) > block_limit(y))}
        for y, b in sorted(city_blocks.items())
    }
    return {"as_of": as_of.isoformat(), "citywide": city, "units": unit_rows}


def parcel_trace(session: Session, *, as_of: dt.date | None = None, unit: str | None = None, year: int | None = None,
                 month: int | None = None, track: str | None = None) -> list[dict]:
    """The renewed parcels behind a figure (追溯到宗地)."""
    if month is not None and year is None:
        raise InvalidParameter("month", message("progress_month_needs_year"))
    if track is not None and track not in TRACKS:
        raise InvalidParameter("track", message("unknown_enum", value=track, choices=message("progress_tracks")))
    as_of = as_of or today()
    since = until = None
    if year is not None:
        check_year(year)
        since = dt.date(year, month or 1, 1)
        until = month_end(year, month) if month else dt.date(year, 12, 31)
        as_of = min(as_of, until)  # the parcels behind the period's figures, as they stood at its end
    unit_code = find_unit(session, unit).code if unit else None
    return [
        p.to_dict()
        for p in renewed_parcels(session, as_of, since, until)
        if (unit_code is None or p.unit_code == unit_code) and (track is None or p.track == track)
    ]
