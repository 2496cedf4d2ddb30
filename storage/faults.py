"""What kind of storage fault an exception is: the database unreachable, a folder or file that cannot be written,
a damaged SQLite file, a lock held too long.

Pure and without drivers: it reads the exception chain (SQLAlchemy's `orig`, `__cause__`, `__context__`) by type
names, errno and the drivers' own words, so the CLI (`app/fault_messages.py`, in Chinese) and the chat's log line
(`bot/core/conversation.py`) name the same fault without a traceback.
"""

from __future__ import annotations

import errno
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum


class FaultKind(StrEnum):
    UNREACHABLE = "unreachable"  # PostgreSQL refused, timed out, unknown host, authentication, no such database
    READ_ONLY = "read_only"  # a folder or file this process may not write (or SQLite could not open it)
    CORRUPT = "corrupt"  # the SQLite file is truncated or not a database
    LOCKED = "locked"  # another process held the SQLite write lock past the timeout


@dataclass(frozen=True)
class StorageFault:
    kind: FaultKind
    detail: str  # the driver's first line, e.g. "connection refused" — no traceback
    filename: str | None = None  # the file or folder an OSError names


_READ_ONLY_ERRNOS = {errno.EROFS, errno.EACCES, errno.EPERM}
_CORRUPT_WORDS = ("malformed", "file is not a database", "file is encrypted or is not a database")
_READ_ONLY_WORDS = ("readonly database", "read-only", "unable to open database file")
_LOCKED_WORDS = ("database is locked",)


def _chain(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    todo: list[BaseException | None] = [exc]
    while todo:
        current = todo.pop(0)
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        orig = getattr(current, "orig", None)
        todo += [orig if isinstance(orig, BaseException) else None, current.__cause__, current.__context__]


def first_line(exc: BaseException) -> str:
    """The exception's own message, first line only (psycopg adds hints, SQLAlchemy the SQL and a link)."""
    text = str(getattr(exc, "orig", None) or exc).strip()
    return (text.splitlines() or [type(exc).__name__])[0][:300]


def _module(exc: BaseException) -> str:
    return type(exc).__module__.split(".")[0]


def classify_storage_error(exc: BaseException) -> StorageFault | None:
    """The storage fault behind `exc`, or None when it is none of the known ones (then it is a bug: keep the
    traceback)."""
    for current in _chain(exc):
        message = str(current).lower()
        if isinstance(current, OSError) and current.errno in _READ_ONLY_ERRNOS:
            return StorageFault(FaultKind.READ_ONLY, first_line(current), current.filename)
        if _module(current) == "sqlite3":
            if any(w in message for w in _CORRUPT_WORDS):
                return StorageFault(FaultKind.CORRUPT, first_line(current))
            if any(w in message for w in _READ_ONLY_WORDS):
                return StorageFault(FaultKind.READ_ONLY, first_line(current))
            if any(w in message for w in _LOCKED_WORDS):
                return StorageFault(FaultKind.LOCKED, first_line(current))
        if _module(current) in {"psycopg", "psycopg2"} and type(current).__name__ == "OperationalError":
            return StorageFault(FaultKind.UNREACHABLE, first_line(current))
    return None


def describe_storage_error(exc: BaseException) -> str:
    """One log line for a storage error: `unreachable: connection refused …`, or the type and first line."""
    fault = classify_storage_error(exc)
    if fault is None:
        return f"{type(exc).__name__}: {first_line(exc)}"
    where = f" ({fault.filename})" if fault.filename else ""
    return f"{fault.kind.value}: {fault.detail}{where}"


def log_retry(log: logging.Logger, what: str, exc: BaseException) -> None:
    """A background loop's failed round, logged before it retries: one line for a storage fault (it repeats every
    round while the database is away; the traceback only at DEBUG), the whole traceback for anything else (a bug)."""
    if classify_storage_error(exc) is None:
        log.warning("%s; will retry", what, exc_info=exc)
        return
    log.warning("%s; will retry (%s)", what, describe_storage_error(exc))
    log.debug("%s", what, exc_info=exc)
