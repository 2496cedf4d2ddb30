"""Learners, their channel identities, registrations in progress and invite codes. Never commits."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from storage.models import ChannelIdentity, InviteCode, Learner, Registration


@dataclass(frozen=True)
class LearnerRecord:
    learner_id: int
    name: str
    employee_no: str
    region: str
    level: str
    role: str
    collection_filter: str
    supervisor_id: int | None = None


@dataclass(frozen=True)
class RegistrationState:
    step: str
    data: dict[str, str]


def _record(learner: Learner) -> LearnerRecord:
    return LearnerRecord(
        learner.id,
        learner.name,
        learner.employee_no,
        learner.region,
        learner.level,
        learner.role,
        learner.collection_filter,
        learner.supervisor_id,
    )


class LearnerRepository:
    def find_by_identity(self, session: Session, *, channel: str, external_id: str) -> LearnerRecord | None:
        learner = session.scalar(
            select(Learner)
            .join(ChannelIdentity, ChannelIdentity.learner_id == Learner.id)
            .where(ChannelIdentity.channel == channel, ChannelIdentity.external_id == external_id)
        )
        return None if learner is None else _record(learner)

    def find_by_employee_no(self, session: Session, employee_no: str) -> LearnerRecord | None:
        learner = session.scalar(select(Learner).where(Learner.employee_no == employee_no))
        return None if learner is None else _record(learner)

    def add_learner(
        self, session: Session, *, name: str, employee_no: str, region: str, level: str, role: str, now: datetime
    ) -> int:
        learner = Learner(name=name, employee_no=employee_no, region=region, level=level, role=role, created_at=now)
        session.add(learner)
        session.flush()
        return learner.id

    def link_identity(self, session: Session, *, learner_id: int, channel: str, external_id: str) -> None:
        session.add(ChannelIdentity(channel=channel, external_id=external_id, learner_id=learner_id))

    def identities_of(self, session: Session, learner_id: int, *, channel: str) -> list[str]:
        """The learner's accounts on `channel` (their external ids)."""
        return list(
            session.scalars(
                select(ChannelIdentity.external_id)
                .where(ChannelIdentity.learner_id == learner_id, ChannelIdentity.channel == channel)
                .order_by(ChannelIdentity.id)
            )
        )

    def set_role(self, session: Session, learner_id: int, role: str) -> None:
        session.get_one(Learner, learner_id).role = role

    def set_supervisor(self, session: Session, learner_id: int, supervisor_id: int | None) -> None:
        session.get_one(Learner, learner_id).supervisor_id = supervisor_id

    def set_collection_filter(self, session: Session, learner_id: int, value: str) -> None:
        session.get_one(Learner, learner_id).collection_filter = value

    def registration(self, session: Session, *, channel: str, external_id: str) -> RegistrationState | None:
        row = self._registration_row(session, channel, external_id)
        return None if row is None else RegistrationState(row.step, json.loads(row.data))

    def save_registration(
        self, session: Session, *, channel: str, external_id: str, state: RegistrationState, now: datetime
    ) -> None:
        row = self._registration_row(session, channel, external_id)
        if row is None:
            row = Registration(channel=channel, external_id=external_id, step=state.step, data="{}", updated_at=now)
            session.add(row)
        row.step = state.step
        row.data = json.dumps(state.data, ensure_ascii=False)
        row.updated_at = now

    def finish_registration(self, session: Session, *, channel: str, external_id: str) -> None:
        row = self._registration_row(session, channel, external_id)
        if row is not None:
            session.delete(row)

    @staticmethod
    def _registration_row(session: Session, channel: str, external_id: str) -> Registration | None:
        return session.scalar(
            select(Registration).where(Registration.channel == channel, Registration.external_id == external_id)
        )

    def add_invite(
        self,
        session: Session,
        *,
        code: str,
        role: str,
        name: str,
        employee_no: str,
        region: str,
        level: str,
        now: datetime,
    ) -> None:
        session.add(
            InviteCode(
                code=code, role=role, name=name, employee_no=employee_no, region=region, level=level, created_at=now
            )
        )

    def claim_invite(self, session: Session, code: str) -> InviteCode | None:
        """The unused invite with this code, locked for this transaction, or None."""
        invite = session.scalar(
            select(InviteCode).where(InviteCode.code == code, InviteCode.used_by.is_(None)).with_for_update()
        )
        return invite

    def open_invite_for(self, session: Session, employee_no: str, *, created_after: datetime) -> InviteCode | None:
        """An unused invite for this employee number made after `created_after` (one still valid), or None."""
        return session.scalar(
            select(InviteCode)
            .where(
                InviteCode.employee_no == employee_no,
                InviteCode.used_by.is_(None),
                InviteCode.created_at > created_after,
            )
            .limit(1)
        )

    def revoke_unused_invites(self, session: Session, employee_no: str) -> int:
        """Delete every unused invite for this employee number (a new one replaces them); how many there were."""
        result = session.execute(
            delete(InviteCode).where(InviteCode.employee_no == employee_no, InviteCode.used_by.is_(None))
        )
        return int(result.rowcount or 0)  # type: ignore[attr-defined]

    def mark_invite_used(self, session: Session, code: str, learner_id: int) -> None:
        session.get_one(InviteCode, code).used_by = learner_id
