"""转让与租赁: entering, checking and reading the register; its flags (as of each record's date); the
referral of a flag to 十剑联动 and the registration of a lease as a 厂中厂 tenant. Every write is audited.

Who may do what (docs/market.md, docs/workflow.md "Who may read what"):

* enter, change and delete records, register a lease as a tenant: the unit officer of the parcels' unit,
  and administrators;
* refer a flag to 十剑联动: the same, and reviewers (as ``POST /api/enterprises/{code}/referrals``);
* read: planners, reviewers and administrators every unit's records; a unit officer their own unit's;
  GIS staff none (403).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from evaluation import market as rules

from ..appraisal.models import EvaluationRun
from ..auth.deps import Principal
from ..auth.errors import NotAllowed
from ..auth.roles import Role
from ..core.audit import audit_context
from ..core.uow import unit_of_work
from ..credit_code import credit_code_problem
from ..errors import FieldError, InvalidFeatures, InvalidParameter, InvalidState, NotFound
from ..industry import code_problem, matches_guidance, normalise_code
from ..messages import message
from ..models import Enterprise, Parcel, RenewalBlock, Unit
from ..progress.service import AS_OF_CTES, as_of_params
from ..workflow import governance
from ..workflow.enums import ReferralStatus
from ..workflow.models import BlockVersion, ClassificationDecision, EnforcementReferral, EnterpriseGovernance, Tenant
from .enums import AreaBasis, FlagKind, MarketKind
from .models import MarketFlag, MarketRecord, MarketRecordParcel

TIMEZONE = ZoneInfo("Asia/Shanghai")
READERS = frozenset({Role.PLANNER, Role.REVIEWER, Role.ADMIN})
TRANSFERS = (MarketKind.EQUITY_TRANSFER, MarketKind.LAND_TRANSFER, MarketKind.FACTORY_TRANSFER)
MAX_PARCELS = 50
REQUIRED = ("kind", "parcels", "signed_on", "from_name", "to_name")
LIMITS = {"area_m2": Decimal("1e12"), "price_10k_yuan": Decimal("1e12"), "rent_yuan_per_m2_year": Decimal("1e8")}
FIELDS = ("kind", "parcels", "signed_on", "lease_start", "lease_end", "from_name", "from_credit_code", "to_name",
          "to_credit_code", "area_m2", "area_basis", "price_10k_yuan", "rent_yuan_per_m2_year", "industry_code", "note")


def today() -> dt.date:
    return dt.datetime.now(TIMEZONE).date()


# --- checking a record -----------------------------------------------------------------------------

@dataclass
class Draft:
    """A record's values as entered (the API body or one sheet row), before checking."""

    kind: MarketKind
    parcels: list[str]
    signed_on: dt.date
    from_name: str
    to_name: str
    lease_start: dt.date | None = None
    lease_end: dt.date | None = None
    from_credit_code: str | None = None
    to_credit_code: str | None = None
    area_m2: Decimal | None = None
    area_basis: AreaBasis | None = None
    price_10k_yuan: Decimal | None = None
    rent_yuan_per_m2_year: Decimal | None = None
    industry_code: str | None = None
    note: str | None = None


@dataclass
class Placed:
    """A parcel of a record with the block (and block version) in force on the record's date."""

    parcel: Parcel
    block_id: int
    version_id: int | None


@dataclass
class Checked:
    draft: Draft
    errors: list[FieldError] = field(default_factory=list)
    unit: Unit | None = None
    placed: list[Placed] = field(default_factory=list)
    from_enterprise: Enterprise | None = None
    to_enterprise: Enterprise | None = None
    other_unit: bool = False  # the parcels are another unit's (a 403 on the page, a row problem in a sheet)


def blocks_on(session: Session, parcel_ids: list[int], on: dt.date) -> dict[int, tuple[int, int | None]]:
    """parcel id → (block id, block version id) of the renewal block whose version in force on ``on`` lists it
    (the as-of membership of the 一表, app.progress.service.AS_OF_CTES); parcels in no block are absent."""
    if not parcel_ids:
        return {}
    rows = session.execute(text(
        "WITH " + AS_OF_CTES + """
        SELECT m.parcel_id, m.block_id, f.version_id FROM membership m
        JOIN blocks_in_force f ON f.block_id = m.block_id
        WHERE m.parcel_id = ANY(:ids)"""), {**as_of_params(session, on), "ids": parcel_ids}).all()
    return {r.parcel_id: (r.block_id, r.version_id) for r in rows}


