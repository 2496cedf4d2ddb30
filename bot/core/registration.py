"""First contact: a short registration (name → employee number → region → level), or an invite code.

State lives in the database (`registrations`), so a restart in the middle loses nothing.

An employee number belongs to whoever holds it: self-registration cannot take a number a learner holds or an open
invite reserves (checked at the number step and again just before the learner is made). An invite is used once,
expires after `invite_valid_for`, and makes its own learner — it never attaches to a learner someone else created.
"""

from __future__ import annotations

import logging
import re
import secrets
import string
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from bot.core import texts
from bot.core.input_text import clean_name, name_problem
from bot.core.messages import Button, ChannelUser, Notice, Reply, TextReply
from bot.core.roles import LEVELS, ROLE_NAMES_ZH, Role
from storage.learner_repository import LearnerRepository, RegistrationState

log = logging.getLogger(__name__)
INVITE_PATTERN = re.compile(r"^INV-[A-Z0-9]{6}$")
EMPLOYEE_NO = re.compile(r"^[A-Za-z0-9]{4,20}$")
DEFAULT_INVITE_VALID_FOR = timedelta(days=14)
LEVEL_TOKEN_PREFIX = "reg-level-"
LEVEL_BUTTONS = (tuple(Button(level, f"{LEVEL_TOKEN_PREFIX}{i}") for i, level in enumerate(LEVELS, start=1)),)


def new_invite_code() -> str:
    return "INV-" + "".join(secrets.choice(string.ascii_uppercase + string.digits) for _ in range(6))


def _parse_level(text: str) -> str | None:
    text = text.strip()
    if text.startswith(LEVEL_TOKEN_PREFIX):
        text = text.removeprefix(LEVEL_TOKEN_PREFIX)
    if text in {"1", "2", "3"}:
        return LEVELS[int(text) - 1]
    return text if text in LEVELS else None


@dataclass
class Registrar:
    """Walks an unknown user through registration inside the caller's transaction."""

    learners: LearnerRepository
    invite_valid_for: timedelta = DEFAULT_INVITE_VALID_FOR

    def handle(self, session: Session, user: ChannelUser, text: str, *, now: datetime) -> list[Reply]:
        state = self.learners.registration(session, channel=user.channel, external_id=user.external_id)
        if INVITE_PATTERN.match(text.strip().upper()):
            return self._redeem(session, user, text.strip().upper(), now=now)
        if state is None:
            self._save(session, user, RegistrationState("name", {}), now)
            return [TextReply(texts.WELCOME_NEW)]
        return self._step(session, user, state, text.strip(), now=now)

    def press_level(self, session: Session, user: ChannelUser, token: str, *, now: datetime) -> list[Reply]:
        """A level button: only meaningful at the level step (a stale or forged keyboard does nothing)."""
        state = self.learners.registration(session, channel=user.channel, external_id=user.external_id)
        if state is None or state.step != "level":
            return [Notice(texts.BUTTON_EXPIRED)]
        return self._step(session, user, state, token, now=now)

    def _step(
        self, session: Session, user: ChannelUser, state: RegistrationState, text: str, *, now: datetime
    ) -> list[Reply]:
        data = dict(state.data)
        if state.step == "name":
            name = clean_name(text)
            problem = name_problem(name)
            if problem is not None:
                return [TextReply(problem)]
            data["name"] = name
            self._save(session, user, RegistrationState("employee_no", data), now)
            return [TextReply(texts.ASK_EMPLOYEE_NO)]
        if state.step == "employee_no":
            if not EMPLOYEE_NO.match(text):
                return [TextReply(texts.BAD_EMPLOYEE_NO)]
            taken = self._number_taken(session, text.upper(), now=now)
            if taken is not None:
                return [TextReply(taken)]
            data["employee_no"] = text.upper()
            self._save(session, user, RegistrationState("region", data), now)
            return [TextReply(texts.ASK_REGION)]
        if state.step == "region":
            if not 2 <= len(text) <= 30:
                return [TextReply(texts.BAD_REGION)]
            data["region"] = text
            self._save(session, user, RegistrationState("level", data), now)
            return [TextReply(texts.ASK_LEVEL, buttons=LEVEL_BUTTONS)]
        level = _parse_level(text)
        if level is None:
            return [TextReply(texts.BAD_LEVEL, buttons=LEVEL_BUTTONS)]
        taken = self._number_taken(session, data["employee_no"], now=now)
        if taken is not None:  # taken or reserved since the number step
            self._save(session, user, RegistrationState("employee_no", data), now)
            return [TextReply(taken)]
        learner_id = self.learners.add_learner(
            session,
            name=clean_name(data["name"]),  # a name saved before names were cleaned must not fail here again
            employee_no=data["employee_no"],
            region=data["region"],
            level=level,
            role=Role.LEARNER,
            now=now,
        )
        self.learners.link_identity(session, learner_id=learner_id, channel=user.channel, external_id=user.external_id)
        self.learners.finish_registration(session, channel=user.channel, external_id=user.external_id)
        return [TextReply(texts.REGISTERED.format(name=data["name"], level=level))]

    def _redeem(self, session: Session, user: ChannelUser, code: str, *, now: datetime) -> list[Reply]:
        invite = self.learners.claim_invite(session, code)
        if invite is None:
            return [TextReply(texts.BAD_INVITE)]
        if invite.created_at + self.invite_valid_for <= now:
            return [TextReply(texts.INVITE_EXPIRED)]
        if self.learners.find_by_employee_no(session, invite.employee_no) is not None:
            # Someone else registered this number: attaching would make two accounts one person.
            log.warning("invite %s refused: employee number %s is held by another learner", code, invite.employee_no)
            return [TextReply(texts.INVITE_NUMBER_TAKEN)]
        learner_id = self.learners.add_learner(
            session,
            name=invite.name,
            employee_no=invite.employee_no,
            region=invite.region,
            level=invite.level,
            role=invite.role,
            now=now,
        )
        self.learners.link_identity(session, learner_id=learner_id, channel=user.channel, external_id=user.external_id)
        self.learners.mark_invite_used(session, code, learner_id)
        self.learners.finish_registration(session, channel=user.channel, external_id=user.external_id)
        role_name = ROLE_NAMES_ZH.get(Role(invite.role), invite.role)
        return [TextReply(texts.INVITE_ACCEPTED.format(name=invite.name, role=role_name))]

    def _number_taken(self, session: Session, employee_no: str, *, now: datetime) -> str | None:
        """Why self-registration cannot take this number (held by a learner, reserved by an open invite)."""
        if self.learners.find_by_employee_no(session, employee_no) is not None:
            return texts.EMPLOYEE_NO_TAKEN
        if self.learners.open_invite_for(session, employee_no, created_after=now - self.invite_valid_for):
            return texts.EMPLOYEE_NO_RESERVED
        return None

    def _save(self, session: Session, user: ChannelUser, state: RegistrationState, now: datetime) -> None:
        self.learners.save_registration(
            session, channel=user.channel, external_id=user.external_id, state=state, now=now
        )
