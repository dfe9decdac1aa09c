"""Alembic environment: the URL comes from the caller (``cloudmap db upgrade``) or Settings."""

from __future__ import annotations

from alembic import context
from geoalchemy2 import alembic_helpers
from sqlalchemy import create_engine, pool, text

from app.models_all import Base
from app.settings import get_settings

config = context.config
target_metadata = Base.metadata
# Held for the migration's transaction: two `cloudmap db upgrade` at once (two deploys, two replicas of a
# migrate job) run one after the other, and the second finds the database at head.
MIGRATION_LOCK = 0x7478_6D61_7000  # "txmap" + 0, an arbitrary key of this application's


def _url() -> str:
    return config.attributes.get("url") or config.get_main_option("sqlalchemy.url") or (
        get_settings().resolved_database_url()
    )


def run_migrations_offline() -> None:
    context.configure(
        url=_url(),
        target_metadata=target_metadata,
        literal_binds=True,
        include_object=alembic_helpers.include_object,
        render_item=alembic_helpers.render_item,
        process_revision_directives=alembic_helpers.writer,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = create_engine(_url(), poolclass=pool.NullPool)
    with engine.connect() as conn:
        _run(conn)


def _run(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        include_object=alembic_helpers.include_object,
        render_item=alembic_helpers.render_item,
        process_revision_directives=alembic_helpers.writer,
        compare_type=True,
    )
    with context.begin_transaction():
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
        context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
