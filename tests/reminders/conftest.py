"""A world for the study habit: the wired core on real SQLite (or the session's PostgreSQL), a clock the test moves,
the planner and a drainer whose channel is a fake that records what it was given (our own seam, bot.core.delivery)."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine

from bot.core.conversation import Conversation
from bot.core.delivery import Blocked, RetryLater
from bot.core.messages import ChannelUser, Inbound, Outcome, Reply, TextReply
from bot.core.outbox import DrainPolicy, DrainReport, OutboxDrainer
from bot.core.quiet_hours import QuietHours
from bot.core.quiz_chat import QuizChat
from bot.core.record_chat import RecordChat
from bot.core.reminder_chat import ReminderChat
from bot.core.reminder_plan import PlanReport, ReminderPlanner, ReminderSchedule
from bot.core.roles import Role
from bot.core.streaks import Streaks
from quizzes.attempts import QuizAttempts
from quizzes.model import Option, Question, QuizSet
from quizzes.publishing import publish_quiz_set
from storage.db import UnitOfWork
from storage.interaction_repository import InteractionRepository
from storage.learner_repository import LearnerRepository
from storage.quiz_repository import QuizRepository
from storage.record_repository import RecordRepository
from storage.reminder_repository import ReminderRepository
from tests.storage.conftest import postgres_scratch_url  # noqa: F401  (the session's PostgreSQL database)
from tests.support.postgres import empty_engine

SHANGHAI = ZoneInfo("Asia/Shanghai")


class MutableClock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@dataclass
class FakeSender:
    """Records (address, replies); `blocked` addresses raise Blocked, `slow_down` makes the next send RetryLater."""

    channel: str = "telegram"
    sent: list[tuple[str, tuple[Reply, ...]]] = field(default_factory=list)
    blocked: set[str] = field(default_factory=set)
    slow_down: float = 0.0

    async def send(self, address: str, replies: Sequence[Reply], *, skip: int = 0) -> None:
        if address in self.blocked:
            raise Blocked("403 Forbidden: bot was blocked by the user")
        if self.slow_down:
            wait, self.slow_down = self.slow_down, 0.0
            raise RetryLater(wait)
        self.sent.append((address, tuple(replies)))

    def texts(self, address: str | None = None) -> list[str]:
        return [r.text for a, rs in self.sent if address in (None, a) for r in rs if isinstance(r, TextReply)]


def practice_set(competency: str = "客户洞察力", level: str = "中级", *, questions: int = 3) -> QuizSet:
    return QuizSet(
        title=f"{competency}练习",
        competency=competency,
        instrument="situational",
        level=level,
        mode="practice",
        draw=questions,
        cut_scores=(1, 2, 3),
        questions=tuple(
            Question(
                key=f"{competency}-{i}",
                kind="single_choice",
                stem=f"{competency}第{i}题:客户嫌贵怎么办?",
                options=(Option("先了解对方的真实条件", True), Option("马上降价", False), Option("不理会", False)),
                explanation="先问清需求。",
            )
            for i in range(questions)
        ),
    )


@dataclass
class World:
    engine: Engine
    clock: MutableClock
    core: Conversation
    planner: ReminderPlanner
    sender: FakeSender
    drainer: OutboxDrainer

    @property
    def uow(self) -> UnitOfWork:
        return self.core.uow

    def learner(self, external_id: str, *, name: str = "王小丽", level: str = "中级", role: Role = Role.LEARNER) -> int:
        user = ChannelUser("telegram", external_id)
        record = self.core.provision(
            user, name=name, employee_no=f"E{external_id}", region="西宁", level=level, role=role
        )
        return record.learner_id

    def say(self, external_id: str, text: str) -> Outcome:
        return self.core.handle(Inbound.from_text(ChannelUser("telegram", external_id), text))

    def press(self, external_id: str, token: str) -> Outcome:
        return self.core.handle(Inbound(ChannelUser("telegram", external_id), "button", button_token=token))

    def publish(self, quiz: QuizSet) -> int:
        with self.uow.begin() as session:
            return publish_quiz_set(
                session, QuizRepository(), quiz, source_name="t.yaml", by=None, now=self.clock()
            ).version_id

    def add_mistake(self, learner_id: int, version_id: int, key: str, *, due: datetime) -> None:
        with self.uow.begin() as session:
            QuizRepository().add_mistake(
                session, learner_id=learner_id, version_id=version_id, question_key=key, due=due, now=self.clock()
            )

    def plan(self) -> PlanReport:
        return self.planner.plan()

    def drain(self) -> DrainReport:
        return asyncio.run(self.drainer.drain_once())


NIGHT = QuietHours(time(22), time(8))


def build_world(engine: Engine, *, quiet: QuietHours = NIGHT, zone: ZoneInfo = SHANGHAI, rate: float = 1000.0) -> World:
    clock = MutableClock(datetime(2026, 11, 23, 0, 30))  # Monday 08:30 in Shanghai
    tokens = (f"rtok{i:06d}" for i in itertools.count())
    new_token = lambda: next(tokens)  # noqa: E731
    quizzes = QuizRepository()
    streaks = Streaks(ReminderRepository(), zone)
    reminders = ReminderChat(ReminderRepository(), quizzes, streaks, quiet)
    uow = UnitOfWork(engine)
    core = Conversation(
        uow=uow,
        knowledge=None,  # type: ignore[arg-type]  (no questions are asked in these tests)
        learners=LearnerRepository(),
        interactions=InteractionRepository(),
        quizzes=QuizChat(QuizAttempts(quizzes, RecordRepository()), quizzes),
        records=RecordChat(RecordRepository(), LearnerRepository(), streak_line=reminders.streak_line),
        reminders=reminders,
        clock=clock,
        new_token=new_token,
        time_zone=zone,
    )
    schedule = ReminderSchedule(
        time_zone=zone, quiet=quiet, review_time=time(9), digest_weekday=0, digest_time=time(9), channels=("telegram",)
    )
    planner = ReminderPlanner(uow, schedule, new_token=new_token, clock=clock)
    sender = FakeSender()
    drainer = OutboxDrainer(uow, sender, "worker-a", DrainPolicy(messages_per_second=rate, batch_size=50), clock=clock)
    return World(engine, clock, core, planner, sender, drainer)


@pytest.fixture
def sqlite_engine(tmp_path) -> Iterator[Engine]:
    with empty_engine(f"sqlite:///{tmp_path / 'reminders.sqlite3'}") as engine:
        yield engine


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def any_engine(request: pytest.FixtureRequest, tmp_path) -> Iterator[Engine]:
    url = (
        f"sqlite:///{tmp_path / 'any.sqlite3'}"
        if request.param == "sqlite"
        else request.getfixturevalue("postgres_scratch_url")
    )
    with empty_engine(url) as engine:
        yield engine


@pytest.fixture
def world(any_engine: Engine) -> World:
    """The study habit's world on SQLite and on the session's scratch PostgreSQL database."""
    return build_world(any_engine)


MONDAY_0900 = datetime(2026, 11, 23, 1, 0)  # 09:00 in Shanghai, the review time


@dataclass(frozen=True)
class DueReviewWorld:
    clock: MutableClock
    planner: ReminderPlanner
    drainer: OutboxDrainer
    learner_id: int


def due_review_world(services, *, channel: str, external_id: str, sender, worker: str) -> DueReviewWorld:  # type: ignore[no-untyped-def]
    """A registered learner of `channel` with one mistake due yesterday, at Monday 09:00, and the planner and drainer
    a worker of that channel runs (the channel tests' common start: over Telegram's stack or WeCom's emulator)."""
    clock = MutableClock(MONDAY_0900)
    with services.uow.begin() as session:
        learner = services.conversation.learners.find_by_identity(session, channel=channel, external_id=external_id)
        version = publish_quiz_set(
            session, QuizRepository(), practice_set(), source_name="t.yaml", by=None, now=clock()
        )
        QuizRepository().add_mistake(
            session, learner_id=learner.learner_id, version_id=version.version_id, question_key="客户洞察力-0",
            due=clock() - timedelta(days=1), now=clock(),
        )  # fmt: skip
    tokens = (f"{worker}-rtok{i}" for i in itertools.count())
    planner = ReminderPlanner(services.uow, services.reminder_schedule, new_token=lambda: next(tokens), clock=clock)
    drainer = OutboxDrainer(services.uow, sender, worker, DrainPolicy(messages_per_second=30), clock=clock)
    return DueReviewWorld(clock, planner, drainer, learner.learner_id)
