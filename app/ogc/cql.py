"""OGC API – Features Part 3: CQL2 (text and JSON) → SQLAlchemy expressions.

pygeofilter parses; this module walks its AST and builds SQLAlchemy Core expressions
over the collection's queryables. Every literal becomes a bound parameter and every
property name is looked up in the queryables table, so no text from the request ever
reaches the SQL string. Literals are checked against the queryable's type here, so a
mismatch is a 400 that names the property rather than a database error.

Supported: AND/OR/NOT, = <> < <= > >=, BETWEEN, LIKE (% and _), IN, IS NULL, CASEI,
+ - * /, and the spatial predicates S_INTERSECTS, S_WITHIN, S_CONTAINS, S_DISJOINT,
S_TOUCHES, S_CROSSES, S_OVERLAPS, S_EQUALS with WKT/GeoJSON/BBOX literals in
``filter-crs`` (default CRS84). Spatial predicates are index-assisted in PostGIS; the
literal is transformed to the storage CRS once, here, never the column.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import orjson
import shapely
from geoalchemy2 import functions as gf
from lark.exceptions import LarkError
from pygeofilter import ast, values
from pygeofilter.parsers.cql2_json import parse as parse_cql2_json
from pygeofilter.parsers.cql2_text import parse as parse_cql2_text
from shapely.geometry import shape
from sqlalchemy import ColumnElement, and_, bindparam, func, literal, not_, or_, true
from sqlalchemy.types import LargeBinary

from spatial import STORAGE_SRID, reproject

from ..errors import InvalidParameter
from ..messages import message
from ..core.read.crs import ServedCrs, within_domain
from ..core.read.layers import Layer

MAX_FILTER_CHARS = 20_000
MAX_DEPTH = 40
GEOMETRY_NAMES = {"geometry", "geom"}

_SPATIAL = {
    ast.GeometryIntersects: gf.ST_Intersects,
    ast.GeometryWithin: gf.ST_Within,
    ast.GeometryContains: gf.ST_Contains,
    ast.GeometryDisjoint: gf.ST_Disjoint,
    ast.GeometryTouches: gf.ST_Touches,
    ast.GeometryCrosses: gf.ST_Crosses,
    ast.GeometryOverlaps: gf.ST_Overlaps,
    ast.GeometryEquals: gf.ST_Equals,
}
_COMPARE = {
    ast.Equal: lambda a, b: a == b,
    ast.NotEqual: lambda a, b: a != b,
    ast.LessThan: lambda a, b: a < b,
    ast.LessEqual: lambda a, b: a <= b,
    ast.GreaterThan: lambda a, b: a > b,
    ast.GreaterEqual: lambda a, b: a >= b,
}
_ARITHMETIC = {
    ast.Add: lambda a, b: a + b,
    ast.Sub: lambda a, b: a - b,
    ast.Mul: lambda a, b: a * b,
    ast.Div: lambda a, b: a / b,
}


@dataclass(frozen=True)
class _Typed:
    expr: ColumnElement
    kind: str | None  # the queryable's JSON-schema type; None for a bare literal
    name: str


class FilterError(InvalidParameter):
    def __init__(self, reason: str) -> None:
        super().__init__("filter", reason)


def parse(text: str, lang: str) -> ast.Node:
    """Parse ``filter`` in ``filter-lang`` (cql2-text or cql2-json) with pygeofilter."""
    if len(text) > MAX_FILTER_CHARS:
        raise FilterError(message("cql_too_long", limit=MAX_FILTER_CHARS))
    try:
        if lang == "cql2-json":
            try:
                doc = orjson.loads(text)
            except orjson.JSONDecodeError as exc:
                raise FilterError(message("cql_bad_json", reason=message("cql_syntax_at", column=exc.pos + 1))) from None
            if _json_depth(doc) > 3 * MAX_DEPTH:  # an operator nests as {"args": [ … ]}: three levels a step
                raise FilterError(message("cql_too_deep", limit=MAX_DEPTH))
            return parse_cql2_json(_bbox_to_polygon(doc))
        return parse_cql2_text(text)
    except FilterError:
        raise
    except RecursionError:
        raise FilterError(message("cql_too_deep", limit=MAX_DEPTH)) from None
    except LarkError as exc:  # the parser's English never reaches a user: where it stopped, in Chinese
        column = getattr(exc, "column", None)
        reason = message("cql_syntax_at", column=column) if isinstance(column, int) and column > 0 \
            else message("cql_syntax_unknown")
        raise FilterError(message("cql_syntax", reason=reason)) from None
    except (ValueError, TypeError, KeyError, IndexError, AttributeError):
        raise FilterError(message("cql_syntax", reason=message("cql_syntax_unknown"))) from None


def _json_depth(doc: Any) -> int:
    """How deep a parsed JSON document nests (iteratively: the document may be deeper than the stack)."""
    deepest, stack = 0, [(doc, 1)]
    while stack:
        node, depth = stack.pop()
        deepest = max(deepest, depth)
        children = node.values() if isinstance(node, dict) else node if isinstance(node, list) else ()
        stack.extend((child, depth + 1) for child in children if isinstance(child, (dict, list)))
    return deepest


def _short(exc: Exception) -> str:
    first = str(exc).strip().splitlines()
    return first[0][:200] if first else type(exc).__name__


def _bbox_to_polygon(node: Any) -> Any:
    """CQL2-JSON ``{"bbox": [minx, miny, maxx, maxy]}`` as a polygon.

    pygeofilter 0.4 builds ``Envelope(*bbox)`` whose fields are (x1, x2, y1, y2), which
    swaps miny and maxx; rewriting the literal as GeoJSON avoids that.
    """
    if isinstance(node, dict):
        if set(node) == {"bbox"} and isinstance(node["bbox"], list):
            b = node["bbox"]
            if len(b) == 6:
                b = [b[0], b[1], b[3], b[4]]
            if len(b) != 4 or not all(isinstance(v, (int, float)) for v in b):
                raise FilterError(message("cql_bad_bbox"))
            x1, y1, x2, y2 = b
            return {"type": "Polygon", "coordinates": [[[x1, y1], [x2, y1], [x2, y2], [x1, y2], [x1, y1]]]}
        return {k: _bbox_to_polygon(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_bbox_to_polygon(v) for v in node]
    return node


class Translator:
    """One filter's AST → a SQLAlchemy boolean expression for ``collection``."""

    def __init__(self, collection: Layer, filter_crs: ServedCrs) -> None:
        self.collection = collection
        self.filter_crs = filter_crs

    def __call__(self, node: ast.Node) -> ColumnElement:
        return self.condition(node, 0)

    # -- conditions -------------------------------------------------------------------
    def condition(self, node: Any, depth: int) -> ColumnElement:
        if depth > MAX_DEPTH:
            raise FilterError(message("cql_too_deep", limit=MAX_DEPTH))
        d = depth + 1
        if isinstance(node, ast.And):
            return and_(self.condition(node.lhs, d), self.condition(node.rhs, d))
        if isinstance(node, ast.Or):
            return or_(self.condition(node.lhs, d), self.condition(node.rhs, d))
        if isinstance(node, ast.Not):
            return not_(self.condition(node.sub_node, d))
        if isinstance(node, ast.Include):
            return not_(true()) if node.not_ else true()
        if type(node) in _COMPARE:
            lhs, rhs = self.operands(node.lhs, node.rhs, d)
            return _COMPARE[type(node)](lhs, rhs)
        if isinstance(node, ast.Between):
            lhs, low = self.operands(node.lhs, node.low, d)
            _, high = self.operands(node.lhs, node.high, d)
            expr = lhs.between(low, high)
            return not_(expr) if node.not_ else expr
        if isinstance(node, ast.Like):
            lhs = self.scalar(node.lhs, d, want="string")
            if not isinstance(node.pattern, str):
                raise FilterError(message("cql_like_pattern"))
            # CQL2 wildcards (% and _) and escape (\) are PostgreSQL's own.
            pattern = literal(node.pattern)
            expr = lhs.ilike(pattern, escape="\\") if node.nocase else lhs.like(pattern, escape="\\")
            return not_(expr) if node.not_ else expr
        if isinstance(node, ast.In):
            lhs = self.typed(node.lhs, d)
            options = [self.value_for(lhs, v) for v in node.sub_nodes]
            expr = lhs.expr.in_(options)
            return not_(expr) if node.not_ else expr
        if isinstance(node, ast.IsNull):
            lhs = self.scalar(node.lhs, d)
            return lhs.is_not(None) if node.not_ else lhs.is_(None)
        if type(node) in _SPATIAL:
            a, b = self.spatial(node.lhs), self.spatial(node.rhs)
            return _SPATIAL[type(node)](a, b)
        if isinstance(node, ast.BBox):
            box = self.literal_geometry(
                {"type": "Polygon", "coordinates": [[[node.minx, node.miny], [node.maxx, node.miny],
                                                     [node.maxx, node.maxy], [node.minx, node.maxy],
                                                     [node.minx, node.miny]]]}
            )
            return gf.ST_Intersects(self.spatial(node.lhs), box)
        if isinstance(node, bool):
            return true() if node else not_(true())
        raise FilterError(message("cql_unsupported", what=_describe(node)))

    # -- scalar operands --------------------------------------------------------------
    def operands(self, lhs: Any, rhs: Any, depth: int) -> tuple[ColumnElement, ColumnElement]:
        """Both sides of a comparison; a bare literal is typed after the other side."""
        if _is_literal(lhs) and not _is_literal(rhs):
            b = self.typed(rhs, depth)
            return self.value_for(b, lhs), b.expr
        a = self.typed(lhs, depth)
        if _is_literal(rhs):
            return a.expr, self.value_for(a, rhs)
        return a.expr, self.typed(rhs, depth).expr

    def scalar(self, node: Any, depth: int, want: str | None = None) -> ColumnElement:
        return self.typed(node, depth, want).expr

    def typed(self, node: Any, depth: int, want: str | None = None) -> _Typed:
        if isinstance(node, ast.Attribute):
            q = self.collection.queryable.get(node.name)
            if q is None:
                raise FilterError(
                    message("cql_unknown_property", name=node.name, names="、".join(self.collection.queryable))
                )
            if want == "string" and q.type != "string":
                raise FilterError(message("cql_not_text", name=node.name))
            return _Typed(q.column, q.type, q.name)
        if isinstance(node, ast.Function):
            if node.name == "lower" and len(node.arguments) == 1:
                arg = node.arguments[0]
                if isinstance(arg, str):
                    return _Typed(literal(arg.lower()), "string", "CASEI")
                inner = self.typed(arg, depth + 1, want="string")
                return _Typed(func.lower(inner.expr), "string", inner.name)
            raise FilterError(message("cql_unsupported", what=message("cql_function", name=node.name)))
        if type(node) in _ARITHMETIC:
            a = self.numeric(node.lhs, depth + 1)
            b = self.numeric(node.rhs, depth + 1)
            if isinstance(node, ast.Div):
                if isinstance(node.rhs, (int, float)) and node.rhs == 0:
                    raise FilterError(message("cql_division_by_zero"))
                b = func.nullif(b, 0)  # a divisor that is zero in some row: NULL (no match), not a database error
            return _Typed(_ARITHMETIC[type(node)](a, b), "number", message("cql_arithmetic_expression"))
        if _is_literal(node):
            return _Typed(literal(node), None, message("cql_value"))
        raise FilterError(message("cql_unsupported", what=_describe(node)))

    def numeric(self, node: Any, depth: int) -> ColumnElement:
        if isinstance(node, (bool, str)):
            raise FilterError(message("cql_type", name=message("cql_arithmetic"), expected=message("cql_expected_number"),
                                      value=node))
        if isinstance(node, (int, float)):
            return literal(_number(node))
        t = self.typed(node, depth)
        if t.kind not in {"number", "integer"}:
            raise FilterError(message("cql_type", name=t.name, expected=message("cql_expected_number"),
                                      value=message("cql_not_numeric_property")))
        return t.expr

    def value_for(self, other: _Typed, value: Any) -> ColumnElement:
        """A bound literal checked against the queryable it is compared with."""
        if other.kind == "string":
            if not isinstance(value, str):
                raise FilterError(message("cql_type", name=other.name, expected=message("cql_expected_text"), value=value))
            return literal(value)
        if other.kind in {"number", "integer"}:
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise FilterError(message("cql_type", name=other.name, expected=message("cql_expected_number"), value=value))
            return literal(_number(value))
        if other.kind == "boolean" and not isinstance(value, bool):
            raise FilterError(message("cql_type", name=other.name, expected=message("cql_expected_boolean"), value=value))
        return literal(value)

    # -- geometry ---------------------------------------------------------------------
    def spatial(self, node: Any) -> ColumnElement:
        if isinstance(node, ast.Attribute):
            if node.name not in GEOMETRY_NAMES:
                raise FilterError(message("cql_not_geometry", name=node.name))
            return self.collection.geom
        if isinstance(node, (values.Geometry, values.Envelope)):
            return self.literal_geometry(node.geometry)
        if isinstance(node, ast.Function) and node.name == "bbox":
            args = node.arguments
            if len(args) == 6:
                args = [args[0], args[1], args[3], args[4]]
            if len(args) != 4 or not all(isinstance(v, (int, float)) for v in args):
                raise FilterError(message("cql_bad_bbox"))
            x1, y1, x2, y2 = args
            return self.literal_geometry(
                {"type": "Polygon", "coordinates": [[[x1, y1], [x2, y1], [x2, y2], [x1, y2], [x1, y1]]]}
            )
        raise FilterError(message("cql_unsupported", what=_describe(node)))

    def literal_geometry(self, geojson: dict) -> ColumnElement:
        """A geometry literal in ``filter-crs`` → a bound WKB parameter in EPSG:4490."""
        try:
            geom = shape(geojson)
        except (ValueError, TypeError, KeyError, AttributeError, shapely.errors.ShapelyError) as exc:
            raise FilterError(message("cql_bad_geometry", reason=_short(exc))) from None
        if geom.is_empty:
            raise FilterError(message("cql_bad_geometry", reason=message("cql_empty_geometry")))
        if not np.isfinite(shapely.get_coordinates(geom)).all():
            raise FilterError(message("cql_bad_geometry", reason=message("coordinates_not_finite")))
        if self.filter_crs.flip:
            geom = shapely.transform(geom, lambda xy: xy[:, ::-1])
        if not within_domain(self.filter_crs.srid, *geom.bounds):
            raise FilterError(message("cql_bad_geometry",
                                      reason=message("coordinates_outside_crs", crs=self.filter_crs.name)))
        if self.filter_crs.srid not in (STORAGE_SRID, 4326):
            geom = reproject(geom, self.filter_crs.srid, STORAGE_SRID)
        if not shapely.is_valid(geom):
            geom = shapely.make_valid(geom)
        wkb = bindparam(None, shapely.to_wkb(geom), type_=LargeBinary, unique=True)
        return gf.ST_GeomFromWKB(wkb, STORAGE_SRID)


