"""Typical cases (工作推进): each quarter the administrator marks one block as that quarter's 现场会
block, with the day, notes and photos. One per quarter (a second is 409); the day must fall in the
quarter; photos are JPEG or PNG (read from their bytes) up to the evidence size limit each."""

from __future__ import annotations

import datetime as dt
import hashlib

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import flag_modified

from ..auth.deps import Principal
from ..core.audit import audit_context
from ..core.forms import Form, FormFile
from ..core.uow import unit_of_work
from ..errors import Conflict, FieldError, InvalidFeatures, InvalidUpload, NotFound
from ..messages import message
from ..models import RenewalBlock
from ..progress.reporting import clean_filename, evidence_type
from .models import SiteMeeting, SiteMeetingPhoto

PHOTO_TYPES = {"image/jpeg": "JPEG", "image/png": "PNG"}
MAX_PHOTOS = 12
MAX_NOTES = 5000


def _refuse(field: str, text_: str) -> InvalidFeatures:
    return InvalidFeatures(text_, [FieldError(field, text_)])


def quarter_of(day: dt.date) -> int:
    return (day.month - 1) // 3 + 1


def meetings(session: Session, *, year: int | None = None, block: str | None = None) -> list[SiteMeeting]:
    stmt = select(SiteMeeting).join(RenewalBlock, RenewalBlock.id == SiteMeeting.block_id)
    if year is not None:
        stmt = stmt.where(SiteMeeting.year == year)
    if block:
        stmt = stmt.where(RenewalBlock.code == block)
    return list(session.scalars(stmt.order_by(SiteMeeting.year.desc(), SiteMeeting.quarter.desc())))


def meeting(session: Session, meeting_id: int) -> SiteMeeting:
    row = session.get(SiteMeeting, meeting_id) if 0 < meeting_id < 2**31 else None
    if row is None:
        raise NotFound(message("case_not_found", id=meeting_id))
    return row


def view(m: SiteMeeting) -> dict:
    return {"id": m.id, "year": m.year, "quarter": m.quarter,
            "label": message("case_quarter_label", year=m.year, quarter=m.quarter),
            "block": m.block.code, "block_name": m.block.name, "unit": m.block.unit.code,
            "unit_name": m.block.unit.name, "held_on": m.held_on.isoformat(), "notes": m.notes,
            "created_by": m.created_by, "version": m.row_version,
            "photos": [{"id": p.id, "filename": p.filename, "content_type": p.content_type,
                        "size_bytes": p.size_bytes, "url": f"/api/cases/photos/{p.id}"} for p in m.photos]}


def _int(form: Form, name: str, low: int, high: int) -> int:
    raw = form.fields.get(name, "").strip()
    if not raw.isdigit() or not low <= int(raw) <= high:
        raise _refuse(name, message("case_number", field=message(f"case_field_{name}"), low=low, high=high))
    return int(raw)


def _day(form: Form, name: str) -> dt.date:
    raw = form.fields.get(name, "").strip()
    try:
        return dt.date.fromisoformat(raw)
    except ValueError:
        raise _refuse(name, message("case_date", value=raw or message("change_empty"))) from None


def _photos(files: list[FormFile], max_bytes: int, already: int = 0) -> list[tuple[str, str, bytes]]:
    if already + len(files) > MAX_PHOTOS:
        raise _refuse("photos", message("case_photo_count", max=MAX_PHOTOS))
    out = []
    for f in files:
        name = clean_filename(f.filename)
        mime = evidence_type(name, f.data, max_bytes)
        if mime not in PHOTO_TYPES:
            text_ = message("case_photo_type", name=name)
            raise InvalidUpload(text_, [FieldError("photos", text_)], code="evidence_type", status_code=415)
        out.append((name, mime, f.data))
    return out


