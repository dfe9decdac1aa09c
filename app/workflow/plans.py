"""Block plans: draft → submitted → returned (→ draft) | approved (认定) → stage 启动 → 推进 → 完成.

The review life-cycle is the core's review engine (:mod:`app.core.review`); this module is the
block plan's row of it (:class:`BlockPlanReview`: who may act, the plan's rules at submission
and approval, publishing the approved version as the renewal block) and everything only plans
have: drafting, revisions, stages, comparison.

An approved version is frozen (boundary, 四至, parcel and enterprise lists); a change is a new
version that is reviewed again, and every version is kept. At submission and at approval the
plan's rules run through ``spatial`` (app.analysis.service.block_plan_report + spatial.plan_rules).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import numpy as np
import orjson
from geoalchemy2.shape import from_shape, to_shape
from shapely.geometry import mapping, shape
from sqlalchemy import func, select
from sqlalchemy.orm import Session

import spatial
from spatial.plan_rules import (
    check_enterprise_codes_complete,
    check_enterprise_list,
    check_four_boundaries_stated,
    check_parcels_have_enterprise,
)

from ..actionplans.service import thresholds_for_year
from ..analysis.service import block_plan_report
from ..auth.deps import Principal
from ..auth.errors import NotAllowed
from ..auth.models import User
from ..auth.roles import Role
from ..core import review
from ..core.audit import audit_context
from ..core.read.sql import Page
from ..core.uow import discarded, unit_of_work
from ..industry import code_problem, normalise_code
from ..enums import Classification, LabelledEnum, RenewalMode, ReviewStatus, Stage
from ..errors import Conflict, FieldError, InvalidFeatures, InvalidParameter, InvalidState, NotFound
from ..messages import message
from ..models import Enterprise, Parcel, RenewalBlock, Unit, as_multipolygon
from .enums import BoundarySource
from .layers import versions_page
from .models import (
    BlockPlan,
    BlockVersion,
    BlockVersionEnterprise,
    BlockVersionParcel,
    EnterpriseGovernance,
)

FOUR_SIDES = ("four_east", "four_south", "four_west", "four_north")
STAGE_ORDER = [Stage.PLANNED, Stage.STARTED, Stage.IN_PROGRESS, Stage.COMPLETED]
OPEN_STATUSES = {ReviewStatus.DRAFT, ReviewStatus.SUBMITTED, ReviewStatus.RETURNED}


DRAFT_FIELDS = ("name", "year", "parcels", "enterprises", "boundary", "boundary_source", *FOUR_SIDES,
                "planned_new_floor_area_m2", "planned_far", "renewal_mode", "change_note", "industry_guidance")


@dataclass
class DraftInput:
    """What an officer sends for a draft.

    Only the fields named in ``given`` change on an update; a given ``None`` clears a field
    (四至, planned figures, renewal mode, change note), puts the enterprise list back to the
    parcels' enterprises, or (``boundary``) goes back to the boundary derived from the parcels.
    Without ``given``, the fields that are not None are the given ones.
    """

    name: str | None = None
    year: int | None = None
    parcels: list[str] | None = None
    enterprises: list[dict] | None = None  # [{"credit_code", "classification", "reason"}]
    boundary: dict | None = None  # GeoJSON polygon in EPSG:4490 lon/lat
    boundary_source: str | None = None  # "drawn" (on the map, the default) or "file" for a given boundary
    four_east: str | None = None
    four_south: str | None = None
    four_west: str | None = None
    four_north: str | None = None
    planned_new_floor_area_m2: float | None = None
    planned_far: float | None = None
    renewal_mode: str | None = None
    change_note: str | None = None
    industry_guidance: list[str] | None = None  # 产业导向: industry codes (GB/T 4754); None or [] clears it
    given: frozenset[str] | None = None

    def __post_init__(self) -> None:
        if self.given is None:
            self.given = frozenset(k for k in DRAFT_FIELDS if getattr(self, k) is not None)

    def has(self, name: str) -> bool:
        return name in self.given


# --- access ------------------------------------------------------------------


def can_edit(principal: Principal, unit_id: int) -> bool:
    return principal.role == Role.ADMIN or (principal.role == Role.UNIT_OFFICER and principal.unit_id == unit_id)


def require_unit(principal: Principal, unit_id: int, what: str = "此区块方案") -> None:
    if not can_edit(principal, unit_id):
        if principal.role == Role.UNIT_OFFICER:
            raise NotAllowed(message("plan_other_unit", what=what))
        raise NotAllowed(message("plan_unit_only", what=what))


def require_reviewer(principal: Principal) -> None:
    if principal.role not in (Role.REVIEWER, Role.ADMIN):
        raise NotAllowed(message("plan_reviewer_only"))


def sees_drafts(principal: Principal, plan: BlockPlan) -> bool:
    """Officers see other units' plans only as approved; everyone else sees every version."""
    return principal.role != Role.UNIT_OFFICER or principal.unit_id == plan.unit_id


def visible_versions(principal: Principal, plan: BlockPlan) -> list[BlockVersion]:
    if sees_drafts(principal, plan):
        return list(plan.versions)
    return [v for v in plan.versions if v.status == ReviewStatus.APPROVED]


# --- loading -----------------------------------------------------------------


def find_plan(session: Session, code: str) -> BlockPlan | None:
    return session.scalar(select(BlockPlan).where(BlockPlan.code == code))


