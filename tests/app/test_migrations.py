"""Migrations: up and down on an empty database, and no drift from the models."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from geoalchemy2 import alembic_helpers
from sqlalchemy import create_engine, inspect

from app.models_all import Base
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