def _add_photos(session: Session, m: SiteMeeting, photos: list[tuple[str, str, bytes]], username: str) -> None:
    for name, mime, data in photos:
        m.photos.append(SiteMeetingPhoto(filename=name, content_type=mime, size_bytes=len(data),
                                         sha256=hashlib.sha256(data).hexdigest(), content=data, uploaded_by=username))


def create(session: Session, principal: Principal, form: Form, max_bytes: int) -> SiteMeeting:
    """Mark a block as a quarter's 现场会 block (administrators): multipart fields year, quarter, block,
    held_on, notes, and photos."""
    year = _int(form, "year", 2000, 2100)
    quarter = _int(form, "quarter", 1, 4)
    code = form.fields.get("block", "").strip()
    block = session.scalar(select(RenewalBlock).where(RenewalBlock.code == code)) if code else None
    if block is None:
        raise _refuse("block", message("block_not_found", code=code or message("change_empty")))
    held_on = _day(form, "held_on")
    if held_on.year != year or quarter_of(held_on) != quarter:
        raise _refuse("held_on", message("case_day_outside_quarter", day=held_on.isoformat(), year=year,
                                         quarter=quarter))
    notes = form.fields.get("notes", "").strip()
    if not notes or len(notes) > MAX_NOTES:
        raise _refuse("notes", message("case_notes", max=MAX_NOTES))
    photos = _photos(form.files_of("photos"), max_bytes)
    taken = session.scalar(select(SiteMeeting).where(SiteMeeting.year == year, SiteMeeting.quarter == quarter))
    if taken is not None:
        raise Conflict(message("case_quarter_taken", year=year, quarter=quarter, block=taken.block.name),
                       [FieldError("quarter", message("case_quarter_taken", year=year, quarter=quarter,
                                                      block=taken.block.name))])
    with unit_of_work(session), audit_context(session, "site_meeting"):
        m = SiteMeeting(year=year, quarter=quarter, block_id=block.id, held_on=held_on, notes=notes,
                        created_by=principal.username)
        session.add(m)
        session.flush()
        _add_photos(session, m, photos, principal.username)
    session.refresh(m)
    return m


def update(session: Session, principal: Principal, m: SiteMeeting, *, notes: str | None,
           held_on: dt.date | None, block: str | None = None) -> SiteMeeting:
    """Correct a quarter's 现场会: its notes, day (inside the quarter) or block."""
    target = None
    if block is not None:
        target = session.scalar(select(RenewalBlock).where(RenewalBlock.code == block.strip()))
        if target is None:
            raise _refuse("block", message("block_not_found", code=block.strip() or message("change_empty")))
    if held_on is not None and (held_on.year != m.year or quarter_of(held_on) != m.quarter):
        raise _refuse("held_on", message("case_day_outside_quarter", day=held_on.isoformat(), year=m.year,
                                         quarter=m.quarter))
    if notes is not None and (not notes.strip() or len(notes) > MAX_NOTES):
        raise _refuse("notes", message("case_notes", max=MAX_NOTES))
    with unit_of_work(session), audit_context(session, "site_meeting_update", m):
        if notes is not None:
            m.notes = notes.strip()
        if held_on is not None:
            m.held_on = held_on
        if target is not None:
            m.block_id = target.id
    session.refresh(m)
    return m


def add_photos(session: Session, principal: Principal, m: SiteMeeting, form: Form, max_bytes: int) -> SiteMeeting:
    files = form.files_of("photos")
    if not files:
        raise _refuse("photos", message("case_photo_none"))
    photos = _photos(files, max_bytes, already=len(m.photos))
    with unit_of_work(session), audit_context(session, "site_meeting_photos", m):
        _add_photos(session, m, photos, principal.username)
        flag_modified(m, "notes")  # the meeting's version (its ETag) moves with its photos
    session.refresh(m)
    return m


def photo(session: Session, photo_id: int) -> SiteMeetingPhoto:
    row = session.get(SiteMeetingPhoto, photo_id) if 0 < photo_id < 2**31 else None
    if row is None:
        raise NotFound(message("case_photo_not_found", id=photo_id))
    return row
