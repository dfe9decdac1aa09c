"""Enterprises (classification, 亩均 figures and evaluation, 整治清退 list, 十剑联动 referrals),
厂中厂 tenants and inspections, 投资履约 credit records. Every write is audited (app.workflow.audit)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

import spatial

from ..auth.deps import Principal
from ..auth.errors import NotAllowed
from ..auth.roles import Role
from ..credit_code import credit_code_problem
from ..enums import Classification
from ..errors import FieldError, InvalidParameter, InvalidState, NotFound
from ..messages import message
from ..models import Enterprise, Parcel, RenewalBlock, Unit
from ..core.audit import audit_context
from ..core.uow import unit_of_work
from .enums import ClearanceStatus, RectificationStatus, ReferralStatus
from .evaluation import Threshold, grade, per_mu
from .models import (
    ClassificationDecision,
    CreditRecord,
    EnforcementReferral,
    EnterpriseGovernance,
    GradingRule,
    Tenant,
    TenantInspection,
    YearlyFigures,
)


def enterprise_by_code(session: Session, credit_code: str) -> Enterprise:
    e = session.scalar(select(Enterprise).where(Enterprise.credit_code == credit_code))
    if e is None:
        raise NotFound(message("enterprise_unknown", code=credit_code))
    return e


def enterprise_units(session: Session, enterprise: Enterprise) -> set[int]:
    return set(session.scalars(select(Parcel.unit_id).where(Parcel.enterprise_id == enterprise.id)))


def require_for_enterprise(session: Session, principal: Principal, enterprise: Enterprise, *,
                           officer: bool = True, reviewer: bool = True) -> None:
    """Admins always; reviewers when allowed; unit officers for enterprises on their unit's parcels."""
    if principal.role == Role.ADMIN or (reviewer and principal.role == Role.REVIEWER):
        return
    if officer and principal.role == Role.UNIT_OFFICER and principal.unit_id in enterprise_units(session, enterprise):
        return
    raise NotAllowed(message("enterprise_not_yours", name=enterprise.name))


def governance(session: Session, enterprise: Enterprise, *, create: bool = False) -> EnterpriseGovernance | None:
    gov = session.get(EnterpriseGovernance, enterprise.id)
    if gov is None and create:
        gov = EnterpriseGovernance(enterprise=enterprise)
        session.add(gov)
    return gov


def thresholds(session: Session) -> list[Threshold]:
    return [Threshold(r.grade, None if r.min_tax_per_mu_10k is None else float(r.min_tax_per_mu_10k),
                      None if r.min_output_per_mu_10k is None else float(r.min_output_per_mu_10k),
                      r.suggested_classification.value)
            for r in session.scalars(select(GradingRule).order_by(GradingRule.grade))]


def classify(session: Session, principal: Principal, enterprise: Enterprise, classification: Classification,
             reason: str, decided_on: dt.date) -> EnterpriseGovernance:
    if not reason.strip():
        raise InvalidParameter("reason", message("classification_reason_missing"))
    gov = governance(session, enterprise, create=True)
    with unit_of_work(session), audit_context(session, "classify", gov):
        gov.classification, gov.reason, gov.decided_on = classification, reason.strip(), decided_on
        gov.decided_by_id = principal.id
        gov.updated_at = func.now()
        if classification == Classification.CLEAR_OUT and gov.clearance_status is None:
            gov.clearance_status = ClearanceStatus.LISTED  # 清单制: classified 整治清退 = on the list
        if classification != Classification.CLEAR_OUT:
            gov.clearance_status, gov.clearance_deadline = None, None
        latest = evaluation_row(session, enterprise, decided_on.year - 1)
        session.add(ClassificationDecision(enterprise_id=enterprise.id, classification=classification,
                                           reason=reason.strip(), decided_on=decided_on, decided_by_id=principal.id,
                                           suggested_grade=latest["grade"] if latest else None))
        # the map colours parcels by classification: keep the enterprise's parcels in step
        for parcel in session.scalars(select(Parcel).where(Parcel.enterprise_id == enterprise.id)):
            parcel.classification = classification
    return gov


def set_clearance(session: Session, gov: EnterpriseGovernance, status: ClearanceStatus,
                  deadline: dt.date | None) -> EnterpriseGovernance:
    if gov.classification != Classification.CLEAR_OUT:
        raise InvalidState(message("clearance_needs_clear_out"))
    with unit_of_work(session), audit_context(session, "clearance", gov):
        gov.clearance_status, gov.clearance_deadline = status, deadline
        gov.updated_at = func.now()
    return gov


