"""Demo tax figures after renewal (``tax_after_10k_yuan`` in parcels.geojson) → ``parcel_tax_records``."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..models import Parcel
from .models import ParcelTaxRecord

_TZ = dt.timezone(dt.timedelta(hours=8))  # Asia/Shanghai (no daylight saving)


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


# --------------------------------------------------------------------------------------------
# Demo 月报: the towns' reports of September to December 2023, as the office received them
# --------------------------------------------------------------------------------------------
DEMO_REPORT_MONTHS = ((2023, 9), (2023, 10), (2023, 11), (2023, 12))
DEMO_LATE_UNIT = "tudian"  # 屠甸镇 did not submit December 2023: the table shows 逾期未报送
DEMO_RETURNED = ("shimen", 2023, 11, "请补充竣工验收单和现场照片")  # returned once, then submitted again


def _png(width: int, height: int, seed: int) -> bytes:
    """A small generated picture (a site photo stand-in): a PNG with a gradient."""
    import struct
    import zlib

    rows = bytearray()
    for y in range(height):
        rows.append(0)
        for x in range(width):
            rows += bytes(((x * 4 + seed * 37) % 256, (y * 5 + seed * 11) % 256, 160))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(bytes(rows))) + chunk(b"IEND", b"")


def _pdf(seed: int) -> bytes:
    """A one-page PDF (an acceptance form stand-in): a frame and ruled lines, no text."""
    lines = "".join(f"72 {700 - 40 * k} m 523 {700 - 40 * k} l S\n" for k in range(8 + seed % 4))
    stream = f"2 w 60 60 475 700 re S\n1 w\n{lines}".encode()
    objects = [b"<</Type/Catalog/Pages 2 0 R>>", b"<</Type/Pages/Kids[3 0 R]/Count 1>>",
               b"<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]/Contents 4 0 R>>",
               b"<</Length " + str(len(stream)).encode() + b">>stream\n" + stream + b"endstream"]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for i, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{i} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{o:010d} 00000 n \n".encode() for o in offsets)
    out += f"trailer<</Size {len(objects) + 1}/Root 1 0 R>>\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)


def seed_reports(session: Session) -> int:
    """The demo's 月报 of September–December 2023: each completion of those months reported by its town
    with a 竣工验收单 (PDF) and a 现场照片 (PNG), linked to the history event it stands for (the figures do
    not change), and the months submitted by the 3rd of the next month. Returns the rows written (0 again)."""
    import hashlib

    from sqlalchemy import text

    from ..models import Unit
    from .models import ProgressEntry, ProgressEvidence, ProgressSubmission

    if session.scalar(select(ProgressSubmission.id).where(ProgressSubmission.year == 2023).limit(1)) is not None:
        return 0
    written = 0
    units = list(session.scalars(select(Unit).order_by(Unit.id)))
    for year, month in DEMO_REPORT_MONTHS:
        first = dt.date(year, month, 1)
        last = (dt.date(year + (month == 12), month % 12 + 1, 1) - dt.timedelta(days=1))
        ny, nm = (year + 1, 1) if month == 12 else (year, month + 1)
        for unit in units:
            officer = f"{unit.name}经办人"
            done = session.execute(text("""
                SELECT p.id, p.code, p.land_area_mu, e.id AS event_id, e.happened_on
                FROM parcels p JOIN parcel_status_events e ON e.parcel_id = p.id
                WHERE p.unit_id = :u AND e.status = 'completed' AND e.happened_on BETWEEN :a AND :b
                ORDER BY e.happened_on, p.code"""), {"u": unit.id, "a": first, "b": last}).all()
            for k, row in enumerate(done):
                entry = ProgressEntry(unit_id=unit.id, year=year, month=month, parcel_id=row.id, status="completed",
                                      previous_status="rebuilding", happened_on=row.happened_on,
                                      note="已通过竣工验收", event_id=row.event_id, recorded_by=officer,
                                      recorded_at=dt.datetime.combine(row.happened_on + dt.timedelta(days=2),
                                                                      dt.time(9, 30), tzinfo=_TZ))
                session.add(entry)
                session.flush()
                for name, mime, data in ((f"竣工验收单-{row.code}.pdf", "application/pdf", _pdf(row.id)),
                                         (f"现场照片-{row.code}.png", "image/png", _png(96, 64, row.id + k))):
                    session.add(ProgressEvidence(unit_id=unit.id, entry_id=entry.id, filename=name, content_type=mime,
                                                 size_bytes=len(data), sha256=hashlib.sha256(data).hexdigest(),
                                                 content=data, uploaded_by=officer))
                    written += 1
                written += 1
            if (year, month) == (2023, 12) and unit.code == DEMO_LATE_UNIT:
                continue
            mu = sum((r.land_area_mu for r in done), Decimal("0"))
            summary = (f"本月完成 {len(done)} 宗、{mu:.2f} 亩，均附竣工验收单和现场照片。" if done
                       else "本月无新增完成宗地，在建项目按计划推进。")
            sub = ProgressSubmission(unit_id=unit.id, year=year, month=month, status="submitted", summary=summary,
                                     submitted_at=dt.datetime(ny, nm, 3, 10, 0, tzinfo=_TZ), submitted_by=officer)
            if (unit.code, year, month) == DEMO_RETURNED[:3]:
                sub.returned_at = dt.datetime(ny, nm, 2, 16, 0, tzinfo=_TZ)
                sub.returned_by, sub.return_reason = "admin", DEMO_RETURNED[3]
            session.add(sub)
            written += 1
    session.flush()
    return written
