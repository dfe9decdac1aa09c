"""Demo data: targets as in the plan's appendix, areas equal to geometry, idempotent seeding."""

from __future__ import annotations

import csv
from decimal import Decimal

from sqlalchemy import func, select, text

from app.models import AnnualTarget, Enterprise, Parcel, RenewalBlock, Unit
from app.seed import seed
from app.settings import PROJECT_ROOT

PLAN_BLOCKS = {
    "崇福东兴羽绒区块": ("chongfu", "in_progress"),
    "石门羔羊区块": ("shimen", "in_progress"),
    "梧桐百桃工业区块": ("wutong", "started"),
    "屠甸荣翔和老工业区块": ("tudian", "started"),
    "河山百利达和亿宏区块": ("heshan", "started"),
    "崇福石马区块": ("chongfu", "started"),
}


def test_targets_2022_sum_to_the_plan(db_session):
    totals = db_session.execute(
        select(func.sum(AnnualTarget.renewal_mu), func.sum(AnnualTarget.contiguous_mu), func.sum(AnnualTarget.scattered_mu))
        .where(AnnualTarget.year == 2022)
    ).one()
    assert totals == (Decimal("3000"), Decimal("2000"), Decimal("1000"))
    assert db_session.scalar(select(func.count()).select_from(AnnualTarget).where(AnnualTarget.year == 2022)) == 11
    # The demo's 2023 targets, as an admin would have entered them: one per unit, 2022 + 2023 = 6000 亩.
    totals_2023 = db_session.execute(
        select(func.count(), func.sum(AnnualTarget.renewal_mu)).where(AnnualTarget.year == 2023)).one()
    assert totals_2023 == (11, Decimal("3000"))


def test_targets_match_the_appendix_row_by_row(db_session):
    rows = db_session.execute(
        select(Unit.name, AnnualTarget.renewal_mu, AnnualTarget.contiguous_mu, AnnualTarget.scattered_mu).join(AnnualTarget.unit)
        .where(AnnualTarget.year == 2022)
    ).all()
    stored = {r[0]: tuple(int(v) for v in r[1:]) for r in rows}
    with (PROJECT_ROOT / "data" / "reference" / "targets-2022.csv").open(encoding="utf-8") as fh:
        expected = {r["unit_name"]: (int(r["renewal_mu"]), int(r["contiguous_mu"]), int(r["scattered_mu"])) for r in csv.DictReader(fh)}
    assert stored == expected


def test_units_partition_the_city(db_session):
    names = set(db_session.scalars(select(Unit.name)))
    assert len(names) == 11
    assert "开发区（高桥街道）" in names and "乌镇镇" in names
    overlap_m2 = db_session.scalar(
        text(
            "SELECT coalesce(sum(ST_Area(ST_Transform(ST_Intersection(a.geom, b.geom), 4549))), 0) "
            "FROM units a JOIN units b ON a.id < b.id AND a.geom && b.geom"
        )
    )
    assert overlap_m2 < 1.0
    assert all(db_session.scalars(select(Unit.is_schematic)))


def test_plan_blocks_exist_in_their_units(db_session):
    rows = db_session.execute(
        select(RenewalBlock.name, Unit.code, RenewalBlock.stage, RenewalBlock.area_mu, RenewalBlock.id)
        .join(RenewalBlock.unit)
    ).all()
    found = {r.name: (r.code, r.stage.value) for r in rows}
    assert found == PLAN_BLOCKS
    for r in rows:
        assert r.area_mu >= 200, r.name
        inside = db_session.scalar(
            text("SELECT ST_Within(b.geom, u.geom) FROM renewal_blocks b JOIN units u ON u.id = b.unit_id WHERE b.id = :id"),
            {"id": r.id},
        )
        assert inside, r.name
        n = db_session.scalar(select(func.count()).select_from(Parcel).where(Parcel.block_id == r.id))
        assert 10 <= n <= 40, (r.name, n)


def test_scattered_parcels_and_enterprises(db_session):
    scattered = db_session.scalar(select(func.count()).select_from(Parcel).where(Parcel.block_id.is_(None)))
    assert 200 <= scattered <= 500
    units_with_scattered = db_session.scalar(
        select(func.count(func.distinct(Parcel.unit_id))).where(Parcel.block_id.is_(None))
    )
    assert units_with_scattered == 11
    assert db_session.scalar(select(func.count()).select_from(Enterprise)) > 50


def test_every_stored_area_equals_its_geometry(db_session):
    """亩 from PostGIS's own projection to EPSG:4549 agrees with the stored figure within 0.01 亩."""
    checks = {
        "units": "area_mu",
        "renewal_blocks": "area_mu",
        "parcels": "land_area_mu",
    }
    for table, column in checks.items():
        worst = db_session.scalar(
            text(f"SELECT max(abs({column} - ST_Area(ST_Transform(geom, 4549)) / (10000.0 / 15))) FROM {table}")
        )
        assert worst is not None and worst <= Decimal("0.01"), (table, worst)


def test_parcel_far_is_floor_area_over_land_area(db_session):
    worst = db_session.scalar(
        text(
            "SELECT max(abs(far - floor_area_m2 / ST_Area(ST_Transform(geom, 4549)))) FROM parcels "
            "WHERE floor_area_m2 IS NOT NULL"
        )
    )
    assert worst <= Decimal("0.0001")  # stored to 4 decimals


def _fingerprint(session) -> str:
    return session.scalar(
        text(
            "SELECT md5(string_agg(t, '|' ORDER BY t)) FROM ("
            " SELECT 'u' || u::text AS t FROM units u UNION ALL"
            " SELECT 'a' || a::text FROM annual_targets a UNION ALL"
            " SELECT 'e' || e::text FROM enterprises e UNION ALL"
            " SELECT 'b' || b::text FROM renewal_blocks b UNION ALL"
            " SELECT 'p' || p::text FROM parcels p) s"
        )
    )


def test_seeding_again_changes_nothing(db_session):
    before = _fingerprint(db_session)
    db_session.commit()  # ends the read; seed() owns its own transaction (a savepoint here)
    counts = seed(db_session, PROJECT_ROOT / "data")
    assert counts.changed == 0
    assert _fingerprint(db_session) == before


def test_seeding_again_keeps_a_2023_target_an_admin_set(db_session):
    target = db_session.scalar(select(AnnualTarget).join(AnnualTarget.unit)
                               .where(Unit.code == "fengming", AnnualTarget.year == 2023))
    target.contiguous_mu, target.scattered_mu, target.renewal_mu = Decimal("55"), Decimal("33"), Decimal("88")
    db_session.commit()
    seed(db_session, PROJECT_ROOT / "data")
    db_session.expire_all()
    assert db_session.get(AnnualTarget, target.id).renewal_mu == Decimal("88")


def test_the_demo_register_and_2023_figures_are_imported(db_session):
    from app.enterprises.models import EnterpriseFigure, EnterpriseImport

    departments = set(db_session.scalars(select(EnterpriseFigure.department).where(EnterpriseFigure.year == 2023)))
    assert {"税务局", "统计局", "供电公司", "生态环境局", "人社局", "应急管理局", "科技局"} <= departments
    done = db_session.scalars(select(EnterpriseImport.created_by).where(EnterpriseImport.status == "committed"))
    assert list(done).count("seed") == 8
    assert db_session.scalar(select(func.count()).select_from(Enterprise).where(Enterprise.industry_code.like("D%"))) == 3
