"""The one SQL builder: GeoJSON pages, single features, counts, extents and rows for exports.

Every statement is built from a :class:`~app.core.read.layers.Layer` and compiled once per
*shape* (what decides its SQL text: the layer, the output CRS, the sort, which filters, a bbox,
a cursor or an offset); every request value is a bound parameter. A page is one statement that
returns the page's ``features`` array as text, how many rows it holds, and the sort keys of its
ends; it fetches one row more than the limit, so whether a next page exists costs nothing and
``numberMatched`` needs a second (count) statement only when rows remain.

Two ways to page:

* keyset (``cursor``, /ogc): ``next`` carries the sort key of the page's last feature and
  ``prev`` that of its first, so rows inserted or deleted elsewhere never shift a page. The
  feature id closes every sort key so the order is total.
* ``offset`` (/api, the upload preview): row numbers, as the first API had them.

Statements run on a :class:`~app.core.read.pool.Reader` (the async pool, or a session in tests)
or, for services that already hold a session, on that session (``*_on`` functions).
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import orjson
from geoalchemy2 import functions as gf
from sqlalchemy import (
    BigInteger,
    Boolean,
    ColumnElement,
    Float,
    Integer,
    Numeric,
    String,
    Text,
    and_,
    bindparam,
    cast,
    false,
    func,
    or_,
    select,
)
from sqlalchemy.dialects.postgresql import ARRAY, aggregate_order_by
from sqlalchemy.orm import Session

from spatial import STORAGE_SRID

from ...errors import InvalidParameter
from ...messages import message
from .crs import ServedCrs, crs84, served_crs
from .geojson import feature_array_text, feature_text, properties_record
from .layers import Layer
from .pool import Reader, Sql, bind_statement, compile_sql, rows_on_session, run_on_session

ID = "id"  # the sort key name of the feature id


@dataclass(frozen=True)
class SortKey:
    column: ColumnElement
    descending: bool
    name: str
    sql_type: str  # for casting the cursor's text value back


@dataclass(frozen=True)
class Cursor:
    values: tuple[str | None, ...]  # text of each sort key, then the feature id
    backwards: bool  # a ``prev`` cursor: the page ends just before these values


@dataclass(frozen=True)
class Box:
    """A ``bbox``: the four numbers in east/north order, in the CRS ``srid`` (4490 for lon/lat)."""

    minx: float
    miny: float
    maxx: float
    maxy: float
    srid: int = STORAGE_SRID


@dataclass(frozen=True)
class Page:
    features_json: str
    number_returned: int
    number_matched: int
    first_key: tuple | None
    last_key: tuple | None
    has_more: bool  # more features beyond the page in the direction walked


MAX_SORT_KEYS = 10  # more is a client's mistake (a 400), not a query that exhausts the database


def sort_keys(layer: Layer, raw: str | None) -> list[SortKey]:
    """``sortby=-far,+code``: queryable names, ``-`` descending; the id closes the order."""
    keys: list[SortKey] = []
    if raw:
        if len([p for p in raw.split(",") if p.strip()]) > MAX_SORT_KEYS:
            raise InvalidParameter("sortby", message("sortby_too_many", max=MAX_SORT_KEYS))
        for part in raw.split(","):
            part = part.strip()
            if not part:
                continue
            desc = part.startswith("-")
            name = part.lstrip("+-").strip()
            if name.endswith(" DESC") or name.endswith(" ASC"):
                desc = name.endswith(" DESC")
                name = name.rsplit(" ", 1)[0]
            prop = layer.queryable.get(name)
            if prop is None:
                raise InvalidParameter("sortby", message("sortby_unknown", name=name, names="、".join(layer.queryable)))
            if prop.column is layer.id_column:
                break  # sorting by the id: it is the closing key anyway
            keys.append(SortKey(prop.column, desc, name, prop.sql_type))
    keys.append(SortKey(layer.id_column, False, ID, "text"))
    return keys


def encode_cursor(sort_signature: str, values: tuple, backwards: bool) -> str:
    raw = orjson.dumps({"s": sort_signature, "v": list(values), "b": backwards})
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(token: str, sort_signature: str, n_keys: int) -> Cursor:
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        doc = orjson.loads(raw)
        values = tuple(doc["v"])
        backwards = bool(doc["b"])
        ok = doc["s"] == sort_signature and len(values) == n_keys
        ok = ok and all(v is None or isinstance(v, str) for v in values)
    except (ValueError, KeyError, TypeError, orjson.JSONDecodeError):
        ok = False
    if not ok:
        raise InvalidParameter("cursor", message("cursor_invalid"))
    return Cursor(values, backwards)


def sort_signature(keys: Sequence[SortKey], filters_digest: str) -> str:
    spec = ",".join(("-" if k.descending else "+") + k.name for k in keys)
    return hashlib.sha1(f"{spec}|{filters_digest}".encode()).hexdigest()[:12]


def _after(keys: Sequence[SortKey], nulls: Sequence[bool], reverse: bool) -> ColumnElement:
    """Rows strictly after the cursor (bound as ``k0``, ``k1`` …) in the sort order (NULLs last).

    ``nulls`` says which of the cursor's values are NULL (that changes the predicate); the
    others are bound. Reversed for ``prev``.
    """
    pred: ColumnElement | None = None
    for i, (key, is_null) in reversed(list(enumerate(zip(keys, nulls, strict=True)))):
        col = key.column
        forward = key.descending == reverse  # ascending in the direction walked
        if is_null:
            beyond = false() if not reverse else col.is_not(None)
            equal = col.is_(None)
        else:
            v = cast(bindparam(f"k{i}", type_=Text), _type_of(key))
            strictly = col > v if forward else col < v
            beyond = or_(strictly, col.is_(None)) if not reverse else strictly
            equal = col == v
        pred = beyond if pred is None else or_(beyond, and_(equal, pred))
    assert pred is not None
    return pred


def _type_of(key: SortKey):
    return {"numeric": Numeric(), "bigint": BigInteger(), "boolean": Boolean()}.get(key.sql_type, Text())


def _order(keys: Sequence[SortKey], reverse: bool) -> list[ColumnElement]:
    out = []
    for key in keys:
        asc = key.descending == reverse
        out.append(key.column.asc().nulls_last() if asc else key.column.desc().nulls_first())
    return out


def geometry_json(layer: Layer, crs: ServedCrs) -> ColumnElement:
    """GeoJSON geometry text in ``crs``: transform the output only, swap axes if the CRS says so."""
    g = gf.ST_ForcePolygonCCW(layer.geom) if layer.ccw else layer.geom  # RFC 7946 ring order
    geographic = crs.srid in (STORAGE_SRID, 4326)
    if not geographic:
        g = gf.ST_Transform(g, crs.srid)
    if crs.flip:
        g = gf.ST_FlipCoordinates(g)
    return gf.ST_AsGeoJSON(g, min(layer.decimals, crs.decimals) if geographic else crs.decimals, 0)


def _properties(layer: Layer) -> ColumnElement:
    return properties_record([(p.name, p.column) for p in layer.properties])


# -- a page request: its shape (the SQL text) and its values --------------------------
@dataclass(frozen=True)
class PageShape:
    """What decides the page statement's SQL text; every request value is a bound parameter.

    Two requests of the same shape share one compiled statement (and, once psycopg has
    seen it a few times, one server-side prepared statement).
    """

    layer: Layer
    crs_uri: str
    sort: tuple[tuple[str, bool], ...]  # (queryable name or "id", descending)
    # ``=name``: a queryable compared with ``=``, bound as f0, f1 …; otherwise a named filter
    # of the layer, bound as c_<name>
    filters: tuple[str, ...] = ()
    box_srid: int | None = None  # bound as b0…b3 (and b_step when projected)
    cursor: tuple[bool, tuple[bool, ...]] | None = None  # (backwards, which values are NULL)
    offset: bool = False  # bound as page_offset


@dataclass(frozen=True)
class PageQuery:
    shape: PageShape
    values: dict[str, Any]
    limit: int
    offset: int = 0
    cursor: Cursor | None = None
    cql: ColumnElement | None = None  # a CQL2 filter (its own bound literals)


def page_query(
    layer: Layer,
    *,
    crs: ServedCrs | None = None,
    keys: Sequence[SortKey] | None = None,
    limit: int,
    offset: int = 0,
    cursor: Cursor | None = None,
    filters: Sequence[tuple[str, Any]] = (),
    box: Box | None = None,
    cql: ColumnElement | None = None,
) -> PageQuery:
    """A page of ``layer``. ``filters``: (``=name``, value) for a queryable's equality, or (filter
    name, value) for one of the layer's named filters (value None for those that take none)."""
    crs = crs or crs84()
    keys = list(keys) if keys is not None else sort_keys(layer, None)
    values: dict[str, Any] = {"page_limit": limit, "fetch_limit": limit + 1, **filter_values(filters)}
    if box is not None:
        values.update(b0=box.minx, b1=box.miny, b2=box.maxx, b3=box.maxy)
        if box.srid != STORAGE_SRID:
            # A projected box's edges bend in lon/lat: densify before transforming.
            values["b_step"] = max(box.maxx - box.minx, box.maxy - box.miny) / 32 or 1.0
    if cursor is not None:
        values.update({f"k{i}": v for i, v in enumerate(cursor.values) if v is not None})
    if offset:
        values["page_offset"] = offset
    shape = PageShape(
        layer,
        crs.uri,
        tuple((k.name, k.descending) for k in keys),
        tuple(key for key, _ in filters),
        None if box is None else box.srid,
        None if cursor is None else (cursor.backwards, tuple(v is None for v in cursor.values)),
        bool(offset),
    )
    return PageQuery(shape, values, limit, offset, cursor, cql)


