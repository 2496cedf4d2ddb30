"""Quizzes: sets and their published versions, attempts and their answers, the mistake notebook (错题本), retake
grants, quiz files waiting for a trainer's confirmation."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base


class QuizSetRecord(Base):
    """A quiz set across its versions; retiring hides it from learners."""

    __tablename__ = "quiz_sets"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200), unique=True)
    competency: Mapped[str] = mapped_column(String(32))
    instrument: Mapped[str] = mapped_column(String(32))
    level: Mapped[str] = mapped_column(String(8))
    mode: Mapped[str] = mapped_column(String(16))
    retired_at: Mapped[datetime | None] = mapped_column(default=None)


class QuizVersion(Base):
    """One published version of a set: immutable; attempts point to the exact version they used."""

    __tablename__ = "quiz_versions"

    id: Mapped[int] = mapped_column(primary_key=True)
    quiz_set_id: Mapped[int] = mapped_column(ForeignKey("quiz_sets.id"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    content: Mapped[str] = mapped_column(Text)
    source_name: Mapped[str] = mapped_column(String(255))
    published_at: Mapped[datetime]
    published_by: Mapped[int | None] = mapped_column(ForeignKey("learners.id"), default=None)

    __table_args__ = (Index("uq_quiz_version", "quiz_set_id", "version", unique=True),)


class QuizAttempt(Base):
    """One learner's run through a quiz version: the seeded draw, where they are, the result."""

    __tablename__ = "quiz_attempts"

    id: Mapped[int] = mapped_column(primary_key=True)
    learner_id: Mapped[int] = mapped_column(ForeignKey("learners.id"), index=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("quiz_versions.id"), index=True)
    mode: Mapped[str] = mapped_column(String(16))
    seed: Mapped[int] = mapped_column(Integer)
    draw: Mapped[str] = mapped_column(Text)
    position: Mapped[int] = mapped_column(Integer, default=0)
    correct_count: Mapped[int] = mapped_column(Integer, default=0)
    pending: Mapped[str] = mapped_column(String(32), default="")
    status: Mapped[str] = mapped_column(String(16), index=True)
    cycle: Mapped[str] = mapped_column(String(8))
    started_at: Mapped[datetime]
    deadline: Mapped[datetime | None] = mapped_column(default=None)
    finished_at: Mapped[datetime | None] = mapped_column(default=None)
    level: Mapped[int | None] = mapped_column(Integer, default=None)


class AttemptAnswer(Base):
    """Every answer given, once per question of an attempt (the unique index stops double taps)."""

    __tablename__ = "attempt_answers"

    id: Mapped[int] = mapped_column(primary_key=True)
    attempt_id: Mapped[int] = mapped_column(ForeignKey("quiz_attempts.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    question_key: Mapped[str] = mapped_column(String(64))
    chosen: Mapped[str] = mapped_column(String(64))
    correct: Mapped[bool]
    answered_at: Mapped[datetime]

    __table_args__ = (Index("uq_attempt_position", "attempt_id", "position", unique=True),)


class Mistake(Base):
    """The mistake notebook (错题本): a missed question, when to ask it again, the run of right answers."""

    __tablename__ = "mistakes"

    id: Mapped[int] = mapped_column(primary_key=True)
    learner_id: Mapped[int] = mapped_column(ForeignKey("learners.id"), index=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("quiz_versions.id"))
    question_key: Mapped[str] = mapped_column(String(64))
    streak: Mapped[int] = mapped_column(Integer, default=0)
    due_at: Mapped[datetime]
    added_at: Mapped[datetime]
    resolved_at: Mapped[datetime | None] = mapped_column(default=None)

    __table_args__ = (Index("uq_mistake", "learner_id", "version_id", "question_key", unique=True),)


class RetakeGrant(Base):
    """A trainer's permission for one more certification attempt of a set in a cycle."""

    __tablename__ = "retake_grants"

    id: Mapped[int] = mapped_column(primary_key=True)
    learner_id: Mapped[int] = mapped_column(ForeignKey("learners.id"))
    quiz_set_id: Mapped[int] = mapped_column(ForeignKey("quiz_sets.id"))
    cycle: Mapped[str] = mapped_column(String(8))
    granted_by: Mapped[int | None] = mapped_column(ForeignKey("learners.id"), default=None)
    granted_at: Mapped[datetime]
    used_at: Mapped[datetime | None] = mapped_column(default=None)


class QuizUpload(Base):
    """A quiz file a trainer sent in chat, kept until they confirm or drop the preview."""

    __tablename__ = "quiz_uploads"

    id: Mapped[int] = mapped_column(primary_key=True)
    learner_id: Mapped[int] = mapped_column(ForeignKey("learners.id"))
    filename: Mapped[str] = mapped_column(String(255))
    data: Mapped[bytes] = mapped_column(LargeBinary)
    uploaded_at: Mapped[datetime]