def put_figures(session: Session, *, year: int, tax: Decimal, output: Decimal, enterprise: Enterprise | None = None,
                tenant: Tenant | None = None) -> YearlyFigures:
    where = (YearlyFigures.enterprise_id == enterprise.id) if enterprise else (YearlyFigures.tenant_id == tenant.id)
    row = session.scalar(select(YearlyFigures).where(where, YearlyFigures.year == year))
    with unit_of_work(session), audit_context(session, "figures"):
        if row is None:
            row = YearlyFigures(year=year, enterprise_id=enterprise.id if enterprise else None,
                                tenant_id=tenant.id if tenant else None, tax_10k_yuan=tax, output_10k_yuan=output)
            session.add(row)
        else:
            row.tax_10k_yuan, row.output_10k_yuan = tax, output
    return row


def _figures(session: Session, year: int, *, enterprise: Enterprise | None = None,
             tenant: Tenant | None = None) -> tuple[float | None, float | None]:
    where = (YearlyFigures.enterprise_id == enterprise.id) if enterprise else (YearlyFigures.tenant_id == tenant.id)
    row = session.scalar(select(YearlyFigures).where(where, YearlyFigures.year == year))
    if row is not None:
        return float(row.tax_10k_yuan), float(row.output_10k_yuan)
    if enterprise is not None and enterprise.data_year == year:  # figures loaded with the enterprise library
        return (None if enterprise.tax_10k_yuan is None else float(enterprise.tax_10k_yuan),
                None if enterprise.output_10k_yuan is None else float(enterprise.output_10k_yuan))
    return None, None


def evaluation_row(session: Session, enterprise: Enterprise, year: int, rules: list[Threshold] | None = None,
                   land_mu: float | None = None) -> dict | None:
    rules = rules if rules is not None else thresholds(session)
    if land_mu is None:
        land_mu = float(session.scalar(select(func.coalesce(func.sum(Parcel.land_area_mu), 0))
                                       .where(Parcel.enterprise_id == enterprise.id)))
    tax, output = _figures(session, year, enterprise=enterprise)
    return _graded(rules, tax, output, land_mu)


def _graded(rules: list[Threshold], tax, output, land_mu) -> dict:
    tax_mu, out_mu = per_mu(tax, land_mu), per_mu(output, land_mu)
    g = grade(tax_mu, out_mu, rules)
    suggested = next((t.suggested_classification for t in rules if t.grade == g), None)
    return {"land_mu": round(land_mu, 2) if land_mu is not None else None, "tax_10k_yuan": tax, "output_10k_yuan": output,
            "tax_per_mu_10k": tax_mu, "output_per_mu_10k": out_mu, "grade": g, "suggested_classification": suggested}


def evaluate(session: Session, year: int, unit: Unit | None) -> dict:
    """亩均 evaluation of every enterprise on a parcel (and, as their own group, 厂中厂 tenants)."""
    rules = thresholds(session)
    q = (select(Enterprise, func.sum(Parcel.land_area_mu), func.min(Unit.name))
         .join(Parcel, Parcel.enterprise_id == Enterprise.id).join(Unit, Parcel.unit_id == Unit.id)
         .group_by(Enterprise.id).order_by(Enterprise.credit_code))
    if unit is not None:
        q = q.where(Parcel.unit_id == unit.id)
    enterprises = []
    for e, land, unit_name in session.execute(q):
        gov = session.get(EnterpriseGovernance, e.id)
        row = evaluation_row(session, e, year, rules, float(land))
        current = gov.classification.value if gov and gov.classification else None
        enterprises.append({"credit_code": e.credit_code, "name": e.name, "unit": unit_name, **row,
                            "classification": current,
                            "differs_from_suggestion": bool(current and row["suggested_classification"]
                                                            and current != row["suggested_classification"])})
    tq = select(Tenant, Parcel.code, Unit.name).join(Parcel, Tenant.parcel_id == Parcel.id).join(
        Unit, Parcel.unit_id == Unit.id).order_by(Tenant.id)
    if unit is not None:
        tq = tq.where(Parcel.unit_id == unit.id)
    tenants = []
    for t, parcel_code, unit_name in session.execute(tq):
        tax, output = _figures(session, year, tenant=t)
        # a tenant's land is its leased area expressed in 亩 (1 亩 = 10000/15 m², spatial.M2_PER_MU)
        row = _graded(rules, tax, output, float(t.leased_area_m2) / spatial.M2_PER_MU)
        tenants.append({"id": t.id, "lessee": t.lessee, "credit_code": t.credit_code, "parcel": parcel_code,
                        "unit": unit_name, **row})
    grades = {g: sum(1 for r in enterprises if r["grade"] == g) for g in "ABCD"}
    return {"year": year, "thresholds": [t.__dict__ for t in rules], "grades": grades,
            "enterprises": enterprises, "tenants": tenants}


