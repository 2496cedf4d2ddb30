"""End-to-end harness: a local Telegram Bot API emulator that a real PTB 22 `Application` can poll.

`BotApiEmulator` starts `node emulator.js` (telegram-test-api plus the patches PTB 22 needs, see
README.md) on a loopback port and plays the user through the emulator's client API:

    with BotApiEmulator() as emulator:                      # or the `bot_api_emulator` fixture
        application = application_builder(emulator).build()  # token, base_url, base_file_url
        ...add handlers...
        async with running_application(application):         # initialize/start/start_polling … stop/shutdown
            await emulator.aio.send_text("你好")
            [reply] = await emulator.aio.wait_for_replies(1, timeout=10)

The client helpers come twice, with the same names: synchronous on the emulator itself (for a bot
running in another thread or process) and asynchronous on `emulator.aio` (for a bot polling in the
test's own event loop, where a blocking wait would starve it).
"""

from __future__ import annotations

import asyncio
import atexit
import base64
import contextlib
import datetime as dtm
import fcntl
import hashlib
import json
import os
import queue
import re
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import weakref
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx

if TYPE_CHECKING:
    from telegram.ext import Application, ApplicationBuilder

E2E_DIR = Path(__file__).resolve().parent
EMULATOR_JS = E2E_DIR / "emulator.js"
PACKAGE_NAME = "telegram-test-api"
READY_PREFIX = "TELEGRAM_TEST_API_READY"
DEFAULT_TOKEN = "123456:TEST"
DEFAULT_BOT_USERNAME = "pocketcoach_test_bot"
MIN_NODE_MAJOR = 18
POLL_INTERVAL = 0.05


class EmulatorUnavailable(RuntimeError):
    """Node/npm are missing or too old, or the emulator's npm packages cannot be installed."""


class EmulatorError(RuntimeError):
    """The emulator process failed to start or answered its client API with an error."""


class EmulatorTimeout(AssertionError):
    """Waited for the bot (replies, a Bot API call) longer than the timeout."""


class BotHandlerError(AssertionError):
    """The PTB application raised in a handler or while polling (see `running_application`)."""


# ---------------------------------------------------------------------------------------------- installing


