"""The Telegram channel tested the way python-telegram-bot tests itself: the real `Application`, real
`Update` objects, and an offline request class that answers like the Bot API and records every call."""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr
from telegram import Update
from telegram.ext import Application
from telegram.request import BaseRequest, RequestData

from app.composition import Services
from app.settings import Settings
from bot.channels.telegram.application import build_application
from bot.channels.telegram.handlers import ConversationPort, RetryPolicy

TOKEN = "7000000001:AAFakeTokenForTestsOnly_0123456789ab"
BOT_USER = {"id": 7000000001, "is_bot": True, "first_name": "随身教练", "username": "pocket_coach_test_bot"}
PROCESS_DOC = """# 投诉处理流程

## 受理

客户经理受理投诉后二十四小时内回访客户。回访记录写入系统时,备注里的 <script> 与 & 符号要原样保留。

## 升级

重大投诉当天上报区域经理,三天内给出处理意见。
"""
TRUE_ENDPOINTS = {"sendChatAction", "answerCallbackQuery", "setMyCommands", "deleteWebhook", "setWebhook"}
MESSAGE_ENDPOINTS = {"sendMessage", "sendDocument", "sendPhoto"}


@dataclass(frozen=True)
class ApiCall:
    endpoint: str
    params: dict[str, Any]
    files: dict[str, bytes] = field(default_factory=dict)


class FakeBotApi:
    """Canned, valid Bot API answers. Records every call; `fail_next` makes the next calls of an endpoint fail."""

    def __init__(self) -> None:
        self.calls: list[ApiCall] = []
        self.downloads: list[str] = []
        self.files: dict[str, bytes] = {}
        self._failures: dict[str, list[Exception | int | None]] = {}
        self._message_ids = itertools.count(5000)
        self.inbox: list[dict[str, Any]] = []  # updates waiting for getUpdates (polling tests)
        self.offsets: list[int] = []  # the offset of every getUpdates call

    def deliver(self, update: Update) -> None:
        """Queue an update for getUpdates, as Telegram holds it until the bot confirms it (offset past its id)."""
        self.inbox.append(update.to_dict())

    def get_updates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        offset = int(params.get("offset") or 0)
        self.offsets.append(offset)
        self.inbox = [u for u in self.inbox if u["update_id"] >= offset]  # below the offset: confirmed, gone
        return sorted(self.inbox, key=lambda u: u["update_id"])[: int(params.get("limit") or 100)]

    def fail_next(self, endpoint: str, *failures: Exception | int | None) -> None:
        """For each of the next calls: an exception to raise, an HTTP status to answer, or None (answer normally)."""
        self._failures.setdefault(endpoint, []).extend(failures)

    def respond(self, endpoint: str, params: dict[str, Any], files: dict[str, bytes]) -> tuple[int, bytes]:
        self.calls.append(ApiCall(endpoint, params, files))
        if self._failures.get(endpoint):
            failure = self._failures[endpoint].pop(0)
            if failure is None:
                return 200, _json({"ok": True, "result": self._result(endpoint, params)})
            if isinstance(failure, Exception):
                raise failure
            return failure, _json({"ok": False, "error_code": failure, "description": f"Bad Request: test {failure}"})
        return 200, _json({"ok": True, "result": self._result(endpoint, params)})

    def download(self, url: str) -> tuple[int, bytes]:
        self.downloads.append(url)
        file_id = url.rsplit("/", 1)[-1]
        return (200, self.files[file_id]) if file_id in self.files else (404, b"")

    def _result(self, endpoint: str, params: dict[str, Any]) -> Any:
        if endpoint == "getMe":
            return BOT_USER
        if endpoint in TRUE_ENDPOINTS:
            return True
        if endpoint in MESSAGE_ENDPOINTS:
            chat_id = int(params["chat_id"])
            message = {
                "message_id": next(self._message_ids),
                "date": 1_780_000_000,
                "chat": {"id": chat_id, "type": "private"},
                "from": BOT_USER,
            }
            if endpoint == "sendMessage":
                message["text"] = params["text"]
            return message
        if endpoint == "getUpdates":
            return self.get_updates(params)
        if endpoint == "getFile":
            file_id = params["file_id"]
            return {
                "file_id": file_id,
                "file_unique_id": f"u-{file_id}",
                "file_size": len(self.files.get(file_id, b"")),
                "file_path": f"documents/{file_id}",
            }
        pytest.fail(f"FakeBotApi: unexpected Bot API call {endpoint}")

    # assertion helpers
    def endpoints(self, since: int = 0) -> list[str]:
        return [c.endpoint for c in self.calls[since:]]

    def sent(self, since: int = 0, endpoint: str = "sendMessage") -> list[ApiCall]:
        return [c for c in self.calls[since:] if c.endpoint == endpoint]

    def texts(self, since: int = 0) -> list[str]:
        return [c.params["text"] for c in self.sent(since)]


def _json(payload: object) -> bytes:
    return json.dumps(payload).encode("utf-8")


