"""A storage fault met by a `coach` command becomes one message in Chinese: what is wrong, where, what to do.

The traceback goes to a fault log (`<data_dir>/logs/faults.log`, or the system's temporary folder when the data
folder cannot be written) and, with `coach --debug`, to the terminal too. Anything that is not a known storage
fault is not caught here: it is a bug and keeps its traceback.
"""

from __future__ import annotations

import sys
import tempfile
import traceback
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from storage.faults import FaultKind, StorageFault, classify_storage_error

if TYPE_CHECKING:
    from app.settings import Settings

FAULT_EXIT_CODE = 1  # what an uncaught exception gave before: scripts that test for failure keep working
FAULT_LOG_NAME = "faults.log"


def _database_shown(settings: Settings) -> str:
    from sqlalchemy.engine import make_url

    url = make_url(settings.database_url)
    if url.get_backend_name() == "sqlite":
        return f"SQLite 文件 {url.database}"
    return f"数据库 {url.render_as_string(hide_password=True)}"


def fault_message(fault: StorageFault, *, settings: Settings) -> str:
    """What is wrong, where, and what to do, for the operator."""
    database = _database_shown(settings)
    if fault.kind is FaultKind.UNREACHABLE:
        return (
            f"无法连接{database}: {fault.detail}\n"
            "请检查 storage.database_url (或环境变量 COACH_STORAGE__DATABASE_URL) 中的主机、端口、用户名和库名,"
            "并确认数据库服务已启动、本机可以访问。"
        )
    if fault.kind is FaultKind.READ_ONLY:
        where = fault.filename or str(settings.data_dir)
        return (
            f"无法写入 {where} ({database}): {fault.detail}\n"
            f"请检查数据目录 {settings.data_dir} 及其中文件的权限 (运行 coach 的用户需要读写),"
            "或用 --data-dir 换一个可写的目录。数据目录只读时,coach search 和 coach ask 仍可使用,修改数据的命令不行。"
        )
    if fault.kind is FaultKind.CORRUPT:
        return (
            f"{database} 已损坏,无法读取: {fault.detail}\n"
            "请先停止机器人,再用 coach db restore 备份文件 --yes 从最近的备份恢复"
            " (损坏的文件会保留为 同名.damaged,以便排查)。"
        )
    return (
        f"{database} 正被其他进程锁定 (等待超时): {fault.detail}\n"
        "请确认没有另一个 coach 进程 (入库、机器人) 长时间占用数据库,稍后再试。"
    )


def _fault_log_paths(settings: Settings) -> list[Path]:
    return [settings.data_dir / "logs" / FAULT_LOG_NAME, Path(tempfile.gettempdir()) / f"pocketcoach-{FAULT_LOG_NAME}"]


def write_fault_log(exc: BaseException, *, settings: Settings, command: str) -> Path | None:
    """Append the traceback to the first fault log that can be written; its path, or None."""
    trace = "".join(traceback.format_exception(exc))
    entry = f"=== {datetime.now(UTC).isoformat(timespec='seconds')} coach {command}\n{trace}\n"
    for path in _fault_log_paths(settings):
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            with path.open("a", encoding="utf-8") as log_file:
                log_file.write(entry)
        except OSError:
            continue
        return path
    return None


def report_fault(
    exc: BaseException, *, settings: Settings, command: str, debug: bool, err: TextIO | None = None
) -> int | None:
    """Print the Chinese message for a storage fault and return the exit code; None when `exc` is no storage
    fault (the caller re-raises it)."""
    fault = classify_storage_error(exc)
    if fault is None:
        return None
    err = err or sys.stderr
    logged = write_fault_log(exc, settings=settings, command=command)
    if debug:
        traceback.print_exception(exc, file=err)
    print(f"错误: {fault_message(fault, settings=settings)}", file=err)
    if logged is not None and not debug:
        print(f"详细信息已写入 {logged} (加 --debug 可直接显示)。", file=err)
    return FAULT_EXIT_CODE
