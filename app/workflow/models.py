"""Workflow tables: block plans and their frozen versions, enterprise
governance (classification, 亩均 figures, grading, 十剑联动), 厂中厂 tenants, 投资履约 credit
records. The audit log, notifications and the review log are the core's (``app.core.models``).

Every editable row carries ``row_version`` (SQLAlchemy's version counter): it is the ETag,
and a stale UPDATE fails instead of overwriting someone else's change.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import TYPE_CHECKING

from geoalchemy2 import WKBElement
from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column, relationship

if TYPE_CHECKING:
    from ..auth.models import User

from ..core.review import Reviewable
from ..enums import Classification, RenewalMode, ReviewStatus
from ..models import Base, Enterprise, HasGeometry, Parcel, RenewalBlock, Unit, _enum, _multipolygon
from .enums import BoundarySource, ClearanceStatus, RectificationStatus, ReferralStatus

# --- block plans -------------------------------------------------------------


class BlockPlan(Base):
    """A block plan (区块方案): the identity that outlives its versions.

    ``block_id`` points at the published renewal block once a version is approved;
    ``current_version_no`` is the approved version in force, ``working_version_no``
    the one being drafted or reviewed (None when nothing is open).
    """

    __tablename__ = "block_plans"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    block_id: Mapped[int | None] = mapped_column(ForeignKey("renewal_blocks.id"), unique=True)
    status: Mapped[ReviewStatus] = mapped_column(_enum(ReviewStatus, "review_status"))
    current_version_no: Mapped[int | None]
    working_version_no: Mapped[int | None]
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    row_version: Mapped[int] = mapped_column(Integer, default=1)

    unit: Mapped[Unit] = relationship()
    block: Mapped[RenewalBlock | None] = relationship()
    versions: Mapped[list[BlockVersion]] = relationship(back_populates="plan", order_by="BlockVersion.version_no")

    __mapper_args__ = {"version_id_col": row_version}

    def audit_subject(self) -> str:
        return f"plan:{self.code}"

    def version(self, number: int | None) -> BlockVersion | None:
        return next((v for v in self.versions if v.version_no == number), None)


class BlockVersion(Reviewable, HasGeometry, Base):
    """One version of a plan: boundary (四至边界), 四至 text, parcel and enterprise lists.

    Reviewed on the core's engine (the :class:`~app.core.review.Reviewable` columns: who
    drafted, submitted and reviewed it, the 认定文号 and date, the rule report). Once approved
    its content is frozen; a database trigger (migration 0004) refuses any change to an
    approved version's boundary, 四至 or lists.
    """

    __tablename__ = "block_versions"
    __table_args__ = (UniqueConstraint("plan_id", "version_no", name="uq_block_versions_plan_version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("block_plans.id"), index=True)
    version_no: Mapped[int] = mapped_column(Integer)
    status: Mapped[ReviewStatus] = mapped_column(_enum(ReviewStatus, "review_status"))
    name: Mapped[str] = mapped_column(String(128))
    year: Mapped[int] = mapped_column(Integer)  # 认定年度
    geom: Mapped[WKBElement] = mapped_column(_multipolygon())
    area_mu: Mapped[Decimal] = mapped_column(Numeric(12, 2))  # recomputed through spatial on flush
    four_east: Mapped[str | None] = mapped_column(Text)
    four_south: Mapped[str | None] = mapped_column(Text)
    four_west: Mapped[str | None] = mapped_column(Text)
    four_north: Mapped[str | None] = mapped_column(Text)
    planned_new_floor_area_m2: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    planned_far: Mapped[Decimal | None] = mapped_column(Numeric(6, 2))  # 规划容积率（方案）, as the plan states it
    renewal_mode: Mapped[RenewalMode | None] = mapped_column(_enum(RenewalMode, "renewal_mode"))
    # 产业导向: the industry codes (GB/T 4754, e.g. C17, C1711) a project entering the block should be in
    industry_guidance: Mapped[list[str]] = mapped_column(
        ARRAY(String(5)), default=list, server_default=text("'{}'::varchar(5)[]"))
    # where the boundary came from: derived from the parcels, drawn on the map, or read from a file
    boundary_source: Mapped[BoundarySource] = mapped_column(
        _enum(BoundarySource, "boundary_source"), default=BoundarySource.DERIVED, server_default="derived")
    change_note: Mapped[str | None] = mapped_column(Text)  # why this version differs from the last
    based_on_version_no: Mapped[int | None]
    is_imported: Mapped[bool] = mapped_column(Boolean, default=False)  # approved before the workflow existed
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    plan: Mapped[BlockPlan] = relationship(back_populates="versions")
    parcels: Mapped[list[BlockVersionParcel]] = relationship(
        back_populates="version", order_by="BlockVersionParcel.parcel_code", cascade="all, delete-orphan"
    )
    enterprises: Mapped[list[BlockVersionEnterprise]] = relationship(
        back_populates="version", order_by="BlockVersionEnterprise.credit_code", cascade="all, delete-orphan"
    )


class BlockVersionParcel(Base):
    """A parcel in a version, with the figures it had when listed."""

    __tablename__ = "block_version_parcels"

    version_id: Mapped[int] = mapped_column(ForeignKey("block_versions.id"), primary_key=True)
    parcel_id: Mapped[int] = mapped_column(ForeignKey("parcels.id"), primary_key=True, index=True)
    parcel_code: Mapped[str] = mapped_column(String(64))
    land_area_mu: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    enterprise_id: Mapped[int | None] = mapped_column(ForeignKey("enterprises.id"))

    version: Mapped[BlockVersion] = relationship(back_populates="parcels")
    parcel: Mapped[Parcel] = relationship()


class BlockVersionEnterprise(Base):
    """An enterprise on a version's enterprise list (企业清单), with its classification then."""

    __tablename__ = "block_version_enterprises"

    version_id: Mapped[int] = mapped_column(ForeignKey("block_versions.id"), primary_key=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprises.id"), primary_key=True, index=True)
    name: Mapped[str] = mapped_column(String(128))
    credit_code: Mapped[str | None] = mapped_column(String(18))  # None: 信用代码待补充 (registered from an upload)
    classification: Mapped[Classification | None] = mapped_column(_enum(Classification, "classification"))
    classification_reason: Mapped[str | None] = mapped_column(Text)

    version: Mapped[BlockVersion] = relationship(back_populates="enterprises")


# --- enterprises -------------------------------------------------------------


class EnterpriseGovernance(Base):
    """An enterprise's current classification and its place on the 整治清退 list."""

    __tablename__ = "enterprise_governance"

    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprises.id"), primary_key=True)
    classification: Mapped[Classification | None] = mapped_column(_enum(Classification, "classification"))
    reason: Mapped[str | None] = mapped_column(Text)
    decided_on: Mapped[dt.date | None] = mapped_column(Date)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    clearance_status: Mapped[ClearanceStatus | None] = mapped_column(_enum(ClearanceStatus, "clearance_status"))
    clearance_deadline: Mapped[dt.date | None] = mapped_column(Date)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    row_version: Mapped[int] = mapped_column(Integer, default=1)

    enterprise: Mapped[Enterprise] = relationship()
    decided_by: Mapped[User | None] = relationship()

    __mapper_args__ = {"version_id_col": row_version}

    def audit_subject(self) -> str:
        return f"enterprise:{self.enterprise.credit_code or self.enterprise.id}"


class ClassificationDecision(Base):
    """Every classification ever decided for an enterprise (history; never updated)."""

    __tablename__ = "enterprise_classifications"

    id: Mapped[int] = mapped_column(primary_key=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprises.id"), index=True)
    classification: Mapped[Classification] = mapped_column(_enum(Classification, "classification"))
    reason: Mapped[str] = mapped_column(Text)
    decided_on: Mapped[dt.date] = mapped_column(Date)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    suggested_grade: Mapped[str | None] = mapped_column(String(1))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    decided_by: Mapped[User | None] = relationship()


class YearlyFigures(Base):
    """Tax and output of an enterprise or a 厂中厂 tenant in one year (万元), for 亩均 evaluation."""

    __tablename__ = "yearly_figures"
    __table_args__ = (
        CheckConstraint("(enterprise_id IS NULL) <> (tenant_id IS NULL)", name="one_subject"),
        CheckConstraint("tax_10k_yuan >= 0 AND output_10k_yuan >= 0", name="non_negative"),
        UniqueConstraint("enterprise_id", "year", name="uq_yearly_figures_enterprise_year"),
        UniqueConstraint("tenant_id", "year", name="uq_yearly_figures_tenant_year"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    year: Mapped[int] = mapped_column(Integer)
    enterprise_id: Mapped[int | None] = mapped_column(ForeignKey("enterprises.id"))
    tenant_id: Mapped[int | None] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    tax_10k_yuan: Mapped[Decimal] = mapped_column(Numeric(14, 2))
    output_10k_yuan: Mapped[Decimal] = mapped_column(Numeric(14, 2))
    row_version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": row_version}


class GradingRule(Base):
    """亩均 grading thresholds (万元/亩), admin-editable; D is everything below C."""

    __tablename__ = "grading_rules"
    __table_args__ = (CheckConstraint("grade IN ('A', 'B', 'C', 'D')", name="grade"),)

    grade: Mapped[str] = mapped_column(String(1), primary_key=True)
    min_tax_per_mu_10k: Mapped[Decimal | None] = mapped_column(Numeric(10, 2))
    min_output_per_mu_10k: Mapped[Decimal | None] = mapped_column(Numeric(10, 2))
    suggested_classification: Mapped[Classification] = mapped_column(_enum(Classification, "classification"))
    row_version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": row_version}

    def audit_subject(self) -> str:
        return f"grading:{self.grade}"


class EnforcementReferral(Base):
    """十剑联动: an uncooperative 整治清退 enterprise referred to joint enforcement."""

    __tablename__ = "enforcement_referrals"

    id: Mapped[int] = mapped_column(primary_key=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprises.id"), index=True)
    reason: Mapped[str] = mapped_column(Text)
    referred_on: Mapped[dt.date] = mapped_column(Date)
    referred_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    status: Mapped[ReferralStatus] = mapped_column(_enum(ReferralStatus, "referral_status"))
    closed_on: Mapped[dt.date | None] = mapped_column(Date)
    outcome: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    row_version: Mapped[int] = mapped_column(Integer, default=1)

    enterprise: Mapped[Enterprise] = relationship()
    referred_by: Mapped[User | None] = relationship()

    __mapper_args__ = {"version_id_col": row_version}


# --- 厂中厂 --------------------------------------------------------------------


class Tenant(Base):
    """厂中厂: a firm leasing space inside a parcel's factory."""

    __tablename__ = "tenants"
    __table_args__ = (
        CheckConstraint("leased_area_m2 > 0", name="leased_area_positive"),
        CheckConstraint("lease_end IS NULL OR lease_end >= lease_start", name="lease_dates"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    parcel_id: Mapped[int] = mapped_column(ForeignKey("parcels.id"), index=True)
    lessee: Mapped[str] = mapped_column(String(128))
    credit_code: Mapped[str | None] = mapped_column(String(18))
    leased_area_m2: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    business: Mapped[str | None] = mapped_column(String(128))
    lease_start: Mapped[dt.date] = mapped_column(Date)
    lease_end: Mapped[dt.date | None] = mapped_column(Date)
    # the lease in the 转让与租赁 register this tenant came from or is linked to (app/market, migration 0020)
    lease_id: Mapped[int | None] = mapped_column(ForeignKey("market_records.id", ondelete="SET NULL"), index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    row_version: Mapped[int] = mapped_column(Integer, default=1)

    parcel: Mapped[Parcel] = relationship()
    inspections: Mapped[list[TenantInspection]] = relationship(
        back_populates="tenant", order_by="TenantInspection.inspected_on", cascade="all, delete-orphan"
    )

    __mapper_args__ = {"version_id_col": row_version}

    def audit_subject(self) -> str:
        return f"tenant:{self.id}"


class TenantInspection(Base):
    """An inspection of a tenant (安全、消防、环保…) and the rectification of what it found."""

    __tablename__ = "tenant_inspections"

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    inspected_on: Mapped[dt.date] = mapped_column(Date)
    inspector: Mapped[str] = mapped_column(String(64))
    findings: Mapped[str] = mapped_column(Text)
    rectification_status: Mapped[RectificationStatus] = mapped_column(
        _enum(RectificationStatus, "rectification_status")
    )
    rectify_by: Mapped[dt.date | None] = mapped_column(Date)
    rectified_on: Mapped[dt.date | None] = mapped_column(Date)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    row_version: Mapped[int] = mapped_column(Integer, default=1)

    tenant: Mapped[Tenant] = relationship(back_populates="inspections")

    __mapper_args__ = {"version_id_col": row_version}

    def audit_subject(self) -> str:
        return f"inspection:{self.id}"


# --- 投资履约 ------------------------------------------------------------------


class CreditRecord(Base):
    """投资履约: a project's promised and actual investment, output and tax in one year (万元)."""

    __tablename__ = "credit_records"
    __table_args__ = (
        UniqueConstraint("project_name", "year", name="uq_credit_records_project_year"),
        CheckConstraint(
            "promised_investment_10k >= 0 AND promised_output_10k >= 0 AND promised_tax_10k >= 0",
            name="promised_non_negative",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    project_name: Mapped[str] = mapped_column(String(128))
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprises.id"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    year: Mapped[int] = mapped_column(Integer)
    promised_investment_10k: Mapped[Decimal] = mapped_column(Numeric(14, 2))
    actual_investment_10k: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    promised_output_10k: Mapped[Decimal] = mapped_column(Numeric(14, 2))
    actual_output_10k: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    promised_tax_10k: Mapped[Decimal] = mapped_column(Numeric(14, 2))
    actual_tax_10k: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    note: Mapped[str | None] = mapped_column(Text)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    row_version: Mapped[int] = mapped_column(Integer, default=1)

    enterprise: Mapped[Enterprise] = relationship()
    unit: Mapped[Unit] = relationship()

    __mapper_args__ = {"version_id_col": row_version}

    def audit_subject(self) -> str:
        return f"credit:{self.id}"
