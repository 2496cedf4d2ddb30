"""Fixtures for the conversation core: real SQLite, a fake knowledge base (our own seam)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import pytest

from bot.core.conversation import Conversation
from knowledge.answer import compose_answer
from knowledge.search import Passage, SearchResult
from storage.db import UnitOfWork, create_database_engine
from storage.interaction_repository import InteractionRepository
from storage.learner_repository import LearnerRepository
from storage.schema import upgrade_to_head

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
