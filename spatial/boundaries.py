"""Four boundaries (四至): what bounds a block or parcel on the east, south, west and north.

Method (docs/spatial.md §6, all in EPSG:4549 metres):

1. Take the exterior ring(s) of the subject, counter-clockwise; holes are ignored.
2. Cut every edge into equal pieces no longer than ``spacing_m``. A piece's
   outward normal (the right-hand side of a counter-clockwise ring) gives its
   side: east for normal angles in [-45°, 45°), north [45°, 135°),
   west [135°, 225°), south [225°, 315°), angles counter-clockwise from east.
3. From each piece's midpoint (moved 1 cm outwards) cast a ray of
   ``search_distance_m`` along the normal. The piece "faces" the neighbour
   the ray meets that is nearest to the piece's midpoint (ties: name order).
   (A neighbour containing the ray's start is taken without casting the ray:
   the same answer, to the centimetre, at a fraction of the cost.)
4. On each side the name facing the greatest total length wins; on a tie
   the nearer (shortest subject-to-feature distance over its features met on
   that side), then name order. Features with the same name (a road cut into
   several segments) count together.
5. A side with no neighbour within ``search_distance_m`` is reported as None
   and written "（N 米内无相邻要素）".

Neighbours lying mostly inside the subject (more than half of their area)
are members, not neighbours, and are skipped. Points count as 5 m circles.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Sequence

import numpy as np
import shapely
from shapely import STRtree
from shapely.geometry.base import BaseGeometry

DEFAULT_SEARCH_DISTANCE_M = 50.0  # a 40 m road plus verges; further away nothing "bounds" a block
DEFAULT_SPACING_M = 5.0  # one ray per 5 m of boundary: a 200-亩 block gets ~400 rays
POINT_RADIUS_M = 5.0  # an enterprise given as a point stands for a small building
RAY_START_OFFSET_M = 0.01  # start 1 cm outside so the subject itself is never hit

SIDES = ("east", "south", "west", "north")  # order of the standard text 东南西北
SIDE_ZH = {"east": "东", "south": "南", "west": "西", "north": "北"}
_SIDE_CODE = {"east": 0, "north": 1, "west": 2, "south": 3}  # counter-clockwise from east
_SIDE_COLUMN = np.array([SIDES.index(d) for d in ("east", "north", "west", "south")])  # code -> SIDES column


@dataclass(frozen=True)
class Neighbour:
    """A named feature that may bound a subject: a parcel, enterprise, road, river… (EPSG:4549)."""

    name: str
    geom: BaseGeometry


@dataclass(frozen=True)
class Side:
    """What one side faces.

    ``facing_m`` is the length of boundary on this side whose outward ray meets
    ``name`` first; ``side_length_m`` the whole boundary length facing this
    direction; ``distance_m`` the mean distance to ``name`` over those rays;
    ``others`` the other names met on this side, longest first.
    """

    direction: str
    name: str | None
    facing_m: float
    side_length_m: float
    distance_m: float | None
    others: tuple[tuple[str, float], ...] = ()

    def to_dict(self) -> dict:
        """Plain JSON-ready dict."""
        return {
            "direction": self.direction,
            "name": self.name,
            "facing_m": self.facing_m,
            "side_length_m": self.side_length_m,
            "distance_m": self.distance_m,
            "others": [{"name": n, "facing_m": m} for n, m in self.others],
        }


@dataclass(frozen=True)
class FourBoundaries:
    """四至 of a subject: the name on each side, the standard text and the extreme coordinates.

    Extreme coordinates are in the subject's CRS (EPSG:4549 metres here):
    ``east_x`` is the largest X, ``west_x`` the smallest, ``north_y`` the
    largest Y and ``south_y`` the smallest.
    """

    east: str | None
    south: str | None
    west: str | None
    north: str | None
    text: str
    east_x: float
    south_y: float
    west_x: float
    north_y: float
    search_distance_m: float
    sides: tuple[Side, Side, Side, Side]

    def to_dict(self) -> dict:
        """Plain JSON-ready dict."""
        return {
            "east": self.east, "south": self.south, "west": self.west, "north": self.north,
            "text": self.text,
            "extremes": {"east_x": self.east_x, "south_y": self.south_y, "west_x": self.west_x, "north_y": self.north_y},
            "search_distance_m": self.search_distance_m,
            "sides": [s.to_dict() for s in self.sides],
        }


def four_boundaries_text(names: dict[str, str | None], search_distance_m: float) -> str:
    """The standard sentence "东至…，南至…，西至…，北至…" from the four names.

    Examples
    --------
    >>> four_boundaries_text({"east": "环城路", "south": "河道", "west": "甲公司", "north": None}, 50)
    '东至环城路，南至河道，西至甲公司，北至（50 米内无相邻要素）'
    """
    empty = f"（{search_distance_m:g} 米内无相邻要素）"
    return "，".join(f"{SIDE_ZH[s]}至{names.get(s) or empty}" for s in SIDES)


def _classify(nx: np.ndarray, ny: np.ndarray) -> np.ndarray:
    """Side code per outward normal, by exact comparisons (no angles, so a 180° turn is exact)."""
    code = np.full(nx.shape, _SIDE_CODE["south"], dtype=np.int8)
    east = (nx > 0) & (ny >= -nx) & (ny < nx)
    north = (ny > 0) & (nx <= ny) & (nx > -ny)
    west = (nx < 0) & (ny <= -nx) & (ny > nx)
    code[east] = _SIDE_CODE["east"]
    code[north] = _SIDE_CODE["north"]
    code[west] = _SIDE_CODE["west"]
    return code


def _pieces(subjects: np.ndarray, spacing_m: float):
    """Boundary pieces of every subject: owner, side code, length, midpoint, unit normal."""
    polys = shapely.get_parts(subjects, return_index=True)
    parts, owner_of_part = polys
    keep = shapely.get_type_id(parts) == 3
    parts, owner_of_part = parts[keep], owner_of_part[keep]
    rings = shapely.get_exterior_ring(shapely.orient_polygons(parts, exterior_cw=False))
    xy, ring_idx = shapely.get_coordinates(rings, return_index=True)
    same = ring_idx[1:] == ring_idx[:-1]
    a, b = xy[:-1][same], xy[1:][same]
    owner = owner_of_part[ring_idx[:-1][same]]
    d = b - a
    length = np.hypot(d[:, 0], d[:, 1])
    ok = length > 0
    a, d, length, owner = a[ok], d[ok], length[ok], owner[ok]
    n = np.maximum(1, np.ceil(length / spacing_m)).astype(np.int64)
    edge = np.repeat(np.arange(len(a)), n)
    first = np.repeat(np.cumsum(n) - n, n)
    t = (np.arange(edge.size) - first + 0.5) / n[edge]
    mid = a[edge] + d[edge] * t[:, None]
    normal = np.column_stack([d[:, 1], -d[:, 0]])[edge]  # right-hand side of a CCW ring = outside
    side = _classify(normal[:, 0], normal[:, 1])
    unit = normal / length[edge, None]
    return owner[edge], side, (length / n)[edge], mid, unit


def _names_and_geoms(neighbours: Iterable) -> tuple[list[str], np.ndarray]:
    names, geoms = [], []
    for nb in neighbours:
        if isinstance(nb, Neighbour):
            name, geom = nb.name, nb.geom
        else:
            name, geom = nb
        if geom is None or geom.is_empty:
            continue
        if shapely.get_type_id(geom) in (0, 4):  # points stand for small buildings
            geom = shapely.buffer(geom, POINT_RADIUS_M)
        names.append(str(name))
        geoms.append(geom)
    return names, np.asarray(geoms, dtype=object)


@dataclass(frozen=True)
class FourBoundariesTable:
    """四至 of many subjects in columns (for whole layers); :meth:`row` gives one FourBoundaries.

    Arrays are indexed ``[subject, side]`` with sides in :data:`SIDES` order
    (east, south, west, north): ``winner`` is an index into ``names`` or -1,
    ``facing_m``, ``side_length_m`` and ``distance_m`` as in :class:`Side`.
    ``extremes`` is (n, 4): east_x, south_y, west_x, north_y (EPSG:4549).
    """

    names: np.ndarray
    winner: np.ndarray
    facing_m: np.ndarray
    side_length_m: np.ndarray
    distance_m: np.ndarray
    extremes: np.ndarray
    search_distance_m: float
    # runner-ups: rows of (slot, name index, facing, mean distance), sorted by slot then rank
    _pairs: np.ndarray
    _pair_stats: np.ndarray
    _slot_start: np.ndarray

    def __len__(self) -> int:
        return len(self.winner)

    def texts(self) -> list[str]:
        """The standard sentence of every subject, in order."""
        empty = f"（{self.search_distance_m:g} 米内无相邻要素）"
        label = np.append(self.names.astype(object), empty)
        w = np.where(self.winner >= 0, self.winner, len(self.names))
        e, s_, wst, n = (label[w[:, c]] for c in range(4))
        return [f"东至{a}，南至{b}，西至{c}，北至{d}" for a, b, c, d in zip(e, s_, wst, n)]

    def row(self, k: int) -> FourBoundaries:
        """The full :class:`FourBoundaries` of subject ``k``."""
        sides = {}
        for c, direction in enumerate(SIDES):
            slot = k * 4 + c
            lo, hi = self._slot_start[slot], self._slot_start[slot + 1]
            if lo == hi:
                sides[direction] = Side(direction, None, 0.0, round(float(self.side_length_m[k, c]), 3), None)
                continue
            stats = self._pair_stats[lo:hi]
            names = self.names[self._pairs[lo:hi, 1]]
            sides[direction] = Side(
                direction, str(names[0]), round(float(stats[0, 0]), 3), round(float(self.side_length_m[k, c]), 3),
                round(float(stats[0, 1]), 3),
                tuple((str(nm), round(float(st[0]), 3)) for nm, st in zip(names[1:], stats[1:])),
            )
        names = {d: sides[d].name for d in SIDES}
        e, s_, w, n = self.extremes[k].tolist()
        return FourBoundaries(
            names["east"], names["south"], names["west"], names["north"],
            four_boundaries_text(names, self.search_distance_m),
            round(e, 3), round(s_, 3), round(w, 3), round(n, 3), float(self.search_distance_m),
            tuple(sides[d] for d in SIDES),
        )

    def rows(self) -> list[FourBoundaries]:
        """:meth:`row` for every subject."""
        return [self.row(k) for k in range(len(self))]


def four_boundaries_table(
    subjects_4549: Sequence[BaseGeometry],
    neighbours: Iterable[Neighbour | tuple[str, BaseGeometry]] | None = None,
    *,
    names: Sequence[str] | None = None,
    search_distance_m: float = DEFAULT_SEARCH_DISTANCE_M,
    spacing_m: float = DEFAULT_SPACING_M,
) -> FourBoundariesTable:
    """四至 of many subjects at once, in columns (vectorised; one STRtree for all).

    Either give ``neighbours`` (a separate named layer), or leave it None and
    give ``names``: each subject is then bounded by the *other* subjects, as
    for the 宗地四至 of every parcel in a layer.

    Parameters
    ----------
    subjects_4549 : sequence of polygons in EPSG:4549
    neighbours : iterable of Neighbour or (name, geometry), EPSG:4549, optional
    names : sequence of str, optional
        Names of the subjects, used when ``neighbours`` is None.
    search_distance_m, spacing_m : float
        Ray length and boundary sampling step, metres.

    Returns
    -------
    FourBoundariesTable

    Examples
    --------
    >>> from shapely import box
    >>> row = [box(0, 0, 100, 100), box(100, 0, 200, 100), box(200, 0, 300, 100)]
    >>> four_boundaries_table(row, names=["甲", "乙", "丙"]).texts()[1]
    '东至丙，南至（50 米内无相邻要素），西至甲，北至（50 米内无相邻要素）'
    """
    subjects = np.asarray(subjects_4549, dtype=object)
    if search_distance_m <= 0 or spacing_m <= 0:
        raise ValueError("search_distance_m and spacing_m must be positive")
    self_mode = neighbours is None
    if self_mode:
        if names is None or len(names) != len(subjects):
            raise ValueError("give either neighbours, or one name per subject")
        nb_names, nb_geoms = [str(n) for n in names], subjects
    else:
        nb_names, nb_geoms = _names_and_geoms(neighbours)
    name_keys, name_rank = np.unique(np.asarray(nb_names + [""], dtype=object), return_inverse=True)
    name_rank = name_rank[:-1]

    owner, side, piece_len, mid, unit = _pieces(subjects, spacing_m)
    best_nb = np.full(len(owner), -1, dtype=np.int64)
    if len(nb_geoms) and len(owner):
        start = mid + unit * RAY_START_OFFSET_M
        tree = STRtree(nb_geoms)
        shapely.prepare(nb_geoms)

        def usable(r_i, n_i):
            keep = n_i != owner[r_i] if self_mode else _not_member_pairs(subjects, nb_geoms, owner[r_i], n_i)
            return r_i[keep], n_i[keep]

        # Probe: most pieces of a dense parcel layer touch their neighbour, whose
        # polygon then contains the ray's start point. A point-in-polygon test
        # settles those pieces (the ray could meet nothing nearer than 1 cm);
        # only the others need a full ray.
        probe_i, probe_nb = usable(*tree.query(shapely.points(start), predicate="intersects"))
        pending = np.ones(len(owner), dtype=bool)
        pending[probe_i] = False
        todo = np.flatnonzero(pending)
        end = mid[todo] + unit[todo] * search_distance_m
        rays = shapely.linestrings(np.stack([start[todo], end], axis=1))
        # envelope query, then the exact test with the neighbours prepared once:
        # far cheaper than preparing every ray (STRtree's own predicate path)
        r_i, n_i = tree.query(rays)
        if self_mode:
            keep = n_i != owner[todo[r_i]]
            r_i, n_i = r_i[keep], n_i[keep]
        keep = shapely.intersects(nb_geoms[n_i], rays[r_i])
        ray_hit, nb_hit = usable(todo[r_i[keep]], n_i[keep])
        ray_i, nb_i = np.concatenate([probe_i, ray_hit]), np.concatenate([probe_nb, nb_hit])
        # a ray meeting several neighbours faces the nearest; only those rays need distances
        multi = np.zeros(len(owner), dtype=np.int64)
        np.add.at(multi, ray_i, 1)
        dist = np.zeros(ray_i.size)
        need = multi[ray_i] > 1
        if need.any():
            dist[need] = np.round(shapely.distance(shapely.points(mid[ray_i[need]]), nb_geoms[nb_i[need]]), 3)
        order = np.lexsort((nb_i, name_rank[nb_i], dist, ray_i))
        ray_i, nb_i = ray_i[order], nb_i[order]
        first = np.r_[True, ray_i[1:] != ray_i[:-1]] if ray_i.size else np.zeros(0, bool)
        best_nb[ray_i[first]] = nb_i[first]

    n_sub = len(subjects)
    slot = owner * 4 + _SIDE_COLUMN[side]
    side_len = np.bincount(slot, weights=piece_len, minlength=n_sub * 4)
    hit = best_nb >= 0
    n_names = len(name_keys)
    key = slot[hit] * n_names + name_rank[best_nb[hit]]
    pair_key, inv = np.unique(key, return_inverse=True)
    pairs = np.column_stack([pair_key // n_names, pair_key % n_names])
    tot = np.round(np.bincount(inv, weights=piece_len[hit]), 6)
    # Distance of a name on a side: the shortest subject-to-feature distance over
    # its features met there. Needed for the winner (reported) and to break a
    # tie in facing length (nearer wins), so computed for the top-tied names only.
    best_tot = np.zeros(n_sub * 4)
    np.maximum.at(best_tot, pairs[:, 0], tot)
    top = tot == best_tot[pairs[:, 0]]
    pair_dist = np.full(len(pairs), np.nan)
    h_nb = best_nb[hit]
    on_top = top[inv]
    trip = np.unique(inv[on_top] * len(nb_geoms) + h_nb[on_top])  # (pair, feature) as one int64 key
    if len(trip):
        t_pair, t_nb = trip // len(nb_geoms), trip % len(nb_geoms)
        d = np.round(shapely.distance(subjects[pairs[t_pair, 0] // 4], nb_geoms[t_nb]), 3)
        np.fmin.at(pair_dist, t_pair, d)
    # per slot: longest facing length wins; then the nearer; then name order
    order = np.lexsort((pairs[:, 1], np.nan_to_num(pair_dist, nan=np.inf), -tot, pairs[:, 0]))
    pairs, tot, pair_dist = pairs[order], tot[order], pair_dist[order]
    slot_start = np.searchsorted(pairs[:, 0], np.arange(n_sub * 4 + 1))
    has = slot_start[1:] > slot_start[:-1]
    winner = np.full(n_sub * 4, -1, dtype=np.int64)
    facing = np.zeros(n_sub * 4)
    distance = np.full(n_sub * 4, np.nan)
    firsts = slot_start[:-1][has]
    winner[has] = pairs[firsts, 1]
    facing[has] = tot[firsts]
    distance[has] = pair_dist[firsts]
    stats = np.column_stack([tot, pair_dist])
    b = shapely.bounds(subjects)
    return FourBoundariesTable(
        names=name_keys, winner=winner.reshape(n_sub, 4), facing_m=facing.reshape(n_sub, 4),
        side_length_m=side_len.reshape(n_sub, 4), distance_m=distance.reshape(n_sub, 4),
        extremes=np.column_stack([b[:, 2], b[:, 1], b[:, 0], b[:, 3]]),
        search_distance_m=float(search_distance_m),
        _pairs=pairs, _pair_stats=stats, _slot_start=slot_start,
    )


def four_boundaries_many(
    subjects_4549: Sequence[BaseGeometry],
    neighbours: Iterable[Neighbour | tuple[str, BaseGeometry]] | None = None,
    *,
    names: Sequence[str] | None = None,
    search_distance_m: float = DEFAULT_SEARCH_DISTANCE_M,
    spacing_m: float = DEFAULT_SPACING_M,
) -> list[FourBoundaries]:
    """四至 of many subjects as a list of FourBoundaries (see :func:`four_boundaries_table`).

    Parameters
    ----------
    subjects_4549 : sequence of polygons in EPSG:4549
    neighbours : iterable of Neighbour or (name, geometry), EPSG:4549, optional
    names : sequence of str, optional
        Names of the subjects, used when ``neighbours`` is None.
    search_distance_m, spacing_m : float
        Ray length and boundary sampling step, metres.

    Examples
    --------
    >>> from shapely import box
    >>> row = [box(0, 0, 100, 100), box(100, 0, 200, 100), box(200, 0, 300, 100)]
    >>> [fb.east for fb in four_boundaries_many(row, names=["甲", "乙", "丙"])]
    ['乙', '丙', None]
    """
    return four_boundaries_table(
        subjects_4549, neighbours, names=names, search_distance_m=search_distance_m, spacing_m=spacing_m,
    ).rows()


def _not_member_pairs(subjects, nb_geoms, subj_i, nb_i) -> np.ndarray:
    """False where the neighbour lies mostly (> 50 % of its area) inside the subject: a member."""
    if subj_i.size == 0:
        return np.ones(0, dtype=bool)
    keys, inv = np.unique(subj_i * len(nb_geoms) + nb_i, return_inverse=True)
    p_sub, p_nb = keys // len(nb_geoms), keys % len(nb_geoms)
    inside = shapely.area(shapely.intersection(nb_geoms[p_nb], subjects[p_sub]))
    own = shapely.area(nb_geoms[p_nb])
    member = (own > 0) & (inside > 0.5 * own)
    return ~member[inv.ravel()]


def four_boundaries(
    block_4549: BaseGeometry,
    neighbours: Iterable[Neighbour | tuple[str, BaseGeometry]],
    search_distance_m: float = DEFAULT_SEARCH_DISTANCE_M,
    *,
    spacing_m: float = DEFAULT_SPACING_M,
) -> FourBoundaries:
    """四至 of one block or parcel among named neighbours (method in the module docstring).

    Parameters
    ----------
    block_4549 : Polygon or MultiPolygon in EPSG:4549
    neighbours : iterable of Neighbour or (name, geometry) in EPSG:4549
        Parcels, enterprises, roads, rivers… any named layer; points count as 5 m circles.
    search_distance_m : float
        How far (metres) outwards a neighbour may be and still bound the subject.
    spacing_m : float
        Boundary sampling step in metres.

    Returns
    -------
    FourBoundaries

    Examples
    --------
    >>> from shapely import box
    >>> fb = four_boundaries(box(0, 0, 100, 100), [("复兴路", box(100, -50, 124, 150)), ("甲公司", box(-80, 0, 0, 100))])
    >>> fb.text
    '东至复兴路，南至（50 米内无相邻要素），西至甲公司，北至（50 米内无相邻要素）'
    >>> fb.east_x, fb.north_y
    (100.0, 100.0)
    """
    if block_4549 is None or block_4549.is_empty:
        raise ValueError("four_boundaries needs a non-empty polygon")
    return four_boundaries_many(
        [block_4549], list(neighbours), search_distance_m=search_distance_m, spacing_m=spacing_m,
    )[0]
