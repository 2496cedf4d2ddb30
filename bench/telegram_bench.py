"""Telegram handling overhead of PocketCoach: the bot's OWN time per update, through the full python-telegram-bot
stack, against the local Bot API emulator of tests/e2e. Prints numbers; never asserts.

    PYTHONPATH=. HF_HUB_OFFLINE=1 python bench/telegram_bench.py [--updates 300] [--rate 10] [--users 5]
        [--warmup 20] [--json out.json]

How it runs: one node process (tests/e2e/emulator.js: telegram-test-api, patched) on 127.0.0.1. In this process one
PTB `Application` at a time long-polls it, as in production, while a simulated user in a separate thread sends updates
through the emulator's client API, one at a time, at most --rate per second (10 by default: an update makes at most
two Bot API calls, so ≤ 20 calls/s stays under Telegram's ~30 messages/s and AIORateLimiter never holds a request).
The user sends the next update only after the bot's handler for the previous one has returned (a signal from the
wrapped handler: pacing only), so updates never queue and every number is one update alone.

Three configurations, same emulator, same process, same script of updates, in this order:
  echo      the floor: a bare PTB Application (no rate limiter); a text handler that echoes the text with one inline
            button, a callback handler that only answers the query. What python-telegram-bot itself costs.
  excluded  "search excluded": our real bot — `build_application` over `Services` (temporary SQLite; registration,
            the core's transaction, update de-duplication, interaction logging, button tokens, rendering,
            AIORateLimiter) — with the core's knowledge lookup replaced through our own seam: a `Conversation` whose
            `knowledge` is a fixed `KnowledgeLookup` returning one SearchResult + MobileAnswer (computed once from
            the real search, so the reply is as long as a real one) and passages from memory.
  included  "search included": the same bot with the real lexical search over content/knowledge/ (every folder
            ingested as its collection), or over three built-in Markdown files when that folder is missing.
Script, one round per user in turn: a question, 📖 原文1 on its answer, 👍 on its answer, a question, a command
(/help and /whoami alternately). The echo gets the same texts; its "buttons" press its one button. Before measuring,
each user registers (our bot) and --warmup updates run (the tokenizer and the index load there); neither is counted.

Measured per update, inside this process, with time.perf_counter:
  handler   wall time of the PTB handler callback (TelegramHandlers.on_message / on_callback_query, or the echo's):
            the registered callbacks are wrapped after the application is built.
  bot api   time spent awaiting Bot API requests made by that handler (sendChatAction, sendMessage,
            answerCallbackQuery), timed in an HTTPXRequest subclass's do_request: loopback HTTP + node, not ours.
  own       handler − bot api: Update → Inbound, the hop to the worker thread, the core, rendering, PTB building
            the requests, AIORateLimiter's bookkeeping. The aim from the issue is under 5 ms per update.
  core      Conversation.handle alone (it runs in a worker thread): the transaction, search, answer, logging.
  channel   own − core: what the Telegram layer itself adds (and AIORateLimiter's waits, should --rate exceed ~15/s).
  e2e       context only: from just before the simulated user's POST to the emulator until the emulator logged the
            bot's last reply call for that update (node's Date.now(), the same clock, 1 ms resolution) — the earliest
            moment the user could see the reply. Includes the long poll's wake-up and PTB's dispatch.
Ratios: our configurations' handler p50 and own p50/p95 over the echo's, kind by kind.

Not measured: PTB's dispatch before the handler (getUpdates, Update.de_json, handler matching: the echo pays it
too, and it is in e2e), Telegram's real network (tens to hundreds of ms away from any server), the rate limiter
under load and flood waits (pacing keeps it idle), concurrent updates (PTB handles them one at a time by default,
as our bot does), dense/vector search (vector_store off), an LLM answerer, webhook mode, file uploads, the error
handler. The emulator, this process and whatever else runs share the CPUs: read the numbers with the load average
printed next to them.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import contextvars
import json
import logging
import os
import platform
import sys
import tempfile
import threading
import time
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:  # `python bench/telegram_bench.py` without an installed package
    sys.path.insert(0, str(REPO))

import httpx  # noqa: E402
import telegram  # noqa: E402
from pydantic import SecretStr  # noqa: E402
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update  # noqa: E402
from telegram.ext import (  # noqa: E402
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    ContextTypes,
    MessageHandler,
    filters,
)
from telegram.request import HTTPXRequest  # noqa: E402

from app.composition import Services  # noqa: E402
from app.settings import COLLECTIONS, Settings, load_settings  # noqa: E402
from bench.names import chinese_name  # noqa: E402
from bot.channels.telegram import application as telegram_app  # noqa: E402
from bot.channels.telegram.application import build_application  # noqa: E402
from bot.core import texts  # noqa: E402
from bot.core.conversation import Conversation  # noqa: E402
from bot.core.messages import Inbound, Outcome  # noqa: E402
from knowledge.answer import MobileAnswer  # noqa: E402
from knowledge.results import Passage, SearchResult  # noqa: E402
from storage.interaction_repository import InteractionRepository  # noqa: E402
from storage.learner_repository import LearnerRepository  # noqa: E402
from tests.e2e.harness import (  # noqa: E402
    BotApiEmulator,
    BotCall,
    BotMessage,
    EmulatorUnavailable,
    SimUser,
    emulator_installed,
    running_application,
)

GOAL_OWN_MS = 5.0
TELEGRAM_MSGS_PER_S = 30
UPDATE_TIMEOUT = 20.0  # one update, send → handler returned
KNOWLEDGE = REPO / "content" / "knowledge"
ROUND = ("question", "open_source", "rate", "question", "command")
KINDS = ("question", "open_source", "rate", "command")
REPLY_METHODS = {"sendMessage", "answerCallbackQuery", "sendDocument", "sendPhoto", "editMessageText"}
CANDIDATE_QUESTIONS = (
    "投诉处理的步骤有哪些?",
    "晋级需要走哪些流程?",
    "初级客户经理谈判要注意什么?",
    "怎么应对红色博弈者?",
    "客户期望值怎么管理?",
    "满意度怎么衡量?",
    "KPI 考核周期和权重是多少?",
    "专线续约谈判怎么守住底线?",
    "来电提醒的投诉档案怎么用?",
    "BPR 流程再造为什么先选苏州和昆明?",
    "胜任力测评的分数线是多少?",
    "迪士尼怎么超出客户期望?",
)
BUILTIN_DOCS = {
    "processes/投诉处理流程.md": "# 投诉处理流程\n\n## 受理\n\n客户经理受理投诉后二十四小时内回访客户,回访记录当天写入"
    "客户管理系统。\n\n## 升级\n\n重大投诉当天上报区域经理,区域经理三天内给出处理意见。\n\n## 结案\n\n投诉结案后七天内"
    "再做一次满意度回访,回访结果归档。\n",
    "processes/晋级流程.md": "# 客户经理晋级流程\n\n## 晋级步骤\n\n晋级分五步:个人申请、资格审核、集中考试、业绩评议、"
    "公示聘任。\n\n## 集中考试\n\n集中考试考产品知识、谈判技巧和案例分析,六十分合格。\n",
    "courses/初级谈判课.md": "# 初级谈判课\n\n## 要点\n\n初级客户经理谈判要先摸清客户需求,守住价格底线,小步让步,"
    "每次让步都换回对方的承诺。\n",
}
BUILTIN_QUESTIONS = ("投诉受理后多久回访客户?", "晋级需要走哪些流程?", "初级客户经理谈判要注意什么?")

log = logging.getLogger("telegram_bench")


# ── instrumentation ──────────────────────────────────────────────────────────────────────────────────────────


@dataclass
class Meter:
    """Seconds one update spent: in the handler, awaiting the Bot API, in the core."""

    handler: float = 0.0
    api: float = 0.0
    api_calls: int = 0
    core: float = 0.0


METER: contextvars.ContextVar[Meter | None] = contextvars.ContextVar("telegram_bench_meter", default=None)


class TimedRequest(HTTPXRequest):
    """PTB's HTTPXRequest, adding the time of each Bot API request to the current update's meter."""

    async def do_request(self, *args: Any, **kwargs: Any) -> tuple[int, bytes]:
        meter = METER.get()
        start = time.perf_counter()
        try:
            return await super().do_request(*args, **kwargs)
        finally:
            if meter is not None:
                meter.api += time.perf_counter() - start
                meter.api_calls += 1


def timed_request() -> TimedRequest:
    """The same timeouts and pool size `build_application` gives its own request."""
    return TimedRequest(
        connection_pool_size=256,
        connect_timeout=telegram_app.CONNECT_TIMEOUT,
        read_timeout=telegram_app.READ_TIMEOUT,
        write_timeout=telegram_app.WRITE_TIMEOUT,
        pool_timeout=telegram_app.POOL_TIMEOUT,
    )


def polling_request() -> HTTPXRequest:
    """For getUpdates, as `build_application` configures it. Passed explicitly: PTB 22.8 refuses get_updates_*
    timeouts on a builder that was given a `request`, so `build_application(request=…)` alone raises."""
    return HTTPXRequest(
        connection_pool_size=1, connect_timeout=telegram_app.CONNECT_TIMEOUT, read_timeout=telegram_app.READ_TIMEOUT
    )


class TimedConversation:
    """A ConversationPort around the real core, timing `handle` (asyncio.to_thread carries the meter along)."""

    def __init__(self, inner: Conversation) -> None:
        self.inner = inner

    def handle(self, inbound: Inbound) -> Outcome:
        meter = METER.get()
        start = time.perf_counter()
        try:
            return self.inner.handle(inbound)
        finally:
            if meter is not None:
                meter.core += time.perf_counter() - start


class FixedKnowledge:
    """The seam for "search excluded": every question gets the same search result and answer; passages from memory."""

    def __init__(self, result: SearchResult, answer: MobileAnswer, passages: dict[str, Passage]) -> None:
        self.result, self.fixed_answer, self.passages = result, answer, passages

    def search(self, question: str, *, k: int, collections: Sequence[str] | None = None) -> SearchResult:
        return self.result

    def answer(self, result: SearchResult) -> MobileAnswer:
        return self.fixed_answer

    def passage(self, chunk_id: str) -> Passage | None:
        return self.passages.get(chunk_id)


def update_key(update: object) -> str:
    if isinstance(update, Update) and update.callback_query is not None:
        return f"cb:{update.callback_query.id}"
    return f"u:{getattr(update, 'update_id', '?')}"


class Recorder:
    """Wraps handler callbacks; hands each finished update's meter to the simulated user (another thread)."""

    def __init__(self) -> None:
        self._done: dict[str, Meter] = {}
        self._cond = threading.Condition()

    def instrument(self, application: Application) -> None:  # type: ignore[type-arg]
        for handlers in application.handlers.values():
            for handler in handlers:
                handler.callback = self._wrap(handler.callback)

    def _wrap(self, callback: Callable[..., Awaitable[Any]]) -> Callable[..., Coroutine[Any, Any, Any]]:
        async def timed(update: object, context: ContextTypes.DEFAULT_TYPE) -> Any:
            meter = Meter()
            token = METER.set(meter)
            start = time.perf_counter()
            try:
                return await callback(update, context)
            finally:
                meter.handler = time.perf_counter() - start
                METER.reset(token)
                with self._cond:
                    self._done[update_key(update)] = meter
                    self._cond.notify_all()

        return timed

    def wait(self, key: str, timeout: float) -> Meter:
        deadline = time.monotonic() + timeout
        with self._cond:
            while key not in self._done:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(f"the bot did not finish update {key} within {timeout:g} s")
                self._cond.wait(remaining)
            return self._done.pop(key)


