"""`coach users bind`: an admin links a learner's employee number to a channel account (`wecom:USERID`,
`telegram:ID`) so they skip registration there, one by one or from an Excel sheet. One learner may hold one
account per channel and sees one record on all of them; an account belongs to one learner."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from storage.db import UnitOfWork
from storage.learner_repository import LearnerRepository

BINDABLE_CHANNELS = ("wecom", "telegram")
_ACCOUNT = re.compile(r"^[A-Za-z0-9_.@-]{1,64}$")  # a WeCom userid, a Telegram user id
EMPLOYEE_HEADERS = {"工号", "employee_no"}
ACCOUNT_HEADERS = {"企业微信账号", "企业微信", "wecom", "userid", "账号"}


@dataclass(frozen=True)
class BindResult:
    ok: bool
    message: str


def parse_identity(identity: str) -> tuple[str, str] | None:
    channel, _, account = identity.strip().partition(":")
    if channel not in BINDABLE_CHANNELS or not _ACCOUNT.match(account):
        return None
    return channel, account


def bind_identity(uow: UnitOfWork, learners: LearnerRepository, *, employee_no: str, identity: str) -> BindResult:
    parsed = parse_identity(identity)
    if parsed is None:
        return BindResult(False, f"账号「{identity}」格式不对:写成 wecom:成员账号 或 telegram:数字ID")
    channel, account = parsed
    with uow.begin() as session:
        learner = learners.find_by_employee_no(session, employee_no.strip())
        if learner is None:
            return BindResult(False, f"没有工号 {employee_no} 的学员 (先 coach users invite 或让其登记)")
        holder = learners.find_by_identity(session, channel=channel, external_id=account)
        if holder is not None:
            if holder.learner_id == learner.learner_id:
                return BindResult(True, f"{channel}:{account} 已绑定 {learner.name} ({learner.employee_no})")
            return BindResult(False, f"{channel}:{account} 已属于 {holder.name} ({holder.employee_no}),未改动")
        current = learners.identities_of(session, learner.learner_id, channel=channel)
        if current:
            return BindResult(False, f"{learner.name} ({learner.employee_no}) 已绑定 {channel}:{current[0]},未改动")
        learners.link_identity(session, learner_id=learner.learner_id, channel=channel, external_id=account)
        learners.finish_registration(session, channel=channel, external_id=account)  # a half-done one is moot
    return BindResult(True, f"已绑定 {channel}:{account} → {learner.name} ({learner.employee_no})")


def read_binding_sheet(path: Path) -> list[tuple[int, str, str]]:
    """(row number, employee number, account) from the first sheet: a header row naming 工号 and 企业微信账号
    (a bare userid is taken as WeCom's; `telegram:…` is kept as written)."""
    from openpyxl import load_workbook

    workbook = load_workbook(path, read_only=True, data_only=True)
    try:
        rows = list(workbook.worksheets[0].iter_rows(values_only=True))
    finally:
        workbook.close()
    if not rows:
        raise ValueError(f"{path.name}: 表格是空的")
    header = [str(cell or "").strip() for cell in rows[0]]
    employee_col = next((i for i, name in enumerate(header) if name in EMPLOYEE_HEADERS), None)
    account_col = next((i for i, name in enumerate(header) if name.lower() in ACCOUNT_HEADERS), None)
    if employee_col is None or account_col is None:
        raise ValueError(f"{path.name}: 第 1 行要有「工号」和「企业微信账号」两列")
    found: list[tuple[int, str, str]] = []
    for number, row in enumerate(rows[1:], start=2):
        employee = str(row[employee_col] or "").strip() if employee_col < len(row) else ""
        account = str(row[account_col] or "").strip() if account_col < len(row) else ""
        if not employee and not account:
            continue
        found.append((number, employee, account if ":" in account else f"wecom:{account}"))
    return found


def cmd_users_bind(*, uow: UnitOfWork, employee_no: str | None, identity: str | None, sheet: Path | None) -> int:
    """One binding from the arguments, or every row of the sheet; 1 when any failed (each is reported)."""
    import sys

    learners = LearnerRepository()
    if sheet is not None:
        try:
            rows = read_binding_sheet(sheet)
        except (OSError, ValueError) as exc:
            print(f"读不了绑定表: {exc}", file=sys.stderr)
            return 2
        failed = 0
        for number, employee, account in rows:
            result = bind_identity(uow, learners, employee_no=employee, identity=account)
            failed += not result.ok
            print(f"第 {number} 行: {result.message}", file=sys.stdout if result.ok else sys.stderr)
        print(f"共 {len(rows)} 行,成功 {len(rows) - failed},失败 {failed}")
        return 1 if failed else 0
    if not employee_no or not identity:
        print("用法: coach users bind 工号 wecom:成员账号,或 coach users bind --from 表格.xlsx", file=sys.stderr)
        return 2
    result = bind_identity(uow, learners, employee_no=employee_no, identity=identity)
    print(result.message, file=sys.stdout if result.ok else sys.stderr)
    return 0 if result.ok else 1
