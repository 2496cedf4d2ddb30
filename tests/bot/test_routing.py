"""Every command for every role, with and without the optional services wired (issue 11, item 9).

A role the table does not allow gets the refusal and nothing else; an allowed role reaches that command's own
handler (each has a reply only it gives); nothing ever falls through to another command — in particular not to
/unanswered, which shows other learners' questions.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, time
from zoneinfo import ZoneInfo

import pytest

from bot.core import texts
from bot.core.conversation import Conversation
from bot.core.messages import ChannelUser, Inbound, InboundFile, Notice, TextReply
from bot.core.quiet_hours import QuietHours
from bot.core.quiz_chat import QuizChat
from bot.core.record_chat import RecordChat
from bot.core.reminder_chat import ReminderChat
from bot.core.roles import Role
from bot.core.routing import ACTIONS, COMMANDS
from bot.core.streaks import Streaks
from quizzes.attempts import QuizAttempts
from storage.db import UnitOfWork, create_database_engine
from storage.interaction_repository import InteractionRepository
from storage.learner_repository import LearnerRepository
from storage.quiz_repository import QuizRepository
from storage.record_repository import RecordRepository
from storage.reminder_repository import ReminderRepository
from storage.schema import upgrade_to_head
from tests.bot.conftest import FakeKnowledge

SHANGHAI = ZoneInfo("Asia/Shanghai")
ALL = frozenset(Role)
STAFF = frozenset({Role.TRAINER, Role.ADMIN})
ASSESSORS = frozenset({Role.SUPERVISOR, Role.ADMIN})
# The security model, written out by hand: a change to the table must change this too.
EXPECTED_ROLES = {
    "start": ALL,
    "help": ALL,
    "ask": ALL,
    "filter": ALL,
    "whoami": ALL,
    "quiz": ALL,
    "stop": ALL,
    "review": ALL,
    "record": ALL,
    "remind": ALL,
    "rate": ASSESSORS,
    "team": ASSESSORS,
    "grant": frozenset({Role.ADMIN}),
    "invite": frozenset({Role.ADMIN}),
    "unanswered": STAFF,
}
CANARY = "另一位学员问过的私密问题"  # asked by someone else, unanswered: only /unanswered may show it
NEEDS_QUIZZES = {"quiz", "stop", "review"}
NEEDS_RECORDS = {"record", "rate", "team"}
NEEDS_REMINDERS = {"remind"}
# What only each command's own handler answers (args chosen so nothing changes).
OWN_REPLY: dict[str, Callable[[str], bool]] = {
    "start": lambda t: t.startswith("随身教练能做什么"),
    "help": lambda t: t.startswith("随身教练能做什么"),
    "ask": lambda t: t == texts.EMPTY_QUESTION,
    "filter": lambda t: t == texts.FILTER_USAGE,
    "whoami": lambda t: t.startswith("姓名:"),
    "quiz": lambda t: t.startswith(texts.QUIZ_NONE),
    "stop": lambda t: t == texts.QUIZ_NOTHING_TO_STOP,
    "review": lambda t: t.startswith("错题本里今天没有"),
    "record": lambda t: "的认证记录" in t,
    "remind": lambda t: t.startswith("提醒设置"),
    "rate": lambda t: t == texts.RATE_USAGE,
    "team": lambda t: t == texts.TEAM_NONE,
    "grant": lambda t: t == texts.GRANT_USAGE,
    "invite": lambda t: t == texts.INVITE_USAGE,
    "unanswered": lambda t: CANARY in t,
}
USERS = {role: ChannelUser("telegram", str(100 + n), role.value) for n, role in enumerate(Role)}


@pytest.fixture(scope="module")
def database(tmp_path_factory) -> UnitOfWork:
    """One learner per role, and another learner's unanswered question."""
    engine = create_database_engine(f"sqlite:///{tmp_path_factory.mktemp('routing') / 'routing.sqlite3'}")
    upgrade_to_head(engine)
    uow = UnitOfWork(engine)
    core = _core(uow, wired=False)
    for n, (role, user) in enumerate(USERS.items()):
        core.provision(user, name=f"某{role.value}", employee_no=f"R{n:04d}", region="西宁", level="中级", role=role)
    other = ChannelUser("telegram", "999")
    core.provision(other, name="别人", employee_no="OTHER1", region="西宁", level="中级", role=Role.LEARNER)
    core.handle(Inbound.from_text(other, CANARY))
    return uow


