"""The subsidy ledger: the fund, applications (申请) checked against the approved boundary on their
date, reviews (审核) and payments (拨付), and the totals that must add up.

* the fund's total is an administrator's setting (never below what is already committed);
* an application names an enterprise (credit code) or a parcel (code) and the day applied for; it is
  refused (422) when the subject lay outside every approved boundary that day
  (:mod:`app.subsidies.boundary`), and recorded with the block, plan version and 认定文号 found then —
  a later revision that drops the subject never changes it;
* a reviewer or an administrator approves (the approved amount is committed from the fund: never more
  than applied for, nor than the fund has left) or rejects — never the person who applied;
* administrators record payments, never more in all than approved;
* totals: committed = Σ approved amounts, paid = Σ payments, remaining = total − committed, and the
  same per block and per unit.

Unit officers apply for their own unit's enterprises and parcels and read their own unit's entries.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session, object_session

from ..auth.deps import Principal, forbid
from ..admission.models import ProjectAdmission
from ..auth.models import User
from ..auth.roles import Role
from ..core.audit import audit_context
from ..core.notifications import notify
from ..core.uow import unit_of_work
from ..enums import ReviewStatus
from ..errors import FieldError, InvalidFeatures, InvalidState, NotFound
from ..messages import message
from ..models import Enterprise, Parcel, RenewalBlock, Unit
from ..core.clock import today
from . import boundary
from .models import SubsidyEntry, SubsidyFund, SubsidyPayment

DEFAULT_FUND_NAME = "有机更新专项扶持资金"
DEFAULT_FUND_TOTAL = Decimal("20000")  # the plan: at least 2 亿元 (万元)
ZERO = Decimal("0.00")
STATUS_LABELS = {"applied": "待审核", "approved": "已审核", "rejected": "未通过"}
READERS_OF_ALL = {Role.PLANNER, Role.GIS_STAFF, Role.REVIEWER, Role.ADMIN}


def money(value: Decimal | int | None) -> str:
    return f"{Decimal(value or 0):.2f}"


def _refuse(field: str, text_: str) -> InvalidFeatures:
    return InvalidFeatures(text_, [FieldError(field, text_)])


# --- the fund ------------------------------------------------------------------------------------------

def fund_or_none(session: Session) -> SubsidyFund | None:
    return session.scalar(select(SubsidyFund).order_by(SubsidyFund.id).limit(1))


def fund(session: Session) -> SubsidyFund:
    row = fund_or_none(session)
    if row is None:
        raise InvalidState(message("subsidy_fund_missing"))
    return row


def committed(session: Session, fund_id: int) -> Decimal:
    return session.scalar(select(func.coalesce(func.sum(SubsidyEntry.approved_10k), 0)).where(
        SubsidyEntry.fund_id == fund_id, SubsidyEntry.status == "approved")) or Decimal(0)


def set_fund(session: Session, principal: Principal, row: SubsidyFund | None, *, name: str, total_10k: Decimal,
             note: str | None) -> SubsidyFund:
    """Create or change the fund (administrators; the route checked If-Match, which locks the row)."""
    name = name.strip()
    if not name:
        raise _refuse("name", message("subsidy_fund_name_missing"))
    if row is not None:
        already = committed(session, row.id)
        if total_10k < already:
            raise _refuse("total_10k", message("subsidy_fund_below_committed", total=money(total_10k),
                                               committed=money(already)))
    with unit_of_work(session), audit_context(session, "subsidy_fund", row):
        if row is None:
            row = SubsidyFund(name=name, total_10k=total_10k, note=note, updated_by=principal.username)
            session.add(row)
        else:
            row.name, row.total_10k, row.note, row.updated_by = name, total_10k, note, principal.username
            row.updated_at = func.now()
    session.refresh(row)
    return row


# --- totals --------------------------------------------------------------------------------------------

_PER_BLOCK = text("""
SELECT b.code AS block, b.name AS block_name, u.code AS unit, u.name AS unit_name, count(*) AS entries,
       coalesce(sum(e.amount_applied_10k) FILTER (WHERE e.status = 'applied'), 0) AS pending,
       coalesce(sum(e.approved_10k) FILTER (WHERE e.status = 'approved'), 0) AS committed,
       coalesce(sum(e.paid_10k), 0) AS paid
