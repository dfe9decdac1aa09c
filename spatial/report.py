"""The full report for a block plan or a set of scattered parcels: areas, FARs, validity,
contiguity, 四至 and the plan's rules, as frozen dataclasses with ``to_dict()``.

Inputs are in any CRS (default storage EPSG:4490 lon/lat); everything is
measured in EPSG:4549 metres. Locations and repaired geometries in the report
are given back in EPSG:4490 lon/lat (``location_srid``); 四至 extreme
coordinates stay in EPSG:4549 metres, as on survey tables (``extremes_srid``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any, Iterable, Sequence

import numpy as np
import shapely
import shapely.geometry
from shapely.geometry.base import BaseGeometry

from .boundaries import DEFAULT_SEARCH_DISTANCE_M, FourBoundaries, Neighbour, four_boundaries, four_boundaries_many
from .contiguity import ContiguityReport, contiguity_report, derived_boundary
from .crs import AREA_SRID, STORAGE_SRID, reproject
from .measure import M2_PER_MU, ellipsoidal_area_m2, floor_area_ratio
from .rules import (
    DEFAULT_THRESHOLDS,
    PlanThresholds,
    Violation,
    check_block,
    check_classifications,
    check_parcel,
    check_renewal_type,
    check_unit_year,
    reported_mu,
)
from .validity import ERROR, Problem, gap_problems, geometry_problems, overlap_problems, problems_of_many, repair


@dataclass(frozen=True)
class ParcelInput:
    """One parcel as given to the analysis.

    ``geom`` is in the CRS passed to the analysis function; ``floor_area_m2``
    is the planned above-ground floor area after renewal, ``existing_floor_area_m2``
    the floor area standing today (现状); ``renewal_type`` and
    ``classification`` are the codes of app/enums.py (plain strings);
    ``merged`` marks scattered plots merged for re-sale (整合归宗).
    """

    id: Any
    geom: BaseGeometry | None
    floor_area_m2: float | None = None
    renewal_type: str | None = None
    classification: str | None = None
    enterprise: str | None = None
    merged: bool = False
    existing_floor_area_m2: float | None = None


@dataclass(frozen=True)
class ParcelFigures:
    """Measured figures of one parcel (areas from EPSG:4549)."""

    id: Any
    area_m2: float | None
    area_mu: float | None
    floor_area_m2: float | None
    far: float | None
    four_boundaries: FourBoundaries | None = None
    violations: tuple[Violation, ...] = ()

    def to_dict(self) -> dict:
        """Plain JSON-ready dict."""
        return {
            "id": self.id,
            "area_m2": self.area_m2,
            "area_mu": self.area_mu,
            "floor_area_m2": self.floor_area_m2,
            "far": self.far,
            "four_boundaries": self.four_boundaries.to_dict() if self.four_boundaries else None,
            "violations": [v.to_dict() for v in self.violations],
        }


@dataclass(frozen=True)
class BlockReport:
    """Everything the plan asks about a contiguous renewal block (连片腾退改造区块)."""

    block_id: Any
    land_area_m2: float
    land_area_mu: float
    ellipsoidal_area_m2: float
    boundary_area_mu: float | None
    floor_area_m2: float | None
    average_far: float | None
    parcels: tuple[ParcelFigures, ...]
    problems: tuple[Problem, ...]
    contiguity: ContiguityReport | None
    four_boundaries: FourBoundaries | None
    violations: tuple[Violation, ...]
    passed: bool
    boundary: BaseGeometry | None = None  # the boundary checked, EPSG:4490 (location_srid)
    boundary_derived: bool = False  # derived from the parcels (no boundary was given)
    existing_far: float | None = None  # 现状容积率: today's floor area over the land, when every parcel has it
    planned_far: float | None = None  # 规划容积率 as the plan states it (checked instead of average_far)
    area_srid: int = AREA_SRID
    location_srid: int = STORAGE_SRID
    extremes_srid: int = AREA_SRID

    def to_dict(self) -> dict:
        """Plain JSON-ready dict (nested dataclasses converted; the boundary as a GeoJSON geometry)."""
        return {
            "kind": "block",
            "block_id": self.block_id,
            "land_area_m2": self.land_area_m2,
            "land_area_mu": self.land_area_mu,
            "ellipsoidal_area_m2": self.ellipsoidal_area_m2,
            "boundary_area_mu": self.boundary_area_mu,
            "floor_area_m2": self.floor_area_m2,
            "average_far": self.average_far,
            "existing_far": self.existing_far,
            "planned_far": self.planned_far,
            "parcels": [p.to_dict() for p in self.parcels],
            "problems": [p.to_dict() for p in self.problems],
            "contiguity": self.contiguity.to_dict() if self.contiguity else None,
            "four_boundaries": self.four_boundaries.to_dict() if self.four_boundaries else None,
            "violations": [v.to_dict() for v in self.violations],
            "passed": self.passed,
            "boundary": None if self.boundary is None else shapely.geometry.mapping(self.boundary),
            "boundary_derived": self.boundary_derived,
            "area_srid": self.area_srid,
            "location_srid": self.location_srid,
            "extremes_srid": self.extremes_srid,
        }


@dataclass(frozen=True)
class ParcelsReport:
    """Report for scattered renewal parcels outside contiguous blocks (零星 / 零土地技改)."""

    land_area_m2: float
    land_area_mu: float
    parcels: tuple[ParcelFigures, ...]
    problems: tuple[Problem, ...]
    violations: tuple[Violation, ...]
    passed: bool
    area_srid: int = AREA_SRID
    location_srid: int = STORAGE_SRID
    extremes_srid: int = AREA_SRID

    def to_dict(self) -> dict:
        """Plain JSON-ready dict (nested dataclasses converted)."""
        return {
            "kind": "scattered",
            "land_area_m2": self.land_area_m2,
            "land_area_mu": self.land_area_mu,
            "parcels": [p.to_dict() for p in self.parcels],
            "problems": [p.to_dict() for p in self.problems],
            "violations": [v.to_dict() for v in self.violations],
            "passed": self.passed,
            "area_srid": self.area_srid,
            "location_srid": self.location_srid,
            "extremes_srid": self.extremes_srid,
        }


# --- helpers ---------------------------------------------------------------

def _to_4549(geoms: np.ndarray, crs: int | str) -> np.ndarray:
    if crs == AREA_SRID or len(geoms) == 0:
        return geoms
    present = ~shapely.is_missing(geoms)
    out = geoms.copy()
    out[present] = reproject(geoms[present], crs, AREA_SRID)
    return out


def _problems_to_storage(problems: list[Problem]) -> tuple[Problem, ...]:
    """Move problem locations and repaired shapes from EPSG:4549 to EPSG:4490 (one transform each)."""
    if not problems:
        return ()
    xy = np.array([p.location if p.location is not None else (np.nan, np.nan) for p in problems], dtype=float)
    pts = reproject(shapely.points(xy), AREA_SRID, STORAGE_SRID)
    repaired = np.array([p.repaired for p in problems], dtype=object)
    has = ~shapely.is_missing(repaired)
    if has.any():
        repaired[has] = reproject(repaired[has], AREA_SRID, STORAGE_SRID)
    out = []
    for k, p in enumerate(problems):
        loc = None
        if p.location is not None:
            loc = (round(float(shapely.get_x(pts[k])), 8), round(float(shapely.get_y(pts[k])), 8))
        out.append(replace(p, location=loc, repaired=repaired[k] if has[k] else None))
    return tuple(out)


def _polygonal(geoms_4549: np.ndarray) -> np.ndarray:
    """The shapes to measure: repaired forms of invalid input, None where nothing is polygonal."""
    use = geoms_4549.copy()
    present = ~shapely.is_missing(use)
    polygonal = present & np.isin(shapely.get_type_id(use), (3, 6))
    for k in np.flatnonzero(present & ~polygonal):  # keep the polygons of a collection, if any
        parts = [p for p in shapely.get_parts(use[k]) if shapely.get_type_id(p) in (3, 6)]
        use[k] = repair(shapely.union_all(parts)) if parts else None
    for k in np.flatnonzero(polygonal & ~shapely.is_valid(use)):
        use[k] = repair(use[k])
    bad = shapely.is_missing(use) | shapely.is_empty(use)
    use[bad] = None
    return use


def _neighbours_4549(neighbours: Iterable, crs: int | str) -> list[Neighbour]:
    items = [nb if isinstance(nb, Neighbour) else Neighbour(str(nb[0]), nb[1]) for nb in neighbours]
    geoms = _to_4549(np.array([n.geom for n in items], dtype=object), crs)
    return [Neighbour(n.name, g) for n, g in zip(items, geoms) if g is not None]


def _figures(parcels: Sequence[ParcelInput], use: np.ndarray) -> tuple[np.ndarray, list[ParcelFigures]]:
    area = shapely.area(use)
    figs = []
    for p, a in zip(parcels, area.tolist()):
        a = None if a is None or (isinstance(a, float) and math.isnan(a)) else a
        far = floor_area_ratio(p.floor_area_m2, a) if a is not None else None
        figs.append(ParcelFigures(
            p.id,
            None if a is None else round(a, 3),
            None if a is None else round(a / M2_PER_MU, 4),
            p.floor_area_m2,
            far,
        ))
    return area, figs


def _known(value: float | None) -> bool:
    return value is not None and not (isinstance(value, float) and math.isnan(value))


def _passed(problems: Sequence[Problem], violations: Sequence[Violation]) -> bool:
    return not any(p.severity == ERROR for p in problems) and not any(v.severity == ERROR for v in violations)


# --- the reports -----------------------------------------------------------

def analyse_block(
    parcels: Sequence[ParcelInput],
    *,
    block_id: Any = None,
    block_geom: BaseGeometry | None = None,
    neighbours: Iterable[Neighbour | tuple[str, BaseGeometry]] = (),
    crs: int | str = STORAGE_SRID,
    renewal_type: str | None = None,
    enterprises: Iterable[tuple[Any, str | None]] = (),
    unit: str | None = None,
    year: int | None = None,
    designated_block_ids: Sequence[Any] | None = None,
    tolerance_m: float | None = None,
    search_distance_m: float = DEFAULT_SEARCH_DISTANCE_M,
    derive_boundary: bool = True,
    planned_far: float | None = None,
    thresholds: PlanThresholds = DEFAULT_THRESHOLDS,
) -> BlockReport:
    """Full report for a contiguous renewal block plan.

    Land area is the plane area (EPSG:4549) of the union of the parcels, so
    roads and land not in the plan inside a drawn boundary do not count
    towards 200 亩; the boundary's own area is reported beside it. Without a
    boundary, the boundary is derived from the parcels (:func:`derived_boundary`:
    the gaps up to the contiguity tolerance closed) unless ``derive_boundary`` is
    false. The 四至 is taken of the block boundary (given or derived), else of the
    parcels' union.

    Parameters
    ----------
    parcels : sequence of ParcelInput (at least one), geometries in ``crs``
    block_id : any
        Used in violations' ``feature_ids``.
    block_geom : polygon in ``crs``, optional
        The drawn block boundary (四至边界); without one it is derived from the parcels.
    neighbours : iterable of Neighbour or (name, geometry) in ``crs``
        Named features for the 四至 (roads, rivers, enterprises, other parcels).
    crs : int or str
        CRS of all input geometries (EPSG code, WKT or PROJ string); default EPSG:4490.
    renewal_type : str, optional
        The block's renewal type code; parcels may carry their own.
    enterprises : iterable of (name, classification code)
        Enterprises in the block beside those named on parcels.
    unit, year, designated_block_ids : optional
        When all given, the 2-blocks-per-unit-per-year rule is checked.
    tolerance_m : float, optional
        Contiguity tolerance, metres (default: the plan's, 30 m in the 2022—2023 plan).
    search_distance_m : float
        四至 search distance, metres (default 50).
    derive_boundary : bool
        Derive the boundary from the parcels when ``block_geom`` is not given (default true).
    planned_far : float, optional
        规划容积率 as the plan states it; the 2.0 target is checked on it instead of the
        average of the parcels' planned floor areas.
    thresholds : PlanThresholds
        The action plan in force (200 亩, 2 a year, 2.0, 30 m by default: the 2022—2023 plan).

    Returns
    -------
    BlockReport

    Examples
    --------
    >>> from shapely import box
    >>> parcels = [ParcelInput("P1", box(0, 0, 300, 300), 200_000, "industrial_to_industrial", "upgrade"),
    ...            ParcelInput("P2", box(324, 0, 624, 300), 150_000, "industrial_to_industrial", "transform")]
    >>> r = analyse_block(parcels, crs=4549)
    >>> r.land_area_mu, r.average_far, r.contiguity.is_contiguous, r.passed
    (270.0, 1.9444, True, True)
    >>> [v.code for v in r.violations]
    ['block_average_far_below_min']
    >>> r.boundary_derived, r.boundary_area_mu  # the 24 m road between the parcels is inside
    (True, 280.8)
    """
    if not parcels:
        raise ValueError("analyse_block needs at least one parcel")
    ids = [p.id for p in parcels]
    geoms = _to_4549(np.array([p.geom for p in parcels], dtype=object), crs)
    problems = problems_of_many(geoms, ids)
    use = _polygonal(geoms)
    area, figs = _figures(parcels, use)
    ok = ~shapely.is_missing(use)
    good, good_ids = use[ok], [i for i, k in zip(ids, ok) if k]

    block = None
    if block_geom is not None:
        block = _to_4549(np.array([block_geom], dtype=object), crs)[0]
        block_problems = geometry_problems(block, feature_id=block_id)
        problems.extend(block_problems)
        fixed = [p.repaired for p in block_problems if p.code in ("invalid_geometry", "wrong_geometry_type")]
        if fixed:
            block = fixed[-1]
        if block is None or block.is_empty:
            block = None

    if tolerance_m is None:
        tolerance_m = thresholds.tolerance_m
    contiguity = None
    union = None
    derived = False
    if block is None and derive_boundary and len(good):
        # Contains every parcel by construction, and is one polygon exactly when they are
        # contiguous: the boundary checks would only repeat the 连片 rule, so they are not run.
        block, derived = derived_boundary(good, tolerance_m, good_ids), True
    if len(good):
        problems.extend(overlap_problems(good, good_ids))
        union = shapely.union_all(good)
        problems.extend(gap_problems(good, None if derived else block, block_id=block_id))
        contiguity = contiguity_report(good, good_ids, block_4549=None if derived else block, block_id=block_id,
                                       tolerance_m=tolerance_m)
        problems.extend(contiguity.problems)
        contiguity = replace(contiguity, problems=())  # listed once, in report.problems

    land_m2 = float(union.area) if union is not None else 0.0
    ellipsoidal = ellipsoidal_area_m2(reproject(union, AREA_SRID, STORAGE_SRID)) if union is not None else 0.0
    floors = [p.floor_area_m2 for p in parcels]
    known = all(_known(f) for f in floors)
    floor_total = float(sum(floors)) if known else None
    average_far = floor_area_ratio(floor_total, float(np.nansum(area))) if known and len(good) else None
    existing = [p.existing_floor_area_m2 for p in parcels]
    existing_far = (floor_area_ratio(float(sum(existing)), float(np.nansum(area)))
                    if len(good) and all(_known(f) for f in existing) else None)

    subject = block if block is not None else union
    fb = None
    if subject is not None:
        fb = four_boundaries(subject, _neighbours_4549(neighbours, crs), search_distance_m)

    violations = check_block(
        land_m2 / M2_PER_MU, len(contiguity.components) if contiguity else 0,
        feature_id=block_id, tolerance_m=tolerance_m,
        average_far=average_far if planned_far is None else planned_far,
        separation_m=contiguity.separations[0].distance_m if contiguity and contiguity.separations else None,
        thresholds=thresholds,
    )
    parcel_types = [(p.id, p.renewal_type) for p in parcels if p.renewal_type is not None]
    if renewal_type is not None or not parcel_types:
        violations.extend(check_renewal_type(renewal_type, feature_id=block_id))
    for pid, rt in parcel_types:
        violations.extend(check_renewal_type(rt, feature_id=pid))
    named = [(p.enterprise if p.enterprise else p.id, p.classification) for p in parcels]
    violations.extend(check_classifications(named + list(enterprises)))
    if unit is not None and year is not None and designated_block_ids is not None:
        violations.extend(check_unit_year(unit, year, designated_block_ids, thresholds=thresholds))

    stored = _problems_to_storage(problems)
    if contiguity is not None:
        contiguity = replace(contiguity, gaps=_gaps_to_storage(contiguity.gaps),
                             separations=_gaps_to_storage(contiguity.separations))
    return BlockReport(
        block_id=block_id,
        land_area_m2=round(land_m2, 3),
        land_area_mu=reported_mu(land_m2 / M2_PER_MU),
        ellipsoidal_area_m2=round(ellipsoidal, 3),
        boundary_area_mu=None if block is None else reported_mu(block.area / M2_PER_MU),
        floor_area_m2=floor_total,
        average_far=average_far,
        parcels=tuple(figs),
        problems=stored,
        contiguity=contiguity,
        four_boundaries=fb,
        violations=tuple(violations),
        passed=_passed(stored, violations),
        boundary=None if block is None else reproject(block, AREA_SRID, STORAGE_SRID),
        boundary_derived=derived,
        existing_far=existing_far,
        planned_far=planned_far,
    )


def _gaps_to_storage(gaps: tuple) -> tuple:
    """Gaps' midpoints and lines from EPSG:4549 metres to EPSG:4490 lon/lat (the report's location CRS)."""
    if not gaps:
        return gaps
    pts = reproject(shapely.points(np.array([g.location for g in gaps])), AREA_SRID, STORAGE_SRID)
    lines = reproject(shapely.linestrings(np.array([g.line for g in gaps])), AREA_SRID, STORAGE_SRID)
    return tuple(
        replace(g, location=(round(float(shapely.get_x(p)), 8), round(float(shapely.get_y(p)), 8)),
                line=tuple(tuple(round(float(c), 8) for c in xy_) for xy_ in shapely.get_coordinates(ln)))
        for g, p, ln in zip(gaps, pts, lines)
    )


def analyse_parcels(
    parcels: Sequence[ParcelInput],
    *,
    neighbours: Iterable[Neighbour | tuple[str, BaseGeometry]] = (),
    crs: int | str = STORAGE_SRID,
    search_distance_m: float = DEFAULT_SEARCH_DISTANCE_M,
    with_four_boundaries: bool = True,
    thresholds: PlanThresholds = DEFAULT_THRESHOLDS,
) -> ParcelsReport:
    """Full report for scattered renewal parcels (规模化腾退 / 零土地技改 / 整合归宗).

    Each parcel is checked on its own: area ≥ 20 亩 and planned FAR ≥ 2.0
    (or area ≥ 20 亩 alone when ``merged``), its renewal type, and its
    enterprise's classification; parcels are checked for overlaps with each
    other; each gets its 四至 among ``neighbours`` and the other parcels.

    Parameters
    ----------
    parcels : sequence of ParcelInput, geometries in ``crs``
    neighbours : iterable of Neighbour or (name, geometry) in ``crs``
    crs : int or str
        CRS of all input geometries; default EPSG:4490.
    search_distance_m : float
        四至 search distance, metres.
    with_four_boundaries : bool
        Skip the 四至 when False.
    thresholds : PlanThresholds
        The action plan in force (default: the 2022—2023 plan's 20 亩 and 2.0).

    Returns
    -------
    ParcelsReport

    Examples
    --------
    >>> from shapely import box
    >>> p = ParcelInput("Z1", box(0, 0, 100, 400 / 3), 26_666.67, "zero_land", "upgrade")
    >>> r = analyse_parcels([p], crs=4549)
    >>> r.parcels[0].area_mu, r.parcels[0].far, r.passed
    (20.0, 2.0, True)
    """
    ids = [p.id for p in parcels]
    geoms = _to_4549(np.array([p.geom for p in parcels], dtype=object), crs)
    problems = problems_of_many(geoms, ids)
    use = _polygonal(geoms)
    area, figs = _figures(parcels, use)
    ok = ~shapely.is_missing(use)
    if ok.sum() > 1:
        problems.extend(overlap_problems(use[ok], [i for i, k in zip(ids, ok) if k]))
    fbs: dict[int, FourBoundaries] = {}
    if with_four_boundaries and ok.any():
        # each parcel is bounded by the named layers and by the other parcels; a parcel
        # lies wholly inside itself, so four_boundaries_many skips it as a member
        others = [Neighbour(str(parcels[j].enterprise or parcels[j].id), use[j]) for j in np.flatnonzero(ok)]
        fbs = dict(zip(np.flatnonzero(ok).tolist(), four_boundaries_many(
            use[ok], _neighbours_4549(neighbours, crs) + others, search_distance_m=search_distance_m)))
    violations: list[Violation] = []
    out_figs = []
    for k, (p, f) in enumerate(zip(parcels, figs)):
        vs = []
        if f.area_mu is not None:
            vs = check_parcel(f.area_mu, f.far, feature_id=p.id, renewal_type=p.renewal_type, merged=p.merged,
                              thresholds=thresholds)
        fb = fbs.get(k)
        violations.extend(vs)
        out_figs.append(replace(f, four_boundaries=fb, violations=tuple(vs)))
    violations.extend(check_classifications([(p.enterprise if p.enterprise else p.id, p.classification)
                                             for p in parcels]))
    stored = _problems_to_storage(problems)
    land_m2 = float(np.nansum(area)) if len(area) else 0.0
    return ParcelsReport(
        land_area_m2=round(land_m2, 3),
        land_area_mu=reported_mu(land_m2 / M2_PER_MU),
        parcels=tuple(out_figs),
        problems=stored,
        violations=tuple(violations),
        passed=_passed(stored, violations),
    )


def analyse_features(parcels: Sequence[ParcelInput], *, kind: str = "block", **options) -> BlockReport | ParcelsReport:
    """Dispatch to :func:`analyse_block` (``kind="block"``) or :func:`analyse_parcels` (``"scattered"``).

    Parameters
    ----------
    parcels : sequence of ParcelInput, geometries in ``options["crs"]`` (default EPSG:4490)
    kind : {"block", "scattered"}
    **options
        Passed on unchanged.

    Examples
    --------
    >>> from shapely import box
    >>> analyse_features([ParcelInput("A", box(0, 0, 10, 10))], kind="scattered", crs=4549).passed
    False
    """
    if kind == "block":
        return analyse_block(parcels, **options)
    if kind == "scattered":
        return analyse_parcels(parcels, **options)
    raise ValueError(f"kind must be 'block' or 'scattered', got {kind!r}")
