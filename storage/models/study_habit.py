"""The study habit: reminders, the daily question, the outbox and its send rates (see bot/core/reminder_plan.py)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base


class OutboxMessage(Base):
    """A message due to someone outside any conversation (a review reminder, the daily question, a digest).

    Channel-neutral: `channel` + `address` say where, `payload` holds the replies (bot/core/reply_codec.py). The
    unique `dedupe_key` (learner + kind + day) stops a due item being queued twice; a worker claims a row with a
    lease (`lease_until`), so a worker that dies after claiming leaves it to be claimed again once the lease ran out.
    """

    __tablename__ = "outbox_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    dedupe_key: Mapped[str] = mapped_column(String(128), unique=True)
    learner_id: Mapped[int] = mapped_column(ForeignKey("learners.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    channel: Mapped[str] = mapped_column(String(16))
    address: Mapped[str] = mapped_column(String(64))
    payload: Mapped[str] = mapped_column(Text)
    due_at: Mapped[datetime]
    expires_at: Mapped[datetime]  # never sent at or after this (the next quiet hours begin)
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending, sent, blocked, failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    sent_parts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")  # channel messages accepted
    lease_until: Mapped[datetime | None] = mapped_column(default=None)
    claimed_by: Mapped[str] = mapped_column(String(64), default="")
    claimed_at: Mapped[datetime | None] = mapped_column(default=None)
    sent_at: Mapped[datetime | None] = mapped_column(default=None)
    last_error: Mapped[str] = mapped_column(String(255), default="")
    created_at: Mapped[datetime]

    __table_args__ = (
        Index("ix_outbox_due", "status", "channel", "due_at"),
        Index("ix_outbox_address", "channel", "address", "claimed_at"),
    )


class ReminderPreference(Base):
    """What a learner chose with /remind: the daily question's time ("" = off) and mistake-notebook reminders."""

    __tablename__ = "reminder_preferences"

    learner_id: Mapped[int] = mapped_column(ForeignKey("learners.id", ondelete="CASCADE"), primary_key=True)
    daily_time: Mapped[str] = mapped_column(String(5), default="")  # "HH:MM" in the programme's time zone
    reviews: Mapped[bool] = mapped_column(default=True)
    updated_at: Mapped[datetime]


class ReminderBlock(Base):
    """A channel told us this learner blocked the bot (Telegram 403): no more reminders there until they write."""

    __tablename__ = "reminder_blocks"

    learner_id: Mapped[int] = mapped_column(ForeignKey("learners.id", ondelete="CASCADE"), primary_key=True)
    channel: Mapped[str] = mapped_column(String(16), primary_key=True)
    blocked_at: Mapped[datetime]


class DailyAnswer(Base):
    """An answer to the daily question (a practice answer: it counts for the streak)."""

    __tablename__ = "daily_answers"

    id: Mapped[int] = mapped_column(primary_key=True)
    learner_id: Mapped[int] = mapped_column(ForeignKey("learners.id", ondelete="CASCADE"), index=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("quiz_versions.id"))
    question_key: Mapped[str] = mapped_column(String(64))
    correct: Mapped[bool]
    answered_at: Mapped[datetime]


class SendRate(Base):
    """A token bucket per channel shared by every worker: how many outbox messages may go out now."""

    __tablename__ = "send_rates"

    channel: Mapped[str] = mapped_column(String(16), primary_key=True)
    tokens: Mapped[float] = mapped_column(Float)
    updated_at: Mapped[datetime]