FROM subsidy_entries e JOIN renewal_blocks b ON b.id = e.block_id JOIN units u ON u.id = e.unit_id
WHERE e.fund_id = :fund
GROUP BY b.code, b.name, u.code, u.name
ORDER BY u.code, b.code
""")


def _sums(row) -> dict:
    return {"entries": int(row["entries"]), "pending_10k": money(row["pending"]),
            "committed_10k": money(row["committed"]), "paid_10k": money(row["paid"]),
            "unpaid_10k": money(Decimal(row["committed"]) - Decimal(row["paid"]))}


def totals(session: Session, row: SubsidyFund | None = None) -> dict:
    """The fund's total, committed, paid, unpaid and remaining, and the same sums per block and per unit."""
    row = row if row is not None else fund_or_none(session)
    if row is None:
        return {"stored": False, "fund": None, "name": DEFAULT_FUND_NAME, "total_10k": money(DEFAULT_FUND_TOTAL),
                "committed_10k": money(0), "paid_10k": money(0), "unpaid_10k": money(0), "pending_10k": money(0),
                "remaining_10k": money(DEFAULT_FUND_TOTAL), "entries": 0, "blocks": [], "units": [], "version": 0}
    blocks = session.execute(_PER_BLOCK, {"fund": row.id}).mappings().all()
    units: dict[str, dict] = defaultdict(lambda: {"entries": 0, "pending": Decimal(0), "committed": Decimal(0),
                                                  "paid": Decimal(0)})
    names = {}
    for b in blocks:
        u = units[b["unit"]]
        names[b["unit"]] = b["unit_name"]
        for key in ("entries", "pending", "committed", "paid"):
            u[key] += b[key]
    total_committed = sum((Decimal(b["committed"]) for b in blocks), Decimal(0))
    total_paid = sum((Decimal(b["paid"]) for b in blocks), Decimal(0))
    return {
        "stored": True, "fund": row.id, "name": row.name, "note": row.note, "total_10k": money(row.total_10k),
        "committed_10k": money(total_committed), "paid_10k": money(total_paid),
        "unpaid_10k": money(total_committed - total_paid),
        "pending_10k": money(sum((Decimal(b["pending"]) for b in blocks), Decimal(0))),
        "remaining_10k": money(row.total_10k - total_committed),
        "entries": sum(int(b["entries"]) for b in blocks),
        "blocks": [{"block": b["block"], "block_name": b["block_name"], "unit": b["unit"],
                    "unit_name": b["unit_name"], **_sums(b)} for b in blocks],
        "units": [{"unit": code, "unit_name": names[code], **_sums(u)} for code, u in sorted(units.items())],
        "updated_by": row.updated_by, "version": row.row_version,
    }


def block_summary(session: Session, code: str) -> dict:
    """A block's entries, committed and paid (the map's block panel)."""
    block = session.scalar(select(RenewalBlock).where(RenewalBlock.code == code))
    if block is None:
        raise NotFound(message("block_not_found", code=code))
    row = fund_or_none(session)
    sums = next((b for b in totals(session, row)["blocks"] if b["block"] == code), None) if row else None
    empty = {"entries": 0, "pending_10k": money(0), "committed_10k": money(0), "paid_10k": money(0),
             "unpaid_10k": money(0)}
    return {"block": block.code, "block_name": block.name, **(empty if sums is None else
                                                              {k: sums[k] for k in empty})}


# --- reading entries -----------------------------------------------------------------------------------

def may_read_all(principal: Principal) -> bool:
    return principal.role in READERS_OF_ALL


def entry(session: Session, principal: Principal, entry_id: int) -> SubsidyEntry:
    row = session.get(SubsidyEntry, entry_id) if 0 < entry_id < 2**31 else None
    if row is None:
        raise NotFound(message("subsidy_not_found", id=entry_id))
    if not may_read_all(principal) and row.unit_id != principal.unit_id:
        raise forbid(message("subsidy_other_unit_read", unit=row.unit.name))
    return row


def entries(session: Session, principal: Principal, *, block: str | None = None, unit: str | None = None,
            status: str | None = None, q: str | None = None, limit: int = 200, offset: int = 0
            ) -> tuple[list[SubsidyEntry], int]:
    stmt = select(SubsidyEntry).join(Unit, Unit.id == SubsidyEntry.unit_id).join(
        RenewalBlock, RenewalBlock.id == SubsidyEntry.block_id).outerjoin(
        Enterprise, Enterprise.id == SubsidyEntry.enterprise_id).outerjoin(Parcel, Parcel.id == SubsidyEntry.parcel_id)
    if not may_read_all(principal):
        stmt = stmt.where(SubsidyEntry.unit_id == principal.unit_id)
    if block:
        stmt = stmt.where(RenewalBlock.code == block)
    if unit:
        stmt = stmt.where(Unit.code == unit)
    if status:
        stmt = stmt.where(SubsidyEntry.status == status)
    if q and q.strip():
        like = f"%{q.strip()}%"
        stmt = stmt.where(Enterprise.name.ilike(like) | Enterprise.credit_code.ilike(like) | Parcel.code.ilike(like)
                          | SubsidyEntry.project_name.ilike(like))
    count = session.scalar(select(func.count()).select_from(stmt.subquery()))
    rows = session.scalars(stmt.order_by(SubsidyEntry.applied_on.desc(), SubsidyEntry.id.desc())
                           .limit(limit).offset(offset)).all()
    return list(rows), int(count or 0)


