"""Storage faults met by `coach` commands, injected for real: a closed port, a read-only data folder (a read-only
bind mount when tests run as root), a truncated SQLite file. Each gives one Chinese message that says what is
wrong, where and what to do, exits 1, keeps the traceback for `--debug` and the fault log, and changes nothing."""

from __future__ import annotations

import hashlib
import logging
import shutil
import socket
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from app.cli import main
from bot.core import texts
from bot.core.conversation import Conversation
from bot.core.messages import ChannelUser, Inbound, TextReply
from storage.db import UnitOfWork, create_database_engine
from storage.interaction_repository import InteractionRepository
from storage.learner_repository import LearnerRepository
from tests.bot.conftest import FakeKnowledge
from tests.support.read_only import read_only_folder

DOC = (
    "# 客户经理晋级流程\n\n## 评估\n\n员工填写晋级申请表后,由直接上司和跨级上司分别评估,权重各为50%。\n\n"
    "## 原则\n\n晋级逐级进行,不得跨级,每半年评审一次。\n"
)
QUESTION = "晋级能跨级吗"


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def ingested(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data folder holding one ingested document (lexical only), copied by each test."""
    root = tmp_path_factory.mktemp("faults")
    (root / "docs").mkdir()
    (root / "docs" / "晋级.md").write_text(DOC, encoding="utf-8")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("COACH_VECTOR_STORE__MODE", "off")
        data = root / "data"
        assert main(["--data-dir", str(data), "ingest", str(root / "docs"), "--collection", "processes"]) == 0
    return data


@pytest.fixture
def data(ingested: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("COACH_VECTOR_STORE__MODE", "off")
    monkeypatch.delenv("TELEGRAM_BOT_TOKEN", raising=False)
    monkeypatch.delenv("COACH_STORAGE__DATABASE_URL", raising=False)
    copy = tmp_path / "data"
    shutil.copytree(ingested, copy)
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "新.md").write_text("# 新文档\n\n投诉处理要在两个工作日内回复客户。\n", encoding="utf-8")
    return copy


def _commands(data: Path) -> dict[str, list[str]]:
    docs = str(data.parent / "docs")
    return {
        "search": ["search", QUESTION],
        "quiz list": ["quiz", "list"],
        "ask": ["ask", QUESTION],
        "users list": ["users", "list"],
        "db upgrade": ["db", "upgrade"],
        "ingest": ["ingest", docs, "--collection", "processes", "--no-progress"],
        "run": ["run"],
    }


EVERY_COMMAND = list(_commands(Path("x")))


def _coach(data: Path, argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(["--data-dir", str(data), *argv])
    out, err = capsys.readouterr()
    return code, out, err


def _fingerprint(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and "logs" not in p.parts
    }


@pytest.mark.parametrize("command", EVERY_COMMAND)
def test_an_unreachable_database_is_one_chinese_message_per_command(command, data, capsys, monkeypatch):
    port = _closed_port()
    monkeypatch.setenv("COACH_STORAGE__DATABASE_URL", f"postgresql+psycopg://coach:geheim@127.0.0.1:{port}/coach")
    code, _, err = _coach(data, _commands(data)[command], capsys)
    assert code == 1
    assert "Traceback" not in err and "sqlalchemy" not in err
    assert f"无法连接数据库 postgresql+psycopg://coach:***@127.0.0.1:{port}/coach" in err
    assert "geheim" not in err
    assert "COACH_STORAGE__DATABASE_URL" in err and "数据库服务已启动" in err
    assert len(err.strip().splitlines()) <= 4, err
    log = data / "logs" / "faults.log"
    assert f"coach {command.split()[0]}" in log.read_text(encoding="utf-8")
    assert "Traceback" in log.read_text(encoding="utf-8")  # the traceback is kept, in the fault log


def test_debug_shows_the_traceback_too(data, capsys, monkeypatch):
    monkeypatch.setenv("COACH_STORAGE__DATABASE_URL", f"postgresql+psycopg://coach@127.0.0.1:{_closed_port()}/c")
    code, _, err = _coach(data, ["--debug", "quiz", "list"], capsys)
    assert code == 1
    assert "Traceback" in err and "OperationalError" in err and "无法连接数据库" in err
    code, _, err = _coach(data, ["quiz", "list", "--debug"], capsys)  # after the subcommand, like --data-dir
    assert code == 1 and "Traceback" in err


def test_a_bug_is_not_dressed_up_as_a_storage_fault(data, capsys, monkeypatch):
    import app.commands

    def broken(args, services):  # type: ignore[no-untyped-def]
        raise KeyError("a bug")

    monkeypatch.setitem(app.commands.COMMANDS, "report", broken)
    with pytest.raises(KeyError):
        main(["--data-dir", str(data), "report", "unanswered"])


def test_a_read_only_data_folder_still_serves_search_and_ask_and_refuses_changes_clearly(data, capsys):
    before = _fingerprint(data)
    with read_only_folder(data):
        code, out, err = _coach(data, ["search", QUESTION], capsys)
        assert code == 0, err
        assert "不得跨级" in out
        code, out, _ = _coach(data, ["ask", QUESTION], capsys)
        assert code == 0 and "不得跨级" in out
        for reading in (["users", "list"], ["quiz", "list"]):
            assert _coach(data, reading, capsys)[0] == 0
        code, out, err = _coach(data, ["users", "invite", "学员", "李四", "A1002", "西宁", "初级"], capsys)
        assert code == 1
        assert "Traceback" not in err
        assert f"请检查数据目录 {data}" in err and "权限" in err and "coach search 和 coach ask 仍可使用" in err
        code, _, err = _coach(data, _commands(data)["ingest"], capsys)
        assert code == 1 and "无法写入" in err and "Traceback" not in err
        code, _, err = _coach(data, ["db", "backup", str(data.parent / "ro.bak")], capsys)
        assert code == 0, err  # reading is all a backup needs
        assert _fingerprint(data) == before  # nothing was written, nothing lost
    # writable again, the same database takes the change (in a new process: this one's SQLite still shares the
    # read-only mount's memory map of the WAL index, as a process that was given a read-only folder would)
    invite = ["users", "invite", "学员", "李四", "A1002", "西宁", "初级"]
    done = subprocess.run(
        [sys.executable, "-m", "app.cli", "--data-dir", str(data), *invite],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    code, out, err = _coach(data.parent / "restored", ["db", "restore", str(data.parent / "ro.bak"), "--yes"], capsys)
    assert code == 0, err
    code, out, _ = _coach(data.parent / "restored", ["search", QUESTION], capsys)
    assert code == 0 and "不得跨级" in out  # the backup taken from the read-only folder holds the knowledge base


def test_a_lock_held_past_the_timeout_is_named(tmp_path):
    from app.fault_messages import fault_message
    from storage.faults import FaultKind, classify_storage_error
    from tests.conftest import make_settings

    path = tmp_path / "coach.sqlite3"
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("CREATE TABLE t (x)")
    holder.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(sqlite3.OperationalError) as raised:
            sqlite3.connect(path, timeout=0).execute("INSERT INTO t VALUES (1)")
    finally:
        holder.close()
    fault = classify_storage_error(raised.value)
    assert fault is not None and fault.kind is FaultKind.LOCKED
    message = fault_message(fault, settings=make_settings(tmp_path))
    assert "正被其他进程锁定" in message and str(path) in message


def _truncate(path: Path) -> bytes:
    """Cut the file after its first four pages: the header says more pages follow (a copy or disk that stopped)."""
    with sqlite3.connect(path) as connection:  # everything into the main file first, none left in the WAL
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    assert path.stat().st_size > 16384
    with path.open("r+b") as fh:
        fh.truncate(16384)
    return path.read_bytes()


def test_a_truncated_database_says_restore_from_a_backup_for_every_command(data, tmp_path, capsys):
    code, _, err = _coach(data, ["db", "backup", str(tmp_path / "good.bak")], capsys)
    assert code == 0, err
    database = data / "coach.sqlite3"
    damaged = _truncate(database)
    for name, argv in _commands(data).items():
        code, out, err = _coach(data, argv, capsys)
        assert code == 1, name
        assert f"SQLite 文件 {database} 已损坏" in err and "coach db restore 备份文件 --yes" in err, (name, err)
        assert "Traceback" not in err, name
    code, _, err = _coach(data, ["db", "backup", str(tmp_path / "new.bak")], capsys)
    assert code == 1
    assert f"数据库文件 {database} 已损坏,无法备份" in err and "Traceback" not in err
    assert not (tmp_path / "new.bak").exists() and not list(tmp_path.glob("*.partial"))
    assert database.read_bytes() == damaged  # no command wrote into the damaged file

    code, out, err = _coach(data, ["db", "restore", str(tmp_path / "good.bak"), "--yes"], capsys)
    assert code == 0, err
    assert (data / "coach.sqlite3.damaged").read_bytes() == damaged  # kept for whoever investigates
    code, out, _ = _coach(data, ["search", QUESTION], capsys)
    assert code == 0 and "不得跨级" in out


def test_the_chat_logs_one_line_per_message_while_the_database_is_away(caplog):
    port = _closed_port()
    broken = Conversation(
        uow=UnitOfWork(create_database_engine(f"postgresql+psycopg://nobody@127.0.0.1:{port}/none")),
        knowledge=FakeKnowledge(),
        learners=LearnerRepository(),
        interactions=InteractionRepository(),
    )
    user = ChannelUser("telegram", "1001", "Alice")
    with caplog.at_level(logging.INFO):
        for text in ("晋级流程", "/help", "/record"):
            assert broken.handle(Inbound.from_text(user, text)).replies == (TextReply(texts.DATABASE_DOWN),)
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 3
    for record in errors:
        assert record.exc_info is None and "\n" not in record.getMessage()
        assert "unreachable" in record.getMessage() and f"port {port}" in record.getMessage()


def test_the_index_refresh_logs_one_line_per_check_while_the_database_is_away(caplog):
    from sqlalchemy import text

    from knowledge.fresh_search import FreshSearch

    engine = create_database_engine(f"postgresql+psycopg://nobody@127.0.0.1:{_closed_port()}/none")
    up = {"yes": True}

    def generation() -> int:
        if up["yes"]:
            return 1
        with engine.connect() as connection:  # the real driver error of a database that went away
            return int(connection.execute(text("SELECT 1")).scalar_one())

    fresh = FreshSearch(build=lambda g: f"index@{g}", generation=generation, check_every=0.0, background=False)
    assert fresh.current() == "index@1"
    up["yes"] = False
    with caplog.at_level(logging.INFO, logger="knowledge.fresh_search"):
        for _ in range(3):
            assert fresh.current() == "index@1"  # the loaded index keeps answering
    warnings = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warnings) == 3
    assert all(r.exc_info is None and "unreachable: connection failed" in r.getMessage() for r in warnings)
