"""The certification record (append-only entries, a correction superseding an old one) and certified job level
changes."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base


class RecordEntryRow(Base):
    """The certification record: append-only. A correction is a new row that supersedes an old one."""

    __tablename__ = "record_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    learner_id: Mapped[int] = mapped_column(ForeignKey("learners.id"), index=True)
    competency: Mapped[str] = mapped_column(String(32))
    instrument: Mapped[str] = mapped_column(String(32))
    raw_score: Mapped[int] = mapped_column(Integer)
    max_score: Mapped[int | None] = mapped_column(Integer, default=None)
    level: Mapped[int] = mapped_column(Integer)
    cycle: Mapped[str] = mapped_column(String(8), index=True)
    recorded_at: Mapped[datetime]
    entered_by: Mapped[int | None] = mapped_column(ForeignKey("learners.id"), default=None)
    attempt_id: Mapped[int | None] = mapped_column(ForeignKey("quiz_attempts.id"), default=None, unique=True)
    supersedes: Mapped[int | None] = mapped_column(ForeignKey("record_entries.id"), default=None, unique=True)
    reason: Mapped[str] = mapped_column(String(255), default="")


class JobLevelChange(Base):
    """Certified job level changes (promotions), one per learner and cycle at most."""

    __tablename__ = "job_level_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    learner_id: Mapped[int] = mapped_column(ForeignKey("learners.id"), index=True)
    from_level: Mapped[str] = mapped_column(String(8))
    to_level: Mapped[str] = mapped_column(String(8))
    cycle: Mapped[str] = mapped_column(String(8))
    changed_at: Mapped[datetime]
    changed_by: Mapped[int | None] = mapped_column(ForeignKey("learners.id"), default=None)

    __table_args__ = (Index("uq_one_promotion_per_cycle", "learner_id", "cycle", unique=True),)
