"""Where each unit's 月报 of a month stands: 未报送, 已报送, 已退回, 逾期未报送 (read by the monthly table,
the office's overview and the officer's page; the writes are in ``reporting``)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..actionplans.calendar import Calendar, Deadline
from ..messages import message
from .models import ProgressSubmission

STATUSES = ("not_submitted", "submitted", "returned", "overdue", "not_required")


def status_label(status: str) -> str:
    return message(f"reporting_status_{status}")


def status_of(submission: ProgressSubmission | None, deadline: Deadline, on: dt.date, required: bool = True) -> str:
    if submission is not None and submission.status == "submitted":
        return "submitted"
    if deadline.is_closed(on):
        return "overdue" if required else "not_required"
    return "returned" if submission is not None else "not_submitted"


@dataclass(frozen=True)
class MonthState:
    deadline: Deadline
    by_unit: dict[int, ProgressSubmission]
    on: dt.date
    required: bool  # a closed month nobody submitted was not run as a 月报 month (e.g. before 月报 began)

    def status(self, unit_id: int) -> str:
        return status_of(self.by_unit.get(unit_id), self.deadline, self.on, self.required)


def month_state(session: Session, year: int, month: int, on: dt.date) -> MonthState:
    deadline = Calendar(session).deadline(year, month)
    rows = session.scalars(select(ProgressSubmission).where(ProgressSubmission.year == year,
                                                            ProgressSubmission.month == month))
    by_unit = {r.unit_id: r for r in rows}
    # A month is a 月报 month while it is open, and once closed if any unit submitted it (even if returned):
    # then a unit that did not (or was returned and did not submit again) is 逾期未报送. A closed month nobody submitted (before 月报 began) had no 月报 to miss.
    required = not deadline.is_closed(on) or bool(by_unit)
    return MonthState(deadline, by_unit, on, required)
