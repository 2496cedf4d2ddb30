"""Proves the e2e harness: a real PTB 22 Application polls the local Bot API emulator while a simulated user chats."""

from __future__ import annotations

import asyncio
import html
import os

import pytest
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ChatAction, ParseMode
from telegram.error import BadRequest, InvalidToken
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, ContextTypes, MessageHandler, filters

from tests.e2e.harness import BotApiEmulator, SimUser, application_builder, running_application

pytestmark = pytest.mark.e2e

TEST_TIMEOUT = 60  # seconds, for a whole test
REPLY_TIMEOUT = 10


def build_app(emulator: BotApiEmulator) -> Application:  # type: ignore[type-arg]
    application = application_builder(emulator).build()

    async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.message is not None
        await update.message.reply_text(f"欢迎，{update.message.from_user.first_name}")  # type: ignore[union-attr]

    async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.message is not None and update.message.text is not None
        await context.bot.send_chat_action(update.message.chat_id, ChatAction.TYPING)
        keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("再来一次", callback_data="again")]])
        await update.message.reply_text(
            html.escape(update.message.text), parse_mode=ParseMode.HTML, reply_markup=keyboard
        )

    async def on_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        assert query is not None and query.message is not None
        await query.answer("收到")
        await query.edit_message_reply_markup(None)  # the keyboard goes, as after a quiz answer
        await context.bot.send_message(
            query.message.chat.id, f"按钮 <b>{html.escape(query.data or '')}</b> 已按下", parse_mode=ParseMode.HTML
        )

    async def on_document(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.message is not None and update.message.document is not None
        file = await update.message.document.get_file()
        data = bytes(await file.download_as_bytearray())
        await update.message.reply_document(
            data.upper(), filename=f"upper-{update.message.document.file_name}", caption="已转大写"
        )

    application.add_handler(CommandHandler("start", start))
    application.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, echo))
    application.add_handler(MessageHandler(filters.Document.ALL, on_document))
    application.add_handler(CallbackQueryHandler(on_button))
    return application


async def test_echo_then_button(bot_api_emulator: BotApiEmulator) -> None:
    emulator = bot_api_emulator.aio
    application = build_app(bot_api_emulator)
    async with asyncio.timeout(TEST_TIMEOUT), running_application(application):
        assert application.bot.username == "pocketcoach_test_bot"

        await emulator.send_text("你好")
        [reply] = await emulator.wait_for_replies(1, timeout=REPLY_TIMEOUT)
        assert reply.text == "你好"
        assert reply.parse_mode == "HTML"
        assert reply.buttons == [{"text": "再来一次", "callback_data": "again"}]
        assert (await emulator.calls("sendChatAction"))[0].params["action"] == "typing"

        query_id = await emulator.press_button("again")
        [after] = await emulator.wait_for_replies(1, timeout=REPLY_TIMEOUT)
        assert after.text == "按钮 <b>again</b> 已按下"
        assert after.parse_mode == "HTML"
        answer = await emulator.wait_for_call("answerCallbackQuery", timeout=REPLY_TIMEOUT)
        assert answer.params["callback_query_id"] == query_id
        assert answer.params["text"] == "收到"
        [first, _] = await emulator.history()
        assert first.message_id == reply.message_id
        assert first.buttons == [] and first.edit_date is not None  # the keyboard was removed


async def test_command_escaping_and_second_user(bot_api_emulator: BotApiEmulator) -> None:
    emulator = bot_api_emulator.aio
    other = SimUser(id=20002, first_name="李雷", username="lilei")
    async with asyncio.timeout(TEST_TIMEOUT), running_application(build_app(bot_api_emulator)):
        await emulator.send_text("/start")
        await emulator.send_text("<b>存款 & 贷款</b>", user=other)
        [welcome] = await emulator.wait_for_replies(1, timeout=REPLY_TIMEOUT)
        assert welcome.text == "欢迎，测试经理"
        [escaped] = await emulator.wait_for_replies(1, timeout=REPLY_TIMEOUT, user=other)
        assert escaped.text == "&lt;b&gt;存款 &amp; 贷款&lt;/b&gt;"
        assert escaped.chat_id == other.chat_id
        assert await emulator.replies() == []  # nothing else reached the first user


async def test_document_round_trip(bot_api_emulator: BotApiEmulator) -> None:
    emulator = bot_api_emulator.aio
    async with asyncio.timeout(TEST_TIMEOUT), running_application(build_app(bot_api_emulator)):
        await emulator.send_document("note.txt", b"deposit rates", "text/plain")
        [reply] = await emulator.wait_for_replies(1, timeout=REPLY_TIMEOUT)
        assert reply.kind == "document"
        assert reply.caption == "已转大写"
        assert reply.document is not None and reply.document["file_name"] == "upper-note.txt"
        assert await emulator.download(reply.document["file_id"]) == b"DEPOSIT RATES"


async def test_telegram_style_errors(bot_api_emulator: BotApiEmulator) -> None:
    async with asyncio.timeout(TEST_TIMEOUT):
        bot = Bot(bot_api_emulator.token, base_url=bot_api_emulator.base_url)
        async with bot:
            message = await bot.send_message(1, "一次")
            with pytest.raises(BadRequest, match="not modified"):
                await bot.edit_message_text("一次", chat_id=1, message_id=message.message_id)
            with pytest.raises(BadRequest, match="not found"):
                await bot.edit_message_text("两次", chat_id=1, message_id=999999)
            # Unimplemented methods answer 404 like Telegram's unknown ones; PTB calls that InvalidToken.
            with pytest.raises(InvalidToken, match="sendDice is not implemented by the test emulator"):
                await bot.send_dice(1)
            assert await bot.delete_message(1, message.message_id) is True


def test_sync_client_and_process_cleanup(bot_api_emulator_installed: bool) -> None:
    with BotApiEmulator(install=False) as emulator:
        pid = emulator.pid
        assert pid is not None and emulator.running
        ids = emulator.send_text("早上好")
        assert ids["update_id"] >= 1
        with pytest.raises(AssertionError, match=r"waited 0\.2 s"):
            emulator.wait_for_replies(1, timeout=0.2)
    assert not emulator.running
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