MAX_INTEGER = 2**63 - 1


def _number(value: int | float) -> int | float:
    """A numeric literal the database can hold: finite, and an integer within bigint."""
    if isinstance(value, float) and not math.isfinite(value) or isinstance(value, int) and abs(value) > MAX_INTEGER:
        shown = str(value) if isinstance(value, float) or len(str(value)) <= 30 else str(value)[:30] + "…"
        raise FilterError(message("cql_number_range", value=shown))
    return value


def _is_literal(node: Any) -> bool:
    return isinstance(node, (str, int, float, bool, dt.date, dt.datetime))


def _describe(node: Any) -> str:
    if isinstance(node, ast.Node):
        return type(node).__name__
    return repr(node)[:80]


# filter-lang values: CQL2's names, and the drafts' names GDAL 3.6 and QGIS 3.22 send
LANGUAGES = {"cql2-text": "cql2-text", "cql-text": "cql2-text", "cql2-json": "cql2-json", "cql-json": "cql2-json"}


def language(raw: str | None) -> str:
    """The ``filter-lang`` asked for, as ``cql2-text`` or ``cql2-json`` (the default: text); else a 400."""
    lang = LANGUAGES.get((raw or "cql2-text").lower())
    if lang is None:
        raise InvalidParameter("filter-lang", message("ogc_filter_lang", value=raw))
    return lang


def to_sql(collection: Layer, text: str, lang: str, filter_crs: ServedCrs) -> ColumnElement:
    """``filter`` → a WHERE expression (400 with a Chinese reason when it is wrong)."""
    return Translator(collection, filter_crs)(parse(text, lang))