# ── the simulated users ──────────────────────────────────────────────────────────────────────────────────────


@dataclass
class Sample:
    kind: str
    handler_ms: float
    api_ms: float
    api_calls: int
    core_ms: float
    e2e_ms: float | None

    @property
    def own_ms(self) -> float:
        return self.handler_ms - self.api_ms


@dataclass
class Step:
    kind: str  # question | open_source | rate | command | register | press_level
    user: SimUser
    text: str = ""  # what the user types
    button: str = ""  # the label of the button pressed (on the user's newest message with buttons)


class BenchError(RuntimeError):
    pass


class SimulatedUsers:
    """Plays the users in their own thread with the emulator's synchronous client (one keep-alive connection)."""

    def __init__(self, emulator: BotApiEmulator, recorder: Recorder, *, echo: bool) -> None:
        self.emulator = emulator
        self.recorder = recorder
        self.echo = echo
        self.last_with_buttons: dict[int, BotMessage] = {}
        self.seq = 0
        self.unanswered = 0
        self._http = httpx.Client(base_url=emulator.client_url, timeout=10.0, trust_env=False)

    def close(self) -> None:
        self._http.close()

    def run(self, steps: Sequence[Step], *, rate: float, deadline: float) -> list[Sample]:
        samples: list[Sample] = []
        interval = 1.0 / rate if rate > 0 else 0.0
        next_at = time.monotonic()
        for step in steps:  # bounded: one pass over the script, each step bounded by UPDATE_TIMEOUT
            if time.monotonic() > deadline:
                raise BenchError(f"time budget exhausted after {len(samples)} of {len(steps)} updates")
            pause = next_at - time.monotonic()
            if pause > 0:
                time.sleep(pause)
            next_at = time.monotonic() + interval
            samples.append(self.step(step))
        return samples

    def step(self, step: Step) -> Sample:
        sent_at = time.time()
        if step.kind in {"open_source", "rate", "press_level"}:
            key = "cb:" + self._press(step)
        else:
            key = f"u:{self.emulator.send_text(step.text, user=step.user)['update_id']}"
        meter = self.recorder.wait(key, UPDATE_TIMEOUT)
        calls = self.emulator.calls(since=self.seq)
        if calls:
            self.seq = max(c.seq for c in calls)
        e2e = _e2e_ms(calls, sent_at)
        new = self.emulator.replies(step.user)  # what reached the user's chat, each message once
        for message in new:
            if message.buttons:
                self.last_with_buttons[step.user.id] = message
        if e2e is None:
            self.unanswered += 1
        return Sample(step.kind, meter.handler * 1e3, meter.api * 1e3, meter.api_calls, meter.core * 1e3, e2e)

    def _press(self, step: Step) -> str:
        message = self.last_with_buttons.get(step.user.id)
        if message is None:
            raise BenchError(f"user {step.user.id} has no message with buttons to press {step.button!r} on")
        wanted = [b for b in message.buttons if self.echo or b.get("text") == step.button]
        if not wanted or "callback_data" not in wanted[0]:
            raise BenchError(f"no button {step.button!r} on message {message.message_id}: {message.buttons}")
        # The emulator's documented client route (tests/e2e/README.md): it fills in the message the button is on.
        payload = {
            "botToken": self.emulator.token,
            "from": step.user.as_from(),
            "data": wanted[0]["callback_data"],
            "chat_instance": f"bench-{step.user.chat_id}",
            "date": int(time.time()),
            "message": {"chat": {"id": message.chat_id, "type": "private"}, "message_id": message.message_id},
        }
        response = self._http.post("/sendCallback", json=payload)
        body = response.json() if response.status_code == 200 else {}
        if not body.get("ok", True) or not isinstance(body.get("result"), dict):
            raise BenchError(f"/sendCallback: HTTP {response.status_code} {response.text[:300]}")
        return str(body["result"]["callback_query_id"])