class OfflineRequest(BaseRequest):
    """A `BaseRequest` that never touches the network: every call goes to the `FakeBotApi`."""

    def __init__(self, api: FakeBotApi) -> None:
        self.api = api

    async def initialize(self) -> None:
        pass

    async def shutdown(self) -> None:
        pass

    @property
    def read_timeout(self) -> float:
        return 1

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: Any = BaseRequest.DEFAULT_NONE,
        write_timeout: Any = BaseRequest.DEFAULT_NONE,
        connect_timeout: Any = BaseRequest.DEFAULT_NONE,
        pool_timeout: Any = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        if method == "GET":
            return self.api.download(url)
        params = dict(request_data.parameters) if request_data else {}
        if url.endswith("/getUpdates") and not self.api.get_updates(dict(params)):
            self.api.offsets.pop()
            await asyncio.sleep(0.02)  # a short long poll: nothing waiting
        files = {}
        if request_data is not None and request_data.contains_files:
            files = {name: content[1] for name, content in request_data.multipart_data.items()}
        return self.api.respond(url.rsplit("/", 1)[-1], params, files)


# Telegram users as the Bot API sends them (private chats share their ids).
ALICE = {"id": 1001, "is_bot": False, "first_name": "丽", "last_name": "王", "language_code": "zh-hans"}
BOB = {"id": 1002, "is_bot": False, "first_name": "Bob"}
CAROL = {"id": 1003, "is_bot": False, "first_name": "Carol"}


class Updates:
    """Builds real `telegram.Update` objects from realistic Bot API dicts."""

    def __init__(self, app: Application) -> None:
        self.bot = app.bot
        self._update_ids = itertools.count(900_000)
        self._message_ids = itertools.count(1)

    def raw_message(self, user: dict[str, Any], **content: Any) -> dict[str, Any]:
        chat = {"id": user["id"], "type": "private", "first_name": user["first_name"]}
        return {"message_id": next(self._message_ids), "date": 1_780_000_000, "chat": chat, "from": user, **content}

    def message(self, user: dict[str, Any], *, update_id: int | None = None, **content: Any) -> Update:
        raw = {"update_id": update_id or next(self._update_ids), "message": self.raw_message(user, **content)}
        return Update.de_json(raw, self.bot)

    def text(self, user: dict[str, Any], text: str, *, update_id: int | None = None) -> Update:
        content: dict[str, Any] = {"text": text}
        if text.startswith("/"):
            content["entities"] = [{"type": "bot_command", "offset": 0, "length": len(text.split(" ", 1)[0])}]
        return self.message(user, update_id=update_id, **content)

    def callback(self, user: dict[str, Any], data: str, *, update_id: int | None = None) -> Update:
        bot_message = self.raw_message(user, text="答案")
        bot_message["from"] = BOT_USER
        query = {"id": f"cq{next(self._message_ids)}", "from": user, "chat_instance": "ci-1", "data": data}
        query["message"] = bot_message
        return Update.de_json({"update_id": update_id or next(self._update_ids), "callback_query": query}, self.bot)


@dataclass
class Harness:
    app: Application
    api: FakeBotApi
    updates: Updates

    async def feed(self, update: Update) -> list[ApiCall]:
        """Process one update; the Bot API calls it caused."""
        start = len(self.api.calls)
        await self.app.process_update(update)
        return self.api.calls[start:]

    async def say(self, user: dict[str, Any], text: str, **kw: Any) -> list[ApiCall]:
        return await self.feed(self.updates.text(user, text, **kw))

    async def press(self, user: dict[str, Any], data: str, **kw: Any) -> list[ApiCall]:
        return await self.feed(self.updates.callback(user, data, **kw))

    async def register(self, user: dict[str, Any], employee_no: str) -> None:
        for text in ("/start", "王小丽", employee_no, "西宁分公司"):
            await self.say(user, text)
        calls = await self.press(user, "t:reg-level-2")
        assert any("登记完成" in c.params.get("text", "") for c in calls), calls


def texts_of(calls: list[ApiCall]) -> list[str]:
    return [c.params["text"] for c in calls if c.endpoint == "sendMessage"]


def with_token(settings: Settings) -> Settings:
    return settings.model_copy(update={"telegram_bot_token": SecretStr(TOKEN)})


@pytest.fixture
def services(lexical_settings: Settings, tmp_path: Path) -> Services:
    """Real services (SQLite, lexical index) with one small process manual ingested."""
    services = Services(with_token(lexical_settings))
    doc = tmp_path / "docs" / "投诉处理流程.md"
    doc.parent.mkdir()
    doc.write_text(PROCESS_DOC, encoding="utf-8")
    report = services.ingest_pipeline().run([doc], collection="processes")
    assert [o.status for o in report.outcomes] == ["added"]
    return services


MakeHarness = Callable[..., Awaitable[Harness]]


@pytest.fixture
async def make_harness(services: Services) -> AsyncIterator[MakeHarness]:
    """Build and initialize the real application over the offline request; shut it down afterwards."""
    apps: list[Application] = []

    async def make(
        *, conversation: ConversationPort | None = None, retry: RetryPolicy | None = None, **settings_update: Any
    ) -> Harness:
        api = FakeBotApi()
        settings = services.settings.model_copy(update=settings_update) if settings_update else services.settings
        app = build_application(
            services=services,
            settings=settings,
            request=OfflineRequest(api),
            updater_request=OfflineRequest(api),
            conversation=conversation,
            retry=retry or RetryPolicy(attempts=3, backoff_seconds=0),
        )
        await app.initialize()
        apps.append(app)
        return Harness(app, api, Updates(app))

    yield make
    for app in apps:
        await app.shutdown()
    services.engine.dispose()


@pytest.fixture
async def harness(make_harness: MakeHarness) -> Harness:
    return await make_harness()
