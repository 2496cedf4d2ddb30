"""One ingest at a time per knowledge collection, across processes and machines.

PostgreSQL: a session-level advisory lock keyed on the collection, held on a connection of its own for the
whole run (autocommit, so no transaction stays open); the server drops it when that connection or process dies.
SQLite: an exclusive `flock` on `<database>.ingest-<collection>.lock` beside the database file (a database on
one machine; the kernel drops it when the process dies). Not `BEGIN IMMEDIATE` for the run: that would stop every
other writer — the chat's answers, quiz attempts — for as long as a large document takes to embed.

The holder writes its pid, host and start time into `ingest_lock_holders` once it has the lock; an ingest that
finds the lock taken reads that row to say who it waits for. A row left by a killed holder is harmless: it is
only read while someone holds the lock, and the next holder overwrites it.
"""

from __future__ import annotations

import fcntl
import hashlib
import logging
import os
import socket
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import IO

from sqlalchemy import Connection, Engine, delete, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from storage.db import UnitOfWork, utc_now
from storage.models import IngestLockHolder

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LockHolder:
    """Who holds a collection's ingest lock (as it wrote itself down)."""

    pid: int
    host: str
    started_at: datetime  # naive UTC


class IngestBusy(Exception):
    """Another ingest holds the collection's lock and the caller asked not to wait."""

    def __init__(self, collection: str, holder: LockHolder | None) -> None:
        super().__init__(f"ingest of {collection!r} is running elsewhere: {holder}")
        self.collection = collection
        self.holder = holder


def advisory_key(collection: str) -> int:
    """A stable signed 64-bit PostgreSQL advisory lock key for a collection's ingests."""
    digest = hashlib.sha256(f"pocketcoach-ingest:{collection}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def lock_file_for(database: str, collection: str) -> Path:
    """The SQLite lock file of a collection: beside the database file."""
    return Path(f"{database}.ingest-{collection}.lock")


@contextmanager
def ingest_lock(
    engine: Engine,
    collection: str,
    *,
    wait: bool = True,
    on_wait: Callable[[LockHolder | None], None] = lambda holder: None,
) -> Iterator[LockHolder]:
    """Hold the collection's ingest lock for the block; yields this process's holder record.

    Taken at once when free; otherwise `IngestBusy` when `wait` is false, else `on_wait(holder)` is called and
    the lock is waited for."""
    if engine.dialect.name == "postgresql":
        acquire = _postgres_lock(engine, collection, wait=wait, on_wait=on_wait)
    else:
        acquire = _sqlite_lock(engine, collection, wait=wait, on_wait=on_wait)
    with acquire:
        me = LockHolder(pid=os.getpid(), host=socket.gethostname(), started_at=utc_now())
        _write_holder(engine, collection, me)
        try:
            yield me
        finally:
            _clear_holder(engine, collection, me)


def current_holder(engine: Engine, collection: str) -> LockHolder | None:
    """The holder row of a collection (the last one written; meaningful while the lock is held)."""
    with Session(engine) as session:
        row = session.get(IngestLockHolder, collection)
        return None if row is None else LockHolder(row.pid, row.host, row.started_at)


@contextmanager
def _postgres_lock(
    engine: Engine, collection: str, *, wait: bool, on_wait: Callable[[LockHolder | None], None]
) -> Iterator[None]:
    key = advisory_key(collection)
    connection: Connection = engine.connect().execution_options(isolation_level="AUTOCOMMIT")
    try:
        if not connection.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": key}).scalar_one():
            holder = current_holder(engine, collection)
            if not wait:
                raise IngestBusy(collection, holder)
            on_wait(holder)
            connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": key})
        try:
            yield
        finally:
            try:
                connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": key})
            except SQLAlchemyError:  # the connection is gone, and the server dropped the lock with it
                log.warning("the ingest lock connection of %s was lost before the unlock", collection)
    finally:
        connection.close()


@contextmanager
def _sqlite_lock(
    engine: Engine, collection: str, *, wait: bool, on_wait: Callable[[LockHolder | None], None]
) -> Iterator[None]:
    database = engine.url.database or ""
    if database in ("", ":memory:"):  # a database only this process sees
        yield
        return
    path = lock_file_for(database, collection)
    handle: IO[bytes] = path.open("ab")
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = current_holder(engine, collection)
            if not wait:
                raise IngestBusy(collection, holder) from None
            on_wait(holder)
            fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
    finally:
        handle.close()


def _write_holder(engine: Engine, collection: str, me: LockHolder) -> None:
    with UnitOfWork(engine).begin() as session:
        row = session.get(IngestLockHolder, collection)
        if row is None:
            session.add(IngestLockHolder(collection=collection, pid=me.pid, host=me.host, started_at=me.started_at))
        else:
            row.pid, row.host, row.started_at = me.pid, me.host, me.started_at


def _clear_holder(engine: Engine, collection: str, me: LockHolder) -> None:
    """Best effort: a run that failed because the database went away must fail with that error, not this one (a
    row left behind is overwritten by the next holder)."""
    try:
        with UnitOfWork(engine).begin() as session:
            session.execute(
                delete(IngestLockHolder).where(
                    IngestLockHolder.collection == collection,
                    IngestLockHolder.pid == me.pid,
                    IngestLockHolder.host == me.host,
                )
            )
    except SQLAlchemyError as exc:
        log.warning("could not clear the ingest lock holder of %s: %s", collection, exc.__class__.__name__)
