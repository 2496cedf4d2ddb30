"""Fixtures for the conversation core: real SQLite, a fake knowledge base (our own seam)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime

import pytest
from sqlalchemy import Engine

from bot.core.conversation import Conversation
from knowledge.answer import compose_answer
from knowledge.results import Passage, SearchResult
from storage.db import UnitOfWork, create_database_engine
from storage.interaction_repository import InteractionRepository
from storage.learner_repository import LearnerRepository
from storage.schema import upgrade_to_head
from tests.support.postgres import empty_engine

PASSAGES = {
    "p1": Passage("p1", "晋级逐级进行,不得跨级。", "客户经理晋级流程", "原则", "晋级.md", "processes", 2.0),
    "p2": Passage("p2", "直接上司和跨级上司各评估50%。", "客户经理晋级流程", "评估", "晋级.md", "processes", 1.5),
    "p3": Passage("p3", "每半年评审一次。", "客户经理晋级流程", "周期", "晋级.md", "processes", 1.0),
    "p4": Passage("p4", "区域审批后交人力资源部审核。", "客户经理晋级流程", "审批", "晋级.md", "processes", 0.5),
}


class FakeKnowledge:
    """Answers anything mentioning 晋级; abstains otherwise. Records the collections asked for."""

    def __init__(self) -> None:
        self.collections: list[Sequence[str] | None] = []

    def search(self, question: str, *, k: int, collections: Sequence[str] | None = None) -> SearchResult:
        self.collections.append(collections)
        if "晋级" not in question:
            return SearchResult(question, True, ())
        return SearchResult(question, False, tuple(PASSAGES.values())[:k], ("晋级",))

    def answer(self, result: SearchResult):
        return compose_answer(result, max_chars=600)

    def passage(self, chunk_id: str) -> Passage | None:
        return PASSAGES.get(chunk_id)


@pytest.fixture
def core(tmp_path) -> Conversation:
    engine = create_database_engine(f"sqlite:///{tmp_path / 'core.sqlite3'}")
    upgrade_to_head(engine)
    tokens = iter(f"tok{i:04d}" for i in range(10_000))
    return Conversation(
        uow=UnitOfWork(engine),
        knowledge=FakeKnowledge(),
        learners=LearnerRepository(),
        interactions=InteractionRepository(),
        clock=lambda: datetime(2026, 11, 23, 9, 0),
        new_token=lambda: next(tokens),
    )


# --- the wired core on both databases (storage behaviour must hold on SQLite and PostgreSQL) -----------------
from tests.storage.conftest import postgres_scratch_url  # noqa: E402,F401  (the session's PostgreSQL database)


class MutableClock:
    """A clock a test can move: `clock.now += timedelta(days=15)`."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> MutableClock:
    return MutableClock(datetime(2026, 11, 23, 9, 0))


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def both_engine(request: pytest.FixtureRequest, tmp_path) -> Iterator[Engine]:
    """A fresh SQLite file, or the session's scratch PostgreSQL database emptied: schema at head."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'both.sqlite3'}"
    else:
        url = request.getfixturevalue("postgres_scratch_url")  # skips, with the reason, without a server
    with empty_engine(url) as engine:
        yield engine


@pytest.fixture
def wired_core(both_engine: Engine, clock: MutableClock) -> Conversation:
    """The core as production wires it (quizzes and the record), on SQLite and on PostgreSQL."""
    from bot.core.quiz_chat import QuizChat
    from bot.core.record_chat import RecordChat
    from quizzes.attempts import QuizAttempts
    from storage.quiz_repository import QuizRepository
    from storage.record_repository import RecordRepository

    quizzes = QuizRepository()
    tokens = iter(f"wtok{i:05d}" for i in range(100_000))
    return Conversation(
        uow=UnitOfWork(both_engine),
        knowledge=FakeKnowledge(),
        learners=LearnerRepository(),
        interactions=InteractionRepository(),
        quizzes=QuizChat(QuizAttempts(quizzes, RecordRepository()), quizzes),
        records=RecordChat(RecordRepository(), LearnerRepository()),
        clock=clock,
        new_token=lambda: next(tokens),
    )