def _sort_keys(layer: Layer, sort: Sequence[tuple[str, bool]]) -> list[SortKey]:
    keys = []
    for name, descending in sort:
        if name == ID:
            keys.append(SortKey(layer.id_column, descending, name, "text"))
        else:
            prop = layer.queryable[name]
            keys.append(SortKey(prop.column, descending, name, prop.sql_type))
    return keys


def filter_values(filters: Sequence[tuple[str, Any]]) -> dict[str, Any]:
    """The bound values of a request's filters, by the names :func:`conditions` gives them."""
    values: dict[str, Any] = {}
    for i, (key, value) in enumerate(filters):
        if key.startswith("="):
            values[f"f{i}"] = value
        elif value is not None:
            values[f"c_{key}"] = value
    return values


def conditions(layer: Layer, filters: Sequence[str] = (), box_srid: int | None = None,
               cql: ColumnElement | None = None) -> list[ColumnElement]:
    """The WHERE of a request: the layer's fixed filter, the request's filters, its bbox and CQL2."""
    out = [*layer.where]
    for i, key in enumerate(filters):
        if key.startswith("="):
            prop = layer.queryable[key[1:]]
            out.append(prop.column == bindparam(f"f{i}", type_=prop.column.type))
        else:
            out.append(layer.filters[key]())
    if box_srid is not None:
        envelope = gf.ST_MakeEnvelope(*(bindparam(f"b{i}", type_=Float) for i in range(4)), box_srid)
        if box_srid != STORAGE_SRID:
            envelope = gf.ST_Transform(gf.ST_Segmentize(envelope, bindparam("b_step", type_=Float)), STORAGE_SRID)
        # The envelope is in the storage CRS (or transformed to it), so the GiST index is used.
        out.extend([layer.geom.op("&&")(envelope), gf.ST_Intersects(layer.geom, envelope)])
    if cql is not None:
        out.append(cql)
    return out


