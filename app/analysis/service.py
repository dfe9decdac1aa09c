"""Build ``spatial`` inputs from request GeoJSON or from stored rows, and run the report.

Every figure and rule comes from ``spatial.analyse_block`` / ``analyse_parcels``;
this module only gathers inputs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from geoalchemy2 import functions as gf
import shapely
from geoalchemy2.shape import from_shape, to_shape
from shapely.geometry import shape
from sqlalchemy import false, func, select
from sqlalchemy.orm import Session

import spatial

from ..actionplans import service as action_plans
from ..enums import ReviewStatus
from ..errors import FieldError, InvalidFeatures, InvalidParameter, NotFound, PayloadTooLarge
from ..messages import message
from ..models import Enterprise, Parcel, Park, RenewalBlock, Unit

MAX_FEATURES = 5000
NEIGHBOUR_SEARCH_DEG = 0.005  # ~500 m around a stored block: well beyond the 四至 search distance

# What one analysis may send (docs/architecture.md, "Limits and timeouts"): a town's plan has some
# hundred parcels of some hundred vertices; more is a mistake or an attack, not a plan.
MAX_FEATURES = 5_000
MAX_VERTICES = 500_000


def check_size(body: dict[str, Any]) -> None:
    """413 when the parcels, block and neighbours together have too many features or vertices."""
    features = vertices = 0
    stack: list[Any] = [body.get(k) for k in ("parcels", "block", "neighbours")]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            if item.get("type") == "Feature":
                features += 1
            stack.extend(v for k, v in item.items() if k in {"features", "geometry", "geometries", "coordinates"})
        elif isinstance(item, list):
            if item and isinstance(item[0], (int, float)):
                vertices += 1
            else:
                stack.extend(item)
        if features > MAX_FEATURES:
            raise PayloadTooLarge(message("analysis_too_many_features", limit=MAX_FEATURES), code="too_many_features")
        if vertices > MAX_VERTICES:
            raise PayloadTooLarge(message("analysis_too_many_vertices", limit=MAX_VERTICES), code="too_many_vertices")

def parse_crs(raw: str | int | None) -> int:
    """A request's CRS as an EPSG code; CRS84 and EPSG:4490 both mean lon/lat in storage CRS.

    Coordinates are always read x = easting / longitude, y = northing / latitude.
    """
    if raw is None or raw == "":
        return spatial.STORAGE_SRID
    identifier = spatial.parse_crs_identifier(raw)
    if identifier is None:
        raise InvalidParameter("crs", message("unknown_crs", crs=raw))
    if identifier == spatial.CRS84:
        return spatial.STORAGE_SRID
    code = int(identifier.split(":")[1])
    try:
        spatial.transformer(code, spatial.STORAGE_SRID)
    except Exception as exc:  # pyproj's CRSError: an EPSG code PROJ does not know
        raise InvalidParameter("crs", message("unknown_crs", crs=raw)) from exc
    return code


def _features(obj: Any, field: str) -> list[dict]:
    if not isinstance(obj, dict) or obj.get("type") not in {"Feature", "FeatureCollection"}:
        raise InvalidParameter(field, message("not_geojson"))
    features = obj["features"] if obj["type"] == "FeatureCollection" else [obj]
    if not isinstance(features, list):
        raise InvalidParameter(field, message("not_geojson"))
    if len(features) > MAX_FEATURES:
        raise InvalidParameter(field, message("too_many_features", limit=MAX_FEATURES, count=len(features)))
    return features


def _geometry(feature: Any, index: int, field: str, errors: list[FieldError]):
    try:
        geom = feature.get("geometry") if isinstance(feature, dict) else None
        return None if geom is None else shape(geom)
    except Exception:  # shapely raises several kinds for malformed GeoJSON geometry
        errors.append(FieldError("geometry", message("bad_geometry", field=field, index=index + 1), feature=index + 1))
        return None


def _number(props: dict, key: str, index: int, errors: list[FieldError]) -> float | None:
    value = props.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        errors.append(FieldError(key, message("bad_number", index=index + 1, field=key, value=value), feature=index + 1))
        return None
    return float(value)


def parcels_from_geojson(obj: Any, field: str = "parcels") -> list[spatial.ParcelInput]:
    features = _features(obj, field)
    if not features:
        raise InvalidParameter(field, message("no_features"))
    errors: list[FieldError] = []
    out = []
    for i, f in enumerate(features):
        props = (f.get("properties") if isinstance(f, dict) else None) or {}
        geom = _geometry(f, i, field, errors)
        floor = _number(props, "planned_floor_area_m2", i, errors)
        if floor is None:
            floor = _number(props, "floor_area_m2", i, errors)
        out.append(
            spatial.ParcelInput(
                id=props.get("code") or (f.get("id") if isinstance(f, dict) else None) or f"#{i + 1}",
                geom=geom,
                floor_area_m2=floor,
                renewal_type=props.get("renewal_type"),
                classification=props.get("classification"),
                enterprise=props.get("enterprise") or props.get("enterprise_name"),
                merged=bool(props.get("merged", False)),
            )
        )
    if errors:
        raise InvalidFeatures(message("invalid_features", count=len(errors), first=errors[0].message), errors)
    return out


def neighbours_from_geojson(obj: Any) -> list[tuple[str, Any]]:
    if obj is None:
        return []
    errors: list[FieldError] = []
    out = []
    for i, f in enumerate(_features(obj, "neighbours")):
        props = (f.get("properties") if isinstance(f, dict) else None) or {}
        name = props.get("name")
        if not name:
            errors.append(FieldError("name", message("neighbour_without_name", index=i + 1), feature=i + 1))
            continue
        geom = _geometry(f, i, "neighbours", errors)
        if geom is not None:
            out.append((str(name), geom))
    if errors:
        raise InvalidFeatures(message("invalid_features", count=len(errors), first=errors[0].message), errors)
    return out


def block_geometry_from_geojson(obj: Any):
    if obj is None:
        return None
    if isinstance(obj, dict) and obj.get("type") == "Feature":
        obj = obj.get("geometry")
    try:
        return shape(obj)
    except Exception as exc:  # malformed geometry
        raise InvalidParameter("block", message("bad_block_geometry")) from exc


def designated_block_codes(session: Session, unit_id: int, year: int) -> list[str]:
    """Blocks of a unit designated (认定) in a year: the input of the 2-per-year rule."""
    return list(
        session.scalars(
            select(RenewalBlock.code)
            .where(
                RenewalBlock.unit_id == unit_id,
                RenewalBlock.designated_year == year,
                RenewalBlock.review_status == ReviewStatus.APPROVED,
            )
            .order_by(RenewalBlock.code)
        )
    )


def plan_in_force(session: Session, year: int | None) -> tuple[spatial.PlanThresholds, dict | None]:
    """The thresholds of the 行动计划 in force in ``year`` (default this year) and the plan as the report
    names it (``action_plan``: 文号, title, period, thresholds); None without any stored plan."""
    plan = action_plans.plan_for_year(session, year)
    if plan is None:
        return spatial.DEFAULT_THRESHOLDS, None
    thresholds = plan.thresholds()
    return thresholds, {"id": plan.id, "doc_no": plan.doc_no, "title": plan.title, "start_year": plan.start_year,
                        "end_year": plan.end_year, "thresholds": thresholds.to_dict()}


def unit_year_inputs(session: Session, plan_id: str, unit_code: str | None, year: int | None) -> dict:
    """Inputs of the 2-blocks-per-unit-per-year rule for a new plan: the designated blocks plus this plan."""
    if unit_code is None or year is None:
        return {}
    unit = session.scalar(select(Unit).where(Unit.code == unit_code))
    if unit is None:
        raise InvalidParameter("unit", message("unknown_unit", code=unit_code))
    designated = designated_block_codes(session, unit.id, year)
    return {"unit": unit.name, "year": year, "designated_block_ids": [*designated, plan_id]}


def stored_block_report(session: Session, code: str, tolerance_m: float | None, search_distance_m: float) -> dict:
    """The full report for a stored block, its parcels and its surroundings (EPSG:4490 inputs)."""
    block = session.scalar(select(RenewalBlock).where(RenewalBlock.code == code))
    if block is None:
        raise NotFound(message("block_not_found", code=code))
    return block_plan_report(
        session, code=block.code, name=block.name, unit=block.unit,
        block_geom=None if block.boundary_derived else block.geom,
        members=Parcel.block_id == block.id, own_block_id=block.id, year=block.designated_year,
        tolerance_m=tolerance_m, search_distance_m=search_distance_m,
    )


def block_plan_report(
    session: Session,
    *,
    code: str,
    name: str,
    unit: Unit,
    block_geom,
    members,
    own_block_id: int | None,
    year: int | None,
    enterprises: Sequence[tuple[str, str | None]] = (),
    tolerance_m: float | None = None,
    search_distance_m: float = spatial.DEFAULT_SEARCH_DISTANCE_M,
    planned_far: float | None = None,
) -> dict:
    """The report for a block or a block plan version: ``members`` selects its parcels (a WHERE
    clause on Parcel), ``block_geom`` is its boundary (EPSG:4490; None: derived from the parcels
    by ``spatial``), ``own_block_id`` the stored block it is (or replaces), so neither that block
    nor its member parcels count as neighbours. The rules are those of the 行动计划 in force in
    ``year`` (the designation year; this year when not given), and ``tolerance_m`` defaults to
    that plan's contiguity tolerance."""
    rows = session.execute(
        select(Parcel, Enterprise.name)
        .outerjoin(Enterprise, Parcel.enterprise_id == Enterprise.id)
        .where(members)
        .order_by(Parcel.code)
    ).all()
    parcels = [
        spatial.ParcelInput(
            id=p.code,
            geom=to_shape(p.geom),
            floor_area_m2=None if p.planned_floor_area_m2 is None else float(p.planned_floor_area_m2),
            renewal_type=p.renewal_type.value if p.renewal_type else None,
            classification=p.classification.value if p.classification else None,
            enterprise=ent_name,
            existing_floor_area_m2=None if p.floor_area_m2 is None else float(p.floor_area_m2),
        )
        for p, ent_name in rows
    ]
    if not parcels:
        raise InvalidParameter("code", message("block_without_parcels", code=code))
    # Without a boundary the neighbours are searched around the parcels: the derived boundary
    # lies within the contiguity tolerance of them, far inside the search distance.
    around = block_geom if block_geom is not None else from_shape(
        shapely.MultiPolygon([g for p in parcels for g in getattr(p.geom, "geoms", [p.geom])]),
        srid=spatial.STORAGE_SRID)
    neighbours = _stored_neighbours(session, around, members, own_block_id)
    thresholds, plan_ref = plan_in_force(session, year)
    unit_rule = {}
    if year is not None:
        # The block counts towards its unit's yearly limit whether or not it is approved yet.
        designated = designated_block_codes(session, unit.id, year)
        if code not in designated:
            designated.append(code)
        unit_rule = {"unit": unit.name, "year": year, "designated_block_ids": designated}
    report = spatial.analyse_block(
        parcels,
        block_id=code,
        block_geom=None if block_geom is None else to_shape(block_geom),
        neighbours=neighbours,
        crs=spatial.STORAGE_SRID,
        enterprises=enterprises,
        tolerance_m=tolerance_m,
        search_distance_m=search_distance_m,
        planned_far=planned_far,
        thresholds=thresholds,
        **unit_rule,
    )
    report = with_park_rule(session, report, code, thresholds)
    return report.to_dict() | {"block": {"code": code, "name": name, "unit": unit.name}, "action_plan": plan_ref}


