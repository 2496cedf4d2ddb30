"""One routing table: each command → the roles allowed → its handler; each button action → the roles allowed →
its handler. Anything not in a table is refused explicitly, and a handler whose service is not wired says so —
nothing falls through to another command.

Roles are checked when a command arrives or a button is pressed, against the learner's role as stored at that
moment (read once per update), never against the role the learner had when the button was made.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta, tzinfo
from typing import Any

from sqlalchemy.orm import Session

from bot.core import texts
from bot.core.admin import create_invite, grant_role
from bot.core.buttons import ButtonMaker, button_maker
from bot.core.local_time import local_time_text
from bot.core.lookup import QuickLookup
from bot.core.messages import Notice, Reply, TextReply
from bot.core.quiz_chat import QuizChat
from bot.core.record_chat import RecordChat
from bot.core.reminder_chat import ReminderChat
from bot.core.roles import ROLE_NAMES_ZH, Role
from knowledge.answer import COLLECTION_NAMES
from storage.interaction_repository import InteractionRepository
from storage.learner_repository import LearnerRecord, LearnerRepository

FILTERS = {"案例": "cases", "课程": "courses", "流程": "processes", "综合": "general", "全部": ""}
FILTERS.update({v: v for v in ("cases", "courses", "processes", "general")})
EVERYONE = frozenset(Role)
TRAINERS = frozenset({Role.TRAINER, Role.ADMIN})
ASSESSORS = frozenset({Role.SUPERVISOR, Role.ADMIN})
ADMINS = frozenset({Role.ADMIN})


@dataclass(frozen=True)
class Services:
    """What handlers work with; `quizzes` and `records` are optional (a test or a small set-up may omit them)."""

    learners: LearnerRepository
    interactions: InteractionRepository
    lookup: QuickLookup
    quizzes: QuizChat | None
    records: RecordChat | None
    new_token: Callable[[], str]
    invite_valid_for: timedelta
    time_zone: tzinfo  # times shown to people
    reminders: ReminderChat | None = None  # /remind and the daily question (bot/core/reminder_chat.py)


@dataclass(frozen=True)
class Call:
    """One routed request inside the update's transaction: a command's arguments or a button's payload."""

    services: Services
    session: Session
    learner: LearnerRecord
    now: datetime
    args: str = ""
    action: str = ""
    payload: Mapping[str, Any] = field(default_factory=dict)

    def button(self) -> ButtonMaker:
        s = self.services
        return button_maker(s.interactions, s.new_token, self.session, self.learner.learner_id, self.now)


Handler = Callable[[Call], list[Reply]]


@dataclass(frozen=True)
class Route:
    roles: frozenset[Role]
    handler: Handler
    reusable: bool = False  # a button that may be pressed again (its handler guards what must happen once)


def run_command(call: Call, command: str) -> list[Reply]:
    """The command's handler when the learner's current role allows it; otherwise the refusal that says why."""
    route = COMMANDS.get(command)
    if route is None:
        return [TextReply(texts.UNKNOWN_COMMAND.format(command=command[:32]))]
    if Role(call.learner.role) not in route.roles:
        return [TextReply(texts.NOT_ALLOWED.format(command=command))]
    return route.handler(call)


def action_refusal(action: str, role: str) -> Notice | None:
    """Why a button with this action may not be pressed by this role now, or None when it may."""
    route = ACTIONS.get(action)
    if route is None:
        return Notice(texts.BUTTON_EXPIRED)
    if Role(role) not in route.roles:
        return Notice(texts.ACTION_NOT_ALLOWED)
    return None


def action_is_reusable(action: str) -> bool:
    """Whether a button with this action stays usable after a press (otherwise it is used up before its handler)."""
    route = ACTIONS.get(action)
    return route is not None and route.reusable


def run_action(call: Call) -> list[Reply]:
    """A button's handler; `action_refusal` must have been asked first."""
    return ACTIONS[call.action].handler(call)


# --- handlers ---------------------------------------------------------------------------------------------------
def _needs_quizzes(handle: Callable[[Call, QuizChat], list[Reply]]) -> Handler:
    def handler(call: Call) -> list[Reply]:
        quizzes = call.services.quizzes
        return [TextReply(texts.FEATURE_UNAVAILABLE)] if quizzes is None else handle(call, quizzes)

    return handler


def _needs_records(handle: Callable[[Call, RecordChat], list[Reply]]) -> Handler:
    def handler(call: Call) -> list[Reply]:
        records = call.services.records
        return [TextReply(texts.FEATURE_UNAVAILABLE)] if records is None else handle(call, records)

    return handler


def _needs_reminders(handle: Callable[[Call, ReminderChat], list[Reply]]) -> Handler:
    def handler(call: Call) -> list[Reply]:
        reminders = call.services.reminders
        return [TextReply(texts.FEATURE_UNAVAILABLE)] if reminders is None else handle(call, reminders)

    return handler


def _help(call: Call) -> list[Reply]:
    extra = {
        Role.ADMIN: texts.HELP_ADMIN + texts.HELP_TRAINER + texts.HELP_SUPERVISOR,
        Role.TRAINER: texts.HELP_TRAINER,
        Role.SUPERVISOR: texts.HELP_SUPERVISOR,
    }
    return [TextReply(texts.HELP + extra.get(Role(call.learner.role), ""))]


def _ask(call: Call) -> list[Reply]:
    return call.services.lookup.ask(call.session, call.learner, call.args, now=call.now)


