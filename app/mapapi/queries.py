"""SQL for the map: compact layers for drawing, per-unit aggregates, search.

Everything is bound parameters; optional filters are written ``(:x IS NULL OR …)``
so one statement serves every combination. The bbox test ``geom && envelope`` is in
the storage CRS, so the GiST index on ``parcels.geom`` is used.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.orm import Session

from spatial import STORAGE_SRID

from ..serve.queries import BBox

# Geometry for drawing: 6 decimals of a degree is ~10 cm, far below a screen pixel.
DRAW_DECIMALS = 6


@dataclass(frozen=True)
class MapFilter:
    """The map's filter bar: unit, designation year, stage, classification, contiguous/scattered."""

    unit: str | None = None
    year: int | None = None
    stage: str | None = None
    classification: str | None = None
    kind: str | None = None  # contiguous 连片 / scattered 零星

    def binds(self) -> dict:
        return {
            "unit": self.unit,
            "year": self.year,
            "stage": self.stage,
            "classification": self.classification,
            "kind": self.kind,
        }


# Parcels passing the filter. Year and stage belong to blocks: a filter on either
# keeps only parcels inside blocks (scattered parcels have no designation year or stage).
_FILTERED_PARCELS = """
    SELECT p.id, p.code, {geom} p.land_area_mu, p.far, p.planned_far,
           -- float8 for the sums: numeric arithmetic is several times slower over 100k rows
           CAST(p.land_area_mu AS float8) AS land_mu, CAST(p.floor_area_m2 AS float8) AS floor_m2,
           p.classification, p.status, p.block_id, p.enterprise_id, p.unit_id,
           u.code AS unit_code, b.code AS block_code, b.stage, b.designated_year
    FROM parcels p
    JOIN units u ON u.id = p.unit_id
    LEFT JOIN renewal_blocks b ON b.id = p.block_id
    WHERE (CAST(:unit AS text) IS NULL OR u.code = CAST(:unit AS text))
      AND (CAST(:year AS integer) IS NULL OR b.designated_year = CAST(:year AS integer))
      AND (CAST(:stage AS text) IS NULL OR b.stage = CAST(:stage AS text))
      AND (CAST(:classification AS text) IS NULL OR p.classification = CAST(:classification AS text))
      AND (CAST(:kind AS text) IS NULL
           OR (CAST(:kind AS text) = 'contiguous' AND p.block_id IS NOT NULL)
           OR (CAST(:kind AS text) = 'scattered' AND p.block_id IS NULL))
"""

# 亩均税收 of an enterprise: its yearly tax over all the land it holds (万元/亩); {only}
# narrows it to the enterprises of the filtered parcels when they are few (a map view).
_ENTERPRISE_TAX_PER_MU = """
    SELECT e.id, e.name, e.tax_10k_yuan / NULLIF(sum(pe.land_area_mu), 0) AS tax_per_mu
    FROM enterprises e JOIN parcels pe ON pe.enterprise_id = e.id
    {only}
    GROUP BY e.id
"""
_ONLY_FILTERED = "WHERE e.id IN (SELECT enterprise_id FROM fp WHERE enterprise_id IS NOT NULL)"

_MAP_PARCELS = text(
    f"""
    WITH fp AS (
        {_FILTERED_PARCELS.format(geom="p.geom,")}
          AND (CAST(:minx AS float8) IS NULL
               OR p.geom && ST_MakeEnvelope(:minx, :miny, :maxx, :maxy, {STORAGE_SRID}))
        ORDER BY p.id
        LIMIT :limit
    ), ent AS ({_ENTERPRISE_TAX_PER_MU.format(only=_ONLY_FILTERED)})
    SELECT coalesce(json_agg(json_build_object(
               'type', 'Feature',
               'id', fp.code,
               'geometry', CAST(ST_AsGeoJSON(fp.geom, {DRAW_DECIMALS}, 0) AS json),
               'properties', json_build_object(
                   'code', fp.code, 'unit_code', fp.unit_code, 'block_code', fp.block_code,
                   'stage', fp.stage, 'designated_year', fp.designated_year,
                   'enterprise_name', ent.name, 'land_area_mu', fp.land_area_mu,
                   'far', fp.far, 'planned_far', fp.planned_far,
                   'tax_per_mu', round(ent.tax_per_mu, 2),
                   'classification', fp.classification, 'status', fp.status))),
               CAST('[]' AS json))::text,
           count(*)
    FROM fp LEFT JOIN ent ON ent.id = fp.enterprise_id
    """
)