def parks_around(session: Session, geom_4490) -> list[tuple[str, Any]] | None:
    """The parks (开发区, 镇街工业园区) that meet a shape (EPSG:4490), as (name, shape); None when no
    park is stored at all (the rule then only warns)."""
    if session.scalar(select(Park.id).limit(1)) is None:
        return None
    rows = session.execute(
        select(Park.name, Park.geom)
        .where(gf.ST_Intersects(Park.geom, from_shape(geom_4490, srid=spatial.STORAGE_SRID)))
        .order_by(Park.code)
    ).all()
    return [(name, to_shape(geom)) for name, geom in rows]


def with_park_rule(session: Session, report: spatial.BlockReport, code: str,
                   thresholds: spatial.PlanThresholds) -> spatial.BlockReport:
    """The report with the 实施范围 rule (spatial.check_inside_parks) on its boundary (given or derived)."""
    boundary = report.boundary
    parks = parks_around(session, boundary) if boundary is not None and not boundary.is_empty else []
    found = spatial.check_inside_parks(boundary, parks, crs=spatial.STORAGE_SRID, feature_id=code,
                                       thresholds=thresholds)
    if not found:
        return report
    failed = any(v.severity == "error" for v in found)
    return replace(report, violations=(*report.violations, *found), passed=report.passed and not failed)


def _stored_neighbours(session: Session, block_geom, members, own_block_id: int | None) -> Sequence[tuple[str, Any]]:
    """Parcels (named by enterprise, else code) and other blocks around a block's boundary."""
    near = gf.ST_DWithin(Parcel.geom, block_geom, NEIGHBOUR_SEARCH_DEG)
    rows = session.execute(
        select(Parcel.geom, Parcel.code, Enterprise.name)
        .outerjoin(Enterprise, Parcel.enterprise_id == Enterprise.id)
        .where(near, ~func.coalesce(members, false()))  # parcels outside any block are neighbours too
        .order_by(Parcel.code)
    ).all()
    out = [(name or code, to_shape(geom)) for geom, code, name in rows]
    other_blocks = select(RenewalBlock.geom, RenewalBlock.name).where(
        gf.ST_DWithin(RenewalBlock.geom, block_geom, NEIGHBOUR_SEARCH_DEG)
    )
    if own_block_id is not None:
        other_blocks = other_blocks.where(RenewalBlock.id != own_block_id)
    blocks = session.execute(other_blocks.order_by(RenewalBlock.code)).all()
    out.extend((name, to_shape(geom)) for geom, name in blocks)
    return out