def adopt(session: Session, block: RenewalBlock, industry_guidance: list[str] | None = None) -> BlockPlan:
    """Give a block approved before the workflow existed its plan and an approved version 1 (with its
    产业导向, when the caller knows it: the demo seed)."""
    plan = BlockPlan(code=block.code, unit_id=block.unit_id, block_id=block.id, status=ReviewStatus.APPROVED,
                     current_version_no=1)
    session.add(plan)
    with audit_context(session, "adopt", plan):  # inside the caller's unit of work (or its savepoint)
        version = BlockVersion(
            plan=plan, version_no=1, status=ReviewStatus.DRAFT, name=block.name,
            year=block.designated_year or (block.approval_date.year if block.approval_date else dt.date.today().year),
            geom=block.geom, four_east=block.four_east, four_south=block.four_south, four_west=block.four_west,
            four_north=block.four_north, planned_new_floor_area_m2=block.planned_new_floor_area_m2,
            planned_far=block.planned_far, boundary_source=BoundarySource.FILE,
            is_imported=True, approval_doc_no=block.approval_doc_no, approval_date=block.approval_date,
            industry_guidance=list(industry_guidance or []),
        )
        session.add(version)
        parcels = session.scalars(select(Parcel).where(Parcel.block_id == block.id).order_by(Parcel.code)).all()
        version.parcels = _parcel_rows(list(parcels))
        version.enterprises = _default_enterprises(session, list(parcels))
        session.flush()
        # Lists are written while the version is open; then it is frozen like any approved version.
        version.status = ReviewStatus.APPROVED
    return plan


def get_plan(session: Session, code: str, *, adopt_block: bool = False) -> BlockPlan:
    plan = find_plan(session, code)
    if plan is not None:
        return plan
    block = session.scalar(select(RenewalBlock).where(RenewalBlock.code == code))
    if block is not None and block.review_status == ReviewStatus.APPROVED and adopt_block:
        return adopt(session, block)
    if block is not None and block.review_status == ReviewStatus.APPROVED:
        return None  # type: ignore[return-value]  # the caller shows it through a savepoint
    raise NotFound(message("plan_not_found", code=code))


# --- drafting ----------------------------------------------------------------


def _parcels_for(session: Session, codes: list[str], unit_id: int, own_block_id: int | None) -> list[Parcel]:
    if not codes:
        raise InvalidParameter("parcels", message("plan_no_parcels"))
    wanted = list(dict.fromkeys(c.strip() for c in codes if c and c.strip()))
    found = {p.code: p for p in session.scalars(select(Parcel).where(Parcel.code.in_(wanted)))}
    errors = []
    for k, code in enumerate(wanted, start=1):
        p = found.get(code)
        if p is None:
            errors.append(FieldError("parcels", message("plan_parcel_unknown", code=code), feature=k))
        elif p.unit_id != unit_id:
            errors.append(FieldError("parcels", message("plan_parcel_other_unit", code=code), feature=k))
        elif p.block_id is not None and p.block_id != own_block_id:
            other = session.get(RenewalBlock, p.block_id)
            errors.append(FieldError("parcels", message("plan_parcel_taken", code=code,
                                                        block=other.name if other else p.block_id), feature=k))
    if errors:
        raise InvalidFeatures(message("plan_parcels_invalid", count=len(errors), first=errors[0].message), errors)
    return [found[c] for c in wanted]


def _current_classification(session: Session, enterprise: Enterprise, parcels: list[Parcel]) -> Classification | None:
    gov = session.get(EnterpriseGovernance, enterprise.id)
    if gov is not None and gov.classification is not None:
        return gov.classification
    own = [p.classification for p in parcels if p.enterprise_id == enterprise.id and p.classification]
    return own[0] if own else None


def enterprise_key(e) -> str:
    """How the rules name an enterprise of a list: its credit code, or (信用代码待补充) its name."""
    return e.credit_code or message("enterprise_pending_key", name=e.name)


def _parcel_rows(parcels: list[Parcel]) -> list[BlockVersionParcel]:
    return [BlockVersionParcel(parcel_id=p.id, parcel_code=p.code, land_area_mu=p.land_area_mu,
                               enterprise_id=p.enterprise_id) for p in parcels]


def _default_enterprises(session: Session, parcels: list[Parcel]) -> list[BlockVersionEnterprise]:
    """The enterprises of the parcels, in parcel order, with their current classification."""
    ids = list(dict.fromkeys(p.enterprise_id for p in parcels if p.enterprise_id is not None))
    by_id = {e.id: e for e in session.scalars(select(Enterprise).where(Enterprise.id.in_(ids)))}
    # Every column set, None included: a row replacing one with the same key becomes an UPDATE of
    # the columns set on it (SQLAlchemy's row switch), so an unset reason would keep the old one.
    return [BlockVersionEnterprise(enterprise_id=e.id, name=e.name, credit_code=e.credit_code,
                                   classification=_current_classification(session, e, parcels),
                                   classification_reason=None)
            for e in (by_id[i] for i in ids)]