def find_node() -> tuple[str, str]:
    """Paths of `node` and `npm`; raises EmulatorUnavailable when either is missing or node is too old."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        missing = " and ".join(name for name, path in (("node", node), ("npm", npm)) if path is None)
        raise EmulatorUnavailable(
            f"{missing} not found on PATH: the Telegram Bot API emulator (tests/e2e) needs Node.js {MIN_NODE_MAJOR}+ "
            "and npm (Debian: apt-get install nodejs npm)"
        )
    try:
        version = subprocess.run([node, "--version"], capture_output=True, text=True, timeout=30, check=True).stdout
    except (OSError, subprocess.SubprocessError) as exc:
        raise EmulatorUnavailable(f"`node --version` failed: {exc}") from exc
    match = re.match(r"v?(\d+)", version.strip())
    if match is None or int(match.group(1)) < MIN_NODE_MAJOR:
        raise EmulatorUnavailable(f"Node.js {MIN_NODE_MAJOR}+ is needed for tests/e2e, found {version.strip()!r}")
    return node, npm


def _pinned_version() -> str:
    package = json.loads((E2E_DIR / "package.json").read_text(encoding="utf-8"))
    return str(package["dependencies"][PACKAGE_NAME])


def _installed_version() -> str | None:
    manifest = E2E_DIR / "node_modules" / PACKAGE_NAME / "package.json"
    try:
        return str(json.loads(manifest.read_text(encoding="utf-8"))["version"])
    except (OSError, ValueError, KeyError):
        return None


def emulator_installed() -> bool:
    return _installed_version() == _pinned_version()


def ensure_emulator_installed(*, timeout: float = 300.0) -> Path:
    """Install tests/e2e's npm packages (`npm ci`) unless the pinned telegram-test-api is already there.

    Returns the node_modules folder. Raises EmulatorUnavailable, with the reason, when node/npm are
    absent or the install fails (no registry, say). Safe to call from parallel test processes.
    """
    find_node()
    node_modules = E2E_DIR / "node_modules"
    if emulator_installed():
        return node_modules
    _, npm = find_node()
    digest = hashlib.sha1(str(E2E_DIR).encode()).hexdigest()[:12]
    lock_path = Path(tempfile.gettempdir()) / f"pocketcoach-e2e-npm-{digest}.lock"
    with lock_path.open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            if emulator_installed():
                return node_modules
            has_lock = (E2E_DIR / "package-lock.json").is_file()
            command = [npm, "ci" if has_lock else "install", "--no-audit", "--no-fund", "--loglevel=error"]
            try:
                done = subprocess.run(
                    command, cwd=E2E_DIR, capture_output=True, text=True, timeout=timeout, check=False
                )
            except subprocess.TimeoutExpired as exc:
                raise EmulatorUnavailable(f"`{' '.join(command[1:])}` in {E2E_DIR} took over {timeout:.0f} s") from exc
            if done.returncode != 0 or not emulator_installed():
                tail = "\n".join((done.stdout + done.stderr).strip().splitlines()[-15:])
                raise EmulatorUnavailable(
                    f"`npm {command[1]}` in {E2E_DIR} failed (exit {done.returncode}); is the npm registry reachable?"
                    f"\n{tail}"
                )
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
    return node_modules


# ---------------------------------------------------------------------------------------------- data


@dataclass(frozen=True)
class SimUser:
    """A simulated Telegram user, chatting with the bot in a private chat (chat id = user id)."""

    id: int = 10001
    first_name: str = "测试经理"
    last_name: str = ""
    username: str = "cm_tester"
    language_code: str = "zh-hans"

    @property
    def chat_id(self) -> int:
        return self.id

    def as_from(self) -> dict[str, Any]:
        user: dict[str, Any] = {"id": self.id, "is_bot": False, "first_name": self.first_name}
        if self.last_name:
            user["last_name"] = self.last_name
        if self.username:
            user["username"] = self.username
        if self.language_code:
            user["language_code"] = self.language_code
        return user

    def as_chat(self) -> dict[str, Any]:
        chat: dict[str, Any] = {"id": self.id, "type": "private", "first_name": self.first_name}
        if self.username:
            chat["username"] = self.username
        return chat


UserLike = SimUser | int | None


@dataclass(frozen=True)
class BotMessage:
    """A message the bot sent, as the emulator stored it (its current state, after any edits)."""

    message_id: int
    chat_id: int | str
    text: str | None = None
    parse_mode: str | None = None
    reply_markup: dict[str, Any] | None = None
    caption: str | None = None
    document: dict[str, Any] | None = None
    photo: list[dict[str, Any]] | None = None
    edit_date: int | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def kind(self) -> str:
        return "document" if self.document else "photo" if self.photo else "text"

    @property
    def inline_keyboard(self) -> list[list[dict[str, Any]]]:
        rows = (self.reply_markup or {}).get("inline_keyboard") or []
        return [list(row) for row in rows]

    @property
    def buttons(self) -> list[dict[str, Any]]:
        """Every inline button, row by row: dicts with `text` and `callback_data` (or `url`, …)."""
        return [button for row in self.inline_keyboard for button in row]

    def button(self, text: str) -> dict[str, Any]:
        for button in self.buttons:
            if button.get("text") == text:
                return button
        raise KeyError(f"no inline button {text!r} on message {self.message_id}: {self.buttons}")

    @classmethod
    def from_entry(cls, entry: dict[str, Any]) -> BotMessage:
        message = entry.get("message") or {}
        markup = message.get("reply_markup")
        if isinstance(markup, str):
            with contextlib.suppress(ValueError):
                markup = json.loads(markup)
        chat_id: int | str = message.get("chat_id", "")
        with contextlib.suppress(TypeError, ValueError):
            chat_id = int(chat_id)
        edit_date = message.get("edit_date")
        return cls(
            message_id=int(entry["messageId"]),
            chat_id=chat_id,
            text=message.get("text"),
            parse_mode=message.get("parse_mode"),
            reply_markup=markup if isinstance(markup, dict) else None,
            caption=message.get("caption"),
            document=message.get("document"),
            photo=message.get("photo"),
            edit_date=int(edit_date) if edit_date else None,
            raw=entry,
        )


@dataclass(frozen=True)
class BotCall:
    """One Bot API request the bot made (getUpdates excluded), with its parameters as sent."""

    seq: int
    method: str
    params: dict[str, Any]
    time: float


# ---------------------------------------------------------------------------------------------- client


def _utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


class _ClientBase:
    """What both clients share: the payloads for the emulator's client API and reading its answers."""

    def __init__(self, client_url: str, token: str = DEFAULT_TOKEN, user: SimUser | None = None) -> None:
        self.client_url = client_url.rstrip("/")
        self.token = token
        self.default_user = user or SimUser()

    @property
    def base_url(self) -> str:
        """For `ApplicationBuilder.base_url` (PTB appends the token)."""
        return f"{self.client_url}/bot"

    @property
    def base_file_url(self) -> str:
        """For `ApplicationBuilder.base_file_url`."""
        return f"{self.client_url}/file/bot"

    def user(self, user: UserLike = None) -> SimUser:
        """The default user, a SimUser as given, or a new one for a bare user id."""
        if user is None:
            return self.default_user
        if isinstance(user, SimUser):
            return user
        return SimUser(id=int(user), first_name=f"用户{user}", username=f"user{user}")

    def _text_request(self, text: str, user: SimUser, extra: dict[str, Any] | None = None) -> tuple[str, dict]:
        message: dict[str, Any] = {
            "botToken": self.token,
            "from": user.as_from(),
            "chat": user.as_chat(),
            "date": int(time.time()),
            "text": text,
        }
        if extra:
            message.update(extra)
        if text.startswith("/") and len(text) > 1:
            command = text.split()[0]
            message["entities"] = [{"offset": 0, "length": _utf16_len(command), "type": "bot_command"}]
            return "/sendCommand", message
        return "/sendMessage", message

    def _document_request(self, file: dict[str, Any], user: SimUser, caption: str | None) -> tuple[str, dict[str, Any]]:
        message: dict[str, Any] = {
            "botToken": self.token,
            "from": user.as_from(),
            "chat": user.as_chat(),
            "date": int(time.time()),
            "document": {
                key: file[key] for key in ("file_id", "file_unique_id", "file_name", "mime_type", "file_size")
            },
        }
        if caption:
            message["caption"] = caption
        return "/sendMessage", message

    def _callback_request(self, data: str, message: BotMessage | None, user: SimUser) -> dict[str, Any]:
        payload: dict[str, Any] = {
            "botToken": self.token,
            "from": user.as_from(),
            "data": data,
            "chat_instance": f"emulator-{user.chat_id}",
            "date": int(time.time()),
        }
        # The emulator fills in the rest of the message (text, keyboard, date) from what the bot sent.
        chat = {"id": message.chat_id, "type": "private"} if message else user.as_chat()
        payload["message"] = {"chat": chat, **({"message_id": message.message_id} if message else {})}
        return payload

    @staticmethod
    def _pick_button(
        messages: list[BotMessage], callback_data: str | None, text: str | None, message: BotMessage | int | None
    ) -> tuple[BotMessage, str]:
        if callback_data is None and text is None:
            raise ValueError("press_button needs callback_data or text")
        if isinstance(message, int):
            candidates = [m for m in messages if m.message_id == message]
            if not candidates:
                raise EmulatorError(f"the bot sent no message {message} in this chat")
        elif isinstance(message, BotMessage):
            candidates = [m for m in messages if m.message_id == message.message_id] or [message]
        else:
            candidates = list(reversed(messages))  # newest first
        for candidate in candidates:
            for button in candidate.buttons:
                if "callback_data" not in button:
                    continue
                if (callback_data is None or button["callback_data"] == callback_data) and (
                    text is None or button.get("text") == text
                ):
                    return candidate, str(button["callback_data"])
        wanted = f"callback_data={callback_data!r}" if callback_data is not None else f"text={text!r}"
        shown = [[b.get("text") for b in m.buttons] for m in candidates if m.buttons]
        raise EmulatorError(f"no inline button with {wanted} on the bot's messages; buttons seen: {shown}")

    @staticmethod
    def _result(response: httpx.Response) -> Any:
        try:
            body = response.json()
        except ValueError:
            body = None
        if response.status_code >= 400 or not isinstance(body, dict) or body.get("ok") is False:
            raise EmulatorError(
                f"emulator {response.request.url.path}: HTTP {response.status_code} {response.text[:500]}"
            )
        return body.get("result")

    @staticmethod
    def _bot_messages(entries: Iterable[dict[str, Any]], chat_id: int | None) -> list[BotMessage]:
        out = []
        for entry in entries:
            message = entry.get("message")
            if not isinstance(message, dict) or "chat_id" not in message:
                continue  # a user's update, not a bot message
            if chat_id is not None and str(message["chat_id"]) != str(chat_id):
                continue
            out.append(BotMessage.from_entry(entry))
        return out

    @staticmethod
    def _calls(result: list[dict[str, Any]], method: str | None) -> list[BotCall]:
        calls = [
            BotCall(int(c["seq"]), str(c["method"]), dict(c.get("params") or {}), float(c["time"])) for c in result
        ]
        if method is not None:
            calls = [c for c in calls if c.method.lower() == method.lower()]
        return calls

    @staticmethod
    def _timeout_message(what: str, timeout: float, got: list[Any], calls: list[BotCall]) -> str:
        recent = ", ".join(f"{c.method}" for c in calls[-12:]) or "none"
        return f"waited {timeout:g} s for {what}; got {len(got)}: {got!r}; the bot's last Bot API calls: {recent}"


