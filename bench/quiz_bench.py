"""How many quiz answers per second the quiz flow records, on SQLite and on PostgreSQL.

Drives the real conversation core (one transaction per tap: token check, attempt row lock, answer
insert, position update, next question's buttons) for L learners × Q questions, single-threaded, and
compares with a floor measured in the same process: the bare INSERT of the same answer rows through
SQLAlchemy, one transaction each. PostgreSQL runs when COACH_BENCH_POSTGRES_URL (default: the local
server) is reachable; a scratch database is created and dropped.

    .venv/bin/python bench/quiz_bench.py [--learners 40] [--questions 10]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from datetime import datetime
from pathlib import Path

from sqlalchemy import create_engine, text

from bot.core.conversation import Conversation
from bot.core.messages import ChannelUser, Inbound, TextReply
from bot.core.quiz_chat import QuizChat
from bot.core.roles import Role
from knowledge.answer import compose_answer
from knowledge.results import SearchResult
from quizzes.attempts import QuizAttempts
from quizzes.model import Option, Question, QuizSet
from quizzes.publishing import publish_quiz_set
from storage.db import UnitOfWork, create_database_engine
from storage.interaction_repository import InteractionRepository
from storage.learner_repository import LearnerRepository
from storage.models import AttemptAnswer
from storage.quiz_repository import QuizRepository
from storage.schema import upgrade_to_head

POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


class NoKnowledge:
    def search(self, question, *, k, collections=None):  # type: ignore[no-untyped-def]
        return SearchResult(question, True, ())

    def answer(self, result):  # type: ignore[no-untyped-def]
        return compose_answer(result)

    def passage(self, chunk_id):  # type: ignore[no-untyped-def]
        return None


def _quiz(questions: int) -> QuizSet:
    bank = tuple(
        Question(
            f"q{i}",
            "single_choice",
            f"情境题 {i}:客户提出新的要求,你怎么办?",
            tuple(Option(f"做法{j}", j == 0) for j in range(4)),
            explanation="解析",
        )
        for i in range(questions)
    )
    return QuizSet(
        "基准测验",
        "销售推动力",
        "situational",
        "中级",
        "practice",
        questions,
        (1, max(2, questions // 2), questions),
        bank,
    )


def run_core(url: str, learners: int, questions: int) -> tuple[float, int]:
    engine = create_database_engine(url)
    upgrade_to_head(engine)
    uow = UnitOfWork(engine)
    repository = QuizRepository()
    core = Conversation(
        uow=uow,
        knowledge=NoKnowledge(),
        learners=LearnerRepository(),
        interactions=InteractionRepository(),
        quizzes=QuizChat(QuizAttempts(repository), repository),
    )
    with uow.begin() as session:
        quiz = _quiz(questions)
        publish_quiz_set(session, repository, quiz, source_name="bench", by=None, now=datetime(2026, 11, 1))
    users = [ChannelUser("bench", str(i)) for i in range(learners)]
    pending: dict[str, TextReply] = {}
    for i, user in enumerate(users):
        core.provision(user, name=f"学员{i}", employee_no=f"B{i:06d}", region="基准", level="中级", role=Role.LEARNER)
        listing = core.handle(Inbound.from_text(user, "/quiz")).replies[0]
        started = core.handle(Inbound(user, "button", button_token=listing.buttons[0][0].token)).replies
        pending[user.key] = started[-1]
    answers = 0
    began = time.perf_counter()
    for _ in range(questions):
        for user in users:
            question = pending[user.key]
            replies = core.handle(Inbound(user, "button", button_token=question.buttons[0][0].token)).replies
            pending[user.key] = replies[-1]  # the next question (or the result)
            answers += 1
    elapsed = time.perf_counter() - began
    engine.dispose()
    return elapsed, answers


def run_floor(url: str, answers: int) -> float:
    engine = create_database_engine(url)
    uow = UnitOfWork(engine)
    with uow.begin() as session:
        attempt_id = session.execute(text("SELECT min(id) FROM quiz_attempts")).scalar_one()
    began = time.perf_counter()
    for i in range(answers):
        with uow.begin() as session:
            session.add(
                AttemptAnswer(
                    attempt_id=attempt_id,
                    position=100_000 + i,
                    question_key="q",
                    chosen="[0]",
                    correct=True,
                    answered_at=datetime(2026, 11, 23),
                )
            )
    elapsed = time.perf_counter() - began
    engine.dispose()
    return elapsed


def measure(name: str, url: str, learners: int, questions: int) -> dict[str, float | str]:
    elapsed, answers = run_core(url, learners, questions)
    floor = run_floor(url, answers)
    row = {
        "database": name,
        "answers": answers,
        "answers_per_s": answers / elapsed,
        "ms_per_answer": 1000 * elapsed / answers,
        "floor_inserts_per_s": answers / floor,
        "ratio_core_vs_floor": elapsed / floor,
    }
    print(
        f"{name:<11}{answers:>8}{row['answers_per_s']:>12.1f}{row['ms_per_answer']:>10.2f}"
        f"{row['floor_inserts_per_s']:>14.1f}{row['ratio_core_vs_floor']:>8.2f}x"
    )
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--learners", type=int, default=40)
    parser.add_argument("--questions", type=int, default=10)
    parser.add_argument("--postgres-url", default=POSTGRES)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    print(f"{'database':<11}{'answers':>8}{'answers/s':>12}{'ms/ans':>10}{'floor ins/s':>14}{'ratio':>9}")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        rows.append(measure("sqlite", f"sqlite:///{tmp}/bench.sqlite3", args.learners, args.questions))
    admin = create_engine(args.postgres_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text("DROP DATABASE IF EXISTS coach_quiz_bench"))
            connection.execute(text("CREATE DATABASE coach_quiz_bench"))
    except Exception as exc:  # no server: say so and go on
        print(f"postgresql skipped: {exc.__class__.__name__} at {args.postgres_url}")
    else:
        url = args.postgres_url.rsplit("/", 1)[0] + "/coach_quiz_bench"
        try:
            rows.append(measure("postgresql", url, args.learners, args.questions))
        finally:
            with admin.connect() as connection:
                connection.execute(text("DROP DATABASE IF EXISTS coach_quiz_bench"))
    print("(single-threaded, one transaction per answer; floor = bare INSERT of the same rows)")
    if args.json:
        args.json.write_text(json.dumps(rows, ensure_ascii=False, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
