"""Items: one statement builds the page's ``features`` array in PostgreSQL, as text.

Paging is keyset, not offset: ``next`` carries the sort key of the page's last feature
and ``prev`` that of its first, so rows inserted or deleted elsewhere never shift a
page (no feature is skipped or repeated while a client walks the links). The feature
id (``code``, unique) closes every sort key so the order is total.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import orjson
from geoalchemy2 import functions as gf
from sqlalchemy import (
    ColumnElement,
    String,
    Text,
    and_,
    bindparam,
    cast,
    false,
    func,
    literal,
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
    number_matched: int | None
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


def _after(keys: Sequence[SortKey], values: tuple, reverse: bool) -> ColumnElement:
    """Rows strictly after ``values`` in the sort order (NULLs last); reversed for ``prev``."""
    pred: ColumnElement | None = None
    for key, value in reversed(list(zip(keys, values, strict=True))):
        col = key.column
        forward = key.descending == reverse  # ascending in the direction walked
        if value is None:
            beyond = false() if not reverse else col.is_not(None)
            equal = col.is_(None)
        else:
            v = cast(literal(value), _type_of(key))
            strictly = col > v if forward else col < v
            beyond = or_(strictly, col.is_(None)) if not reverse else strictly
            equal = col == v
        pred = beyond if pred is None else or_(beyond, and_(equal, pred))
    assert pred is not None
    return pred


def _type_of(key: SortKey):
    from sqlalchemy import BigInteger, Boolean, Numeric

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


def page_statement(
    collection: Collection,
    where: Sequence[ColumnElement],
    keys: Sequence[SortKey],
    limit: int,
    cursor: Cursor | None,
    crs: ServedCrs,
):
    """One statement: the page's features as JSON text, how many, and the keys of its ends."""
    layer = collection.layer
    reverse = cursor is not None and cursor.backwards
    conditions = [*collection.where, *where]
    if cursor is not None:
        conditions.append(_after(keys, cursor.values, reverse))
    key_text = func.json_build_array(*[cast(k.column, Text) for k in keys])
    rows = (
        layer.base.add_columns(
            layer.id_column.label("fid"),
            geometry_json(layer.geom, crs).label("geometry"),
            properties_record(layer.properties).label("properties"),
            cast(key_text, Text).label("sort_key"),
            func.row_number().over(order_by=_order(keys, reverse)).label("rn"),
        )
        .where(*conditions)
        .order_by(*_order(keys, reverse))
        .limit(limit + 1)  # one more tells whether there is a next page, without counting
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


def count_statement(collection: Collection, where: Sequence[ColumnElement]):
    return collection.layer.base.add_columns(func.count()).where(*collection.where, *where)


async def feature_page(
    reader: Reader,
    collection: Collection,
    where: Sequence[ColumnElement],
    keys: Sequence[SortKey],
    limit: int,
    cursor: Cursor | None,
    crs: ServedCrs,
    count: bool = True,
) -> Page:
    row = await reader.one(*bind_statement(page_statement(collection, where, keys, limit, cursor, crs)))
    assert row is not None  # an aggregate always returns one row
    features_json, returned, fetched, walk_first, walk_last = row
    has_more = fetched > limit
    reverse = cursor is not None and cursor.backwards
    first, last = (walk_last, walk_first) if reverse else (walk_first, walk_last)
    matched: int | None = None
    if count:
        if cursor is None and not has_more:
            matched = returned
        else:
            counted = await reader.one(*bind_statement(count_statement(collection, where)))
            assert counted is not None
            matched = counted[0]
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
