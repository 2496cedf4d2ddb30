"""The Telegram channel end to end: the real `Application`, real `Update`s, real core and SQLite, an offline
Bot API that records every call. Each test reads like a chat."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import re
import sys
from typing import Any

import httpx
import pytest
from pydantic import SecretStr
from sqlalchemy import func, select
from telegram.error import NetworkError, TimedOut
from telegram.request import HTTPXRequest

from app import worker_runtime
from app.composition import Services
from bot.channels.telegram import application as telegram_app
from bot.channels.telegram.application import (
    BOT_COMMANDS,
    TelegramSetupError,
    build_application,
    file_base_url,
    run_telegram,
    webhook_options,
)
from bot.core import texts
from bot.core.messages import DocumentReply, ImageReply, Inbound, Outcome, TextReply
from storage.db import UnitOfWork, create_database_engine
from storage.models import AnswerRating, AskedQuestion, ProcessedUpdate
from tests.telegram.conftest import (
    ALICE,
    BOB,
    CAROL,
    TOKEN,
    ApiCall,
    FakeBotApi,
    Harness,
    MakeHarness,
    OfflineRequest,
    texts_of,
)

QUESTION = "投诉受理后多久回访客户,回访记录的备注怎么写"
TOKEN_SECRET = TOKEN.split(":", 1)[1]  # the secret half, however a URL encodes the ':'
INCIDENT = re.compile(r"^出了点问题,请稍后再试 \(编号 ([0-9a-f]{8})\)$")


class RecordingConversation:
    """Our own seam: records what the channel hands the core; answers via the real core, fixed replies, or raises."""

    def __init__(self, inner: Any = None, *, replies: tuple = (), error: Exception | None = None) -> None:
        self.inner, self.replies, self.error = inner, replies, error
        self.inbounds: list[Inbound] = []

    def handle(self, inbound: Inbound) -> Outcome:
        self.inbounds.append(inbound)
        if self.error is not None:
            raise self.error
        return self.inner.handle(inbound) if self.inner is not None else Outcome(self.replies)


def keyboard(call: ApiCall) -> list[list[dict[str, Any]]]:
    return call.params["reply_markup"]["inline_keyboard"]


def button_data(call: ApiCall, label_start: str) -> str:
    return next(b["callback_data"] for row in keyboard(call) for b in row if b["text"].startswith(label_start))


async def ask(h: Harness, user: dict, question: str = QUESTION) -> ApiCall:
    [answer] = [c for c in await h.say(user, question) if c.endpoint == "sendMessage"]
    return answer


def only_answer(calls: list[ApiCall]) -> ApiCall:
    """The one call a button press caused, which must be answerCallbackQuery."""
    assert [c.endpoint for c in calls] == ["answerCallbackQuery"], calls
    return calls[0]


# --- registration and questions ---------------------------------------------------------------------------------


async def test_a_new_user_registers_then_gets_an_answer_with_sources(harness: Harness):
    assert texts_of(await harness.say(ALICE, "你好")) == [texts.WELCOME_NEW]
    assert texts_of(await harness.say(ALICE, "王小丽")) == [texts.ASK_EMPLOYEE_NO]
    assert texts_of(await harness.say(ALICE, "A1001")) == [texts.ASK_REGION]
    [level_prompt] = [c for c in await harness.say(ALICE, "西宁分公司") if c.endpoint == "sendMessage"]
    assert [[b["callback_data"] for b in row] for row in keyboard(level_prompt)] == [
        ["t:reg-level-1", "t:reg-level-2", "t:reg-level-3"]
    ]
    done = await harness.press(ALICE, "t:reg-level-2")
    assert [c.endpoint for c in done] == ["answerCallbackQuery", "sendMessage"]
    assert "王小丽(中级)" in texts_of(done)[0]

    calls = await harness.say(ALICE, QUESTION)
    assert [c.endpoint for c in calls] == ["sendChatAction", "sendMessage"]  # typing… first, then the answer
    assert calls[0].params == {"chat_id": 1001, "action": "typing"}
    answer = calls[1]
    assert answer.params["chat_id"] == 1001 and answer.params["parse_mode"] == "HTML"
    text = answer.params["text"]
    assert text.startswith("<b>答案</b>\n")
    assert "&lt;script&gt; 与 &amp; 符号" in text and "<script>" not in text
    assert "来源:" in text and "投诉处理流程 › 受理" in text
    data = [b["callback_data"] for row in keyboard(answer) for b in row]
    assert data and all(d.startswith("t:") and len(d.encode()) <= 64 for d in data)
    labels = [b["text"] for row in keyboard(answer) for b in row]
    assert texts.BUTTON_UP in labels and texts.BUTTON_DOWN in labels


async def test_a_vote_is_a_toast_and_the_last_vote_counts(harness: Harness):
    await harness.register(ALICE, "A1001")
    answer = await ask(harness, ALICE)
    up, down = button_data(answer, "👍"), button_data(answer, "👎")

    first = only_answer(await harness.press(ALICE, up))
    assert first.params["text"] == texts.THANKS_UP
    again = only_answer(await harness.press(ALICE, up))  # a toast only, no message
    assert again.params["text"] == texts.THANKS_UP
    changed = only_answer(await harness.press(ALICE, down))
    assert changed.params["text"] == texts.THANKS_DOWN


async def test_open_source_button_sends_the_passage(harness: Harness):
    await harness.register(ALICE, "A1001")
    source = button_data(await ask(harness, ALICE), "📖")
    calls = await harness.press(ALICE, source)
    assert [c.endpoint for c in calls] == ["answerCallbackQuery", "sendMessage"]
    assert "text" not in calls[0].params  # a silent answer: the passage itself is the reply
    [passage] = texts_of(calls)
    assert passage.startswith("<b>原文 [1] 投诉处理流程</b>")
    assert calls[1].params["parse_mode"] == "HTML"


async def test_forged_or_foreign_callback_data_gets_a_notice_and_leaks_nothing(harness: Harness):
    await harness.register(ALICE, "A1001")
    await harness.register(BOB, "B2002")
    bobs_up = button_data(await ask(harness, BOB), "👍")

    for data in ["t:forged", "x" * 64, "t:", bobs_up, "reg-level-1"]:
        notice = only_answer(await harness.press(ALICE, data))
        assert notice.params["text"] == texts.BUTTON_EXPIRED, data
    assert only_answer(await harness.press(BOB, bobs_up)).params["text"] == texts.THANKS_UP  # Alice did not use it


async def test_a_stranger_trying_every_command_is_only_asked_to_register(harness: Harness):
    commands = ["/help", "/ask 投诉处理流程", "/filter 流程", "/whoami", "/grant A1001 管理员"]
    commands += ["/invite 管理员 张 A9 西宁 初级", "/unanswered", "/start", "/nonsense"]
    seen: set[str] = set()
    for command in commands:
        for text in texts_of(await harness.say(CAROL, command)):
            seen.add(text)
    assert seen <= {texts.WELCOME_NEW, texts.NOT_REGISTERED, texts.BAD_NAME}, seen
    assert only_answer(await harness.press(CAROL, "t:forged")).params["text"] == texts.NOT_REGISTERED


# --- what users send -------------------------------------------------------------------------------------------

STICKER = {"file_id": "st1", "file_unique_id": "ust1", "width": 512, "height": 512, "is_animated": False}
STICKER |= {"is_video": False, "type": "regular"}
VOICE = {"file_id": "vo1", "file_unique_id": "uvo1", "duration": 3}
PHOTO = [{"file_id": "ph1", "file_unique_id": "uph1", "width": 90, "height": 90}]


@pytest.mark.parametrize(
    "content", [{"sticker": STICKER}, {"voice": VOICE}, {"photo": PHOTO}], ids=lambda c: next(iter(c))
)
async def test_stickers_voice_and_photos_get_the_only_text_reply(harness: Harness, content: dict):
    await harness.register(ALICE, "A1001")
    calls = await harness.feed(harness.updates.message(ALICE, **content))
    assert [c.endpoint for c in calls] == ["sendMessage"]  # no typing… for something we cannot read
    assert texts_of(calls) == [texts.UNSUPPORTED]


async def test_an_empty_message_and_a_10000_character_message(harness: Harness):
    await harness.register(ALICE, "A1001")
    assert texts_of(await harness.say(ALICE, "   ")) == [texts.EMPTY_QUESTION]
    assert texts_of(await harness.say(ALICE, "投诉" * 5_000)) == [texts.QUESTION_TOO_LONG.format(limit=500)]


async def test_an_unknown_command(harness: Harness):
    await harness.register(ALICE, "A1001")
    assert texts_of(await harness.say(ALICE, "/frobnicate now")) == [texts.UNKNOWN_COMMAND.format(command="frobnicate")]
    assert texts_of(await harness.say(ALICE, "/help@pocket_coach_test_bot"))[0].startswith("随身教练能做什么")


def make_trainer(services: Services, user: dict[str, Any]) -> None:
    from storage.learner_repository import LearnerRepository

    learners = LearnerRepository()
    with services.uow.begin() as session:
        learner = learners.find_by_identity(session, channel="telegram", external_id=str(user["id"]))
        assert learner is not None
        learners.set_role(session, learner.learner_id, "trainer")


async def test_a_trainers_document_is_downloaded_and_handed_to_the_core_as_a_file(
    make_harness: MakeHarness, services: Services
):
    spy = RecordingConversation(services.conversation)
    h = await make_harness(conversation=spy)
    await h.register(ALICE, "A1001")
    make_trainer(services, ALICE)
    h.api.files["doc1"] = "# 笔记\n内容".encode()
    document = {"file_id": "doc1", "file_unique_id": "udoc1", "file_name": "笔记.md", "mime_type": "text/markdown"}
    calls = await h.feed(h.updates.message(ALICE, document=document | {"file_size": 13}))
    assert [c.endpoint for c in calls] == ["getFile", "sendMessage"]
    assert h.api.downloads and h.api.downloads[0].endswith("/documents/doc1")
    assert h.api.downloads[0].startswith("https://api.telegram.org/file/bot")
    inbound = spy.inbounds[-1]
    assert inbound.kind == "file" and inbound.file is not None
    assert (inbound.file.filename, inbound.file.data, inbound.file.mime_type) == (
        "笔记.md",
        "# 笔记\n内容".encode(),
        "text/markdown",
    )


@pytest.mark.parametrize("size_mb", [11, 25])  # over our 10 MB, and over Telegram's 20 MB download limit
async def test_a_file_too_large_to_read_says_so_and_is_never_downloaded(
    make_harness: MakeHarness, services: Services, size_mb: int
):
    h = await make_harness()
    await h.register(ALICE, "A1001")
    make_trainer(services, ALICE)
    big = {"file_id": "doc2", "file_unique_id": "udoc2", "file_name": "题库.xlsx", "file_size": size_mb * 1024 * 1024}
    calls = await h.feed(h.updates.message(ALICE, document=big))
    assert "getFile" not in [c.endpoint for c in calls]  # never downloaded
    assert texts_of(calls) == [texts.FILE_TOO_LARGE.format(limit=10)]
    assert texts.UNSUPPORTED not in texts_of(calls)


async def test_a_file_telegram_will_not_serve_as_too_big_says_so(make_harness: MakeHarness, services: Services):
    h = await make_harness()
    await h.register(ALICE, "A1001")
    make_trainer(services, ALICE)
    h.api.fail_next("getFile", 400)  # "Bad Request: file is too big" when the update carried no size
    document = {"file_id": "doc3", "file_unique_id": "udoc3", "file_name": "题库.xlsx"}
    calls = await h.feed(h.updates.message(ALICE, document=document))
    assert texts_of(calls) == [texts.FILE_TOO_LARGE.format(limit=10)]


async def test_documents_from_strangers_and_learners_are_never_downloaded(
    make_harness: MakeHarness, services: Services
):
    """The registration and role checks come first: a stranger's or a learner's file is not fetched at all."""
    h = await make_harness()
    h.api.files["doc4"] = b"questions: []"
    document = {"file_id": "doc4", "file_unique_id": "udoc4", "file_name": "题库.yaml", "file_size": 13}
    stranger = await h.feed(h.updates.message(CAROL, document=document))
    assert "getFile" not in [c.endpoint for c in stranger] and h.api.downloads == []
    assert all(texts.FILE_NOT_ALLOWED not in t for t in texts_of(stranger))  # nothing internal before registering

    await h.register(ALICE, "A1001")  # a learner
    learner = await h.feed(h.updates.message(ALICE, document=document))
    assert "getFile" not in [c.endpoint for c in learner] and h.api.downloads == []
    assert texts_of(learner) == [texts.FILE_NOT_ALLOWED]


async def test_a_redelivered_update_repeats_its_answer_and_changes_nothing(harness: Harness, services: Services):
    """Telegram re-delivers only an update whose request failed, so the first answer may never have arrived."""
    await harness.register(ALICE, "A1001")
    question = harness.updates.text(ALICE, QUESTION, update_id=4242)
    first = await harness.feed(question)
    [answer] = [c for c in first if c.endpoint == "sendMessage"]
    again = await harness.feed(question)  # Telegram sends the very same update again
    [repeated] = [c for c in again if c.endpoint == "sendMessage"]
    assert repeated.params == answer.params  # same text, same button tokens
    with services.uow.read() as session:
        assert session.scalar(select(func.count()).select_from(AskedQuestion)) == 1

    up = button_data(answer, "👍")
    press = harness.updates.callback(ALICE, up, update_id=4243)
    thanks = only_answer(await harness.feed(press))
    redelivered = only_answer(await harness.feed(press))  # answered again, nothing sent
    assert redelivered.params.get("text") == thanks.params.get("text")
    with services.uow.read() as session:
        assert session.scalar(select(func.count()).select_from(AnswerRating)) == 1


async def test_an_update_id_someone_else_used_is_a_new_update_and_never_gets_their_replies(
    harness: Harness, services: Services
):
    """Update ids start again when the bot, its token or a self-hosted Bot API server changes over the same
    database: an id already claimed by another sender is that sender's new update, not a re-delivery."""
    await harness.register(ALICE, "A1001")
    await harness.register(BOB, "B2002")
    alice_whoami = texts_of(await harness.say(ALICE, "/whoami", update_id=5000))
    assert "A1001" in alice_whoami[0]

    bob_help = harness.updates.text(BOB, "/help", update_id=5000)  # the same id, another person
    calls = await harness.feed(bob_help)
    bob_texts = texts_of(calls)
    assert all("A1001" not in text for text in bob_texts), bob_texts  # never Alice's name and number
    assert bob_texts and bob_texts[0].startswith(texts.HELP[:20]), bob_texts
    assert {c.params["chat_id"] for c in calls if c.endpoint == "sendMessage"} == {BOB["id"]}

    assert texts_of(await harness.feed(bob_help)) == bob_texts  # Bob's own re-delivery: his reply, again
    # Alice again, with a new message under her old id (the sequence restarted): a new update, answered anew.
    assert texts_of(await harness.say(ALICE, "/filter 案例", update_id=5000)) == [
        texts.FILTER_SET.format(name="案例库")
    ]