def _enterprise_rows(session: Session, parcels: list[Parcel], items: list[dict], *,
                     unreasoned: list[spatial.Violation] | None = None) -> list[BlockVersionEnterprise]:
    """The enterprise list as sent: each enterprise from the register, its classification (or its
    current one) and, when it differs from the current classification, the reason. With
    ``unreasoned`` (the live preview), a missing reason is a failed rule put there, not a refusal."""
    codes = [str(item.get("credit_code") or "").strip() for item in items]
    found = {e.credit_code: e for e in session.scalars(select(Enterprise).where(Enterprise.credit_code.in_(codes)))}
    # An enterprise registered from an upload has no credit code yet: named by its name (one per name).
    names = [str(item.get("name") or "").strip() for item in items]
    pending = {e.name: e for e in session.scalars(select(Enterprise).where(
        Enterprise.credit_code.is_(None), Enterprise.name.in_([n for n, c in zip(names, codes) if n and not c])))}
    rows: list[BlockVersionEnterprise] = []
    errors = []
    for k, (item, code, name) in enumerate(zip(items, codes, names), start=1):
        e = found.get(code) if code else pending.get(name)
        if e is None:
            errors.append(FieldError("enterprises", message("enterprise_unknown", code=code or name), feature=k))
            continue
        if any(r.enterprise_id == e.id for r in rows):
            errors.append(FieldError("enterprises", message("plan_enterprise_duplicate", name=e.name), feature=k))
            continue
        raw = item.get("classification")
        current = _current_classification(session, e, parcels)
        try:
            cls = Classification(raw) if raw else current
        except ValueError:
            errors.append(FieldError("enterprises", message("plan_classification_invalid", value=raw), feature=k))
            continue
        reason = (item.get("reason") or "").strip() or None
        if cls is not None and current is not None and cls != current and reason is None:
            text = message("plan_classification_reason_missing", name=e.name, current=current.label)
            if unreasoned is None:
                errors.append(FieldError("enterprises", text, feature=k))
                continue
            unreasoned.append(spatial.Violation("classification_reason_missing", text,
                                                {"credit_code": e.credit_code}, (enterprise_key(e),)))
        rows.append(BlockVersionEnterprise(enterprise_id=e.id, name=e.name, credit_code=e.credit_code,
                                           classification=cls, classification_reason=reason))
    if errors:
        raise InvalidFeatures(message("plan_enterprises_invalid", count=len(errors), first=errors[0].message), errors)
    return rows


def _merged_enterprises(session: Session, version: BlockVersion, old: list[int | None],
                        parcels: list[Parcel]) -> list[BlockVersionEnterprise]:
    """The list after the parcels changed and no list was sent: entries (with their classification
    and reason) are kept unless their enterprise left with a removed parcel; the new parcels'
    enterprises are added with their current classification."""
    now = {p.enterprise_id for p in parcels}
    gone = {eid for eid in old if eid is not None} - now
    kept = [BlockVersionEnterprise(enterprise_id=e.enterprise_id, name=e.name, credit_code=e.credit_code,
                                   classification=e.classification, classification_reason=e.classification_reason)
            for e in version.enterprises if e.enterprise_id not in gone]
    listed = {e.enterprise_id for e in kept}
    return kept + [e for e in _default_enterprises(session, parcels) if e.enterprise_id not in listed]


def derive_boundary(parcels: list[Parcel], tolerance_m: float = spatial.DEFAULT_TOLERANCE_M):
    """The boundary the parcels make with the gaps up to the contiguity tolerance closed
    (``spatial.derived_boundary``: the roads and rivers between them included), EPSG:4490;
    the tolerance is that of the 行动计划 in force in the plan's year."""
    geoms_4549 = spatial.reproject(np.array([to_shape(p.geom) for p in parcels], dtype=object),
                                   spatial.STORAGE_SRID, spatial.AREA_SRID)
    derived = spatial.reproject(spatial.derived_boundary(geoms_4549, tolerance_m), spatial.AREA_SRID,
                                spatial.STORAGE_SRID)
    return as_multipolygon(derived)


def given_boundary(geometry: dict):
    """A drawn or uploaded boundary (GeoJSON polygon in EPSG:4490 lon/lat) as a MultiPolygon."""
    try:
        geom = shape(geometry.get("geometry", geometry) if geometry.get("type") == "Feature" else geometry)
        geom = as_multipolygon(geom)
    except Exception as exc:  # malformed GeoJSON or not a polygon
        raise InvalidParameter("boundary", message("plan_boundary_invalid")) from exc
    x0, y0, x1, y1 = geom.bounds
    if geom.is_empty or not (73 <= x0 <= x1 <= 136 and 3 <= y0 <= y1 <= 54):
        raise InvalidParameter("boundary", message("plan_boundary_not_lonlat"))
    return geom


def _boundary_near(geom, parcels: list[Parcel]) -> None:
    """A given boundary must at least touch the neighbourhood of the parcels it bounds."""
    if not parcels:
        return
    geoms = np.array([geom, *(to_shape(p.geom) for p in parcels)], dtype=object)
    g = spatial.reproject(geoms, spatial.STORAGE_SRID, spatial.AREA_SRID)
    distance = float(min(g[0].distance(other) for other in g[1:]))
    if distance > spatial.DEFAULT_SEARCH_DISTANCE_M:
        raise InvalidParameter("boundary", message("plan_boundary_far", distance=f"{distance:.0f}"))


def _text(value: str | None) -> str | None:
    return (value or "").strip() or None


