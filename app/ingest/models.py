"""Tables of the uploads package: the upload record, its staged features and replaced-feature history."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from enum import StrEnum

from geoalchemy2 import Geometry, WKBElement
from sqlalchemy import BigInteger, Boolean, DateTime, ForeignKey, Index, Integer, LargeBinary, Numeric, String, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

import spatial

from ..models import Base, Timestamped, _enum


class UploadStatus(StrEnum):
    """Life of an upload: staging (being read) → staged (report ready) → committed, or failed."""

    STAGING = "staging"
    STAGED = "staged"
    COMMITTED = "committed"
    FAILED = "failed"


class UploadTarget(StrEnum):
    """Which table an upload feeds."""

    PARCELS = "parcels"
    BLOCKS = "blocks"
    PARKS = "parks"  # 开发区 / 镇街工业园区 (app/parks, migration 0018)


class Upload(Timestamped, Base):
    """One uploaded file: who sent it, what it was, what was detected, the report counts and the outcome."""

    __tablename__ = "uploads"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    uploader: Mapped[str] = mapped_column(String(64))  # the logged-in user (or `cloudmap import --user`)
    filename: Mapped[str] = mapped_column(String(255))
    file_sha256: Mapped[str] = mapped_column(String(64), index=True)
    file_size_bytes: Mapped[int] = mapped_column(BigInteger)
    target: Mapped[UploadTarget] = mapped_column(_enum(UploadTarget, "upload_target"))
    format: Mapped[str | None] = mapped_column(String(16))  # shapefile / gpkg / geojson / csv
    layer: Mapped[str | None] = mapped_column(String(255))
    layers: Mapped[list | None] = mapped_column(JSONB)  # every layer the file offered
    encoding: Mapped[str | None] = mapped_column(String(32))
    encoding_source: Mapped[str | None] = mapped_column(String(16))  # cpg / detected / override / format
    crs_epsg: Mapped[int | None]
    crs: Mapped[dict | None] = mapped_column(JSONB)  # the guess or .prj reading, with its explanation
    crs_source: Mapped[str | None] = mapped_column(String(16))  # prj / guess / override / format
    crs_confirmed: Mapped[bool] = mapped_column(Boolean, default=False)
    mapping: Mapped[dict] = mapped_column(JSONB, default=dict)  # model field -> source field
    options: Mapped[dict] = mapped_column(JSONB, default=dict)  # on_existing, accepted repairs
    counts: Mapped[dict] = mapped_column(JSONB, default=dict)
    status: Mapped[UploadStatus] = mapped_column(_enum(UploadStatus, "upload_status"), default=UploadStatus.STAGING)
    progress: Mapped[dict | None] = mapped_column(JSONB)
    outcome: Mapped[dict | None] = mapped_column(JSONB)
    committed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    # The report's revision, its ETag: 0 when staged, one more with every re-check (PUT …/mapping).
    revision: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class UploadFeature(Base):
    """A staged feature: geometry already in EPSG:4490, mapped values, source attributes and its problems.

    Rows live until the upload is deleted (cascade); commit copies them with one INSERT … SELECT.
    """

    __tablename__ = "upload_features"

    upload_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("uploads.id", ondelete="CASCADE"), primary_key=True)
    feature_no: Mapped[int] = mapped_column(Integer, primary_key=True)  # 1-based, as the clerk counts
    code: Mapped[str | None] = mapped_column(String(64))
    geom: Mapped[WKBElement | None] = mapped_column(
        Geometry("MULTIPOLYGON", srid=spatial.STORAGE_SRID, spatial_index=False)
    )
    repaired_geom: Mapped[WKBElement | None] = mapped_column(
        Geometry("MULTIPOLYGON", srid=spatial.STORAGE_SRID, spatial_index=False)
    )
    area_mu: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))
    repaired_area_mu: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))
    far: Mapped[Decimal | None] = mapped_column(Numeric(8, 4))
    planned_far: Mapped[Decimal | None] = mapped_column(Numeric(8, 4))
    mapped_values: Mapped[dict] = mapped_column(JSONB, default=dict)  # mapped, typed values
    attributes: Mapped[dict] = mapped_column(JSONB, default=dict)  # the source row, decoded
    problems: Mapped[list] = mapped_column(JSONB, default=list)
    severity: Mapped[str] = mapped_column(String(8))  # ok / warning / error
    existing_id: Mapped[int | None]  # the stored parcel / block with the same code
    unit_id: Mapped[int | None]
    block_id: Mapped[int | None]
    enterprise_id: Mapped[int | None]


class UploadSource(Base):
    """The uploaded file itself, in parts, kept while the upload is staged so that it can be checked
    again with another field mapping without being sent again (``PUT /api/uploads/{id}/mapping``).

    UNLOGGED like ``upload_features`` (migration 0010): after a database crash both are empty and
    the clerk uploads the file again. Removed when the upload is committed.
    """

    __tablename__ = "upload_sources"
    __table_args__ = {"prefixes": ["UNLOGGED"]}

    upload_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("uploads.id", ondelete="CASCADE"), primary_key=True)
    part_no: Mapped[int] = mapped_column(Integer, primary_key=True)  # 0, 1, … in file order
    data: Mapped[bytes] = mapped_column(LargeBinary)


class FeatureHistory(Base):
    """A parcel or block as it was before an upload replaced it (geometry and every attribute)."""

    __tablename__ = "feature_history"
    __table_args__ = (Index("ix_feature_history_layer_code", "layer", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    layer: Mapped[str] = mapped_column(String(32))  # parcels / renewal_blocks
    feature_id: Mapped[int]
    code: Mapped[str] = mapped_column(String(64))
    upload_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("uploads.id", ondelete="SET NULL"), index=True)
    replaced_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    geom: Mapped[WKBElement] = mapped_column(Geometry("MULTIPOLYGON", srid=spatial.STORAGE_SRID, spatial_index=False))
    area_mu: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    attributes: Mapped[dict] = mapped_column(JSONB)
