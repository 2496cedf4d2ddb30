"""Reminders through the real Telegram stack: PTB's Application and bot (rate limiter and all) over the offline
Bot API — the 开始复习 button works when pressed, a 403 marks the learner blocked, a 429 puts the message back."""

from __future__ import annotations

import itertools
import json
from datetime import datetime, timedelta

from sqlalchemy import select
from telegram.error import RetryAfter

from bot.channels.telegram.application import HANDLERS_KEY
from bot.channels.telegram.outbox_sender import TelegramReplySender
from bot.core.outbox import DrainPolicy, OutboxDrainer
from bot.core.reminder_plan import ReminderPlanner
from quizzes.publishing import publish_quiz_set
from storage.models import OutboxMessage, ReminderBlock
from storage.quiz_repository import QuizRepository
from tests.reminders.conftest import MutableClock, practice_set
from tests.telegram.conftest import ALICE, Harness

MONDAY_0900 = datetime(2026, 11, 23, 1, 0)  # 09:00 in Shanghai, the review time


def _reminder_world(harness: Harness, services) -> tuple[MutableClock, ReminderPlanner, OutboxDrainer, int]:  # type: ignore[no-untyped-def]
    clock = MutableClock(MONDAY_0900)
    with services.uow.begin() as session:
        learner = services.conversation.learners.find_by_identity(session, channel="telegram", external_id="1001")
        version = publish_quiz_set(
            session, QuizRepository(), practice_set(), source_name="t.yaml", by=None, now=clock()
        )
        QuizRepository().add_mistake(
            session, learner_id=learner.learner_id, version_id=version.version_id, question_key="客户洞察力-0",
            due=clock() - timedelta(days=1), now=clock(),
        )  # fmt: skip
    tokens = (f"tg-rtok{i}" for i in itertools.count())
    planner = ReminderPlanner(services.uow, services.reminder_schedule, new_token=lambda: next(tokens), clock=clock)
    sender = TelegramReplySender(harness.app.bot, harness.app.bot_data[HANDLERS_KEY])
    drainer = OutboxDrainer(services.uow, sender, "tg-1", DrainPolicy(messages_per_second=30), clock=clock)
    return clock, planner, drainer, learner.learner_id


async def test_the_review_reminder_arrives_as_a_telegram_message_whose_button_starts_the_review(harness, services):
    await harness.register(ALICE, "E1001")
    _, planner, drainer, _ = _reminder_world(harness, services)
    assert planner.plan().review == 1
    start = len(harness.api.calls)
    assert (await drainer.drain_once()).sent == 1
    (call,) = harness.api.sent(start)
    assert int(call.params["chat_id"]) == 1001 and "1 道题到期" in call.params["text"]
    keyboard = call.params["reply_markup"]
    keyboard = json.loads(keyboard) if isinstance(keyboard, str) else keyboard
    (button,) = [b for row in keyboard["inline_keyboard"] for b in row]
    assert button["text"] == "开始复习"
    calls = await harness.press(ALICE, button["callback_data"])
    assert any("错题复习" in c.params.get("text", "") for c in calls)
    assert (await drainer.drain_once()).claimed == 0  # once


async def test_a_403_marks_the_learner_blocked_and_nothing_more_is_queued_for_them(harness, services):
    await harness.register(ALICE, "E1001")
    clock, planner, drainer, learner_id = _reminder_world(harness, services)
    planner.plan()
    harness.api.fail_next("sendMessage", 403)
    assert (await drainer.drain_once()).blocked == 1
    with services.uow.read() as session:
        assert session.get(ReminderBlock, (learner_id, "telegram")) is not None
    clock.now += timedelta(days=1)
    assert planner.plan().review == 0


async def test_a_429_the_rate_limiter_could_not_absorb_puts_the_message_back_for_later(harness, services):
    await harness.register(ALICE, "E1001")
    clock, planner, drainer, _ = _reminder_world(harness, services)
    planner.plan()
    harness.api.fail_next("sendMessage", RetryAfter(1), RetryAfter(1), RetryAfter(1))  # PTB's limiter retries twice
    report = await drainer.drain_once()
    assert report.retried == 1 and report.slow_down == 1.0 and report.sent == 0
    with services.uow.read() as session:
        (row,) = session.scalars(select(OutboxMessage))
        assert row.status == "pending" and row.lease_until == clock() + timedelta(seconds=1)
    clock.now += timedelta(seconds=2)
    assert (await drainer.drain_once()).sent == 1