def _core(uow: UnitOfWork, *, wired: bool) -> Conversation:
    quizzes = QuizRepository()
    return Conversation(
        uow=uow,
        knowledge=FakeKnowledge(),
        learners=LearnerRepository(),
        interactions=InteractionRepository(),
        quizzes=QuizChat(QuizAttempts(quizzes, RecordRepository()), quizzes) if wired else None,
        records=RecordChat(RecordRepository(), LearnerRepository()) if wired else None,
        reminders=ReminderChat(
            ReminderRepository(), quizzes, Streaks(ReminderRepository(), SHANGHAI), QuietHours(time(22), time(8))
        )
        if wired
        else None,
        clock=lambda: datetime(2026, 11, 23, 9, 0),
    )


def _reply_text(core: Conversation, user: ChannelUser, text: str) -> str:
    replies = core.handle(Inbound.from_text(user, text)).replies
    return "\n".join(r.text for r in replies if isinstance(r, TextReply | Notice))


def test_the_table_is_the_security_model():
    assert {command: route.roles for command, route in COMMANDS.items()} == EXPECTED_ROLES


@pytest.mark.parametrize("wired", [True, False], ids=["wired", "unwired"])
@pytest.mark.parametrize("role", list(Role), ids=[r.value for r in Role])
@pytest.mark.parametrize("command", sorted(EXPECTED_ROLES))
def test_every_command_for_every_role(database, command, role, wired):
    core = _core(database, wired=wired)
    reply = _reply_text(core, USERS[role], f"/{command}")
    if role not in EXPECTED_ROLES[command]:
        assert reply == texts.NOT_ALLOWED.format(command=command)
    elif not wired and command in NEEDS_QUIZZES | NEEDS_RECORDS | NEEDS_REMINDERS:
        assert reply == texts.FEATURE_UNAVAILABLE
    else:
        assert OWN_REPLY[command](reply), reply
    if command != "unanswered" or role not in STAFF:
        assert CANARY not in reply


@pytest.mark.parametrize("wired", [True, False], ids=["wired", "unwired"])
def test_anything_else_is_refused_explicitly(database, wired):
    core = _core(database, wired=wired)
    learner = USERS[Role.LEARNER]
    assert _reply_text(core, learner, "/nonsense") == texts.UNKNOWN_COMMAND.format(command="nonsense")
    assert core.handle(Inbound(learner, "unsupported")).replies == (TextReply(texts.UNSUPPORTED),)
    assert core.handle(Inbound(learner, "button", button_token="")).replies == (Notice(texts.BUTTON_EXPIRED),)
    trainer_file = Inbound(USERS[Role.TRAINER], "file", file=InboundFile("a.yaml", b"title: x"))
    file_reply = core.handle(trainer_file).replies[0].text  # type: ignore[union-attr]
    assert file_reply != texts.FEATURE_UNAVAILABLE if wired else file_reply == texts.FEATURE_UNAVAILABLE
    assert CANARY not in file_reply


def test_an_unknown_stored_button_action_is_refused(database):
    core = _core(database, wired=True)
    learner = USERS[Role.LEARNER]
    with database.begin() as session:
        me = LearnerRepository().find_by_identity(session, channel=learner.channel, external_id=learner.external_id)
        assert me is not None
        InteractionRepository().add_action(
            session,
            token="odd-action",
            learner_id=me.learner_id,
            action="grant_all",
            payload={},
            now=datetime(2026, 1, 1),
        )
    assert core.handle(Inbound(learner, "button", button_token="odd-action")).replies == (Notice(texts.BUTTON_EXPIRED),)


def test_every_button_action_the_core_makes_is_routed():
    made = {"quiz_all_levels", "quiz_pick", "quiz_answer", "quiz_toggle", "quiz_submit", "review_answer"}
    made |= {"publish_confirm", "open_source", "more", "rate"}
    made |= {"review_start", "remind_set", "daily_answer"}  # the reminders' buttons (bot/core/reminder_plan.py)
    assert set(ACTIONS) == made
    assert ACTIONS["publish_confirm"].roles == STAFF
    assert all(route.roles == ALL for action, route in ACTIONS.items() if action != "publish_confirm")
