"""Load the demo data set (``data/geojson``), the 2022 targets and demo 2023 targets; idempotent.

Rows are matched on their natural keys (codes, credit codes, unit + year) and
only changed values are written, so a second run changes nothing.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from shapely import equals_exact
from shapely.geometry import shape
from sqlalchemy import select
from sqlalchemy.orm import Session

from .core.db import long_statements
from .core.history import event_source
from .core.uow import unit_of_work
from .enums import Classification, ParcelStatus, ParkKind, RenewalMode, RenewalType, ReviewStatus, Stage, UnitKind
from .models import AnnualTarget, Enterprise, HasGeometry, Parcel, Park, RenewalBlock, Unit, as_multipolygon
from . import models_all  # noqa: F401  every table, so the mappers configure (enterprises → uploads)
from .appraisal.demo import seed_evaluation
from .enterprises.demo import seed_register_and_figures
from .progress.seed import load_tax_after, seed_reports
from .subsidies.demo import seed_subsidies
from .market.demo import seed_market
from .admission.demo import seed_admissions
from .workflow.demo import seed_tenants

GEOM_TOLERANCE_DEG = 1e-9  # well below the 7 decimals stored in the demo files


@dataclass
class SeedCounts:
    units: int = 0
    targets: int = 0
    enterprises: int = 0
    blocks: int = 0
    parcels: int = 0
    changed: int = 0
    parks: int = 0


def _features(path: Path) -> list[dict]:
    with path.open(encoding="utf-8") as fh:
        return json.load(fh)["features"]


def _assign(obj, counts: SeedCounts, **values) -> None:
    changed = False
    for key, value in values.items():
        if getattr(obj, key) != value:
            setattr(obj, key, value)
            changed = True
    counts.changed += changed


def _assign_geometry(obj: HasGeometry, geometry: dict, counts: SeedCounts) -> None:
    geom = shape(geometry)
    if obj.geom is None or not equals_exact(obj.shape, as_multipolygon(geom), GEOM_TOLERANCE_DEG):
        obj.set_geometry(geom)
        counts.changed += 1


def _dec(value) -> Decimal | None:
    return None if value is None else Decimal(str(value))


class _Existing:
    """The rows already stored, by natural key: one SELECT per table instead of one per row
    (each per-row SELECT also autoflushed the previous row on its own)."""

    def __init__(self, session: Session, model, *key_attrs: str) -> None:
        self.session, self.model, self.key_attrs = session, model, key_attrs
        self.rows = {tuple(getattr(o, a) for a in key_attrs): o for o in session.scalars(select(model))}

    def get_or_new(self, *key):
        obj = self.rows.get(key)
        if obj is None:
            obj = self.model(**dict(zip(self.key_attrs, key, strict=True)))
            self.session.add(obj)
            self.rows[key] = obj
        return obj



def _seed_targets(path: Path, by_name: dict[str, Unit], existing: _Existing, counts: SeedCounts, *,
                  overwrite: bool) -> None:
    """Yearly targets from a CSV (unit_name, year, renewal_mu, contiguous_mu, scattered_mu)."""
    with path.open(encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            unit, year = by_name[row["unit_name"]], int(row["year"])
            counts.targets += 1
            if not overwrite and (unit.id, year) in existing.rows:
                continue
            _assign(
                existing.get_or_new(unit.id, year),
                counts,
                renewal_mu=Decimal(row["renewal_mu"]),
                contiguous_mu=Decimal(row["contiguous_mu"]),
                scattered_mu=Decimal(row["scattered_mu"]),
            )

DEMO_SURVEY_DAY = dt.date(2023, 12, 31)  # the demo data's statuses are as of the end of the programme


def seed(session: Session, data_dir: Path) -> SeedCounts:
    """Upsert the demo data in one transaction (all or nothing)."""
    counts = SeedCounts()
    geojson = data_dir / "geojson"
    with unit_of_work(session):
        long_statements(session)
        # History as first loaded: it counts from the day it happened — a completion from its date, any other
        # status from the day the demo's statuses were surveyed (not the day the demo happens to be loaded).
        event_source(session, "seed", note="demo data", day=DEMO_SURVEY_DAY)
        existing_units = _Existing(session, Unit, "code")
        existing_targets = _Existing(session, AnnualTarget, "unit_id", "year")
        existing_enterprises = _Existing(session, Enterprise, "credit_code")
        existing_blocks = _Existing(session, RenewalBlock, "code")
        existing_parcels = _Existing(session, Parcel, "code")
        units: dict[str, Unit] = {}
        for f in _features(geojson / "units.geojson"):
            p = f["properties"]
            unit = existing_units.get_or_new(p["code"])
            _assign(unit, counts, name=p["name"], kind=UnitKind(p["kind"]), is_schematic=bool(p.get("schematic")))
            _assign_geometry(unit, f["geometry"], counts)
            units[unit.code] = unit
        counts.units = len(units)
        session.flush()

        by_name = {u.name: u for u in units.values()}
        # The 2022 table of the plan; then the 2023 demo targets, as an admin would have entered them:
        # added where a unit has none, never overwriting one set since (the admin's figure wins).
        _seed_targets(data_dir / "reference" / "targets-2022.csv", by_name, existing_targets, counts, overwrite=True)
        _seed_targets(data_dir / "reference" / "targets-2023-demo.csv", by_name, existing_targets, counts,
                      overwrite=False)

        enterprises: dict[str, Enterprise] = {}
        for e in json.loads((geojson / "enterprises.json").read_text(encoding="utf-8")):
            ent = existing_enterprises.get_or_new(e["credit_code"])
            _assign(
                ent,
                counts,
                name=e["name"],
                tax_10k_yuan=_dec(e.get("tax_10k_yuan")),
                output_10k_yuan=_dec(e.get("output_10k_yuan")),
                employees=e.get("employees"),
                data_year=e.get("data_year"),
            )
            enterprises[ent.credit_code] = ent
        counts.enterprises = len(enterprises)

        blocks: dict[str, RenewalBlock] = {}
        for f in _features(geojson / "blocks.geojson"):
            p = f["properties"]
            block = existing_blocks.get_or_new(p["code"])
            _assign(
                block,
                counts,
                name=p["name"],
                unit_id=units[p["unit_code"]].id,
                designated_year=p.get("designated_year"),
                stage=Stage(p["stage"]),
                review_status=ReviewStatus(p["review_status"]),
                four_east=p.get("four_east"),
                four_south=p.get("four_south"),
                four_west=p.get("four_west"),
                four_north=p.get("four_north"),
                planned_far=_dec(p.get("planned_far")),
                planned_new_floor_area_m2=_dec(p.get("planned_new_floor_area_m2")),
                approval_doc_no=p.get("approval_doc_no"),
                approval_date=_date(p.get("approval_date")),
                completed_on=_date(p.get("completed_on")),
            )
            _assign_geometry(block, f["geometry"], counts)
            blocks[block.code] = block
        counts.blocks = len(blocks)
        session.flush()
        counts.parks = _seed_parks(session, geojson / "parks.geojson", units, counts)

        seeded: list[tuple[Parcel, dict]] = []
        for f in _features(geojson / "parcels.geojson"):
            p = f["properties"]
            parcel = existing_parcels.get_or_new(p["code"])
            block_code = p.get("block_code")
            credit = p.get("enterprise_credit_code")
            _assign(
                parcel,
                counts,
                unit_id=units[p["unit_code"]].id,
                block_id=blocks[block_code].id if block_code else None,
                enterprise_id=enterprises[credit].id if credit else None,
                floor_area_m2=_dec(p.get("floor_area_m2")),
                planned_floor_area_m2=_dec(p.get("planned_floor_area_m2")),
                land_use=p.get("land_use"),
                classification=_enum(Classification, p.get("classification")),
                renewal_mode=_enum(RenewalMode, p.get("renewal_mode")),
                renewal_type=_enum(RenewalType, p.get("renewal_type")),
                status=ParcelStatus(p.get("status") or ParcelStatus.NOT_STARTED),
                completed_on=_date(p.get("completed_on")),
            )
            _assign_geometry(parcel, f["geometry"], counts)
            seeded.append((parcel, p))
            counts.parcels += 1
        session.flush()
        counts.changed += load_tax_after(session, seeded)  # 亩均税收 after renewal (app/progress)
        counts.changed += seed_reports(session)  # the towns' 月报 of Sep–Dec 2023 with evidence
        counts.changed += seed_register_and_figures(session, data_dir)  # 一库 register and 2023 figures
        counts.changed += seed_evaluation(session)  # the 2023 亩均评价: 公示, one objection upheld, 定档
        counts.changed += _adopt_approved_blocks(session)
        counts.changed += seed_subsidies(session)  # after the plans: 扶持资金 (20000 万元), entries, one 现场会
        counts.changed += seed_market(session)  # after the plans: 转让与租赁, one lease flagged (整治清退, 厂中厂)
        counts.changed += seed_admissions(session)  # after the plans and the register: 项目准入, one admitted
        counts.changed += seed_tenants(session)  # 厂中厂: four tenants, their figures and 2026 inspections
    return counts


def _seed_parks(session: Session, path: Path, units: dict[str, Unit], counts: SeedCounts) -> int:
    """The schematic 开发区 / 镇街工业园区 (示意) around the demo blocks (app/parks, docs/parks.md)."""
    if not path.exists():
        return 0
    existing = _Existing(session, Park, "code")
    features = _features(path)
    for f in features:
        p = f["properties"]
        park = existing.get_or_new(p["code"])
        _assign(park, counts, name=p["name"], kind=ParkKind(p["kind"]),
                unit_id=units[p["unit_code"]].id if p.get("unit_code") else None, approval=p.get("approval"),
                is_schematic=bool(p.get("schematic")))
        _assign_geometry(park, f["geometry"], counts)
    session.flush()
    return len(features)


# 产业导向 of the six demo blocks (GB/T 4754 divisions; docs/admission.md): 桐乡's textiles, 羽绒 and 羊毛衫,
# chemical fibre, and the electrical and electronics industries the plan wants to bring in.
DEMO_INDUSTRY_GUIDANCE: dict[str, list[str]] = {
    "TX2022-CF-01": ["C17", "C18", "C19"],  # 崇福东兴羽绒区块: 纺织、服装、羽绒制品
    "TX2022-CF-02": ["C17", "C18", "C38"],  # 崇福石马区块
    "TX2022-HS-01": ["C28", "C17", "C34"],  # 河山百利达和亿宏区块: 化纤
    "TX2022-SM-01": ["C19", "C18", "C17"],  # 石门羔羊区块: 毛皮、服装
    "TX2022-TD-01": ["C38", "C39", "C17"],  # 屠甸荣翔和老工业区块
    "TX2022-WT-01": ["C38", "C39", "C34", "C35"],  # 梧桐百桃工业区块: 电气、电子、装备
}


def _adopt_approved_blocks(session: Session) -> int:
    """Freeze each approved block as its plan's imported version 1 (its parcels as loaded), so its
    membership on past days never follows a later upload (docs/assessment.md §1)."""
    from .workflow.models import BlockPlan
    from .workflow.plans import adopt

    planned = set(session.scalars(select(BlockPlan.code)))
    blocks = session.scalars(select(RenewalBlock).where(RenewalBlock.review_status == ReviewStatus.APPROVED)
                             .order_by(RenewalBlock.code)).all()
    adopted = 0
    for block in blocks:
        if block.code not in planned:
            adopt(session, block, DEMO_INDUSTRY_GUIDANCE.get(block.code))
            adopted += 1
    session.flush()
    return adopted


def _enum(cls, value):
    return None if value is None else cls(value)


def _date(value):
    return None if value is None else dt.date.fromisoformat(value)