def _clean(value: str | None) -> str | None:
    value = (value or "").strip()
    return value or None


def check(session: Session, principal: Principal, draft: Draft) -> Checked:
    """Every problem of a record, each naming its field (Chinese); the parcels placed in their blocks."""
    c = Checked(draft)
    err = c.errors.append
    d = draft
    d.from_name, d.to_name = (d.from_name or "").strip(), (d.to_name or "").strip()
    d.from_credit_code, d.to_credit_code = _clean(d.from_credit_code), _clean(d.to_credit_code)
    d.note = _clean(d.note)
    for side in ("from", "to"):
        name = getattr(d, f"{side}_name")
        if not name:
            err(FieldError(f"{side}_name", message("market_party_missing", party=party_label(d.kind, side))))
        elif len(name) > 128:
            err(FieldError(f"{side}_name", message("market_name_too_long", party=party_label(d.kind, side))))
        code = getattr(d, f"{side}_credit_code")
        if code:
            code = code.upper()
            setattr(d, f"{side}_credit_code", code)
            problem = credit_code_problem(code)
            if problem:
                err(FieldError(f"{side}_credit_code", message("market_credit_code_bad",
                                                              party=party_label(d.kind, side), problem=problem)))
    if d.from_credit_code and d.from_credit_code == d.to_credit_code:
        err(FieldError("to_credit_code", message("market_same_party")))
    if d.signed_on > today():
        err(FieldError("signed_on", message("market_signed_in_future")))
    if d.kind == MarketKind.LEASE:
        if d.lease_start and d.lease_end and d.lease_end < d.lease_start:
            err(FieldError("lease_end", message("lease_end_before_start")))
        if d.price_10k_yuan is not None:
            err(FieldError("price_10k_yuan", message("market_price_for_transfers")))
    else:
        for name in ("lease_start", "lease_end", "rent_yuan_per_m2_year"):
            if getattr(d, name) is not None:
                err(FieldError(name, message("market_lease_only", kind=d.kind.label)))
    for name in ("area_m2", "price_10k_yuan", "rent_yuan_per_m2_year"):
        value = getattr(d, name)
        if value is not None and (value < 0 or (name == "area_m2" and value == 0)):
            err(FieldError(name, message("market_not_positive" if name == "area_m2" else "not_negative")))
        elif value is not None and value >= LIMITS[name]:
            err(FieldError(name, message("market_too_large", max=f"{LIMITS[name]:,.0f}")))
    if d.industry_code:
        d.industry_code = normalise_code(d.industry_code)
        problem = code_problem(d.industry_code)
        if problem:
            err(FieldError("industry_code", message(problem[0], **problem[1])))
    _place(session, principal, c)
    for side in ("from", "to"):
        code = getattr(d, f"{side}_credit_code")
        if code:
            setattr(c, f"{side}_enterprise",
                    session.scalar(select(Enterprise).where(Enterprise.credit_code == code)))
    return c


def _place(session: Session, principal: Principal, c: Checked) -> None:
    codes = list(dict.fromkeys(p.strip() for p in c.draft.parcels if p and p.strip()))
    c.draft.parcels = codes
    if not codes:
        c.errors.append(FieldError("parcels", message("market_parcels_missing")))
        return
    if len(codes) > MAX_PARCELS:
        c.errors.append(FieldError("parcels", message("market_parcels_too_many", max=MAX_PARCELS)))
        return
    found = {p.code: p for p in session.scalars(select(Parcel).where(Parcel.code.in_(codes)))}
    unknown = [code for code in codes if code not in found]
    if unknown:
        c.errors.append(FieldError("parcels", message("market_parcel_unknown", codes="、".join(unknown))))
        return
    placed = blocks_on(session, [p.id for p in found.values()], c.draft.signed_on)
    outside = [code for code in codes if found[code].id not in placed]
    if outside:
        c.errors.append(FieldError("parcels", message("market_parcel_outside", codes="、".join(outside),
                                                      date=c.draft.signed_on.isoformat())))
        return
    units = {found[code].unit_id for code in codes}
    if len(units) > 1:
        c.errors.append(FieldError("parcels", message("market_parcels_units")))
        return
    c.unit = session.get(Unit, units.pop())
    if not may_write(principal, c.unit.id):
        c.other_unit = True
        c.errors.append(FieldError("parcels", message("market_not_your_unit", unit=c.unit.name)))
        return
    c.placed = [Placed(found[code], *placed[found[code].id]) for code in codes]


