"""Backup and restore of the database that holds the record (learners, attempts, record entries, quizzes).

SQLite: the online backup API copies a consistent snapshot while the bot keeps running; the copy is checked
(`PRAGMA integrity_check`) before it replaces anything. PostgreSQL: `pg_dump --format=custom` and
`pg_restore --clean --single-transaction`, so a restore either lands whole or changes nothing. The Chroma
index and the lexical cache are not backed up: both are rebuilt from the database (`coach ingest` re-reads
the source files; the lexical index rebuilds itself from stored chunks).

A backup is written to a temporary file beside the target and renamed when complete, so a crash or a full
disk never leaves a half-written file under the backup's name.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import make_url

from storage.db import read_only_sqlite_uri
from storage.faults import FaultKind, classify_storage_error


class BackupError(RuntimeError):
    """A backup or restore could not be done; the message says why (in Chinese, for the operator)."""


@dataclass(frozen=True)
class BackupResult:
    path: Path
    kind: str  # "sqlite" | "postgresql"
    size_bytes: int


def _sqlite_path(url: str) -> Path:
    database = make_url(url).database
    if not database or database == ":memory:":
        raise BackupError("内存数据库无法备份")
    return Path(database)


def _libpq_url(url: str) -> str:
    """`postgresql+psycopg://…` (SQLAlchemy) → `postgresql://…` (what pg_dump/pg_restore understand)."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise BackupError(f"找不到 {name}: 请安装 PostgreSQL 客户端 (Debian: apt-get install postgresql-client)")
    return path


def _run_pg_tool(name: str, *args: str) -> None:
    done = subprocess.run([_tool(name), *args], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise BackupError(f"{name} 失败 (退出码 {done.returncode}),数据库未改动: {done.stderr.strip()[-500:]}")


def _temporary_beside(target: Path) -> Path:
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".partial")
    os.close(fd)
    return Path(name)


def _check_sqlite_file(path: Path) -> None:
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as connection:
            result = connection.execute("PRAGMA integrity_check").fetchone()
            has_schema = connection.execute(
                "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'alembic_version'"
            ).fetchone()
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"{path} 不是可用的 SQLite 备份: {exc}") from exc
    if result is None or result[0] != "ok":
        raise BackupError(f"{path} 完整性检查未通过: {result}")
    if not has_schema or has_schema[0] != 1:
        raise BackupError(f"{path} 不是 PocketCoach 的数据库备份 (没有 alembic_version 表)")


def _unreadable_source(path: Path, exc: sqlite3.DatabaseError) -> str:
    fault = classify_storage_error(exc)
    if fault is not None and fault.kind is FaultKind.CORRUPT:
        return (
            f"数据库文件 {path} 已损坏,无法备份 ({exc});"
            "请停止机器人,用 coach db restore 备份文件 --yes 从最近的备份恢复"
        )
    return f"无法读取数据库文件 {path} ({exc});请检查这个文件和它所在目录的权限"


def backup(database_url: str, target: Path) -> BackupResult:
    """Write a consistent copy of the database to `target` (replacing an older backup there)."""
    kind = make_url(database_url).get_backend_name()
    partial = _temporary_beside(target)
    try:
        if kind == "sqlite":
            source_path = _sqlite_path(database_url)
            if not source_path.is_file():
                raise BackupError(f"数据库文件不存在: {source_path}")
            read_only = read_only_sqlite_uri(source_path)  # a read-only data folder can still be backed up
            try:
                with (
                    sqlite3.connect(read_only or source_path, uri=read_only is not None) as source,
                    sqlite3.connect(partial) as copy,
                ):
                    source.backup(copy)
            except sqlite3.DatabaseError as exc:
                raise BackupError(_unreadable_source(source_path, exc)) from exc
            _check_sqlite_file(partial)
        elif kind == "postgresql":
            _run_pg_tool("pg_dump", "--format=custom", "--no-owner", f"--file={partial}", _libpq_url(database_url))
        else:
            raise BackupError(f"不支持备份这种数据库: {kind}")
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
    return BackupResult(target, kind, target.stat().st_size)


def _replace_damaged_file(source: Path, target: Path) -> Path:
    """A damaged database cannot be written through SQLite: the backup's copy takes its place as a file, the damaged
    file (and its journal) is kept beside it as `<name>.damaged`. Returns where the damaged file went."""
    partial = _temporary_beside(target)
    try:
        shutil.copyfile(source, partial)
        _check_sqlite_file(partial)
        kept = target.with_name(f"{target.name}.damaged")
        os.replace(target, kept)
        for suffix in ("-wal", "-shm"):  # a stale WAL would be replayed into the restored file
            journal = target.with_name(target.name + suffix)
            if journal.exists():
                os.replace(journal, kept.with_name(kept.name + suffix))
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
    return kept


def restore(database_url: str, source: Path) -> BackupResult:
    """Replace the database's contents with the backup's. Stop the bot first; the old contents are gone after."""
    if not source.is_file():
        raise BackupError(f"备份文件不存在: {source}")
    kind = make_url(database_url).get_backend_name()
    if kind == "sqlite":
        _check_sqlite_file(source)
        target = _sqlite_path(database_url)
        target.parent.mkdir(parents=True, exist_ok=True)
        # The backup API writes the whole database in one go under SQLite's own locking, WAL included.
        try:
            with sqlite3.connect(f"file:{source}?mode=ro", uri=True) as backup_db, sqlite3.connect(target) as live:
                backup_db.backup(live)
        except sqlite3.DatabaseError as exc:
            fault = classify_storage_error(exc)
            if fault is None or fault.kind is not FaultKind.CORRUPT:
                raise
            _replace_damaged_file(source, target)
    elif kind == "postgresql":
        _run_pg_tool(
            "pg_restore",
            "--clean",
            "--if-exists",
            "--no-owner",
            "--single-transaction",  # with --exit-on-error: a failed restore changes nothing
            "--exit-on-error",
            f"--dbname={_libpq_url(database_url)}",
            str(source),
        )
    else:
        raise BackupError(f"不支持恢复这种数据库: {kind}")
    return BackupResult(source, kind, source.stat().st_size)
