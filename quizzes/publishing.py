"""Publishing a validated quiz set: a new immutable version, or none when the content is unchanged."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from quizzes.model import QuizSet
from quizzes.serialization import quiz_to_json
from storage.quiz_repository import PublishedSet, QuizRepository


def publish_quiz_set(
    session: Session, repository: QuizRepository, quiz: QuizSet, *, source_name: str, by: int | None, now: datetime
) -> PublishedSet:
    """Store `quiz` (already validated) as the newest version of its set, inside the caller's transaction."""
    return repository.publish(
        session,
        title=quiz.title,
        competency=quiz.competency,
        instrument=quiz.instrument,
        level=quiz.level,
        mode=quiz.mode,
        content=quiz_to_json(quiz),
        source_name=source_name,
        by=by,
        now=now,
    )
