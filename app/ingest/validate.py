"""② Validate: every feature of a layer checked at once, every problem reported (not the first).

Vectorised over shapely 2 arrays: one reprojection per CRS, validity through
``spatial.problems_of_many`` (clean shapes cost no Python), overlaps within the
file and with stored features through one ``spatial.overlapping_pairs`` pass
(STRtree), units by an STRtree point-in-polygon query. What the database knows
(units, blocks, enterprises, stored features) comes in through a
:class:`~app.ingest.lookup.Lookup`, so this module stays free of SQL.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np
import orjson
import pandas as pd
import shapely
from shapely import STRtree

import spatial
from spatial.plausibility import MAX_PLAUSIBLE_FAR, area_mismatch, area_unit_of, far_out_of_range

from ..enums import Classification, ParcelStatus, RenewalMode, RenewalType, Stage
from ..errors import FieldError, InvalidUpload
from ..messages import message
from .lookup import Lookup, UnitRef
from .mapping import NUMERIC, fields_for
from .read import RawLayer

ERROR = "error"
WARNING = "warning"
INFO = "info"
# A parcel whose point lies this close outside every unit boundary is given the nearest unit:
# the demo unit boundaries are schematic and real ones are digitised at another scale.
UNIT_SNAP_M = 500.0
GEOM_EQUAL_TOLERANCE_DEG = 1e-9  # ~0.1 mm: "the same geometry" when a file is imported twice
# Problems that the clerk clears by accepting the repaired geometry offered in the report.
REPAIRABLE = {"invalid_geometry", "wrong_geometry_type"}
ENUMS = {"classification": Classification, "renewal_mode": RenewalMode, "renewal_type": RenewalType,
         "status": ParcelStatus, "stage": Stage}
# Parcel columns compared to decide that a re-imported feature is unchanged.
COMPARED = ("floor_area_m2", "planned_floor_area_m2", "land_use", "classification", "renewal_mode", "renewal_type",
            "status", "unit_id", "block_id", "enterprise_id", "name", "stage", "designated_year", "planned_far")


@dataclass
class Staged:
    """The validated layer, column-wise; ``problems[i]`` lists feature i's problems as JSON-ready dicts."""

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
    problems: dict[int, list[dict]]  # feature index -> its problems (only features that have some)
    severity: np.ndarray
    existing_id: list[int | None]
    unchanged: np.ndarray
    unit_id: list[int | None]
    block_id: list[int | None]
    enterprise_id: list[int | None]
    area_unit: str | None = None
    notes: list[dict] = field(default_factory=list)
    pending_overlaps: tuple | None = None  # see finish_overlaps

    def __len__(self) -> int:
        return len(self.feature_no)


Progress = Callable[[str, int, int], None]


def _noop(_phase: str, _done: int, _total: int) -> None:
    return None


# --- value conversion -------------------------------------------------------

def _text(value) -> str | None:
    if value is None:
        return None
    if isinstance(value, (float, np.floating)):
        if math.isnan(value):
            return None
        return str(int(value)) if float(value).is_integer() else str(value)
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    text = str(value).strip()
    return text or None


def _number(value) -> tuple[float | None, bool]:
    """(value, ok): empty → (None, True); text that is no number → (None, False)."""
    if value is None:
        return None, True
    if isinstance(value, (int, float, np.integer, np.floating)):
        v = float(value)
        return (None, True) if math.isnan(v) else (v, True)
    text = str(value).strip().replace(",", "").replace("，", "")
    if not text:
        return None, True
    try:
        v = float(text)
    except ValueError:
        return None, False
    return (None, True) if math.isnan(v) else (v, True)


def _enum_lookup(cls) -> dict[str, str]:
    out = {}
    for member in cls:
        out[member.value] = member.value
        out[member.label] = member.value
    return out


_ENUM_LOOKUPS = {k: _enum_lookup(v) for k, v in ENUMS.items()}
# One worker per process for the overlap check (see validate); GEOS releases the GIL while it runs.
_POOL = ThreadPoolExecutor(max_workers=1, thread_name_prefix="overlaps")


def _column(raw: RawLayer, name: str) -> np.ndarray:
    return raw.columns[raw.fields.index(name)]


