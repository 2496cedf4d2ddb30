"""Reminders through the real Telegram stack: PTB's Application and bot (rate limiter and all) over the offline
Bot API — the 开始复习 button works when pressed, a 403 marks the learner blocked, a 429 puts the message back; a
message too long for one Telegram message that fails after its first part sends only the rest again."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

from sqlalchemy import select
from telegram.error import RetryAfter

from bot.channels.telegram.application import HANDLERS_KEY
from bot.channels.telegram.outbox_sender import TelegramReplySender
from bot.core.messages import TextReply
from bot.core.outbox import OutboxDrainer
from bot.core.reminder_plan import ReminderPlanner
from bot.core.reply_codec import encode_replies
from storage.models import OutboxMessage, ReminderBlock
from storage.outbox_repository import OutboxItem, OutboxRepository
from tests.reminders.conftest import MutableClock, due_review_world
from tests.telegram.conftest import ALICE, Harness


def _reminder_world(harness: Harness, services) -> tuple[MutableClock, ReminderPlanner, OutboxDrainer, int]:  # type: ignore[no-untyped-def]
    sender = TelegramReplySender(harness.app.bot, harness.app.bot_data[HANDLERS_KEY])
    world = due_review_world(services, channel="telegram", external_id="1001", sender=sender, worker="tg-1")
    return world.clock, world.planner, world.drainer, world.learner_id


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


def _queue_long_message(services, learner_id: int, now: datetime) -> list[str]:  # type: ignore[no-untyped-def]
    """A row whose one reply is over Telegram's 4,096 characters (a big team's digest): two messages. Its lines."""
    lines = [f"第{i:02d}位:" + "本周练习三天,客户洞察力离下一等级还差一道题。" * 4 for i in range(60)]
    item = OutboxItem(
        "digest:long", learner_id, "digest", "telegram", "1001", encode_replies([TextReply("\n".join(lines))]),
        now, now + timedelta(hours=12),
    )  # fmt: skip
    with services.uow.begin() as session:
        OutboxRepository().enqueue(session, [item], now=now)
    return lines


async def test_a_long_message_whose_second_part_hits_a_429_sends_only_that_part_again(harness, services):
    await harness.register(ALICE, "E1001")
    clock, _, drainer, learner_id = _reminder_world(harness, services)
    lines = _queue_long_message(services, learner_id, clock())
    start = len(harness.api.calls)
    harness.api.fail_next("sendMessage", None, RetryAfter(1), RetryAfter(1), RetryAfter(1))  # part 1 goes, part 2 not
    report = await drainer.drain_once()
    assert report.retried == 1 and report.slow_down == 1.0
    first, *tries = harness.api.texts(start)  # part 1 once; part 2 tried three times by the rate limiter
    assert len(tries) == 3 and len(set(tries)) == 1 and tries[0] != first
    with services.uow.read() as session:
        (row,) = session.scalars(select(OutboxMessage))
        assert (row.status, row.sent_parts) == ("pending", 1)
    clock.now += timedelta(seconds=2)
    start = len(harness.api.calls)
    assert (await drainer.drain_once()).sent == 1
    (second,) = harness.api.texts(start)  # only the part that had failed
    assert second == tries[0] and "\n".join([first, second]) == "\n".join(lines)  # the whole digest, each line once


async def test_a_403_after_the_first_part_blocks_the_learner_and_is_not_retried(harness, services):
    await harness.register(ALICE, "E1001")
    clock, _, drainer, learner_id = _reminder_world(harness, services)
    _queue_long_message(services, learner_id, clock())
    start = len(harness.api.calls)
    harness.api.fail_next("sendMessage", None, 403)
    assert (await drainer.drain_once()).blocked == 1
    assert len(harness.api.sent(start)) == 2  # the first part, and the refused second
    with services.uow.read() as session:
        assert session.get(ReminderBlock, (learner_id, "telegram")) is not None
        (row,) = session.scalars(select(OutboxMessage))
        assert (row.status, row.sent_parts) == ("blocked", 1)
    clock.now += timedelta(minutes=5)
    assert (await drainer.drain_once()).claimed == 0
