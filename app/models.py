"""Tables. Geometry is stored in CGCS2000 (EPSG:4490, lon/lat) as MultiPolygon.

Areas (亩) and floor-area ratios are never typed in: the ``before_flush`` hook
:func:`recompute_before_flush` (installed on every session by ``app.core.db``)
recomputes them through ``spatial`` whenever a geometry or floor area changes,
so a stored area always equals its geometry's.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from decimal import Decimal

from geoalchemy2 import Geometry, WKBElement
from geoalchemy2.shape import from_shape, to_shape
from shapely import MultiPolygon, Polygon
from shapely.geometry.base import BaseGeometry
from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Enum,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    func,
    inspect,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, relationship, validates

import spatial

from .credit_code import credit_code_problem
from .enums import Classification, EnterpriseScale, ParcelStatus, ParkKind, RenewalMode, RenewalType, ReviewStatus, Stage, UnitKind

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


def _enum(cls, name: str) -> Enum:
    """Enums are stored as their English codes in a VARCHAR with a CHECK constraint."""
    return Enum(
        cls,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=32,
        values_callable=lambda e: [m.value for m in e],
        validate_strings=True,
    )


def _multipolygon() -> Geometry:
    return Geometry("MULTIPOLYGON", srid=spatial.STORAGE_SRID, spatial_index=True)


def as_multipolygon(geom: BaseGeometry) -> MultiPolygon:
    if isinstance(geom, Polygon):
        return MultiPolygon([geom])
    if isinstance(geom, MultiPolygon):
        return geom
    raise ValueError(f"expected a polygon, got {geom.geom_type}")


class Timestamped:
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )


class HasGeometry:
    """Shared helpers for rows with a ``geom`` column in EPSG:4490."""

    geom: Mapped[WKBElement]

    def set_geometry(self, geom_4490: BaseGeometry) -> None:
        self.geom = from_shape(as_multipolygon(geom_4490), srid=spatial.STORAGE_SRID)

    @property
    def shape(self) -> BaseGeometry:
        return to_shape(self.geom)


class Unit(Timestamped, HasGeometry, Base):
    """镇、街道、开发区: the 11 units that carry targets."""

    __tablename__ = "units"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[UnitKind] = mapped_column(_enum(UnitKind, "unit_kind"))
    geom: Mapped[WKBElement] = mapped_column(_multipolygon())
    area_mu: Mapped[Decimal] = mapped_column(Numeric(14, 2))
    # The demo boundaries are schematic (示意), not legal administrative lines.
    is_schematic: Mapped[bool] = mapped_column(default=False)

    targets: Mapped[list[AnnualTarget]] = relationship(back_populates="unit", order_by="AnnualTarget.year")


class AnnualTarget(Base):
    """年度任务: the yearly renewal target of a unit, in 亩."""

    __tablename__ = "annual_targets"
    __table_args__ = (
        UniqueConstraint("unit_id", "year", name="uq_annual_targets_unit_year"),
        CheckConstraint("renewal_mu = contiguous_mu + scattered_mu", name="sum"),
        CheckConstraint("contiguous_mu >= 0 AND scattered_mu >= 0", name="non_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id", ondelete="CASCADE"))
    year: Mapped[int] = mapped_column(Integer)
    renewal_mu: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    contiguous_mu: Mapped[Decimal] = mapped_column(Numeric(12, 2))  # 连片
    scattered_mu: Mapped[Decimal] = mapped_column(Numeric(12, 2))  # 零星

    unit: Mapped[Unit] = relationship(back_populates="targets")


CREDIT_CODE_PATTERN = re.compile(r"^[0-9A-HJ-NPQRTUWXY]{18}$")


class Enterprise(Timestamped, Base):
    """企业 with its 统一社会信用代码 and yearly figures for 亩均 evaluation.

    An enterprise registered from an upload (an owner, 权利人, the register did not know) has its
    name only: ``credit_code`` is NULL until someone completes it (信用代码待补充, see
    :attr:`credit_code_pending`), and ``registered_from_upload_id`` names that upload. One such
    name-only entry per name (a partial unique index), so two uploads naming the same new owner
    link to the same enterprise.
    """

    __tablename__ = "enterprises"
    __table_args__ = (
        CheckConstraint(r"credit_code ~ '^[0-9A-HJ-NPQRTUWXY]{18}$'", name="credit_code_format"),
        Index("uq_enterprises_pending_name", "name", unique=True, postgresql_where=text("credit_code IS NULL")),
        CheckConstraint("evaluation_grade IN ('A', 'B', 'C', 'D')", name="evaluation_grade"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(128))
    credit_code: Mapped[str | None] = mapped_column(String(18), unique=True)
    registered_from_upload_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("uploads.id", ondelete="SET NULL"))
    tax_10k_yuan: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))  # 年税收（万元）
    output_10k_yuan: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))  # 年产出（万元）
    employees: Mapped[int | None]
    data_year: Mapped[int | None]
    # The register (一库, app/enterprises): 行业 (GB/T 4754-2017), 规模, 投产年份, 地址, 所在镇街.
    industry_code: Mapped[str | None] = mapped_column(String(5))  # 行业代码, e.g. C1713
    industry_name: Mapped[str | None] = mapped_column(String(64))  # 行业名称
    scale: Mapped[EnterpriseScale | None] = mapped_column(_enum(EnterpriseScale, "enterprise_scale"))  # 规上/规下
    production_year: Mapped[int | None] = mapped_column(Integer)  # 投产年份
    address: Mapped[str | None] = mapped_column(String(255))  # 地址
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id", ondelete="SET NULL"), index=True)  # 所在镇街
    # The class of the latest fixed (定档) 亩均效益综合评价 and its year (app/appraisal), for the map and lists.
    evaluation_grade: Mapped[str | None] = mapped_column(String(1))
    evaluation_year: Mapped[int | None] = mapped_column(Integer)

    parcels: Mapped[list[Parcel]] = relationship(back_populates="enterprise")
    unit: Mapped[Unit | None] = relationship()

    @property
    def credit_code_pending(self) -> bool:
        """信用代码待补充: registered by name only (from an upload), the code still to be completed."""
        return self.credit_code is None

    @validates("credit_code")
    def _check_credit_code(self, _key: str, value: str | None) -> str | None:
        problem = credit_code_problem(value) if value is not None else None
        if problem:
            raise ValueError(problem)
        return value


class RenewalBlock(Timestamped, HasGeometry, Base):
    """连片改造区块: a contiguous renewal block (≥ 200 亩) and its plan."""

    __tablename__ = "renewal_blocks"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(128))
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    designated_year: Mapped[int | None]  # 认定年度
    stage: Mapped[Stage] = mapped_column(_enum(Stage, "stage"), default=Stage.PLANNED)
    review_status: Mapped[ReviewStatus] = mapped_column(
        _enum(ReviewStatus, "review_status"), default=ReviewStatus.DRAFT
    )
    geom: Mapped[WKBElement] = mapped_column(_multipolygon())
    area_mu: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    # 四至: what bounds the block on each side.
    four_east: Mapped[str | None] = mapped_column(Text)
    four_south: Mapped[str | None] = mapped_column(Text)
    four_west: Mapped[str | None] = mapped_column(Text)
    four_north: Mapped[str | None] = mapped_column(Text)
    planned_far: Mapped[Decimal | None] = mapped_column(Numeric(6, 2))
    planned_new_floor_area_m2: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    # The boundary was derived from the parcels (spatial.derived_boundary), not drawn or imported.
    boundary_derived: Mapped[bool] = mapped_column(Boolean, default=False, server_default="false")
    approval_doc_no: Mapped[str | None] = mapped_column(String(64))  # 认定文号
    approval_date: Mapped[dt.date | None] = mapped_column(Date)
    # 完成日期: the day the stage reached 完成 (a DB trigger fills it; see docs/assessment.md).
    completed_on: Mapped[dt.date | None] = mapped_column(Date)

    unit: Mapped[Unit] = relationship()
    parcels: Mapped[list[Parcel]] = relationship(back_populates="block", order_by="Parcel.code")


class Parcel(Timestamped, HasGeometry, Base):
    """宗地: a land parcel, inside a block (连片) or scattered (零星, block is null)."""

    __tablename__ = "parcels"
    __table_args__ = (
        CheckConstraint("floor_area_m2 IS NULL OR floor_area_m2 >= 0", name="floor_area_non_negative"),
        CheckConstraint(
            "planned_floor_area_m2 IS NULL OR planned_floor_area_m2 >= 0", name="planned_floor_area_non_negative"
        ),
        CheckConstraint("built_floor_area_m2 IS NULL OR built_floor_area_m2 >= 0", name="built_floor_area_non_negative"),
        Index("ix_parcels_classification", "classification"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)  # 宗地编号
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    block_id: Mapped[int | None] = mapped_column(ForeignKey("renewal_blocks.id", ondelete="SET NULL"), index=True)
    enterprise_id: Mapped[int | None] = mapped_column(ForeignKey("enterprises.id"), index=True)
    geom: Mapped[WKBElement] = mapped_column(_multipolygon())
    land_area_mu: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    floor_area_m2: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))  # 现状建筑面积（地上）
    planned_floor_area_m2: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))  # 规划建筑面积（地上）
    built_floor_area_m2: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))  # 建成建筑面积, as the town reported it
    far: Mapped[Decimal | None] = mapped_column(Numeric(8, 4))  # 现状容积率
    planned_far: Mapped[Decimal | None] = mapped_column(Numeric(8, 4))  # 规划容积率
    land_use: Mapped[str | None] = mapped_column(String(64))  # 用地性质
    classification: Mapped[Classification | None] = mapped_column(_enum(Classification, "classification"))
    renewal_mode: Mapped[RenewalMode | None] = mapped_column(_enum(RenewalMode, "renewal_mode"))
    renewal_type: Mapped[RenewalType | None] = mapped_column(_enum(RenewalType, "renewal_type"))
    status: Mapped[ParcelStatus] = mapped_column(_enum(ParcelStatus, "parcel_status"), default=ParcelStatus.NOT_STARTED)
    # 完成日期: the day the status reached 已完成 (a DB trigger fills it; see docs/assessment.md).
    completed_on: Mapped[dt.date | None] = mapped_column(Date)

    unit: Mapped[Unit] = relationship()
    block: Mapped[RenewalBlock | None] = relationship(back_populates="parcels")
    enterprise: Mapped[Enterprise | None] = relationship(back_populates="parcels")


class Park(Timestamped, HasGeometry, Base):
    """开发区 or 镇街工业园区: the areas a 连片 block must lie in (三（二）实施范围; app/parks, docs/parks.md).

    Imported through the upload checks (target ``parks``); ``unit`` is the town a 工业园区 belongs
    to (null for a 开发区). The demo's parks are schematic (示意), drawn around the demo blocks.
    Here beside units and blocks (not in app/parks) because the read path (app/core/read) serves it.
    """

    __tablename__ = "parks"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)  # 园区编号
    name: Mapped[str] = mapped_column(String(128))  # 园区名称
    kind: Mapped[ParkKind] = mapped_column(_enum(ParkKind, "park_kind"))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id", ondelete="SET NULL"), index=True)
    approval: Mapped[str | None] = mapped_column(Text)  # 批准文件 / 设立依据
    is_schematic: Mapped[bool] = mapped_column(Boolean, default=False, server_default="false")
    geom: Mapped[WKBElement] = mapped_column(_multipolygon())
    area_mu: Mapped[Decimal] = mapped_column(Numeric(14, 2))
    row_version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")

    unit: Mapped[Unit | None] = relationship()

    __mapper_args__ = {"version_id_col": row_version}

    def audit_subject(self) -> str:
        return f"park:{self.code}"


def _mu(value: float) -> Decimal:
    return Decimal(f"{value:.2f}")


def _far(floor_area_m2: Decimal | None, land_area_m2: float) -> Decimal | None:
    ratio = spatial.floor_area_ratio(None if floor_area_m2 is None else float(floor_area_m2), land_area_m2)
    return None if ratio is None else Decimal(f"{ratio:.4f}")


def recompute_measures(obj: HasGeometry) -> None:
    """Recompute area in 亩 (and FARs for parcels) from the geometry, through ``spatial``."""
    geom_4490 = obj.shape
    area_mu = spatial.area_mu_of_storage(geom_4490)
    if isinstance(obj, Parcel):
        obj.land_area_mu = _mu(area_mu)
        land_m2 = area_mu * spatial.M2_PER_MU
        obj.far = _far(obj.floor_area_m2, land_m2)
        obj.planned_far = _far(obj.planned_floor_area_m2, land_m2)
    else:
        obj.area_mu = _mu(area_mu)


_MEASURED_ATTRS = {"geom", "floor_area_m2", "planned_floor_area_m2"}


def recompute_before_flush(session: Session, _ctx, _instances) -> None:
    """The ``before_flush`` hook (installed by ``app.core.db``): new or changed shapes get their measures."""
    for obj in list(session.new) + list(session.dirty):
        if not isinstance(obj, HasGeometry) or obj.geom is None:
            continue
        state = inspect(obj)
        if obj in session.new or any(
            state.attrs[name].history.has_changes() for name in _MEASURED_ATTRS if name in state.attrs
        ):
            recompute_measures(obj)
