"""Write-side guarantees of the models: areas and FARs follow the geometry, codes are validated."""

from __future__ import annotations

from decimal import Decimal

import pytest
from shapely import box
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError

import spatial
from app.credit_code import check_character
from app.models import Enterprise, Parcel, Unit

# 100 m x 133.333 m in EPSG:4549 near Tongxiang: 20 亩 exactly.
RECT_4549 = box(520000, 3390000, 520100, 3390000 + 400 / 3)


def test_area_and_far_follow_the_geometry(db_session):
    unit = db_session.scalar(select(Unit).where(Unit.code == "wutong"))
    parcel = Parcel(code="TEST-0001", unit_id=unit.id, floor_area_m2=Decimal("26666.67"))
    parcel.set_geometry(spatial.to_storage_crs(RECT_4549, spatial.AREA_SRID))
    db_session.add(parcel)
    db_session.flush()
    assert parcel.land_area_mu == Decimal("20.00")
    assert parcel.far == Decimal("2.0000")

    # Moving an edge changes the area; the stored figure follows on flush.
    wider = box(520000, 3390000, 520200, 3390000 + 400 / 3)
    parcel.set_geometry(spatial.to_storage_crs(wider, spatial.AREA_SRID))
    db_session.flush()
    assert parcel.land_area_mu == Decimal("40.00")
    assert parcel.far == Decimal("1.0000")

    parcel.planned_floor_area_m2 = Decimal("80000")
    db_session.flush()
    assert parcel.planned_far == Decimal("3.0000")


def test_far_is_null_without_floor_area(db_session):
    unit = db_session.scalar(select(Unit).where(Unit.code == "wutong"))
    parcel = Parcel(code="TEST-0002", unit_id=unit.id)
    parcel.set_geometry(spatial.to_storage_crs(RECT_4549, spatial.AREA_SRID))
    db_session.add(parcel)
    db_session.flush()
    assert parcel.far is None and parcel.planned_far is None


def test_invalid_credit_code_is_refused():
    with pytest.raises(ValueError, match="校验位"):
        Enterprise(name="测试企业", credit_code="91330483MA2JD0TW1X")
    with pytest.raises(ValueError, match="18 位"):
        Enterprise(name="测试企业", credit_code="913304")
    good = "91330483MA2JD0TW1" + check_character("91330483MA2JD0TW1")
    assert Enterprise(name="测试企业", credit_code=good).credit_code == good


def test_database_refuses_unknown_enum_codes(db_session):
    with pytest.raises(IntegrityError):
        with db_session.begin_nested():
            db_session.execute(text("UPDATE parcels SET classification = 'good' WHERE id = (SELECT min(id) FROM parcels)"))


def test_target_sum_is_enforced(db_session):
    with pytest.raises(IntegrityError):
        with db_session.begin_nested():
            db_session.execute(text("UPDATE annual_targets SET renewal_mu = renewal_mu + 1 WHERE id = (SELECT min(id) FROM annual_targets)"))
