"""The review engine: one life-cycle for every reviewed object (block plans now; project admissions,
the 亩均 公示 later).

    draft ──submit──▶ submitted ──approve──▶ approved
      ▲                   │
      └──edit── returned ◀┘ return

A reviewed kind is a row of data, not a copy of a module:

* its *flow* is a transition table ``(state, action) → state`` (:data:`STANDARD_FLOW`);
* its rows carry the :class:`Reviewable` columns (status, who drafted, submitted and reviewed it,
  when, the comment, the document number and date, the rule report);
* a :class:`ReviewKind` says who may act (:meth:`ReviewKind.authorize`), what a decision must
  carry (:meth:`ReviewKind.validate`), which rules must pass (:meth:`ReviewKind.check`, the rule
  check hook), what else a transition does (:meth:`ReviewKind.effects`, e.g. publishing an
  approved plan) and whom to tell (:meth:`ReviewKind.recipients`).

:func:`apply` runs one action: who may act (403), whether the action fits the state (409),
separation of duties (403: the people who drafted or submitted a version never approve or
return it, admins included, unless the ``review_allow_self_approval`` setting relaxes it for a
single-person demo), the decision's own fields (400), the rules (422), then — in one unit of
work — the new state, the kind's effects, the review event, the audit entry and the
notifications. :func:`apply_each` runs a batch, each item on its own.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from sqlalchemy import Boolean, Date, DateTime, ForeignKey, String, Text, select
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, Session, declared_attr, mapped_column, relationship

from ..errors import AppError, FieldError, Forbidden, InvalidState
from ..messages import message
from .audit import audit_context
from .models import AuditEntry, ReviewEvent
from .notifications import notify
from .uow import unit_of_work

DRAFT, SUBMITTED, RETURNED, APPROVED = "draft", "submitted", "returned", "approved"
SUBMIT, APPROVE, RETURN = "submit", "approve", "return"


@dataclass(frozen=True)
class Flow:
    """A transition table: ``(state, action) → state``; ``decisions`` are the reviewers' actions."""

    transitions: dict[tuple[str, str], str]
    decisions: frozenset[str]
    editable: frozenset[str]  # states in which the content may be changed (and becomes a draft again)

    def target(self, state: str | None, action: str) -> str | None:
        return None if state is None else self.transitions.get((state, action))

    def actions(self, state: str | None) -> list[str]:
        return [a for (s, a) in self.transitions if s == state]


STANDARD_FLOW = Flow(
    transitions={
        (DRAFT, SUBMIT): SUBMITTED,
        (RETURNED, SUBMIT): SUBMITTED,
        (SUBMITTED, APPROVE): APPROVED,
        (SUBMITTED, RETURN): RETURNED,
    },
    decisions=frozenset({APPROVE, RETURN}),
    editable=frozenset({DRAFT, RETURNED}),
)


class Reviewable:
    """The columns of a reviewed row (one version of a reviewed object). The row also has a
    ``status`` column whose values are the flow's states (the kind's own string enum)."""

    submitted_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    reviewed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    review_comment: Mapped[str | None] = mapped_column(Text)
    approval_doc_no: Mapped[str | None] = mapped_column(String(64))  # e.g. 认定文号
    approval_date: Mapped[dt.date | None] = mapped_column(Date)
    report: Mapped[dict | None] = mapped_column(JSONB)  # the rule report of the last check
    report_passed: Mapped[bool | None] = mapped_column(Boolean)

    @declared_attr
    def created_by_id(cls) -> Mapped[int | None]:
        return mapped_column(ForeignKey("users.id"))

    @declared_attr
    def submitted_by_id(cls) -> Mapped[int | None]:
        return mapped_column(ForeignKey("users.id"))

    @declared_attr
    def reviewed_by_id(cls) -> Mapped[int | None]:
        return mapped_column(ForeignKey("users.id"))

    @declared_attr
    def created_by(cls):
        return relationship("User", foreign_keys=f"{cls.__name__}.created_by_id")

    @declared_attr
    def submitted_by(cls):
        return relationship("User", foreign_keys=f"{cls.__name__}.submitted_by_id")

    @declared_attr
    def reviewed_by(cls):
        return relationship("User", foreign_keys=f"{cls.__name__}.reviewed_by_id")


