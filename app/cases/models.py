"""Typical cases (工作推进, migration 0021): each quarter's 现场会 block with notes and photos.

The plan (三.(四).2) has one block chosen each quarter for a city-wide site meeting and its
typical cases collected; one row per quarter, its photos JPEG or PNG (the core's evidence files).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import CheckConstraint, Date, DateTime, ForeignKey, Integer, String, Text, UniqueConstraint, func
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..core.models import EvidenceFile, evidence_checks
from ..models import Base, RenewalBlock


class SiteMeeting(Base):
    """A quarter's 现场会 block (one per quarter)."""

    __tablename__ = "site_meetings"
    __table_args__ = (
        UniqueConstraint("year", "quarter", name="uq_site_meetings_quarter"),
        CheckConstraint("quarter BETWEEN 1 AND 4", name="quarter"),
        CheckConstraint("year BETWEEN 2000 AND 2100", name="year"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    year: Mapped[int] = mapped_column(Integer)
    quarter: Mapped[int] = mapped_column(Integer)
    block_id: Mapped[int] = mapped_column(ForeignKey("renewal_blocks.id"), index=True)
    held_on: Mapped[dt.date] = mapped_column(Date)
    notes: Mapped[str] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    row_version: Mapped[int] = mapped_column(Integer, server_default="1", default=1)

    block: Mapped[RenewalBlock] = relationship()
    photos: Mapped[list[SiteMeetingPhoto]] = relationship(
        back_populates="meeting", order_by="SiteMeetingPhoto.id", cascade="all, delete-orphan")

    __mapper_args__ = {"version_id_col": row_version}

    def audit_subject(self) -> str:
        return f"site_meeting:{self.year}Q{self.quarter}"


class SiteMeetingPhoto(EvidenceFile, Base):
    """A photo of a site meeting (JPEG or PNG, its type read from its bytes)."""

    __tablename__ = "site_meeting_photos"
    __table_args__ = (*evidence_checks(),
                      CheckConstraint("content_type IN ('image/jpeg', 'image/png')", name="photo_type"))

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("site_meetings.id", ondelete="CASCADE"), index=True)

    meeting: Mapped[SiteMeeting] = relationship(back_populates="photos")