class EmulatorClient(_ClientBase):
    """Synchronous client of the emulator: plays the user and reads what the bot did.

    Blocking: use it when the bot runs in another thread or process; in a test whose event loop
    runs the bot, use AsyncEmulatorClient (`emulator.aio`) instead.
    """

    def __init__(
        self, client_url: str, token: str = DEFAULT_TOKEN, user: SimUser | None = None, *, timeout: float = 10.0
    ) -> None:
        super().__init__(client_url, token, user)
        self._http = httpx.Client(base_url=self.client_url, timeout=timeout, trust_env=False)

    def close(self) -> None:
        self._http.close()

    def _post(self, path: str, payload: dict[str, Any]) -> Any:
        return self._result(self._http.post(path, json=payload))

    def send_text(self, text: str, user: UserLike = None) -> dict[str, Any]:
        """The user writes `text` (a leading "/" makes it a command with a bot_command entity).

        Returns the ids the update got: {"update_id": …, "message_id": …}.
        """
        path, payload = self._text_request(text, self.user(user))
        return self._post(path, payload)

    def upload(self, filename: str, data: bytes, mime_type: str = "application/octet-stream") -> dict[str, Any]:
        """Puts a file on the emulator (as if the user uploaded it); returns its Telegram file fields."""
        return self._post(
            "/_emulator/files",
            {
                "token": self.token,
                "file_name": filename,
                "mime_type": mime_type,
                "data_base64": base64.b64encode(data).decode("ascii"),
            },
        )

    def send_document(
        self,
        filename: str,
        data: bytes,
        mime_type: str = "application/octet-stream",
        *,
        caption: str | None = None,
        user: UserLike = None,
    ) -> dict[str, Any]:
        """The user sends a file; the bot can get_file()/download it through base_file_url."""
        file = self.upload(filename, data, mime_type)
        path, payload = self._document_request(file, self.user(user), caption)
        return {**self._post(path, payload), "file_id": file["file_id"]}

    def press_button(
        self,
        callback_data: str | None = None,
        *,
        text: str | None = None,
        message: BotMessage | int | None = None,
        user: UserLike = None,
    ) -> str:
        """The user presses an inline button, found by callback_data and/or its label.

        Searches `message` (a BotMessage or message id) or else the bot's messages in the chat,
        newest first. Returns the callback query id (compare with `callback_answers()`).
        """
        sim = self.user(user)
        target, data = self._pick_button(self.history(sim), callback_data, text, message)
        return str(self._post("/sendCallback", self._callback_request(data, target, sim))["callback_query_id"])

    def replies(self, user: UserLike = None) -> list[BotMessage]:
        """Bot messages to the user's chat not returned before (each message is returned once)."""
        sim = self.user(user)
        result = self._post("/getUpdates", {"token": self.token, "chatId": sim.chat_id})
        return self._bot_messages(result or [], sim.chat_id)

    def wait_for_replies(self, count: int = 1, timeout: float = 10.0, user: UserLike = None) -> list[BotMessage]:
        """Waits until at least `count` new bot messages reached the chat; returns all new ones."""
        got: list[BotMessage] = []
        deadline = time.monotonic() + timeout
        while True:
            got.extend(self.replies(user))
            if len(got) >= count:
                return got
            if time.monotonic() >= deadline:
                raise EmulatorTimeout(self._timeout_message(f"{count} repl(ies)", timeout, got, self.calls()))
            time.sleep(POLL_INTERVAL)

    def history(self, user: UserLike = None) -> list[BotMessage]:
        """All bot messages in the user's chat, oldest first, as they are now (after edits)."""
        result = self._post("/getUpdatesHistory", {"token": self.token})
        return self._bot_messages(result or [], self.user(user).chat_id)

    def calls(self, method: str | None = None, *, since: int = 0) -> list[BotCall]:
        """Bot API calls the bot made (not getUpdates), optionally of one method, after sequence `since`."""
        return self._calls(self._post("/_emulator/calls", {"token": self.token, "since": since}) or [], method)

    def wait_for_call(
        self,
        method: str,
        timeout: float = 10.0,
        *,
        since: int = 0,
        where: Callable[[BotCall], bool] | None = None,
    ) -> BotCall:
        """Waits for the bot to call `method` (and match `where`); returns the first such call."""
        deadline = time.monotonic() + timeout
        while True:
            calls = self.calls(since=since)
            for call in calls:
                if call.method.lower() == method.lower() and (where is None or where(call)):
                    return call
            if time.monotonic() >= deadline:
                raise EmulatorTimeout(self._timeout_message(f"a {method} call", timeout, [], calls))
            time.sleep(POLL_INTERVAL)

    def callback_answers(self) -> list[dict[str, Any]]:
        """Parameters of every answerCallbackQuery: callback_query_id, text, show_alert, …"""
        return [call.params for call in self.calls("answerCallbackQuery")]

    def download(self, file_id: str) -> bytes:
        """The bytes of a file the bot sent (or the user uploaded)."""
        response = self._http.get(f"/_emulator/files/{file_id}")
        if response.status_code != 200:
            raise EmulatorError(f"no file {file_id!r} on the emulator (HTTP {response.status_code})")
        return response.content

    def reset(self) -> None:
        """Forgets every message, call and chat (files stay)."""
        self._post("/_emulator/reset", {})