def set_threshold(session: Session, rule: GradingRule, *, min_tax: Decimal | None, min_output: Decimal | None,
                  suggested: Classification) -> GradingRule:
    if rule.grade != "D" and (min_tax is None or min_output is None):
        raise InvalidParameter("min_tax_per_mu_10k", message("grading_both_minimums", grade=rule.grade))
    with unit_of_work(session):
        with audit_context(session, "grading"):
            rule.min_tax_per_mu_10k = None if rule.grade == "D" else min_tax
            rule.min_output_per_mu_10k = None if rule.grade == "D" else min_output
            rule.suggested_classification = suggested
        ordered = [t for t in thresholds(session) if t.grade != "D"]
        for hi, lo in zip(ordered, ordered[1:]):
            if hi.min_tax_per_mu_10k < lo.min_tax_per_mu_10k or hi.min_output_per_mu_10k < lo.min_output_per_mu_10k:
                raise InvalidParameter("grade", message("grading_order", high=hi.grade, low=lo.grade))
    return rule


def refer(session: Session, principal: Principal, enterprise: Enterprise, reason: str,
          referred_on: dt.date, *, any_classification: bool = False) -> EnforcementReferral:
    """十剑联动, once at a time: an uncooperative enterprise classified 整治清退 (三.(四).3), or — with
    ``any_classification``, a 规范管理 flag on a transfer or lease (app.market) — any registered enterprise:
    the same joint enforcement manages 股权转让、出租出售 and 项目准入 in the blocks."""
    gov = governance(session, enterprise, create=any_classification)
    if not any_classification and (gov is None or gov.classification != Classification.CLEAR_OUT):
        raise InvalidState(message("referral_needs_clear_out", name=enterprise.name))
    if session.scalar(select(EnforcementReferral.id).where(EnforcementReferral.enterprise_id == enterprise.id,
                                                           EnforcementReferral.status == ReferralStatus.OPEN)):
        raise InvalidState(message("referral_exists", name=enterprise.name))
    if not reason.strip():
        raise InvalidParameter("reason", message("referral_reason_missing"))
    with unit_of_work(session), audit_context(session, "refer", gov):
        ref = EnforcementReferral(enterprise=enterprise, reason=reason.strip(), referred_on=referred_on,
                                  referred_by_id=principal.id, status=ReferralStatus.OPEN)
        session.add(ref)
        gov.updated_at = func.now()
    return ref


def close_referral(session: Session, ref: EnforcementReferral, outcome: str, closed_on: dt.date) -> EnforcementReferral:
    if ref.status == ReferralStatus.CLOSED:
        raise InvalidState(message("referral_closed"))
    with unit_of_work(session), audit_context(session, "referral_close"):
        ref.status, ref.outcome, ref.closed_on = ReferralStatus.CLOSED, outcome.strip(), closed_on
    return ref


# --- 厂中厂 --------------------------------------------------------------------


def parcel_by_code(session: Session, code: str) -> Parcel:
    p = session.scalar(select(Parcel).where(Parcel.code == code))
    if p is None:
        raise NotFound(message("parcel_not_found", code=code))
    return p


# Who may read which 厂中厂 tenants and 投资履约 records (docs/workflow.md, "Who may read what"): these roles
# every unit's; a unit officer only their own unit's; anyone else none (403).
TENANT_READERS = frozenset({Role.PLANNER, Role.GIS_STAFF, Role.REVIEWER, Role.ADMIN})  # GIS staff enter figures
CREDIT_READERS = frozenset({Role.PLANNER, Role.REVIEWER, Role.ADMIN})


def readable_unit(session: Session, principal: Principal, readers: frozenset[Role], what: str,
                  asked_unit: str | None = None) -> int | None:
    """The unit whose records this caller may list (None: every unit's), or 403 naming what is refused.

    A unit officer asking for another unit's records (``asked_unit``, a unit code) is refused, not
    answered with an empty list, so the page can say why.
    """
    if principal.role in readers:
        return None
    if principal.role == Role.UNIT_OFFICER and principal.unit_id is not None:
        if asked_unit:
            unit = session.scalar(select(Unit).where(Unit.code == asked_unit))
            if unit is not None and unit.id != principal.unit_id:
                raise NotAllowed(message("records_other_unit", what=what, unit=unit.name))
        return principal.unit_id
    raise NotAllowed(message("records_not_readable", what=what, role=principal.role.label))