def people(session: Session, rows: list[SubsidyEntry]) -> dict[str, str]:
    """The display names of everyone who applied, reviewed or paid in ``rows`` (username → name)."""
    names = {n for e in rows for n in (e.applied_by, e.reviewed_by, *(p.recorded_by for p in e.payments)) if n}
    if not names:
        return {}
    return dict(session.execute(select(User.username, User.display_name).where(User.username.in_(names))).all())


def view(e: SubsidyEntry, principal: Principal | None = None, names: dict[str, str] | None = None) -> dict:
    names = names if names is not None else people(object_session(e), [e])

    def person(username: str | None) -> str | None:
        return None if username is None else names.get(username) or username
    if e.enterprise is not None:
        subject = {"kind": "enterprise", "code": e.enterprise.credit_code, "name": e.enterprise.name}
    else:
        subject = {"kind": "parcel", "code": e.parcel.code, "name": e.parcel.code}
    approved = e.approved_10k
    can = {"approve": False, "reject": False, "pay": False}
    if principal is not None:
        deciders = principal.role in (Role.REVIEWER, Role.ADMIN) and principal.id != e.applied_by_id
        can = {"approve": e.status == "applied" and deciders, "reject": e.status == "applied" and deciders,
               "pay": e.status == "approved" and principal.role == Role.ADMIN and e.paid_10k < (approved or 0)}
    return {
        "id": e.id, "status": e.status, "status_label": STATUS_LABELS[e.status], "subject": subject,
        "project_name": e.project_name, "admission_id": e.admission_id, "block": e.block.code, "block_name": e.block.name, "unit": e.unit.code,
        "unit_name": e.unit.name, "applied_on": e.applied_on.isoformat(), "amount_applied_10k":
        money(e.amount_applied_10k), "basis": e.basis, "plan_version_no": e.plan_version_no,
        "approval_doc_no": e.approval_doc_no, "approved_10k": None if approved is None else money(approved),
        "paid_10k": money(e.paid_10k), "unpaid_10k": money((approved or 0) - e.paid_10k),
        "review_comment": e.review_comment, "reviewed_by": person(e.reviewed_by),
        "reviewed_at": None if e.reviewed_at is None else e.reviewed_at.isoformat(), "applied_by": person(e.applied_by),
        "payments": [{"id": p.id, "paid_on": p.paid_on.isoformat(), "amount_10k": money(p.amount_10k),
                      "note": p.note, "recorded_by": person(p.recorded_by)} for p in e.payments],
        "version": e.row_version, "can": can,
    }


# --- writing -------------------------------------------------------------------------------------------

def _admission(session: Session, who: boundary.Subject, admission_id: int | None) -> ProjectAdmission | None:
    """The admitted project (项目准入) an application is for: approved, and of the same enterprise or parcel."""
    if admission_id is None:
        return None
    row = session.get(ProjectAdmission, admission_id) if 0 < admission_id < 2**31 else None
    if row is None:
        raise _refuse("admission_id", message("subsidy_admission_unknown", id=admission_id))
    if row.status != ReviewStatus.APPROVED:
        raise _refuse("admission_id", message("subsidy_admission_not_approved", id=admission_id, name=row.project_name))
    credit = row.enterprise.credit_code if row.enterprise is not None else row.credit_code
    ours = credit == who.code if who.kind == "enterprise" else who.code in (row.parcel_codes or [])
    if not ours:
        raise _refuse("admission_id", message("subsidy_admission_other", id=admission_id, name=row.project_name,
                                              subject=who.label))
    return row


