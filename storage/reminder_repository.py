"""What reminders are planned from: learners' choices (/remind), blocked channels, due mistakes, answers by day,
teams. Queries take many learners at once (a morning plan covers everyone). Never commits."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from storage.models import (
    AttemptAnswer,
    ChannelIdentity,
    DailyAnswer,
    Learner,
    Mistake,
    QuizAttempt,
    ReminderBlock,
    ReminderPreference,
)

CHUNK = 500  # ids per IN (…) query


@dataclass(frozen=True)
class ReminderChoice:
    daily_time: str  # "HH:MM", "" = no daily question
    reviews: bool  # mistake-notebook reminders


DEFAULT_CHOICE = ReminderChoice(daily_time="", reviews=True)  # nobody chose: reviews on, daily question off


@dataclass(frozen=True)
class Person:
    learner_id: int
    name: str
    employee_no: str
    level: str
    role: str


def _chunks(ids: Sequence[int]) -> Iterator[list[int]]:
    for start in range(0, len(ids), CHUNK):
        yield list(ids[start : start + CHUNK])


class ReminderRepository:
    # --- choices and blocks ------------------------------------------------------------------
    def choice(self, session: Session, learner_id: int) -> ReminderChoice:
        row = session.get(ReminderPreference, learner_id)
        return DEFAULT_CHOICE if row is None else ReminderChoice(row.daily_time, row.reviews)

    def choices(self, session: Session, learner_ids: Sequence[int]) -> dict[int, ReminderChoice]:
        """Every learner's choice (the default for those who never chose)."""
        found = {i: DEFAULT_CHOICE for i in learner_ids}
        for chunk in _chunks(learner_ids):
            for row in session.scalars(select(ReminderPreference).where(ReminderPreference.learner_id.in_(chunk))):
                found[row.learner_id] = ReminderChoice(row.daily_time, row.reviews)
        return found

    def set_choice(self, session: Session, learner_id: int, choice: ReminderChoice, *, now: datetime) -> None:
        row = session.get(ReminderPreference, learner_id)
        if row is None:
            session.add(ReminderPreference(learner_id=learner_id, updated_at=now))
            session.flush()
            row = session.get_one(ReminderPreference, learner_id)
        row.daily_time, row.reviews, row.updated_at = choice.daily_time, choice.reviews, now

    def daily_opt_ins(self, session: Session) -> dict[int, tuple[str, datetime]]:
        """learner id → (the daily question's time, when it was chosen), for everyone who asked for it."""
        rows = select(
            ReminderPreference.learner_id, ReminderPreference.daily_time, ReminderPreference.updated_at
        ).where(ReminderPreference.daily_time != "")
        return {learner_id: (at, chosen) for learner_id, at, chosen in session.execute(rows).tuples()}

    def block(self, session: Session, *, learner_id: int, channel: str, now: datetime) -> None:
        if session.get(ReminderBlock, (learner_id, channel)) is None:
            session.add(ReminderBlock(learner_id=learner_id, channel=channel, blocked_at=now))

    def unblock(self, session: Session, learner_id: int) -> int:
        result = session.execute(delete(ReminderBlock).where(ReminderBlock.learner_id == learner_id))
        return int(result.rowcount or 0)  # type: ignore[attr-defined]

    def blocked(self, session: Session, learner_ids: Sequence[int]) -> set[tuple[int, str]]:
        found: set[tuple[int, str]] = set()
        for chunk in _chunks(learner_ids):
            query = select(ReminderBlock.learner_id, ReminderBlock.channel).where(ReminderBlock.learner_id.in_(chunk))
            found.update(session.execute(query).tuples())
        return found

    # --- who and where -----------------------------------------------------------------------
    def identities(self, session: Session, learner_ids: Sequence[int]) -> dict[int, list[tuple[str, str]]]:
        """learner id → [(channel, the channel's user id)], oldest first."""
        found: dict[int, list[tuple[str, str]]] = defaultdict(list)
        for chunk in _chunks(learner_ids):
            query = (
                select(ChannelIdentity.learner_id, ChannelIdentity.channel, ChannelIdentity.external_id)
                .where(ChannelIdentity.learner_id.in_(chunk))
                .order_by(ChannelIdentity.id)
            )
            for learner_id, channel, external_id in session.execute(query).tuples():
                found[learner_id].append((channel, external_id))
        return found

    def people(self, session: Session, learner_ids: Sequence[int]) -> dict[int, Person]:
        found: dict[int, Person] = {}
        for chunk in _chunks(learner_ids):
            query = select(Learner.id, Learner.name, Learner.employee_no, Learner.level, Learner.role).where(
                Learner.id.in_(chunk)
            )
            for row in session.execute(query).tuples():
                found[row[0]] = Person(*row)
        return found

    def teams(self, session: Session) -> dict[int, list[Person]]:
        """supervisor id → the team's members, by employee number."""
        query = (
            select(Learner.supervisor_id, Learner.id, Learner.name, Learner.employee_no, Learner.level, Learner.role)
            .where(Learner.supervisor_id.is_not(None))
            .order_by(Learner.employee_no)
        )
        found: dict[int, list[Person]] = defaultdict(list)
        for supervisor_id, learner_id, name, employee_no, level, role in session.execute(query).tuples():
            if supervisor_id is not None:
                found[supervisor_id].append(Person(learner_id, name, employee_no, level, role))
        return found

    # --- what is due, what was done ----------------------------------------------------------
    def due_mistake_counts(self, session: Session, *, now: datetime) -> dict[int, int]:
        """learner id → open mistakes due by `now`."""
        query = (
            select(Mistake.learner_id, func.count())
            .where(Mistake.resolved_at.is_(None), Mistake.due_at <= now)
            .group_by(Mistake.learner_id)
        )
        return dict(session.execute(query).tuples().all())

    def answer_times(
        self, session: Session, learner_ids: Sequence[int], *, since: datetime
    ) -> dict[int, list[datetime]]:
        """learner id → when they answered a quiz question (any mode) or the daily question since `since`."""
        found: dict[int, list[datetime]] = defaultdict(list)
        for chunk in _chunks(learner_ids):
            quiz = (
                select(QuizAttempt.learner_id, AttemptAnswer.answered_at)
                .join(QuizAttempt, QuizAttempt.id == AttemptAnswer.attempt_id)
                .where(QuizAttempt.learner_id.in_(chunk), AttemptAnswer.answered_at >= since)
            )
            daily = select(DailyAnswer.learner_id, DailyAnswer.answered_at).where(
                DailyAnswer.learner_id.in_(chunk), DailyAnswer.answered_at >= since
            )
            for query in (quiz, daily):
                for learner_id, answered_at in session.execute(query).tuples():
                    found[learner_id].append(answered_at)
        return found

    def daily_answered(
        self, session: Session, *, learner_id: int, version_id: int, question_key: str, since: datetime
    ) -> bool:
        """Whether this daily question was answered since `since` (its message has one answer, whichever button)."""
        query = select(DailyAnswer.id).where(
            DailyAnswer.learner_id == learner_id,
            DailyAnswer.version_id == version_id,
            DailyAnswer.question_key == question_key,
            DailyAnswer.answered_at >= since,
        )
        return session.scalar(query.limit(1)) is not None

    def add_daily_answer(
        self, session: Session, *, learner_id: int, version_id: int, question_key: str, correct: bool, now: datetime
    ) -> None:
        session.add(
            DailyAnswer(
                learner_id=learner_id,
                version_id=version_id,
                question_key=question_key,
                correct=correct,
                answered_at=now,
            )
        )