def _apply(session: Session, plan: BlockPlan, version: BlockVersion, data: DraftInput) -> None:
    """Write the given fields of ``data`` on the open ``version``."""
    if data.has("name"):
        if not _text(data.name):
            raise InvalidParameter("name", message("plan_name_missing"))
        version.name = _text(data.name)
    if data.has("year"):
        if data.year is None:
            raise InvalidParameter("year", message("plan_year_missing"))
        version.year = data.year
    for side in FOUR_SIDES:
        if data.has(side):
            setattr(version, side, _text(getattr(data, side)))
    if data.has("planned_new_floor_area_m2"):
        version.planned_new_floor_area_m2 = data.planned_new_floor_area_m2
    if data.has("planned_far"):
        version.planned_far = data.planned_far
    if data.has("renewal_mode"):
        version.renewal_mode = RenewalMode(data.renewal_mode) if data.renewal_mode else None
    if data.has("change_note"):
        version.change_note = _text(data.change_note)
    if data.has("industry_guidance"):
        version.industry_guidance = guidance_codes(data.industry_guidance or [])

    parcels, old = None, []
    if data.has("parcels"):
        parcels = _parcels_for(session, data.parcels or [], plan.unit_id, plan.block_id)
        old = [p.enterprise_id for p in version.parcels]
        version.parcels = _parcel_rows(parcels)
    if data.has("enterprises") or parcels is not None:
        if parcels is None:
            parcels = list(session.scalars(select(Parcel).where(
                Parcel.id.in_([p.parcel_id for p in version.parcels])).order_by(Parcel.code)))
        if data.has("enterprises") and data.enterprises is not None:
            version.enterprises = _enterprise_rows(session, parcels, data.enterprises)
        elif data.has("enterprises") or not version.enterprises:
            version.enterprises = _default_enterprises(session, parcels)
        else:
            version.enterprises = _merged_enterprises(session, version, old, parcels)

    # A drawn or uploaded boundary stays as it is when the parcels change; a derived one follows them.
    if data.has("boundary") and data.boundary is not None:
        geom = given_boundary(data.boundary)
        _boundary_near(geom, parcels if parcels is not None else _version_parcels(session, version))
        version.boundary_source = BoundarySource(data.boundary_source or BoundarySource.DRAWN.value)
        version.set_geometry(geom)
    elif data.has("boundary") or (parcels is not None and version.boundary_source == BoundarySource.DERIVED) \
            or version.geom is None:
        chosen = parcels if parcels is not None else _version_parcels(session, version)
        if not chosen:
            raise InvalidParameter("parcels", message("plan_new_needs_parcels"))
        version.boundary_source = BoundarySource.DERIVED
        version.set_geometry(derive_boundary(chosen, thresholds_for_year(session, version.year).tolerance_m))


def guidance_codes(items: list[str]) -> list[str]:
    """产业导向 as sent: each code normalised and checked (GB/T 4754); duplicates dropped, order kept.
    A bad code is a 400 naming it and its place in the list."""
    codes, errors = [], []
    for k, raw in enumerate(items, start=1):
        code = normalise_code(str(raw or ""))
        if not code:
            continue
        problem = code_problem(code)
        if problem is not None:
            key, values = problem
            errors.append(FieldError("industry_guidance", message("plan_guidance_code_invalid", position=k,
                                                                  reason=message(key, **values)), feature=k))
        elif code not in codes:
            codes.append(code)
    if errors:
        raise InvalidFeatures(message("plan_guidance_invalid", count=len(errors), first=errors[0].message), errors)
    return codes


def _version_parcels(session: Session, version: BlockVersion) -> list[Parcel]:
    ids = [p.parcel_id for p in version.parcels]
    return list(session.scalars(select(Parcel).where(Parcel.id.in_(ids)).order_by(Parcel.code))) if ids else []


def touch(plan: BlockPlan) -> None:
    """Bump the plan's version (its ETag) with every change to it or its versions."""
    plan.updated_at = func.now()


def create_plan(session: Session, principal: Principal, *, code: str, unit_code: str | None, data: DraftInput) -> BlockPlan:
    code = code.strip()
    if not code or len(code) > 32:
        raise InvalidParameter("code", message("plan_code_invalid"))
    if principal.role == Role.UNIT_OFFICER and unit_code is None:
        unit = session.get(Unit, principal.unit_id)
    else:
        unit = session.scalar(select(Unit).where(Unit.code == (unit_code or "")))
        if unit is None:
            raise InvalidParameter("unit", message("unknown_unit", code=unit_code))
    require_unit(principal, unit.id)
    if find_plan(session, code) or session.scalar(select(RenewalBlock.id).where(RenewalBlock.code == code)):
        raise Conflict(message("plan_code_taken", code=code), [FieldError("code", message("taken"))])
    if not data.name:
        raise InvalidParameter("name", message("plan_name_missing"))
    plan = BlockPlan(code=code, unit_id=unit.id, status=ReviewStatus.DRAFT, working_version_no=1,
                     created_by_id=principal.id)
    session.add(plan)
    with unit_of_work(session), audit_context(session, "plan_create", plan):
        version = BlockVersion(plan=plan, version_no=1, status=ReviewStatus.DRAFT, name=data.name,
                               year=data.year or dt.date.today().year, created_by_id=principal.id)
        with session.no_autoflush:  # the version has no boundary until _apply has read the parcels
            _apply(session, plan, version, data)
        if version.geom is None:
            raise InvalidParameter("parcels", message("plan_new_needs_parcels"))
        session.add(version)
    return plan


def working_version(plan: BlockPlan) -> BlockVersion:
    version = plan.version(plan.working_version_no)
    if version is None:
        raise InvalidState(message("plan_no_working_version", code=plan.code))
    return version


