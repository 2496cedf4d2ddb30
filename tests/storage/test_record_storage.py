"""The certification record in storage, on SQLite and PostgreSQL: append-only, corrections, what `entries()`
carries, one promotion per cycle, and certification attempts finished by many workers at once."""

from __future__ import annotations

import ast
import inspect
import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from certification.rules import current_entries
from quizzes.attempts import QuizAttempts, half_year_cycle
from quizzes.competency import programme_instrument
from quizzes.loading import load_quiz_file
from quizzes.model import QuizSet
from quizzes.publishing import publish_quiz_set
from storage import record_repository
from storage.db import UnitOfWork
from storage.learner_repository import LearnerRepository
from storage.models import AttemptAnswer, QuizAttempt, RecordEntryRow
from storage.quiz_repository import PublishedSet, QuizRepository
from storage.record_repository import RecordRepository
from tests.support.certification_sets import certification_set_yaml

NOW = datetime(2026, 11, 23, 9, 0)
CYCLE = half_year_cycle(NOW)  # 2026H2
PROGRAMME_SET = programme_instrument("产品理解力", "situational")
assert PROGRAMME_SET is not None and PROGRAMME_SET.items is not None
QUESTIONS = PROGRAMME_SET.items  # 10: every question of the set is drawn
RACE_TIMEOUT = 60.0  # seconds: the barrier, and the joins of all threads together

records = RecordRepository()
learners = LearnerRepository()
quizzes = QuizRepository()


# --- helpers ------------------------------------------------------------------------------------------
def _add_learner(uow: UnitOfWork, number: int, *, role: str = "learner", level: str = "初级") -> int:
    with uow.begin() as session:
        return learners.add_learner(
            session, name=f"学员{number}", employee_no=f"L{number:05d}", region="西宁", level=level, role=role, now=NOW
        )


def _certification_quiz(title: str = "产品情境认证") -> QuizSet:
    """产品理解力 情境模拟测验 as the programme has it (QUESTIONS items, cut at 5/7/8): publish_quiz_set refuses any
    other certification set."""
    loaded = load_quiz_file(Path("cert.yaml"), data=certification_set_yaml("产品理解力", title=title).encode())
    assert loaded.ok and loaded.quiz is not None, loaded.result.errors
    assert loaded.quiz.draw == len(loaded.quiz.questions) == QUESTIONS
    return loaded.quiz


def _publish(uow: UnitOfWork, quiz: QuizSet) -> PublishedSet:
    with uow.begin() as session:
        return publish_quiz_set(session, quizzes, quiz, source_name="test", by=None, now=NOW)


def _entry(uow: UnitOfWork, learner_id: int, **changes: Any) -> int:
    values: dict[str, Any] = dict(
        learner_id=learner_id,
        competency="销售推动力",
        instrument="structured_interview",
        raw_score=2,
        max_score=None,
        level=2,
        cycle=CYCLE,
        now=NOW,
    )
    values.update(changes)
    with uow.begin() as session:
        return records.add_entry(session, **values)


def _row(uow: UnitOfWork, entry_id: int) -> dict[str, Any]:
    """Every column of a stored entry, read fresh (no identity map)."""
    with uow.read() as session:
        row = session.execute(select(RecordEntryRow.__table__).where(RecordEntryRow.id == entry_id)).mappings().one()
        return dict(row)


def _shown_for(attempts: QuizAttempts, session, attempt, *, right: bool) -> frozenset[int]:  # type: ignore[no-untyped-def]
    """The shown option position that answers the attempt's current question right (or wrong)."""
    view = attempts.current(session, attempt)
    assert view is not None
    good = next(iter(view.question.correct_indexes))
    return frozenset({view.order.index(good) if right else next(i for i, o in enumerate(view.order) if o != good)})


