"""Migrations: up and down on an empty database, and no drift from the models."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from geoalchemy2 import alembic_helpers
from sqlalchemy import create_engine, inspect

from app.models_all import Base
from app.settings import PROJECT_ROOT
from tests.dbutil import create_database, drop_database, migrate

TABLES = {"units", "annual_targets", "enterprises", "renewal_blocks", "parcels", "uploads", "upload_features", "feature_history"}


@pytest.fixture()
def empty_database():
    url = create_database("txmap_test_mig")
    yield url
    drop_database(url)


def _tables(url: str) -> set[str]:
    engine = create_engine(url)
    try:
        return set(inspect(engine).get_table_names()) - {"spatial_ref_sys"}
    finally:
        engine.dispose()


def test_upgrade_downgrade_upgrade(empty_database):
    migrate(empty_database)
    assert TABLES <= _tables(empty_database)
    engine = create_engine(empty_database)
    indexes = {ix["name"] for table in ("units", "renewal_blocks", "parcels") for ix in inspect(engine).get_indexes(table)}
    engine.dispose()
    assert {"idx_units_geom", "idx_renewal_blocks_geom", "idx_parcels_geom"} <= indexes

    migrate(empty_database, "base", down=True)
    assert _tables(empty_database) == {"alembic_version"}

    migrate(empty_database)
    assert TABLES <= _tables(empty_database)


def test_two_upgrades_at_once_run_one_after_the_other(empty_database):
    """migrations/env.py takes an advisory lock: of two `cloudmap db upgrade` started together, the second
    waits, then finds the database at head (without it, both create the same tables and one fails)."""
    import os
    import subprocess

    env = {**os.environ, "DATABASE_URL": empty_database}
    procs = [subprocess.Popen([str(PROJECT_ROOT / ".venv" / "bin" / "cloudmap"), "db", "upgrade"], env=env,
                              cwd=PROJECT_ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT) for _ in range(2)]
    outputs = [p.communicate(timeout=300)[0].decode() for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outputs
    engine = create_engine(empty_database)
    with engine.connect() as conn:
        heads = MigrationContext.configure(conn).get_current_heads()
    engine.dispose()
    assert len(heads) == 1 and TABLES <= _tables(empty_database)


def test_models_match_migrations(empty_database):
    """Autogenerate finds nothing to do: the migration and the models agree."""
    migrate(empty_database)
    engine = create_engine(empty_database)
    with engine.connect() as conn:
        ctx = MigrationContext.configure(
            conn,
            opts={"include_object": alembic_helpers.include_object, "compare_type": True},
        )
        diff = compare_metadata(ctx, Base.metadata)
    engine.dispose()
    assert diff == []


def test_0009_gives_reports_issued_before_it_their_issue_facts(empty_database):
    """Reports issued before 0009 are numbered per year in month order, dated the day they were issued,
    signed off by and shown as the issuer's display name, and stay frozen afterwards."""
    from sqlalchemy import text
    from sqlalchemy.exc import IntegrityError

    migrate(empty_database, "0008")
    engine = create_engine(empty_database)
    try:
        with engine.begin() as conn:
            conn.execute(text(
                "INSERT INTO users (username, display_name, role, password_hash, is_active, failed_logins, row_version) "
                "VALUES ('wang_admin', '王主任', 'admin', 'x', true, 0, 1)"))
            conn.execute(text(
                "INSERT INTO progress_reports (year, month, as_of, issued_by, issued_at, data, data_sha256, xlsx, xlsx_sha256) "
                "VALUES (2023, 3, '2023-03-31', 'wang_admin', '2023-04-02 17:30+00', '{}', 'a', '\\x00', 'b'),"
                "       (2023, 1, '2023-01-31', 'gone_user', '2023-02-03 01:00+00', '{}', 'a', '\\x00', 'b'),"
                "       (2022, 12, '2022-12-31', 'wang_admin', '2023-01-04 02:00+00', '{}', 'a', '\\x00', 'b')"))
        migrate(empty_database)
        with engine.connect() as conn:
            rows = conn.execute(text(
                "SELECT year, month, issue_no, issuing_body, issue_date::text, signed_by, issued_by_name "
                "FROM progress_reports ORDER BY year, month")).all()
        body = "桐乡市工业园区有机更新工作领导小组办公室"
        assert [tuple(r) for r in rows] == [
            (2022, 12, 1, body, "2023-01-04", "王主任", "王主任"),
            (2023, 1, 1, body, "2023-02-03", "gone_user", "gone_user"),
            (2023, 3, 2, body, "2023-04-03", "王主任", "王主任"),  # 17:30 UTC is the next day in Tongxiang
        ]
        with pytest.raises(IntegrityError), engine.begin() as conn:  # still frozen
            conn.execute(text("UPDATE progress_reports SET signed_by = '某人'"))
        with pytest.raises(IntegrityError), engine.begin() as conn:  # 第 X 期 unique within a year
            conn.execute(text(
                "INSERT INTO progress_reports (year, month, as_of, issued_by, data, data_sha256, xlsx, xlsx_sha256, "
                "issue_no, issuing_body, issue_date, signed_by, issued_by_name) VALUES (2023, 5, '2023-05-31', 'x', "
                "'{}', 'a', '\\x00', 'b', 2, 'x', '2023-06-02', 'x', 'x')"))
    finally:
        engine.dispose()
    migrate(empty_database, "0008", down=True)


@pytest.fixture()
def database_0010():
    url = create_database("txmap_test_mig0010")
    yield url
    drop_database(url)


def test_0010_name_only_enterprises_and_its_careful_downgrade(database_0010):
    """0010: an enterprise may have no credit code (one such entry per name); downgrading refuses while
    one exists rather than dropping it, and works once none is left."""
    from sqlalchemy import text
    from sqlalchemy.exc import IntegrityError

    migrate(database_0010, "0010")  # not head: a later migration would be downgraded in the same refused run
    engine = create_engine(database_0010)
    try:
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO enterprises (name) VALUES ('只有名称的企业')"))
            conn.execute(text("INSERT INTO enterprises (name, credit_code) VALUES ('只有名称的企业', '91330483015005230K')"))
        for sql in ("INSERT INTO enterprises (name) VALUES ('只有名称的企业')",  # a second name-only entry
                    "INSERT INTO enterprises (name, credit_code) VALUES ('代码有误', 'NOT-A-CODE')"):
            with pytest.raises(IntegrityError), engine.begin() as conn:
                conn.execute(text(sql))
        assert "upload_sources" in _tables(database_0010)
        with pytest.raises(RuntimeError, match="信用代码待补充"):
            migrate(database_0010, "0009", down=True)
        with engine.connect() as conn:
            assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar() == "0010"
        with engine.begin() as conn:
            conn.execute(text("DELETE FROM enterprises WHERE credit_code IS NULL"))
        migrate(database_0010, "0009", down=True)
        assert "upload_sources" not in _tables(database_0010)
        with pytest.raises(IntegrityError), engine.begin() as conn:
            conn.execute(text("INSERT INTO enterprises (name) VALUES ('只有名称的企业')"))
    finally:
        engine.dispose()