async def test_record_stores_how_to_redraw_its_radar_not_the_image_and_a_redelivery_sends_the_same_picture(
    harness: Harness, services: Services
):
    """Each /record kept ~113 KB of base64 PNG in processed_updates; what is needed to resend it is the drawing's
    input (a few hundred bytes), and the re-delivery draws the very same picture again."""
    await harness.register(ALICE, "A1001")
    record = harness.updates.text(ALICE, "/record", update_id=6100)
    first = await harness.feed(record)
    [photo] = [c for c in first if c.endpoint == "sendPhoto"]
    png = photo.files["photo"]
    assert png.startswith(b"\x89PNG") and len(png) > 20_000
    with services.uow.read() as session:
        [stored] = session.scalars(select(ProcessedUpdate.replies).where(ProcessedUpdate.update_id == "6100")).all()
    assert stored is not None and len(stored.encode()) < 4_000, len(stored.encode())
    again = await harness.feed(record)  # a re-delivery
    [resent] = [c for c in again if c.endpoint == "sendPhoto"]
    assert resent.files["photo"] == png
    assert resent.params.get("caption") == photo.params.get("caption")


# --- rendering through the channel -----------------------------------------------------------------------------


async def test_long_replies_documents_and_images_are_rendered(make_harness: MakeHarness):
    long_text = "\n".join(f"第{i}段:" + "谈判<技巧>&" * 20 for i in range(60))
    replies = (
        TextReply(long_text, title="更多"),
        DocumentReply("报告.xlsx", b"PK\x03\x04", "成绩单"),
        ImageReply(b"\x89PNG", ""),
    )
    h = await make_harness(conversation=RecordingConversation(replies=replies))
    calls = await h.say(ALICE, "随便")
    parts = texts_of(calls)
    assert len(parts) >= 3
    assert [c.endpoint for c in calls] == ["sendChatAction", *["sendMessage"] * len(parts), "sendDocument", "sendPhoto"]
    assert all(len(p) <= 4096 for p in parts)
    assert "\n".join(parts).split("\n")[1:] == [
        line.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;") for line in long_text.split("\n")
    ]
    document, photo = calls[-2:]
    assert document.files == {"document": b"PK\x03\x04"} and document.params["caption"] == "成绩单"
    assert photo.files == {"photo": b"\x89PNG"} and "caption" not in photo.params


