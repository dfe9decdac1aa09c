"""GeoJSON assembled in PostgreSQL and passed through as text.

Building a Python object per feature is what makes peer servers slow (tipg spends ~16 ms of
Python per 369-feature page); here the database returns each Feature, and a page's
``features`` array, as text, and the response splices that text in without parsing it.
"""

from __future__ import annotations

from collections.abc import Sequence

import orjson
from sqlalchemy import JSON, ColumnElement, Text, cast, func, literal_column
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.visitors import InternalTraversal


class JsonRecord(ColumnElement):
    """A JSON object of named values, as ``row_to_json`` of a one-row subselect.

    The same object ``json_build_object`` gives (keys in order, the same value encoding),
    in about two thirds of the time: PostgreSQL 15's ``json_build_object`` looks up every
    value's output function on every call, ``row_to_json`` once per row type.
    """

    __visit_name__ = "json_record"
    inherit_cache = True
    _traverse_internals = [
        ("names", InternalTraversal.dp_string_list),
        ("values", InternalTraversal.dp_clauseelement_tuple),
    ]
    type = JSON()

    def __init__(self, pairs: Sequence[tuple[str, ColumnElement]]) -> None:
        self.names = [key for key, _ in pairs]
        self.values = tuple(col for _, col in pairs)


@compiles(JsonRecord)
def _compile_json_record(element: JsonRecord, compiler, **kw) -> str:
    kw.pop("add_to_result_map", None)  # the inner columns are not result columns
    columns = ", ".join(
        f"{compiler.process(value, **kw)} AS {compiler.preparer.quote(name)}"
        for name, value in zip(element.names, element.values, strict=True)
    )
    return f"row_to_json((SELECT r FROM (SELECT {columns}) AS r))"


def properties_record(pairs: Sequence[tuple[str, ColumnElement]]) -> ColumnElement:
    """A feature's properties object (see :class:`JsonRecord`)."""
    return JsonRecord(pairs)


def feature_text(fid: ColumnElement, geometry_json: ColumnElement, properties: ColumnElement) -> ColumnElement:
    """A GeoJSON Feature as text, concatenated: no JSON value is parsed or rebuilt.

    ``geometry_json`` is ST_AsGeoJSON text, ``properties`` a JSON object (json or text);
    the id goes through ``to_json`` so it is quoted and escaped as JSON.
    """
    return (
        literal_column("""'{"type":"Feature","id":'""", Text)
        + cast(func.to_json(fid), Text)
        + literal_column("""',"geometry":'""", Text)
        + func.coalesce(geometry_json, literal_column("'null'", Text))
        + literal_column("""',"properties":'""", Text)
        + cast(properties, Text)
        + literal_column("'}'", Text)
    )


def feature_array_text(feature: ColumnElement, order_by: ColumnElement, where: ColumnElement | None = None
                       ) -> ColumnElement:
    """``[feature, …]`` as text in ``order_by`` order (``[]`` when there is none)."""
    agg = func.string_agg(feature, aggregate_order_by(literal_column("','", Text), order_by))
    if where is not None:
        agg = agg.filter(where)
    return func.coalesce(literal_column("'['", Text) + agg + literal_column("']'", Text), literal_column("'[]'", Text))


def splice(head: dict, key: str, json_text: str | bytes) -> bytes:
    """``head`` as JSON with ``key`` set to JSON text from the database, without re-parsing it."""
    raw = json_text.encode() if isinstance(json_text, str) else json_text
    return orjson.dumps(head)[:-1] + (b',"' if head else b'"') + key.encode() + b'":' + raw + b"}"


def feature_collection(head: dict, features_json: str | bytes) -> bytes:
    """A FeatureCollection: ``head`` (type, counts, links …) and the ``features`` text."""
    return splice({"type": "FeatureCollection", **head}, "features", features_json)