def _e2e_ms(calls: list[BotCall], sent_at: float) -> float | None:
    replies = [c.time for c in calls if c.method in REPLY_METHODS]
    return (max(replies) - sent_at) * 1e3 if replies else None


def make_users(count: int, first_id: int) -> list[SimUser]:
    return [
        SimUser(id=first_id + i, first_name=chinese_name(i + 1), username=f"bench{first_id + i}") for i in range(count)
    ]


def registration_steps(users: Sequence[SimUser], prefix: str) -> list[Step]:
    steps: list[Step] = []
    for i, user in enumerate(users, start=1):
        for text in ("/start", user.first_name, f"{prefix}{i:04d}", "西宁分公司"):
            steps.append(Step("register", user, text=text))
        steps.append(Step("press_level", user, button="中级"))
    return steps


def script(count: int, users: Sequence[SimUser], questions: Sequence[str], *, offset: int = 0) -> list[Step]:
    """`count` steps of rounds (question, 📖 原文1, 👍, question, command), one user per round, in turn."""
    steps: list[Step] = []
    q = offset
    for n in range(count):
        position, round_no = n % len(ROUND), (n // len(ROUND)) + offset
        user = users[round_no % len(users)]
        kind = ROUND[position]
        if kind == "question":
            steps.append(Step(kind, user, text=questions[q % len(questions)]))
            q += 1
        elif kind == "open_source":
            steps.append(Step(kind, user, button=texts.BUTTON_OPEN_SOURCE.format(number=1)))
        elif kind == "rate":
            steps.append(Step(kind, user, button=texts.BUTTON_UP))
        else:
            steps.append(Step(kind, user, text="/help" if round_no % 2 == 0 else "/whoami"))
    return steps


# ── the applications ─────────────────────────────────────────────────────────────────────────────────────────


def build_echo(emulator: BotApiEmulator) -> Application:  # type: ignore[type-arg]
    """The framework's floor: bare PTB, one echo with a button, one callback answer."""
    application = (
        ApplicationBuilder()
        .token(emulator.token)
        .base_url(emulator.base_url)
        .base_file_url(emulator.base_file_url)
        .request(timed_request())
        .get_updates_request(polling_request())
        .build()
    )
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("再来一次", callback_data="again")]])

    async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        assert message is not None and message.text is not None
        await message.reply_text(message.text, reply_markup=keyboard)

    async def on_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.callback_query is not None
        await update.callback_query.answer()

    application.add_handler(MessageHandler(filters.TEXT, echo))
    application.add_handler(CallbackQueryHandler(on_button))
    return application


