"""What is due now, as outbox rows: the day's mistake-notebook reminder, the daily question, the weekly digest.

Any worker may plan at any time, as often as it likes: each due item has one dedupe key (learner + kind + day or
week), so planning twice queues once. A message is planned only inside its sending window (bot/core/quiet_hours.py)
and expires when the next quiet hours begin. It goes to the learner's first identity on a channel in
`ReminderSchedule.channels` order that they have not blocked; a learner with none gets nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from bot.core import texts
from bot.core.buttons import button_maker
from bot.core.daily_question import daily_message, pick_daily_question, practice_sets, weakest_first
from bot.core.messages import TextReply
from bot.core.quiet_hours import QuietHours, local_date, parse_clock, sending_window
from bot.core.reply_codec import encode_replies
from bot.core.streaks import WINDOW_DAYS, Streaks
from bot.core.weekly_digest import weekly_digest
from quizzes.attempts import half_year_cycle
from storage.db import UnitOfWork, utc_now
from storage.interaction_repository import InteractionRepository
from storage.outbox_repository import OutboxItem, OutboxRepository
from storage.quiz_repository import QuizRepository
from storage.record_repository import RecordRepository
from storage.reminder_repository import ReminderRepository

log = logging.getLogger(__name__)
CHUNK = 500  # learners per planning transaction


@dataclass(frozen=True)
class ReminderSchedule:
    time_zone: ZoneInfo
    quiet: QuietHours
    review_time: time  # the mistake-notebook reminder (and the daily question's default place in the day)
    digest_weekday: int  # 0 = Monday
    digest_time: time
    channels: tuple[str, ...]  # where reminders may go, in order of preference


@dataclass
class PlanReport:
    review: int = 0
    daily: int = 0
    digest: int = 0


def _chunks(ids: Sequence[int]) -> Iterator[list[int]]:
    for start in range(0, len(ids), CHUNK):
        yield list(ids[start : start + CHUNK])


@dataclass
class ReminderPlanner:
    uow: UnitOfWork
    schedule: ReminderSchedule
    new_token: Callable[[], str]
    reminders: ReminderRepository = field(default_factory=ReminderRepository)
    outbox: OutboxRepository = field(default_factory=OutboxRepository)
    interactions: InteractionRepository = field(default_factory=InteractionRepository)
    quizzes: QuizRepository = field(default_factory=QuizRepository)
    records: RecordRepository = field(default_factory=RecordRepository)
    clock: Callable[[], datetime] = utc_now

    def __post_init__(self) -> None:
        self.streaks = Streaks(self.reminders, self.schedule.time_zone)

    def plan(self) -> PlanReport:
        """Queue everything due now that is not queued yet."""
        now = self.clock()
        today = local_date(now, self.schedule.time_zone)
        return PlanReport(
            review=self._plan_reviews(now, today),
            daily=self._plan_daily(now, today),
            digest=self._plan_digests(now, today),
        )

    def _window(self, day: date, at: time) -> tuple[datetime, datetime]:
        return sending_window(day=day, at=at, quiet=self.schedule.quiet, zone=self.schedule.time_zone)

    def _address(self, session: Session, learner_ids: list[int]) -> dict[int, tuple[str, str]]:
        """Where each learner's reminders go: the first unblocked identity in channel preference order."""
        blocked = self.reminders.blocked(session, learner_ids)
        order = {channel: i for i, channel in enumerate(self.schedule.channels)}
        found = {}
        for learner_id, identities in self.reminders.identities(session, learner_ids).items():
            usable = [i for i in identities if i[0] in order and (learner_id, i[0]) not in blocked]
            if usable:
                found[learner_id] = min(usable, key=lambda i: order[i[0]])
        return found

    def _item(self, key: str, learner_id: int, kind: str, where: tuple[str, str], reply: TextReply,
              window: tuple[datetime, datetime]) -> OutboxItem:  # fmt: skip
        return OutboxItem(key, learner_id, kind, where[0], where[1], encode_replies([reply]), *window)

    # --- the mistake notebook ------------------------------------------------------------------
    def _plan_reviews(self, now: datetime, today: date) -> int:
        window = self._window(today, self.schedule.review_time)
        if not window[0] <= now < window[1]:
            return 0
        with self.uow.read() as session:
            due = self.reminders.due_mistake_counts(session, now=now)
            keys = {learner_id: f"review:{learner_id}:{today.isoformat()}" for learner_id in due}
            queued = self.outbox.existing_keys(session, keys.values())
        todo = [learner_id for learner_id, key in keys.items() if key not in queued]
        added = 0
        for chunk in _chunks(todo):
            with self.uow.begin() as session:
                choices = self.reminders.choices(session, chunk)
                wanted = [i for i in chunk if choices[i].reviews]
                where, streaks = self._address(session, wanted), self.streaks.many(session, wanted, now=now)
                items = []
                for learner_id in (i for i in wanted if i in where):
                    button = button_maker(self.interactions, self.new_token, session, learner_id, now)
                    streak = texts.STREAK.format(days=streaks[learner_id]) if streaks[learner_id] else ""
                    text = texts.REVIEW_DUE.format(count=due[learner_id]) + (f"\n{streak}" if streak else "")
                    reply = TextReply(text, buttons=((button(texts.REVIEW_START, "review_start", {}),),))
                    items.append(self._item(keys[learner_id], learner_id, "review", where[learner_id], reply, window))
                added += self.outbox.enqueue(session, items, now=now)
        return added

    # --- the daily question --------------------------------------------------------------------
    def _plan_daily(self, now: datetime, today: date) -> int:
        with self.uow.read() as session:
            opted = self.reminders.daily_opt_ins(session)
            windows = {}
            for learner_id, (at_text, chosen_at) in opted.items():
                at = parse_clock(at_text)
                window = self._window(today, at) if at is not None else None
                # due now, and chosen before today's time came (a time chosen later starts tomorrow)
                if window is not None and window[0] <= now < window[1] and chosen_at <= window[0]:
                    windows[learner_id] = window
            keys = {learner_id: f"daily:{learner_id}:{today.isoformat()}" for learner_id in windows}
            queued = self.outbox.existing_keys(session, keys.values())
            sets = practice_sets(self.quizzes.latest_versions(session)) if keys else []
        todo = [learner_id for learner_id, key in keys.items() if key not in queued]
        cycle = half_year_cycle(now, time_zone=self.schedule.time_zone)
        added = 0
        for chunk in _chunks(todo):
            with self.uow.begin() as session:
                people = self.reminders.people(session, chunk)
                where, streaks = self._address(session, chunk), self.streaks.many(session, chunk, now=now)
                entries: dict[int, list] = {}
                for entry in self.records.entries(session, learner_ids=chunk, cycle=cycle):
                    entries.setdefault(entry.learner_id, []).append(entry)
                items = []
                for learner_id in (i for i in chunk if i in where and i in people):
                    weakest = weakest_first(entries.get(learner_id, []), cycle=cycle)
                    pick = pick_daily_question(
                        sets, level=people[learner_id].level, competencies=weakest, learner_id=learner_id, day=today
                    )
                    if pick is None:
                        continue
                    button = button_maker(self.interactions, self.new_token, session, learner_id, now)
                    reply = daily_message(pick, streak=streaks[learner_id], button=button)
                    items.append(
                        self._item(keys[learner_id], learner_id, "daily", where[learner_id], reply, windows[learner_id])
                    )
                added += self.outbox.enqueue(session, items, now=now)
        return added

    # --- the weekly digest ---------------------------------------------------------------------
    def _plan_digests(self, now: datetime, today: date) -> int:
        if today.weekday() != self.schedule.digest_weekday:
            return 0
        window = self._window(today, self.schedule.digest_time)
        if not window[0] <= now < window[1]:
            return 0
        year, week, _ = today.isocalendar()
        zone, cycle = self.schedule.time_zone, half_year_cycle(now, time_zone=self.schedule.time_zone)
        first, last = today - timedelta(days=7), today - timedelta(days=1)
        with self.uow.begin() as session:
            teams = self.reminders.teams(session)
            keys = {sup: f"digest:{sup}:{year}-W{week:02d}" for sup in teams}
            queued = self.outbox.existing_keys(session, keys.values())
            supervisors = [sup for sup, key in keys.items() if key not in queued]
            where = self._address(session, supervisors)
            member_ids = [m.learner_id for sup in supervisors for m in teams[sup]]
            times = self.reminders.answer_times(session, member_ids, since=now - timedelta(days=WINDOW_DAYS))
            entries: dict[int, list] = {}
            for entry in self.records.entries(session, learner_ids=member_ids, cycle=cycle):
                entries.setdefault(entry.learner_id, []).append(entry)
            started = set(entries) | {i for i, t in times.items() if t}
            days = {i: {d for d in (local_date(t, zone) for t in ts) if first <= d <= last} for i, ts in times.items()}
            items = [
                self._item(
                    keys[sup],
                    sup,
                    "digest",
                    where[sup],
                    weekly_digest(
                        members=teams[sup],
                        practised_days=days,
                        started=started,
                        entries=entries,
                        cycle=cycle,
                        week=(first, last),
                    ),
                    window,
                )
                for sup in supervisors
                if sup in where
            ]
            return self.outbox.enqueue(session, items, now=now)
