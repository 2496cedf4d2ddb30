"""Admin use cases shared by the chat (/grant, /invite) and the `coach users` command.

The functions work inside the caller's session; `UserAdmin` wraps them in their own transaction.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.core import texts
from bot.core.input_text import clean_name, name_problem
from bot.core.registration import DEFAULT_INVITE_VALID_FOR, EMPLOYEE_NO, new_invite_code
from bot.core.roles import LEVELS, ROLE_NAMES_ZH, parse_role
from storage.db import UnitOfWork, utc_now
from storage.learner_repository import LearnerRecord, LearnerRepository
from storage.models import Learner
from storage.text_hygiene import strip_control_characters


def grant_role(session: Session, learners: LearnerRepository, employee_no: str, role_text: str) -> tuple[bool, str]:
    """Give the learner with this employee number a role; (done, message)."""
    role = parse_role(role_text)
    if role is None:
        return False, texts.GRANT_USAGE
    target = learners.find_by_employee_no(session, employee_no.upper())
    if target is None:
        return False, texts.GRANT_UNKNOWN.format(employee_no=employee_no)
    learners.set_role(session, target.learner_id, role)
    return True, texts.GRANT_DONE.format(name=target.name, employee_no=target.employee_no, role=ROLE_NAMES_ZH[role])


def create_invite(
    session: Session,
    learners: LearnerRepository,
    fields: list[str],
    *,
    now: datetime,
    valid_for: timedelta = DEFAULT_INVITE_VALID_FOR,
) -> tuple[bool, str]:
    """fields = role, name, employee number, region, level; (done, message with the code).

    A number someone already holds gets no invite (its role changes with /grant); a new invite for a number
    replaces the earlier unused ones, so one code at a time reserves a number.
    """
    fields = [strip_control_characters(f) for f in fields]
    role = parse_role(fields[0]) if len(fields) == 5 else None
    if role is None or fields[4] not in LEVELS:
        return False, texts.INVITE_USAGE
    _, name, employee_no, region, level = fields
    name, employee_no = clean_name(name), employee_no.upper()
    problem = name_problem(name)
    if problem is not None:
        return False, problem
    if not EMPLOYEE_NO.match(employee_no):
        return False, texts.BAD_EMPLOYEE_NO
    if not 2 <= len(region) <= 30:
        return False, texts.BAD_REGION
    if learners.find_by_employee_no(session, employee_no) is not None:
        return False, texts.INVITE_NUMBER_HELD.format(employee_no=employee_no)
    replaced = learners.revoke_unused_invites(session, employee_no)
    code = new_invite_code()
    learners.add_invite(
        session, code=code, role=role, name=name, employee_no=employee_no, region=region, level=level, now=now
    )
    return True, texts.INVITE_CREATED.format(
        code=code, name=name, days=valid_for.days, replaced=texts.INVITE_REPLACED if replaced else ""
    )


@dataclass
class UserAdmin:
    uow: UnitOfWork
    learners: LearnerRepository
    clock: Callable[[], datetime] = utc_now
    invite_valid_for: timedelta = DEFAULT_INVITE_VALID_FOR

    def list_learners(self) -> list[LearnerRecord]:
        with self.uow.read() as session:
            numbers = session.scalars(select(Learner.employee_no).order_by(Learner.employee_no)).all()
            return [r for r in (self.learners.find_by_employee_no(session, n) for n in numbers) if r is not None]

    def grant(self, employee_no: str, role_text: str) -> tuple[bool, str]:
        with self.uow.begin() as session:
            return grant_role(session, self.learners, employee_no, role_text)

    def invite(self, *fields: str) -> tuple[bool, str]:
        with self.uow.begin() as session:
            return create_invite(
                session, self.learners, list(fields), now=self.clock(), valid_for=self.invite_valid_for
            )

    def supervise(self, employee_no: str, supervisor_no: str) -> tuple[bool, str]:
        """Put a learner in a supervisor's team ("-" removes them from any team)."""
        with self.uow.begin() as session:
            learner = self.learners.find_by_employee_no(session, employee_no.upper())
            supervisor = (
                None if supervisor_no == "-" else self.learners.find_by_employee_no(session, supervisor_no.upper())
            )
            if learner is None or (supervisor is None and supervisor_no != "-"):
                return False, texts.GRANT_UNKNOWN.format(employee_no=employee_no if learner is None else supervisor_no)
            self.learners.set_supervisor(session, learner.learner_id, supervisor.learner_id if supervisor else None)
        return True, f"已设置:{learner.name} 的主管为 {supervisor.name if supervisor else '(无)'}"