class AsyncEmulatorClient(_ClientBase):
    """The same helpers as EmulatorClient, awaitable, for tests whose event loop runs the bot."""

    def __init__(
        self, client_url: str, token: str = DEFAULT_TOKEN, user: SimUser | None = None, *, timeout: float = 10.0
    ) -> None:
        super().__init__(client_url, token, user)
        self._timeout = timeout

    async def _request(self, method: str, path: str, payload: dict[str, Any] | None = None) -> httpx.Response:
        # A client per call: nothing to close, and no connection bound to another event loop.
        async with httpx.AsyncClient(base_url=self.client_url, timeout=self._timeout, trust_env=False) as http:
            return await http.request(method, path, json=payload)

    async def _post(self, path: str, payload: dict[str, Any]) -> Any:
        return self._result(await self._request("POST", path, payload))

    async def send_text(self, text: str, user: UserLike = None) -> dict[str, Any]:
        path, payload = self._text_request(text, self.user(user))
        return await self._post(path, payload)

    async def upload(self, filename: str, data: bytes, mime_type: str = "application/octet-stream") -> dict[str, Any]:
        return await self._post(
            "/_emulator/files",
            {
                "token": self.token,
                "file_name": filename,
                "mime_type": mime_type,
                "data_base64": base64.b64encode(data).decode("ascii"),
            },
        )

    async def send_document(
        self,
        filename: str,
        data: bytes,
        mime_type: str = "application/octet-stream",
        *,
        caption: str | None = None,
        user: UserLike = None,
    ) -> dict[str, Any]:
        file = await self.upload(filename, data, mime_type)
        path, payload = self._document_request(file, self.user(user), caption)
        return {**(await self._post(path, payload)), "file_id": file["file_id"]}

    async def press_button(
        self,
        callback_data: str | None = None,
        *,
        text: str | None = None,
        message: BotMessage | int | None = None,
        user: UserLike = None,
    ) -> str:
        sim = self.user(user)
        target, data = self._pick_button(await self.history(sim), callback_data, text, message)
        result = await self._post("/sendCallback", self._callback_request(data, target, sim))
        return str(result["callback_query_id"])

    async def replies(self, user: UserLike = None) -> list[BotMessage]:
        sim = self.user(user)
        result = await self._post("/getUpdates", {"token": self.token, "chatId": sim.chat_id})
        return self._bot_messages(result or [], sim.chat_id)

    async def wait_for_replies(self, count: int = 1, timeout: float = 10.0, user: UserLike = None) -> list[BotMessage]:
        got: list[BotMessage] = []
        deadline = time.monotonic() + timeout
        while True:
            got.extend(await self.replies(user))
            if len(got) >= count:
                return got
            if time.monotonic() >= deadline:
                calls = await self.calls()
                raise EmulatorTimeout(self._timeout_message(f"{count} repl(ies)", timeout, got, calls))
            await asyncio.sleep(POLL_INTERVAL)

    async def history(self, user: UserLike = None) -> list[BotMessage]:
        sim = self.user(user)
        result = await self._post("/getUpdatesHistory", {"token": self.token})
        return self._bot_messages(result or [], sim.chat_id)

    async def calls(self, method: str | None = None, *, since: int = 0) -> list[BotCall]:
        result = await self._post("/_emulator/calls", {"token": self.token, "since": since})
        return self._calls(result or [], method)

    async def wait_for_call(
        self,
        method: str,
        timeout: float = 10.0,
        *,
        since: int = 0,
        where: Callable[[BotCall], bool] | None = None,
    ) -> BotCall:
        deadline = time.monotonic() + timeout
        while True:
            calls = await self.calls(since=since)
            for call in calls:
                if call.method.lower() == method.lower() and (where is None or where(call)):
                    return call
            if time.monotonic() >= deadline:
                raise EmulatorTimeout(self._timeout_message(f"a {method} call", timeout, [], calls))
            await asyncio.sleep(POLL_INTERVAL)

    async def callback_answers(self) -> list[dict[str, Any]]:
        return [call.params for call in await self.calls("answerCallbackQuery")]

    async def download(self, file_id: str) -> bytes:
        response = await self._request("GET", f"/_emulator/files/{file_id}")
        if response.status_code != 200:
            raise EmulatorError(f"no file {file_id!r} on the emulator (HTTP {response.status_code})")
        return response.content

    async def reset(self) -> None:
        await self._post("/_emulator/reset", {})


