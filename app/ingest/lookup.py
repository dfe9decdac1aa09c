"""What validation needs to know of the stored data: units, blocks, enterprises, features with the same code
and stored features around the file. Validation's side of the database; ``store.py`` only writes.

:class:`Lookup` is the protocol ``validate()`` takes (tests hand it a fake); :class:`DbLookup` answers it
from the session's current transaction with a handful of queries, whatever the file's size.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

import numpy as np
import shapely
from sqlalchemy import text
from sqlalchemy.orm import Session

import spatial

from ..models import Parcel, Park, RenewalBlock

TABLES = {"parcels": Parcel.__tablename__, "blocks": RenewalBlock.__tablename__, "parks": Park.__tablename__}


@dataclass(frozen=True)
class UnitRef:
    """A unit (镇 / 街道 / 开发区) with its boundary in EPSG:4549."""

    id: int
    code: str
    name: str
    geom_4549: object


@dataclass(frozen=True)
class Existing:
    """A stored feature with the same code: its id, geometry (EPSG:4490) and comparable columns."""

    id: int
    geom_4490: object
    values: dict


class Lookup(Protocol):
    """What validation needs from the database."""

    def units(self) -> list[UnitRef]: ...
    def blocks(self) -> dict[str, int]: ...  # code and name -> id
    def enterprises(self, names: set[str], credit_codes: set[str]) -> dict[str, int]: ...  # name / credit code -> id
    def existing(self, target: str, codes: list[str]) -> dict[str, Existing]: ...
    def stored_near(self, target: str, bbox_4490: tuple, exclude_codes: list[str]) -> tuple[list[str], np.ndarray]: ...


class DbLookup:
    """:class:`Lookup` over the session's current transaction (read only)."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def units(self) -> list[UnitRef]:
        rows = self.session.execute(text("SELECT id, code, name, ST_AsBinary(geom) FROM units ORDER BY id")).all()
        if not rows:
            return []
        geoms = spatial.reproject(shapely.from_wkb([bytes(r[3]) for r in rows]), spatial.STORAGE_SRID,
                                  spatial.AREA_SRID)
        return [UnitRef(r[0], r[1], r[2], g) for r, g in zip(rows, geoms)]

    def blocks(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for id_, code, name in self.session.execute(text("SELECT id, code, name FROM renewal_blocks")):
            out.setdefault(name, id_)
            out[code] = id_
        return out

    def enterprises(self, names: set[str], credit_codes: set[str]) -> dict[str, int]:
        rows = self.session.execute(
            text("SELECT id, name, credit_code FROM enterprises WHERE name = ANY(string_to_array(:n, :sep))"
                 " OR credit_code = ANY(string_to_array(:c, :sep))"),
            {"n": _joined(names), "c": _joined(credit_codes), "sep": _SEP},
        ).all()
        out: dict[str, int] = {}
        for id_, name, credit in rows:
            out.setdefault(name, id_)
            out[credit] = id_
        return out

    def existing(self, target: str, codes: list[str]) -> dict[str, Existing]:
        if target == "parcels":
            sql = ("SELECT id, code, ST_AsBinary(geom), floor_area_m2, planned_floor_area_m2, land_use, classification,"
                   " renewal_mode, renewal_type, status, unit_id, block_id, enterprise_id FROM parcels"
                   " WHERE code = ANY(string_to_array(:codes, :sep))")
            names = ("floor_area_m2", "planned_floor_area_m2", "land_use", "classification", "renewal_mode",
                     "renewal_type", "status", "unit_id", "block_id", "enterprise_id")
        elif target == "parks":
            sql = ("SELECT id, code, ST_AsBinary(geom), name, kind, approval, is_schematic, unit_id FROM parks"
                   " WHERE code = ANY(string_to_array(:codes, :sep))")
            names = ("name", "kind", "approval", "is_schematic", "unit_id")
        else:
            sql = ("SELECT id, code, ST_AsBinary(geom), name, stage, designated_year, planned_far, unit_id"
                   " FROM renewal_blocks WHERE code = ANY(string_to_array(:codes, :sep))")
            names = ("name", "stage", "designated_year", "planned_far", "unit_id")
        rows = self.session.execute(text(sql), {"codes": _joined(codes), "sep": _SEP}).all()
        if not rows:
            return {}
        geoms = shapely.from_wkb([bytes(r[2]) for r in rows])
        out = {}
        for r, g in zip(rows, geoms):
            vals = {k: (float(v) if isinstance(v, Decimal) else v) for k, v in zip(names, r[3:]) if v is not None}
            out[r[1]] = Existing(r[0], g, vals)
        return out

    def stored_near(self, target: str, bbox_4490: tuple, exclude_codes: list[str]) -> tuple[list[str], np.ndarray]:
        table = TABLES[target]
        rows = self.session.execute(
            text(f"SELECT code, ST_AsBinary(geom) FROM {table} WHERE geom && ST_MakeEnvelope(:a, :b, :c, :d, 4490)"),
            dict(zip("abcd", bbox_4490)),
        ).all()
        skip = set(exclude_codes)
        rows = [r for r in rows if r[0] not in skip]
        if not rows:
            return [], np.array([], dtype=object)
        return [r[0] for r in rows], shapely.from_wkb([bytes(r[1]) for r in rows])


# A 100k-element list parameter costs psycopg ~0.5 s to adapt; one string split by the server costs nothing.
# Values containing the separator (ASCII unit separator, never in a real code or name) are left out.
_SEP = "\x1f"


def _joined(values) -> str:
    return _SEP.join(v for v in values if v and _SEP not in v)