# --- failures --------------------------------------------------------------------------------------------------


async def test_the_error_handler_logs_an_incident_and_tells_the_user_only_its_id(make_harness: MakeHarness, caplog):
    boom = RuntimeError("secret detail: /srv/coach/db.sqlite3 password=hunter2")
    h = await make_harness(conversation=RecordingConversation(error=boom))
    with caplog.at_level(logging.ERROR, logger="bot.channels.telegram.handlers"):
        calls = await h.say(ALICE, QUESTION)
    [apology] = texts_of(calls)
    match = INCIDENT.match(apology)
    assert match, apology
    assert "secret" not in apology and "RuntimeError" not in apology
    [record] = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert record.exc_info and record.exc_info[1] is boom
    assert match.group(1) in record.getMessage()

    calls = await h.press(ALICE, "t:whatever")  # a button press that fails is still answered exactly once
    assert [c.endpoint for c in calls] == ["answerCallbackQuery", "sendMessage"]
    assert INCIDENT.match(texts_of(calls)[0])


async def test_the_database_unreachable_gives_the_database_down_reply(make_harness: MakeHarness, services: Services):
    healthy = await make_harness()
    await healthy.register(ALICE, "A1001")
    engine = create_database_engine("postgresql+psycopg://nobody@127.0.0.1:1/x")
    broken = dataclasses.replace(services.conversation, uow=UnitOfWork(engine))
    h = await make_harness(conversation=broken)
    assert texts_of(await h.say(ALICE, QUESTION)) == [texts.DATABASE_DOWN]
    calls = await h.press(ALICE, "t:anything")
    assert [c.endpoint for c in calls] == ["answerCallbackQuery", "sendMessage"]
    assert texts_of(calls) == [texts.DATABASE_DOWN]
    engine.dispose()