def bench_settings(data_dir: Path, emulator: BotApiEmulator) -> Settings:
    settings = load_settings(data_dir=data_dir)
    return settings.model_copy(
        update={
            "storage": settings.storage.model_copy(update={"database_url": ""}),
            "vector_store": settings.vector_store.model_copy(update={"mode": "off"}),
            "answer": settings.answer.model_copy(update={"llm_enabled": False}),
            "telegram": settings.telegram.model_copy(update={"base_url": emulator.base_url}),
            "telegram_bot_token": SecretStr(emulator.token),
        }
    )


def ingest_knowledge(services: Services, scratch: Path) -> tuple[str, tuple[str, ...]]:
    """content/knowledge/<collection>/… when present, else the built-in sample; returns (description, questions)."""
    folders = [p for p in sorted(KNOWLEDGE.iterdir()) if p.is_dir()] if KNOWLEDGE.is_dir() else []
    folders = [p for p in folders if any(f.is_file() for f in p.rglob("*"))]
    questions: tuple[str, ...] = CANDIDATE_QUESTIONS
    if folders:
        where = str(KNOWLEDGE.relative_to(REPO))
    else:
        for name, text in BUILTIN_DOCS.items():
            path = scratch / "knowledge" / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
        folders = sorted(p for p in (scratch / "knowledge").iterdir() if p.is_dir())
        where, questions = "built-in sample (content/knowledge/ not found)", BUILTIN_QUESTIONS
    files = chunks = 0
    for folder in folders:
        collection = folder.name if folder.name in COLLECTIONS else "general"
        report = services.ingest_pipeline().run([folder], collection=collection)
        files += sum(1 for o in report.outcomes if o.status != "skipped")
        chunks += sum(o.chunks for o in report.outcomes)
    answerable = tuple(q for q in questions if services.ask(q).found)
    if not answerable:
        raise BenchError(f"none of the sample questions finds an answer in {where}")
    return f"{where}: {files} files, {chunks} chunks, {len(answerable)}/{len(questions)} questions answered", answerable


