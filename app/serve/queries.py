"""Read queries. GeoJSON is assembled in PostgreSQL (json_agg) and passed through as text.

Building per-feature Python objects is what makes peer servers slow; here the
database returns the ``features`` array ready to send.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from geoalchemy2 import functions as gf
from sqlalchemy import JSON, ColumnElement, Select, Text, and_, case, cast, func, literal_column, select
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session, aliased
from sqlalchemy.sql.visitors import InternalTraversal

from spatial import STORAGE_SRID

from ..enums import Classification, LabelledEnum, ParcelStatus, RenewalMode, RenewalType, ReviewStatus, Stage, UnitKind
from ..models import Enterprise, Parcel, RenewalBlock, Unit

COORD_DECIMALS = 7  # ~1 cm in lon/lat: finer than any parcel survey
# Exterior rings are written counter-clockwise (RFC 7946 §3.1.6) with ST_ForcePolygonCCW,
# and without the legacy "crs" member (options 0).


@dataclass(frozen=True)
class BBox:
    """A lon/lat box in EPSG:4490 (minx, miny, maxx, maxy)."""

    minx: float
    miny: float
    maxx: float
    maxy: float


@dataclass(frozen=True)
class Page:
    features_json: str
    number_returned: int
    number_matched: int


def label_of(column: ColumnElement, enum_cls: type[LabelledEnum]) -> ColumnElement:
    """The Chinese label of an enum code column, from the single table in ``app.enums``."""
    return case({m.value: m.label for m in enum_cls}, value=column, else_=None)


def bbox_filter(geom: ColumnElement, bbox: BBox) -> ColumnElement:
    # The envelope is built in the storage CRS so the GiST index on geom is used.
    envelope = gf.ST_MakeEnvelope(bbox.minx, bbox.miny, bbox.maxx, bbox.maxy, STORAGE_SRID)
    return and_(geom.op("&&")(envelope), gf.ST_Intersects(geom, envelope))


def feature_object(fid: ColumnElement, geometry_json: ColumnElement, properties: ColumnElement) -> ColumnElement:
    """A GeoJSON Feature built in SQL from an id, geometry text (ST_AsGeoJSON) and a properties object."""
    return func.json_build_object(
        literal_column("'type'"),
        literal_column("'Feature'"),
        literal_column("'id'"),
        fid,
        literal_column("'geometry'"),
        cast(geometry_json, JSON),
        literal_column("'properties'"),
        properties,
    )


def properties_object(pairs: Sequence[tuple[str, ColumnElement]]) -> ColumnElement:
    args: list = []
    for key, col in pairs:
        args.extend([literal_column(f"'{key}'"), col])
    return func.json_build_object(*args)


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
    """The properties object (as :func:`properties_object`), built faster: see :class:`JsonRecord`."""
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


def unit_properties() -> list[tuple[str, ColumnElement]]:
    return [
        ("code", Unit.code),
        ("name", Unit.name),
        ("kind", Unit.kind),
        ("kind_label", label_of(Unit.kind, UnitKind)),
        ("area_mu", Unit.area_mu),
        ("is_schematic", Unit.is_schematic),
    ]


def block_properties() -> list[tuple[str, ColumnElement]]:
    parcel_count = (
        select(func.count(Parcel.id)).where(Parcel.block_id == RenewalBlock.id).correlate(RenewalBlock).scalar_subquery()
    )
    return [
        ("code", RenewalBlock.code),
        ("name", RenewalBlock.name),
        ("unit_code", Unit.code),
        ("unit_name", Unit.name),
        ("designated_year", RenewalBlock.designated_year),
        ("stage", RenewalBlock.stage),
        ("stage_label", label_of(RenewalBlock.stage, Stage)),
        ("review_status", RenewalBlock.review_status),
        ("review_status_label", label_of(RenewalBlock.review_status, ReviewStatus)),
        ("area_mu", RenewalBlock.area_mu),
        ("four_east", RenewalBlock.four_east),
        ("four_south", RenewalBlock.four_south),
        ("four_west", RenewalBlock.four_west),
        ("four_north", RenewalBlock.four_north),
        ("planned_far", RenewalBlock.planned_far),
        ("planned_new_floor_area_m2", RenewalBlock.planned_new_floor_area_m2),
        ("approval_doc_no", RenewalBlock.approval_doc_no),
        ("approval_date", RenewalBlock.approval_date),
        ("parcel_count", parcel_count),
    ]


_block_of_parcel = aliased(RenewalBlock)


def parcel_properties() -> list[tuple[str, ColumnElement]]:
    return [
        ("code", Parcel.code),
        ("unit_code", Unit.code),
        ("unit_name", Unit.name),
        ("block_code", _block_of_parcel.code),
        ("block_name", _block_of_parcel.name),
        ("enterprise_name", Enterprise.name),
        ("enterprise_credit_code", Enterprise.credit_code),
        ("land_area_mu", Parcel.land_area_mu),
        ("floor_area_m2", Parcel.floor_area_m2),
        ("far", Parcel.far),
        ("planned_floor_area_m2", Parcel.planned_floor_area_m2),
        ("planned_far", Parcel.planned_far),
        ("land_use", Parcel.land_use),
        ("classification", Parcel.classification),
        ("classification_label", label_of(Parcel.classification, Classification)),
        ("renewal_mode", Parcel.renewal_mode),
        ("renewal_mode_label", label_of(Parcel.renewal_mode, RenewalMode)),
        ("renewal_type", Parcel.renewal_type),
        ("renewal_type_label", label_of(Parcel.renewal_type, RenewalType)),
        ("status", Parcel.status),
        ("status_label", label_of(Parcel.status, ParcelStatus)),
    ]


@dataclass(frozen=True)
class Layer:
    """A served layer: its base select (with joins), id column, geometry and properties."""

    name: str
    base: Select
    id_column: ColumnElement
    geom: ColumnElement
    properties: list[tuple[str, ColumnElement]]


@lru_cache(maxsize=1)
def layers() -> dict[str, Layer]:
    """The served layers, built once: SQLAlchemy constructs are immutable and reusable across requests."""
    return {
        "units": Layer("units", select().select_from(Unit), Unit.code, Unit.geom, unit_properties()),
        "blocks": Layer(
            "blocks",
            select().select_from(RenewalBlock).join(Unit, RenewalBlock.unit_id == Unit.id),
            RenewalBlock.code,
            RenewalBlock.geom,
            block_properties(),
        ),
        "parcels": Layer(
            "parcels",
            select()
            .select_from(Parcel)
            .join(Unit, Parcel.unit_id == Unit.id)
            .outerjoin(_block_of_parcel, Parcel.block_id == _block_of_parcel.id)
            .outerjoin(Enterprise, Parcel.enterprise_id == Enterprise.id),
            Parcel.code,
            Parcel.geom,
            parcel_properties(),
        ),
    }


def feature_page(
    session: Session,
    layer: Layer,
    where: Sequence[ColumnElement] = (),
    limit: int | None = None,
    offset: int = 0,
) -> Page:
    """One page of a layer as a GeoJSON ``features`` array (text), with counts."""
    rows = (
        layer.base.add_columns(
            layer.id_column.label("fid"),
            gf.ST_AsGeoJSON(gf.ST_ForcePolygonCCW(layer.geom), COORD_DECIMALS, 0).label("geometry"),
            properties_object(layer.properties).label("properties"),
        )
        .where(*where)
        .order_by(layer.id_column)
        .limit(limit)
        .offset(offset)
        .subquery()
    )
    feature = feature_object(rows.c.fid, rows.c.geometry, rows.c.properties)
    agg = select(
        cast(func.coalesce(func.json_agg(feature), literal_column("'[]'::json")), Text), func.count()
    ).select_from(rows)
    features_json, returned = session.execute(agg).one()
    if limit is None or (offset == 0 and returned < limit):
        matched = returned
    else:
        matched = session.scalar(layer.base.add_columns(func.count()).where(*where))
    return Page(features_json, returned, matched)
