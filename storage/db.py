"""Engine and session factory; the unit of work that commits once per use case."""

from __future__ import annotations

import logging
import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import quote

from sqlalchemy import Engine, create_engine, event

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

# The ORM is imported when a unit of work is made: `coach quiz list` reads on a plain connection and never loads
# it (storage/quiz_listing.py).

log = logging.getLogger(__name__)
WRITE_OPTION = "coach_write_transaction"


def utc_now() -> datetime:
    """Now as the database stores times: naive UTC."""
    return datetime.now(UTC).replace(tzinfo=None)


def read_only_sqlite_uri(path: Path) -> str | None:
    """A read-only SQLite URI for an existing file this process may not write (a read-only data folder or file),
    None when it may.

    SQLite cannot open a WAL database read-only unless its `-shm` file exists (another process has it open, and
    sees our reads consistently through it); without one, `immutable=1` reads the file as it is."""
    if not path.is_file() or (os.access(path, os.W_OK) and os.access(path.parent, os.W_OK)):
        return None
    shared_memory = path.with_name(path.name + "-shm")
    mode = "mode=ro" if shared_memory.is_file() else "immutable=1"
    return f"file:{quote(str(path.resolve()))}?{mode}"


def create_database_engine(url: str) -> Engine:
    """An engine for SQLite (folder created, WAL, foreign keys on; read-only when the file cannot be written, so
    searches still work) or PostgreSQL."""
    if url.startswith("sqlite:///"):
        path = Path(url.removeprefix("sqlite:///"))
        read_only = None if "?" in url else read_only_sqlite_uri(path)
        if read_only is None:
            path.parent.mkdir(parents=True, exist_ok=True)
            engine = create_engine(url, connect_args={"timeout": 30})
        else:  # the engine keeps the plain URL (the file's path is read from it); only connecting differs
            log.warning("database %s cannot be written here: opened read-only (searches work, changes fail)", path)
            engine = create_engine(url, creator=lambda: sqlite3.connect(read_only, uri=True, timeout=30))

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection, _record):  # type: ignore[no-untyped-def]
            cursor = dbapi_connection.cursor()
            if read_only is None:  # the journal mode is stored in the file: a read-only connection keeps it
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
        from sqlalchemy.orm import sessionmaker

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
