"""Inside an approved block, as of a date: the ground of the plan's financial support.

The plan (一.1, 三.(四).5) makes an approved block's 四至 boundary and enterprise list the
“后期财政扶持奖励区域认定依据”. On a day, a block's boundary and list are those of its plan's
**version in force**: approved (认定) with its 认定日期 (or 1 January of its 认定年度 when no date
was recorded) on or before the day and not yet superseded by a later approved revision — the
same order as the 一表's ``in_force`` (app/progress/service.py: the latest approval date, then the
highest version number). Approved blocks loaded without a plan count with their own boundary and
their parcels' enterprises from their approval.

* an **enterprise** (credit code) is inside when it is on the enterprise list (企业清单) of a version
  in force;
* a **parcel** (code) is inside when at least ``spatial.INSIDE_MIN_SHARE`` (99 %) of its area (its
  stored shape, projected to EPSG:4549) lies within the approved boundary of a version in force
  (``spatial.share_inside``); whether the version also lists it is reported alongside.

:func:`history` gives every interval in which the subject was inside a block (one per version in
force), :func:`membership` the answer for one day, with the day it has been inside that block
without a break (``since``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import shapely
from sqlalchemy import select, text
from sqlalchemy.orm import Session

import spatial

from ..errors import FieldError, InvalidParameter, NotFound
from ..messages import message
from ..models import Enterprise, Parcel

# Every approved version of every published plan (and each approved block without a plan), in order of
# coming into force; ``member`` says whether the subject is on its list, ``boundary`` is its shape when it
# meets the parcel's (parcels only).
_VERSIONS = """
SELECT b.id AS block_id, b.code AS block_code, v.name AS block_name, u.id AS unit_id, u.code AS unit_code,
       u.name AS unit_name, v.version_no, v.approval_doc_no AS doc_no, v.approval_date,
       coalesce(v.approval_date, make_date(v.year, 1, 1)) AS effective, {member} AS member, {boundary} AS boundary
FROM block_versions v
JOIN block_plans bp ON bp.id = v.plan_id
JOIN renewal_blocks b ON b.id = bp.block_id
JOIN units u ON u.id = b.unit_id
WHERE v.status = 'approved'
UNION ALL
SELECT b.id, b.code, b.name, u.id, u.code, u.name, NULL, b.approval_doc_no, b.approval_date,
       coalesce(b.approval_date, make_date(b.designated_year, 1, 1)), {member_plain}, {boundary_plain}
FROM renewal_blocks b JOIN units u ON u.id = b.unit_id
WHERE b.review_status = 'approved' AND NOT EXISTS (SELECT 1 FROM block_plans bp WHERE bp.block_id = b.id)
  AND coalesce(b.approval_date, make_date(b.designated_year, 1, 1)) IS NOT NULL