def tenants_for(session: Session, own_unit: int | None, *, parcel: Parcel | None = None, unit: str | None = None,
                block: str | None = None) -> tuple[list[Tenant], dict[int, list[YearlyFigures]]]:
    """The 厂中厂 tenants one caller may list (``own_unit`` from :func:`readable_unit`), by unit code,
    parcel and renewal block code (its parcels now), with each tenant's yearly figures (newest first)."""
    q = (select(Tenant).join(Parcel, Parcel.id == Tenant.parcel_id).join(Unit, Unit.id == Parcel.unit_id)
         .options(selectinload(Tenant.parcel).selectinload(Parcel.unit),
                  selectinload(Tenant.parcel).selectinload(Parcel.block), selectinload(Tenant.inspections))
         .order_by(Unit.code, Parcel.code, Tenant.id))
    if parcel is not None:
        q = q.where(Tenant.parcel_id == parcel.id)
    if unit:
        q = q.where(Unit.code == unit)
    if block:
        q = q.where(Parcel.block_id.in_(select(RenewalBlock.id).where(RenewalBlock.code == block)))
    if own_unit is not None:
        q = q.where(Parcel.unit_id == own_unit)
    tenants = list(session.scalars(q))
    return tenants, figures_of_tenants(session, [t.id for t in tenants])


def figures_of_tenants(session: Session, ids: list[int]) -> dict[int, list[YearlyFigures]]:
    """Each tenant's yearly figures, newest year first (an empty list for a tenant without any)."""
    figures: dict[int, list[YearlyFigures]] = {i: [] for i in ids}
    if ids:
        for row in session.scalars(select(YearlyFigures).where(YearlyFigures.tenant_id.in_(ids))
                                   .order_by(YearlyFigures.year.desc())):
            figures[row.tenant_id].append(row)
    return figures


def may_write_unit(principal: Principal, unit_id: int) -> bool:
    """The unit's officer, or an admin: who registers and corrects that unit's 厂中厂 and inspections."""
    return principal.role == Role.ADMIN or (principal.role == Role.UNIT_OFFICER and principal.unit_id == unit_id)


def require_unit_of(principal: Principal, unit_id: int, what: str) -> None:
    if may_write_unit(principal, unit_id):
        return
    raise NotAllowed(message("unit_officer_only", what=what))


def _check_credit(code: str | None, field: str = "credit_code") -> None:
    if code:
        problem = credit_code_problem(code)
        if problem:
            raise InvalidParameter(field, problem)


TENANT_REQUIRED = ("lessee", "leased_area_m2", "lease_start")
INSPECTION_REQUIRED = ("inspected_on", "inspector", "findings", "rectification_status")


def _refuse_emptied(values: dict, required: tuple[str, ...], label_prefix: str) -> None:
    """A required column sent as null is a 400 naming it (message ``{label_prefix}_{name}``)."""
    for name in required:
        if name in values and values[name] is None:
            raise InvalidParameter(name, message("tenant_field_required", field=message(f"{label_prefix}_{name}")))


def save_tenant(session: Session, tenant: Tenant, values: dict) -> Tenant:
    _refuse_emptied(values, TENANT_REQUIRED, "tenant_field")
    _check_credit(values.get("credit_code"))
    start = values.get("lease_start", tenant.lease_start)
    end = values.get("lease_end", tenant.lease_end)
    if start and end and end < start:
        raise InvalidParameter("lease_end", message("lease_end_before_start"))
    return _save(session, tenant, values, "tenant")


def save_inspection(session: Session, inspection: TenantInspection, values: dict) -> TenantInspection:
    _refuse_emptied(values, INSPECTION_REQUIRED, "inspection_field")
    status = values.get("rectification_status", inspection.rectification_status)
    if status == RectificationStatus.DONE and not values.get("rectified_on", inspection.rectified_on):
        raise InvalidParameter("rectified_on", message("rectified_on_missing"))
    return _save(session, inspection, values, "inspection")


def _save(session: Session, row, values: dict, action: str):
    """Apply checked values to a row and commit, audited as ``action``."""
    with unit_of_work(session), audit_context(session, action):
        for k, v in values.items():
            setattr(row, k, v)
        session.add(row)
    return row


# --- 投资履约 ------------------------------------------------------------------


def credit_status(record: CreditRecord, ratio: float) -> dict:
    """Which promises the project missed: actual < ratio × promised (unknown actuals are not judged)."""
    missed = []
    for key, label in (("investment", "投资"), ("output", "产出"), ("tax", "税收")):
        promised = getattr(record, f"promised_{key}_10k")
        actual = getattr(record, f"actual_{key}_10k")
        if actual is not None and promised and float(actual) < ratio * float(promised):
            missed.append({"item": key, "label": label, "promised_10k": float(promised), "actual_10k": float(actual),
                           "rate": round(float(actual) / float(promised), 3)})
    return {"is_defaulter": bool(missed), "missed": missed}


def save_credit(session: Session, record: CreditRecord, values: dict) -> CreditRecord:
    errors = [FieldError(k, message("not_negative")) for k, v in values.items() if isinstance(v, Decimal) and v < 0]
    if errors:
        raise InvalidParameter(errors[0].field, errors[0].message)
    with unit_of_work(session), audit_context(session, "credit"):
        for k, v in values.items():
            setattr(record, k, v)
        session.add(record)
    return record
