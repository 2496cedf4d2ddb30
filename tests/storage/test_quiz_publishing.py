"""Publishing and taking certification sets, on SQLite and PostgreSQL: the programme's rule (a certification set
is its competency's instrument: the programme's item count and cut scores) holds at `publish_quiz_set` itself,
whoever calls it, and a version published before the rule existed cannot be started as a certification."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from quizzes.attempts import QuizAttempts
from quizzes.loading import load_quiz_file
from quizzes.model import QuizSet
from quizzes.publishing import QuizSetRefused, publish_quiz_set
from quizzes.serialization import quiz_to_json
from storage.db import UnitOfWork
from storage.learner_repository import LearnerRepository
from storage.models import QuizAttempt, QuizSetRecord, QuizVersion
from storage.quiz_repository import QuizRepository
from tests.support.certification_sets import certification_set_yaml

NOW = datetime(2026, 11, 23, 9, 0)
quizzes = QuizRepository()


def _conformant() -> QuizSet:
    """产品理解力 情境模拟测验 as the programme has it: 10 items, cut at 5/7/8."""
    loaded = load_quiz_file(Path("cert.yaml"), data=certification_set_yaml("产品理解力", title="产品情境认证").encode())
    assert loaded.ok and loaded.quiz is not None, loaded.result.errors
    return loaded.quiz


def _three_questions_cut_at_1_2_3() -> QuizSet:
    """What a careless caller hands over: 3 of the 10 questions, graded 1/2/3 — 等级3 for 3 right answers."""
    quiz = _conformant()
    return replace(quiz, draw=3, cut_scores=(1, 2, 3), questions=quiz.questions[:3])


def _loader_messages(quiz: QuizSet) -> set[str]:
    """The messages `load_quiz_file` gives for the same set written as a file."""
    text = certification_set_yaml("产品理解力", title=quiz.title).replace("draw: 10", f"draw: {quiz.draw}")
    text = text.replace("- 5\n- 7\n- 8", "- " + "\n- ".join(map(str, quiz.cut_scores)))
    loaded = load_quiz_file(Path("cert.yaml"), data=text.encode())
    assert not loaded.ok
    return {p.message for p in loaded.result.errors}


def _stored(uow: UnitOfWork) -> tuple[int, int]:
    with uow.read() as session:
        sets = session.scalar(select(func.count()).select_from(QuizSetRecord))
        versions = session.scalar(select(func.count()).select_from(QuizVersion))
    return sets or 0, versions or 0


def test_publishing_a_non_conformant_certification_set_directly_is_refused_and_writes_nothing(uow):
    quiz = _three_questions_cut_at_1_2_3()
    with pytest.raises(QuizSetRefused) as refused, uow.begin() as session:
        publish_quiz_set(session, quizzes, quiz, source_name="direct", by=None, now=NOW)
    messages = {p.message for p in refused.value.problems}
    assert messages == _loader_messages(quiz)  # the loader's own words: 10 items, not 3; 5/7/8, not 1/2/3
    assert any("10 题" in m for m in messages) and any("5/7/8" in m for m in messages)
    assert all(p.location == "direct" for p in refused.value.problems)
    assert _stored(uow) == (0, 0)


def test_a_refused_set_leaves_what_was_already_published_alone(uow):
    with uow.begin() as session:
        first = publish_quiz_set(session, quizzes, _conformant(), source_name="cert.yaml", by=None, now=NOW)
    broken = replace(_conformant(), cut_scores=(4, 6, 8))  # the same title: it would be version 2 of the set
    with pytest.raises(QuizSetRefused), uow.begin() as session:
        publish_quiz_set(session, quizzes, broken, source_name="cert.yaml", by=None, now=NOW)
    assert _stored(uow) == (1, 1)
    with uow.read() as session:
        [latest] = quizzes.latest_versions(session)
    assert (latest.version_id, latest.version) == (first.version_id, 1)


def test_an_instrument_the_competency_lacks_is_refused_as_a_certification_but_publishes_as_practice(uow):
    quiz = replace(_conformant(), competency="通用素质")
    with pytest.raises(QuizSetRefused) as refused, uow.begin() as session:
        publish_quiz_set(session, quizzes, quiz, source_name="direct", by=None, now=NOW)
    assert any("通用素质" in p.message and "认证" in p.message for p in refused.value.problems)
    with uow.begin() as session:
        publish_quiz_set(session, quizzes, replace(quiz, mode="practice"), source_name="direct", by=None, now=NOW)
        publish_quiz_set(
            session,
            quizzes,
            replace(_three_questions_cut_at_1_2_3(), title="三题练习", mode="practice"),
            source_name="p",
            by=None,
            now=NOW,
        )
    assert _stored(uow) == (2, 2)


def test_a_conformant_certification_set_publishes(uow):
    with uow.begin() as session:
        published = publish_quiz_set(session, quizzes, _conformant(), source_name="cert.yaml", by=None, now=NOW)
    assert (published.mode, published.version) == ("certification", 1)
    assert _stored(uow) == (1, 1)


def _learner(uow: UnitOfWork) -> int:
    with uow.begin() as session:
        return LearnerRepository().add_learner(
            session, name="学员1", employee_no="L00001", region="西宁", level="中级", role="learner", now=NOW
        )


def _published_before_the_rule(uow: UnitOfWork, quiz: QuizSet) -> int:
    """A version stored as releases before the programme rule stored it (the repository takes any content)."""
    with uow.begin() as session:
        return quizzes.publish(
            session,
            title=quiz.title,
            competency=quiz.competency,
            instrument=quiz.instrument,
            level=quiz.level,
            mode=quiz.mode,
            content=quiz_to_json(quiz),
            source_name="old.yaml",
            by=None,
            now=NOW,
        ).version_id


def test_a_certification_attempt_on_an_old_non_conformant_version_is_refused(uow):
    learner = _learner(uow)
    version_id = _published_before_the_rule(uow, _three_questions_cut_at_1_2_3())
    with uow.begin() as session:
        started = QuizAttempts(quizzes).start(session, learner_id=learner, version_id=version_id, now=NOW, seed=1)
    assert started == "not_conformant"
    with uow.read() as session:
        assert session.scalar(select(func.count()).select_from(QuizAttempt)) == 0


def test_a_practice_attempt_on_the_same_numbers_and_a_conformant_certification_still_start(uow):
    learner = _learner(uow)
    practice = _published_before_the_rule(uow, replace(_three_questions_cut_at_1_2_3(), title="练习", mode="practice"))
    certification = _published_before_the_rule(uow, _conformant())
    attempts = QuizAttempts(quizzes)
    with uow.begin() as session:
        first = attempts.start(session, learner_id=learner, version_id=practice, now=NOW, seed=1)
        assert not isinstance(first, str), first
        attempts.stop(session, first, now=NOW)
    with uow.begin() as session:
        second = attempts.start(session, learner_id=learner, version_id=certification, now=NOW, seed=1)
    assert not isinstance(second, str), second
    assert (second.mode, len(second.draw)) == ("certification", 10)
