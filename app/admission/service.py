"""项目准入: a new project entering an approved renewal block (三.(四).3: "新项目应符合有机更新区块的产业导向").

The block's unit officer (or an admin) writes the application — the approved block, parcels of the
plan's version in force, the enterprise (from the register, or a new one by name and credit code),
the project's figures and dates — and submits it; the leadership group's reviewers (or an admin)
approve it (准入) or return it, on the core's review engine (:class:`AdmissionReview`).

The checks (:func:`checks`, the kind's rule check) never stop a submission: an error is a flag the
reviewer reads and decides on — approving over an error needs a written reason. They are the
industry against the block's 产业导向, the FAR against the floor of the 行动计划 in force, the
expected 亩均税收 / 亩均产出 over the parcels' land (亩, EPSG:4549 through ``spatial``) against the
grading lines, and the enterprise's credit: 整治清退, a D class, open 十剑联动 referrals, 投资履约 defaults.
The pure comparisons are ``evaluation.admission``.

Approval creates the project's 投资履约 record (CreditRecord) in the same unit of work, so a later
default shows on /api/credit-records; a new enterprise is registered then.

Who reads what: unit officers their own unit's applications (drafts included); planners, GIS staff and
reviewers every unit's submitted, returned and admitted ones; admins everything.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from geoalchemy2.shape import to_shape
from shapely.ops import unary_union
from sqlalchemy import func, select
from sqlalchemy.orm import Session, object_session

import spatial
from evaluation import admission as rules

from ..actionplans.service import thresholds_for_year
from ..auth.deps import Principal
from ..auth.errors import NotAllowed
from ..auth.models import User
from ..auth.roles import Role
from ..core import review
from ..core.audit import audit_context
from ..core.uow import discarded, unit_of_work
from ..credit_code import credit_code_problem
from ..enums import ReviewStatus
from ..errors import Conflict, FieldError, InvalidFeatures, InvalidParameter, InvalidState, NotFound
from ..industry import code_problem, division_name, matches_guidance, normalise_code
from ..messages import message
from ..models import Enterprise, Parcel, RenewalBlock, Unit
from ..settings import get_settings
from ..workflow import governance
from ..workflow.enums import ReferralStatus
from ..workflow.models import BlockPlan, BlockVersion, CreditRecord, EnforcementReferral, EnterpriseGovernance
from ..workflow.plans import get_plan, require_reviewer, require_unit
from .models import ProjectAdmission

WHAT = "此区块的项目准入申请"
FIELDS = ("block", "parcels", "enterprise", "enterprise_name", "project_name", "industry_code", "investment_10k",
          "output_10k", "tax_10k", "floor_area_m2", "far", "start_on", "complete_on", "note")
ALL_UNITS_READERS = frozenset({Role.PLANNER, Role.GIS_STAFF, Role.REVIEWER, Role.ADMIN})
SEVERITY_LABELS = {rules.ERROR: "须审慎研判", rules.WARNING: "提示", rules.INFO: "说明"}


@dataclass
class AdmissionInput:
    """What an officer sends. ``enterprise`` is a credit code; a new enterprise not in the register
    yet also gives ``enterprise_name``. Money in 万元, floor area in m²."""

    block: str
    parcels: list[str]
    enterprise: str
    project_name: str
    industry_code: str
    investment_10k: Decimal
    output_10k: Decimal
    tax_10k: Decimal
    floor_area_m2: Decimal
    far: Decimal
    start_on: dt.date
    complete_on: dt.date
    enterprise_name: str | None = None
    note: str | None = None


# --- who may do what ---------------------------------------------------------------


def status_label(status: ReviewStatus) -> str:
    """An application's state as its readers name it (approved = 已准入)."""
    return message(f"admission_status_{status.value}")


def can_edit(principal: Principal, a: ProjectAdmission) -> bool:
    return principal.role == Role.ADMIN or (principal.role == Role.UNIT_OFFICER and principal.unit_id == a.unit_id)


def can_decide(principal: Principal) -> bool:
    return principal.role in (Role.REVIEWER, Role.ADMIN)


def may_read(principal: Principal, a: ProjectAdmission) -> bool:
    if principal.role == Role.ADMIN:
        return True
    if principal.role == Role.UNIT_OFFICER:
        return principal.unit_id == a.unit_id
    return principal.role in ALL_UNITS_READERS and a.status != ReviewStatus.DRAFT


