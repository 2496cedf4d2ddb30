"""SIGTERM on a WeCom worker (compose stop): it stops listening, and the callback it holds is finished — answered
and its replies sent — before the worker exits."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import httpx
import pytest

from app.composition import Services
from bot.core import texts
from bot.core.messages import Inbound, Outcome
from tests.wecom.conftest import start_wecom_worker
from tests.wecom.emulator import WeComEmulator


class GatedConversation:
    """Our own seam: holds each callback in the core until the test opens the gate."""

    def __init__(self, real: Any) -> None:
        self.real = real
        self.entered = threading.Event()
        self.gate = threading.Event()

    def handle(self, inbound: Inbound) -> Outcome:
        self.entered.set()
        assert self.gate.wait(20)
        return self.real.handle(inbound)


class GatedServices:
    def __init__(self, services: Services, conversation: GatedConversation) -> None:
        self._services = services
        self.conversation = conversation

    def __getattr__(self, name: str) -> Any:
        return getattr(self._services, name)


async def test_a_stopping_worker_finishes_the_callback_it_holds_and_takes_no_new_one(wecom_services: Services):
    gated = GatedConversation(wecom_services.conversation)
    emu = WeComEmulator()
    worker = await start_wecom_worker(GatedServices(wecom_services, gated), emu)  # type: ignore[arg-type]
    try:
        query, body = emu.envelope(emu.text_fields("wangxl", "/start"))
        held = asyncio.create_task(emu.post(query, body))
        assert await asyncio.to_thread(gated.entered.wait, 20)
        worker.stop.set()  # what SIGTERM does
        await asyncio.sleep(0.3)
        draining = await worker.http.get(f"{worker.base}/readyz")  # a connection it already had
        assert draining.status_code == 503 and draining.json()["reason"] == "draining"
        async with httpx.AsyncClient(timeout=5) as fresh:
            with pytest.raises(httpx.TransportError):  # no longer listening: the proxy sends callbacks elsewhere
                await fresh.get(f"{worker.base}/readyz")
        gated.gate.set()
        response = await asyncio.wait_for(held, 20)
        await asyncio.wait_for(worker.task, 20)
        assert response.text == "success"
        assert [s.text for s in emu.to("wangxl")] == [texts.WELCOME_NEW]  # sent before the worker exited
    finally:
        gated.gate.set()
        worker.stop.set()
        await asyncio.wait_for(worker.task, 30)
        await worker.http.aclose()
        await emu.stop()
