"""Quiz attempts as use cases inside the caller's transaction: start, show, answer, stop, finish, review.

State lives in the database (attempt, position, pending multi-select, answers), so a restart or another
worker resumes exactly; the seed recorded with each attempt replays its draw for an audit.
"""

from __future__ import annotations

import random
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from quizzes.engine import draw_for_seed, grade, is_correct
from quizzes.model import Question, QuizSet
from quizzes.serialization import quiz_from_json
from quizzes.validation import programme_problems
from storage.quiz_repository import AttemptRow, PublishedSet, QuizRepository
from storage.record_repository import RecordRepository

REVIEW_INTERVALS = (timedelta(days=1), timedelta(days=3))  # after the 1st and 2nd right answer in a row
RIGHT_IN_A_ROW_TO_LEAVE = 2


PROGRAMME_TIME_ZONE = ZoneInfo("Asia/Shanghai")  # the default of settings.app.time_zone


def half_year_cycle(now: datetime, *, time_zone: ZoneInfo = PROGRAMME_TIME_ZONE) -> str:
    """The promotion review cycle, '2026H1' or '2026H2', of `now` (naive means UTC, as stored) on the calendar
    of `time_zone`: 2026-06-30 20:00 UTC is 07-01 in Beijing, so 2026H2."""
    local = (now if now.tzinfo is not None else now.replace(tzinfo=UTC)).astimezone(time_zone)
    return f"{local.year}H{1 if local.month <= 6 else 2}"


@dataclass(frozen=True)
class QuestionView:
    """A question as the learner sees it now: options in this attempt's shuffled order."""

    attempt_id: int
    position: int
    total: int
    question: Question
    order: tuple[int, ...]
    selected: frozenset[int]  # shown positions picked so far (multiple choice)
    quiz_title: str
    deadline: datetime | None

    @property
    def shown_options(self) -> list[str]:
        return [self.question.options[i].text for i in self.order]


@dataclass(frozen=True)
class AnswerOutcome:
    correct: bool
    question: Question
    chosen_original: frozenset[int]
    show_feedback: bool


@dataclass(frozen=True)
class AttemptResult:
    attempt_id: int
    title: str
    mode: str
    correct: int
    total: int
    level: int
    cut_scores: tuple[int, int, int]
    missed: tuple[Question, ...]
    expired: bool


StartRefusal = Literal["certification_used", "not_found", "not_conformant"]