class Actor(Protocol):
    """Who acts: the authenticated user (``app.auth.Principal``)."""

    @property
    def id(self) -> int: ...


@dataclass(frozen=True)
class Decision:
    """What an action carries: a comment (a return's reason), a document number and date (认定)."""

    comment: str | None = None
    doc_no: str | None = None
    decided_on: dt.date | None = None


class RulesFailed(AppError):
    """The object fails its rules, so it cannot be submitted or approved; ``errors`` lists each rule."""

    status_code = 422
    code = "rules_failed"

    def __init__(self, what: str, action_label: str, report: dict, code: str | None = None) -> None:
        errors = [
            FieldError(v["code"], v["message_zh"], ",".join(map(str, v["feature_ids"])) or None)
            for v in report.get("violations", []) if v["severity"] == "error"
        ] + [
            FieldError(p["code"], p.get("message_zh") or p.get("message") or p["code"],
                       ",".join(map(str, p.get("feature_ids") or [])) or None)
            for p in report.get("problems", []) if p.get("severity") == "error"
        ]
        first = errors[0].message if errors else ""
        super().__init__(message("review_rules_failed", what=what, action=action_label, count=len(errors),
                                 first=first), errors)
        self.report = report
        if code:
            self.code = code


class SeparationOfDuties(Forbidden):
    code = "separation_of_duties"


ACTION_LABELS = {SUBMIT: "提交", APPROVE: "认定", RETURN: "退回"}


class ReviewKind:
    """A reviewed kind of object. Subclasses name it and fill in the hooks; ``S`` is the subject
    (e.g. a block plan), whose version under review is a :class:`Reviewable` row."""

    subject_type: str = ""  # e.g. "block_plan": the subject type of notifications and review events
    label: str = ""  # e.g. "区块方案"
    rules_failed_code: str = "rules_failed"  # the error code of a refusal by the rules
    flow: Flow = STANDARD_FLOW
    action_labels: dict[str, str] = ACTION_LABELS
    # Audit actions that make a person an author of a version (never its reviewer).
    drafting_actions: frozenset[str] = frozenset({SUBMIT})

    def code(self, subject: Any) -> str:
        raise NotImplementedError

    def version(self, subject: Any, action: str) -> Reviewable | None:
        """The version an action applies to (None: there is none, e.g. nothing is under review)."""
        raise NotImplementedError

    def version_no(self, version: Reviewable) -> int | None:
        return getattr(version, "version_no", None)

    def audit_object(self, subject: Any) -> Any:
        """The object whose ``audit_subject()`` groups the audit rows (and whose ETag moves)."""
        return subject

    def authorize(self, actor: Actor, subject: Any, action: str) -> None:
        """Raise 403 when ``actor`` may not take ``action`` on ``subject``."""

    def refusal(self, subject: Any, version: Reviewable | None, action: str) -> AppError:
        """The 409 for an action that does not fit the current state."""
        state = None if version is None else _state(version)
        return InvalidState(message("review_invalid_state", what=self.label, state=state or "—",
                                    action=self.action_labels.get(action, action)))

    def validate(self, subject: Any, action: str, decision: Decision) -> None:
        """Raise 400 when the decision lacks what the action needs."""

    def check(self, session: Session, subject: Any, version: Reviewable, action: str) -> dict | None:
        """The rule check hook: a report with ``passed`` (and its violations), or None (no rules)."""
        return None

    def authors(self, session: Session, subject: Any, version: Reviewable) -> set[int]:
        """Who drafted or submitted this version: its creator, its submitter, and whoever wrote it
        under a drafting action (read from the audit log)."""
        ids = {version.created_by_id, version.submitted_by_id}
        table = getattr(version, "__tablename__", None)
        row_id = getattr(version, "id", None)
        if table and row_id is not None and self.drafting_actions:
            ids |= set(session.scalars(select(AuditEntry.user_id).where(
                AuditEntry.object_type == table, AuditEntry.object_id == str(row_id),
                AuditEntry.action.in_(self.drafting_actions))))
        return {i for i in ids if i is not None}

    def effects(self, session: Session, subject: Any, version: Reviewable, action: str, target: str, actor: Actor,
                decision: Decision, report: dict | None) -> None:
        """What else the transition does, inside its unit of work (e.g. publish what was approved)."""

    def recipients(self, session: Session, subject: Any, version: Reviewable, action: str) -> set[int]:
        """Who is told of the outcome (decisions only by default); empty: nobody."""
        return set()

    def notice(self, subject: Any, version: Reviewable, action: str, decision: Decision) -> str | None:
        return None


