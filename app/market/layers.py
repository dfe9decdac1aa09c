"""The flagged parcels as a private layer of the shared read path (app.core.read): ``/api/market/flags``, the
map's 转让租赁预警 layer. A parcel is a feature when a record about it has a flag; its properties count the
flags (and those still open) and list their sentences."""

from __future__ import annotations

from functools import lru_cache

from sqlalchemy import Integer, func, select
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.orm import Session

from ..core.read import sql
from ..core.read.layers import Layer, Prop, param
from ..models import Parcel, Unit
from .models import MarketFlag, MarketRecordParcel

PAGE_MAX = 5_000


def _flags_of_parcel():
    """The flags of every record about the parcel (Parcel correlated)."""
    return (select(MarketFlag).join(MarketRecordParcel, MarketRecordParcel.record_id == MarketFlag.record_id)
            .where(MarketRecordParcel.parcel_id == Parcel.id).correlate(Parcel))


@lru_cache(maxsize=1)
def flagged_parcels() -> Layer:
    flags = _flags_of_parcel().subquery()
    count = select(func.count()).select_from(flags).scalar_subquery()
    open_count = select(func.count()).select_from(flags).where(flags.c.referral_id.is_(None)).scalar_subquery()
    texts = select(func.coalesce(func.json_agg(aggregate_order_by(flags.c.text, flags.c.id)),
                                 func.json_build_array())).select_from(flags).scalar_subquery()
    return Layer(
        id="market_flagged_parcels",
        title="转让租赁预警宗地",
        description="转让与租赁记录有预警的宗地：预警数、未移交的预警数和预警内容。",
        table=Parcel,
        base=select().select_from(Parcel).join(Unit, Unit.id == Parcel.unit_id),
        id_column=Parcel.code,
        geom=Parcel.geom,
        properties=(
            Prop("code", Parcel.code, "宗地编号"),
            Prop("unit_name", Unit.name, "镇（街道、开发区）"),
            Prop("flag_count", count, "预警数", "integer"),
            Prop("open_count", open_count, "未移交十剑联动的预警数", "integer"),
            Prop("flags", texts, "预警", "array"),
        ),
        queryables=("code",),
        filters={"unit": lambda: Parcel.unit_id == param("unit", Integer)},
        where=(Parcel.id.in_(select(MarketRecordParcel.parcel_id).join(
            MarketFlag, MarketFlag.record_id == MarketRecordParcel.record_id)),),
    )


def flagged_page(session: Session, unit_id: int | None) -> sql.Page:
    layer = flagged_parcels()
    filters = [("unit", unit_id)] if unit_id is not None else []
    query = sql.page_query(layer, keys=sql.sort_keys(layer, "code"), limit=PAGE_MAX, filters=filters)
    return sql.feature_page_on(session, query, count=False)
