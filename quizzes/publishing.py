"""Publishing a validated quiz set: a new immutable version, or none when the content is unchanged."""

from __future__ import annotations

from dataclasses import fields, is_dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from quizzes.imported import ImportProblem
from quizzes.model import QuizSet
from quizzes.serialization import quiz_to_json
from quizzes.validation import validate_quiz_set
from storage.quiz_repository import PublishedSet, QuizRepository
from storage.text_hygiene import strip_control_characters


class QuizSetRefused(ValueError):
    """A set `publish_quiz_set` will not store; `problems` are the loader's own, located at the source name."""

    def __init__(self, problems: list[ImportProblem]) -> None:
        super().__init__("\n".join(f"{p.location}:{p.message}" for p in problems))
        self.problems = problems


def publish_quiz_set(
    session: Session, repository: QuizRepository, quiz: QuizSet, *, source_name: str, by: int | None, now: datetime
) -> PublishedSet:
    """Store `quiz` as the newest version of its set, inside the caller's transaction.

    Control characters in any text field (a GIFT or Aiken file is plain text and may carry NUL) are dropped
    first: PostgreSQL cannot store NUL, and nothing a learner reads needs them. A certification set is
    validated again here, whoever calls (the loader validated a file; a direct call did not): its result goes
    to the record and to HR, so a set that is not the programme's instrument — or invalid in any other way —
    raises `QuizSetRefused` with the loader's messages before anything is written."""
    quiz = without_control_characters(quiz)
    if quiz.mode == "certification":
        problems = validate_quiz_set(quiz, locations={}, source=source_name)
        if problems:
            raise QuizSetRefused(problems)
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


def without_control_characters(quiz: QuizSet) -> QuizSet:
    """The same quiz set with control characters removed from every text field (of it, its questions, options)."""
    return _clean(quiz)  # type: ignore[no-any-return]


def _clean(value: Any) -> Any:
    if isinstance(value, str):
        return strip_control_characters(value)
    if is_dataclass(value) and not isinstance(value, type):
        return replace(value, **{f.name: _clean(getattr(value, f.name)) for f in fields(value) if f.init})
    if isinstance(value, tuple):
        return tuple(_clean(v) for v in value)
    if isinstance(value, list):
        return [_clean(v) for v in value]
    if isinstance(value, dict):
        return {_clean(k): _clean(v) for k, v in value.items()}
    return value