async def test_transient_network_errors_are_retried_but_bad_requests_are_not(harness: Harness):
    await harness.register(ALICE, "A1001")
    harness.api.fail_next("sendMessage", TimedOut("test"), NetworkError("test: connection reset"))
    calls = await harness.say(ALICE, "/whoami")
    assert [c.endpoint for c in calls] == ["sendChatAction", "sendMessage", "sendMessage", "sendMessage"]

    harness.api.fail_next("sendMessage", 400)
    calls = await harness.say(ALICE, "/whoami")
    sent = [c for c in calls if c.endpoint == "sendMessage"]
    assert len(sent) == 2  # the refused message (not retried), then the apology from the error handler
    assert INCIDENT.match(sent[1].params["text"])

    harness.api.fail_next("sendMessage", 403, 403)  # blocked by the user: not retried, the apology fails too
    calls = await harness.say(ALICE, "/whoami")
    assert len([c for c in calls if c.endpoint == "sendMessage"]) == 2


async def test_a_failing_typing_action_does_not_stop_the_answer(harness: Harness):
    await harness.register(ALICE, "A1001")
    harness.api.fail_next("sendChatAction", 400)
    assert texts_of(await harness.say(ALICE, "/whoami"))[0].startswith("姓名:王小丽")


# --- the application -------------------------------------------------------------------------------------------


