"""② Validate: every feature of a layer checked at once, every problem reported (not the first).

A pipeline of named phases, each a small function over column arrays that takes and
returns explicit data (frozen dataclasses of numpy / shapely 2 arrays) and the
:class:`~app.ingest.problems.Problem` objects it found::

    read (read.py)  RawLayer: WKB and decoded attribute columns
    decode          WKB → 2-D shapes, each CRS reached straight from the source  → Shapes
    geometry        null / empty / type / validity, the repaired shape offered   → Geometry
    overlaps        started here on a worker thread (GEOS releases the GIL) …
    measure         亩, a point on each shape and its lon/lat                    → Measures (+ Places)
    attributes      mapped values typed (numbers, choices), codes checked         → Attributes
    references      units (point in polygon, the file's 镇街), blocks, enterprises → References
    figures         FAR (spatial), declared area and FAR against the geometry    → Figures
    stored          the same code stored already: keep / replace, or unchanged   → Stored
    overlaps        … its findings, now or (``defer_overlaps``) in finish_overlaps
    report          problems by feature, severity, JSON rows                     → Staged

What the database knows (units, blocks, enterprises, stored features) comes in
through a :class:`~app.ingest.lookup.Lookup`, so this module stays free of SQL.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace

import numpy as np
import orjson
import pandas as pd
import shapely
from shapely import STRtree

import spatial
from spatial.normalise import same_shapes
from spatial.plausibility import MAX_PLAUSIBLE_FAR, area_mismatch, area_unit_of, far_out_of_range

from ..enums import Classification, ParcelStatus, ParkKind, RenewalMode, RenewalType, Stage
from ..errors import FieldError, InvalidUpload
from ..messages import message
from .lookup import Lookup, UnitRef
from .mapping import NUMERIC, REQUIRED, fields_for, missing_required, suggestions
from .problems import ERROR, INFO, REPAIRABLE, WARNING, Problem, worst
from .read import RawLayer

# A parcel whose point lies this close outside every unit boundary is given the nearest unit:
# the demo unit boundaries are schematic and real ones are digitised at another scale.
UNIT_SNAP_M = 500.0
# "The same geometry" when a file is imported again: every vertex within ~1 cm of the stored one, whatever
# the ring orientation and start vertex (spatial.normalise). 1e-7° covers the 7 decimals of a GeoJSON export.
GEOM_EQUAL_TOLERANCE_DEG = 1e-7
# A declared FAR agrees with the computed one when both, rounded to 2 decimals, differ by at most 0.01
# (the slack absorbs binary floating point: 0.35 - 0.34 is 0.010000000000000009).
FAR_AGREES = 0.01 + 1e-9
ENUMS = {"classification": Classification, "renewal_mode": RenewalMode, "renewal_type": RenewalType,
         "status": ParcelStatus, "stage": Stage, "kind": ParkKind}
# Parcel columns compared to decide that a re-imported feature is unchanged.
COMPARED = ("floor_area_m2", "planned_floor_area_m2", "land_use", "classification", "renewal_mode", "renewal_type",
            "status", "unit_id", "block_id", "enterprise_id", "name", "stage", "designated_year", "planned_far",
            "kind", "approval", "is_schematic")
CODE_MAX_LENGTH = 64
ENTERPRISE_NAME_MAX = 128  # enterprises.name: a new owner registered from the file must fit
OWNER_NAMES_LISTED = 200  # the unknown owners named in the report (all are counted)
OWNER_FEATURES_LISTED = 50  # feature numbers listed per unknown owner

Progress = Callable[[str, int, int], None]


def _noop(_phase: str, _done: int, _total: int) -> None:
    return None


def _enum_lookup(cls) -> dict[str, str]:
    out = {}
    for member in cls:
        out[member.value] = member.value
        out[member.label] = member.value
    return out


_ENUM_LOOKUPS = {k: _enum_lookup(v) for k, v in ENUMS.items()}
# Park kinds as files write them (the plan: "开发区、各镇（街道）工业园区").
_ENUM_LOOKUPS["kind"].update({
    "经济开发区": ParkKind.DEVELOPMENT_ZONE.value, "经济技术开发区": ParkKind.DEVELOPMENT_ZONE.value,
    "高新区": ParkKind.DEVELOPMENT_ZONE.value, "工业园区": ParkKind.TOWN_PARK.value,
    "镇（街道）工业园区": ParkKind.TOWN_PARK.value, "镇工业园区": ParkKind.TOWN_PARK.value,
    "街道工业园区": ParkKind.TOWN_PARK.value, "园区": ParkKind.TOWN_PARK.value,
})
# 示意范围 (is_schematic) as files write a yes / no.
_YES_NO = {"是": True, "否": False, "示意": True, "y": True, "n": False, "yes": True, "no": False, "true": True,
           "false": False, "1": True, "0": False}
# One worker per process for the overlap check (see validate); GEOS releases the GIL while it runs.
_POOL = ThreadPoolExecutor(max_workers=1, thread_name_prefix="overlaps")


# --- what the phases hand on ----------------------------------------------------

@dataclass(frozen=True)
class Places:
    """What every problem of a feature carries: its number, its code and where it lies ([lon, lat], EPSG:4490)."""

    codes: list[str | None]
    where: list[tuple[float, float] | None]  # None where the feature has no usable shape

    @classmethod
    def of(cls, codes: list[str | None], lonlat: np.ndarray) -> Places:
        rounded = np.round(lonlat, 7)
        where: list = list(zip(rounded[:, 0].tolist(), rounded[:, 1].tolist()))
        for i in np.flatnonzero(~np.isfinite(lonlat[:, 0])).tolist():
            where[i] = None
        return cls(codes, where)

    def problem(self, i: int, code: str, severity: str, text: str, source: str | None = None, **extra) -> Problem:
        """Feature ``i``'s (0-based) problem, with its number, code and location filled in."""
        return Problem(code, severity, text, i + 1, self.codes[i], source, self.where[i], **extra)

    def placed(self, p: Problem) -> Problem:
        """``p`` (which has its feature number) with the feature's code and location."""
        i = p.feature - 1
        return replace(p, feature_code=self.codes[i], location=self.where[i])