def update_draft(session: Session, principal: Principal, plan: BlockPlan, data: DraftInput) -> BlockVersion:
    require_unit(principal, plan.unit_id)
    version = working_version(plan)
    if version.status.value not in PLAN_REVIEW.flow.editable:
        raise InvalidState(message("plan_version_under_review", version=version.version_no))
    with unit_of_work(session), audit_context(session, "draft_update", plan):
        _apply(session, plan, version, data)
        version.status = ReviewStatus.DRAFT  # a returned version goes back to draft when edited
        version.report, version.report_passed = None, None
        plan.status = ReviewStatus.DRAFT
        touch(plan)
    return version


def new_revision(session: Session, principal: Principal, plan: BlockPlan, change_note: str | None) -> BlockVersion:
    """Start a change of an approved plan: a new draft version copied from the one in force."""
    require_unit(principal, plan.unit_id)
    if plan.working_version_no is not None:
        raise InvalidState(message("plan_revision_open", code=plan.code, version=plan.working_version_no))
    base = plan.version(plan.current_version_no)
    if base is None:
        raise InvalidState(message("plan_revision_needs_approval"))
    number = max(v.version_no for v in plan.versions) + 1
    with unit_of_work(session), audit_context(session, "revision_create", plan):
        version = BlockVersion(
            version_no=number, status=ReviewStatus.DRAFT, name=base.name, year=base.year, geom=base.geom,
            four_east=base.four_east, four_south=base.four_south, four_west=base.four_west, four_north=base.four_north,
            planned_new_floor_area_m2=base.planned_new_floor_area_m2, planned_far=base.planned_far,
            renewal_mode=base.renewal_mode, boundary_source=base.boundary_source, change_note=change_note,
            industry_guidance=list(base.industry_guidance or []),
            based_on_version_no=base.version_no, created_by_id=principal.id,
        )
        version.parcels = [BlockVersionParcel(parcel_id=p.parcel_id, parcel_code=p.parcel_code,
                                              land_area_mu=p.land_area_mu, enterprise_id=p.enterprise_id)
                           for p in base.parcels]
        version.enterprises = [BlockVersionEnterprise(enterprise_id=e.enterprise_id, name=e.name,
                                                      credit_code=e.credit_code, classification=e.classification,
                                                      classification_reason=e.classification_reason)
                               for e in base.enterprises]
        plan.versions.append(version)  # through the plan (in the session), not a backref from a transient version
        plan.working_version_no = number
        plan.status = ReviewStatus.DRAFT
        touch(plan)
    return version


# --- rules -------------------------------------------------------------------


def draft_report(session: Session, *, code: str, name: str, unit: Unit, own_block_id: int | None, year: int | None,
                 parcels: list[Parcel], boundary, enterprises: list[BlockVersionEnterprise], four: dict[str, str | None],
                 planned_far: float | None) -> dict:
    """The plan's rules for a draft, stored or not: spatial's block report (``boundary`` None:
    derived from the parcels), the 四至 and enterprise-list rules, a warning for parcels without an
    enterprise, and the figures a reviewer reads (FAR now and planned, the classification mix)."""
    ids = [p.id for p in parcels]
    report = block_plan_report(
        session, code=code, name=name, unit=unit,
        block_geom=None if boundary is None else from_shape(boundary, srid=spatial.STORAGE_SRID),
        members=Parcel.id.in_(ids), own_block_id=own_block_id, year=year,
        enterprises=[(e.name, e.classification.value if e.classification else None) for e in enterprises],
        planned_far=planned_far,
    )
    by_id = {e.id: e for e in session.scalars(select(Enterprise).where(
        Enterprise.id.in_({p.enterprise_id for p in parcels if p.enterprise_id})))}
    extra = (check_four_boundaries_stated({side.removeprefix("four_"): four.get(side) for side in FOUR_SIDES},
                                          feature_id=code)
             + check_enterprise_list([enterprise_key(e) for e in enterprises],
                                     [enterprise_key(by_id[p.enterprise_id]) for p in parcels if p.enterprise_id],
                                     feature_id=code)
             + check_enterprise_codes_complete([e.name for e in enterprises if e.credit_code is None], feature_id=code)
             + check_parcels_have_enterprise([p.code for p in parcels if p.enterprise_id is None], feature_id=code))
    report["violations"].extend(v.to_dict() for v in extra)
    report["passed"] = report["passed"] and not any(v.severity == "error" for v in extra)
    report["figures"] = _figures(report, parcels, enterprises)
    return report


def _figures(report: dict, parcels: list[Parcel], enterprises: list[BlockVersionEnterprise]) -> dict:
    """Land by classification (as the plan lists each parcel's enterprise), FAR now and planned."""
    listed = {e.enterprise_id: e.classification for e in enterprises}
    area = {f["id"]: f["area_mu"] or 0.0 for f in report["parcels"]}
    mix: dict[str, float] = {}
    for p in parcels:
        if p.enterprise_id is None:
            key = "no_enterprise"
        else:
            cls = listed.get(p.enterprise_id) or p.classification
            key = cls.value if cls else "unclassified"
        mix[key] = mix.get(key, 0.0) + area.get(p.code, 0.0)
    planned = report["planned_far"] if report["planned_far"] is not None else report["average_far"]
    return {
        "land_area_mu": report["land_area_mu"],
        "boundary_area_mu": report["boundary_area_mu"],
        "parcel_count": len(parcels),
        "enterprise_count": len(enterprises),
        "parcels_without_enterprise": sum(p.enterprise_id is None for p in parcels),
        "far_now": None if report["existing_far"] is None else round(report["existing_far"], 2),
        "far_planned": None if planned is None else round(planned, 2),
        "far_planned_declared": report["planned_far"] is not None,
        "classification_mu": [{"classification": k, "label": MIX_LABELS[k], "area_mu": round(v, 2)}
                              for k, v in sorted(mix.items(), key=lambda kv: MIX_ORDER.index(kv[0]))],
    }