def may_write(principal: Principal, unit_id: int) -> bool:
    return principal.role == Role.ADMIN or (principal.role == Role.UNIT_OFFICER and principal.unit_id == unit_id)


def require_writer(principal: Principal) -> None:
    if principal.role not in (Role.ADMIN, Role.UNIT_OFFICER):
        raise NotAllowed(message("market_write_refused", role=principal.role.label))


def party_label(kind: MarketKind, side: str) -> str:
    lease = kind == MarketKind.LEASE
    return message(f"market_party_{side}_{'lease' if lease else 'transfer'}")


# --- the facts as of a record's date, and its flags -------------------------------------------------

def classification_on(session: Session, enterprise: Enterprise, on: dt.date) -> tuple[str | None, dt.date | None]:
    """The classification in force on ``on``: the latest decision dated on or before it (the history of
    app.workflow.governance.classify), else — for an enterprise never decided in the workflow — its
    governance row when that is undated or dated by then."""
    row = session.execute(select(ClassificationDecision.classification, ClassificationDecision.decided_on)
                          .where(ClassificationDecision.enterprise_id == enterprise.id,
                                 ClassificationDecision.decided_on <= on)
                          .order_by(ClassificationDecision.decided_on.desc(), ClassificationDecision.id.desc())
                          .limit(1)).first()
    if row is not None:
        return row.classification.value, row.decided_on
    if session.scalar(select(ClassificationDecision.id).where(ClassificationDecision.enterprise_id == enterprise.id)
                      .limit(1)) is None:
        gov = session.get(EnterpriseGovernance, enterprise.id)
        if gov is not None and gov.classification and (gov.decided_on is None or gov.decided_on <= on):
            return gov.classification.value, gov.decided_on
    return None, None


def grade_on(session: Session, credit_code: str, on: dt.date) -> tuple[str | None, int | None]:
    """The grade in the latest 亩均 evaluation published (公示 or 定档) on or before ``on``."""
    runs = session.scalars(select(EvaluationRun).where(
        EvaluationRun.status.in_(("published", "final")), EvaluationRun.published_at.is_not(None),
        func.date(func.timezone("Asia/Shanghai", EvaluationRun.published_at)) <= on)
        .order_by(EvaluationRun.year.desc(), EvaluationRun.published_at.desc(), EvaluationRun.id.desc())).all()
    for run in runs[:1]:
        for row in run.result.get("enterprises", []):
            if row.get("credit_code") == credit_code:
                return row.get("grade"), run.year
        return None, run.year
    return None, None


def _party(session: Session, side: str, name: str, code: str | None, ent: Enterprise | None, on: dt.date,
           facts: dict) -> rules.Party:
    classification, decided_on = classification_on(session, ent, on) if ent is not None else (None, None)
    grade, year = grade_on(session, code, on) if code else (None, None)
    facts[side] = {"decided_on": decided_on, "year": year}
    return rules.Party(side, name, code, classification=classification, grade=grade)


def _tenant_keys(session: Session, parcel_id: int) -> frozenset[str]:
    keys: set[str] = set()
    for t in session.scalars(select(Tenant).where(Tenant.parcel_id == parcel_id)):
        keys |= {k for k in (t.credit_code, t.lessee) if k}
    return frozenset(keys)


def decide_flags(session: Session, record: MarketRecord) -> list[MarketFlag]:
    """The record's flags as of its date (new rows, not yet added)."""
    on = record.signed_on
    facts: dict = {}
    parties = [
        _party(session, "from", record.from_name, record.from_credit_code, record.from_enterprise, on, facts),
        _party(session, "to", record.to_name, record.to_credit_code, record.to_enterprise, on, facts),
    ]
    versions = {rp.block_version_id: session.get(BlockVersion, rp.block_version_id)
                for rp in record.parcels if rp.block_version_id}
    parcels = []
    for rp in record.parcels:
        version = versions.get(rp.block_version_id)
        guidance = list(version.industry_guidance or []) if version is not None else []
        within = matches_guidance(record.industry_code, guidance) if record.kind == MarketKind.LEASE else None
        parcels.append(rules.ParcelFacts(rp.parcel_code, within, _tenant_keys(session, rp.parcel_id)))
    out = []
    for f in rules.decide(record.kind.value, parties, parcels):
        ent = record.from_enterprise if f.party.role == "from" else record.to_enterprise
        out.append(MarketFlag(kind=FlagKind(f.kind), party=f.party.role, name=f.party.name,
                              credit_code=f.party.credit_code, enterprise_id=ent.id if ent is not None else None,
                              parcel_code=f.parcel, text=_sentence(session, record, f, facts, versions)))
    return out


