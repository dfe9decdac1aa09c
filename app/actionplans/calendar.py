"""The reporting calendar: when each month's 月报 is due, which months are still open, and the day
up to which what was recorded counts in a day's figures.

The 月报 of month M is open from the 1st of M to its due day: the plan's ``report_due_day`` of the
following month (the 5th by default), unless an administrator moved that month's deadline while it
was open (``report_deadlines``). The figures for any day D of M are computed from what was known by
M's due day — so what the towns report for M by then counts in M — and never change afterwards
(docs/assessment.md §1): a due day that has passed can be neither moved nor reopened.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..core.audit import audit_context
from ..core.uow import unit_of_work
from ..errors import Conflict, FieldError, InvalidFeatures, InvalidParameter
from ..messages import message
from .models import ActionPlan, ReportDeadline
from .service import _in_force, listing, today

DEFAULT_DUE_DAY = 5
# A moved deadline stays within this many days after the month's end (a month is not left open for ever).
MAX_DAYS_AFTER_MONTH = 60


def next_month(year: int, month: int) -> tuple[int, int]:
    return (year + 1, 1) if month == 12 else (year, month + 1)


def previous_month(year: int, month: int) -> tuple[int, int]:
    return (year - 1, 12) if month == 1 else (year, month - 1)


def month_label(year: int, month: int) -> str:
    return message("reporting_month_label", year=year, month=month)


@dataclass(frozen=True)
class Deadline:
    year: int
    month: int
    due_on: dt.date
    moved: bool = False
    reason: str | None = None
    set_by: str | None = None

    @property
    def first_day(self) -> dt.date:
        return dt.date(self.year, self.month, 1)

    def is_open(self, on: dt.date) -> bool:
        return self.first_day <= on <= self.due_on

    def is_closed(self, on: dt.date) -> bool:
        return on > self.due_on


class Calendar:
    """The deadlines, with the plans and the moved deadlines read once (for a loop over many months)."""

    def __init__(self, session: Session) -> None:
        self._plans: list[ActionPlan] = listing(session)
        self._moved = {(d.year, d.month): d for d in session.scalars(select(ReportDeadline))}

    def due_day(self, year: int) -> int:
        plan = _in_force(self._plans, year)
        return DEFAULT_DUE_DAY if plan is None else int(plan.report_due_day)

    def deadline(self, year: int, month: int) -> Deadline:
        moved = self._moved.get((year, month))
        if moved is not None:
            return Deadline(year, month, moved.due_on, True, moved.reason, moved.set_by)
        ny, nm = next_month(year, month)
        return Deadline(year, month, dt.date(ny, nm, self.due_day(year)))

    def knowledge_day(self, day: dt.date) -> dt.date:
        """What was recorded up to this day counts in the figures for ``day``: its month's due day."""
        return self.deadline(day.year, day.month).due_on

    def open_months(self, on: dt.date) -> list[Deadline]:
        """The months whose 月报 is open on ``on``, oldest first (the current month is always one)."""
        out = []
        y, m = on.year, on.month
        for _ in range(3):  # a deadline moves at most MAX_DAYS_AFTER_MONTH past its month
            y, m = previous_month(y, m)
        for _ in range(4):
            d = self.deadline(y, m)
            if d.is_open(on):
                out.append(d)
            y, m = next_month(y, m)
        return out

    def first_open_day(self, on: dt.date) -> dt.date:
        """The first day of the oldest open month: nothing may be dated before it any more."""
        months = self.open_months(on)
        return months[0].first_day if months else dt.date(on.year, on.month, 1)


def knowledge_day(session: Session, day: dt.date) -> dt.date:
    return Calendar(session).knowledge_day(day)


def move_deadline(session: Session, year: int, month: int, due_on: dt.date, reason: str, by: str,
                  on: dt.date | None = None) -> Deadline:
    """Move an open month's deadline (an administrator): never after it has passed, never to a past day."""
    on = on or today()
    reason = (reason or "").strip()
    errors = []
    if not reason:
        errors.append(FieldError("reason", message("reporting_deadline_reason_missing")))
    elif len(reason) > 500:
        errors.append(FieldError("reason", message("reporting_text_too_long", max=500)))
    current = Calendar(session).deadline(year, month)
    if current.is_closed(on):
        raise Conflict(message("reporting_deadline_passed", month=month_label(year, month),
                               due=current.due_on.isoformat()))
    ny, nm = next_month(year, month)
    latest = dt.date(ny, nm, 1) + dt.timedelta(days=MAX_DAYS_AFTER_MONTH - 1)
    if due_on < on:
        errors.append(FieldError("due_on", message("reporting_deadline_before_today", today=on.isoformat())))
    elif due_on <= dt.date(year, month, 1):
        errors.append(FieldError("due_on", message("reporting_deadline_in_month", month=month_label(year, month))))
    elif due_on > latest:
        errors.append(FieldError("due_on", message("reporting_deadline_too_late", latest=latest.isoformat())))
    if errors:
        if len(errors) == 1:
            raise InvalidParameter(errors[0].field, errors[0].message)
        raise InvalidFeatures(message("reporting_deadline_invalid"), errors)
    with unit_of_work(session), audit_context(session, "move_report_deadline"):
        row = session.get(ReportDeadline, (year, month), with_for_update=True)
        if row is None:
            row = ReportDeadline(year=year, month=month)
            session.add(row)
        row.due_on, row.reason, row.set_by = due_on, reason, by
    return Calendar(session).deadline(year, month)
