"""Scratch PostgreSQL databases for tests and benchmarks: created on the machine's server, dropped afterwards."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine, create_engine, text

POSTGRES_ADMIN_URL = os.environ.get("COACH_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


class PostgresUnavailable(RuntimeError):
    """No PostgreSQL server answers at POSTGRES_ADMIN_URL (the message says why)."""


def create_scratch_database(prefix: str) -> tuple[str, str]:
    """A new empty database: (its name, its SQLAlchemy URL). Raises PostgresUnavailable."""
    name = f"{prefix}_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 5})
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:
        raise PostgresUnavailable(
            f"PostgreSQL not reachable at {POSTGRES_ADMIN_URL}: {exc.__class__.__name__}: {exc}".strip()
        ) from exc
    finally:
        admin.dispose()
    return name, admin.url.set(database=name).render_as_string(hide_password=False)


def drop_database(name: str) -> None:
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


@contextmanager
def empty_engine(url: str) -> Iterator[Engine]:
    """The engine the app would build on `url`, schema upgraded to head, every table empty (a scratch PostgreSQL
    database is shared by a session's tests, so it is truncated), disposed afterwards."""
    from storage.db import create_database_engine
    from storage.models import Base
    from storage.schema import upgrade_to_head

    engine = create_database_engine(url)
    upgrade_to_head(engine)
    if engine.dialect.name == "postgresql":
        tables = ", ".join(f'"{table.name}"' for table in Base.metadata.sorted_tables)
        with engine.begin() as connection:
            connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    try:
        yield engine
    finally:
        engine.dispose()


def lock_waits(url: str) -> int:
    """Backends of this database waiting on a lock (a row lock, a unique index entry, an advisory lock)."""
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            query = (
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
            return int(connection.execute(text(query)).scalar_one())
    finally:
        engine.dispose()