def readable(principal: Principal):
    """The WHERE clause of the applications ``principal`` may list (see the module docstring)."""
    if principal.role == Role.ADMIN:
        return None
    if principal.role == Role.UNIT_OFFICER:
        if principal.unit_id is None:
            raise NotAllowed(message("admission_not_readable", role=principal.role.label))
        return ProjectAdmission.unit_id == principal.unit_id
    if principal.role in ALL_UNITS_READERS:
        return ProjectAdmission.status != ReviewStatus.DRAFT.value
    raise NotAllowed(message("admission_not_readable", role=principal.role.label))


# --- loading and validating --------------------------------------------------------


def by_id(session: Session, principal: Principal, admission_id: int) -> ProjectAdmission:
    a = session.get(ProjectAdmission, admission_id)
    if a is None or not may_read(principal, a):
        raise NotFound(message("admission_not_found", id=admission_id))
    return a


def for_write(session: Session, principal: Principal, admission_id: int, *, reviewer: bool = False) -> ProjectAdmission:
    """An application to change or decide: 404 when it does not exist, 403 when ``principal`` may not act on it."""
    a = session.get(ProjectAdmission, admission_id)
    if a is None:
        raise NotFound(message("admission_not_found", id=admission_id))
    if reviewer:
        require_reviewer(principal)
    else:
        require_unit(principal, a.unit_id, WHAT)
    return a


def block_in_force(session: Session, code: str, *, adopt: bool = False) -> tuple[RenewalBlock, BlockPlan, BlockVersion]:
    """An approved block, its plan and the plan's version in force; 400 naming the block otherwise."""
    block = session.scalar(select(RenewalBlock).where(RenewalBlock.code == (code or "").strip()))
    if block is None:
        raise InvalidParameter("block", message("admission_block_unknown", code=code))
    plan = session.scalar(select(BlockPlan).where(BlockPlan.code == block.code))
    if plan is None and block.review_status == ReviewStatus.APPROVED and adopt:
        plan = get_plan(session, block.code, adopt_block=True)
    version = plan.version(plan.current_version_no) if plan is not None else None
    if version is None or block.review_status != ReviewStatus.APPROVED:
        raise InvalidParameter("block", message("admission_block_not_approved", name=block.name))
    return block, plan, version


def _parcels(session: Session, version: BlockVersion, block: RenewalBlock, codes: list[str]) -> list[Parcel]:
    wanted = list(dict.fromkeys(c.strip() for c in codes if c and c.strip()))
    if not wanted:
        raise InvalidParameter("parcels", message("admission_no_parcels"))
    listed = {p.parcel_code for p in version.parcels}
    errors = [FieldError("parcels", message("admission_parcel_outside", code=c, block=block.name), feature=k)
              for k, c in enumerate(wanted, start=1) if c not in listed]
    if errors:
        raise InvalidFeatures(message("admission_parcels_invalid", count=len(errors), first=errors[0].message), errors)
    return list(session.scalars(select(Parcel).where(Parcel.code.in_(wanted)).order_by(Parcel.code)))


def _enterprise(session: Session, credit_code: str, name: str | None) -> tuple[Enterprise | None, str | None]:
    """The registered enterprise with this credit code, or (not registered) the new one's name; 400 otherwise."""
    code = (credit_code or "").strip().upper()
    problem = credit_code_problem(code) if code else message("admission_credit_code_missing")
    if problem:
        raise InvalidParameter("enterprise", problem)
    found = session.scalar(select(Enterprise).where(Enterprise.credit_code == code))
    if found is not None:
        return found, None
    name = (name or "").strip()
    if not name:
        raise InvalidParameter("enterprise_name", message("admission_enterprise_new_needs_name", code=code))
    return None, name


def _industry(code: str) -> str:
    code = normalise_code(code or "")
    problem = code_problem(code) if code else ("admission_industry_missing", {})
    if problem:
        key, values = problem
        raise InvalidParameter("industry_code", message(key, **values))
    return code