MIX_ORDER = [c.value for c in Classification] + ["unclassified", "no_enterprise"]
MIX_LABELS = {c.value: c.label for c in Classification} | {"unclassified": "未分类", "no_enterprise": "无登记企业"}


def check(session: Session, plan: BlockPlan, version: BlockVersion) -> dict:
    """The plan's rules for one stored version (see :func:`draft_report`)."""
    parcels = _version_parcels(session, version)
    if not parcels:
        raise InvalidParameter("parcels", message("plan_version_without_parcels", version=version.version_no))
    derived = version.boundary_source == BoundarySource.DERIVED
    report = draft_report(
        session, code=plan.code, name=version.name, unit=plan.unit, own_block_id=plan.block_id, year=version.year,
        parcels=parcels, boundary=None if derived else to_shape(version.geom), enterprises=list(version.enterprises),
        four={side: getattr(version, side) for side in FOUR_SIDES},
        planned_far=None if version.planned_far is None else float(version.planned_far),
    )
    report["version_no"] = version.version_no
    report["checked_at"] = dt.datetime.now(dt.UTC).isoformat()
    return report


def preview(session: Session, principal: Principal, data: DraftInput, *, code: str | None,
            unit_code: str | None) -> dict:
    """The live report of a draft that is not saved (the officer's map while parcels are picked
    or the boundary drawn): nothing is written. ``code`` names the plan being edited, if any, so
    its own approved block does not count against it."""
    plan = find_plan(session, code) if code else None
    if plan is not None:
        unit, own_block_id = plan.unit, plan.block_id
    elif principal.role == Role.UNIT_OFFICER and not unit_code:
        unit, own_block_id = session.get(Unit, principal.unit_id), None
    else:
        unit = session.scalar(select(Unit).where(Unit.code == (unit_code or "")))
        if unit is None:
            raise InvalidParameter("unit", message("unknown_unit", code=unit_code))
        own_block_id = None
    require_unit(principal, unit.id)
    parcels = _parcels_for(session, data.parcels or [], unit.id, own_block_id)
    unreasoned: list[spatial.Violation] = []
    enterprises = (_enterprise_rows(session, parcels, data.enterprises, unreasoned=unreasoned)
                   if data.enterprises is not None else _default_enterprises(session, parcels))
    boundary = None
    if data.boundary is not None:
        boundary = given_boundary(data.boundary)
        _boundary_near(boundary, parcels)
    report = draft_report(
        session, code=code or message("plan_preview_code"), name=data.name or "", unit=unit,
        own_block_id=own_block_id, year=data.year, parcels=parcels, boundary=boundary, enterprises=enterprises,
        four={side: getattr(data, side) for side in FOUR_SIDES}, planned_far=data.planned_far,
    )
    report["violations"].extend(v.to_dict() for v in unreasoned)
    report["passed"] = report["passed"] and not unreasoned
    report["enterprises"] = [_enterprise_view(session, e, parcels) for e in enterprises]
    return report


def _enterprise_view(session: Session, e: BlockVersionEnterprise, parcels: list[Parcel]) -> dict:
    register = session.get(Enterprise, e.enterprise_id)
    current = _current_classification(session, register, parcels) if register else None
    return {
        "credit_code": e.credit_code, "name": e.name,
        "classification": e.classification.value if e.classification else None,
        "classification_label": e.classification.label if e.classification else None,
        "current_classification": current.value if current else None,
        "reason": e.classification_reason,
        "parcels": [p.code for p in parcels if p.enterprise_id == e.enterprise_id],
    }


# --- review (the core's engine) ---------------------------------------------


