"""Replies go out through message/send after the callback was answered: a failed send is retried from the stored
replies, from the first message not yet sent — never twice, never to anyone else; the shared access token is
replaced when WeCom refuses it; 45009 backs off."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.channels.wecom.api import RateLimited
from bot.channels.wecom.outbox_sender import WeComReplySender
from bot.core import texts
from bot.core.delivery import Blocked, RetryLater
from bot.core.messages import Button, ChannelUser, TextReply
from bot.core.roles import Role
from storage.models import ProcessedUpdate
from tests.wecom.conftest import WeComWorker

QUESTION = "投诉处理流程里多久回访客户?"


def _row(services, msg_id: object) -> ProcessedUpdate:  # type: ignore[no-untyped-def]
    with services.uow.read() as session:
        return session.scalars(select(ProcessedUpdate).where(ProcessedUpdate.update_id == str(msg_id))).one()


async def test_a_send_that_breaks_is_finished_by_the_sweeper_from_the_message_that_failed(
    wecom: WeComWorker, wecom_services
):
    await wecom.register("wangxl", "A1001")
    wecom.app.delivery.sweep_grace = timedelta(0)
    wecom.emu.fail_next("message/send", "ok", "drop")  # the answer's text goes, the card's send breaks
    fields = wecom.emu.text_fields("wangxl", QUESTION)
    before = len(wecom.emu.sent)
    response = await wecom.deliver(fields)
    assert response.text == "success"  # answered at once: WeCom does not retry because of our sending
    assert [s.msgtype for s in wecom.emu.sent[before:]] == ["text"]
    row = _row(wecom_services, fields["MsgId"])
    assert (row.sent_parts, row.delivered_at, row.send_lease_until) == (1, None, None)
    assert await wecom.app.delivery.sweep() == 1  # any worker's sweeper: only the card is left
    assert [s.msgtype for s in wecom.emu.sent[before:]] == ["text", "template_card"]
    assert {s.touser for s in wecom.emu.sent[before:]} == {"wangxl"}
    assert await wecom.app.delivery.sweep() == 0  # nothing left, nothing sent again
    again = await wecom.deliver(fields)  # and WeCom retrying the callback sends nothing either
    assert again.text == "success" and len(wecom.emu.sent) == before + 2
    row = _row(wecom_services, fields["MsgId"])
    assert row.delivered_at is not None and row.sent_parts == 2


async def test_45009_on_every_wait_leaves_the_delivery_pending_for_the_sweeper(wecom: WeComWorker, wecom_services):
    await wecom.register("wangxl", "A1001")
    wecom.app.delivery.sweep_grace = timedelta(0)
    wecom.app.api.rate_backoff = (0.0,)
    wecom.emu.fail_next("message/send", 45009, 45009)
    fields = wecom.emu.text_fields("wangxl", "/whoami")
    before = len(wecom.emu.sent)
    await wecom.deliver(fields)
    assert wecom.emu.sent[before:] == [] and _row(wecom_services, fields["MsgId"]).delivered_at is None
    assert await wecom.app.delivery.sweep() == 1
    [whoami] = wecom.emu.sent[before:]
    assert whoami.touser == "wangxl" and "A1001" in whoami.text


async def test_a_member_outside_the_app_is_not_sent_to_and_nobody_else_gets_the_reply(
    wecom: WeComWorker, wecom_services
):
    wecom.app.delivery.sweep_grace = timedelta(0)
    fields = wecom.emu.text_fields("outsider", "/start")  # WeCom answers invaliduser for them
    await wecom.deliver(fields)
    assert wecom.emu.sent == []
    assert _row(wecom_services, fields["MsgId"]).delivered_at is not None  # given up, not retried for a day
    sends = wecom.emu.calls.count("message/send")
    assert await wecom.app.delivery.sweep() == 0 and wecom.emu.sent == []
    assert wecom.emu.calls.count("message/send") == sends


async def test_a_refused_access_token_is_replaced_once_and_the_message_still_goes(wecom: WeComWorker):
    [welcome] = await wecom.say("wangxl", "/start")
    assert welcome.text == texts.WELCOME_NEW and wecom.emu.fetches() == 1
    wecom.emu.expire_tokens()  # 42001 on the next call
    assert [s.text for s in await wecom.say("zhangsan", "/start")] == [texts.WELCOME_NEW]
    assert wecom.emu.fetches() == 2
    wecom.emu.tokens.clear()  # 40014: WeCom no longer knows it
    assert [s.text for s in await wecom.say("lisi", "/start")] == [texts.WELCOME_NEW]
    assert wecom.emu.fetches() == 3
    assert [s.text for s in await wecom.say("admin01", "/start")] == [texts.WELCOME_NEW]
    assert wecom.emu.fetches() == 3  # the new one is kept


async def test_45009_backs_off_then_sends_and_raises_after_the_last_wait(wecom: WeComWorker):
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)

    wecom.app.api.sleep = sleep
    wecom.app.api.rate_backoff = (1.0, 2.0)
    wecom.emu.fail_next("message/send", 45009, 45009)
    assert [s.text for s in await wecom.say("wangxl", "/start")] == [texts.WELCOME_NEW]
    assert waits == [1.0, 2.0]
    wecom.emu.fail_next("message/send", 45009, 45009, 45009)
    with pytest.raises(RateLimited) as limited:
        await wecom.app.api.send({"touser": "wangxl", "agentid": 1000002, "msgtype": "text", "text": {"content": "x"}})
    assert limited.value.errcode == 45009 and waits == [1.0, 2.0, 1.0, 2.0]


async def test_errcode_60020_keeps_the_replies_pending_until_the_address_is_trusted(wecom: WeComWorker, wecom_services):
    wecom.app.delivery.sweep_grace = timedelta(0)
    wecom.emu.fail_next("message/send", 60020)  # the worker's address is not among the app's 企业可信IP
    fields = wecom.emu.text_fields("wangxl", "/start")
    await wecom.deliver(fields)
    assert wecom.emu.sent == [] and _row(wecom_services, fields["MsgId"]).delivered_at is None
    assert await wecom.app.delivery.sweep() == 1  # the admin added it: the next sweep sends the reply
    assert [s.text for s in wecom.emu.to("wangxl")] == [texts.WELCOME_NEW]


async def test_reminders_go_out_through_the_wecom_sender_with_the_outbox_outcomes(wecom: WeComWorker):
    sender = WeComReplySender(wecom.app.delivery)
    await sender.send("wangxl", [TextReply("还有 2 道错题到期了", buttons=((Button("开始复习", "tok-review"),),))])
    text, card = wecom.emu.to("wangxl")
    assert text.text == "还有 2 道错题到期了" and card.buttons == {"开始复习": "t:tok-review"}
    with pytest.raises(Blocked):
        await sender.send("outsider", [TextReply("每日一题")])  # not in the app: no more reminders there
    wecom.app.api.rate_backoff = ()
    wecom.emu.fail_next("message/send", 45009)
    with pytest.raises(RetryLater):
        await sender.send("wangxl", [TextReply("每日一题")])


async def test_an_unstored_reply_that_cannot_be_sent_is_logged_not_raised(wecom: WeComWorker, wecom_services, caplog):
    """A file over 10 MB is refused before the core (nothing stored): its refusal is sent once, and a broken
    connection then is a warning, not an uncaught exception after WeCom was already answered."""
    wecom_services.conversation.provision(
        ChannelUser("wecom", "trainer01"), name="培训师", employee_no="T0001", region="省公司", level="高级",
        role=Role.TRAINER,
    )  # fmt: skip
    wecom.emu.fail_next("message/send", "drop")
    with caplog.at_level(logging.WARNING):
        sent = await wecom.send_file("trainer01", "题库.yaml", b"x" * (10 * 1024 * 1024 + 1))
    assert sent == []
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert any("could not be sent" in r.getMessage() for r in caplog.records)
    assert [s.text for s in await wecom.send_file("trainer01", "题库.yaml", b"y" * (10 * 1024 * 1024 + 1))] == [
        texts.FILE_TOO_LARGE.format(limit=10)
    ]
