"""Reminders through the real WeCom worker and the emulator: the review reminder is two messages (its text, then a
template card with 开始复习); a card that fails after the text was accepted is retried alone — the member gets the
text once and the card once, and the card's button opens the review."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from bot.channels.wecom.outbox_sender import WeComReplySender
from bot.core.outbox import OutboxDrainer
from bot.core.reminder_plan import ReminderPlanner
from storage.models import OutboxMessage
from tests.reminders.conftest import MutableClock, due_review_world
from tests.wecom.conftest import WeComWorker


def _reminder_world(wecom: WeComWorker, services) -> tuple[MutableClock, ReminderPlanner, OutboxDrainer]:  # type: ignore[no-untyped-def]
    sender = WeComReplySender(wecom.app.delivery)
    world = due_review_world(services, channel="wecom", external_id="wangxl", sender=sender, worker="wc-1")
    return world.clock, world.planner, world.drainer


async def test_a_card_that_fails_after_its_text_went_is_retried_alone(wecom: WeComWorker, wecom_services):
    await wecom.register("wangxl", "A1001")
    clock, planner, drainer = _reminder_world(wecom, wecom_services)
    assert planner.plan().review == 1
    before = len(wecom.emu.sent)
    wecom.emu.fail_next("message/send", "ok", "drop")  # the text is accepted, the card's connection breaks
    assert (await drainer.drain_once()).retried == 1
    assert [s.msgtype for s in wecom.emu.sent[before:]] == ["text"]
    with wecom_services.uow.read() as session:
        (row,) = session.scalars(select(OutboxMessage))
        assert (row.status, row.sent_parts) == ("pending", 1)
    clock.now += timedelta(minutes=5)  # past the first retry's wait
    assert (await drainer.drain_once()).sent == 1
    text, card = wecom.emu.sent[before:]  # exactly one of each: the text was not sent again
    assert (text.touser, card.touser) == ("wangxl", "wangxl")
    assert "1 道题到期" in text.text and card.msgtype == "template_card"
    assert (await drainer.drain_once()).claimed == 0
    pressed = await wecom.press("wangxl", card.buttons["开始复习"])
    assert any("错题复习" in s.text or "错题复习" in str(s.body) for s in pressed)


async def test_a_failure_before_anything_went_is_retried_whole(wecom: WeComWorker, wecom_services):
    await wecom.register("wangxl", "A1001")
    clock, planner, drainer = _reminder_world(wecom, wecom_services)
    planner.plan()
    before = len(wecom.emu.sent)
    wecom.emu.fail_next("message/send", "drop")  # the text itself fails: nothing arrived
    assert (await drainer.drain_once()).retried == 1
    assert wecom.emu.sent[before:] == []
    clock.now += timedelta(minutes=5)
    assert (await drainer.drain_once()).sent == 1
    assert [s.msgtype for s in wecom.emu.sent[before:]] == ["text", "template_card"]
