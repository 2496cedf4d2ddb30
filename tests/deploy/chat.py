"""A simulated customer manager chatting with the bot through the emulator in webhook mode.

Each send asks the emulator to answer only after its webhook delivery ended (`?wait=1`): by then the worker
has handled the update and sent its reply, so the reply can be read at once and the send's duration is the
reply latency a user would see (Telegram → balancer → worker → database → Bot API → back).
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from typing import Any

import httpx

from bot.core import texts
from tests.e2e.harness import BotMessage, SimUser, _ClientBase

QUESTION_HEADER = re.compile(r"第 (\d+)/(\d+) 题")
RESULT_SCORE = re.compile(r"得分 (\d+)/(\d+)")


class DeliveryFailed(AssertionError):
    """The emulator could not deliver an update to any worker (after its retries)."""


@dataclass
class Sent:
    update_id: int
    seconds: float
    attempts: int
    ok: bool


class ChatUser(_ClientBase):
    """One user's side of the chat; `sent` keeps every update with its latency and delivery attempts."""

    def __init__(self, http: httpx.AsyncClient, client_url: str, token: str, user: SimUser) -> None:
        _ClientBase.__init__(self, client_url, token, user)
        self.http = http
        self.sent: list[Sent] = []
        self.inbox: list[BotMessage] = []

    async def _send(self, path: str, payload: dict[str, Any]) -> Sent:
        started = time.perf_counter()
        response = await self.http.post(f"{self.client_url}{path}?wait=1", json=payload)
        seconds = time.perf_counter() - started
        result = self._result(response)
        delivery = result.get("delivery") or {}
        sent = Sent(int(result["update_id"]), seconds, int(delivery.get("attempts", 0)), bool(delivery.get("ok")))
        self.sent.append(sent)
        if not sent.ok:
            raise DeliveryFailed(f"update {sent.update_id} was not delivered: {delivery}")
        return sent

    async def say(self, text: str) -> list[BotMessage]:
        """Write `text`; the bot's new messages in this chat."""
        path, payload = self._text_request(text, self.default_user)
        await self._send(path, payload)
        return await self.new_messages()

    async def press(
        self, message: BotMessage, *, label: str | None = None, data: str | None = None
    ) -> list[BotMessage]:
        """Press a button of `message` by its label (or callback data); the bot's new messages."""
        target, callback_data = self._pick_button([message], data, label, message)
        await self._send("/sendCallback", self._callback_request(callback_data, target, self.default_user))
        return await self.new_messages()

    async def new_messages(self) -> list[BotMessage]:
        result = self._result(
            await self.http.post(
                f"{self.client_url}/getUpdates", json={"token": self.token, "chatId": self.default_user.chat_id}
            )
        )
        fresh = self._bot_messages(result or [], self.default_user.chat_id)
        self.inbox.extend(fresh)
        return fresh

    # ---- the conversations the tests and the load benchmark play

    async def register(self, *, name: str, employee_no: str, region: str = "西宁分公司", level: str = "中级") -> None:
        await self.say("/start")
        await self.say(name)
        await self.say(employee_no)
        [prompt] = await self.say(region)
        assert prompt.text == texts.ASK_LEVEL, prompt.text
        done = await self.press(prompt, label=level)
        assert any("登记完成" in (m.text or "") for m in done), [m.text for m in done]

    async def start_quiz(self, title: str) -> BotMessage:
        """/quiz, then the set's button; returns the first question."""
        listing = (await self.say("/quiz"))[-1]
        label = next(b["text"] for b in listing.buttons if title in str(b.get("text")))
        messages = await self.press(listing, label=label)
        return question_of(messages)

    async def answer(self, question: BotMessage, letter: str) -> list[BotMessage]:
        return await self.press(question, label=letter)


def question_of(messages: list[BotMessage]) -> BotMessage:
    for message in reversed(messages):
        if message.text and QUESTION_HEADER.search(message.text):
            return message
    raise AssertionError(f"no question among {[m.text for m in messages]}")


def position_of(question: BotMessage) -> tuple[int, int]:
    match = QUESTION_HEADER.search(question.text or "")
    assert match, question.text
    return int(match.group(1)), int(match.group(2))


def score_of(messages: list[BotMessage]) -> tuple[int, int] | None:
    for message in messages:
        match = RESULT_SCORE.search(message.text or "")
        if match:
            return int(match.group(1)), int(match.group(2))
    return None
