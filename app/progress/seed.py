"""Demo tax figures after renewal (``tax_after_10k_yuan`` in parcels.geojson) → ``parcel_tax_records``."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..models import Parcel
from .models import ParcelTaxRecord


def load_tax_after(session: Session, rows: list[tuple[Parcel, dict]]) -> int:
    """Upsert one record per completed parcel: the tax of the first full year after completion.

    ``rows`` pairs each seeded parcel with its GeoJSON properties. Returns the
    number of rows written (0 on a second run).
    """
    changed = 0
    existing = {
        (r.parcel_id, r.year): r
        for r in session.scalars(select(ParcelTaxRecord).where(ParcelTaxRecord.source == "demo"))
    }
    for parcel, props in rows:
        tax, completed_on = props.get("tax_after_10k_yuan"), props.get("completed_on")
        if tax is None or completed_on is None:
            continue
        year = dt.date.fromisoformat(completed_on).year + 1
        record = existing.get((parcel.id, year))
        if record is None:
            session.add(ParcelTaxRecord(parcel_id=parcel.id, year=year, tax_10k_yuan=Decimal(str(tax)), source="demo"))
            changed += 1
        elif record.tax_10k_yuan != Decimal(str(tax)):
            record.tax_10k_yuan = Decimal(str(tax))
            changed += 1
    return changed