# ---------------------------------------------------------------------------------------------- the process

_LIVE: weakref.WeakSet[BotApiEmulator] = weakref.WeakSet()


@atexit.register
def _stop_leftovers() -> None:
    for emulator in list(_LIVE):
        emulator.stop()


class BotApiEmulator(EmulatorClient):
    """Runs `node emulator.js` on loopback for as long as it is started; the sync client helpers are its methods.

    port=0 lets the emulator pick a free port (it reports the one it got, so there is no race).
    The process is always ended by stop()/__exit__, at interpreter exit, and — as node watches its
    stdin pipe — even when the test process is killed outright.
    """

    def __init__(
        self,
        port: int = 0,
        *,
        token: str = DEFAULT_TOKEN,
        host: str = "127.0.0.1",
        bot_username: str = DEFAULT_BOT_USERNAME,
        user: SimUser | None = None,
        startup_timeout: float = 30.0,
        request_timeout: float = 10.0,
        install: bool = True,
    ) -> None:
        self.requested_port = port
        self.host = host
        self.bot_username = bot_username
        self.startup_timeout = startup_timeout
        self.request_timeout = request_timeout
        self.install = install
        self.port: int | None = None
        self.pid: int | None = None
        # Until start() knows the port, the client has no URL; token and user are known already.
        self.client_url = ""
        self.token = token
        self.default_user = user or SimUser()
        self._proc: subprocess.Popen[str] | None = None
        self._lines: queue.Queue[str | None] = queue.Queue()
        self._log: deque[str] = deque(maxlen=400)
        self._threads: list[threading.Thread] = []
        self._aio: AsyncEmulatorClient | None = None
        self._client_ready = False

    # ---- lifecycle

    def start(self) -> BotApiEmulator:
        if self._proc is not None:
            return self
        node, _ = find_node()
        if self.install:
            ensure_emulator_installed()
        elif not emulator_installed():
            raise EmulatorUnavailable(f"{PACKAGE_NAME} is not installed in {E2E_DIR} (run npm ci there)")
        command = [
            node,
            str(EMULATOR_JS),
            "--port",
            str(self.requested_port),
            "--host",
            self.host,
            "--bot-username",
            self.bot_username,
            "--exit-with-stdin",
        ]
        env = {**os.environ, "NODE_ENV": "test"}
        env.pop("DEBUG", None)  # telegram-test-api logs every request under DEBUG=TelegramServer:*
        self._proc = subprocess.Popen(
            command,
            cwd=E2E_DIR,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            encoding="utf-8",
            errors="replace",
            start_new_session=True,
        )
        _LIVE.add(self)
        self.pid = self._proc.pid
        for stream, name in ((self._proc.stdout, "stdout"), (self._proc.stderr, "stderr")):
            thread = threading.Thread(target=self._pump, args=(stream, name), name=f"emulator-{name}", daemon=True)
            thread.start()
            self._threads.append(thread)
        try:
            info = self._wait_ready()
        except BaseException:
            self.stop()
            raise
        self.port = int(info["port"])
        client_host = f"[{self.host}]" if ":" in self.host else self.host
        EmulatorClient.__init__(
            self, f"http://{client_host}:{self.port}", self.token, self.default_user, timeout=self.request_timeout
        )
        self._client_ready = True
        self._aio = AsyncEmulatorClient(self.client_url, self.token, self.default_user, timeout=self.request_timeout)
        return self

    def _pump(self, stream: Any, name: str) -> None:
        with contextlib.suppress(ValueError, OSError):
            for line in stream:
                line = line.rstrip("\n")
                self._log.append(f"[{name}] {line}")
                if name == "stdout":
                    self._lines.put(line)
        if name == "stdout":
            self._lines.put(None)

    def _wait_ready(self) -> dict[str, Any]:
        deadline = time.monotonic() + self.startup_timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise EmulatorError(f"the emulator did not report ready in {self.startup_timeout:g} s\n{self.logs()}")
            try:
                line = self._lines.get(timeout=min(remaining, 0.5))
            except queue.Empty:
                if self._proc is not None and self._proc.poll() is not None:
                    time.sleep(0.1)  # let the pumps catch its last words
                    raise EmulatorError(f"the emulator exited with {self._proc.returncode}\n{self.logs()}") from None
                continue
            if line is None:
                raise EmulatorError(f"the emulator closed its output before it was ready\n{self.logs()}")
            if line.startswith(READY_PREFIX):
                return json.loads(line[len(READY_PREFIX) :])

    def stop(self) -> None:
        """Ends the node process (TERM, then KILL after 5 s) and closes the client; safe to call twice."""
        proc, self._proc = self._proc, None
        _LIVE.discard(self)
        if self._client_ready:
            self._client_ready = False
            self.close()
        if proc is None:
            return
        if proc.poll() is None:
            for sig, wait in ((signal.SIGTERM, 5.0), (signal.SIGKILL, 5.0)):
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(proc.pid, sig)  # its own session: the group is just node
                try:
                    proc.wait(timeout=wait)
                    break
                except subprocess.TimeoutExpired:
                    continue
        for stream in (proc.stdin, proc.stdout, proc.stderr):
            with contextlib.suppress(OSError, ValueError):
                if stream is not None:
                    stream.close()
        for thread in self._threads:
            thread.join(timeout=2)
        self._threads.clear()

    def __enter__(self) -> BotApiEmulator:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def __del__(self) -> None:
        with contextlib.suppress(Exception):
            self.stop()

    # ---- facts

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    @property
    def aio(self) -> AsyncEmulatorClient:
        """The async client helpers (same names), for a bot polling in the test's event loop."""
        if self._aio is None:
            raise EmulatorError("the emulator is not started")
        return self._aio

    def logs(self) -> str:
        """The emulator's recent stdout/stderr lines."""
        return "\n".join(self._log)

    def __repr__(self) -> str:
        return f"BotApiEmulator(port={self.port}, pid={self.pid}, running={self.running})"


