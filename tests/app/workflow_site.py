"""Test parcels for the workflow tests: boxes in EPSG:4549 metres at an empty spot, with enterprises."""

from __future__ import annotations

import zlib
from decimal import Decimal

import shapely
from shapely import box
from sqlalchemy import select
from sqlalchemy.orm import Session

import spatial
from app.credit_code import check_character
from app.enums import Classification, ParkKind, RenewalType
from app.models import Enterprise, Parcel, Park, Unit

# An empty spot west of the demo data (EPSG:4549 metres); nothing stored lies within 2 km.
ORIGIN_X, ORIGIN_Y = 40_000.0, 3_380_000.0
SIDE_M = 300.0  # a 300 m × 300 m box is 135 亩
PARK_MARGIN_M = 1_000.0  # the test park reaches this far around a site (a 连片 block lies in a park: docs/parks.md)
FOUR = {"four_east": "东至试验路", "four_south": "南至试验河", "four_west": "西至甲村农田", "four_north": "北至乙路"}


def credit_code(serial: int) -> str:
    first17 = f"91330483MA{serial:07d}"
    return first17 + check_character(first17)


def make_site(session: Session, unit_code: str, prefix: str, offsets: list[tuple[float, float]], *,
              classification: str | None = "upgrade", far: float = 2.5, serial_base: int = 0,
              origin: tuple[float, float] = (ORIGIN_X, ORIGIN_Y), in_park: bool = True) -> list[str]:
    """One parcel (with its own enterprise) per (dx, dy) offset in metres; returns the parcel codes.

    With ``in_park`` (the default) the site lies in a 镇街工业园区 (one made for it unless a stored park
    covers it already), so that its plans pass the rule that a 连片 block lies inside a park."""
    unit = session.scalar(select(Unit).where(Unit.code == unit_code))
    codes = []
    boxes = []
    for k, (dx, dy) in enumerate(offsets, start=1):
        x, y = origin[0] + dx, origin[1] + dy
        geom_4549 = box(x, y, x + SIDE_M, y + SIDE_M)
        geom = spatial.reproject(geom_4549, spatial.AREA_SRID, spatial.STORAGE_SRID)
        serial = serial_base + k + zlib.crc32(prefix.encode()) % 100_000 * 10
        ent = Enterprise(name=f"{prefix}测试企业{k}", credit_code=credit_code(serial))
        session.add(ent)
        session.flush()
        parcel = Parcel(code=f"{prefix}-{k:03d}", unit_id=unit.id, enterprise_id=ent.id,
                        planned_floor_area_m2=Decimal(f"{geom_4549.area * far:.2f}"),
                        classification=Classification(classification) if classification else None,
                        renewal_type=RenewalType.INDUSTRIAL_TO_INDUSTRIAL, land_use="工业用地")
        parcel.set_geometry(geom)
        session.add(parcel)
        codes.append(parcel.code)
        boxes.append(geom_4549)
    if in_park and boxes:
        park_around(session, unit, prefix, shapely.union_all(boxes).buffer(PARK_MARGIN_M, join_style="mitre"))
    session.commit()  # releases the test's savepoint: a request that fails and rolls back keeps the site
    return codes


def park_around(session: Session, unit: Unit, prefix: str, area_4549) -> None:
    """A schematic 镇街工业园区 around a test site, unless a stored park covers the site already."""
    geom = spatial.reproject(area_4549, spatial.AREA_SRID, spatial.STORAGE_SRID)
    parks = session.scalars(select(Park)).all()
    if any(p.shape.covers(geom) for p in parks):
        return
    taken = {p.code for p in parks}
    code = next(c for k in range(1, 10_000) if (c := f"TEST-{prefix}-{k}") not in taken)
    park = Park(code=code, name=f"{prefix}测试园区（示意）", kind=ParkKind.TOWN_PARK, unit_id=unit.id, is_schematic=True)
    park.set_geometry(geom)
    session.add(park)