def _at_last_question(uow: UnitOfWork, attempts: QuizAttempts, version_id: int, count: int) -> list[tuple[int, int]]:
    """`count` learners, each with an active certification attempt whose answers stop before the last question.
    Returns (learner id, attempt id)."""
    started = []
    for n in range(count):
        learner_id = _add_learner(uow, 100 + n)
        with uow.begin() as session:
            attempt = attempts.start(session, learner_id=learner_id, version_id=version_id, now=NOW, seed=1000 + n)
            assert not isinstance(attempt, str), attempt
            for _ in range(QUESTIONS - 1):
                shown = _shown_for(attempts, session, attempt, right=n % 2 == 0)
                assert attempts.answer(session, attempt, shown, now=NOW) is not None
                refreshed = quizzes.attempt_for_update(session, attempt.attempt_id)
                assert refreshed is not None
                attempt = refreshed
            assert attempt.position == QUESTIONS - 1
        started.append((learner_id, attempt.attempt_id))
    return started


def _tap_last_answer(uow: UnitOfWork, attempts: QuizAttempts, attempt_id: int, *, right: bool) -> str:
    """One worker handling a tap on the last question, as `QuizChat.press` does: lock the attempt, check it is
    still at that question, answer, re-read, finish — all in one transaction."""
    with uow.begin() as session:
        attempt = quizzes.attempt_for_update(session, attempt_id)
        if attempt is None or attempt.status != "active":
            return "not active"
        if attempt.position != QUESTIONS - 1:
            return "already answered"
        if attempts.answer(session, attempt, _shown_for(attempts, session, attempt, right=right), now=NOW) is None:
            return "already answered"
        refreshed = quizzes.attempt_for_update(session, attempt_id)
        assert refreshed is not None and attempts.current(session, refreshed) is None
        attempts.finish(session, refreshed, now=NOW)
        return "finished"