async def test_post_init_sets_the_command_menu(harness: Harness):
    await harness.app.post_init(harness.app)
    [call] = harness.api.sent(endpoint="setMyCommands")
    assert [c["command"] for c in call.params["commands"]] == ["start", "help", "ask", "filter", "whoami"]
    assert all(c["description"] for c in call.params["commands"])
    assert len(BOT_COMMANDS) == 5


def test_the_token_is_required(services: Services):
    settings = services.settings.model_copy(update={"telegram_bot_token": None})
    with pytest.raises(TelegramSetupError, match="TELEGRAM_BOT_TOKEN"):
        build_application(services=services, settings=settings, request=None)


def test_a_self_hosted_bot_api_server_gets_its_file_url_too(services: Services):
    tg = services.settings.telegram.model_copy(update={"base_url": "http://127.0.0.1:8081/bot/"})
    app = build_application(services=services, settings=services.settings.model_copy(update={"telegram": tg}))
    assert app.bot.base_url == f"http://127.0.0.1:8081/bot{TOKEN}"
    assert app.bot.base_file_url == f"http://127.0.0.1:8081/file/bot{TOKEN}"
    assert file_base_url("https://api.telegram.org/bot") == "https://api.telegram.org/file/bot"
    with pytest.raises(TelegramSetupError, match="base_url"):
        file_base_url("http://127.0.0.1:8081/")


