"""The conversation core: one inbound message in, channel-neutral replies out. Imports no channel code.

Each inbound message is one use case in one transaction: it commits once, or nothing is written.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from typing import Any

from sqlalchemy.exc import DataError, DBAPIError, OperationalError
from sqlalchemy.orm import Session

from bot.core import routing, texts
from bot.core.input_text import clean_inbound
from bot.core.local_time import PROGRAMME_TIME_ZONE
from bot.core.lookup import QuickLookup
from bot.core.messages import ChannelUser, Inbound, Notice, Outcome, TextReply
from bot.core.ports import KnowledgeLookup
from bot.core.quiz_chat import QuizChat
from bot.core.record_chat import RecordChat
from bot.core.registration import DEFAULT_INVITE_VALID_FOR, LEVEL_TOKEN_PREFIX, Registrar
from bot.core.reminder_chat import ReminderChat
from bot.core.reply_codec import decode_replies, encode_replies
from bot.core.roles import Role
from storage.db import UnitOfWork, utc_now
from storage.faults import describe_storage_error
from storage.interaction_repository import InteractionRepository, UpdateClaim
from storage.learner_repository import LearnerRecord, LearnerRepository

log = logging.getLogger(__name__)


@dataclass
class Conversation:
    """Routes an inbound message: registration for strangers, then commands, questions and buttons."""

    uow: UnitOfWork
    knowledge: KnowledgeLookup
    learners: LearnerRepository
    interactions: InteractionRepository
    quizzes: QuizChat | None = None
    records: RecordChat | None = None
    reminders: ReminderChat | None = None
    clock: Callable[[], datetime] = utc_now
    new_token: Callable[[], str] = lambda: secrets.token_urlsafe(12)
    invite_valid_for: timedelta = DEFAULT_INVITE_VALID_FOR
    time_zone: tzinfo = PROGRAMME_TIME_ZONE  # settings.app.time_zone: every time a person reads is shown in it

    def __post_init__(self) -> None:
        self.lookup = QuickLookup(self.knowledge, self.interactions, self.new_token)

    def handle(self, inbound: Inbound) -> Outcome:
        """Handle one message; database trouble becomes a clear reply and nothing half-written."""
        now = self.clock()
        try:
            with self.uow.begin() as session:
                if not inbound.update_id:
                    return self._route(session, inbound, now)
                claim = UpdateClaim(
                    channel=inbound.user.channel,
                    bot_id=inbound.bot_id,
                    update_id=inbound.update_id,
                    digest=inbound.digest,
                    sender=inbound.user.external_id,
                    chat=inbound.chat_id or inbound.user.external_id,
                )
                if not self.interactions.claim_update(session, claim, now=now):
                    # Re-delivered: nothing changes; the first answer may never have arrived, so it is repeated —
                    # to the very sender and chat it was meant for (saved_replies gives nothing to anyone else).
                    saved = self.interactions.saved_replies(session, claim)
                    renderers = self.records.renderers if self.records is not None else {}
                    return Outcome(decode_replies(saved, renderers=renderers) if saved else (), duplicate=True)
                outcome = self._route(session, inbound, now)
                self.interactions.save_replies(session, claim, replies=encode_replies(outcome.replies))
                return outcome
        except DataError:  # bad input the cleaning let through is the sender's problem, not an outage
            log.warning("data refused by the database while handling %s", inbound.kind, exc_info=True)
            return Outcome((TextReply(texts.BAD_INPUT),))
        except (OperationalError, DBAPIError) as exc:
            # one line per failed message while the database is away (the traceback only at DEBUG)
            log.error("database unavailable while handling %s: %s", inbound.kind, describe_storage_error(exc))
            log.debug("database error while handling %s", inbound.kind, exc_info=True)
            return Outcome((TextReply(texts.DATABASE_DOWN),))

    def provision(
        self, user: ChannelUser, *, name: str, employee_no: str, region: str, level: str, role: Role
    ) -> LearnerRecord:
        """Make sure a channel user is a registered learner (the console's local operator, admin scripts)."""
        with self.uow.begin() as session:
            found = self.learners.find_by_identity(session, channel=user.channel, external_id=user.external_id)
            if found is not None:
                return found
            learner = self.learners.find_by_employee_no(session, employee_no)
            learner_id = (
                learner.learner_id
                if learner
                else self.learners.add_learner(
                    session,
                    name=name,
                    employee_no=employee_no,
                    region=region,
                    level=level,
                    role=role,
                    now=self.clock(),
                )
            )
            self.learners.link_identity(
                session, learner_id=learner_id, channel=user.channel, external_id=user.external_id
            )
            session.flush()
            found = self.learners.find_by_identity(session, channel=user.channel, external_id=user.external_id)
            assert found is not None
            return found

    def _route(self, session: Session, inbound: Inbound, now: datetime) -> Outcome:
        inbound = clean_inbound(inbound)  # no control characters reach a use case or storage
        user = inbound.user
        learner = self.learners.find_by_identity(session, channel=user.channel, external_id=user.external_id)
        if learner is None:
            return self._stranger(session, inbound, now)
        if inbound.kind == "button":
            return self._button(session, learner, inbound.button_token, now)
        if inbound.kind == "command":
            return Outcome(
                tuple(routing.run_command(self._call(session, learner, now, args=inbound.args), inbound.command))
            )
        if inbound.kind == "text":
            return Outcome(tuple(self.lookup.ask(session, learner, inbound.text, now=now)), busy=True)
        if inbound.kind == "file" and inbound.file is not None:
            if self.quizzes is None:
                return Outcome((TextReply(texts.FEATURE_UNAVAILABLE),))
            button = self._call(session, learner, now).button()
            return Outcome(tuple(self.quizzes.upload(session, learner, inbound.file, button, now=now)))
        return Outcome((TextReply(texts.UNSUPPORTED),))

    def _stranger(self, session: Session, inbound: Inbound, now: datetime) -> Outcome:
        registrar = Registrar(self.learners, self.invite_valid_for)
        if inbound.kind == "button":
            if inbound.button_token.startswith(LEVEL_TOKEN_PREFIX):
                return Outcome(tuple(registrar.press_level(session, inbound.user, inbound.button_token, now=now)))
            return Outcome((Notice(texts.NOT_REGISTERED),))
        if inbound.kind == "command" and inbound.command == "start":
            text = inbound.args  # "/start INV-XXXXXX" deep link carries an invite code
        elif inbound.kind == "text":
            text = inbound.text
        else:
            text = ""
        state = self.learners.registration(session, channel=inbound.user.channel, external_id=inbound.user.external_id)
        if state is None or text:
            return Outcome(tuple(registrar.handle(session, inbound.user, text, now=now)))
        return Outcome((TextReply(texts.NOT_REGISTERED),))

    def _button(self, session: Session, learner: LearnerRecord, token: str, now: datetime) -> Outcome:
        action = self.interactions.take_action(session, token) if token else None
        if action is None or action.learner_id != learner.learner_id:
            return Outcome((Notice(texts.BUTTON_EXPIRED),))
        if action.used:
            return Outcome((Notice(texts.ALREADY_DONE),), duplicate=True)
        refusal = routing.action_refusal(action.action, learner.role)  # the presser's role now, not at making
        if refusal is not None:
            return Outcome((refusal,))
        if not routing.action_is_reusable(action.action):
            self.interactions.mark_action_used(session, token, now)
        call = self._call(session, learner, now, action=action.action, payload=action.payload)
        return Outcome(tuple(routing.run_action(call)))

    def _call(self, session: Session, learner: LearnerRecord, now: datetime, **request: Any) -> routing.Call:
        services = routing.Services(
            learners=self.learners,
            interactions=self.interactions,
            lookup=self.lookup,
            quizzes=self.quizzes,
            records=self.records,
            new_token=self.new_token,
            invite_valid_for=self.invite_valid_for,
            time_zone=self.time_zone,
            reminders=self.reminders,
        )
        return routing.Call(services, session, learner, now, **request)