@dataclass(frozen=True)
class Shapes:
    """The layer's shapes, 2-D, in the storage CRS (EPSG:4490) and the area CRS (EPSG:4549); None where missing."""

    g4490: np.ndarray
    g4549: np.ndarray

    def __len__(self) -> int:
        return len(self.g4549)


@dataclass(frozen=True)
class Geometry:
    """The shapes as checked: ``use`` is what the other checks measure (the offered repair where there is one).

    Its problems have their feature number but not yet its code and location (see :func:`measure`).
    """

    use: np.ndarray  # EPSG:4549; None where there is nothing to measure
    ok: np.ndarray  # bool: use is not None
    repaired_4549: np.ndarray  # the offered repairs; None elsewhere
    problems: list[Problem]


@dataclass(frozen=True)
class Measures:
    """Areas of the shapes checked, and where each lies."""

    ok: np.ndarray  # bool: the feature has a shape to measure
    area_m2: np.ndarray  # NaN where not ok
    area_mu: np.ndarray
    stored_area_mu: np.ndarray  # of the file's own shape (NaN where only the offered repair has one)
    repaired_area_mu: np.ndarray
    repaired_4490: np.ndarray  # the offered repairs as MultiPolygons; None elsewhere
    points_4549: np.ndarray  # a point on each surface
    lonlat: np.ndarray  # (n, 2), NaN where not located
    places: Places
    problems: list[Problem]  # the geometry's, now placed


@dataclass(frozen=True)
class Attributes:
    """The mapped values, column-wise: ``cols[model_field]`` is an object array (None where empty)."""

    cols: dict[str, np.ndarray]
    numeric: dict[str, np.ndarray]  # numeric model fields as floats (NaN where empty or not a number)
    problems: list[Problem]


@dataclass(frozen=True)
class References:
    """Ids of the unit, block and enterprise each feature refers to (None where none)."""

    unit_id: list[int | None]
    block_id: list[int | None]
    enterprise_id: list[int | None]
    notes: list[dict]  # upload-level notes (enterprises not in the register)
    problems: list[Problem]


@dataclass(frozen=True)
class Figures:
    far: np.ndarray
    planned_far: np.ndarray
    area_unit: str | None  # of the declared-area column: "mu" or "m2"; None when none is mapped
    problems: list[Problem]


@dataclass(frozen=True)
class Stored:
    """Features whose code is stored already: the stored id, and whether nothing would change."""

    existing_id: list[int | None]
    unchanged: np.ndarray
    problems: list[Problem]


@dataclass
class _OverlapJob:
    future: Future | None
    idx: np.ndarray  # the features compared (those with a shape), in the order given to the check
    stored_codes: list[str]


@dataclass(frozen=True)
class _PendingOverlaps:
    job: _OverlapJob
    target: str
    places: Places


@dataclass
class Staged:
    """The validated layer, column-wise; ``problems[i]`` lists feature i's problems."""

    target: str
    feature_no: np.ndarray
    codes: list[str | None]
    geom_4490: np.ndarray  # Polygon or MultiPolygon, None where not storable
    repaired_4490: np.ndarray
    area_mu: np.ndarray
    repaired_area_mu: np.ndarray
    far: np.ndarray
    planned_far: np.ndarray
    values: list[str]  # JSON objects, one per feature (the mapped, typed values)
    attributes: list[str]  # JSON objects: the source rows, decoded
    problems: dict[int, list[Problem]]  # feature index -> its problems (only features that have some)
    severity: np.ndarray
    existing_id: list[int | None]
    unchanged: np.ndarray
    unit_id: list[int | None]
    block_id: list[int | None]
    enterprise_id: list[int | None]
    area_unit: str | None = None
    notes: list[dict] = field(default_factory=list)
    pending_overlaps: _PendingOverlaps | None = None  # see finish_overlaps

    def __len__(self) -> int:
        return len(self.feature_no)


# --- the pipeline -----------------------------------------------------------------