def apply(session: Session, principal: Principal, *, enterprise: str | None, parcel: str | None,
          project_name: str | None, applied_on: dt.date, amount_10k: Decimal, basis: str,
          admission_id: int | None = None) -> SubsidyEntry:
    """申请: refused (422) when the enterprise or parcel lay outside every approved boundary on ``applied_on``."""
    who = boundary.subject(session, parcel=parcel, enterprise=enterprise)
    field = who.kind
    admission = _admission(session, who, admission_id)
    if applied_on > today():
        raise _refuse("applied_on", message("subsidy_applied_future", on=applied_on.isoformat()))
    basis = (basis or "").strip()
    if not basis:
        raise _refuse("basis", message("subsidy_basis_missing"))
    found = boundary.membership(session, on=applied_on, who=who)
    if found is None:
        raise _refuse(field, message("subsidy_outside", subject=who.label, on=applied_on.isoformat()))
    block = session.scalar(select(RenewalBlock).where(RenewalBlock.code == found["block"]))
    if principal.role == Role.UNIT_OFFICER and principal.unit_id != block.unit_id:
        raise forbid(message("subsidy_other_unit", subject=who.label, unit=block.unit.name))
    the_fund = fund(session)
    with unit_of_work(session), audit_context(session, "subsidy_apply"):
        row = SubsidyEntry(
            fund_id=the_fund.id, block_id=block.id, unit_id=block.unit_id,
            enterprise_id=who.id if who.kind == "enterprise" else None,
            parcel_id=who.id if who.kind == "parcel" else None,
            admission_id=None if admission is None else admission.id,
            project_name=(project_name or "").strip() or (admission.project_name if admission else None),
            applied_on=applied_on, amount_applied_10k=amount_10k,
            basis=basis, plan_version_no=found["version_no"], approval_doc_no=found["doc_no"], status="applied",
            applied_by_id=principal.id, applied_by=principal.username)
        session.add(row)
    return row


def _tell_applicant(session: Session, e: SubsidyEntry, text_: str) -> None:
    if e.applied_by_id is not None:
        notify(session, [e.applied_by_id], "subsidy", text_, subject_type="subsidy", subject_code=str(e.id))


def _decider(principal: Principal, e: SubsidyEntry) -> None:
    if e.status != "applied":
        raise InvalidState(message("subsidy_not_pending", status=STATUS_LABELS[e.status]))
    if principal.id == e.applied_by_id:
        raise forbid(message("subsidy_self_review"))


def approve(session: Session, principal: Principal, e: SubsidyEntry, *, approved_10k: Decimal,
            comment: str | None) -> SubsidyEntry:
    """审核通过: the approved amount is committed from the fund (never more than applied for or than is left)."""
    _decider(principal, e)
    if approved_10k > e.amount_applied_10k:
        raise _refuse("approved_10k", message("subsidy_approved_over_applied", approved=money(approved_10k),
                                              applied=money(e.amount_applied_10k)))
    with unit_of_work(session), audit_context(session, "subsidy_approve", e):
        the_fund = session.get(SubsidyFund, e.fund_id)
        session.refresh(the_fund, with_for_update=True)  # one commitment at a time against the total
        left = the_fund.total_10k - committed(session, the_fund.id)
        if approved_10k > left:
            raise _refuse("approved_10k", message("subsidy_over_fund", approved=money(approved_10k),
                                                  remaining=money(left)))
        e.status, e.approved_10k = "approved", approved_10k
        e.review_comment = (comment or "").strip() or None
        e.reviewed_by, e.reviewed_at = principal.username, func.now()
        _tell_applicant(session, e, message("subsidy_notice_approved", id=e.id, amount=money(approved_10k)))
    session.refresh(e)
    return e


def reject(session: Session, principal: Principal, e: SubsidyEntry, *, comment: str) -> SubsidyEntry:
    _decider(principal, e)
    comment = (comment or "").strip()
    if not comment:
        raise _refuse("comment", message("subsidy_reject_reason"))
    with unit_of_work(session), audit_context(session, "subsidy_reject", e):
        e.status, e.review_comment, e.reviewed_by, e.reviewed_at = "rejected", comment, principal.username, func.now()
        _tell_applicant(session, e, message("subsidy_notice_rejected", id=e.id, comment=comment))
    session.refresh(e)
    return e


def pay(session: Session, principal: Principal, e: SubsidyEntry, *, paid_on: dt.date, amount_10k: Decimal,
        note: str | None) -> SubsidyEntry:
    """拨付: one payment of an approved entry; never more in all than approved."""
    if e.status != "approved":
        raise InvalidState(message("subsidy_pay_not_approved", status=STATUS_LABELS[e.status]))
    if paid_on < e.applied_on:
        raise _refuse("paid_on", message("subsidy_paid_before_applied", paid_on=paid_on.isoformat(),
                                         applied_on=e.applied_on.isoformat()))
    if paid_on > today():
        raise _refuse("paid_on", message("subsidy_paid_future", paid_on=paid_on.isoformat()))
    if e.paid_10k + amount_10k > e.approved_10k:
        raise _refuse("amount_10k", message("subsidy_pay_over", amount=money(amount_10k), paid=money(e.paid_10k),
                                            approved=money(e.approved_10k),
                                            left=money(e.approved_10k - e.paid_10k)))
    with unit_of_work(session), audit_context(session, "subsidy_pay", e):
        e.payments.append(SubsidyPayment(paid_on=paid_on, amount_10k=amount_10k, note=(note or "").strip() or None,
                                         recorded_by=principal.username))
        e.paid_10k = e.paid_10k + amount_10k
    session.refresh(e)
    return e
