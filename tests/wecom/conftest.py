"""The WeCom channel end to end: the real worker (callback server, API client, delivery, the core on SQLite)
against the local WeCom emulator, over real HTTP."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from app.composition import Services
from app.settings import Settings
from bot.channels.wecom.callback_server import WeComApp
from bot.channels.wecom.worker import run_wecom_worker
from tests.telegram.conftest import PROCESS_DOC
from tests.wecom.emulator import AES_KEY, AGENT_ID, CORP_ID, SECRET, TOKEN, Sent, WeComEmulator

PATH = "/wecom/callback"


def wecom_settings(settings: Settings, *, base_url: str, **wecom: Any) -> Settings:
    w = settings.wecom.model_copy(
        update={
            "corp_id": CORP_ID,
            "agent_id": AGENT_ID,
            "base_url": base_url,
            "port": 0,
            "drain_seconds": 5.0,
            **wecom,
        }
    )
    return settings.model_copy(
        update={
            "wecom": w,
            "wecom_token": SecretStr(TOKEN),
            "wecom_encoding_aes_key": SecretStr(AES_KEY),
            "wecom_secret": SecretStr(SECRET),
        }
    )


@pytest.fixture
def wecom_services(lexical_settings: Settings, tmp_path: Path) -> Services:
    """Real services (SQLite, lexical index) with one small process manual ingested."""
    services = Services(lexical_settings)
    doc = tmp_path / "docs" / "投诉处理流程.md"
    doc.parent.mkdir()
    doc.write_text(PROCESS_DOC, encoding="utf-8")
    services.ingest_pipeline().run([doc], collection="processes")
    return services


@dataclass
class WeComWorker:
    emu: WeComEmulator
    app: WeComApp
    base: str
    stop: asyncio.Event
    task: asyncio.Task[None]
    http: httpx.AsyncClient
    url: str = ""  # this worker's callback URL

    async def settle(self) -> None:
        """Wait until the worker holds no callback (its replies are sent once the callback was answered)."""
        for _ in range(600):
            health = (await self.http.get(f"{self.base}/healthz")).json()
            if health["in_flight"] == 0:
                return
            await asyncio.sleep(0.02)
        raise AssertionError("the worker did not finish its callbacks")

    async def deliver(self, fields: dict[str, Any], **kw: Any) -> httpx.Response:
        query, body = self.emu.envelope(fields, **kw)
        response = await self.emu.post(query, body, url=self.url)
        await self.settle()
        return response

    async def say(self, user: str, text: str, **kw: Any) -> list[Sent]:
        start = len(self.emu.sent)
        response = await self.deliver(self.emu.text_fields(user, text, **kw))
        assert response.status_code == 200 and response.text == "success", response.text
        return [s for s in self.emu.sent[start:] if s.touser == user]

    async def press(self, user: str, key: str) -> list[Sent]:
        start = len(self.emu.sent)
        response = await self.deliver(self.emu.click_fields(user, key))
        assert response.status_code == 200 and response.text == "success", response.text
        return [s for s in self.emu.sent[start:] if s.touser == user]

    async def send_file(self, user: str, filename: str, data: bytes) -> list[Sent]:
        start = len(self.emu.sent)
        response = await self.deliver(self.emu.file_fields(user, filename, data))
        assert response.status_code == 200, response.text
        return [s for s in self.emu.sent[start:] if s.touser == user]

    async def register(self, user: str, employee_no: str, name: str = "王小丽") -> None:
        for text in ("/start", name, employee_no, "西宁分公司"):
            await self.say(user, text)
        [*_, card] = [s for s in self.emu.to(user) if s.msgtype == "template_card"]
        sent = await self.press(user, card.buttons["中级"])
        assert any("登记完成" in s.text for s in sent), sent


async def start_wecom_worker(services: Services, emu: WeComEmulator, **wecom: Any) -> WeComWorker:
    base_url = emu.start()
    settings = wecom_settings(services.settings, base_url=base_url, **wecom)
    listening: asyncio.Future[int] = asyncio.get_running_loop().create_future()
    built: list[WeComApp] = []
    stop = asyncio.Event()
    task = asyncio.create_task(
        run_wecom_worker(services, settings, stop=stop, on_listening=listening.set_result, on_app=built.append)
    )
    port = await asyncio.wait_for(listening, 30)
    base = f"http://127.0.0.1:{port}"
    emu.worker_url = base + PATH
    http = httpx.AsyncClient(timeout=30)
    for _ in range(600):
        if (await http.get(f"{base}/readyz")).status_code == 200:
            break
        await asyncio.sleep(0.05)
    return WeComWorker(emu, built[0], base, stop, task, http, url=base + PATH)


@pytest.fixture
async def wecom(wecom_services: Services) -> AsyncIterator[WeComWorker]:
    emu = WeComEmulator()
    worker = await start_wecom_worker(wecom_services, emu)
    worker.app.api.rate_backoff = (0.01, 0.01)
    yield worker
    worker.stop.set()
    await asyncio.wait_for(worker.task, 30)
    await worker.http.aclose()
    await emu.stop()
