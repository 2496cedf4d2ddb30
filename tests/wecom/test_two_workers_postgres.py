"""Two WeCom workers (two sets of services, two engines) on one PostgreSQL database, as compose runs them: one
access token for both, a callback WeCom re-sends to the other worker changes and sends nothing, and a send that
broke on one worker is finished by the other's sweeper. Skipped when no PostgreSQL server answers."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from app.composition import Services
from app.settings import Settings
from bot.core import texts
from storage.models import AskedQuestion
from tests.support.postgres import PostgresUnavailable, create_scratch_database, drop_database
from tests.telegram.conftest import PROCESS_DOC
from tests.wecom.conftest import WeComWorker, start_wecom_worker
from tests.wecom.emulator import WeComEmulator

pytestmark = pytest.mark.postgres
QUESTION = "投诉处理流程里多久回访客户?"


@pytest.fixture
async def two_workers(lexical_settings: Settings, tmp_path: Path) -> AsyncIterator[tuple[WeComWorker, WeComWorker]]:
    try:
        name, url = create_scratch_database("coach_wecom_test")
    except PostgresUnavailable as exc:
        pytest.skip(str(exc))
    storage = lexical_settings.storage.model_copy(update={"database_url": url})
    services = [Services(lexical_settings.model_copy(update={"storage": storage})) for _ in range(2)]
    doc = tmp_path / "docs" / "投诉处理流程.md"
    doc.parent.mkdir()
    doc.write_text(PROCESS_DOC, encoding="utf-8")
    services[0].ingest_pipeline().run([doc], collection="processes")
    emu = WeComEmulator()
    workers = [await start_wecom_worker(s, emu) for s in services]
    try:
        yield workers[0], workers[1]
    finally:
        for worker in workers:
            worker.stop.set()
            await asyncio.wait_for(worker.task, 30)
            await worker.http.aclose()
        await emu.stop()
        for s in services:
            s.engine.dispose()
        drop_database(name)


async def test_two_workers_share_one_token_and_a_callback_handled_by_one_is_not_repeated_by_the_other(
    two_workers: tuple[WeComWorker, WeComWorker],
):
    a, b = two_workers
    emu = a.emu
    assert [s.text for s in await a.say("wangxl", "/start")] == [texts.WELCOME_NEW]
    assert [s.text for s in await b.say("lisi", "/start")] == [texts.WELCOME_NEW]
    assert emu.fetches() == 1  # b read the token a fetched
    await a.register("wangxl", "A1001")
    fields = emu.text_fields("wangxl", QUESTION)
    query, body = emu.envelope(fields)
    first = await emu.post(query, body, url=a.url)
    await a.settle()
    sent = len(emu.sent)
    retried = await emu.post(query, body, url=b.url)  # WeCom's retry reached the other worker
    await b.settle()
    assert (first.text, retried.text) == ("success", "success") and len(emu.sent) == sent
    with a.app.delivery.uow.read() as session:
        assert session.scalar(select(func.count()).select_from(AskedQuestion)) == 1


async def test_a_send_that_broke_on_one_worker_is_finished_by_the_other(two_workers: tuple[WeComWorker, WeComWorker]):
    a, b = two_workers
    emu = a.emu
    await a.register("wangxl", "A1001")
    b.app.delivery.sweep_grace = timedelta(0)
    emu.fail_next("message/send", "ok", "drop")
    before = len(emu.sent)
    await a.say("wangxl", QUESTION)
    assert [s.msgtype for s in emu.sent[before:]] == ["text"]
    assert await b.app.delivery.sweep() == 1
    assert [s.msgtype for s in emu.sent[before:]] == ["text", "template_card"]
    assert await a.app.delivery.sweep() == 0 and len(emu.sent) == before + 2