def _sentence(session: Session, record: MarketRecord, f: rules.Flag, facts: dict, versions: dict) -> str:
    party = party_label(record.kind, f.party.role)
    what = record.kind.label
    if f.kind == "clear_out":
        since = facts[f.party.role]["decided_on"]
        return message("market_flag_clear_out", party=party, name=f.party.name, kind=what,
                       since=message("market_since", date=since.isoformat()) if since else "")
    if f.kind == "grade_d":
        return message("market_flag_grade_d", party=party, name=f.party.name, kind=what,
                       year=facts[f.party.role]["year"])
    rp = next(p for p in record.parcels if p.parcel_code == f.parcel)
    if f.kind == "industry":
        version = versions.get(rp.block_version_id)
        block = session.get(RenewalBlock, rp.block_id)
        return message("market_flag_industry", name=f.party.name, industry=record.industry_code, parcel=f.parcel,
                       block=block.name if block else "", guidance="、".join(version.industry_guidance or []))
    return message("market_flag_unregistered", name=f.party.name, parcel=f.parcel)


def _key(flag: MarketFlag) -> tuple:
    return (flag.kind, flag.party, flag.credit_code or flag.name, flag.parcel_code)


def _refresh_flags(session: Session, record: MarketRecord) -> None:
    """Decide the flags again (a changed record); a referred flag keeps its referral, and stays even when the
    changed record no longer raises it (the referral happened)."""
    new = decide_flags(session, record)
    old = {_key(f): f for f in record.flags}
    keep = []
    for f in new:
        before = old.pop(_key(f), None)
        if before is not None:
            before.text = f.text
            before.enterprise_id = f.enterprise_id
            keep.append(before)
        else:
            keep.append(f)
    keep += [f for f in old.values() if f.referral_id is not None]
    record.flags = keep


# --- writing ---------------------------------------------------------------------------------------

def _refuse(c: Checked) -> None:
    if c.other_unit:
        raise NotAllowed(message("market_not_your_unit", unit=c.unit.name))
    if c.errors:
        first = c.errors[0]
        if len(c.errors) == 1:
            raise InvalidParameter(first.field, first.message)
        raise InvalidFeatures(message("market_record_invalid", summary="；".join(e.message for e in c.errors)),
                              c.errors)


def _apply(record: MarketRecord, c: Checked) -> None:
    d = c.draft
    for name in FIELDS:
        if name != "parcels":
            setattr(record, name, getattr(d, name))
    record.unit_id = c.unit.id
    record.unit = c.unit
    record.from_enterprise, record.to_enterprise = c.from_enterprise, c.to_enterprise
    by_id = {rp.parcel_id: rp for rp in record.parcels}
    wanted = []
    for p in c.placed:
        rp = by_id.get(p.parcel.id) or MarketRecordParcel(parcel_id=p.parcel.id, parcel=p.parcel)
        rp.parcel_code, rp.block_id, rp.block_version_id = p.parcel.code, p.block_id, p.version_id
        wanted.append(rp)
    record.parcels = wanted


def create(session: Session, principal: Principal, draft: Draft) -> MarketRecord:
    require_writer(principal)
    c = check(session, principal, draft)
    _refuse(c)
    with unit_of_work(session):
        record = MarketRecord(created_by_id=principal.id)
        _apply(record, c)
        session.add(record)
        with audit_context(session, "market_create", record):
            session.flush()
            record.flags = decide_flags(session, record)
    return record


