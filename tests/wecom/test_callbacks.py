"""The callback URL as WeCom uses it, and as an attacker might: URL verification, a stranger registering by
card buttons and asking, and refused callbacks (forged signature, replay, another corp, stale timestamps)."""

from __future__ import annotations

import time

import httpx
from sqlalchemy import func, select

from bot.channels.wecom.crypto import WeComCrypto, signature
from bot.core import texts
from storage.models import AskedQuestion, Learner, ProcessedUpdate
from tests.wecom.conftest import WeComWorker
from tests.wecom.emulator import AES_KEY, CORP_ID, TOKEN

QUESTION = "投诉处理流程里多久回访客户?"


async def test_url_verification_answers_the_decrypted_echostr_and_refuses_a_forged_one(wecom: WeComWorker):
    echo = "4739573645" + str(int(time.time()))
    encrypted = wecom.emu.crypto.encrypt(echo)
    ts, nonce = str(int(time.time())), "263014780"
    query = {
        "msg_signature": signature(TOKEN, ts, nonce, encrypted),
        "timestamp": ts,
        "nonce": nonce,
        "echostr": encrypted,
    }
    ok = await wecom.http.get(wecom.emu.worker_url, params=query)
    assert (ok.status_code, ok.text) == (200, echo)
    forged = await wecom.http.get(wecom.emu.worker_url, params={**query, "msg_signature": "0" * 40})
    assert forged.status_code == 403 and echo not in forged.text
    missing = await wecom.http.get(wecom.emu.worker_url, params={"echostr": encrypted})
    assert missing.status_code == 403


async def test_a_stranger_registers_with_card_buttons_then_asks(wecom: WeComWorker, wecom_services):
    [welcome] = await wecom.say("wangxl", "/start")
    assert welcome.msgtype == "text" and welcome.text == texts.WELCOME_NEW
    await wecom.register("wangxl", "A1001")
    sent = await wecom.say("wangxl", QUESTION)
    answer = next(s for s in sent if s.msgtype == "text")
    assert "二十四小时" in answer.text and "[1]" in answer.text
    [card] = [s for s in sent if s.msgtype == "template_card"]
    assert card.body["card_type"] == "button_interaction" and texts.BUTTON_UP in card.buttons
    with wecom_services.uow.read() as session:
        [learner] = session.scalars(select(Learner)).all()
        assert (learner.employee_no, learner.name) == ("A1001", "王小丽")
        assert session.scalar(select(func.count()).select_from(AskedQuestion)) == 1
    assert wecom.emu.fetches() == 1  # one access token for every message sent


async def test_a_retried_or_replayed_callback_changes_nothing_and_sends_nothing_again(
    wecom: WeComWorker, wecom_services
):
    await wecom.register("wangxl", "A1001")
    fields = wecom.emu.text_fields("wangxl", QUESTION)
    query, body = wecom.emu.envelope(fields)
    first = await wecom.emu.post(query, body)
    await wecom.settle()
    sent_after_first = len(wecom.emu.sent)
    for _ in range(3):  # WeCom's own retries, then someone replaying the captured request
        again = await wecom.emu.post(query, body)
        await wecom.settle()
        assert (again.status_code, again.text) == (200, "success")
    assert first.text == "success" and len(wecom.emu.sent) == sent_after_first
    later = await wecom.deliver(fields)  # the same message re-encrypted with a fresh nonce and timestamp
    assert later.status_code == 200 and len(wecom.emu.sent) == sent_after_first
    with wecom_services.uow.read() as session:
        assert session.scalar(select(func.count()).select_from(AskedQuestion)) == 1
        row = session.scalars(select(ProcessedUpdate).where(ProcessedUpdate.update_id == str(fields["MsgId"]))).one()
        assert row.delivered_at is not None and row.sent_parts == 2 and row.sender == "wangxl"


async def test_forged_foreign_and_stale_callbacks_are_refused_and_change_nothing(wecom: WeComWorker, wecom_services):
    fields = wecom.emu.text_fields("wangxl", "/start")
    query, body = wecom.emu.envelope(fields)
    refused: list[httpx.Response] = []
    refused.append(await wecom.emu.post({**query, "msg_signature": "f" * 40}, body))  # forged signature
    tampered = body.replace("<Encrypt><![CDATA[", "<Encrypt><![CDATA[A")
    refused.append(await wecom.emu.post(query, tampered))  # ciphertext changed after signing
    other_corp = WeComCrypto(TOKEN, AES_KEY, "wwffffffffffffffff")
    refused.append(await wecom.deliver(fields, crypto=other_corp))  # signed right, encrypted for another corp
    refused.append(await wecom.deliver(fields, corp_id="wwffffffffffffffff"))  # envelope for another corp
    refused.append(await wecom.deliver({**fields, "ToUserName": "wwffffffffffffffff"}))  # plaintext for another
    stale = int(time.time()) - 3600
    refused.append(await wecom.deliver(fields, timestamp=stale))  # an old callback replayed
    refused.append(await wecom.deliver(fields, timestamp=int(time.time()) + 3600))
    wrong_token = WeComCrypto("another-token", AES_KEY, CORP_ID)
    refused.append(await wecom.deliver(fields, crypto=wrong_token))
    refused.append(await wecom.emu.post(query, "<!DOCTYPE x [<!ENTITY a 'b'>]><xml>&a;</xml>"))
    assert [r.status_code for r in refused] == [403] * len(refused)
    assert all(r.text == "forbidden" for r in refused)
    assert wecom.emu.sent == []
    with wecom_services.uow.read() as session:
        assert session.scalar(select(func.count()).select_from(ProcessedUpdate)) == 0
    ok = await wecom.emu.post(query, body)  # the genuine one still works
    await wecom.settle()
    assert ok.text == "success" and [s.text for s in wecom.emu.to("wangxl")] == [texts.WELCOME_NEW]


async def test_the_worker_reports_health_and_readiness_like_every_channels_worker(wecom: WeComWorker):
    health = await wecom.http.get(f"{wecom.base}/healthz")
    assert health.status_code == 200 and health.json()["status"] == "ok"
    ready = (await wecom.http.get(f"{wecom.base}/readyz")).json()
    assert ready["ready"] is True
    assert {c["name"] for c in ready["checks"]} >= {"database", "knowledge_index"}