class BlockPlanReview(review.ReviewKind):
    """Block plans on the review engine: the unit's officers (or an admin) submit, the leadership
    group's reviewers (or an admin) approve with a document number and date, or return with a reason."""

    subject_type = "block_plan"
    label = "区块方案"
    rules_failed_code = "plan_rules_failed"
    drafting_actions = frozenset({"plan_create", "draft_update", "revision_create", "submit"})

    def code(self, plan: BlockPlan) -> str:
        return plan.code

    def version(self, plan: BlockPlan, action: str) -> BlockVersion | None:
        return plan.version(plan.working_version_no)

    def authorize(self, actor: Principal, plan: BlockPlan, action: str) -> None:
        if action in self.flow.decisions:
            require_reviewer(actor)
        else:
            require_unit(actor, plan.unit_id)

    def refusal(self, plan: BlockPlan, version: BlockVersion | None, action: str):
        if action in self.flow.decisions:
            return InvalidState(message("plan_nothing_to_review", code=plan.code))
        if version is None:
            return InvalidState(message("plan_no_working_version", code=plan.code))
        return InvalidState(message("plan_version_state", version=version.version_no, state=version.status.label,
                                    action=self.action_labels[action]))

    def validate(self, plan: BlockPlan, action: str, decision: review.Decision) -> None:
        if action == review.APPROVE and not (decision.doc_no or "").strip():
            raise InvalidParameter("doc_no", message("plan_doc_no_missing"))
        if action == review.APPROVE and decision.decided_on is None:
            raise InvalidParameter("approval_date", message("plan_approval_date_missing"))
        if action == review.RETURN and not (decision.comment or "").strip():
            raise InvalidParameter("comment", message("plan_return_reason_missing"))

    def check(self, session: Session, plan: BlockPlan, version: BlockVersion, action: str) -> dict | None:
        return check(session, plan, version) if action in (review.SUBMIT, review.APPROVE) else None

    def effects(self, session: Session, plan: BlockPlan, version: BlockVersion, action: str, target: str,
                actor: Principal, decision: review.Decision, report: dict | None) -> None:
        plan.status = ReviewStatus(target)
        if target == review.APPROVED:
            _publish(session, plan, version, report or {})
            plan.current_version_no, plan.working_version_no = version.version_no, None
        touch(plan)

    def recipients(self, session: Session, plan: BlockPlan, version: BlockVersion, action: str) -> set[int]:
        """The unit's officers and whoever submitted the version."""
        recipients = set(session.scalars(select(User.id).where(
            User.role == Role.UNIT_OFFICER, User.unit_id == plan.unit_id, User.is_active.is_(True))))
        if version.submitted_by_id:
            recipients.add(version.submitted_by_id)
        return recipients

    def notice(self, plan: BlockPlan, version: BlockVersion, action: str, decision: review.Decision) -> str | None:
        if action == review.APPROVE:
            return message("plan_approved_notice", name=version.name, version=version.version_no,
                           doc_no=decision.doc_no) + (f"：{decision.comment}" if decision.comment else "")
        if action == review.RETURN:
            return message("plan_returned_notice", name=version.name, version=version.version_no,
                           reason=decision.comment)
        return None


PLAN_REVIEW = BlockPlanReview()


def _take(session: Session, principal: Principal, plan: BlockPlan, action: str, decision: review.Decision,
          allow_self_review: bool) -> BlockVersion:
    version = plan.version(plan.working_version_no)
    review.apply(session, PLAN_REVIEW, plan, action, principal, decision, allow_self_review=allow_self_review)
    session.expire(version, ["submitted_by", "reviewed_by"])  # the engine set their ids
    return version


def submit(session: Session, principal: Principal, plan: BlockPlan) -> BlockVersion:
    """提交: the plan's rules first (422 with each failed rule)."""
    return _take(session, principal, plan, review.SUBMIT, review.Decision(), False)


def approve(session: Session, principal: Principal, plan: BlockPlan, *, doc_no: str | None,
            approval_date: dt.date | None, comment: str | None, allow_self_review: bool = False) -> BlockVersion:
    """认定: rules again; then the version is frozen and published as the renewal block."""
    decision = review.Decision(comment=comment, doc_no=(doc_no or "").strip() or None, decided_on=approval_date)
    return _take(session, principal, plan, review.APPROVE, decision, allow_self_review)


def return_plan(session: Session, principal: Principal, plan: BlockPlan, comment: str | None, *,
                allow_self_review: bool = False) -> BlockVersion:
    """退回: with the reason, so the unit can change the plan and submit it again."""
    decision = review.Decision(comment=(comment or "").strip() or None)
    return _take(session, principal, plan, review.RETURN, decision, allow_self_review)


def _publish(session: Session, plan: BlockPlan, version: BlockVersion, report: dict) -> None:
    block = plan.block
    if block is None:
        block = RenewalBlock(code=plan.code, unit_id=plan.unit_id, stage=Stage.PLANNED)
        session.add(block)
    block.name = version.name
    block.geom = version.geom
    block.boundary_derived = version.boundary_source == BoundarySource.DERIVED
    for side in FOUR_SIDES:
        setattr(block, side, getattr(version, side))
    block.planned_new_floor_area_m2 = version.planned_new_floor_area_m2
    far = version.planned_far if version.planned_far is not None else report.get("average_far")
    block.planned_far = None if far is None else round(float(far), 2)
    block.designated_year = version.year
    block.review_status = ReviewStatus.APPROVED
    block.approval_doc_no, block.approval_date = version.approval_doc_no, version.approval_date
    session.flush()
    plan.block = block
    ids = [p.parcel_id for p in version.parcels]
    for parcel in session.scalars(select(Parcel).where((Parcel.block_id == block.id) | Parcel.id.in_(ids))):
        parcel.block_id = block.id if parcel.id in ids else None


def set_stage(session: Session, principal: Principal, plan: BlockPlan, stage: Stage) -> RenewalBlock:
    """启动 → 推进 → 完成, one step at a time, only for an approved block."""
    require_unit(principal, plan.unit_id)
    block = plan.block
    if block is None or plan.current_version_no is None:
        raise InvalidState(message("plan_stage_needs_approval"))
    now_i, new_i = STAGE_ORDER.index(block.stage), STAGE_ORDER.index(stage)
    if new_i != now_i + 1:
        allowed = STAGE_ORDER[now_i + 1].label if now_i + 1 < len(STAGE_ORDER) else message("plan_stage_last")
        raise InvalidState(message("plan_stage_order", stage=block.stage.label, allowed=allowed))
    with unit_of_work(session), audit_context(session, "stage", plan):
        block.stage = stage
        touch(plan)
    return block


