"""Engine and session factory; the unit of work that commits once per use case."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

WRITE_OPTION = "coach_write_transaction"


def utc_now() -> datetime:
    """Now as the database stores times: naive UTC."""
    return datetime.now(UTC).replace(tzinfo=None)


def create_database_engine(url: str) -> Engine:
    """An engine for SQLite (folder created, WAL, foreign keys on) or PostgreSQL."""
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection, _record):  # type: ignore[no-untyped-def]
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()
            # pysqlite would start no transaction before a SAVEPOINT, so releasing a savepoint that came first
            # committed it; we begin every transaction ourselves (SQLAlchemy's documented pysqlite recipe).
            dbapi_connection.isolation_level = None

        @event.listens_for(engine, "begin")
        def _sqlite_begin(connection):  # type: ignore[no-untyped-def]
            # A writing use case takes SQLite's write lock up front (IMMEDIATE): a deferred transaction that
            # read first could not upgrade once another writer committed, and would fail as "locked".
            write = connection.get_execution_options().get(WRITE_OPTION, False)
            connection.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

        return engine
    return create_engine(url, pool_pre_ping=True)


class UnitOfWork:
    """Opens a session per use case; `with uow.begin() as session:` commits once or rolls back."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._sessions = sessionmaker(engine, expire_on_commit=False)

    @contextmanager
    def begin(self) -> Iterator[Session]:
        with self._sessions.begin() as session:
            if self.engine.dialect.name == "sqlite":
                session.connection(execution_options={WRITE_OPTION: True})
            yield session

    @contextmanager
    def read(self) -> Iterator[Session]:
        with self._sessions() as session:
            yield session