def _checked(session: Session, data: AdmissionInput, *, adopt: bool = False) -> dict:
    """The input checked against the database: block, version, parcels, enterprise, industry, figures."""
    name = (data.project_name or "").strip()
    if not name:
        raise InvalidParameter("project_name", message("admission_project_name_missing"))
    if data.complete_on < data.start_on:
        raise InvalidParameter("complete_on", message("admission_dates_order"))
    block, plan, version = block_in_force(session, data.block, adopt=adopt)
    parcels = _parcels(session, version, block, data.parcels)
    enterprise, new_name = _enterprise(session, data.enterprise, data.enterprise_name)
    return {"block": block, "plan": plan, "version": version, "parcels": parcels, "enterprise": enterprise,
            "enterprise_name": new_name, "credit_code": data.enterprise.strip().upper(), "project_name": name,
            "industry_code": _industry(data.industry_code)}


# --- the checks --------------------------------------------------------------------


def _num(value) -> float | None:
    return None if value is None else float(value)


def _json(values: dict) -> dict:
    return {k: float(v) if isinstance(v, Decimal) else v for k, v in values.items()}


def _land_mu(parcels: list[Parcel]) -> Decimal | None:
    """The parcels' land in 亩: their union, measured in EPSG:4549 (spatial)."""
    if not parcels:
        return None
    union = unary_union([to_shape(p.geom) for p in parcels])
    return Decimal(str(round(spatial.area_mu_of_storage(union), 2)))


def _lines(session: Session) -> list[rules.GradeLine]:
    return [rules.GradeLine(t.grade, None if t.min_tax_per_mu_10k is None else Decimal(str(t.min_tax_per_mu_10k)),
                            None if t.min_output_per_mu_10k is None else Decimal(str(t.min_output_per_mu_10k)))
            for t in governance.thresholds(session)]


def credit_history(session: Session, enterprise: Enterprise | None) -> dict:
    """The enterprise's classification, 亩均 class, open referrals and 投资履约 defaults."""
    if enterprise is None:
        return {"classification": None, "classification_label": None, "grade": None, "grade_year": None,
                "open_referrals": 0, "records": 0, "defaults": []}
    gov = session.get(EnterpriseGovernance, enterprise.id)
    cls = gov.classification if gov is not None else None
    referrals = session.scalar(select(func.count()).select_from(EnforcementReferral).where(
        EnforcementReferral.enterprise_id == enterprise.id,
        EnforcementReferral.status == ReferralStatus.OPEN.value)) or 0
    ratio = get_settings().credit_default_ratio
    records = list(session.scalars(select(CreditRecord).where(CreditRecord.enterprise_id == enterprise.id)
                                   .order_by(CreditRecord.year, CreditRecord.project_name)))
    defaults = []
    for r in records:
        status = governance.credit_status(r, ratio)
        if status["is_defaulter"]:
            defaults.append({"project_name": r.project_name, "year": r.year,
                             "missed": "、".join(m["label"] for m in status["missed"])})
    return {"classification": cls.value if cls else None, "classification_label": cls.label if cls else None,
            "grade": enterprise.evaluation_grade, "grade_year": enterprise.evaluation_year,
            "open_referrals": int(referrals), "records": len(records), "defaults": defaults}


def _flag_message(flag: rules.Flag, context: dict) -> str:
    return message(f"admission_flag_{flag.code}", **{**context, **_shown(flag.values)})


def _shown(values: dict) -> dict:
    out = {}
    for k, v in values.items():
        if isinstance(v, Decimal):
            out[k] = f"{v:.2f}"
        elif v is None:
            out[k] = "—"
        else:
            out[k] = v
    return out