# --- comparison --------------------------------------------------------------


def compare(plan: BlockPlan, a: BlockVersion, b: BlockVersion) -> dict:
    """Geometry difference (areas in 亩, EPSG:4549 via spatial) and list differences from ``a`` to ``b``."""
    ga, gb = to_shape(a.geom), to_shape(b.geom)
    added, removed, kept = gb.difference(ga), ga.difference(gb), ga.intersection(gb)

    def part(geom, kind: str) -> dict:
        area = spatial.area_mu_of_storage(geom) if not geom.is_empty else 0.0
        return {"type": "Feature", "geometry": None if geom.is_empty else mapping(geom),
                "properties": {"change": kind, "area_mu": round(area, 2)}}

    pa = {p.parcel_code: p for p in a.parcels}
    pb = {p.parcel_code: p for p in b.parcels}
    ea = {e.enterprise_id: e for e in a.enterprises}
    eb = {e.enterprise_id: e for e in b.enterprises}
    order = {**{k: (e.credit_code or "", e.name) for k, e in ea.items()},
             **{k: (e.credit_code or "", e.name) for k, e in eb.items()}}

    def ordered(keys) -> list:
        return sorted(keys, key=order.__getitem__)
    fields = {}
    for key in ("name", "year", *FOUR_SIDES, "planned_new_floor_area_m2", "planned_far", "renewal_mode",
                "boundary_source"):
        va, vb = getattr(a, key), getattr(b, key)
        if va != vb:
            fields[key] = {"from": _shown(va), "to": _shown(vb)}
    ga_codes, gb_codes = list(a.industry_guidance or []), list(b.industry_guidance or [])
    if ga_codes != gb_codes:
        fields["industry_guidance"] = {"from": "、".join(ga_codes) or None, "to": "、".join(gb_codes) or None}
    return {
        "plan": plan.code,
        "from_version": a.version_no,
        "to_version": b.version_no,
        "area_mu": {"from": float(a.area_mu), "to": float(b.area_mu), "change": round(float(b.area_mu - a.area_mu), 2)},
        "geometry": {"type": "FeatureCollection", "features": [
            part(added, "added"), part(removed, "removed"), part(kept, "unchanged")]},
        "parcels": {
            "added": [{"code": c, "land_area_mu": float(pb[c].land_area_mu)} for c in sorted(pb.keys() - pa.keys())],
            "removed": [{"code": c, "land_area_mu": float(pa[c].land_area_mu)} for c in sorted(pa.keys() - pb.keys())],
        },
        "enterprises": {
            "added": [{"credit_code": eb[c].credit_code, "name": eb[c].name} for c in ordered(eb.keys() - ea.keys())],
            "removed": [{"credit_code": ea[c].credit_code, "name": ea[c].name} for c in ordered(ea.keys() - eb.keys())],
            "reclassified": [
                {"credit_code": eb[c].credit_code, "name": eb[c].name,
                 "from": ea[c].classification.value if ea[c].classification else None,
                 "to": eb[c].classification.value if eb[c].classification else None}
                for c in ordered(ea.keys() & eb.keys()) if ea[c].classification != eb[c].classification
            ],
        },
        "fields": fields,
    }


def _shown(value: Any) -> str | None:
    """A field's value as the comparison shows it: enums by their Chinese label."""
    if value is None:
        return None
    return value.label if isinstance(value, LabelledEnum) else str(value)


# --- views -------------------------------------------------------------------


def version_features(session: Session, principal: Principal, plan: BlockPlan, *, version_no: int | None = None,
                     detail: bool = False) -> Page:
    """The versions ``principal`` may see (or one of them) as GeoJSON features, from the shared read path."""
    return versions_page(session, plan.code, approved_only=not sees_drafts(principal, plan), version_no=version_no,
                         detail=detail)


def plan_view(session: Session, principal: Principal, plan: BlockPlan) -> dict:
    block = plan.block
    versions = visible_versions(principal, plan)
    features = orjson.loads(version_features(session, principal, plan).features_json)
    return {
        "code": plan.code,
        "unit": plan.unit.code,
        "unit_name": plan.unit.name,
        "status": plan.status.value if sees_drafts(principal, plan) else ReviewStatus.APPROVED.value,
        "status_label": (plan.status if sees_drafts(principal, plan) else ReviewStatus.APPROVED).label,
        "stage": block.stage.value if block else None,
        "stage_label": block.stage.label if block else None,
        "current_version_no": plan.current_version_no,
        "working_version_no": plan.working_version_no if sees_drafts(principal, plan) else None,
        "name": versions[-1].name if versions else None,
        "area_mu": float(versions[-1].area_mu) if versions else None,
        "version": plan.row_version,
        "can_edit": can_edit(principal, plan.unit_id),
        "versions": [{k: v for k, v in f["properties"].items() if k != "plan"} for f in features],
    }


def report_or_virtual(session: Session, code: str, build) -> Any:
    """Run ``build(plan)`` for a plan; a block approved before the workflow is shown through a
    temporary adoption that is undone afterwards (reads never write)."""
    plan = get_plan(session, code)
    if plan is not None:
        return build(plan)
    with discarded(session):
        block = session.scalar(select(RenewalBlock).where(RenewalBlock.code == code))
        return build(adopt(session, block))
