"""Items: one statement builds the page's ``features`` array in PostgreSQL, as text.

Paging is keyset, not offset: ``next`` carries the sort key of the page's last feature
and ``prev`` that of its first, so rows inserted or deleted elsewhere never shift a
page (no feature is skipped or repeated while a client walks the links). The feature
id (``code``, unique) closes every sort key so the order is total.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable, Sequence
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

from spatial import STORAGE_SRID

from ..errors import InvalidParameter
from ..messages import message
from ..serve.queries import feature_array_text, feature_text, properties_record
from .collections import Collection, Queryable, collections
from .crs import ServedCrs, served_crs
from .pg import Reader, Sql, bind_statement, compile_sql


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
class Page:
    features_json: str
    number_returned: int
    number_matched: int
    first_key: tuple | None
    last_key: tuple | None
    has_more: bool  # more features beyond the page in the direction walked


def parse_sortby(collection: Collection, raw: str | None) -> list[SortKey]:
    """``sortby=-far,+code``: queryable names, ``-`` descending; the id closes the order."""
    keys: list[SortKey] = []
    if raw:
        for part in raw.split(","):
            part = part.strip()
            if not part:
                continue
            desc = part.startswith("-")
            name = part.lstrip("+-").strip()
            if name.endswith(" DESC") or name.endswith(" ASC"):
                desc = name.endswith(" DESC")
                name = name.rsplit(" ", 1)[0]
            q: Queryable | None = collection.queryables.get(name)
            if q is None:
                raise InvalidParameter(
                    "sortby", message("sortby_unknown", name=name, names="、".join(collection.queryables))
                )
            if q.column is collection.id_column:
                break  # sorting by the id: it is the closing key anyway
            keys.append(SortKey(q.column, desc, name, _sql_type(q)))
    keys.append(SortKey(collection.id_column, False, "id", "text"))
    return keys


def _sql_type(q: Queryable) -> str:
    return {"number": "numeric", "integer": "bigint", "boolean": "boolean"}.get(q.type, "text")


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


def geometry_json(geom: ColumnElement, crs: ServedCrs) -> ColumnElement:
    """GeoJSON geometry text in ``crs``: transform the output only, swap axes if the CRS says so."""
    g = gf.ST_ForcePolygonCCW(geom)  # RFC 7946 ring order, in east/north space
    if crs.srid not in (STORAGE_SRID, 4326):
        g = gf.ST_Transform(g, crs.srid)
    if crs.flip:
        g = gf.ST_FlipCoordinates(g)
    return gf.ST_AsGeoJSON(g, crs.decimals, 0)


# -- a page request: its shape (the SQL text) and its values --------------------------
@dataclass(frozen=True)
class Box:
    """A ``bbox``: the four numbers in east/north order, in the CRS ``srid`` (4490 for lon/lat)."""

    minx: float
    miny: float
    maxx: float
    maxy: float
    srid: int


@dataclass(frozen=True)
class PageShape:
    """What decides the page statement's SQL text; every request value is a bound parameter.

    Two requests of the same shape share one compiled statement (and, once psycopg has
    seen it a few times, one server-side prepared statement).
    """

    collection_id: str
    crs_uri: str
    sort: tuple[tuple[str, bool], ...]  # (queryable name or "id", descending)
    filters: tuple[str, ...] = ()  # queryables compared with ``=``, bound as f0, f1 …
    box_srid: int | None = None  # bound as b0…b3 (and b_step when projected)
    cursor: tuple[bool, tuple[bool, ...]] | None = None  # (backwards, which values are NULL)


@dataclass(frozen=True)
class PageQuery:
    shape: PageShape
    values: dict[str, Any]
    limit: int
    cursor: Cursor | None
    cql: ColumnElement | None = None  # a CQL2 filter (its own bound literals)


def page_query(
    collection: Collection,
    crs: ServedCrs,
    keys: Sequence[SortKey],
    limit: int,
    cursor: Cursor | None = None,
    filters: Sequence[tuple[Queryable, Any]] = (),
    box: Box | None = None,
    cql: ColumnElement | None = None,
) -> PageQuery:
    values: dict[str, Any] = {"page_limit": limit, "fetch_limit": limit + 1}
    values.update({f"f{i}": value for i, (_, value) in enumerate(filters)})
    if box is not None:
        values.update(b0=box.minx, b1=box.miny, b2=box.maxx, b3=box.maxy)
        if box.srid != STORAGE_SRID:
            # A projected box's edges bend in lon/lat: densify before transforming.
            values["b_step"] = max(box.maxx - box.minx, box.maxy - box.miny) / 32 or 1.0
    if cursor is not None:
        values.update({f"k{i}": v for i, v in enumerate(cursor.values) if v is not None})
    shape = PageShape(
        collection.id,
        crs.uri,
        tuple((k.name, k.descending) for k in keys),
        tuple(q.name for q, _ in filters),
        None if box is None else box.srid,
        None if cursor is None else (cursor.backwards, tuple(v is None for v in cursor.values)),
    )
    return PageQuery(shape, values, limit, cursor, cql)


def _sort_keys(collection: Collection, sort: Sequence[tuple[str, bool]]) -> list[SortKey]:
    keys = []
    for name, descending in sort:
        if name == "id":
            keys.append(SortKey(collection.id_column, descending, name, "text"))
        else:
            q = collection.queryables[name]
            keys.append(SortKey(q.column, descending, name, _sql_type(q)))
    return keys


def _conditions(shape: PageShape, collection: Collection, cql: ColumnElement | None) -> list[ColumnElement]:
    out = [*collection.where]
    for i, name in enumerate(shape.filters):
        q = collection.queryables[name]
        out.append(q.column == bindparam(f"f{i}", type_=q.column.type))
    if shape.box_srid is not None:
        geom = collection.layer.geom
        envelope = gf.ST_MakeEnvelope(*(bindparam(f"b{i}", type_=Float) for i in range(4)), shape.box_srid)
        if shape.box_srid != STORAGE_SRID:
            envelope = gf.ST_Transform(gf.ST_Segmentize(envelope, bindparam("b_step", type_=Float)), STORAGE_SRID)
        out.extend([geom.op("&&")(envelope), gf.ST_Intersects(geom, envelope)])
    if cql is not None:
        out.append(cql)
    return out


def page_statement(shape: PageShape, cql: ColumnElement | None = None):
    """One statement: the page's features as JSON text, how many, and the keys of its ends."""
    collection = collections()[shape.collection_id]
    layer = collection.layer
    keys = _sort_keys(collection, shape.sort)
    reverse = shape.cursor is not None and shape.cursor[0]
    conditions = _conditions(shape, collection, cql)
    if shape.cursor is not None:
        conditions.append(_after(keys, shape.cursor[1], reverse))
    key_text = func.json_build_array(*[cast(k.column, Text) for k in keys])
    limit = bindparam("page_limit", type_=Integer)
    rows = (
        layer.base.add_columns(
            layer.id_column.label("fid"),
            geometry_json(layer.geom, served_crs()[shape.crs_uri]).label("geometry"),
            properties_record(layer.properties).label("properties"),
            cast(key_text, Text).label("sort_key"),
            func.row_number().over(order_by=_order(keys, reverse)).label("rn"),
        )
        .where(*conditions)
        .order_by(*_order(keys, reverse))
        .limit(bindparam("fetch_limit", type_=Integer))  # one more tells whether a next page exists
        .subquery()
    )
    feature = feature_text(rows.c.fid, rows.c.geometry, rows.c.properties)
    on_page = rows.c.rn <= limit
    order = rows.c.rn.desc() if reverse else rows.c.rn
    return select(
        feature_array_text(feature, order, on_page),
        func.count().filter(on_page),
        func.count(),
        func.min(rows.c.sort_key).filter(rows.c.rn == 1),
        # the key of the page's last row in walk order
        func.array_agg(aggregate_order_by(rows.c.sort_key, rows.c.rn.desc()), type_=ARRAY(Text))
        .filter(on_page)
        .self_group()[1],
    ).select_from(rows)