def test_polling_by_default_and_webhook_when_configured(services: Services, monkeypatch):
    runs: list[tuple[str, dict]] = []

    async def polling_worker(application, services_, settings, **kw):
        runs.append(("polling", {}))

    monkeypatch.setattr(telegram_app, "run_polling_worker", polling_worker)

    async def webhook_worker(application, services_, settings, **kw):
        runs.append(("webhook", webhook_options(settings)))

    monkeypatch.setattr(telegram_app, "run_webhook_worker", webhook_worker)
    assert run_telegram(services, services.settings) == 0

    tg = services.settings.telegram.model_copy(
        update={"mode": "webhook", "webhook_url": "https://coach.example.com/tg/hook", "webhook_port": 8443}
    )
    with_secret = {"telegram": tg, "telegram_webhook_secret": SecretStr("s3cret-Token_1-Zq8vLrT0")}
    assert run_telegram(services, services.settings.model_copy(update=with_secret)) == 0
    assert runs[0] == ("polling", {})
    kind, options = runs[1]
    assert kind == "webhook"
    assert options["url_path"] == "tg/hook" and options["webhook_url"] == "https://coach.example.com/tg/hook"
    assert (options["listen"], options["port"], options["secret_token"]) == (
        "127.0.0.1",
        8443,
        "s3cret-Token_1-Zq8vLrT0",
    )

    spaced = {"telegram": tg, "telegram_webhook_secret": SecretStr("has spaces but is long enough")}
    with pytest.raises(TelegramSetupError):
        webhook_options(services.settings.model_copy(update=spaced))
    no_url = tg.model_copy(update={"webhook_url": ""})
    with pytest.raises(TelegramSetupError, match="webhook_url"):
        webhook_options(services.settings.model_copy(update={"telegram": no_url}))


async def test_the_token_never_appears_in_any_log_record(make_harness: MakeHarness, caplog):
    caplog.set_level(logging.DEBUG)
    h = await make_harness()
    await h.register(ALICE, "A1001")
    await h.say(ALICE, QUESTION)
    h.api.fail_next("sendMessage", TimedOut("test"), 400)
    await h.say(ALICE, "/whoami")
    assert caplog.records  # PTB logs every Bot API call at DEBUG
    assert not [r for r in caplog.records if TOKEN_SECRET in caplog.handler.format(r)]