def _filter(call: Call) -> list[Reply]:
    choice = call.args.strip()
    if choice not in FILTERS:
        return [TextReply(texts.FILTER_USAGE)]
    value = FILTERS[choice]
    call.services.learners.set_collection_filter(call.session, call.learner.learner_id, value)
    return [TextReply(texts.FILTER_SET.format(name=COLLECTION_NAMES[value]) if value else texts.FILTER_ALL)]


def _whoami(call: Call) -> list[Reply]:
    learner = call.learner
    text = texts.WHOAMI.format(
        name=learner.name,
        employee_no=learner.employee_no,
        region=learner.region,
        level=learner.level,
        role=ROLE_NAMES_ZH[Role(learner.role)],
        filter=COLLECTION_NAMES.get(learner.collection_filter, "全部"),
    )
    return [TextReply(text)]


def _grant(call: Call) -> list[Reply]:
    parts = call.args.split()
    if len(parts) != 2:
        return [TextReply(texts.GRANT_USAGE)]
    return [TextReply(grant_role(call.session, call.services.learners, *parts)[1])]


def _invite(call: Call) -> list[Reply]:
    s = call.services
    done = create_invite(call.session, s.learners, call.args.split(), now=call.now, valid_for=s.invite_valid_for)
    return [TextReply(done[1])]


def _unanswered(call: Call) -> list[Reply]:
    rows = call.services.interactions.recent_unanswered(call.session)
    if not rows:
        return [TextReply(texts.UNANSWERED_NONE)]
    zone = call.services.time_zone
    lines = [f"{local_time_text(r.asked_at, zone, '%m-%d %H:%M')} {r.question}" for r in rows]
    return [TextReply(texts.UNANSWERED_TITLE + "\n" + "\n".join(lines))]


@_needs_quizzes
def _quiz(call: Call, quizzes: QuizChat) -> list[Reply]:
    all_levels = call.args.strip() == "全部"
    return quizzes.list_sets(call.session, call.learner, call.button(), now=call.now, all_levels=all_levels)


@_needs_quizzes
def _stop(call: Call, quizzes: QuizChat) -> list[Reply]:
    return quizzes.stop(call.session, call.learner, now=call.now)


@_needs_quizzes
def _review(call: Call, quizzes: QuizChat) -> list[Reply]:
    return quizzes.review(call.session, call.learner, call.button(), now=call.now)


@_needs_reminders
def _remind(call: Call, reminders: ReminderChat) -> list[Reply]:
    return reminders.remind(call.session, call.learner, call.args, call.button(), now=call.now)


@_needs_reminders
def _remind_button(call: Call, reminders: ReminderChat) -> list[Reply]:
    return reminders.press_setting(call.session, call.learner, dict(call.payload), now=call.now)


@_needs_reminders
def _daily_answer(call: Call, reminders: ReminderChat) -> list[Reply]:
    return reminders.answer_daily(call.session, call.learner, dict(call.payload), now=call.now)


@_needs_records
def _record(call: Call, records: RecordChat) -> list[Reply]:
    return records.show(call.session, call.learner, now=call.now)


@_needs_records
def _rate(call: Call, records: RecordChat) -> list[Reply]:
    return records.rate(call.session, call.learner, call.args, now=call.now)


@_needs_records
def _team(call: Call, records: RecordChat) -> list[Reply]:
    return records.team(call.session, call.learner, now=call.now)


@_needs_quizzes
def _quiz_button(call: Call, quizzes: QuizChat) -> list[Reply]:
    return quizzes.press(call.session, call.learner, call.action, dict(call.payload), call.button(), now=call.now)


def _lookup_button(call: Call) -> list[Reply]:
    return call.services.lookup.press(call.session, call.learner, call.action, dict(call.payload), now=call.now)


COMMANDS: dict[str, Route] = {
    "start": Route(EVERYONE, _help),
    "help": Route(EVERYONE, _help),
    "ask": Route(EVERYONE, _ask),
    "filter": Route(EVERYONE, _filter),
    "whoami": Route(EVERYONE, _whoami),
    "quiz": Route(EVERYONE, _quiz),
    "stop": Route(EVERYONE, _stop),
    "review": Route(EVERYONE, _review),
    "record": Route(EVERYONE, _record),
    "remind": Route(EVERYONE, _remind),
    "rate": Route(ASSESSORS, _rate),
    "team": Route(ASSESSORS, _team),
    "grant": Route(ADMINS, _grant),
    "invite": Route(ADMINS, _invite),
    "unanswered": Route(TRAINERS, _unanswered),
}

# Reusable: picking options (the selection is the state), 提交 (the attempt's position takes one answer, so 提交
# before choosing leaves it usable), reading (原文, 更多结果) and voting (the last vote counts). Everything else is
# used up by its first press.
ACTIONS: dict[str, Route] = {
    "quiz_all_levels": Route(EVERYONE, _quiz_button),
    "quiz_pick": Route(EVERYONE, _quiz_button),
    "quiz_answer": Route(EVERYONE, _quiz_button),
    "quiz_toggle": Route(EVERYONE, _quiz_button, reusable=True),
    "quiz_submit": Route(EVERYONE, _quiz_button, reusable=True),
    "review_answer": Route(EVERYONE, _quiz_button),
    "review_start": Route(EVERYONE, _review),  # the mistake-notebook reminder's 开始复习
    "remind_set": Route(EVERYONE, _remind_button),
    "daily_answer": Route(EVERYONE, _daily_answer),
    "publish_confirm": Route(TRAINERS, _quiz_button),
    "open_source": Route(EVERYONE, _lookup_button, reusable=True),
    "more": Route(EVERYONE, _lookup_button, reusable=True),
    "rate": Route(EVERYONE, _lookup_button, reusable=True),
}