def update(session: Session, principal: Principal, record: MarketRecord, values: dict) -> MarketRecord:
    """Change some fields (the others as they were); parcels, blocks and flags decided again."""
    require_writer(principal)
    if not may_write(principal, record.unit_id):
        raise NotAllowed(message("market_not_your_unit", unit=record.unit.name))
    for name in REQUIRED:
        if name in values and values[name] is None:
            raise InvalidParameter(name, message("market_field_required"))
    current = {name: getattr(record, name) for name in FIELDS if name != "parcels"}
    current["parcels"] = [rp.parcel_code for rp in record.parcels]
    c = check(session, principal, Draft(**{**current, **values}))
    _refuse(c)
    with unit_of_work(session), audit_context(session, "market_update", record):
        _apply(record, c)
        record.updated_at = func.now()
        session.flush()
        _refresh_flags(session, record)
    return record


def delete(session: Session, principal: Principal, record: MarketRecord) -> None:
    require_writer(principal)
    if not may_write(principal, record.unit_id):
        raise NotAllowed(message("market_not_your_unit", unit=record.unit.name))
    if any(f.referral_id for f in record.flags):
        raise InvalidState(message("market_delete_referred"))
    with unit_of_work(session), audit_context(session, "market_delete", record):
        for t in session.scalars(select(Tenant).where(Tenant.lease_id == record.id)):
            t.lease_id = None
        session.delete(record)


def write_many(session: Session, principal: Principal, checked: list[Checked]) -> list[MarketRecord]:
    """Write checked rows (all without errors) in the caller's unit of work, each with its flags."""
    out = []
    for c in checked:
        record = MarketRecord(created_by_id=principal.id)
        _apply(record, c)
        session.add(record)
        session.flush()
        record.flags = decide_flags(session, record)
        out.append(record)
    session.flush()
    return out


# --- the two one-step actions ------------------------------------------------------------------------

def get_record(session: Session, record_id: int) -> MarketRecord:
    record = session.get(MarketRecord, record_id)
    if record is None:
        raise NotFound(message("market_record_not_found", id=record_id))
    return record


def get_flag(session: Session, flag_id: int) -> MarketFlag:
    flag = session.get(MarketFlag, flag_id)
    if flag is None:
        raise NotFound(message("market_flag_not_found", id=flag_id))
    return flag


def refer(session: Session, principal: Principal, flag: MarketFlag, referred_on: dt.date | None,
          note: str | None) -> MarketFlag:
    """移交十剑联动: a referral of the flagged enterprise, whatever its classification
    (app.workflow.governance.refer with ``any_classification``), its reason the flag's sentence; an open
    referral of it already there is linked."""
    record = flag.record
    if not (may_write(principal, record.unit_id) or principal.role == Role.REVIEWER):
        raise NotAllowed(message("market_not_your_unit", unit=record.unit.name))
    if flag.enterprise_id is None:
        raise InvalidState(message("market_flag_no_enterprise", name=flag.name))
    enterprise = session.get(Enterprise, flag.enterprise_id)
    with unit_of_work(session):
        session.refresh(record, with_for_update=True)  # of two referrals of one flag at once, one waits and is refused
        session.refresh(flag)
        if flag.referral_id is not None:
            raise InvalidState(message("market_flag_referred"))
        open_ref = session.scalar(select(EnforcementReferral).where(
            EnforcementReferral.enterprise_id == enterprise.id, EnforcementReferral.status == ReferralStatus.OPEN))
        if open_ref is None:
            reason = message("market_referral_reason", id=record.id, kind=record.kind.label, flag=flag.text)
            if note and note.strip():
                reason += message("market_referral_note", note=note.strip())
            open_ref = governance.refer(session, principal, enterprise, reason, referred_on or today(),
                                        any_classification=True)
        with audit_context(session, "market_refer", record):
            flag.referral_id = open_ref.id
            record.updated_at = func.now()
    return flag


