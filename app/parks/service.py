"""Parks: find one, correct its attributes, remove it — each write in one audited unit of work.

Boundaries change only through an upload (target ``parks``: the same validity, CRS and overlap
checks as parcels and blocks, all-or-nothing); here are the attribute corrections.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..core.audit import audit_context
from ..core.uow import unit_of_work
from ..enums import ParkKind
from ..errors import InvalidParameter, NotFound
from ..messages import message
from ..models import Park, Unit
from .schemas import ParkUpdate


def get(session: Session, code: str) -> Park:
    park = session.scalar(select(Park).where(Park.code == code))
    if park is None:
        raise NotFound(message("park_not_found", code=code))
    return park


def update(session: Session, park: Park, body: ParkUpdate) -> Park:
    """Change the fields sent; a 开发区 belongs to no town, a 镇街工业园区 to the one named (or kept)."""
    sent = body.model_dump(exclude_unset=True)
    with unit_of_work(session), audit_context(session, "update_park", park):
        if sent.get("name") is not None:
            name = sent["name"].strip()
            if not name:
                raise InvalidParameter("name", message("park_name_required"))
            park.name = name
        if sent.get("kind") is not None:
            park.kind = ParkKind(sent["kind"])
            if park.kind == ParkKind.DEVELOPMENT_ZONE and "unit" not in sent:
                park.unit_id = None
        if "unit" in sent:
            code = (sent["unit"] or "").strip()
            if code:
                unit = session.scalar(select(Unit).where(Unit.code == code))
                if unit is None:
                    raise InvalidParameter("unit", message("unknown_unit", code=code))
                park.unit_id = unit.id
            else:
                park.unit_id = None
        if "approval" in sent:
            park.approval = (sent["approval"] or "").strip() or None
        if sent.get("is_schematic") is not None:
            park.is_schematic = bool(sent["is_schematic"])
        if park.kind == ParkKind.DEVELOPMENT_ZONE and park.unit_id is not None:
            raise InvalidParameter("unit", message("park_zone_without_unit"))
        if park.kind == ParkKind.TOWN_PARK and park.unit_id is None:
            raise InvalidParameter("unit", message("park_town_needs_unit"))
    return park


def delete(session: Session, park: Park) -> None:
    with unit_of_work(session), audit_context(session, "delete_park", park):
        session.delete(park)