def count_statement(shape: PageShape, cql: ColumnElement | None = None):
    """numberMatched: the page's filters without its cursor."""
    collection = collections()[shape.collection_id]
    return collection.layer.base.add_columns(func.count()).where(*_conditions(shape, collection, cql))


@lru_cache(maxsize=256)
def _page_sql(shape: PageShape) -> Sql:
    return compile_sql(page_statement(shape), prepare=None)


@lru_cache(maxsize=256)
def _count_sql(shape: PageShape) -> Sql:
    return compile_sql(count_statement(shape), prepare=None)


async def _run(reader: Reader, query: PageQuery, cached: Callable[[PageShape], Sql],
               build: Callable[[PageShape, ColumnElement | None], Any]) -> tuple:
    if query.cql is None:
        row = await reader.one(cached(query.shape), query.values)
    else:  # a CQL2 filter: SQLAlchemy's cache key is the shape
        row = await reader.one(*bind_statement(build(query.shape, query.cql), query.values))
    assert row is not None  # aggregates: always one row
    return row


async def feature_page(reader: Reader, query: PageQuery) -> Page:
    features_json, returned, fetched, walk_first, walk_last = await _run(reader, query, _page_sql, page_statement)
    has_more = fetched > query.limit
    reverse = query.cursor is not None and query.cursor.backwards
    first, last = (walk_last, walk_first) if reverse else (walk_first, walk_last)
    if query.cursor is None and not has_more:
        matched = returned
    else:
        (matched,) = await _run(reader, query, _count_sql, count_statement)
    return Page(
        features_json,
        returned,
        matched,
        tuple(orjson.loads(first)) if first else None,
        tuple(orjson.loads(last)) if last else None,
        has_more,
    )


@lru_cache(maxsize=64)
def _item_sql(collection_id: str, crs_uri: str) -> Sql:
    layer = collections()[collection_id].layer
    feature = feature_text(
        layer.id_column, geometry_json(layer.geom, served_crs()[crs_uri]), properties_record(layer.properties)
    )
    stmt = layer.base.add_columns(feature).where(
        *collections()[collection_id].where, layer.id_column == bindparam("fid", type_=String)
    )
    return compile_sql(stmt)


async def one_feature(reader: Reader, collection: Collection, feature_id: str, crs: ServedCrs) -> str | None:
    """One Feature object as GeoJSON text, or None."""
    row = await reader.one(_item_sql(collection.id, crs.uri), {"fid": feature_id})
    return None if row is None else row[0]
