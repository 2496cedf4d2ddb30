"""The conversation core: one inbound message in, channel-neutral replies out. Imports no channel code.

Each inbound message is one use case in one transaction: it commits once, or nothing is written.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import Session

from bot.core import texts
from bot.core.admin import create_invite, grant_role
from bot.core.buttons import button_maker
from bot.core.lookup import QuickLookup
from bot.core.messages import ChannelUser, Inbound, Notice, Outcome, Reply, TextReply
from bot.core.ports import KnowledgeLookup
from bot.core.quiz_chat import REUSABLE_ACTIONS, QuizChat
from bot.core.record_chat import RecordChat
from bot.core.registration import LEVEL_TOKEN_PREFIX, Registrar
from bot.core.reply_codec import decode_replies, encode_replies
from bot.core.roles import COMMAND_ROLES, ROLE_NAMES_ZH, Role
from knowledge.answer import COLLECTION_NAMES
from storage.db import UnitOfWork, utc_now
from storage.interaction_repository import InteractionRepository, UpdateClaim
from storage.learner_repository import LearnerRecord, LearnerRepository

log = logging.getLogger(__name__)
FILTERS = {"案例": "cases", "课程": "courses", "流程": "processes", "综合": "general", "全部": ""}
FILTERS.update({v: v for v in ("cases", "courses", "processes", "general")})


@dataclass
class Conversation:
    """Routes an inbound message: registration for strangers, then commands, questions and buttons."""

    uow: UnitOfWork
    knowledge: KnowledgeLookup
    learners: LearnerRepository
    interactions: InteractionRepository
    quizzes: QuizChat | None = None
    records: RecordChat | None = None
    clock: Callable[[], datetime] = utc_now
    new_token: Callable[[], str] = lambda: secrets.token_urlsafe(12)

    def __post_init__(self) -> None:
        self.registrar = Registrar(self.learners)
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
                    return Outcome(decode_replies(saved) if saved else (), duplicate=True)
                outcome = self._route(session, inbound, now)
                self.interactions.save_replies(session, claim, replies=encode_replies(outcome.replies))
                return outcome
        except (OperationalError, DBAPIError):
            log.error("database unavailable while handling %s", inbound.kind, exc_info=True)
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
        user = inbound.user
        learner = self.learners.find_by_identity(session, channel=user.channel, external_id=user.external_id)
        if learner is None:
            return self._stranger(session, inbound, now)
        if inbound.kind == "button":
            return self._button(session, learner, inbound.button_token, now)
        if inbound.kind == "command":
            return Outcome(tuple(self._command(session, learner, inbound, now)))
        if inbound.kind == "text":
            return Outcome(tuple(self.lookup.ask(session, learner, inbound.text, now=now)), busy=True)
        if inbound.kind == "file" and inbound.file is not None and self.quizzes is not None:
            button = button_maker(self.interactions, self.new_token, session, learner.learner_id, now)
            return Outcome(tuple(self.quizzes.upload(session, learner, inbound.file, button, now=now)))
        return Outcome((TextReply(texts.UNSUPPORTED),))

    def _stranger(self, session: Session, inbound: Inbound, now: datetime) -> Outcome:
        if inbound.kind == "button":
            if inbound.button_token.startswith(LEVEL_TOKEN_PREFIX):
                return Outcome(tuple(self.registrar.press_level(session, inbound.user, inbound.button_token, now=now)))
            return Outcome((Notice(texts.NOT_REGISTERED),))
        if inbound.kind == "command" and inbound.command == "start":
            text = inbound.args  # "/start INV-XXXXXX" deep link carries an invite code
        elif inbound.kind == "text":
            text = inbound.text
        else:
            text = ""
        state = self.learners.registration(session, channel=inbound.user.channel, external_id=inbound.user.external_id)
        if state is None or text:
            return Outcome(tuple(self.registrar.handle(session, inbound.user, text, now=now)))
        return Outcome((TextReply(texts.NOT_REGISTERED),))

    def _button(self, session: Session, learner: LearnerRecord, token: str, now: datetime) -> Outcome:
        action = self.interactions.take_action(session, token) if token else None
        if action is None or action.learner_id != learner.learner_id:
            return Outcome((Notice(texts.BUTTON_EXPIRED),))
        if action.used:
            return Outcome((Notice(texts.ALREADY_DONE),), duplicate=True)
        if action.action not in REUSABLE_ACTIONS:
            self.interactions.mark_action_used(session, token, now)
        if action.action.startswith(("quiz_", "review_", "publish_")) and self.quizzes is not None:
            button = button_maker(self.interactions, self.new_token, session, learner.learner_id, now)
            replies = self.quizzes.press(session, learner, action.action, action.payload, button, now=now)
            return Outcome(tuple(replies))
        return Outcome(tuple(self.lookup.press(session, learner, action.action, action.payload, now=now)))

    def _command(self, session: Session, learner: LearnerRecord, inbound: Inbound, now: datetime) -> list[Reply]:
        command, args = inbound.command, inbound.args
        allowed = COMMAND_ROLES.get(command)
        if allowed is None:
            return [TextReply(texts.UNKNOWN_COMMAND.format(command=command[:32]))]
        if Role(learner.role) not in allowed:
            return [TextReply(texts.NOT_ALLOWED.format(command=command))]
        if command in {"start", "help"}:
            return [TextReply(self._help(learner))]
        if command == "ask":
            return self.lookup.ask(session, learner, args, now=now)
        if command == "filter":
            return [TextReply(self._set_filter(session, learner, args))]
        if command in {"quiz", "stop", "review"} and self.quizzes is not None:
            button = button_maker(self.interactions, self.new_token, session, learner.learner_id, now)
            if command == "quiz":
                return self.quizzes.list_sets(session, learner, button, now=now, all_levels=args.strip() == "全部")
            if command == "stop":
                return self.quizzes.stop(session, learner, now=now)
            return self.quizzes.review(session, learner, button, now=now)
        if command in {"record", "rate", "team"} and self.records is not None:
            if command == "record":
                return self.records.show(session, learner, now=now)
            if command == "rate":
                return self.records.rate(session, learner, args, now=now)
            return self.records.team(session, learner, now=now)
        if command == "whoami":
            return [TextReply(self._whoami(learner))]
        if command == "grant":
            parts = args.split()
            message = grant_role(session, self.learners, *parts)[1] if len(parts) == 2 else texts.GRANT_USAGE
            return [TextReply(message)]
        if command == "invite":
            return [TextReply(create_invite(session, self.learners, args.split(), now=now)[1])]
        return [TextReply(self._unanswered(session))]

    @staticmethod
    def _help(learner: LearnerRecord) -> str:
        extra = {
            Role.ADMIN: texts.HELP_ADMIN + texts.HELP_TRAINER + texts.HELP_SUPERVISOR,
            Role.TRAINER: texts.HELP_TRAINER,
            Role.SUPERVISOR: texts.HELP_SUPERVISOR,
        }
        return texts.HELP + extra.get(Role(learner.role), "")

    def _set_filter(self, session: Session, learner: LearnerRecord, args: str) -> str:
        if args.strip() not in FILTERS:
            return texts.FILTER_USAGE
        value = FILTERS[args.strip()]
        self.learners.set_collection_filter(session, learner.learner_id, value)
        return texts.FILTER_SET.format(name=COLLECTION_NAMES[value]) if value else texts.FILTER_ALL

    @staticmethod
    def _whoami(learner: LearnerRecord) -> str:
        return texts.WHOAMI.format(
            name=learner.name,
            employee_no=learner.employee_no,
            region=learner.region,
            level=learner.level,
            role=ROLE_NAMES_ZH[Role(learner.role)],
            filter=COLLECTION_NAMES.get(learner.collection_filter, "全部"),
        )

    def _unanswered(self, session: Session) -> str:
        rows = self.interactions.recent_unanswered(session)
        if not rows:
            return texts.UNANSWERED_NONE
        lines = [f"{r.asked_at:%m-%d %H:%M} {r.question}" for r in rows]
        return texts.UNANSWERED_TITLE + "\n" + "\n".join(lines)
