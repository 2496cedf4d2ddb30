"""The study habit in chat: /remind (the daily question's time, mistake reminders, or stop), the daily question's
answer buttons, and the streak line /record shows.

Writing /remind at all also clears a block: someone who blocked the bot and now writes to it has unblocked it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from bot.core import texts
from bot.core.buttons import ButtonMaker
from bot.core.messages import Notice, Reply, TextReply
from bot.core.quiet_hours import QuietHours, clock_text, parse_clock
from bot.core.quiz_chat import QuizChat
from bot.core.streaks import Streaks
from quizzes.attempts import REVIEW_INTERVALS, AnswerOutcome
from quizzes.engine import is_correct
from quizzes.serialization import quiz_from_json
from storage.learner_repository import LearnerRecord
from storage.quiz_repository import QuizRepository
from storage.reminder_repository import ReminderChoice, ReminderRepository

ONE_ANSWER_PER = timedelta(hours=20)  # a daily question answered since then is answered (another letter is refused)
QUICK_TIMES = ("08:30", "12:30", "19:30")  # the buttons under /remind
STOP_WORDS = {"关闭", "停止", "关", "off", "stop"}
REVIEWS_ONLY_WORDS = {"错题", "只要错题", "reviews"}


@dataclass
class ReminderChat:
    reminders: ReminderRepository
    quizzes: QuizRepository
    streaks: Streaks
    quiet: QuietHours

    def remind(
        self, session: Session, learner: LearnerRecord, args: str, button: ButtonMaker, *, now: datetime
    ) -> list[Reply]:
        """/remind alone: the current choice and buttons; /remind 07:30 | 错题 | 关闭: change it."""
        self.reminders.unblock(session, learner.learner_id)
        words = args.strip()
        if not words:
            return [self._status(session, learner, button)]
        if words.lower() in STOP_WORDS:
            return [TextReply(self._choose(session, learner, ReminderChoice("", reviews=False), now=now))]
        if words.lower() in REVIEWS_ONLY_WORDS:
            return [TextReply(self._choose(session, learner, ReminderChoice("", reviews=True), now=now))]
        at = parse_clock(words)
        if at is None:
            return [TextReply(texts.REMIND_USAGE)]
        if self.quiet.contains(at):
            return [TextReply(texts.REMIND_QUIET.format(time=clock_text(at), quiet=self.quiet.text()))]
        return [TextReply(self._choose(session, learner, ReminderChoice(clock_text(at), reviews=True), now=now))]

    def press_setting(
        self, session: Session, learner: LearnerRecord, payload: dict[str, Any], *, now: datetime
    ) -> list[Reply]:
        """A /remind button: {"daily": "HH:MM" or "", "reviews": bool}."""
        self.reminders.unblock(session, learner.learner_id)
        choice = ReminderChoice(str(payload.get("daily", "")), bool(payload.get("reviews", True)))
        return [TextReply(self._choose(session, learner, choice, now=now))]

    def answer_daily(
        self, session: Session, learner: LearnerRecord, payload: dict[str, Any], *, now: datetime
    ) -> list[Reply]:
        """A daily question's button: right or wrong with the answer; a wrong one goes into the mistake notebook."""
        published = self.quizzes.version(session, int(payload["version_id"]))
        question = None
        if published is not None:
            question = next((q for q in quiz_from_json(published.content).questions if q.key == payload["key"]), None)
        order = tuple(int(i) for i in payload["order"])
        if published is None or question is None or not 0 <= int(payload["shown"]) < len(order):
            return [Notice(texts.DAILY_GONE)]
        since = now - ONE_ANSWER_PER
        if self.reminders.daily_answered(
            session,
            learner_id=learner.learner_id,
            version_id=published.version_id,
            question_key=question.key,
            since=since,
        ):
            return [Notice(texts.ALREADY_DONE)]  # another letter of the same message: one answer counts
        chosen = frozenset({order[int(payload["shown"])]})
        right = is_correct(question, chosen)
        self.reminders.add_daily_answer(
            session, learner_id=learner.learner_id, version_id=published.version_id, question_key=question.key,
            correct=right, now=now,
        )  # fmt: skip
        if not right:
            self.quizzes.add_mistake(
                session, learner_id=learner.learner_id, version_id=published.version_id, question_key=question.key,
                due=now + REVIEW_INTERVALS[0], now=now,
            )  # fmt: skip
        session.flush()
        feedback = QuizChat._feedback(AnswerOutcome(right, question, chosen, show_feedback=True), order)
        lines = [feedback.text] + ([] if right else [texts.DAILY_TO_NOTEBOOK])
        lines.append(self.streak_line(session, learner.learner_id, now))
        return [TextReply("\n".join(lines))]

    def streak_line(self, session: Session, learner_id: int, now: datetime) -> str:
        days = self.streaks.one(session, learner_id, now=now)
        return texts.STREAK.format(days=days) if days else texts.STREAK_NONE

    # --- helpers ------------------------------------------------------------------------------
    def _choose(self, session: Session, learner: LearnerRecord, choice: ReminderChoice, *, now: datetime) -> str:
        self.reminders.set_choice(session, learner.learner_id, choice, now=now)
        if choice.daily_time:
            return texts.REMIND_SET.format(time=choice.daily_time)
        return texts.REMIND_REVIEWS_ONLY if choice.reviews else texts.REMIND_STOPPED

    def _status(self, session: Session, learner: LearnerRecord, button: ButtonMaker) -> TextReply:
        choice = self.reminders.choice(session, learner.learner_id)
        daily = texts.REMIND_DAILY_AT.format(time=choice.daily_time) if choice.daily_time else texts.REMIND_OFF
        text = texts.REMIND_STATUS.format(
            daily=daily, reviews=texts.REMIND_ON if choice.reviews else texts.REMIND_OFF, quiet=self.quiet.text()
        )
        times = tuple(
            button(texts.REMIND_BUTTON_TIME.format(time=t), "remind_set", {"daily": t, "reviews": True})
            for t in QUICK_TIMES
            if (at := parse_clock(t)) is not None and not self.quiet.contains(at)
        )
        others = (
            button(texts.REMIND_BUTTON_REVIEWS, "remind_set", {"daily": "", "reviews": True}),
            button(texts.REMIND_BUTTON_OFF, "remind_set", {"daily": "", "reviews": False}),
        )
        return TextReply(text, buttons=(times, others) if times else (others,))