ORDER BY block_code, effective, version_no NULLS FIRST
"""
_ENTERPRISE = {
    "member": "EXISTS (SELECT 1 FROM block_version_enterprises e WHERE e.version_id = v.id AND e.enterprise_id = :sid)",
    "member_plain": "EXISTS (SELECT 1 FROM parcels p WHERE p.block_id = b.id AND p.enterprise_id = :sid)",
    "boundary": "NULL::bytea", "boundary_plain": "NULL::bytea",
}
_PARCEL = {
    "member": "EXISTS (SELECT 1 FROM block_version_parcels e WHERE e.version_id = v.id AND e.parcel_id = :sid)",
    "member_plain": "EXISTS (SELECT 1 FROM parcels p WHERE p.block_id = b.id AND p.id = :sid)",
    "boundary": "CASE WHEN ST_Intersects(v.geom, (SELECT geom FROM parcels WHERE id = :sid)) "
                "THEN ST_AsBinary(v.geom) END",
    "boundary_plain": "CASE WHEN ST_Intersects(b.geom, (SELECT geom FROM parcels WHERE id = :sid)) "
                      "THEN ST_AsBinary(b.geom) END",
}
_SQL = {"enterprise": text(_VERSIONS.format(**_ENTERPRISE)), "parcel": text(_VERSIONS.format(**_PARCEL))}


@dataclass(frozen=True)
class Subject:
    kind: str  # enterprise | parcel
    id: int
    code: str  # credit code or parcel code
    name: str  # the enterprise's name, or the parcel's code
    unit_id: int | None  # the parcel's unit (None for an enterprise)

    @property
    def label(self) -> str:
        return message("boundary_subject_enterprise" if self.kind == "enterprise" else "boundary_subject_parcel",
                       name=self.name, code=self.code)


@dataclass(frozen=True)
class Interval:
    """The subject inside a block while one version was in force: from ``start`` to ``end`` (exclusive;
    None: still in force)."""

    block_id: int
    block_code: str
    block_name: str
    unit_id: int
    unit_code: str
    unit_name: str
    version_no: int | None
    doc_no: str | None
    approval_date: dt.date | None
    start: dt.date
    end: dt.date | None
    listed: bool  # on the version's parcel or enterprise list
    share_inside: float | None  # parcels: the share of the parcel's area inside the boundary

    def covers(self, day: dt.date) -> bool:
        return self.start <= day and (self.end is None or day < self.end)

    def to_dict(self) -> dict:
        return {"block": self.block_code, "block_name": self.block_name, "unit": self.unit_code,
                "unit_name": self.unit_name, "version_no": self.version_no, "doc_no": self.doc_no,
                "approval_date": _iso(self.approval_date), "from": self.start.isoformat(), "to": _iso(self.end),
                "listed": self.listed,
                "share_inside": None if self.share_inside is None else round(self.share_inside, 4)}


def _iso(day: dt.date | None) -> str | None:
    return None if day is None else day.isoformat()


def subject(session: Session, *, parcel: str | None = None, enterprise: str | None = None) -> Subject:
    """The parcel (by code) or the enterprise (by credit code) asked about: exactly one of the two."""
    parcel, enterprise = (parcel or "").strip() or None, (enterprise or "").strip().upper() or None
    if (parcel is None) == (enterprise is None):
        raise InvalidParameter("enterprise" if enterprise is None and parcel is None else "parcel",
                               message("boundary_subject_one"))
    if parcel is not None:
        row = session.scalar(select(Parcel).where(Parcel.code == parcel))
        if row is None:
            text_ = message("parcel_not_found", code=parcel)
            raise NotFound(text_, [FieldError("parcel", text_)])
        return Subject("parcel", row.id, row.code, row.code, row.unit_id)
    row = session.scalar(select(Enterprise).where(Enterprise.credit_code == enterprise))
    if row is None:
        text_ = message("enterprise_unknown", code=enterprise)
        raise NotFound(text_, [FieldError("enterprise", text_)])
    return Subject("enterprise", row.id, row.credit_code, row.name, None)


def _parcel_shape(session: Session, parcel_id: int):
    wkb = session.scalar(text("SELECT ST_AsBinary(geom) FROM parcels WHERE id = :id"), {"id": parcel_id})
    return None if wkb is None else spatial.to_area_crs(shapely.from_wkb(bytes(wkb)))


def history(session: Session, who: Subject) -> list[Interval]:
    """Every interval in which ``who`` was inside an approved block, in order (block, then date)."""
    rows = session.execute(_SQL[who.kind], {"sid": who.id}).mappings().all()
    part = _parcel_shape(session, who.id) if who.kind == "parcel" else None
    out: list[Interval] = []
    for k, row in enumerate(rows):
        following = rows[k + 1] if k + 1 < len(rows) and rows[k + 1]["block_id"] == row["block_id"] else None
        end = following["effective"] if following is not None else None
        if end is not None and end <= row["effective"]:
            continue  # superseded on the day it came into force
        share = None
        if who.kind == "parcel":
            share = 0.0 if row["boundary"] is None or part is None else spatial.share_inside(
                part, spatial.to_area_crs(shapely.from_wkb(bytes(row["boundary"]))))
            inside = share >= spatial.INSIDE_MIN_SHARE
        else:
            inside = bool(row["member"])
        if not inside:
            continue
        out.append(Interval(row["block_id"], row["block_code"], row["block_name"], row["unit_id"], row["unit_code"],
                            row["unit_name"], row["version_no"], row["doc_no"], row["approval_date"],
                            row["effective"], end, bool(row["member"]), share))
    return out


def since(intervals: list[Interval], current: Interval) -> dt.date:
    """The first day of the unbroken run of intervals in the same block that ends with ``current``."""
    start = current.start
    for iv in reversed([i for i in intervals if i.block_id == current.block_id and i.start < current.start]):
        if iv.end != start:
            break
        start = iv.start
    return start


def membership(session: Session, *, parcel: str | None = None, enterprise: str | None = None,
               on: dt.date, who: Subject | None = None) -> dict | None:
    """Which approved block the parcel or enterprise lay inside on ``on``: the block (code, name, unit), the
    plan version in force then with its 认定文号 and date, and since when without a break; None when
    outside every approved boundary that day."""
    who = who or subject(session, parcel=parcel, enterprise=enterprise)
    intervals = history(session, who)
    current = next((iv for iv in intervals if iv.covers(on)), None)
    if current is None:
        return None
    return {**current.to_dict(), "since": since(intervals, current).isoformat()}


def answer(session: Session, *, parcel: str | None, enterprise: str | None, on: dt.date) -> dict:
    """The endpoint's answer: the subject, the day, inside or not, where and since when, and the history."""
    who = subject(session, parcel=parcel, enterprise=enterprise)
    intervals = history(session, who)
    current = next((iv for iv in intervals if iv.covers(on)), None)
    found = None if current is None else {**current.to_dict(), "since": since(intervals, current).isoformat()}
    if found is not None:
        sentence = message("boundary_inside", subject=who.label, on=on.isoformat(), block=found["block_name"],
                           code=found["block"], since=found["since"])
    else:
        sentence = message("boundary_outside", subject=who.label, on=on.isoformat())
    return {"subject": {"kind": who.kind, "code": who.code, "name": who.name}, "on": on.isoformat(),
            "inside": found is not None, "membership": found, "sentence": sentence,
            "history": [iv.to_dict() for iv in intervals], "min_share": spatial.INSIDE_MIN_SHARE}