async def test_httpx_request_lines_with_the_token_are_kept_out_of_the_logs(services: Services, caplog):
    """Through the real HTTPXRequest (a mock transport, no network): httpx's INFO line holds the token."""
    api = FakeBotApi()

    def transport(request: httpx.Request) -> httpx.Response:
        status, body = api.respond(request.url.path.rsplit("/", 1)[-1], {}, {})
        return httpx.Response(status, content=body)

    def make_request() -> HTTPXRequest:
        return HTTPXRequest(httpx_kwargs={"transport": httpx.MockTransport(transport)})

    caplog.set_level(logging.DEBUG)
    app = build_application(
        services=services, settings=services.settings, request=make_request(), updater_request=make_request()
    )
    await app.initialize()
    await app.bot.get_me()
    assert api.endpoints() == ["getMe", "getMe"]
    assert not [r for r in caplog.records if TOKEN_SECRET in caplog.handler.format(r)]

    logging.getLogger("httpx").setLevel(logging.NOTSET)  # even with httpx's INFO line let through (someone
    try:  # reconfigured logging), the token in its URL is redacted
        await app.bot.get_me()
        [line] = [r.getMessage() for r in caplog.records if r.name == "httpx"]
        assert "/bot7000000001:<redacted>/getMe" in line
        assert not [r for r in caplog.records if TOKEN_SECRET in caplog.handler.format(r)]
    finally:
        logging.getLogger("httpx").setLevel(logging.WARNING)
        await app.shutdown()


# --- a core bug found from the channel (fixed) ---


async def test_a_level_button_pressed_at_the_name_step_is_not_taken_as_the_name(harness: Harness):
    assert texts_of(await harness.say(CAROL, "/start")) == [texts.WELCOME_NEW]
    calls = await harness.press(CAROL, "t:reg-level-2")  # a stale or forged keyboard
    assert texts.ASK_EMPLOYEE_NO not in texts_of(calls)


def test_the_redactor_also_cleans_tracebacks():
    redactor = telegram_app.TokenRedactor(TOKEN)
    try:
        raise NetworkError(f"connect failed for https://api.telegram.org/bot{TOKEN}/getUpdates")
    except NetworkError:
        record = logging.LogRecord("telegram.ext.Updater", logging.ERROR, __file__, 1, "polling: %s", (TOKEN,), None)
        record.exc_info = sys.exc_info()
    assert redactor.filter(record)
    assert TOKEN_SECRET not in logging.Formatter().format(record)
    assert "<redacted>/getUpdates" in logging.Formatter().format(record)


def test_an_injected_request_without_an_updater_request_builds(services: Services):
    app = telegram_app.build_application(services=services, settings=services.settings, request=HTTPXRequest())
    assert app.bot.base_url.endswith("/bot" + TOKEN)


async def test_polling_sets_the_menu_and_keeps_the_index_current_in_the_background(services: Services, monkeypatch):
    refreshers: list[float] = []
    running = asyncio.Event()

    async def keep_current(services_: Services, every: float) -> None:
        refreshers.append(every)
        running.set()

    monkeypatch.setattr(worker_runtime, "keep_search_current", keep_current)  # every channel's worker runs it
    api = FakeBotApi()
    app = build_application(
        services=services, settings=services.settings, request=OfflineRequest(api), updater_request=OfflineRequest(api)
    )
    stop = asyncio.Event()
    worker = asyncio.create_task(telegram_app.run_polling_worker(app, services, services.settings, stop=stop))
    await asyncio.wait_for(running.wait(), 30)
    stop.set()
    await asyncio.wait_for(worker, 30)
    assert api.endpoints()[:3] == ["getMe", "setMyCommands", "deleteWebhook"]  # the menu, then no webhook
    assert refreshers == [max(1.0, services.settings.retrieval.refresh_seconds)]