def fixed_knowledge(services: Services, question: str) -> FixedKnowledge:
    result = services.search.search(question, k=5)
    answer = services.answerer.answer(result)
    passages = {s.chunk_id: services.search.passage(s.chunk_id) for s in answer.sources}
    return FixedKnowledge(result, answer, {k: v for k, v in passages.items() if v is not None})


def core_conversation(services: Services, knowledge: Any) -> Conversation:
    return Conversation(
        uow=services.uow, knowledge=knowledge, learners=LearnerRepository(), interactions=InteractionRepository()
    )


# ── running a configuration ──────────────────────────────────────────────────────────────────────────────────


@dataclass
class ConfigResult:
    name: str
    label: str
    samples: list[Sample] = field(default_factory=list)
    errors: int = 0
    unanswered: int = 0
    seconds: float = 0.0


async def run_config(
    name: str,
    label: str,
    application: Application,  # type: ignore[type-arg]
    emulator: BotApiEmulator,
    *,
    warmup: Sequence[Step],
    measured: Sequence[Step],
    rate: float,
    user_thread: ThreadPoolExecutor,
) -> ConfigResult:
    recorder = Recorder()
    recorder.instrument(application)
    emulator.reset()  # no application is polling now: forget the previous configuration's chats and calls
    users = SimulatedUsers(emulator, recorder, echo=name == "echo")
    budget = 60.0 + 3 * (len(warmup) + len(measured)) * max(1.0 / rate if rate > 0 else 0.0, 0.05)
    loop = asyncio.get_running_loop()
    result = ConfigResult(name, label)
    started = time.monotonic()
    print(f"  {name:<9} {label}: {len(warmup)} warm-up + {len(measured)} measured updates …", flush=True)
    try:
        async with asyncio.timeout(budget + 30), running_application(application, raise_errors=False) as errors:
            deadline = time.monotonic() + budget
            await loop.run_in_executor(user_thread, lambda: users.run(warmup, rate=rate, deadline=deadline))
            users.unanswered = 0
            result.samples = await loop.run_in_executor(
                user_thread, lambda: users.run(measured, rate=rate, deadline=deadline)
            )
            result.errors = len(errors)
    finally:
        users.close()
    result.unanswered = users.unanswered
    result.seconds = time.monotonic() - started
    return result


