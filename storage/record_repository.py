"""The certification record (append-only) and job level changes. Never commits; never updates an entry."""

from __future__ import annotations

import json
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased

from certification.model import AnsweredQuestion, RecordEntry
from storage.models import (
    AttemptAnswer,
    JobLevelChange,
    Learner,
    QuizAttempt,
    QuizSetRecord,
    QuizVersion,
    RecordEntryRow,
)


class RecordRepository:
    def add_entry(
        self,
        session: Session,
        *,
        learner_id: int,
        competency: str,
        instrument: str,
        raw_score: int,
        max_score: int | None,
        level: int,
        cycle: str,
        now: datetime,
        entered_by: int | None = None,
        attempt_id: int | None = None,
        supersedes: int | None = None,
        reason: str = "",
    ) -> int:
        row = RecordEntryRow(
            learner_id=learner_id,
            competency=competency,
            instrument=instrument,
            raw_score=raw_score,
            max_score=max_score,
            level=level,
            cycle=cycle,
            recorded_at=now,
            entered_by=entered_by,
            attempt_id=attempt_id,
            supersedes=supersedes,
            reason=reason,
        )
        session.add(row)
        session.flush()
        return row.id

    def entry(self, session: Session, entry_id: int) -> RecordEntryRow | None:
        return session.get(RecordEntryRow, entry_id)

    def current_entry_of(self, session: Session, entry_id: int) -> RecordEntryRow:
        """The end of an entry's correction chain: the entry itself when nothing supersedes it."""
        current = session.get_one(RecordEntryRow, entry_id)
        seen = {current.id}
        while (later := session.scalar(select(RecordEntryRow).where(RecordEntryRow.supersedes == current.id))) and (
            later.id not in seen
        ):
            current = later
            seen.add(current.id)
        return current

    def add_correction(
        self,
        session: Session,
        *,
        supersedes: int,
        raw_score: int,
        max_score: int | None,
        level: int,
        now: datetime,
        entered_by: int | None,
        reason: str,
    ) -> int | None:
        """A new entry superseding `supersedes` (same learner, competency, instrument, cycle); None when another
        correction superseded it first (`supersedes` is unique). A savepoint keeps the caller's transaction."""
        old = session.get_one(RecordEntryRow, supersedes)
        try:
            with session.begin_nested():
                return self.add_entry(
                    session,
                    learner_id=old.learner_id,
                    competency=old.competency,
                    instrument=old.instrument,
                    raw_score=raw_score,
                    max_score=max_score,
                    level=level,
                    cycle=old.cycle,
                    now=now,
                    entered_by=entered_by,
                    supersedes=old.id,
                    reason=reason,
                )
        except IntegrityError:
            return None

    def entries(
        self, session: Session, *, learner_ids: list[int] | None = None, cycle: str | None = None
    ) -> list[RecordEntry]:
        """Entries as plain records, oldest first (corrections included: the rules decide what counts).

        Selects columns rather than ORM objects: at 10,000 entries that loads ~2.6x faster (bench/record_bench.py).
        """
        assessor = aliased(Learner)
        e = RecordEntryRow
        query = (
            select(
                e.id,
                e.learner_id,
                Learner.employee_no,
                Learner.name,
                e.competency,
                e.instrument,
                e.raw_score,
                e.max_score,
                e.level,
                e.cycle,
                e.recorded_at,
                assessor.employee_no,
                e.attempt_id,
                QuizSetRecord.title,
                QuizVersion.version,
                e.supersedes,
                e.reason,
            )
            .join(Learner, Learner.id == e.learner_id)
            .outerjoin(assessor, assessor.id == e.entered_by)
            .outerjoin(QuizAttempt, QuizAttempt.id == e.attempt_id)
            .outerjoin(QuizVersion, QuizVersion.id == QuizAttempt.version_id)
            .outerjoin(QuizSetRecord, QuizSetRecord.id == QuizVersion.quiz_set_id)
            .order_by(e.recorded_at, e.id)
        )
        if learner_ids is not None:
            query = query.where(e.learner_id.in_(learner_ids))
        if cycle is not None:
            query = query.where(e.cycle == cycle)
        return [RecordEntry(*row) for row in session.execute(query).tuples()]

    def certification_answers(self, session: Session) -> list[AnsweredQuestion]:
        """Every answer of every certification attempt, with the question's text (for xAPI exports)."""
        query = (
            select(AttemptAnswer, QuizAttempt, Learner.employee_no, Learner.name, QuizVersion, QuizSetRecord)
            .join(QuizAttempt, QuizAttempt.id == AttemptAnswer.attempt_id)
            .join(Learner, Learner.id == QuizAttempt.learner_id)
            .join(QuizVersion, QuizVersion.id == QuizAttempt.version_id)
            .join(QuizSetRecord, QuizSetRecord.id == QuizVersion.quiz_set_id)
            .where(QuizAttempt.mode == "certification")
            .order_by(AttemptAnswer.attempt_id, AttemptAnswer.position)
        )
        stems: dict[int, dict[str, str]] = {}
        answers = []
        for answer, attempt, employee_no, name, version, quiz_set in session.execute(query).tuples():
            if version.id not in stems:
                stems[version.id] = {q["key"]: q["stem"] for q in json.loads(version.content)["questions"]}
            answers.append(
                AnsweredQuestion(
                    attempt_id=attempt.id,
                    employee_no=employee_no,
                    learner_name=name,
                    question_key=answer.question_key,
                    question_text=stems[version.id].get(answer.question_key, ""),
                    correct=answer.correct,
                    answered_at=answer.answered_at,
                    competency=quiz_set.competency,
                    instrument=quiz_set.instrument,
                    quiz_title=quiz_set.title,
                    quiz_version=version.version,
                )
            )
        return answers

    def job_level(self, session: Session, learner_id: int) -> tuple[str, str | None]:
        """(current certified job level, the cycle of the last promotion or None)."""
        last = session.scalar(
            select(JobLevelChange).where(JobLevelChange.learner_id == learner_id).order_by(JobLevelChange.id.desc())
        )
        if last is not None:
            return last.to_level, last.cycle
        return session.get_one(Learner, learner_id).level, None

    def promote(
        self,
        session: Session,
        *,
        learner_id: int,
        from_level: str,
        to_level: str,
        cycle: str,
        now: datetime,
        by: int | None,
    ) -> None:
        session.add(
            JobLevelChange(
                learner_id=learner_id,
                from_level=from_level,
                to_level=to_level,
                cycle=cycle,
                changed_at=now,
                changed_by=by,
            )
        )

    def team(self, session: Session, supervisor_id: int) -> list[Learner]:
        return list(
            session.scalars(select(Learner).where(Learner.supervisor_id == supervisor_id).order_by(Learner.employee_no))
        )

    def set_supervisor(self, session: Session, *, learner_id: int, supervisor_id: int | None) -> None:
        session.get_one(Learner, learner_id).supervisor_id = supervisor_id
