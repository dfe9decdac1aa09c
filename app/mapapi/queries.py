"""The map's queries beyond GeoJSON pages: per-unit aggregates, search, a block's figures.

The drawing layer itself (/api/map/parcels) is the registry's ``map_parcels`` layer on the
shared builder (app.core.read). The per-unit aggregates use the same layer's filters, so the
map's figures and its drawing always agree on what the filter bar selects.
"""

from __future__ import annotations

from dataclasses import dataclass

from geoalchemy2 import functions as gf
from sqlalchemy import Float, and_, cast, func, select, text
from sqlalchemy.orm import Session, aliased

from ..core.read.layers import layers
from ..core.read.sql import conditions, filter_values
from ..models import Enterprise, Parcel, RenewalBlock, Unit


@dataclass(frozen=True)
class MapFilter:
    """The map's filter bar: unit, designation year, stage, classification, contiguous/scattered."""

    unit: str | None = None
    year: int | None = None
    stage: str | None = None
    classification: str | None = None
    kind: str | None = None  # contiguous 连片 / scattered 零星

    def filters(self) -> list[tuple[str, object]]:
        """As the parcel layers' named filters (app.core.read.layers)."""
        out: list[tuple[str, object]] = [(name, value) for name, value in (
            ("unit", self.unit), ("year", self.year), ("stage", self.stage), ("classification", self.classification))
            if value is not None]
        if self.kind is not None:
            out.append((self.kind, None))
        return out


def unit_summary_rows(session: Session, flt: MapFilter) -> list[dict]:
    """Per unit: the filtered parcels' count, 亩 (连片/零星, by classification), floor area and 亩均税收."""
    layer = layers()["map_parcels"]
    fp = (
        layer.base.add_columns(
            Parcel.unit_id, Parcel.block_id, Parcel.enterprise_id, Parcel.classification,
            # float8 for the sums: numeric arithmetic is several times slower over 100k rows
            cast(Parcel.land_area_mu, Float).label("land_mu"), cast(Parcel.floor_area_m2, Float).label("floor_m2"),
        )
        .where(*conditions(layer, [name for name, _ in flt.filters()]))
        .cte("fp")
    )
    held = aliased(Parcel, name="held")
    # 亩均税收 of an enterprise: its yearly tax over all the land it holds (万元/亩)
    ent = (
        select(Enterprise.id, (Enterprise.tax_10k_yuan / func.nullif(func.sum(held.land_area_mu), 0)).label("tax_per_mu"))
        .join(held, held.enterprise_id == Enterprise.id)
        .group_by(Enterprise.id)
        .cte("ent")
    )
    land, block, cls = fp.c.land_mu, fp.c.block_id, fp.c.classification
    tax_per_mu = cast(ent.c.tax_per_mu, Float)
    agg = (
        select(
            fp.c.unit_id,
            func.count().label("parcel_count"),
            func.sum(land).label("land_area_mu"),
            func.sum(land).filter(block.is_not(None)).label("contiguous_mu"),
            func.sum(land).filter(block.is_(None)).label("scattered_mu"),
            func.sum(land).filter(cls == "upgrade").label("upgrade_mu"),
            func.sum(land).filter(cls == "transform").label("transform_mu"),
            func.sum(land).filter(cls == "clear_out").label("clear_out_mu"),
            func.sum(fp.c.floor_m2).label("floor_area_m2"),
            func.sum(land).filter(fp.c.floor_m2.is_not(None)).label("land_with_floor_mu"),
            func.sum(tax_per_mu * land).label("tax_10k_yuan"),
            func.sum(land).filter(ent.c.tax_per_mu.is_not(None)).label("land_with_tax_mu"),
        )
        .select_from(fp.outerjoin(ent, ent.c.id == fp.c.enterprise_id))
        .group_by(fp.c.unit_id)
        .cte("agg")
    )
    block_where = [RenewalBlock.unit_id == Unit.id]
    if flt.year is not None:
        block_where.append(RenewalBlock.designated_year == flt.year)
    if flt.stage is not None:
        block_where.append(RenewalBlock.stage == flt.stage)
    block_count = select(func.count()).select_from(RenewalBlock).where(and_(*block_where)).correlate(Unit)
    point = gf.ST_PointOnSurface(Unit.geom)
    stmt = (
        select(
            Unit.code, Unit.name, Unit.area_mu, Unit.is_schematic,
            gf.ST_X(point).label("label_lon"), gf.ST_Y(point).label("label_lat"),
            block_count.scalar_subquery().label("block_count"),
            func.coalesce(agg.c.parcel_count, 0).label("parcel_count"),
            *[agg.c[name] for name in ("land_area_mu", "contiguous_mu", "scattered_mu", "upgrade_mu", "transform_mu",
                                       "clear_out_mu", "floor_area_m2", "land_with_floor_mu", "tax_10k_yuan",
                                       "land_with_tax_mu")],
        )
        .outerjoin(agg, agg.c.unit_id == Unit.id)
        .order_by(Unit.code)
    )
    if flt.unit is not None:
        stmt = stmt.where(Unit.code == flt.unit)
    return [dict(r._mapping) for r in session.execute(stmt, filter_values(flt.filters()))]


def like_pattern(q: str) -> str:
    """``%q%`` for ILIKE with the user's own ``%``, ``_`` and ``\\`` taken literally."""
    escaped = q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