@dataclass
class QuizAttempts:
    repository: QuizRepository
    records: RecordRepository | None = None  # certification results go to the record in the same transaction
    time_zone: ZoneInfo = PROGRAMME_TIME_ZONE  # settings.app.time_zone: where half-year cycles are cut
    _quizzes: dict[int, QuizSet] = field(default_factory=dict, repr=False)  # published versions never change

    def available(self, session: Session, *, level: str | None) -> list[PublishedSet]:
        sets = self.repository.latest_versions(session)
        return [s for s in sets if level is None or s.level == level]

    def active(self, session: Session, learner_id: int) -> AttemptRow | None:
        return self.repository.active_attempt(session, learner_id)

    def start(
        self, session: Session, *, learner_id: int, version_id: int, now: datetime, seed: int | None = None
    ) -> AttemptRow | StartRefusal:
        published = self.repository.version(session, version_id)
        if published is None or published.retired:
            return "not_found"
        quiz = quiz_from_json(published.content)
        cycle = half_year_cycle(now, time_zone=self.time_zone)
        if quiz.mode == "certification":
            if programme_problems(quiz, source=published.title):  # stored before the rule: no result for the record
                return "not_conformant"
            used = self.repository.certification_attempts(
                session, learner_id=learner_id, set_id=published.set_id, cycle=cycle
            )
            allowed = 1 + self.repository.unused_retakes(
                session, learner_id=learner_id, set_id=published.set_id, cycle=cycle
            )
            if used >= allowed:
                return "certification_used"
        seed = secrets.randbits(31) if seed is None else seed
        draw = [[d.key, list(d.option_order)] for d in draw_for_seed(quiz, seed)]
        deadline = now + timedelta(minutes=quiz.time_limit_minutes) if quiz.time_limit_minutes else None
        return self.repository.start_attempt(
            session,
            learner_id=learner_id,
            version_id=version_id,
            mode=quiz.mode,
            seed=seed,
            draw=draw,
            cycle=cycle,
            now=now,
            deadline=deadline,
        )

    def quiz_of(self, session: Session, attempt: AttemptRow) -> QuizSet:
        return self._version(session, attempt.version_id)

    def _version(self, session: Session, version_id: int) -> QuizSet:
        """A published version's quiz, parsed once per process (versions are immutable)."""
        quiz = self._quizzes.get(version_id)
        if quiz is None:
            published = self.repository.version(session, version_id)
            assert published is not None
            quiz = self._quizzes[version_id] = quiz_from_json(published.content)
        return quiz

    def current(self, session: Session, attempt: AttemptRow) -> QuestionView | None:
        if attempt.position >= len(attempt.draw):
            return None
        quiz = self.quiz_of(session, attempt)
        key, order = attempt.draw[attempt.position]
        question = next(q for q in quiz.questions if q.key == key)
        selected = frozenset(int(c) for c in attempt.pending.split(",") if c)
        return QuestionView(
            attempt.attempt_id,
            attempt.position,
            len(attempt.draw),
            question,
            tuple(order),
            selected,
            quiz.title,
            attempt.deadline,
        )

    def toggle(self, session: Session, attempt: AttemptRow, shown: int) -> frozenset[int]:
        """Pick or unpick an option of a multiple-choice question; returns the current selection."""
        selected = {int(c) for c in attempt.pending.split(",") if c}
        selected.symmetric_difference_update({shown})
        self.repository.set_pending(session, attempt.attempt_id, ",".join(map(str, sorted(selected))))
        return frozenset(selected)

    def answer(
        self, session: Session, attempt: AttemptRow, shown: frozenset[int], *, now: datetime
    ) -> AnswerOutcome | None:
        """Record the answer to the current question (shown positions); None if it was already answered."""
        view = self.current(session, attempt)
        if view is None:
            return None
        chosen = frozenset(view.order[i] for i in shown)
        correct = is_correct(view.question, chosen)
        if not self.repository.record_answer(
            session, attempt=attempt, question_key=view.question.key, chosen=sorted(chosen), correct=correct, now=now
        ):
            return None
        if not correct:
            self.repository.add_mistake(
                session,
                learner_id=attempt.learner_id,
                version_id=attempt.version_id,
                question_key=view.question.key,
                due=now + REVIEW_INTERVALS[0],
                now=now,
            )
        return AnswerOutcome(correct, view.question, chosen, show_feedback=attempt.mode == "practice")

    def expired(self, attempt: AttemptRow, now: datetime) -> bool:
        return attempt.deadline is not None and now > attempt.deadline

    def finish(self, session: Session, attempt: AttemptRow, *, now: datetime, expired: bool = False) -> AttemptResult:
        quiz = self.quiz_of(session, attempt)
        answers = {a.position: a for a in self.repository.answers(session, attempt.attempt_id)}
        correct = sum(1 for a in answers.values() if a.correct)
        level = grade(correct, quiz)
        self.repository.finish_attempt(
            session, attempt.attempt_id, status="expired" if expired else "finished", level=level, now=now
        )
        if attempt.mode == "certification" and self.records is not None:
            self.records.add_entry(
                session,
                learner_id=attempt.learner_id,
                competency=quiz.competency,
                instrument=quiz.instrument,
                raw_score=correct,
                max_score=len(attempt.draw),
                level=level,
                cycle=attempt.cycle,
                now=now,
                attempt_id=attempt.attempt_id,
            )
        by_key = {q.key: q for q in quiz.questions}
        missed = tuple(
            by_key[key]
            for position, (key, _) in enumerate(attempt.draw)
            if position not in answers or not answers[position].correct
        )
        return AttemptResult(
            attempt.attempt_id,
            quiz.title,
            quiz.mode,
            correct,
            len(attempt.draw),
            level,
            quiz.cut_scores,
            missed,
            expired,
        )

    def stop(self, session: Session, attempt: AttemptRow, *, now: datetime) -> None:
        self.repository.finish_attempt(session, attempt.attempt_id, status="abandoned", level=None, now=now)

    # --- the mistake notebook ---------------------------------------------------------------
    def next_review(
        self, session: Session, *, learner_id: int, now: datetime
    ) -> tuple[int, Question, tuple[int, ...]] | None:
        """The next due mistake: (mistake id, question, option order for showing)."""
        for mistake in self.repository.due_mistakes(session, learner_id=learner_id, now=now):
            published = self.repository.version(session, mistake.version_id)
            if published is None:
                continue
            question = next(
                (q for q in quiz_from_json(published.content).questions if q.key == mistake.question_key), None
            )
            if question is None:
                continue
            order = list(range(len(question.options)))
            if question.kind != "true_false":
                random.Random(mistake.id * 7919 + mistake.streak).shuffle(order)
            return mistake.id, question, tuple(order)
        return None

    def answer_review(
        self, session: Session, *, learner_id: int, mistake_id: int, chosen: frozenset[int], now: datetime
    ) -> tuple[bool, Question, bool] | None:
        """(right?, question, left the notebook?) or None when this mistake is not the learner's or not due."""
        mistake = self.repository.mistake(session, mistake_id)
        if mistake is None or mistake.learner_id != learner_id or mistake.resolved_at is not None:
            return None
        if mistake.due_at > now:
            return None
        published = self.repository.version(session, mistake.version_id)
        assert published is not None
        question = next(q for q in quiz_from_json(published.content).questions if q.key == mistake.question_key)
        right = is_correct(question, chosen)
        if right:
            mistake.streak += 1
            if mistake.streak >= RIGHT_IN_A_ROW_TO_LEAVE:
                mistake.resolved_at = now
            else:
                mistake.due_at = now + REVIEW_INTERVALS[min(mistake.streak, len(REVIEW_INTERVALS) - 1)]
        else:
            mistake.streak, mistake.due_at = 0, now + REVIEW_INTERVALS[0]
        return right, question, mistake.resolved_at is not None