def _state(version: Reviewable) -> str:
    status = version.status
    return getattr(status, "value", status)


def apply(session: Session, kind: ReviewKind, subject: Any, action: str, actor: Actor,
          decision: Decision = Decision(), *, allow_self_review: bool = False) -> str:
    """Take ``action`` on ``subject`` as ``actor``; returns the new state. See the module docstring."""
    kind.authorize(actor, subject, action)
    version = kind.version(subject, action)
    target = kind.flow.target(None if version is None else _state(version), action)
    if version is None or target is None:
        raise kind.refusal(subject, version, action)
    if action in kind.flow.decisions and not allow_self_review and actor.id in kind.authors(session, subject, version):
        raise SeparationOfDuties(message("review_own_work", what=kind.label, action=kind.action_labels.get(action, action)))
    kind.validate(subject, action, decision)
    report = kind.check(session, subject, version, action)
    if report is not None and not report.get("passed"):
        raise RulesFailed(kind.label, kind.action_labels.get(action, action), report, kind.rules_failed_code)
    source = _state(version)
    now = dt.datetime.now(dt.UTC)
    with unit_of_work(session), audit_context(session, action, kind.audit_object(subject)):
        version.status = type(version.status)(target)  # the kind's own enum of the flow's states
        if report is not None:
            version.report, version.report_passed = report, bool(report.get("passed"))
        if action == SUBMIT:
            version.submitted_by_id, version.submitted_at = actor.id, now
        if action in kind.flow.decisions:
            version.reviewed_by_id, version.reviewed_at = actor.id, now
            version.review_comment = decision.comment
        if target == APPROVED:
            version.approval_doc_no, version.approval_date = decision.doc_no, decision.decided_on
        kind.effects(session, subject, version, action, target, actor, decision, report)
        session.add(ReviewEvent(
            subject_type=kind.subject_type, subject_code=kind.code(subject), version_no=kind.version_no(version),
            action=action, from_state=source, to_state=target, actor_id=actor.id, comment=decision.comment,
            doc_no=decision.doc_no if target == APPROVED else None,
            decided_on=decision.decided_on if target == APPROVED else None,
            report_passed=None if report is None else bool(report.get("passed")),
        ))
        text = kind.notice(subject, version, action, decision)
        if text:
            notify(session, kind.recipients(session, subject, version, action), target, text,
                   subject_type=kind.subject_type, subject_code=kind.code(subject))
    return target


T = TypeVar("T")


def apply_each(items: Iterable[T], run: Callable[[T], dict]) -> list[dict]:
    """A batch (成熟一批评审一批): each item in its own unit of work; one that fails is reported with
    its status and message and the others go on."""
    results = []
    for item in items:
        try:
            results.append({"ok": True, **run(item)})
        except AppError as exc:
            results.append({"ok": False, "status_code": exc.status_code, "error": exc.code, "detail": exc.detail,
                            "errors": [{"field": e.field, "message": e.message} for e in exc.errors]})
    return results