def report_for(session: Session, checked: dict, data: AdmissionInput) -> dict:
    """The checks of an application (stored or not): flags with their Chinese sentences, and the figures."""
    version: BlockVersion = checked["version"]
    enterprise: Enterprise | None = checked["enterprise"]
    guidance = list(version.industry_guidance or [])
    industry = checked["industry_code"]
    land = _land_mu(checked["parcels"])
    min_far = Decimal(str(thresholds_for_year(session, data.start_on.year).min_far))
    lines = _lines(session)
    history = credit_history(session, enterprise)
    facts = rules.Facts(
        land_mu=land, tax_10k=Decimal(data.tax_10k), output_10k=Decimal(data.output_10k), far=Decimal(data.far),
        min_far=min_far, in_guidance=matches_guidance(industry, guidance), lines=lines,
        classification=history["classification"], grade=history["grade"], grade_year=history["grade_year"],
        open_referrals=history["open_referrals"], defaults=len(history["defaults"]), registered=enterprise is not None,
        parcels_outside=tuple(sorted({p.code for p in checked["parcels"]} - {p.parcel_code for p in version.parcels})),
    )
    tax, output = rules.per_mu(data.tax_10k, land), rules.per_mu(data.output_10k, land)
    line = rules.benchmark_line(lines)
    name = enterprise.name if enterprise is not None else checked["enterprise_name"]
    context = {"industry": industry, "industry_name": division_name(industry) or "",
               "guidance": "、".join(guidance) or "—", "block": checked["block"].name, "enterprise": name,
               "defaults_list": "；".join(f"{d['year']} 年{d['project_name']}（{d['missed']}未达承诺）"
                                         for d in history["defaults"])}
    flags = rules.assess(facts)
    return {
        "passed": True,  # nothing here stops a submission: the reviewer decides (docs/admission.md)
        "flagged": any(f.severity == rules.ERROR for f in flags),
        "flags": [{"code": f.code, "severity": f.severity, "severity_label": SEVERITY_LABELS[f.severity],
                   "message_zh": _flag_message(f, context), "values": _json(f.values)} for f in flags],
        "figures": {
            "land_mu": _num(land), "tax_per_mu_10k": _num(tax), "output_per_mu_10k": _num(output),
            "expected_grade": rules.expected_grade(tax, output, lines),
            "line_grade": line.grade if line else None,
            "line_tax_per_mu_10k": _num(line.min_tax_per_mu) if line else None,
            "line_output_per_mu_10k": _num(line.min_output_per_mu) if line else None,
            "far": _num(data.far), "min_far": _num(min_far), "industry_code": industry,
            "industry_name": division_name(industry), "industry_guidance": guidance,
            "plan_version_no": version.version_no,
        },
        "enterprise": {"name": name, "credit_code": checked["credit_code"], "registered": enterprise is not None,
                       **history},
        "checked_at": dt.datetime.now(dt.UTC).isoformat(),
    }


def preview(session: Session, principal: Principal, data: AdmissionInput) -> dict:
    """The live checks of an application being written (nothing is saved)."""
    with discarded(session):
        checked = _checked(session, data, adopt=True)
        require_unit(principal, checked["block"].unit_id, WHAT)
        return report_for(session, checked, data)


def _input_of(a: ProjectAdmission) -> AdmissionInput:
    return AdmissionInput(
        block=a.block.code, parcels=list(a.parcel_codes), enterprise=a.enterprise.credit_code if a.enterprise else
        a.credit_code, enterprise_name=a.enterprise_name, project_name=a.project_name, industry_code=a.industry_code,
        investment_10k=a.investment_10k, output_10k=a.output_10k, tax_10k=a.tax_10k, floor_area_m2=a.floor_area_m2,
        far=a.far, start_on=a.start_on, complete_on=a.complete_on, note=a.note)


def checks(session: Session, a: ProjectAdmission) -> dict:
    """The checks of a stored application, now (the block's version in force today)."""
    data = _input_of(a)
    checked = {"block": a.block, "version": a.plan.version(a.plan.current_version_no) or
               a.plan.version(a.plan_version_no), "enterprise": a.enterprise,
               "enterprise_name": a.enterprise_name, "credit_code": data.enterprise,
               "industry_code": a.industry_code,
               "parcels": list(session.scalars(select(Parcel).where(Parcel.code.in_(a.parcel_codes))))}
    return report_for(session, checked, data)


def shown_report(session: Session, a: ProjectAdmission) -> dict | None:
    """What a reader sees: an admitted or returned application's checks as they were decided on; an open
    one's checks now."""
    if a.status in (ReviewStatus.APPROVED, ReviewStatus.RETURNED) and a.report:
        return a.report
    return checks(session, a)


# --- writing -----------------------------------------------------------------------


def _write(a: ProjectAdmission, checked: dict, data: AdmissionInput) -> None:
    a.block, a.plan, a.plan_version_no = checked["block"], checked["plan"], checked["version"].version_no
    a.unit_id = checked["block"].unit_id
    a.enterprise = checked["enterprise"]
    a.enterprise_name = checked["enterprise_name"]
    a.credit_code = checked["credit_code"]
    a.parcel_codes = [p.code for p in checked["parcels"]]
    a.project_name, a.industry_code = checked["project_name"], checked["industry_code"]
    for key in ("investment_10k", "output_10k", "tax_10k", "floor_area_m2", "far", "start_on", "complete_on"):
        setattr(a, key, getattr(data, key))
    a.note = (data.note or "").strip() or None
    a.updated_at = func.now()