# ---------------------------------------------------------------------------------------------- PTB glue


def application_builder(emulator: _ClientBase) -> ApplicationBuilder:
    """A PTB ApplicationBuilder aimed at the emulator: its token, base_url and base_file_url."""
    from telegram.ext import ApplicationBuilder

    return (
        ApplicationBuilder()
        .token(emulator.token)
        .base_url(emulator.base_url)
        .base_file_url(emulator.base_file_url)
        .connect_timeout(5.0)
        .pool_timeout(5.0)
    )


@contextlib.asynccontextmanager
async def running_application(
    application: Application,  # type: ignore[type-arg]
    *,
    poll_timeout: float = 1.0,
    startup_timeout: float = 20.0,
    shutdown_timeout: float = 20.0,
    raise_errors: bool = True,
) -> AsyncIterator[list[BaseException]]:
    """Runs `application` with polling in the current event loop: initialize, start, start_polling;
    then updater.stop, stop, shutdown — each bounded by a timeout, and always done.

    Yields the list of exceptions the application met (handler errors through an error handler,
    polling errors through error_callback). With raise_errors, a clean exit raises BotHandlerError
    when that list is not empty; a failing test gets them added as a note to its own exception.
    """
    errors: list[BaseException] = []

    async def on_error(update: object, context: Any) -> None:
        errors.append(context.error)

    def on_polling_error(error: BaseException) -> None:
        errors.append(error)

    application.add_error_handler(on_error)
    try:
        async with asyncio.timeout(startup_timeout):
            await application.initialize()
            await application.start()
            await application.updater.start_polling(  # type: ignore[union-attr]
                poll_interval=0.0,
                timeout=dtm.timedelta(seconds=poll_timeout),
                error_callback=on_polling_error,
            )
        yield errors
    except BaseException as exc:
        if errors:
            exc.add_note(_describe_errors(errors))
        raise
    finally:
        async with asyncio.timeout(shutdown_timeout):
            updater = application.updater
            if updater is not None and updater.running:
                await updater.stop()
            if application.running:
                await application.stop()
            await application.shutdown()
        application.remove_error_handler(on_error)
    if errors and raise_errors:
        raise BotHandlerError(_describe_errors(errors)) from errors[0]


def _describe_errors(errors: list[BaseException]) -> str:
    lines = [f"the bot application met {len(errors)} error(s):"]
    lines += [f"  {type(error).__name__}: {error}" for error in errors[:10]]
    return "\n".join(lines)
