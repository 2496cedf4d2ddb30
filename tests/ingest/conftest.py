"""A scratch PostgreSQL database for the ingest tests that need one (skipped, with the reason, without a server)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.postgres import PostgresUnavailable, create_scratch_database, drop_database, empty_engine


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    try:
        name, url = create_scratch_database("coach_ingest_test")
    except PostgresUnavailable as exc:
        pytest.skip(str(exc))
    try:
        yield url
    finally:
        drop_database(name)


@pytest.fixture
def empty_postgres(postgres_url: str) -> Iterator[str]:
    """The scratch database with the schema at head and every table empty."""
    with empty_engine(postgres_url):
        pass
    yield postgres_url