def create(session: Session, principal: Principal, data: AdmissionInput) -> ProjectAdmission:
    """A new application, as a draft of the block's unit."""
    with unit_of_work(session), audit_context(session, "admission_create"):  # the row names its own subject
        checked = _checked(session, data, adopt=True)
        require_unit(principal, checked["block"].unit_id, WHAT)
        a = ProjectAdmission(status=ReviewStatus.DRAFT, created_by_id=principal.id)
        _write(a, checked, data)
        session.add(a)
    return a


def update(session: Session, principal: Principal, a: ProjectAdmission, data: AdmissionInput) -> ProjectAdmission:
    """Change a draft or a returned application (it becomes a draft again)."""
    require_unit(principal, a.unit_id, WHAT)
    if a.status.value not in ADMISSION_REVIEW.flow.editable:
        raise InvalidState(message("admission_not_editable", code=a.code, state=status_label(a.status)))
    with unit_of_work(session), audit_context(session, "admission_update", a):
        checked = _checked(session, data)
        if checked["block"].id != a.block_id:
            raise InvalidParameter("block", message("admission_block_fixed"))
        _write(a, checked, data)
        a.status = ReviewStatus.DRAFT
        a.report, a.report_passed = None, None
    return a


# --- the review engine -------------------------------------------------------------


class AdmissionReview(review.ReviewKind):
    """Project admissions on the review engine: the block's unit officers (or an admin) submit; reviewers
    (or an admin) admit (准入, optional 文号) or return with a reason. An error flag never blocks: approving
    over one needs a written reason."""

    subject_type = "project_admission"
    label = "项目准入申请"
    action_labels = {review.SUBMIT: "提交", review.APPROVE: "准入", review.RETURN: "退回"}
    drafting_actions = frozenset({"admission_create", "admission_update", review.SUBMIT})

    def code(self, a: ProjectAdmission) -> str:
        return a.code

    def version(self, a: ProjectAdmission, action: str) -> ProjectAdmission:
        return a

    def version_no(self, version) -> int | None:
        return None

    def authorize(self, actor: Principal, a: ProjectAdmission, action: str) -> None:
        if action in self.flow.decisions:
            require_reviewer(actor)
        else:
            require_unit(actor, a.unit_id, WHAT)

    def refusal(self, a: ProjectAdmission, version, action: str):
        return InvalidState(message("admission_state", code=a.code, state=status_label(a.status),
                                    action=self.action_labels[action]))

    def validate(self, a: ProjectAdmission, action: str, decision: review.Decision) -> None:
        if action == review.RETURN and not (decision.comment or "").strip():
            raise InvalidParameter("comment", message("admission_return_reason_missing"))
        if action == review.APPROVE:
            session = object_session(a)
            report = checks(session, a)
            a.__dict__["_report"] = report  # the same checks for check() below, in this one action
            if report["flagged"] and not (decision.comment or "").strip():
                raise InvalidParameter("comment", message("admission_approve_reason_missing",
                                                          count=sum(f["severity"] == rules.ERROR
                                                                    for f in report["flags"])))

    def check(self, session: Session, a: ProjectAdmission, version, action: str) -> dict | None:
        if action not in (review.SUBMIT, review.APPROVE):
            return None
        return a.__dict__.pop("_report", None) or checks(session, a)

    def effects(self, session: Session, a: ProjectAdmission, version, action: str, target: str, actor: Principal,
                decision: review.Decision, report: dict | None) -> None:
        a.updated_at = func.now()
        if target == review.APPROVED:
            a.credit_record = credit_record(session, a, decision, created_by_id=actor.id)

    def recipients(self, session: Session, a: ProjectAdmission, version, action: str) -> set[int]:
        if action == review.SUBMIT:
            return set(session.scalars(select(User.id).where(User.role == Role.REVIEWER, User.is_active.is_(True))))
        ids = set(session.scalars(select(User.id).where(
            User.role == Role.UNIT_OFFICER, User.unit_id == a.unit_id, User.is_active.is_(True))))
        if a.submitted_by_id:
            ids.add(a.submitted_by_id)
        return ids

    def notice(self, a: ProjectAdmission, version, action: str, decision: review.Decision) -> str | None:
        if action == review.SUBMIT:
            return message("admission_submitted_notice", code=a.code, name=a.project_name, block=a.block.name)
        if action == review.APPROVE:
            return message("admission_approved_notice", code=a.code, name=a.project_name) + \
                (f"：{decision.comment}" if decision.comment else "")
        if action == review.RETURN:
            return message("admission_returned_notice", code=a.code, name=a.project_name, reason=decision.comment)
        return None


