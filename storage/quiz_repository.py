"""Quiz sets, versions, attempts, answers, the mistake notebook, retakes and uploads. Never commits."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from storage.models import (
    AttemptAnswer,
    Mistake,
    QuizAttempt,
    QuizSetRecord,
    QuizUpload,
    QuizVersion,
    RetakeGrant,
)
from storage.quiz_listing import PublishedSet, latest_versions


@dataclass(frozen=True)
class AttemptRow:
    attempt_id: int
    learner_id: int
    version_id: int
    mode: str
    seed: int
    draw: list[list]  # [[question key, [option order]], ...]
    position: int
    correct_count: int
    pending: str
    status: str
    cycle: str
    started_at: datetime
    deadline: datetime | None
    level: int | None


def _attempt(row: QuizAttempt) -> AttemptRow:
    return AttemptRow(
        row.id,
        row.learner_id,
        row.version_id,
        row.mode,
        row.seed,
        json.loads(row.draw),
        row.position,
        row.correct_count,
        row.pending,
        row.status,
        row.cycle,
        row.started_at,
        row.deadline,
        row.level,
    )


class QuizRepository:
    # --- publishing -------------------------------------------------------------------------
    def publish(
        self,
        session: Session,
        *,
        title: str,
        competency: str,
        instrument: str,
        level: str,
        mode: str,
        content: str,
        source_name: str,
        by: int | None,
        now: datetime,
    ) -> PublishedSet:
        record = session.scalar(select(QuizSetRecord).where(QuizSetRecord.title == title).with_for_update())
        if record is None:
            record = QuizSetRecord(title=title, competency=competency, instrument=instrument, level=level, mode=mode)
            session.add(record)
            session.flush()
        record.competency, record.instrument, record.level, record.mode = competency, instrument, level, mode
        record.retired_at = None
        latest = session.scalar(select(func.max(QuizVersion.version)).where(QuizVersion.quiz_set_id == record.id))
        if latest is not None:
            current = session.scalar(
                select(QuizVersion).where(QuizVersion.quiz_set_id == record.id, QuizVersion.version == latest)
            )
            if current is not None and current.content == content:  # republishing the same content: no new version
                return self._published(record, current)
        version = QuizVersion(
            quiz_set_id=record.id,
            version=(latest or 0) + 1,
            content=content,
            source_name=source_name,
            published_at=now,
            published_by=by,
        )
        session.add(version)
        session.flush()
        return self._published(record, version)

    def latest_versions(self, session: Session, *, include_retired: bool = False) -> list[PublishedSet]:
        """The newest version of each set: the Core query `coach quiz list` runs without the ORM."""
        return latest_versions(session, include_retired=include_retired)

    def version(self, session: Session, version_id: int) -> PublishedSet | None:
        v = session.get(QuizVersion, version_id)
        return None if v is None else self._published(session.get_one(QuizSetRecord, v.quiz_set_id), v)

    def retire(self, session: Session, set_id: int, now: datetime) -> bool:
        record = session.get(QuizSetRecord, set_id)
        if record is None:
            return False
        record.retired_at = now
        return True

    @staticmethod
    def _published(record: QuizSetRecord, version: QuizVersion) -> PublishedSet:
        return PublishedSet(
            record.id,
            version.id,
            version.version,
            record.title,
            record.competency,
            record.instrument,
            record.level,
            record.mode,
            record.retired_at is not None,
            version.content,
        )

    # --- attempts ---------------------------------------------------------------------------
    def start_attempt(
        self,
        session: Session,
        *,
        learner_id: int,
        version_id: int,
        mode: str,
        seed: int,
        draw: list[list],
        cycle: str,
        now: datetime,
        deadline: datetime | None,
    ) -> AttemptRow:
        row = QuizAttempt(
            learner_id=learner_id,
            version_id=version_id,
            mode=mode,
            seed=seed,
            draw=json.dumps(draw),
            status="active",
            cycle=cycle,
            started_at=now,
            deadline=deadline,
        )
        session.add(row)
        session.flush()
        return _attempt(row)

    def active_attempt(self, session: Session, learner_id: int) -> AttemptRow | None:
        row = session.scalar(
            select(QuizAttempt)
            .where(QuizAttempt.learner_id == learner_id, QuizAttempt.status == "active")
            .order_by(QuizAttempt.id.desc())
            .limit(1)
        )
        return None if row is None else _attempt(row)

    def attempt_for_update(self, session: Session, attempt_id: int) -> AttemptRow | None:
        row = session.scalar(select(QuizAttempt).where(QuizAttempt.id == attempt_id).with_for_update())
        return None if row is None else _attempt(row)

    def set_pending(self, session: Session, attempt_id: int, pending: str) -> None:
        session.execute(update(QuizAttempt).where(QuizAttempt.id == attempt_id).values(pending=pending))

    def record_answer(
        self,
        session: Session,
        *,
        attempt: AttemptRow,
        question_key: str,
        chosen: list[int],
        correct: bool,
        now: datetime,
    ) -> bool:
        """Store the answer to the attempt's current question and move on; False if it was already answered."""
        try:
            with session.begin_nested():
                session.add(
                    AttemptAnswer(
                        attempt_id=attempt.attempt_id,
                        position=attempt.position,
                        question_key=question_key,
                        chosen=json.dumps(chosen),
                        correct=correct,
                        answered_at=now,
                    )
                )
        except IntegrityError:
            return False
        moved = session.execute(
            update(QuizAttempt)
            .where(QuizAttempt.id == attempt.attempt_id, QuizAttempt.position == attempt.position)
            .values(position=attempt.position + 1, correct_count=QuizAttempt.correct_count + int(correct), pending="")
        )
        return bool(moved.rowcount == 1)  # type: ignore[attr-defined]  # a CursorResult for UPDATE

    def answers(self, session: Session, attempt_id: int) -> list[AttemptAnswer]:
        return list(
            session.scalars(
                select(AttemptAnswer).where(AttemptAnswer.attempt_id == attempt_id).order_by(AttemptAnswer.position)
            )
        )

    def finish_attempt(
        self, session: Session, attempt_id: int, *, status: str, level: int | None, now: datetime
    ) -> None:
        session.execute(
            update(QuizAttempt).where(QuizAttempt.id == attempt_id).values(status=status, level=level, finished_at=now)
        )

    def certification_attempts(self, session: Session, *, learner_id: int, set_id: int, cycle: str) -> int:
        return (
            session.scalar(
                select(func.count())
                .select_from(QuizAttempt)
                .join(QuizVersion, QuizVersion.id == QuizAttempt.version_id)
                .where(
                    QuizAttempt.learner_id == learner_id,
                    QuizVersion.quiz_set_id == set_id,
                    QuizAttempt.cycle == cycle,
                    QuizAttempt.mode == "certification",
                    QuizAttempt.status.in_(("finished", "expired", "active", "abandoned")),
                )
            )
            or 0
        )

    def grant_retake(
        self, session: Session, *, learner_id: int, set_id: int, cycle: str, by: int | None, now: datetime
    ) -> None:
        session.add(RetakeGrant(learner_id=learner_id, quiz_set_id=set_id, cycle=cycle, granted_by=by, granted_at=now))

    def unused_retakes(self, session: Session, *, learner_id: int, set_id: int, cycle: str) -> int:
        return (
            session.scalar(
                select(func.count())
                .select_from(RetakeGrant)
                .where(
                    RetakeGrant.learner_id == learner_id, RetakeGrant.quiz_set_id == set_id, RetakeGrant.cycle == cycle
                )
            )
            or 0
        )

    # --- mistake notebook -------------------------------------------------------------------
    def add_mistake(
        self, session: Session, *, learner_id: int, version_id: int, question_key: str, due: datetime, now: datetime
    ) -> None:
        row = session.scalar(
            select(Mistake).where(
                Mistake.learner_id == learner_id, Mistake.version_id == version_id, Mistake.question_key == question_key
            )
        )
        if row is None:
            session.add(
                Mistake(
                    learner_id=learner_id,
                    version_id=version_id,
                    question_key=question_key,
                    streak=0,
                    due_at=due,
                    added_at=now,
                )
            )
        else:
            row.streak, row.due_at, row.resolved_at = 0, due, None

    def due_mistakes(self, session: Session, *, learner_id: int, now: datetime, limit: int = 10) -> list[Mistake]:
        return list(
            session.scalars(
                select(Mistake)
                .where(Mistake.learner_id == learner_id, Mistake.resolved_at.is_(None), Mistake.due_at <= now)
                .order_by(Mistake.due_at)
                .limit(limit)
            )
        )

    def open_mistakes(self, session: Session, learner_id: int) -> int:
        return (
            session.scalar(
                select(func.count())
                .select_from(Mistake)
                .where(Mistake.learner_id == learner_id, Mistake.resolved_at.is_(None))
            )
            or 0
        )

    def mistake(self, session: Session, mistake_id: int) -> Mistake | None:
        return session.get(Mistake, mistake_id)

    # --- uploads ----------------------------------------------------------------------------
    def add_upload(self, session: Session, *, learner_id: int, filename: str, data: bytes, now: datetime) -> int:
        row = QuizUpload(learner_id=learner_id, filename=filename, data=data, uploaded_at=now)
        session.add(row)
        session.flush()
        return row.id

    def upload(self, session: Session, upload_id: int) -> QuizUpload | None:
        return session.get(QuizUpload, upload_id)