def page_statement(shape: PageShape, cql: ColumnElement | None = None):
    """One statement: the page's features as JSON text, how many, and the keys of its ends."""
    layer = shape.layer
    keys = _sort_keys(layer, shape.sort)
    reverse = shape.cursor is not None and shape.cursor[0]
    where = conditions(layer, shape.filters, shape.box_srid, cql)
    if shape.cursor is not None:
        where.append(_after(keys, shape.cursor[1], reverse))
    key_text = func.json_build_array(*[cast(k.column, Text) for k in keys])
    limit = bindparam("page_limit", type_=Integer)
    rows = (
        layer.base.add_columns(
            layer.id_column.label("fid"),
            geometry_json(layer, served_crs()[shape.crs_uri]).label("geometry"),
            _properties(layer).label("properties"),
            cast(key_text, Text).label("sort_key"),
            func.row_number().over(order_by=_order(keys, reverse)).label("rn"),
        )
        .where(*where)
        .order_by(*_order(keys, reverse))
        .limit(bindparam("fetch_limit", type_=Integer))  # one more tells whether a next page exists
    )
    if shape.offset:
        rows = rows.offset(bindparam("page_offset", type_=BigInteger))
    rows = rows.subquery()
    # row_number() counts before OFFSET: the page's rows are the first ``limit`` after it
    position = rows.c.rn - bindparam("page_offset", type_=BigInteger) if shape.offset else rows.c.rn
    feature = feature_text(rows.c.fid, rows.c.geometry, rows.c.properties)
    on_page = position <= limit
    order = rows.c.rn.desc() if reverse else rows.c.rn
    return select(
        feature_array_text(feature, order, on_page),
        func.count().filter(on_page),
        func.count(),
        func.min(rows.c.sort_key).filter(position == 1),
        # the key of the page's last row in walk order
        func.array_agg(aggregate_order_by(rows.c.sort_key, rows.c.rn.desc()), type_=ARRAY(Text))
        .filter(on_page)
        .self_group()[1],
    ).select_from(rows)


def count_statement(shape: PageShape, cql: ColumnElement | None = None):
    """numberMatched: the page's filters without its cursor or offset."""
    layer = shape.layer
    return layer.base.add_columns(func.count()).where(*conditions(layer, shape.filters, shape.box_srid, cql))


@lru_cache(maxsize=256)
def _page_sql(shape: PageShape) -> Sql:
    return compile_sql(page_statement(shape), prepare=None)


@lru_cache(maxsize=256)
def _count_sql(shape: PageShape) -> Sql:
    return compile_sql(count_statement(shape), prepare=None)