# ── statistics and output ────────────────────────────────────────────────────────────────────────────────────


def percentile(sorted_values: Sequence[float], q: float) -> float:
    if not sorted_values:
        return float("nan")
    position = (len(sorted_values) - 1) * q
    low = int(position)
    high = min(low + 1, len(sorted_values) - 1)
    return sorted_values[low] + (sorted_values[high] - sorted_values[low]) * (position - low)


def summary(values: Sequence[float | None]) -> dict[str, float]:
    data = sorted(v for v in values if v is not None)
    if not data:
        return {"n": 0, "p50": float("nan"), "p95": float("nan"), "max": float("nan"), "mean": float("nan")}
    return {
        "n": len(data),
        "p50": percentile(data, 0.50),
        "p95": percentile(data, 0.95),
        "max": data[-1],
        "mean": sum(data) / len(data),
    }


METRICS: dict[str, Callable[[Sample], float | None]] = {
    "handler": lambda s: s.handler_ms,
    "bot_api": lambda s: s.api_ms,
    "own": lambda s: s.own_ms,
    "core": lambda s: s.core_ms,
    "channel": lambda s: s.own_ms - s.core_ms,
    "e2e": lambda s: s.e2e_ms,
}


def summarise(result: ConfigResult) -> dict[str, dict[str, dict[str, float]]]:
    groups: dict[str, list[Sample]] = {"all": result.samples}
    for kind in KINDS:
        groups[kind] = [s for s in result.samples if s.kind == kind]
    return {
        group: {metric: summary([get(s) for s in samples]) for metric, get in METRICS.items()}
        for group, samples in groups.items()
        if samples
    }


def _f(value: float) -> str:
    if value != value:  # nan
        return "–"
    return f"{value:.2f}" if value < 10 else f"{value:.1f}" if value < 100 else f"{value:.0f}"


def _ratio(value: float, base: float) -> str:
    return "–" if not base or base != base or value != value else f"{value / base:.1f}×"


# (metric, statistic, heading) — one column each; "×echo" columns divide by the echo's same kind.
COLUMNS = (
    ("handler", "p50", "handler p50"),
    ("handler", "p95", "p95"),
    ("bot_api", "p50", "bot api p50"),
    ("bot_api", "p95", "p95"),
    ("own", "p50", "own p50"),
    ("own", "p95", "p95"),
    ("own", "max", "max"),
    ("core", "p50", "core p50"),
    ("core", "p95", "p95"),
    ("channel", "p50", "channel p50"),
    ("channel", "p95", "p95"),
    ("e2e", "p50", "e2e p50"),
    ("e2e", "p95", "p95"),
)
RATIO_COLUMNS = (("handler", "p50", "×echo handler p50"), ("own", "p50", "×echo own p50"), ("own", "p95", "p95"))
CORE_METRICS = {"core", "channel"}  # meaningless for the echo, which has no core