@dataclass(frozen=True)
class FeatureText:
    features_json: str
    number_returned: int


def map_parcels(session: Session, flt: MapFilter, bbox: BBox | None, limit: int) -> FeatureText:
    box = {"minx": None, "miny": None, "maxx": None, "maxy": None}
    if bbox is not None:
        box = {"minx": bbox.minx, "miny": bbox.miny, "maxx": bbox.maxx, "maxy": bbox.maxy}
    features_json, returned = session.execute(_MAP_PARCELS, flt.binds() | box | {"limit": limit}).one()
    return FeatureText(features_json, returned)


_UNIT_SUMMARY = text(
    f"""
    WITH fp AS ({_FILTERED_PARCELS.format(geom="")}),
    ent AS ({_ENTERPRISE_TAX_PER_MU.format(only="")}),
    agg AS (
        SELECT fp.unit_id,
               count(*) AS parcel_count,
               sum(fp.land_mu) AS land_area_mu,
               sum(fp.land_mu) FILTER (WHERE fp.block_id IS NOT NULL) AS contiguous_mu,
               sum(fp.land_mu) FILTER (WHERE fp.block_id IS NULL) AS scattered_mu,
               sum(fp.land_mu) FILTER (WHERE fp.classification = 'upgrade') AS upgrade_mu,
               sum(fp.land_mu) FILTER (WHERE fp.classification = 'transform') AS transform_mu,
               sum(fp.land_mu) FILTER (WHERE fp.classification = 'clear_out') AS clear_out_mu,
               sum(fp.floor_m2) AS floor_area_m2,
               sum(fp.land_mu) FILTER (WHERE fp.floor_m2 IS NOT NULL) AS land_with_floor_mu,
               sum(CAST(ent.tax_per_mu AS float8) * fp.land_mu) AS tax_10k_yuan,
               sum(fp.land_mu) FILTER (WHERE ent.tax_per_mu IS NOT NULL) AS land_with_tax_mu
        FROM fp LEFT JOIN ent ON ent.id = fp.enterprise_id
        GROUP BY fp.unit_id
    )
    SELECT u.code, u.name, u.area_mu, u.is_schematic,
           ST_X(ST_PointOnSurface(u.geom)) AS label_lon, ST_Y(ST_PointOnSurface(u.geom)) AS label_lat,
           (SELECT count(*) FROM renewal_blocks b WHERE b.unit_id = u.id
              AND (CAST(:year AS integer) IS NULL OR b.designated_year = CAST(:year AS integer))
              AND (CAST(:stage AS text) IS NULL OR b.stage = CAST(:stage AS text))) AS block_count,
           coalesce(agg.parcel_count, 0) AS parcel_count, agg.land_area_mu, agg.contiguous_mu, agg.scattered_mu,
           agg.upgrade_mu, agg.transform_mu, agg.clear_out_mu, agg.floor_area_m2, agg.land_with_floor_mu,
           agg.tax_10k_yuan, agg.land_with_tax_mu
    FROM units u LEFT JOIN agg ON agg.unit_id = u.id
    WHERE (CAST(:unit AS text) IS NULL OR u.code = CAST(:unit AS text))
    ORDER BY u.code
    """
)


def unit_summary_rows(session: Session, flt: MapFilter) -> list[dict]:
    return [dict(r._mapping) for r in session.execute(_UNIT_SUMMARY, flt.binds())]


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
    SELECT e.name, e.credit_code, e.tax_10k_yuan,
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