# One statement for every kind of hit. ``rank``: 0 exact, 1 prefix, 2 contains.
# Parcel codes and credit codes are unique (btree); ILIKE '%q%' scans, which on 100k
# parcels is a few milliseconds — measured in bench/bench_map.py's search probe.
_SEARCH = text(
    """
    WITH hits AS (
        SELECT 'block' AS kind, b.code, b.name AS label, u.name AS unit_name, b.code AS block_code,
               NULL AS parcel_code, b.geom,
               CASE WHEN upper(b.code) = upper(:q) OR b.name = :q THEN 0
                    WHEN b.code ILIKE :prefix OR b.name ILIKE :prefix THEN 1 ELSE 2 END AS rank
        FROM renewal_blocks b JOIN units u ON u.id = b.unit_id
        WHERE b.code ILIKE :pattern OR b.name ILIKE :pattern
      UNION ALL
        SELECT 'parcel', p.code, coalesce(e.name, p.code), u.name, b.code, p.code, p.geom,
               CASE WHEN upper(p.code) = upper(:q) THEN 0 WHEN p.code ILIKE :prefix THEN 1 ELSE 2 END
        FROM parcels p JOIN units u ON u.id = p.unit_id
        LEFT JOIN renewal_blocks b ON b.id = p.block_id
        LEFT JOIN enterprises e ON e.id = p.enterprise_id
        WHERE p.code ILIKE :pattern
      UNION ALL
        SELECT 'enterprise', e.credit_code, e.name, min(u.name), min(b.code), min(p.code),
               ST_Collect(p.geom),
               CASE WHEN e.credit_code = upper(:q) OR e.name = :q THEN 0
                    WHEN e.name ILIKE :prefix OR e.credit_code ILIKE :prefix THEN 1 ELSE 2 END
        FROM enterprises e JOIN parcels p ON p.enterprise_id = e.id
        JOIN units u ON u.id = p.unit_id
        LEFT JOIN renewal_blocks b ON b.id = p.block_id
        WHERE e.name ILIKE :pattern OR e.credit_code ILIKE :pattern
        GROUP BY e.id
      UNION ALL
        SELECT 'unit', u.code, u.name, u.name, NULL, NULL, u.geom,
               CASE WHEN u.name = :q OR u.code = :q THEN 0 WHEN u.name ILIKE :prefix THEN 1 ELSE 2 END
        FROM units u
        WHERE u.name ILIKE :pattern OR u.code ILIKE :pattern
    )
    SELECT kind, code, label, unit_name, block_code, parcel_code,
           ST_XMin(geom) AS minx, ST_YMin(geom) AS miny, ST_XMax(geom) AS maxx, ST_YMax(geom) AS maxy,
           ST_X(ST_PointOnSurface(ST_GeometryN(geom, 1))) AS lon,
           ST_Y(ST_PointOnSurface(ST_GeometryN(geom, 1))) AS lat
    FROM hits
    ORDER BY rank,
             CASE kind WHEN 'block' THEN 0 WHEN 'enterprise' THEN 1 WHEN 'parcel' THEN 2 ELSE 3 END,
             code
    LIMIT :limit
    """
)


def search(session: Session, q: str, limit: int) -> list[dict]:
    prefix = like_pattern(q)[1:]
    binds = {"q": q, "pattern": like_pattern(q), "prefix": prefix, "limit": limit}
    return [dict(r._mapping) for r in session.execute(_SEARCH, binds)]


_BLOCK_ENTERPRISES = text(
    """
    SELECT e.name, e.credit_code, e.tax_10k_yuan, e.evaluation_grade, e.evaluation_year,
           array_agg(p.code ORDER BY p.code) AS parcel_codes,
           array_agg(DISTINCT p.classification) FILTER (WHERE p.classification IS NOT NULL) AS classifications,
           sum(p.land_area_mu) AS land_area_mu,
           (SELECT sum(pa.land_area_mu) FROM parcels pa WHERE pa.enterprise_id = e.id) AS all_land_mu
    FROM parcels p JOIN enterprises e ON e.id = p.enterprise_id
    WHERE p.block_id = :block_id
    GROUP BY e.id
    ORDER BY sum(p.land_area_mu) DESC, e.name
    """
)

_BLOCK_SUMS = text(
    """
    SELECT count(*) AS parcel_count, sum(land_area_mu) AS land_area_mu,
           sum(floor_area_m2) AS floor_area_m2,
           sum(land_area_mu) FILTER (WHERE floor_area_m2 IS NOT NULL) AS land_with_floor_mu,
           sum(planned_floor_area_m2) AS planned_floor_area_m2,
           sum(land_area_mu) FILTER (WHERE planned_floor_area_m2 IS NOT NULL) AS land_with_planned_mu,
           count(*) FILTER (WHERE enterprise_id IS NULL) AS parcels_without_enterprise
    FROM parcels WHERE block_id = :block_id
    """
)


def block_enterprises(session: Session, block_id: int) -> list[dict]:
    return [dict(r._mapping) for r in session.execute(_BLOCK_ENTERPRISES, {"block_id": block_id})]


def block_sums(session: Session, block_id: int) -> dict:
    return dict(session.execute(_BLOCK_SUMS, {"block_id": block_id}).one()._mapping)
