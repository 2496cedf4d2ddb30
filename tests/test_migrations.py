"""Alembic migrations build exactly the models' schema, on SQLite and (when reachable) PostgreSQL."""

from __future__ import annotations

import os

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, text

from storage.db import create_database_engine
from storage.models import Base
from storage.schema import upgrade_to_head

POSTGRES_URL = os.environ.get("COACH_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


def _assert_no_difference(engine) -> None:
    upgrade_to_head(engine)
    upgrade_to_head(engine)  # idempotent
    with engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert diff == []


def test_sqlite_upgrade_matches_models(tmp_path):
    _assert_no_difference(create_database_engine(f"sqlite:///{tmp_path / 'm.sqlite3'}"))


@pytest.mark.postgres
def test_postgresql_upgrade_matches_models():
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text("DROP DATABASE IF EXISTS coach_migration_test"))
            connection.execute(text("CREATE DATABASE coach_migration_test"))
    except Exception as exc:
        pytest.skip(f"PostgreSQL not reachable at {POSTGRES_URL}: {exc.__class__.__name__}")
    url = POSTGRES_URL.rsplit("/", 1)[0] + "/coach_migration_test"
    engine = create_database_engine(url)
    try:
        _assert_no_difference(engine)
    finally:
        engine.dispose()
        with admin.connect() as connection:
            connection.execute(text("DROP DATABASE IF EXISTS coach_migration_test"))