ADMISSION_REVIEW = AdmissionReview()


def credit_record(session: Session, a: ProjectAdmission, decision: review.Decision, *,
                  created_by_id: int | None) -> CreditRecord:
    """The admitted project's 投资履约 record: its promises, due in the year it is to be completed; a new
    enterprise is registered first. Approval's effect; the demo data (``demo.py``) admits its project with it."""
    enterprise = a.enterprise
    if enterprise is None:
        enterprise = session.scalar(select(Enterprise).where(Enterprise.credit_code == a.credit_code))
        if enterprise is None:
            enterprise = Enterprise(name=a.enterprise_name, credit_code=a.credit_code, industry_code=a.industry_code,
                                    industry_name=division_name(a.industry_code), unit_id=a.unit_id)
            session.add(enterprise)
        a.enterprise = enterprise
    year = a.complete_on.year
    if session.scalar(select(CreditRecord.id).where(CreditRecord.project_name == a.project_name,
                                                    CreditRecord.year == year)) is not None:
        raise Conflict(message("admission_credit_taken", name=a.project_name, year=year),
                       [FieldError("project_name", message("taken"))])
    note = message("admission_credit_note", code=a.code, block=a.block.name, start=a.start_on.isoformat(),
                   complete=a.complete_on.isoformat(), doc_no=decision.doc_no or "—",
                   approved=(decision.decided_on or dt.date.today()).isoformat())
    record = CreditRecord(project_name=a.project_name, enterprise=enterprise, unit_id=a.unit_id, year=year,
                          promised_investment_10k=a.investment_10k, promised_output_10k=a.output_10k,
                          promised_tax_10k=a.tax_10k, note=note, created_by_id=created_by_id)
    session.add(record)
    session.flush()
    return record


def _take(session: Session, principal: Principal, a: ProjectAdmission, action: str, decision: review.Decision,
          allow_self_review: bool) -> ProjectAdmission:
    review.apply(session, ADMISSION_REVIEW, a, action, principal, decision, allow_self_review=allow_self_review)
    session.expire(a, ["submitted_by", "reviewed_by"])
    return a


def submit(session: Session, principal: Principal, a: ProjectAdmission) -> ProjectAdmission:
    return _take(session, principal, a, review.SUBMIT, review.Decision(), False)


def approve(session: Session, principal: Principal, a: ProjectAdmission, *, comment: str | None, doc_no: str | None,
            approval_date: dt.date | None, allow_self_review: bool = False) -> ProjectAdmission:
    decision = review.Decision(comment=(comment or "").strip() or None, doc_no=(doc_no or "").strip() or None,
                               decided_on=approval_date or dt.date.today())
    return _take(session, principal, a, review.APPROVE, decision, allow_self_review)


def return_admission(session: Session, principal: Principal, a: ProjectAdmission, comment: str | None, *,
                     allow_self_review: bool = False) -> ProjectAdmission:
    return _take(session, principal, a, review.RETURN, review.Decision(comment=(comment or "").strip() or None),
                 allow_self_review)


# --- views -------------------------------------------------------------------------


def _user(u: User | None, when=None) -> dict | None:
    """Who did it; a step taken with nobody named (the demo data's rows, ``demo.py``) is shown as such."""
    if u is None:
        return None if when is None else {"username": "", "display_name": message("admission_actor_unnamed")}
    return {"username": u.username, "display_name": u.display_name}


def _iso(value) -> str | None:
    return None if value is None else value.isoformat()


