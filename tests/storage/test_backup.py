"""Backup and restore of the record, on SQLite (online backup API) and PostgreSQL (pg_dump / pg_restore)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine

from app.cli import main
from storage.backup import BackupError, backup, restore
from storage.db import UnitOfWork
from tests.storage.test_record_storage import _add_learner, _entry, records


def _record(uow: UnitOfWork) -> list[tuple[int, str, int | None]]:
    with uow.read() as session:
        return sorted((e.learner_id, e.competency, e.level) for e in records.entries(session))


def test_restore_brings_back_exactly_the_record_that_was_backed_up(engine: Engine, database_url: str, tmp_path: Path):
    uow = UnitOfWork(engine)
    learner = _add_learner(uow, 1)
    _entry(uow, learner, level=2)
    _entry(uow, learner, competency="产品理解力", level=3)
    saved = _record(uow)

    result = backup(database_url, tmp_path / "backups" / "record.bak")
    assert result.size_bytes > 0 and not list((tmp_path / "backups").glob("*.partial"))

    _entry(uow, learner, competency="谈判力", level=1)  # written after the backup: the restore removes it
    assert len(_record(uow)) == 3
    engine.dispose()

    restore(database_url, result.path)
    assert _record(UnitOfWork(engine)) == saved


def test_a_corrupt_backup_is_refused_and_the_database_is_untouched(engine: Engine, database_url: str, tmp_path: Path):
    uow = UnitOfWork(engine)
    _entry(uow, _add_learner(uow, 2), level=2)
    before = _record(uow)
    engine.dispose()
    bad = tmp_path / "broken.bak"
    bad.write_bytes(b"PGDMP" + b"\x00garbage" * 100)
    with pytest.raises(BackupError):
        restore(database_url, bad)
    with pytest.raises(BackupError, match="不存在"):
        restore(database_url, tmp_path / "missing.bak")
    assert _record(UnitOfWork(engine)) == before


def test_a_failed_backup_leaves_no_file_under_the_backup_name(tmp_path: Path):
    with pytest.raises(BackupError, match="不存在"):
        backup(f"sqlite:///{tmp_path / 'nothing.sqlite3'}", tmp_path / "out.bak")
    assert list(tmp_path.iterdir()) == []


def test_the_cli_backs_up_and_restores_only_when_confirmed(tmp_path: Path, capsys, monkeypatch):
    monkeypatch.setenv("COACH_VECTOR_STORE__MODE", "off")
    data = ["--data-dir", str(tmp_path / "data")]
    assert main([*data, "db", "upgrade"]) == 0
    assert main([*data, "db", "backup", str(tmp_path / "a.bak")]) == 0
    assert (tmp_path / "a.bak").is_file()
    assert main([*data, "db", "restore", str(tmp_path / "a.bak")]) == 2  # no --yes: nothing happens
    assert "--yes" in capsys.readouterr().err
    assert main([*data, "db", "restore", str(tmp_path / "a.bak"), "--yes"]) == 0
    assert main([*data, "db", "backup"]) == 2


def test_the_cli_prunes_old_records_but_never_inside_telegrams_redelivery_window(tmp_path: Path, capsys, monkeypatch):
    monkeypatch.setenv("COACH_VECTOR_STORE__MODE", "off")
    data = ["--data-dir", str(tmp_path / "data")]
    assert main([*data, "db", "prune", "--days", "1"]) == 2
    assert "至少" in capsys.readouterr().err
    assert main([*data, "db", "prune", "--days", "30"]) == 0
    assert "消息去重 0 条" in capsys.readouterr().out
