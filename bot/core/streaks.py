"""Streaks: days in a row with a practice answer (a quiz question of any mode, or the daily question).

Days are calendar days in the programme's time zone. A streak still counts on a day not yet practised (it ends
yesterday until midnight): nobody loses 12 days at 08:00 for not having answered yet.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo

from sqlalchemy.orm import Session

from bot.core.quiet_hours import local_date
from storage.reminder_repository import ReminderRepository

WINDOW_DAYS = 120  # a longer streak is shown as this many days (the query reads no further back)


def streak_days(days: Iterable[date], *, today: date) -> int:
    """Consecutive days with practice ending today, or yesterday when today has none yet."""
    practised = set(days)
    day = today if today in practised else today - timedelta(days=1)
    count = 0
    while day in practised:
        count += 1
        day -= timedelta(days=1)
    return count


@dataclass
class Streaks:
    """Reads streaks for one learner (/record) or many (the morning plan) in one query."""

    reminders: ReminderRepository
    time_zone: tzinfo

    def many(self, session: Session, learner_ids: list[int], *, now: datetime) -> dict[int, int]:
        since = now - timedelta(days=WINDOW_DAYS + 1)
        times = self.reminders.answer_times(session, learner_ids, since=since)
        today = local_date(now, self.time_zone)
        return {
            learner_id: streak_days((local_date(t, self.time_zone) for t in times.get(learner_id, ())), today=today)
            for learner_id in learner_ids
        }

    def one(self, session: Session, learner_id: int, *, now: datetime) -> int:
        return self.many(session, [learner_id], now=now)[learner_id]