def _row(cells: Sequence[str], columns: Sequence[tuple[str, str, str]]) -> str:
    """Cells right-aligned to their headings, a │ wherever the metric changes."""
    out, previous = [], None
    for cell, (metric, _, heading) in zip(cells, columns, strict=True):
        if previous is not None and metric != previous:
            out.append("│")
        out.append(f"{cell:>{max(len(heading), 6)}}")
        previous = metric
    return " ".join(out)


def print_table(stats: dict[str, dict[str, dict[str, dict[str, float]]]], labels: dict[str, str]) -> None:
    header = f"{'config':<9} {'kind':<11} {'n':>4} │ {_row([h for _, _, h in COLUMNS], COLUMNS)}"
    header += f" ║ {_row([h for _, _, h in RATIO_COLUMNS], RATIO_COLUMNS)}"
    print(
        "\nPer update, ms. handler = bot api + own; own = core + channel; e2e (send → reply at the emulator): context."
    )
    print(header)
    print("─" * len(header))
    echo = stats.get("echo", {})
    for name, groups in stats.items():
        for group, m in groups.items():
            cells = [
                "–" if name == "echo" and metric in CORE_METRICS else _f(m[metric][stat]) for metric, stat, _ in COLUMNS
            ]
            ratios = [
                "" if name == "echo" else _ratio(m[metric][stat], echo.get(group, {}).get(metric, {}).get(stat, 0.0))
                for metric, stat, _ in RATIO_COLUMNS
            ]
            print(
                f"{name:<9} {group:<11} {m['handler']['n']:>4} │ {_row(cells, COLUMNS)} ║ {_row(ratios, RATIO_COLUMNS)}"
            )
        print()
    for name, label in labels.items():
        print(f"  {name:<9} = {label}")


def verdict(stats: dict[str, dict[str, dict[str, dict[str, float]]]]) -> list[str]:
    lines = []
    for name in ("excluded", "included"):
        if name not in stats:
            continue
        own, handler = stats[name]["all"]["own"], stats[name]["all"]["handler"]
        channel = stats[name]["all"]["channel"]
        echo_own = stats.get("echo", {}).get("all", {}).get("own", {})
        met = "met" if own["p95"] < GOAL_OWN_MS else "NOT met"
        lines.append(
            f"{name:<9} own p50 {_f(own['p50'])} ms, p95 {_f(own['p95'])} ms → aim < {GOAL_OWN_MS:g} ms at p95 {met} "
            f"({_ratio(own['p50'], echo_own.get('p50', 0.0))} the echo's at p50); of it the channel "
            f"(own − core) p50 {_f(channel['p50'])} ms, p95 {_f(channel['p95'])} ms"
        )
        capacity = 1000.0 / handler["mean"] if handler["mean"] else float("inf")
        lines.append(
            f"{'':<9} handler mean {_f(handler['mean'])} ms → ≈{capacity:,.0f} updates/s handled one at a time "
            f"(Telegram lets a bot send ~{TELEGRAM_MSGS_PER_S} msgs/s)"
        )
    if "excluded" in stats and "included" in stats:
        q_ex, q_in = stats["excluded"].get("question", {}), stats["included"].get("question", {})
        if q_ex and q_in:
            lines.append(
                f"the real search adds {_f(q_in['core']['p50'] - q_ex['core']['p50'])} ms at p50 to a question's core "
                f"time ({_f(q_ex['core']['p50'])} → {_f(q_in['core']['p50'])} ms)"
            )
    return lines


# ── main ─────────────────────────────────────────────────────────────────────────────────────────────────────


