"""Storage tests run on both databases: a temporary SQLite file and a scratch PostgreSQL database.

`database_url` is parametrized over "sqlite" (a fresh file per test) and "postgresql" (one scratch database per
test session, created here and dropped at the end; every test starts from empty tables). The PostgreSQL case is
skipped, with the reason, when the server is unreachable. COACH_TEST_POSTGRES_URL overrides the admin URL (any
database on the server we may CREATE DATABASE from).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine

from storage.db import UnitOfWork, create_database_engine
from storage.schema import upgrade_to_head
from tests.support.postgres import PostgresUnavailable, create_scratch_database, drop_database, empty_engine


@pytest.fixture(scope="session")
def postgres_scratch_url() -> Iterator[str]:
    """A fresh PostgreSQL database for this test session (schema at head), dropped afterwards."""
    try:
        name, url = create_scratch_database("coach_storage_test")
    except PostgresUnavailable as exc:
        pytest.skip(str(exc))
    engine = create_database_engine(url)
    try:
        upgrade_to_head(engine)
    finally:
        engine.dispose()
    try:
        yield url
    finally:
        drop_database(name)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'storage.sqlite3'}"
    return request.getfixturevalue("postgres_scratch_url")


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    """The engine the app would build, schema upgraded to head, every table empty."""
    with empty_engine(database_url) as engine:
        yield engine


@pytest.fixture
def uow(engine: Engine) -> UnitOfWork:
    return UnitOfWork(engine)