def register_tenant(session: Session, principal: Principal, record: MarketRecord, *, parcel_code: str | None,
                    tenant_id: int | None, business: str | None) -> Tenant:
    """登记为厂中厂: a 厂中厂 tenant made from the lease (lessee, credit code, area, dates) on one of its parcels,
    or an existing tenant of one of its parcels linked to it."""
    if not may_write(principal, record.unit_id):
        raise NotAllowed(message("market_not_your_unit", unit=record.unit.name))
    if record.kind != MarketKind.LEASE:
        raise InvalidState(message("market_tenant_lease_only"))
    ids = {rp.parcel_id: rp for rp in record.parcels}
    if tenant_id is not None:
        tenant = session.get(Tenant, tenant_id)
        if tenant is None or tenant.parcel_id not in ids:
            raise InvalidParameter("tenant_id", message("market_tenant_not_on_parcels", id=tenant_id))
        if tenant.lease_id not in (None, record.id):
            raise InvalidState(message("market_tenant_has_lease", id=tenant_id, lease=tenant.lease_id))
        with unit_of_work(session), audit_context(session, "market_link_tenant", tenant):
            tenant.lease_id = record.id
        return tenant
    if parcel_code is None:
        if len(record.parcels) != 1:
            raise InvalidParameter("parcel", message("market_tenant_parcel_needed"))
        rp = record.parcels[0]
    else:
        rp = next((p for p in record.parcels if p.parcel_code == parcel_code), None)
        if rp is None:
            raise InvalidParameter("parcel", message("market_tenant_parcel_not_listed", code=parcel_code))
    if record.area_m2 is None or (record.area_basis not in (None, AreaBasis.FLOOR)):
        raise InvalidParameter("area_m2", message("market_tenant_area_needed"))
    values = {"lessee": record.to_name, "credit_code": record.to_credit_code, "leased_area_m2": record.area_m2,
              "business": _clean(business), "lease_start": record.lease_start or record.signed_on,
              "lease_end": record.lease_end, "lease_id": record.id}
    with unit_of_work(session):
        session.refresh(record, with_for_update=True)  # two registrations at once: one waits and is refused
        if session.scalar(select(Tenant.id).where(Tenant.lease_id == record.id, Tenant.parcel_id == rp.parcel_id)):
            raise InvalidState(message("market_tenant_exists", parcel=rp.parcel_code))
        tenant = governance.save_tenant(session, Tenant(parcel=rp.parcel, created_by_id=principal.id), values)
    return tenant


# --- reading ----------------------------------------------------------------------------------------

def readable_unit(session: Session, principal: Principal, asked_unit: str | None = None) -> int | None:
    return governance.readable_unit(session, principal, READERS, message("read_market"), asked_unit)


def require_read(session: Session, principal: Principal, record: MarketRecord) -> None:
    own = readable_unit(session, principal)
    if own is not None and own != record.unit_id:
        raise NotAllowed(message("records_other_unit", what=message("read_market"), unit=record.unit.name))


def records(session: Session, principal: Principal, *, kind: MarketKind | None = None, unit: str | None = None,
            block: str | None = None, parcel: str | None = None, flagged: bool = False) -> list[MarketRecord]:
    own = readable_unit(session, principal, unit)
    q = select(MarketRecord).order_by(MarketRecord.signed_on.desc(), MarketRecord.id.desc())
    if own is not None:
        q = q.where(MarketRecord.unit_id == own)
    if kind is not None:
        q = q.where(MarketRecord.kind == kind)
    if unit:
        q = q.join(Unit, Unit.id == MarketRecord.unit_id).where(Unit.code == unit)
    if block:
        q = q.where(MarketRecord.id.in_(select(MarketRecordParcel.record_id).join(
            RenewalBlock, RenewalBlock.id == MarketRecordParcel.block_id).where(RenewalBlock.code == block)))
    if parcel:
        q = q.where(MarketRecord.id.in_(select(MarketRecordParcel.record_id)
                                        .where(MarketRecordParcel.parcel_code == parcel)))
    if flagged:
        q = q.where(MarketRecord.id.in_(select(MarketFlag.record_id)))
    return list(session.scalars(q))


def tenants_of(session: Session, record_ids: list[int]) -> dict[int, list[Tenant]]:
    out: dict[int, list[Tenant]] = {}
    if record_ids:
        for t in session.scalars(select(Tenant).where(Tenant.lease_id.in_(record_ids)).order_by(Tenant.id)):
            out.setdefault(t.lease_id, []).append(t)
    return out


def flag_status(flag: MarketFlag, tenants: list[Tenant]) -> str:
    """referred (已移交), registered (已登记为厂中厂, an unregistered-tenant flag whose parcel now has the
    lease's tenant), else open."""
    if flag.referral_id is not None:
        return "referred"
    if flag.kind == FlagKind.UNREGISTERED_TENANT and any(t.parcel.code == flag.parcel_code for t in tenants):
        return "registered"
    return "open"