async def bench(args: argparse.Namespace, emulator: BotApiEmulator, scratch: Path) -> dict[str, Any]:
    settings = bench_settings(scratch / "data", emulator)
    services = Services(settings)
    knowledge_note, questions = ingest_knowledge(services, scratch)
    print(f"  knowledge: {knowledge_note}", flush=True)
    labels = {
        "echo": "bare PTB echo handler (the framework's floor)",
        "excluded": "our bot, search excluded (fixed KnowledgeLookup)",
        "included": "our bot, search included (real lexical search)",
    }
    results: dict[str, ConfigResult] = {}
    user_thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="simulated-user")
    try:
        users = make_users(args.users, 50_000)
        results["echo"] = await run_config(
            "echo",
            labels["echo"],
            build_echo(emulator),
            emulator,
            warmup=script(args.warmup, users, questions),
            measured=script(args.updates, users, questions, offset=args.warmup),
            rate=args.rate,
            user_thread=user_thread,
        )
        for number, name in enumerate(("excluded", "included"), start=1):
            users = make_users(args.users, 60_000 + 1_000 * number)
            knowledge = (
                fixed_knowledge(services, questions[0]) if name == "excluded" else services.conversation.knowledge
            )
            conversation = TimedConversation(core_conversation(services, knowledge))
            application = build_application(
                services=services,
                settings=settings,
                request=timed_request(),
                updater_request=polling_request(),
                conversation=conversation,
            )
            results[name] = await run_config(
                name,
                labels[name],
                application,
                emulator,
                warmup=registration_steps(users, f"B{number}") + script(args.warmup, users, questions),
                measured=script(args.updates, users, questions, offset=args.warmup),
                rate=args.rate,
                user_thread=user_thread,
            )
    finally:
        user_thread.shutdown(wait=True, cancel_futures=True)
        with contextlib.suppress(Exception):
            services.engine.dispose()
    stats = {name: summarise(result) for name, result in results.items()}
    print_table(stats, labels)
    for name, result in results.items():
        if result.errors or result.unanswered:
            print(f"  ! {name}: {result.errors} handler error(s), {result.unanswered} update(s) without a reply call")
    print()
    lines = verdict(stats)
    for line in lines:
        print(f"  {line}")
    return {
        "knowledge": knowledge_note,
        "configs": {
            name: {
                "label": labels[name],
                "errors": result.errors,
                "unanswered": result.unanswered,
                "seconds": round(result.seconds, 2),
                "stats_ms": stats[name],
            }
            for name, result in results.items()
        },
        "verdict": lines,
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--updates", type=int, default=300, help="measured updates per configuration (default 300)")
    parser.add_argument("--warmup", type=int, default=20, help="unmeasured updates first (default 20)")
    parser.add_argument("--rate", type=float, default=10.0, help="at most this many updates per second (default 10)")
    parser.add_argument("--users", type=int, default=5, help="simulated users, one round each in turn (default 5)")
    parser.add_argument("--json", type=Path, help="write every number to this file")
    args = parser.parse_args(argv)
    if args.updates < 1 or args.users < 1 or args.warmup < 0 or args.rate <= 0:
        parser.error("--updates and --users must be ≥ 1, --warmup ≥ 0, --rate > 0")
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    if not emulator_installed():
        print("the Bot API emulator is not installed: cd tests/e2e && npm ci", file=sys.stderr)
        return 2
    load_before = os.getloadavg()
    started = time.monotonic()
    print(
        f"telegram_bench: {args.updates} updates × 3 configurations, ≤ {args.rate:g} updates/s, {args.users} users; "
        f"python-telegram-bot {telegram.__version__}, Python {platform.python_version()}, {os.cpu_count()} CPUs, "
        f"load average {load_before[0]:.2f}",
        flush=True,
    )
    try:
        with tempfile.TemporaryDirectory(prefix="telegram-bench-") as tmp, BotApiEmulator(install=False) as emulator:
            print(f"  emulator: node pid {emulator.pid} on {emulator.client_url}", flush=True)
            report = asyncio.run(bench(args, emulator, Path(tmp)))
    except EmulatorUnavailable as exc:
        print(f"the Bot API emulator is unavailable: {exc}", file=sys.stderr)
        return 2
    load_after = os.getloadavg()
    elapsed = time.monotonic() - started
    print(f"  load average {load_before[0]:.2f} → {load_after[0]:.2f}; {elapsed:.0f} s in all")
    if args.json:
        report["meta"] = {
            "updates": args.updates,
            "warmup": args.warmup,
            "rate_per_s": args.rate,
            "users": args.users,
            "ptb": telegram.__version__,
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "loadavg_before": load_before,
            "loadavg_after": load_after,
            "seconds": round(elapsed, 1),
            "goal_own_ms": GOAL_OWN_MS,
        }
        args.json.write_text(json.dumps(report, ensure_ascii=False, indent=2), encoding="utf-8")
        print(f"  wrote {args.json}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