def validate(
    raw: RawLayer,
    crs_source: int | str,
    mapping: dict[str, str],
    lookup: Lookup,
    *,
    target: str = "parcels",
    progress: Progress = _noop,
    defer_overlaps: bool = False,
) -> Staged:
    """Check every feature; return the staged layer with its per-feature problems.

    With ``defer_overlaps`` the overlap check (the costliest, on a worker thread) may still
    be running on return; :func:`finish_overlaps` waits for it and adds its problems.
    """
    n = raw.count
    progress("checking", 0, n)
    columns = source_columns(raw)
    codes = codes_of(raw, mapping)
    shapes = decode(raw.geometries(), crs_source)
    geo = geometry(shapes)
    # Overlaps run on the other core while the phases below go on; the stored features they
    # compare with are read now, in this thread, because the session is not thread-safe.
    job = start_overlaps(lookup, target, geo, codes)
    m = measure(geo, codes)
    progress("checking", n // 4, n)
    unmapped = unmapped_problems(raw.fields, mapping, target, m.places)
    attrs = attributes(columns, codes, mapping, target, m.places)
    progress("checking", n // 2, n)
    refs = references(lookup, target, mapping, attrs.cols, m)
    progress("checking", 3 * n // 4, n)
    figs = figures(target, mapping, attrs, m)
    same = stored(lookup, target, codes, shapes.g4490, attrs.cols, refs, m.places)
    found = [unmapped, m.problems, attrs.problems, refs.problems, figs.problems, same.problems]
    pending = _PendingOverlaps(job, target, m.places)
    if not defer_overlaps:
        found.append(overlap_problems(pending))
        pending = None
    progress("checking", n, n)
    return report(target, columns, codes, shapes, m, attrs, refs, figs, same, found, pending)


def finish_overlaps(staged: Staged) -> list[int]:
    """Wait for a deferred overlap check (``validate(defer_overlaps=True)``) and add its problems.

    Returns the indices of the features whose problems changed, so a caller that
    already wrote the staged rows updates only those.
    """
    if staged.pending_overlaps is None:
        return []
    pending, staged.pending_overlaps = staged.pending_overlaps, None
    found = by_feature([overlap_problems(pending)])
    for i, ps in found.items():
        staged.problems.setdefault(i, []).extend(ps)
        staged.severity[i] = worst(staged.problems[i])
    return sorted(found)


# --- decode -------------------------------------------------------------------------

def decode(geoms: np.ndarray, crs_source: int | str) -> Shapes:
    """The parsed shapes as 2-D, reprojected to EPSG:4490 and EPSG:4549, each straight from the source."""
    if shapely.has_z(geoms).any():
        geoms = shapely.force_2d(geoms)
    n = len(geoms)
    present = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    g4549 = np.full(n, None, dtype=object)
    g4490 = np.full(n, None, dtype=object)
    if present.any():  # no round trip through the other CRS
        g4490[present] = spatial.reproject(geoms[present], crs_source, spatial.STORAGE_SRID)
        g4549[present] = spatial.reproject(geoms[present], crs_source, spatial.AREA_SRID)
    return Shapes(g4490, g4549)


# --- geometry -----------------------------------------------------------------------

def geometry(shapes: Shapes) -> Geometry:
    """Null / empty / type / validity (``spatial.problems_of_many``), with the repaired shape offered."""
    g4549 = shapes.g4549
    n = len(g4549)
    use = g4549.copy()
    repaired_4549 = np.full(n, None, dtype=object)
    problems: list[Problem] = []
    for p in spatial.problems_of_many(g4549, ids=list(range(1, n + 1))):
        i = p.feature_ids[0] - 1
        text, values, repairable = p.message_zh, None, None
        if p.code in REPAIRABLE:
            fixed = p.repaired if p.repaired is not None and not p.repaired.is_empty else None
            repaired_4549[i] = fixed
            use[i] = fixed
            repairable = fixed is not None
            if fixed is not None:
                text += "；" + message("upload_repair_offer")
            values = {k: v for k, v in p.values.items() if k != "reason"}
        if p.code in ("null_geometry", "empty_geometry"):
            use[i] = None
        problems.append(Problem(p.code, p.severity, text, i + 1, values=values, repairable=repairable))
    return Geometry(use=use, ok=~shapely.is_missing(use), repaired_4549=repaired_4549, problems=problems)


def measure(geo: Geometry, codes: list[str | None]) -> Measures:
    """Areas (亩, EPSG:4549), the offered repairs in EPSG:4490, a point on each shape and its lon/lat."""
    use, ok = geo.use, geo.ok
    n = len(use)
    area_m2 = np.full(n, np.nan)
    area_m2[ok] = shapely.area(use[ok])
    area_mu = area_m2 / spatial.M2_PER_MU
    has_fix = ~shapely.is_missing(geo.repaired_4549)
    repaired_4490 = np.full(n, None, dtype=object)
    if has_fix.any():
        repaired_4490[has_fix] = spatial.reproject(_multi(geo.repaired_4549[has_fix]), spatial.AREA_SRID,
                                                   spatial.STORAGE_SRID)
    points_4549, lonlat = _points(use, ok)
    places = Places.of(codes, lonlat)
    return Measures(ok=ok, area_m2=area_m2, area_mu=area_mu, stored_area_mu=np.where(has_fix, np.nan, area_mu),
                    repaired_area_mu=np.where(has_fix, area_mu, np.nan), repaired_4490=repaired_4490,
                    points_4549=points_4549, lonlat=lonlat, places=places,
                    problems=[places.placed(p) for p in geo.problems])


def _points(use: np.ndarray, ok: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A point on each shape's surface (EPSG:4549) and its lon/lat (NaN where there is no shape)."""
    n = len(use)
    points_4549 = np.full(n, None, dtype=object)
    points_4549[ok] = shapely.point_on_surface(use[ok])
    lonlat = np.full((n, 2), np.nan)
    if ok.any():
        to_lonlat = spatial.transformer(spatial.AREA_SRID, spatial.STORAGE_SRID)
        lon, lat = to_lonlat.transform(shapely.get_x(points_4549[ok]), shapely.get_y(points_4549[ok]))
        lonlat[ok, 0], lonlat[ok, 1] = lon, lat
    return points_4549, lonlat


# --- mapping ------------------------------------------------------------------------

def unmapped_problems(fields: list[str], mapping: dict[str, str], target: str, places: Places) -> list[Problem]:
    """字段未对应: a required field (宗地编号; 区块编号 and 区块名称) the mapping leaves open blocks every
    feature, and says which of the file's fields may be it; the clerk picks one and checks again."""
    missing = missing_required(mapping, target)
    if not missing:
        return []
    offered = suggestions(fields, target, mapping)
    labels = fields_for(target)
    texts = []
    for model_field in missing:
        label = labels[model_field][0]
        close = [s["source"] for s in offered.get(model_field, [])]
        texts.append((model_field, message("upload_field_unmapped", label=label) + (
            message("upload_field_unmapped_maybe", names="、".join(f"“{c}”" for c in close)) if close else "")))
    return [places.problem(i, "field_unmapped", ERROR, text, values={"model_field": model_field})
            for i in range(len(places.codes)) for model_field, text in texts]


# --- attributes ---------------------------------------------------------------------

def attributes(columns: dict[str, np.ndarray], codes: list[str | None], mapping: dict[str, str], target: str,
               places: Places) -> Attributes:
    """The mapped source columns as typed values (numbers, choices), and the codes checked."""
    cols, numeric, problems = _typed(columns, mapping, target, places)
    if "code" in mapping:  # otherwise every feature says 字段未对应 already (unmapped_problems)
        problems += _code_problems(codes, mapping, target, places)
    problems += _required_values(columns, cols, mapping, target, places)
    return Attributes(cols, numeric, problems)


NAME_MAX_LENGTH = 128  # renewal_blocks.name, parks.name


def _required_values(columns: dict[str, np.ndarray], cols: dict[str, np.ndarray], mapping: dict[str, str],
                     target: str, places: Places) -> list[Problem]:
    """Each feature has a value in every required column besides its code (区块名称; 园区名称 and 类型), and a
    name fits its column. (A value given but not recognised is reported as such, not as missing.)"""
    labels = fields_for(target)
    problems: list[Problem] = []
    for model_field in REQUIRED[target]:
        if model_field == "code" or model_field not in mapping:
            continue
        source, what = mapping[model_field], labels[model_field][0]
        empty = pd.isna(pd.Series(_texts(columns[source]), dtype=object)).to_numpy()
        problems += [places.problem(i, "value_missing", ERROR, message("upload_code_missing", what=what), source)
                     for i in np.flatnonzero(empty).tolist()]
    if "name" in cols and "name" in mapping:
        names = cols["name"]
        problems += [places.problem(i, "name_too_long", ERROR, message(
            "upload_name_too_long", what=labels["name"][0], length=len(names[i]), max=NAME_MAX_LENGTH),
            mapping["name"]) for i, v in enumerate(names.tolist()) if v is not None and len(v) > NAME_MAX_LENGTH]
    return problems


def _typed(columns: dict[str, np.ndarray], mapping: dict[str, str], target: str, places: Places):
    cols: dict[str, np.ndarray] = {}
    numeric: dict[str, np.ndarray] = {}
    problems: list[Problem] = []
    labels = fields_for(target)
    for model_field, source in mapping.items():
        if model_field == "code":
            continue
        col = columns[source]
        label = labels[model_field][0]
        if model_field in NUMERIC:
            arr, bad = _numbers(col)
            problems += [places.problem(i, "bad_number", ERROR, message(
                "upload_bad_number", field=source, label=label, value=col[i]), source)
                for i in np.flatnonzero(bad).tolist()]
            numeric[model_field] = arr
            continue
        texts = _texts(col)
        if model_field == "is_schematic":
            flags = np.array([None if t is None else _YES_NO.get(t.lower()) for t in texts.tolist()], dtype=object)
            problems += [places.problem(i, "bad_value", ERROR, message(
                "upload_bad_choice", field=source, label=label, value=texts[i], choices=message("upload_yes_no")),
                source) for i in np.flatnonzero(pd.notna(texts) & pd.isna(flags)).tolist()]
            cols[model_field] = flags
            continue
        if model_field in _ENUM_LOOKUPS:
            mapped = pd.Series(texts, dtype=object).map(_ENUM_LOOKUPS[model_field]).to_numpy(dtype=object)
            unknown = np.flatnonzero(pd.notna(texts) & pd.isna(mapped)).tolist()
            choices = "、".join(m.label for m in ENUMS[model_field])
            problems += [places.problem(i, "bad_value", ERROR, message(
                "upload_bad_choice", field=source, label=label, value=texts[i], choices=choices), source)
                for i in unknown]
            cols[model_field] = np.where(pd.isna(mapped), None, mapped)
        else:
            cols[model_field] = texts
    for model_field in ("floor_area_m2", "planned_floor_area_m2"):
        if model_field in numeric:
            arr, source = numeric[model_field], mapping[model_field]
            problems += [places.problem(i, "bad_number", ERROR, message("upload_negative", field=source, value=arr[i]),
                                        source) for i in np.flatnonzero(arr < 0).tolist()]
            cols[model_field] = _nullable(np.where(arr >= 0, np.round(arr, 2), np.nan))
    if "designated_year" in numeric:
        cols["designated_year"] = _nullable(numeric["designated_year"], integer=True)
    if "planned_far" in numeric:
        cols["planned_far"] = _nullable(np.round(numeric["planned_far"], 2))
    return cols, numeric, problems


def _code_problems(codes: list[str | None], mapping: dict[str, str], target: str, places: Places) -> list[Problem]:
    """Every code present, at most 64 characters, unique in the file (each copy names the others)."""
    code_arr = np.array([c if c is not None else "" for c in codes], dtype=object)
    what = fields_for(target)["code"][0]
    source = mapping.get("code")
    problems = [places.problem(i, "code_missing", ERROR, message("upload_code_missing", what=what), source)
                for i in np.flatnonzero(code_arr == "").tolist()]
    problems += [places.problem(i, "code_too_long", ERROR, message(
        "upload_code_too_long", what=what, length=len(code_arr[i])), source)
        for i in np.flatnonzero(np.array([len(c) > CODE_MAX_LENGTH for c in code_arr], dtype=bool)).tolist()]
    filled = np.flatnonzero(code_arr != "")
    if filled.size:
        uniq, inverse, counts = np.unique(code_arr[filled].astype(str), return_inverse=True, return_counts=True)
        for u in np.flatnonzero(counts > 1):
            members = filled[inverse == u].tolist()
            for i in members:
                others = [j + 1 for j in members if j != i]
                problems.append(places.problem(i, "duplicate_code", ERROR, message(
                    "upload_duplicate_code", what=what, code=uniq[u],
                    others="、".join(message("upload_feature_nth", n=k) for k in others[:10])),
                    source, other_features=tuple(others)))
    return problems


# --- references ---------------------------------------------------------------------

def references(lookup: Lookup, target: str, mapping: dict[str, str], cols: dict[str, np.ndarray],
               m: Measures) -> References:
    """The unit each feature lies in (or the file names), and for parcels its block and enterprise."""
    units = lookup.units()
    if not units:
        raise InvalidUpload(message("upload_no_units"), [FieldError(None, message("upload_no_units"))],
                            code="no_units", status_code=409)
    located, problems = _located(units, m)
    chosen = located
    if "unit" in mapping:
        chosen, named = _units_from_field(cols["unit"], units, located, mapping["unit"], m.places)
        problems += named
    unit_ids = np.array([u.id for u in units] + [None], dtype=object)  # index -1: no unit
    unit_id = unit_ids[chosen].tolist()
    n = len(located)
    block_id: list[int | None] = [None] * n
    enterprise_id: list[int | None] = [None] * n
    notes: list[dict] = []
    if target == "parks" and "kind" in cols:  # a 开发区 belongs to no town; a 工业园区 to the one it lies in
        unit_id = [None if k == ParkKind.DEVELOPMENT_ZONE.value else u for u, k in zip(unit_id, cols["kind"].tolist())]
    if target == "parcels":
        if "block" in mapping:
            block_id, unknown = _blocks(lookup, cols["block"], mapping["block"], m.places)
            problems += unknown
        if "enterprise" in mapping or "credit_code" in mapping:
            enterprise_id, notes, owner_problems = _enterprises(lookup, cols, n, mapping, m.places)
            problems += owner_problems
    return References(unit_id, block_id, enterprise_id, notes, problems)


def _located(units: list[UnitRef], m: Measures) -> tuple[np.ndarray, list[Problem]]:
    """Index of the unit containing each feature's point, or the nearest within UNIT_SNAP_M (-1: outside)."""
    n = len(m.ok)
    located = np.full(n, -1)
    problems: list[Problem] = []
    places = m.places
    unit_geoms = np.array([u.geom_4549 for u in units], dtype=object)
    idx_ok = np.flatnonzero(m.ok & np.isfinite(m.lonlat[:, 0]))
    if idx_ok.size:
        located[idx_ok] = _locate(unit_geoms, m.points_4549[idx_ok])
        lost = idx_ok[located[idx_ok] < 0]
        if lost.size:
            pi, ui = STRtree(unit_geoms).query_nearest(m.points_4549[lost], max_distance=UNIT_SNAP_M,
                                                        all_matches=False)
            located[lost[pi]] = ui
            near = set(lost[pi].tolist())
            for i in lost.tolist():
                if i in near:
                    problems.append(places.problem(i, "unit_by_nearest", WARNING, message(
                        "upload_unit_nearest", unit=units[located[i]].name, meters=int(UNIT_SNAP_M))))
                else:
                    problems.append(places.problem(i, "outside_tongxiang", ERROR, message(
                        "upload_outside", lon=m.lonlat[i, 0], lat=m.lonlat[i, 1])))
    bad_coords = m.ok & ~np.isfinite(m.lonlat[:, 0])
    problems += [places.problem(i, "outside_tongxiang", ERROR, message("upload_outside_crs"))
                 for i in np.flatnonzero(bad_coords).tolist()]
    return located, problems


def _units_from_field(texts: np.ndarray, units: list[UnitRef], located: np.ndarray, source: str,
                      places: Places) -> tuple[np.ndarray, list[Problem]]:
    """The unit the file names wins over the one the geometry lies in (a warning when they differ)."""
    by_key: dict[str, int] = {}
    for k, u in enumerate(units):
        by_key[u.code] = k
        by_key[u.name] = k

    def find(text: str) -> int:
        if text in by_key:
            return by_key[text]
        hits = [k for k, u in enumerate(units) if text in u.name or u.name in text]
        return hits[0] if len(hits) == 1 else -1

    named = pd.Series(texts, dtype=object)
    wanted = named.map({t: find(t) for t in named.dropna().unique()}).fillna(-2).to_numpy(dtype=int)
    problems = [places.problem(i, "unknown_unit", ERROR, message("upload_unknown_unit", value=texts[i]), source)
                for i in np.flatnonzero(wanted == -1).tolist()]
    said: dict[tuple, str] = {}  # a few (named, found) pairs for any number of features
    for i in np.flatnonzero((wanted >= 0) & (located >= 0) & (wanted != located)).tolist():
        key = (texts[i], located[i])
        text = said.get(key)
        if text is None:
            text = said[key] = message("upload_unit_mismatch", value=texts[i], unit=units[located[i]].name)
        problems.append(places.problem(i, "unit_mismatch", WARNING, text, source))
    return np.where(wanted >= 0, wanted, located), problems


def _blocks(lookup: Lookup, refs: np.ndarray, source: str, places: Places) -> tuple[list[int | None], list[Problem]]:
    """The block each parcel names (区块编号 or 名称); an unknown one is an error."""
    blocks = lookup.blocks()
    block_id: list[int | None] = [None] * len(refs)
    problems: list[Problem] = []
    for i, ref in enumerate(refs.tolist()):
        if ref is None:
            continue
        if ref in blocks:
            block_id[i] = blocks[ref]
        else:
            problems.append(places.problem(i, "unknown_block", ERROR, message("upload_unknown_block", value=ref),
                                           source))
    return block_id, problems


def _enterprises(lookup: Lookup, cols: dict[str, np.ndarray], n: int, mapping: dict[str, str],
                 places: Places) -> tuple[list[int | None], list[dict], list[Problem]]:
    """Each parcel's enterprise by credit code, else by name.

    Owners (权利人) the register does not know make one warning for the upload — how many, which
    names, which features — rather than one on each parcel (new owners are the normal case); at
    commit the clerk registers them as new enterprises or imports those parcels without one.
    A name too long for the register is an error of its feature.
    """
    none = np.full(n, None, dtype=object)
    names_col, credit_col = cols.get("enterprise", none), cols.get("credit_code", none)
    known = lookup.enterprises(set(names_col[pd.notna(names_col)]), set(credit_col[pd.notna(credit_col)]))
    by_credit = pd.Series(credit_col, dtype=object).map(known)
    by_name = pd.Series(names_col, dtype=object).map(known)
    found = by_credit.fillna(by_name).to_numpy(dtype=float)
    matched = ~np.isnan(found)
    ids = np.full(n, None, dtype=object)
    ids[matched] = found[matched].astype(np.int64).tolist()
    notes: list[dict] = []
    problems: list[Problem] = []
    unknown: dict[str, list[int]] = {}
    for i in np.flatnonzero(~matched & pd.notna(names_col)).tolist():
        unknown.setdefault(names_col[i], []).append(i + 1)
    source = mapping.get("enterprise")
    for name, features in unknown.items():
        if len(name) > ENTERPRISE_NAME_MAX:
            problems += [places.problem(k - 1, "owner_name_too_long", ERROR, message(
                "upload_owner_name_too_long", name=name[:20], length=len(name), max=ENTERPRISE_NAME_MAX), source)
                for k in features]
    if unknown:
        names = sorted(unknown, key=lambda k: (-len(unknown[k]), unknown[k][0]))
        total = sum(len(v) for v in unknown.values())
        more = message("upload_names_more") if len(names) > 10 else ""
        notes.append({
            "code": "enterprise_unknown", "severity": WARNING, "count": len(unknown), "features": total,
            "names": [{"name": k, "count": len(unknown[k]), "features": unknown[k][:OWNER_FEATURES_LISTED]}
                      for k in names[:OWNER_NAMES_LISTED]],
            "message": message("upload_enterprises_unknown", count=len(unknown), features=total,
                               names="、".join(names[:10]) + more),
        })
    return ids.tolist(), notes, problems


# --- figures ------------------------------------------------------------------------

def figures(target: str, mapping: dict[str, str], attrs: Attributes, m: Measures) -> Figures:
    """FAR through ``spatial.floor_area_ratios`` (the one definition); declared area and FAR against the geometry."""
    n = len(m.ok)
    far = np.full(n, np.nan)
    planned_far = np.full(n, np.nan)
    places = m.places
    problems: list[Problem] = []
    if target == "parcels":
        for model_field, out in (("floor_area_m2", far), ("planned_floor_area_m2", planned_far)):
            if model_field in attrs.cols:
                floor = np.array([np.nan if v is None else v for v in attrs.cols[model_field]], dtype=float)
                out[:] = spatial.floor_area_ratios(floor, m.area_m2)
        for arr, key in ((far, "upload_far_now"), (planned_far, "upload_far_planned")):
            label = message(key)
            problems += [places.problem(i, "far_out_of_range", ERROR, message(
                "upload_far_range", label=label, far=arr[i], max=MAX_PLAUSIBLE_FAR, area_mu=m.area_mu[i]))
                for i in np.flatnonzero(far_out_of_range(arr)).tolist()]
        # the file's FARs (a derived column, as the service's own exports write it) only checked, never stored
        for model_field, computed in (("declared_far", far), ("declared_planned_far", planned_far)):
            if model_field not in attrs.numeric:
                continue
            declared, source = attrs.numeric[model_field], mapping[model_field]
            with np.errstate(invalid="ignore"):
                off = (np.isfinite(declared) & np.isfinite(computed)
                       & (np.abs(np.round(declared, 2) - np.round(computed, 2)) > FAR_AGREES))
            problems += [places.problem(i, "far_mismatch", WARNING, message(
                "upload_far_mismatch", field=source, declared=declared[i], computed=computed[i]), source)
                for i in np.flatnonzero(off).tolist()]
    area_unit = None
    if "declared_area" in attrs.numeric:
        declared, source = attrs.numeric["declared_area"], mapping["declared_area"]
        area_unit = _area_unit_hint(source) or area_unit_of(declared, m.area_m2) or "m2"
        computed = m.area_mu if area_unit == "mu" else m.area_m2
        unit_zh = message("upload_unit_mu" if area_unit == "mu" else "upload_unit_m2")
        problems += [places.problem(i, "area_mismatch", WARNING, message(
            "upload_area_mismatch", field=source, declared=declared[i], computed=computed[i], unit=unit_zh,
            pct=abs(declared[i] - computed[i]) / computed[i] * 100), source)
            for i in np.flatnonzero(area_mismatch(declared, computed)).tolist()]
    return Figures(far, planned_far, area_unit, problems)


def _area_unit_hint(source: str) -> str | None:
    low = source.lower()
    if "亩" in source or low.endswith("mu") or low.endswith("_m") and "m2" not in low:
        return "mu"
    if "平方米" in source or "㎡" in source or "m2" in low:
        return "m2"
    return None


# --- stored -------------------------------------------------------------------------

def stored(lookup: Lookup, target: str, codes: list[str | None], g4490: np.ndarray, cols: dict[str, np.ndarray],
           refs: References, places: Places) -> Stored:
    """Features whose code is stored already: keep or replace at commit, or unchanged (nothing to do)."""
    n = len(codes)
    code_list = [c for c in codes if c]
    existing = lookup.existing(target, code_list) if code_list else {}
    existing_id: list[int | None] = [None] * n
    unchanged = np.zeros(n, dtype=bool)
    problems: list[Problem] = []
    again = [i for i, c in enumerate(codes) if c is not None and c in existing]
    if not again:
        return Stored(existing_id, unchanged, problems)
    what = fields_for(target)["code"][0]
    found = [existing[codes[i]] for i in again]
    mine_g = g4490[again]
    theirs_g = np.array([e.geom_4490 for e in found], dtype=object)
    both = ~shapely.is_missing(mine_g) & ~shapely.is_missing(theirs_g)
    same_geoms = np.zeros(len(again), dtype=bool)
    if both.any():
        same_geoms[both] = same_shapes(mine_g[both], theirs_g[both], GEOM_EQUAL_TOLERANCE_DEG)
    lists = {k: c.tolist() if isinstance(c, np.ndarray) else list(c) for k, c in cols.items()}
    for i, e, same_geom in zip(again, found, same_geoms.tolist()):
        existing_id[i] = e.id
        mine = _comparable({k: c[i] for k, c in lists.items()}, refs.unit_id[i], refs.block_id[i],
                           refs.enterprise_id[i])
        # only what the file says is compared: unmapped columns keep their stored values on replace
        same = same_geom and all(mine[k] == e.values.get(k) for k in mine)
        unchanged[i] = same
        problems.append(places.problem(i, "unchanged" if same else "existing_code", INFO, message(
            "upload_unchanged" if same else "upload_existing", what=what, code=codes[i])))
    return Stored(existing_id, unchanged, problems)


def _comparable(v: dict, unit_id, block_id, enterprise_id) -> dict:
    out = {k: v[k] for k in COMPARED if k in v}
    out.update({"unit_id": unit_id, "block_id": block_id, "enterprise_id": enterprise_id})
    return {k: val for k, val in out.items() if val is not None}


# --- overlaps -----------------------------------------------------------------------

def start_overlaps(lookup: Lookup, target: str, geo: Geometry, codes: list[str | None]) -> _OverlapJob:
    """Fetch the stored features around the file (this thread), then find the overlaps in a worker thread."""
    idx = np.flatnonzero(geo.ok)
    if idx.size == 0:
        return _OverlapJob(None, idx, [])
    mine = geo.use[idx]
    b = shapely.total_bounds(mine)
    lo = spatial.reproject(shapely.points([b[0], b[2]], [b[1], b[3]]), spatial.AREA_SRID, spatial.STORAGE_SRID)
    bbox = (float(lo[0].x), float(lo[0].y), float(lo[1].x), float(lo[1].y))
    stored_codes, stored_4490 = lookup.stored_near(target, bbox, [c for c in codes if c])
    stored_4549 = (spatial.reproject(stored_4490, spatial.STORAGE_SRID, spatial.AREA_SRID)
                   if len(stored_4490) else np.array([], dtype=object))
    allg = np.concatenate([mine, stored_4549]) if len(stored_4549) else mine
    return _OverlapJob(_POOL.submit(_overlapping, allg), idx, stored_codes)


def _overlapping(allg: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    keep = np.flatnonzero(shapely.is_valid(allg))
    left, right, area = spatial.overlapping_pairs(allg[keep])
    return keep[left], keep[right], area


def overlap_problems(pending: _PendingOverlaps) -> list[Problem]:
    """Overlaps beyond spatial's tolerance, inside the file (on both features) and with stored features."""
    job, places = pending.job, pending.places
    if job.future is None:
        return []
    left, right, area = job.future.result()
    idx = job.idx.tolist()
    n_mine = len(idx)
    what = message({"parcels": "upload_what_parcel", "parks": "upload_what_park"}.get(pending.target,
                                                                                       "upload_what_block"))
    problems: list[Problem] = []
    for a, c, m2 in zip(left.tolist(), right.tolist(), area.tolist()):
        i = idx[a]
        mu = m2 / spatial.M2_PER_MU
        if c < n_mine:
            j = idx[c]
            for x, y in ((i, j), (j, i)):
                problems.append(places.problem(x, "overlap_in_file", ERROR, message(
                    "upload_overlap_file", other=y + 1, other_code=places.codes[y] or message("upload_no_code"),
                    m2=m2, mu=mu), other_features=(y + 1,)))
        else:
            problems.append(places.problem(i, "overlap_stored", ERROR, message(
                "upload_overlap_stored", what=what, code=job.stored_codes[c - n_mine], m2=m2, mu=mu)))
    return problems


def _locate(unit_geoms: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Index of the first unit strictly containing each point (-1: none), by prepared point-in-polygon."""
    out = np.full(len(points), -1)
    x, y = shapely.get_x(points), shapely.get_y(points)
    for k, unit in enumerate(unit_geoms):
        x0, y0, x1, y1 = unit.bounds
        cand = np.flatnonzero((out < 0) & (x >= x0) & (x <= x1) & (y >= y0) & (y <= y1))
        if cand.size:
            shapely.prepare(unit)
            out[cand[shapely.contains_xy(unit, x[cand], y[cand])]] = k
    return out


# --- report -------------------------------------------------------------------------

def report(target: str, columns: dict[str, np.ndarray], codes: list[str | None], shapes: Shapes, m: Measures,
           attrs: Attributes, refs: References, figs: Figures, same: Stored, found: list[list[Problem]],
           pending: _PendingOverlaps | None) -> Staged:
    """Problems by feature and each feature's severity; the mapped values and the source rows as JSON."""
    n = len(shapes)
    problems = by_feature(found)
    severity = np.full(n, "ok", dtype=object)
    for i, ps in problems.items():
        severity[i] = worst(ps)
    values_cols = {**attrs.cols, "unit_id": np.array(refs.unit_id, dtype=object)}
    if same.unchanged.any():
        values_cols["unchanged"] = np.where(same.unchanged, True, None)
    return Staged(
        target=target, feature_no=np.arange(1, n + 1), codes=codes, geom_4490=_polygonal_or_none(shapes.g4490),
        repaired_4490=m.repaired_4490, area_mu=m.stored_area_mu, repaired_area_mu=m.repaired_area_mu,
        far=figs.far, planned_far=figs.planned_far, values=_json_lines(values_cols, n),
        attributes=_json_lines(columns, n), problems=problems, severity=severity, existing_id=same.existing_id,
        unchanged=same.unchanged, unit_id=refs.unit_id, block_id=refs.block_id, enterprise_id=refs.enterprise_id,
        area_unit=figs.area_unit, notes=refs.notes, pending_overlaps=pending,
    )


def by_feature(found: Iterable[list[Problem]]) -> dict[int, list[Problem]]:
    """Feature index → its problems, in the order the phases found them (only features that have some)."""
    out: dict[int, list[Problem]] = defaultdict(list)
    for batch in found:
        for p in batch:
            out[p.feature - 1].append(p)
    return dict(out)


def counts_of(staged: Staged) -> dict:
    """The report's counts (stored on the upload record)."""
    sev = staged.severity
    existing = np.array([e is not None for e in staged.existing_id], dtype=bool)
    lists = staged.problems.values()
    area = np.where(np.isfinite(staged.area_mu), staged.area_mu, staged.repaired_area_mu)
    return {
        "features": len(staged),
        "ok": int((sev == "ok").sum()),
        "warnings": int((sev == WARNING).sum()),
        "errors": int((sev == ERROR).sum()),
        "repairable": sum(1 for ps in lists if any(p.repair_offered for p in ps)),
        "errors_after_repair": sum(1 for ps in lists if any(p.blocks(accepted_repair=True) for p in ps)),
        "problems": sum(1 for ps in lists for p in ps if p.severity != INFO),
        "new": int((~existing).sum()),
        "existing": int(existing.sum()),
        "unchanged": int(staged.unchanged.sum()),
        "area_mu": round(float(np.nansum(area)), 2),
    }


# --- columns ------------------------------------------------------------------------

def source_columns(raw: RawLayer) -> dict[str, np.ndarray]:
    """The file's attribute columns by field name, in the file's order."""
    return dict(zip(raw.fields, raw.columns))


def codes_of(raw: RawLayer, mapping: dict[str, str]) -> list[str | None]:
    """The feature codes (宗地编号 / 区块编号) as text, None where empty."""
    if "code" not in mapping:
        return [None] * raw.count
    return _texts(raw.columns[raw.fields.index(mapping["code"])]).tolist()


# --- values -------------------------------------------------------------------------

def _multi(geoms: np.ndarray) -> np.ndarray:
    """Polygons as one-part MultiPolygons (the column type); MultiPolygons unchanged."""
    geoms = np.asarray(geoms, dtype=object)
    out = geoms.copy()
    poly = shapely.get_type_id(geoms) == 3
    if poly.any():
        out[poly] = shapely.multipolygons(geoms[poly].reshape(-1, 1)) if poly.sum() else out[poly]
    return out


def _polygonal_or_none(geoms: np.ndarray) -> np.ndarray:
    """Polygonal geometries kept (stored as MultiPolygons); anything else (points, lines, empties): None."""
    out = np.full(len(geoms), None, dtype=object)
    polygonal = np.isin(shapely.get_type_id(geoms), (3, 6)) & ~shapely.is_empty(geoms)
    out[polygonal] = geoms[polygonal]
    return out


def _json_value(value):
    if value is None:
        return None
    if isinstance(value, (np.floating, float)):
        v = float(value)
        return None if math.isnan(v) or math.isinf(v) else v
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.bool_, bool)):
        return bool(value)
    if isinstance(value, (str, int)):
        return value
    if isinstance(value, np.datetime64):
        return None if np.isnat(value) else str(value)
    return str(value)


def _texts(col) -> np.ndarray:
    """A source column as stripped text (object array, None where empty); integral numbers without '.0'."""
    arr = np.asarray(col)
    if arr.dtype.kind in "iu":
        return arr.astype(str).astype(object)
    if arr.dtype.kind == "f":
        out = np.full(len(arr), None, dtype=object)
        finite = np.isfinite(arr)
        integral = finite & (arr == np.round(arr))
        out[integral] = arr[integral].astype(np.int64).astype(str)
        rest = finite & ~integral
        out[rest] = arr[rest].astype(str)
        return out
    out = np.empty(len(arr), dtype=object)
    out[:] = [_stripped(v) for v in arr.tolist()]
    return out


def _stripped(value) -> str | None:
    if value is None:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    text = (value if isinstance(value, str) else str(value)).strip()
    return text or None


def _numbers(col) -> tuple[np.ndarray, np.ndarray]:
    """(float values with NaN for empty, True where text was given that is no number)."""
    arr = np.asarray(col)
    if arr.dtype.kind in "iuf":
        return arr.astype(float), np.zeros(len(arr), dtype=bool)
    texts = _texts(arr)
    cleaned = pd.Series(texts, dtype=object).str.replace(r"[,，\s]", "", regex=True)
    values = pd.to_numeric(cleaned, errors="coerce").to_numpy(dtype=float)
    bad = pd.notna(texts) & np.isnan(values)
    return values, bad


def _nullable(arr: np.ndarray, integer: bool = False) -> np.ndarray:
    out = np.full(len(arr), None, dtype=object)
    ok = np.isfinite(arr)
    out[ok] = arr[ok].astype(np.int64) if integer else arr[ok]
    return out


def _json_lines(columns: dict[str, np.ndarray], n: int) -> list[str]:
    """One JSON object per row (orjson over plain Python lists: no pandas, no numpy scalar per value)."""
    if not columns:
        return ["{}"] * n
    names = list(columns)
    keys = [f"{name}_{k}" if names.index(name) != k else name for k, name in enumerate(names)]
    lists = [_plain(columns[name]).tolist() for name in names]
    dumps, numpy_ok = orjson.dumps, orjson.OPT_SERIALIZE_NUMPY
    try:
        return [dumps(dict(zip(keys, row)), option=numpy_ok).decode() for row in zip(*lists)]
    except TypeError:  # exotic types: the slow, safe way
        return [orjson.dumps({k: _json_value(v) for k, v in zip(keys, row)}).decode() for row in zip(*lists)]


def _plain(col) -> np.ndarray:
    """Values JSON can hold: dates as ISO text, binary (GeoPackage BLOBs) as hex; a column holds one type."""
    arr = np.asarray(col)
    if arr.dtype.kind == "M":
        text = np.datetime_as_string(arr).astype(object)
        text[np.isnat(arr)] = None
        return text
    if arr.dtype.kind == "O":
        first = next((v for v in arr if v is not None), None)
        if isinstance(first, bytes):
            return np.array([v.hex() if isinstance(v, bytes) else v for v in arr], dtype=object)
    return arr