# --- the check ----------------------------------------------------------------

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
    nos = np.arange(1, n + 1)
    progress("checking", 0, n)
    geoms = raw.geometries()
    if shapely.has_z(geoms).any():
        geoms = shapely.force_2d(geoms)
    present = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    g4549 = np.full(n, None, dtype=object)
    g4490 = np.full(n, None, dtype=object)
    if present.any():
        # each straight from the source: no round trip through the other CRS
        g4490[present] = spatial.reproject(geoms[present], crs_source, spatial.STORAGE_SRID)
        g4549[present] = spatial.reproject(geoms[present], crs_source, spatial.AREA_SRID)
    problems: dict[int, list[dict]] = defaultdict(list)  # sparse: most features have none
    add = _adder(problems)
    notes: list[dict] = []

    # geometry: null / empty / type / validity, with the repaired shape offered
    repaired_4549 = np.full(n, None, dtype=object)
    use = g4549.copy()
    for p in spatial.problems_of_many(g4549, ids=nos.tolist()):
        i = p.feature_ids[0] - 1
        entry = {"code": p.code, "severity": p.severity, "message": p.message_zh}
        if p.code in REPAIRABLE:
            fixed = p.repaired if p.repaired is not None and not p.repaired.is_empty else None
            repaired_4549[i] = fixed
            use[i] = fixed
            entry["repairable"] = fixed is not None
            if fixed is not None:
                entry["message"] += "；" + message("upload_repair_offer")
            entry["values"] = {k: v for k, v in p.values.items() if k != "reason"}
        if p.code in ("null_geometry", "empty_geometry"):
            use[i] = None
        problems[i].append(entry)
    ok = ~shapely.is_missing(use)
    # Overlaps are the costliest check (GEOS, which releases the GIL): they run on the other core
    # while the attribute checks below go on; the stored features they compare with are read now,
    # in this thread, because the session is not thread-safe.
    codes = codes_of(raw, mapping)
    overlap_job = _start_overlaps(lookup, target, use, ok, codes)
    progress("checking", n // 4, n)

    area_m2 = np.full(n, np.nan)
    area_m2[ok] = shapely.area(use[ok])
    area_mu = area_m2 / spatial.M2_PER_MU
    valid_area_mu = area_mu.copy()
    valid_area_mu[~shapely.is_missing(repaired_4549)] = np.nan
    repaired_area_mu = np.where(~shapely.is_missing(repaired_4549), area_mu, np.nan)
    repaired_4490 = np.full(n, None, dtype=object)
    has_fix = ~shapely.is_missing(repaired_4549)
    if has_fix.any():
        repaired_4490[has_fix] = spatial.reproject(_multi(repaired_4549[has_fix]), spatial.AREA_SRID,
                                                   spatial.STORAGE_SRID)

    points_4549 = np.full(n, None, dtype=object)
    points_4549[ok] = shapely.point_on_surface(use[ok])
    lonlat = np.full((n, 2), np.nan)
    if ok.any():
        to_lonlat = spatial.transformer(spatial.AREA_SRID, spatial.STORAGE_SRID)
        lon, lat = to_lonlat.transform(shapely.get_x(points_4549[ok]), shapely.get_y(points_4549[ok]))
        lonlat[ok, 0], lonlat[ok, 1] = lon, lat

    # mapped values, column-wise: cols[model_field] is an object array (None where empty)
    cols: dict[str, np.ndarray] = {}
    numeric: dict[str, np.ndarray] = {}
    for model_field, source in mapping.items():
        if model_field == "code":
            continue
        col = _column(raw, source)
        label = fields_for(target)[model_field][0]
        if model_field in NUMERIC:
            arr, bad = _numbers(col)
            for i in np.flatnonzero(bad):
                add(i, {"code": "bad_number", "severity": ERROR, "field": source,
                        "message": message("upload_bad_number", field=source, label=label, value=col[i])})
            numeric[model_field] = arr
            continue
        texts = _texts(col)
        if model_field in _ENUM_LOOKUPS:
            mapped = pd.Series(texts, dtype=object).map(_ENUM_LOOKUPS[model_field]).to_numpy(dtype=object)
            unknown = np.flatnonzero(pd.notna(texts) & pd.isna(mapped))
            choices = "、".join(m.label for m in ENUMS[model_field])
            for i in unknown:
                add(i, {"code": "bad_value", "severity": ERROR, "field": source, "message": message(
                    "upload_bad_choice", field=source, label=label, value=texts[i], choices=choices)})
            cols[model_field] = np.where(pd.isna(mapped), None, mapped)
        else:
            cols[model_field] = texts
    for model_field in ("floor_area_m2", "planned_floor_area_m2"):
        if model_field in numeric:
            arr = numeric[model_field]
            for i in np.flatnonzero(arr < 0):
                add(i, {"code": "bad_number", "severity": ERROR, "field": mapping[model_field],
                        "message": message("upload_negative", field=mapping[model_field], value=arr[i])})
            cols[model_field] = _nullable(np.where(arr >= 0, np.round(arr, 2), np.nan))
    if "designated_year" in numeric:
        cols["designated_year"] = _nullable(numeric["designated_year"], integer=True)
    if "planned_far" in numeric:
        cols["planned_far"] = _nullable(np.round(numeric["planned_far"], 2))
    progress("checking", n // 2, n)

    # codes: missing, duplicated inside the file
    code_arr = np.array([c if c is not None else "" for c in codes], dtype=object)
    what = "宗地编号" if target == "parcels" else "区块编号"
    for i in np.flatnonzero(code_arr == ""):
        problems[i].append({"code": "code_missing", "severity": ERROR, "field": mapping.get("code"),
                            "message": message("upload_code_missing", what=what)})
    for i in np.flatnonzero(np.array([len(c) > 64 for c in code_arr], dtype=bool)):
        problems[i].append({"code": "code_too_long", "severity": ERROR, "field": mapping.get("code"),
                            "message": message("upload_code_too_long", what=what, length=len(code_arr[i]))})
    filled = np.flatnonzero(code_arr != "")
    if filled.size:
        uniq, inverse, counts = np.unique(code_arr[filled].astype(str), return_inverse=True, return_counts=True)
        for u in np.flatnonzero(counts > 1):
            members = filled[inverse == u]
            for i in members:
                others = [int(j) + 1 for j in members if j != i]
                problems[i].append({"code": "duplicate_code", "severity": ERROR, "field": mapping.get("code"),
                                    "other_features": others, "message": message(
                                        "upload_duplicate_code", what=what, code=uniq[u],
                                        others="、".join(f"第 {k} 个" for k in others[:10]))})

    # where it lies: the unit containing its point, or the nearest within UNIT_SNAP_M, else outside Tongxiang
    units = lookup.units()
    if not units:
        raise InvalidUpload(message("upload_no_units"), [FieldError(None, message("upload_no_units"))],
                            code="no_units", status_code=409)
    unit_id: list[int | None] = [None] * n
    located = np.full(n, -1)
    unit_geoms = np.array([u.geom_4549 for u in units], dtype=object)
    unit_tree = STRtree(unit_geoms)
    idx_ok = np.flatnonzero(ok & np.isfinite(lonlat[:, 0]))
    if idx_ok.size:
        located[idx_ok] = _locate(unit_geoms, points_4549[idx_ok])
        lost = idx_ok[located[idx_ok] < 0]
        if lost.size:
            pi, ui = unit_tree.query_nearest(points_4549[lost], max_distance=UNIT_SNAP_M, all_matches=False)
            located[lost[pi]] = ui
            near = set(lost[pi].tolist())
            for i in lost:
                if i in near:
                    problems[i].append({"code": "unit_by_nearest", "severity": WARNING, "message": message(
                        "upload_unit_nearest", unit=units[located[i]].name, meters=int(UNIT_SNAP_M))})
                else:
                    problems[i].append({"code": "outside_tongxiang", "severity": ERROR, "message": message(
                        "upload_outside", lon=lonlat[i, 0], lat=lonlat[i, 1])})
    bad_coords = ok & ~np.isfinite(lonlat[:, 0])
    for i in np.flatnonzero(bad_coords):
        problems[i].append({"code": "outside_tongxiang", "severity": ERROR, "message": message("upload_outside_crs")})
    for i in np.flatnonzero(located >= 0):
        unit_id[i] = units[located[i]].id
    if "unit" in mapping:
        _units_from_field(cols["unit"], problems, units, unit_id, located, mapping["unit"])

    # block and enterprise references
    block_id: list[int | None] = [None] * n
    enterprise_id: list[int | None] = [None] * n
    if target == "parcels":
        if "block" in mapping:
            blocks = lookup.blocks()
            for i, ref in enumerate(cols["block"]):
                if ref is None:
                    continue
                if ref in blocks:
                    block_id[i] = blocks[ref]
                else:
                    problems[i].append({"code": "unknown_block", "severity": ERROR, "field": mapping["block"],
                                        "message": message("upload_unknown_block", value=ref)})
        if "enterprise" in mapping or "credit_code" in mapping:
            none = np.full(n, None, dtype=object)
            names_col, credit_col = cols.get("enterprise", none), cols.get("credit_code", none)
            known = lookup.enterprises(set(names_col[pd.notna(names_col)]), set(credit_col[pd.notna(credit_col)]))
            # the credit code wins when it is known, else the name
            by_credit = pd.Series(credit_col, dtype=object).map(known)
            by_name = pd.Series(names_col, dtype=object).map(known)
            found = by_credit.fillna(by_name).to_numpy(dtype=float)
            matched = ~np.isnan(found)
            ids = np.full(n, None, dtype=object)
            ids[matched] = found[matched].astype(np.int64).tolist()
            enterprise_id = ids.tolist()
            unknown: dict[str, int] = Counter(names_col[~matched & pd.notna(names_col)].tolist())
            if unknown:
                # one note for the upload, not a warning on each parcel: new enterprises are the normal case
                names = sorted(unknown, key=lambda k: -unknown[k])
                notes.append({"code": "enterprise_unknown", "count": len(unknown), "features": sum(unknown.values()),
                              "message": message("upload_enterprises_unknown", count=len(unknown),
                                                 features=sum(unknown.values()),
                                                 names="、".join(names[:10]) + ("等" if len(names) > 10 else ""))})
    progress("checking", 3 * n // 4, n)

    # figures: FAR through spatial, declared area / FAR against the computed ones
    far = np.full(n, np.nan)
    planned_far = np.full(n, np.nan)
    if target == "parcels":
        for model_field, out in (("floor_area_m2", far), ("planned_floor_area_m2", planned_far)):
            if model_field not in cols:
                continue
            floor = np.array([np.nan if v is None else v for v in cols[model_field]], dtype=float)
            out[:] = spatial.floor_area_ratios(floor, area_m2)  # the one FAR definition
        for arr, label in ((far, "现状容积率"), (planned_far, "规划容积率")):
            for i in np.flatnonzero(far_out_of_range(arr)):
                problems[i].append({"code": "far_out_of_range", "severity": ERROR, "message": message(
                    "upload_far_range", label=label, far=arr[i], max=MAX_PLAUSIBLE_FAR, area_mu=area_mu[i])})
        if "declared_far" in numeric:
            declared = numeric["declared_far"]
            with np.errstate(invalid="ignore"):
                off = np.isfinite(declared) & np.isfinite(far) & (np.abs(np.round(declared, 2) - np.round(far, 2)) > 0.01)
            for i in np.flatnonzero(off):
                problems[i].append({"code": "far_mismatch", "severity": WARNING, "field": mapping["declared_far"],
                                    "message": message("upload_far_mismatch", field=mapping["declared_far"],
                                                       declared=declared[i], computed=far[i])})
    area_unit = None
    if "declared_area" in numeric:
        declared = numeric["declared_area"]
        source = mapping["declared_area"]
        area_unit = _area_unit_hint(source) or area_unit_of(declared, area_m2) or "m2"
        computed = area_mu if area_unit == "mu" else area_m2
        unit_zh = "亩" if area_unit == "mu" else "平方米"
        for i in np.flatnonzero(area_mismatch(declared, computed)):
            problems[i].append({"code": "area_mismatch", "severity": WARNING, "field": source, "message": message(
                "upload_area_mismatch", field=source, declared=declared[i], computed=computed[i], unit=unit_zh,
                pct=abs(declared[i] - computed[i]) / computed[i] * 100)})

    # stored features: same code (keep / replace, or unchanged), overlaps beyond tolerance
    code_list = [c for c in codes if c]
    existing = lookup.existing(target, code_list) if code_list else {}
    existing_id: list[int | None] = [None] * n
    unchanged = np.zeros(n, dtype=bool)
    again = [i for i, c in enumerate(codes) if c is not None and c in existing]
    if again:
        stored = [existing[codes[i]] for i in again]
        mine_g = g4490[again]
        theirs_g = np.array([e.geom_4490 for e in stored], dtype=object)
        both = ~shapely.is_missing(mine_g) & ~shapely.is_missing(theirs_g)
        same_geoms = np.zeros(len(again), dtype=bool)
        if both.any():
            same_geoms[both] = shapely.equals_exact(_multi(mine_g[both]), theirs_g[both],
                                                    tolerance=GEOM_EQUAL_TOLERANCE_DEG)
        lists = {k: c.tolist() if isinstance(c, np.ndarray) else list(c) for k, c in cols.items()}
        for i, e, same_geom in zip(again, stored, same_geoms.tolist()):
            existing_id[i] = e.id
            mine = _comparable({k: c[i] for k, c in lists.items()}, unit_id[i], block_id[i], enterprise_id[i])
            # only what the file says is compared: unmapped columns keep their stored values on replace
            same = same_geom and all(mine[k] == e.values.get(k) for k in mine)
            unchanged[i] = same
            problems[i].append({"code": "unchanged" if same else "existing_code", "severity": INFO, "message": message(
                "upload_unchanged" if same else "upload_existing", what=what, code=codes[i])})
    places = _Places(codes, np.round(lonlat, 7).tolist(), np.isfinite(lonlat[:, 0]).tolist())
    pending = None
    if defer_overlaps:
        pending = (overlap_job, places)
    else:
        _overlaps_done(overlap_job, target, codes, problems)
    progress("checking", n, n)

    severity = np.full(n, "ok", dtype=object)
    places.decorate(problems, severity)
    cols["unit_id"] = np.array(unit_id, dtype=object)
    if unchanged.any():
        cols["unchanged"] = np.where(unchanged, True, None)
    values = _json_lines(cols, n)
    attributes = _json_lines({name: col for name, col in zip(raw.fields, raw.columns)}, n)
    return Staged(
        target=target, feature_no=nos, codes=codes, geom_4490=_polygonal_or_none(g4490), repaired_4490=repaired_4490,
        area_mu=valid_area_mu, repaired_area_mu=repaired_area_mu, far=far, planned_far=planned_far, values=values,
        attributes=attributes, problems=dict(problems), severity=severity, existing_id=existing_id,
        unchanged=unchanged, unit_id=unit_id, block_id=block_id, enterprise_id=enterprise_id, area_unit=area_unit,
        notes=notes, pending_overlaps=pending,
    )


@dataclass(frozen=True)
class _Places:
    """What every problem of a feature carries: its number, its code and where it lies (lon/lat)."""

    codes: list[str | None]
    where: list[list[float]]
    located: list[bool]

    def decorate(self, problems: dict[int, list[dict]], severity: np.ndarray) -> None:
        for i, ps in problems.items():
            for p in ps:
                p.setdefault("feature", i + 1)
                if self.codes[i]:
                    p.setdefault("feature_code", self.codes[i])
                if "location" not in p and self.located[i]:
                    p["location"] = self.where[i]
            severity[i] = _worst(ps)


def finish_overlaps(staged: Staged) -> list[int]:
    """Wait for a deferred overlap check (``validate(defer_overlaps=True)``) and add its problems.

    Returns the indices of the features whose problems changed, so a caller that
    already wrote the staged rows updates only those.
    """
    if staged.pending_overlaps is None:
        return []
    job, places = staged.pending_overlaps
    staged.pending_overlaps = None
    found: dict[int, list[dict]] = defaultdict(list)
    _overlaps_done(job, staged.target, staged.codes, found)
    places.decorate(found, np.full(len(staged), "ok", dtype=object))
    for i, ps in found.items():
        staged.problems.setdefault(i, []).extend(ps)
        staged.severity[i] = _worst(staged.problems[i])
    return sorted(found)


def _comparable(v: dict, unit_id, block_id, enterprise_id) -> dict:
    out = {k: v[k] for k in COMPARED if k in v}
    out.update({"unit_id": unit_id, "block_id": block_id, "enterprise_id": enterprise_id})
    return {k: val for k, val in out.items() if val is not None}


def _area_unit_hint(source: str) -> str | None:
    low = source.lower()
    if "亩" in source or low.endswith("mu") or low.endswith("_m") and "m2" not in low:
        return "mu"
    if "平方米" in source or "㎡" in source or "m2" in low:
        return "m2"
    return None


def _units_from_field(texts, problems, units: list[UnitRef], unit_id, located, source: str) -> None:
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
    for i in np.flatnonzero(wanted == -1):
        problems[i].append({"code": "unknown_unit", "severity": ERROR, "field": source,
                            "message": message("upload_unknown_unit", value=texts[i])})
    said: dict[tuple, str] = {}  # a few (named, found) pairs for any number of features
    for i in np.flatnonzero((wanted >= 0) & (located >= 0) & (wanted != located)):
        key = (texts[i], located[i])
        if key not in said:
            said[key] = message("upload_unit_mismatch", value=texts[i], unit=units[located[i]].name)
        problems[i].append({"code": "unit_mismatch", "severity": WARNING, "field": source, "message": said[key]})
    for i in np.flatnonzero(wanted >= 0):
        unit_id[i] = units[wanted[i]].id


@dataclass
class _OverlapJob:
    future: Future | None
    idx: np.ndarray
    stored_codes: list[str]


def _start_overlaps(lookup: Lookup, target: str, use: np.ndarray, ok: np.ndarray, codes) -> _OverlapJob:
    """Fetch the stored features around the file, then find the overlaps in a worker thread."""
    idx = np.flatnonzero(ok)
    if idx.size == 0:
        return _OverlapJob(None, idx, [])
    mine = use[idx]
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


def _overlaps_done(job: _OverlapJob, target: str, codes, problems) -> None:
    """Overlaps beyond spatial's tolerance, inside the file and with stored features, as problems."""
    if job.future is None:
        return
    left, right, area = job.future.result()
    idx = job.idx
    n_mine = len(idx)
    what = "宗地" if target == "parcels" else "区块"
    for a, c, m2 in zip(left.tolist(), right.tolist(), area.tolist()):
        i = int(idx[a])
        mu = m2 / spatial.M2_PER_MU
        if c < n_mine:
            j = int(idx[c])
            for x, y in ((i, j), (j, i)):
                problems[x].append({"code": "overlap_in_file", "severity": ERROR, "other_features": [y + 1],
                                    "message": message("upload_overlap_file", other=y + 1,
                                                       other_code=codes[y] or "无编号", m2=m2, mu=mu)})
        else:
            problems[i].append({"code": "overlap_stored", "severity": ERROR, "message": message(
                "upload_overlap_stored", what=what, code=job.stored_codes[c - n_mine], m2=m2, mu=mu)})


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


def codes_of(raw: RawLayer, mapping: dict[str, str]) -> list[str | None]:
    """The feature codes (宗地编号 / 区块编号) as text, None where empty."""
    if "code" not in mapping:
        return [None] * raw.count
    return _texts(_column(raw, mapping["code"])).tolist()


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


def _worst(ps: list[dict]) -> str:
    worst = "ok"
    for p in ps:
        if p["severity"] == ERROR:
            return ERROR
        if p["severity"] == WARNING:
            worst = WARNING
    return worst


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


def blocking(staged_problems: list[dict], accepted_repair: bool) -> list[dict]:
    """The errors that still block a commit, given whether the feature's repair was accepted."""
    return [p for p in staged_problems
            if p["severity"] == ERROR and not (accepted_repair and p["code"] in REPAIRABLE and p.get("repairable"))]


def _adder(problems):
    def add(i: int, problem: dict) -> None:
        problems[int(i)].append(problem)
    return add


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