def view(session: Session, principal: Principal, a: ProjectAdmission, *, with_report: bool = True) -> dict:
    e = a.enterprise
    out = {
        "id": a.id, "code": a.code, "status": a.status.value, "status_label": status_label(a.status),
        "block": a.block.code, "block_name": a.block.name, "plan_version_no": a.plan_version_no,
        "unit": a.unit.code, "unit_name": a.unit.name,
        "enterprise_name": e.name if e else a.enterprise_name, "credit_code": e.credit_code if e else a.credit_code,
        "enterprise_registered": e is not None, "parcels": list(a.parcel_codes),
        "project_name": a.project_name, "industry_code": a.industry_code,
        "industry_name": division_name(a.industry_code),
        **{k: float(getattr(a, k)) for k in ("investment_10k", "output_10k", "tax_10k", "floor_area_m2", "far")},
        "start_on": a.start_on.isoformat(), "complete_on": a.complete_on.isoformat(), "note": a.note,
        "created_at": _iso(a.created_at), "created_by": _user(a.created_by, a.created_at),
        "submitted_at": _iso(a.submitted_at), "submitted_by": _user(a.submitted_by, a.submitted_at),
        "reviewed_at": _iso(a.reviewed_at), "reviewed_by": _user(a.reviewed_by, a.reviewed_at),
        "review_comment": a.review_comment, "approval_doc_no": a.approval_doc_no,
        "approval_date": _iso(a.approval_date), "credit_record_id": a.credit_record_id,
        "flagged": bool(a.report and a.report.get("flagged")),
        "version": a.row_version, "can_edit": can_edit(principal, a) and a.status.value in ADMISSION_REVIEW.flow.editable,
        "can_decide": can_decide(principal) and a.status == ReviewStatus.SUBMITTED,
    }
    if with_report:
        report = shown_report(session, a)
        out["report"] = report
        out["flagged"] = bool(report and report.get("flagged"))
    return out


def listing(session: Session, principal: Principal, *, block: str | None = None, status: ReviewStatus | None = None,
            unit: str | None = None) -> list[ProjectAdmission]:

    q = select(ProjectAdmission).order_by(ProjectAdmission.id.desc())
    where = readable(principal)
    if where is not None:
        q = q.where(where)
    if block:
        q = q.join(RenewalBlock, ProjectAdmission.block_id == RenewalBlock.id).where(RenewalBlock.code == block)
    if unit:
        q = q.join(Unit, ProjectAdmission.unit_id == Unit.id).where(Unit.code == unit)
    if status:
        q = q.where(ProjectAdmission.status == status.value)
    return list(session.scalars(q))


def blocks_for(session: Session, principal: Principal) -> list[dict]:
    """The approved blocks ``principal`` may write applications for, with their parcels and 产业导向 in force."""
    if principal.role not in (Role.ADMIN, Role.UNIT_OFFICER):
        raise NotAllowed(message("plan_unit_only", what=WHAT))
    q = select(BlockPlan).where(BlockPlan.current_version_no.is_not(None)).order_by(BlockPlan.code)
    if principal.role == Role.UNIT_OFFICER:
        q = q.where(BlockPlan.unit_id == principal.unit_id)
    out = []
    for plan in session.scalars(q):
        block = plan.block
        version = plan.version(plan.current_version_no)
        if block is None or version is None or block.review_status != ReviewStatus.APPROVED:
            continue
        owners = {e.id: e for e in session.scalars(select(Enterprise).where(
            Enterprise.id.in_({p.enterprise_id for p in version.parcels if p.enterprise_id})))}
        out.append({
            "code": block.code, "name": block.name, "unit": plan.unit.code, "unit_name": plan.unit.name,
            "plan_version_no": version.version_no, "industry_guidance": list(version.industry_guidance or []),
            "industry_guidance_names": [division_name(c) or "" for c in version.industry_guidance or []],
            "parcels": [{"code": p.parcel_code, "land_area_mu": float(p.land_area_mu),
                         "enterprise_name": owners[p.enterprise_id].name if p.enterprise_id in owners else None}
                        for p in version.parcels],
        })
    return out


def block_summary(session: Session, principal: Principal, code: str) -> dict:
    """The block panel's section: 产业导向 in force and the applications ``principal`` may read."""
    block = session.scalar(select(RenewalBlock).where(RenewalBlock.code == code))
    if block is None:
        raise NotFound(message("admission_block_unknown", code=code))
    plan = session.scalar(select(BlockPlan).where(BlockPlan.code == code))
    version = plan.version(plan.current_version_no) if plan is not None else None
    guidance = list(version.industry_guidance or []) if version is not None else []
    rows = listing(session, principal, block=code)
    return {"block": code, "block_name": block.name, "industry_guidance": guidance,
            "industry_guidance_names": [division_name(c) or "" for c in guidance],
            "data": [view(session, principal, a, with_report=False) for a in rows], "count": len(rows)}