def _race(jobs: list[Callable[[threading.Barrier], Any]], *, timeout: float = RACE_TIMEOUT) -> list[Any]:
    """Run the jobs in one thread each; every job gets the same barrier and waits on it where the race should
    start. Returns each job's result or the exception it raised. Bounded: all joins share one deadline."""
    barrier = threading.Barrier(len(jobs), timeout=timeout)
    results: list[Any] = [None] * len(jobs)

    def run(index: int, job: Callable[[threading.Barrier], Any]) -> None:
        try:
            results[index] = job(barrier)
        except BaseException as exc:  # kept and asserted on by the test
            results[index] = exc

    threads = [threading.Thread(target=run, args=(i, job), daemon=True) for i, job in enumerate(jobs)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + timeout
    for thread in threads:
        thread.join(max(0.0, deadline - time.monotonic()))
    stuck = [thread.name for thread in threads if thread.is_alive()]
    barrier.abort()
    assert not stuck, f"threads still running after {timeout} s: {stuck}"
    return results


def _answers_and_entries(uow: UnitOfWork, attempt_ids: list[int]) -> tuple[dict[int, list[int]], list[RecordEntryRow]]:
    with uow.read() as session:
        positions: dict[int, list[int]] = {a: [] for a in attempt_ids}
        for attempt_id, position in session.execute(
            select(AttemptAnswer.attempt_id, AttemptAnswer.position)
            .where(AttemptAnswer.attempt_id.in_(attempt_ids))
            .order_by(AttemptAnswer.attempt_id, AttemptAnswer.position)
        ):
            positions[attempt_id].append(position)
        entries = list(session.scalars(select(RecordEntryRow).order_by(RecordEntryRow.id)))
    return positions, entries


# --- append-only --------------------------------------------------------------------------------------
def test_the_repository_has_no_way_to_change_or_remove_an_entry():
    methods = [name for name, _ in inspect.getmembers(RecordRepository, inspect.isfunction)]
    verbs = ("update", "delete", "remove", "edit", "modify", "replace", "amend", "change", "set_entry", "purge")
    assert [name for name in methods if any(verb in name for verb in verbs)] == []
    tree = ast.parse(inspect.getsource(record_repository))
    called = {
        node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
    }
    assert not called & {"update", "delete", "merge", "bulk_update_mappings"}, "the record must stay append-only"


def test_a_correction_is_a_new_row_and_leaves_the_old_one_unchanged(uow):
    learner = _add_learner(uow, 1)
    assessor = _add_learner(uow, 2, role="trainer")
    original = _entry(uow, learner, raw_score=1, level=1, entered_by=assessor)
    before = _row(uow, original)
    later = NOW + timedelta(days=1)
    correction = _entry(
        uow, learner, raw_score=3, level=3, entered_by=assessor, now=later, supersedes=original, reason="录入错误"
    )
    assert correction != original
    assert _row(uow, original) == before
    fixed = _row(uow, correction)
    assert (fixed["supersedes"], fixed["reason"], fixed["raw_score"], fixed["level"]) == (original, "录入错误", 3, 3)
    with uow.read() as session:
        entries = records.entries(session, learner_ids=[learner])
        assert session.scalar(select(func.count()).select_from(RecordEntryRow)) == 2
    assert [e.entry_id for e in entries] == [original, correction]  # both kept, oldest first
    assert [e.entry_id for e in current_entries(entries)] == [correction]


def test_an_entry_is_corrected_once_then_only_its_latest_correction_can_be(uow):
    learner = _add_learner(uow, 1)
    first = _entry(uow, learner, raw_score=1, level=1)
    second = _entry(uow, learner, raw_score=2, level=2, supersedes=first, reason="复核")
    with pytest.raises(IntegrityError):  # a second correction of the same entry: `supersedes` is unique
        _entry(uow, learner, raw_score=3, level=3, supersedes=first, reason="再次复核")
    third = _entry(uow, learner, raw_score=3, level=3, supersedes=second, reason="再次复核")
    with uow.read() as session:
        entries = records.entries(session, learner_ids=[learner])
    assert [(e.entry_id, e.supersedes) for e in entries] == [(first, None), (second, first), (third, second)]
    assert [e.entry_id for e in current_entries(entries)] == [third]  # the chain A ← B ← C leaves only C


# --- what entries() carries ---------------------------------------------------------------------------
def test_entries_carry_learner_names_assessor_numbers_and_quiz_titles(uow):
    alice = _add_learner(uow, 1)
    bob = _add_learner(uow, 2)
    assessor = _add_learner(uow, 9, role="trainer")
    published = _publish(uow, _certification_quiz("产品情境认证 第一套"))
    with uow.begin() as session:
        attempt = quizzes.start_attempt(
            session,
            learner_id=alice,
            version_id=published.version_id,
            mode="certification",
            seed=7,
            draw=[["q01", [0, 1]]],
            cycle=CYCLE,
            now=NOW,
            deadline=None,
        )
        from_quiz = records.add_entry(
            session,
            learner_id=alice,
            competency="产品理解力",
            instrument="situational",
            raw_score=8,
            max_score=10,
            level=3,
            cycle=CYCLE,
            now=NOW,
            attempt_id=attempt.attempt_id,
        )
    rated = _entry(uow, alice, entered_by=assessor, now=NOW + timedelta(hours=1))
    _entry(uow, bob, now=NOW + timedelta(hours=2))
    earlier = _entry(uow, alice, cycle="2026H1", now=datetime(2026, 3, 1))

    with uow.read() as session:
        mine = records.entries(session, learner_ids=[alice])
        this_cycle = records.entries(session, cycle=CYCLE)
        mine_this_cycle = records.entries(session, learner_ids=[alice], cycle=CYCLE)
    assert [e.entry_id for e in mine] == [earlier, from_quiz, rated]  # oldest first
    quiz_entry, rated_entry = mine[1], mine[2]
    assert (quiz_entry.learner_name, quiz_entry.employee_no) == ("学员1", "L00001")
    assert (quiz_entry.quiz_title, quiz_entry.quiz_version, quiz_entry.attempt_id) == (
        "产品情境认证 第一套",
        1,
        attempt.attempt_id,
    )
    assert quiz_entry.entered_by is None and (quiz_entry.raw_score, quiz_entry.max_score) == (8, 10)
    assert rated_entry.entered_by == "L00009"  # the assessor's employee number, not an id
    assert rated_entry.quiz_title is None and rated_entry.quiz_version is None
    assert {e.learner_name for e in this_cycle} == {"学员1", "学员2"} and len(this_cycle) == 3
    assert [e.entry_id for e in mine_this_cycle] == [from_quiz, rated]


# --- job level ----------------------------------------------------------------------------------------
def test_a_learner_is_promoted_at_most_once_per_cycle(uow):
    learner = _add_learner(uow, 1, level="初级")
    supervisor = _add_learner(uow, 2, role="supervisor", level="高级")
    with uow.read() as session:
        assert records.job_level(session, learner) == ("初级", None)
    with uow.begin() as session:
        records.promote(
            session, learner_id=learner, from_level="初级", to_level="中级", cycle=CYCLE, now=NOW, by=supervisor
        )
    with pytest.raises(IntegrityError), uow.begin() as session:  # the unique index: one per learner and cycle
        records.promote(
            session, learner_id=learner, from_level="中级", to_level="高级", cycle=CYCLE, now=NOW, by=supervisor
        )
    with uow.read() as session:
        assert records.job_level(session, learner) == ("中级", CYCLE)
    with uow.begin() as session:  # the next cycle may promote again
        records.promote(
            session, learner_id=learner, from_level="中级", to_level="高级", cycle="2027H1", now=NOW, by=supervisor
        )
    with uow.read() as session:
        assert records.job_level(session, learner) == ("高级", "2027H1")


# --- concurrency --------------------------------------------------------------------------------------
LEARNERS_AT_ONCE = 20


def test_twenty_learners_finishing_at_once_each_get_one_entry(uow):
    attempts = QuizAttempts(quizzes, records)
    published = _publish(uow, _certification_quiz())
    started = _at_last_question(uow, attempts, published.version_id, LEARNERS_AT_ONCE)

    def job(attempt_id: int, right: bool) -> Callable[[threading.Barrier], str]:
        def run(barrier: threading.Barrier) -> str:
            barrier.wait()
            return _tap_last_answer(uow, attempts, attempt_id, right=right)

        return run

    results = _race([job(attempt_id, n % 2 == 0) for n, (_, attempt_id) in enumerate(started)])

    assert results == ["finished"] * LEARNERS_AT_ONCE, results
    attempt_ids = [attempt_id for _, attempt_id in started]
    positions, entries = _answers_and_entries(uow, attempt_ids)
    assert positions == {a: list(range(QUESTIONS)) for a in attempt_ids}  # none lost, none twice
    assert sorted(e.attempt_id for e in entries) == sorted(attempt_ids)  # exactly one entry per attempt
    by_attempt = {e.attempt_id: e for e in entries}
    with uow.read() as session:
        rows = {r.id: r for r in session.scalars(select(QuizAttempt).where(QuizAttempt.id.in_(attempt_ids)))}
    for n, (learner_id, attempt_id) in enumerate(started):
        entry, attempt = by_attempt[attempt_id], rows[attempt_id]
        expected = QUESTIONS if n % 2 == 0 else 0
        assert (attempt.status, attempt.position, attempt.correct_count) == ("finished", QUESTIONS, expected)
        assert (entry.learner_id, entry.raw_score, entry.max_score, entry.cycle) == (
            learner_id,
            expected,
            QUESTIONS,
            CYCLE,
        )


def test_a_double_tapped_last_answer_is_recorded_once(uow):
    """The same tap reaching two workers: the row lock (PostgreSQL) or the unique answer index (SQLite, where
    FOR UPDATE locks nothing) lets one through; the other is told it was already answered."""
    attempts = QuizAttempts(quizzes, records)
    published = _publish(uow, _certification_quiz())
    [(_, attempt_id)] = _at_last_question(uow, attempts, published.version_id, 1)

    def run(barrier: threading.Barrier) -> str:
        barrier.wait()
        return _tap_last_answer(uow, attempts, attempt_id, right=True)

    results = _race([run, run])

    assert sorted(results, key=str) == ["already answered", "finished"] or sorted(results, key=str) == [
        "finished",
        "not active",
    ], results
    positions, entries = _answers_and_entries(uow, [attempt_id])
    assert positions == {attempt_id: list(range(QUESTIONS))}
    assert [(e.attempt_id, e.raw_score) for e in entries] == [(attempt_id, QUESTIONS)]


def _skip_where_writers_cannot_interleave(engine) -> None:
    if engine.dialect.name == "sqlite":
        pytest.skip(
            "SQLite serialises writing transactions (BEGIN IMMEDIATE): two workers cannot both read "
            "before either writes, so this interleaving cannot happen there"
        )


def test_a_double_tap_whose_workers_both_read_the_question_first_is_recorded_once(uow, engine):
    """Without the row lock (both workers read the attempt at its last question, then both answer), the unique
    (attempt, position) index decides: one answer, one finish, one record entry."""
    _skip_where_writers_cannot_interleave(engine)
    attempts = QuizAttempts(quizzes, records)
    published = _publish(uow, _certification_quiz())
    [(learner_id, attempt_id)] = _at_last_question(uow, attempts, published.version_id, 1)

    def run(barrier: threading.Barrier) -> str:
        with uow.begin() as session:
            attempt = attempts.active(session, learner_id)
            assert attempt is not None and attempt.position == QUESTIONS - 1
            shown = _shown_for(attempts, session, attempt, right=True)
            barrier.wait()  # both have read position QUESTIONS - 1
            if attempts.answer(session, attempt, shown, now=NOW) is None:
                return "already answered"
            refreshed = quizzes.attempt_for_update(session, attempt_id)
            assert refreshed is not None and attempts.current(session, refreshed) is None
            attempts.finish(session, refreshed, now=NOW)
            return "finished"

    results = _race([run, run])

    assert sorted(results, key=str) == ["already answered", "finished"], results
    positions, entries = _answers_and_entries(uow, [attempt_id])
    assert positions == {attempt_id: list(range(QUESTIONS))}
    assert [e.attempt_id for e in entries] == [attempt_id]


def test_finishing_the_same_attempt_twice_at_once_writes_one_entry(uow, engine):
    """Two finishes of one attempt (e.g. a double tap after the deadline on SQLite, where FOR UPDATE locks
    nothing): the unique attempt_id of record entries refuses the second, whose transaction rolls back."""
    _skip_where_writers_cannot_interleave(engine)
    attempts = QuizAttempts(quizzes, records)
    published = _publish(uow, _certification_quiz())
    [(learner_id, attempt_id)] = _at_last_question(uow, attempts, published.version_id, 1)

    def run(barrier: threading.Barrier) -> str:
        with uow.begin() as session:
            attempt = attempts.active(session, learner_id)
            assert attempt is not None
            barrier.wait()  # both have read the attempt as active
            attempts.finish(session, attempt, now=NOW, expired=True)
            return "finished"

    results = _race([run, run])

    assert sorted(map(type, results), key=lambda t: t.__name__) == [IntegrityError, str], results
    _, entries = _answers_and_entries(uow, [attempt_id])
    assert [(e.attempt_id, e.raw_score) for e in entries] == [(attempt_id, QUESTIONS - 1)]
    with uow.read() as session:
        assert session.get_one(QuizAttempt, attempt_id).status == "expired"


# --- atomicity ----------------------------------------------------------------------------------------
def test_an_answer_rolled_back_with_its_transaction_leaves_nothing_behind(uow):
    """A use case that fails after answering must leave no answer: otherwise the attempt keeps its position
    but the unique (attempt, position) index refuses every later answer to it — the learner is stuck."""
    attempts = QuizAttempts(quizzes, records)
    published = _publish(uow, _certification_quiz())
    [(learner_id, attempt_id)] = _at_last_question(uow, attempts, published.version_id, 1)

    class Crash(Exception):
        pass

    with pytest.raises(Crash), uow.begin() as session:
        attempt = attempts.active(session, learner_id)
        assert attempt is not None
        assert attempts.answer(session, attempt, _shown_for(attempts, session, attempt, right=True), now=NOW)
        raise Crash  # e.g. the worker dies, or a later statement of the use case fails

    positions, entries = _answers_and_entries(uow, [attempt_id])
    assert positions == {attempt_id: list(range(QUESTIONS - 1))}
    assert entries == []
