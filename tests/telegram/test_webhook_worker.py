"""The webhook worker over real HTTP: the real PTB application and core, the offline Bot API, httpx as Telegram."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from pydantic import SecretStr
from sqlalchemy import func, select
from telegram.error import NetworkError

from app.composition import Services
from bot.channels.telegram import application as telegram_app
from bot.channels.telegram.application import build_application, run_webhook_worker
from bot.channels.telegram.handlers import RetryPolicy
from bot.channels.telegram.webhook_server import SECRET_HEADER
from bot.core import texts
from bot.core.messages import Inbound, Outcome, TextReply
from storage.models import ProcessedUpdate
from tests.telegram.conftest import ALICE, FakeBotApi, OfflineRequest, Updates

SECRET = "hook-Secret_42-Zq8vLrT0"
WEBHOOK_URL = "https://coach.example.com/tg/hook"


@dataclass
class Worker:
    base: str
    api: FakeBotApi
    updates: Updates
    stop: asyncio.Event
    task: asyncio.Task[None]
    http: httpx.AsyncClient

    async def post(self, payload: Any, *, secret: str | None = SECRET) -> httpx.Response:
        headers = {SECRET_HEADER: secret} if secret is not None else {}
        return await self.http.post(f"{self.base}/tg/hook", json=payload, headers=headers)

    async def say(self, text: str, *, update_id: int) -> httpx.Response:
        return await self.post(self.updates.text(ALICE, text, update_id=update_id).to_dict())


class GatedConversation:
    """Our own seam: holds each update until the test opens the gate (to catch the worker mid-update)."""

    def __init__(self) -> None:
        self.entered = threading.Event()
        self.gate = threading.Event()

    def handle(self, inbound: Inbound) -> Outcome:
        self.entered.set()
        assert self.gate.wait(10)
        return Outcome((TextReply("处理完了"),))


async def start_worker(services: Services, monkeypatch: pytest.MonkeyPatch, **kw: Any) -> Worker:
    tg = services.settings.telegram.model_copy(  # port 0 (any free port): model_copy does not re-validate
        update={"mode": "webhook", "webhook_url": WEBHOOK_URL, "webhook_port": 0, "drain_seconds": 5.0}
    )
    settings = services.settings.model_copy(update={"telegram": tg, "telegram_webhook_secret": SecretStr(SECRET)})
    api = FakeBotApi()
    app = build_application(
        services=services,
        settings=settings,
        request=OfflineRequest(api),
        updater_request=OfflineRequest(api),
        retry=RetryPolicy(attempts=1, backoff_seconds=0),
        **kw,
    )
    listening: asyncio.Future[int] = asyncio.get_running_loop().create_future()
    stop = asyncio.Event()
    task = asyncio.create_task(
        run_webhook_worker(app, services, settings, stop=stop, on_listening=listening.set_result)
    )
    port = await asyncio.wait_for(listening, 30)
    http = httpx.AsyncClient(timeout=30)
    base = f"http://127.0.0.1:{port}"
    for _ in range(300):  # warm-up (schema, index) then ready
        if (await http.get(f"{base}/readyz")).status_code == 200:
            break
        await asyncio.sleep(0.05)
    return Worker(base, api, Updates(app), stop, task, http)


@pytest.fixture
async def worker(services: Services, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Worker]:
    w = await start_worker(services, monkeypatch)
    yield w
    w.stop.set()
    await asyncio.wait_for(w.task, 30)
    await w.http.aclose()


async def test_ready_worker_reports_its_checks_and_registered_the_webhook(worker: Worker):
    health = await worker.http.get(f"{worker.base}/healthz")
    assert health.status_code == 200 and health.json()["status"] == "ok"
    ready = (await worker.http.get(f"{worker.base}/readyz")).json()
    assert ready["ready"] is True
    assert {c["name"]: c["ok"] for c in ready["checks"]} == {
        "database": True,
        "knowledge_index": True,
        "vector_store": True,
    }
    [register] = worker.api.sent(endpoint="setWebhook")
    assert register.params["url"] == WEBHOOK_URL
    assert register.params["secret_token"] == SECRET
    assert register.params["max_connections"] == 40
    assert "setMyCommands" in worker.api.endpoints()


async def test_an_update_is_answered_before_the_http_response_returns(worker: Worker):
    response = await worker.say("/start", update_id=1)
    assert response.status_code == 200
    assert worker.api.texts(), "the reply was sent while Telegram's request was still open"


async def test_wrong_or_missing_secret_is_refused_and_nothing_happens(worker: Worker):
    before = len(worker.api.calls)
    payload = worker.updates.text(ALICE, "/start", update_id=2).to_dict()
    assert (await worker.post(payload, secret="guess")).status_code == 403
    assert (await worker.post(payload, secret=None)).status_code == 403
    assert len(worker.api.calls) == before


async def test_a_body_that_is_not_an_update_is_a_400(worker: Worker):
    bad = await worker.http.post(
        f"{worker.base}/tg/hook",
        content=b"{not json",
        headers={SECRET_HEADER: SECRET, "Content-Type": "application/json"},
    )
    assert bad.status_code == 400
    assert (await worker.post({"update_id": "x", "message": 5})).status_code == 400


async def test_a_redelivered_update_repeats_its_reply_once_more(worker: Worker):
    update = worker.updates.text(ALICE, "/start", update_id=77).to_dict()
    assert (await worker.post(update)).status_code == 200
    first = worker.api.texts()
    assert (await worker.post(update)).status_code == 200  # a re-delivery: the same reply again
    assert worker.api.texts() == first * 2


async def test_a_reply_that_cannot_be_sent_asks_telegram_to_redeliver_and_the_retry_sends_it(
    worker: Worker, services: Services
):
    worker.api.fail_next("sendMessage", NetworkError("Telegram unreachable"), NetworkError("still unreachable"))
    update = worker.updates.text(ALICE, "/start", update_id=88).to_dict()
    response = await worker.post(update)
    assert response.status_code == 502  # handled and stored, not delivered: Telegram will re-deliver
    failed = worker.api.texts()  # the attempts (the welcome, then the apology), both refused by "Telegram"
    assert failed[0] == texts.WELCOME_NEW and len(failed) == 2
    assert (await worker.post(update)).status_code == 200
    assert worker.api.texts()[len(failed) :] == [texts.WELCOME_NEW]
    with services.uow.read() as session:  # the registration began once, not twice
        assert session.scalar(select(func.count()).select_from(ProcessedUpdate)) == 1


async def test_sigterm_drains_the_update_in_progress_and_refuses_new_ones(
    services: Services, monkeypatch: pytest.MonkeyPatch
):
    gated = GatedConversation()
    w = await start_worker(services, monkeypatch, conversation=gated)
    in_progress = asyncio.create_task(w.say("你好", update_id=5))
    assert await asyncio.to_thread(gated.entered.wait, 10)

    w.stop.set()  # what SIGTERM does
    await asyncio.sleep(0.2)
    with pytest.raises(httpx.TransportError):  # the listener is closed: a proxy sends this update elsewhere
        await httpx.AsyncClient(timeout=2).get(f"{w.base}/healthz")
    assert not w.task.done()  # still draining

    gated.gate.set()
    response = await asyncio.wait_for(in_progress, 10)
    assert response.status_code == 200
    assert w.api.texts() == ["处理完了"]
    await asyncio.wait_for(w.task, 10)
    await w.http.aclose()


# --- a webhook needs its secret (issue 11, item 7) -------------------------------------------------------------


def _webhook_settings(services: Services, **telegram: Any):
    tg = services.settings.telegram.model_copy(
        update={"mode": "webhook", "webhook_url": WEBHOOK_URL, "webhook_port": 0, **telegram}
    )
    return services.settings.model_copy(update={"telegram": tg, "telegram_webhook_secret": None})


def test_webhook_mode_without_a_secret_refuses_to_start_naming_the_variable(services: Services, monkeypatch):
    monkeypatch.delenv("TELEGRAM_WEBHOOK_SECRET", raising=False)
    started: list[str] = []

    async def webhook_worker(*args: Any, **kw: Any) -> None:
        started.append("worker")

    monkeypatch.setattr(telegram_app, "run_webhook_worker", webhook_worker)
    with pytest.raises(telegram_app.TelegramSetupError, match="TELEGRAM_WEBHOOK_SECRET"):
        telegram_app.run_telegram(services, _webhook_settings(services))
    assert started == []  # refused before anything listened


async def test_without_a_secret_only_the_explicit_local_test_setting_starts_a_worker(services: Services, monkeypatch):
    monkeypatch.delenv("TELEGRAM_WEBHOOK_SECRET", raising=False)
    settings = _webhook_settings(services, allow_webhook_without_secret=True)
    assert telegram_app.webhook_options(settings)["secret_token"] is None