def _statements(query: PageQuery, count: bool) -> tuple[Sql, dict[str, Any]]:
    if query.cql is None:
        return (_count_sql if count else _page_sql)(query.shape), query.values
    # a CQL2 filter: SQLAlchemy's cache key is the shape
    build = count_statement if count else page_statement
    return bind_statement(build(query.shape, query.cql), query.values)


def _needs_count(query: PageQuery, returned: int, has_more: bool) -> bool:
    if has_more or query.cursor is not None:
        return True
    return query.offset > 0 and returned == 0  # past the end: how far is unknown


def _page(query: PageQuery, row: tuple, matched: int | None) -> Page:
    features_json, returned, fetched, walk_first, walk_last = row
    reverse = query.cursor is not None and query.cursor.backwards
    first, last = (walk_last, walk_first) if reverse else (walk_first, walk_last)
    if matched is None:
        matched = query.offset + returned
    return Page(features_json, returned, matched, tuple(orjson.loads(first)) if first else None,
                tuple(orjson.loads(last)) if last else None, fetched > query.limit)


async def feature_page(reader: Reader, query: PageQuery, *, count: bool = True) -> Page:
    """One page. ``count=False``: no count statement (``number_matched`` then counts only what was
    seen; for a client that needs only ``has_more``, such as the map)."""
    row = await reader.one(*_statements(query, count=False))
    assert row is not None  # aggregates: always one row
    matched = None
    if count and _needs_count(query, row[1], row[2] > query.limit):
        (matched,) = await reader.one(*_statements(query, count=True))
    return _page(query, row, matched)


def feature_page_on(session: Session, query: PageQuery, *, count: bool = True) -> Page:
    """:func:`feature_page` on a session the caller holds (a service inside its transaction)."""
    row = run_on_session(session, *_statements(query, count=False))
    assert row is not None
    matched = None
    if count and _needs_count(query, row[1], row[2] > query.limit):
        (matched,) = run_on_session(session, *_statements(query, count=True))
    return _page(query, row, matched)


# -- one feature ----------------------------------------------------------------------
@lru_cache(maxsize=64)
def _item_sql(layer: Layer, crs_uri: str) -> Sql:
    feature = feature_text(layer.id_column, geometry_json(layer, served_crs()[crs_uri]), _properties(layer))
    stmt = layer.base.add_columns(feature).where(*layer.where, layer.id_column == bindparam("fid", type_=String))
    return compile_sql(stmt)


async def one_feature(reader: Reader, layer: Layer, feature_id: str, crs: ServedCrs | None = None) -> str | None:
    """One Feature object as GeoJSON text, or None."""
    row = await reader.one(_item_sql(layer, (crs or crs84()).uri), {"fid": feature_id})
    return None if row is None else row[0]


def one_feature_on(session: Session, layer: Layer, feature_id: str, crs: ServedCrs | None = None) -> str | None:
    row = run_on_session(session, _item_sql(layer, (crs or crs84()).uri), {"fid": feature_id})
    return None if row is None else row[0]


# -- extent ---------------------------------------------------------------------------
@lru_cache(maxsize=64)
def _extent_sql(layer: Layer) -> Sql:
    extent = func.ST_Extent(layer.geom)
    stmt = layer.base.add_columns(gf.ST_XMin(extent), gf.ST_YMin(extent), gf.ST_XMax(extent), gf.ST_YMax(extent))
    return compile_sql(stmt.where(*layer.where))


def _box(row: tuple | None) -> list[float] | None:
    if row is None or row[0] is None:
        return None
    return [round(v, 7) for v in row]


async def extent(reader: Reader, layer: Layer) -> list[float] | None:
    """The layer's bbox in lon/lat (EPSG:4490), or None when it is empty."""
    return _box(await reader.one(_extent_sql(layer)))


# -- rows (exports) -------------------------------------------------------------------
@dataclass(frozen=True)
class Rows:
    names: list[str]  # the property names, in order
    rows: list[tuple]  # (id, WKB geometry in the requested SRID, *properties)


def rows_on(session: Session, layer: Layer, *, names: Sequence[str] | None = None,
            filters: Sequence[tuple[str, Any]] = (), srid: int = STORAGE_SRID) -> Rows:
    """Every feature matching ``filters`` as rows (for files: Shapefile, Excel …), in id order.

    The geometry is WKB in ``srid`` (transformed in PostGIS), the property values as stored.
    """
    names = list(names) if names is not None else [p.name for p in layer.properties]
    geom = layer.geom if srid == STORAGE_SRID else gf.ST_Transform(layer.geom, srid)
    keys = tuple(key for key, _ in filters)
    stmt = (layer.base.add_columns(layer.id_column, gf.ST_AsBinary(geom), *[layer.prop[n].column for n in names])
            .where(*conditions(layer, keys)).order_by(layer.id_column))
    return Rows(names, rows_on_session(session, *bind_statement(stmt, filter_values(filters))))
