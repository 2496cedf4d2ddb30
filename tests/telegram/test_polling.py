"""Long polling (the default mode): users side by side, each user's updates in order, and an update confirmed to
Telegram only once it was handled — the real application and poller over the offline Bot API."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from datetime import timedelta

from sqlalchemy import func, select
from telegram.error import NetworkError

from app.composition import Services
from bot.channels.telegram.application import HANDLERS_KEY, build_application, run_polling_worker
from bot.channels.telegram.handlers import RetryPolicy
from bot.core import texts
from bot.core.messages import Inbound, Outcome, TextReply
from storage.db import utc_now
from storage.interaction_repository import InteractionRepository, UpdateClaim
from storage.models import ProcessedUpdate
from tests.telegram.conftest import ALICE, BOB, FakeBotApi, OfflineRequest, Updates


class SlowForAlice:
    """Our own seam: Alice's 「慢」 holds until the test opens the gate (a heavy command); everything else is quick."""

    def __init__(self) -> None:
        self.gate = threading.Event()
        self.handled: list[str] = []

    def handle(self, inbound: Inbound) -> Outcome:
        if inbound.text == "慢":
            assert self.gate.wait(20)
        self.handled.append(f"{inbound.user.external_id}:{inbound.text}")
        return Outcome((TextReply(f"回复:{inbound.text}"),))


async def until(condition: Callable[[], bool], timeout: float = 15) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.02)


async def test_users_are_handled_side_by_side_in_order_and_only_finished_updates_are_confirmed(services: Services):
    api, core = FakeBotApi(), SlowForAlice()
    app = build_application(
        services=services,
        settings=services.settings,
        request=OfflineRequest(api),
        updater_request=OfflineRequest(api),
        conversation=core,
        retry=RetryPolicy(attempts=1, backoff_seconds=0),
    )
    updates, stop = Updates(app), asyncio.Event()
    worker = asyncio.create_task(run_polling_worker(app, services, services.settings, stop=stop))
    try:
        api.deliver(updates.text(ALICE, "慢", update_id=10))
        api.deliver(updates.text(ALICE, "第二", update_id=11))
        api.deliver(updates.text(BOB, "/help", update_id=12))

        await until(lambda: "回复:/help" in api.texts())  # Bob is not held up by Alice's heavy command
        assert core.handled == ["1002:/help"]  # Alice's second message waits for her first
        assert max(api.offsets) <= 10  # nothing confirmed past the update still in progress

        core.gate.set()
        await until(lambda: "回复:第二" in api.texts())
        assert api.texts() == ["回复:/help", "回复:慢", "回复:第二"]
        await until(lambda: max(api.offsets) == 13)  # all three handled: now confirmed
    finally:
        core.gate.set()
        stop.set()
        await asyncio.wait_for(worker, 30)
    assert api.inbox == []


async def test_a_reply_telegram_refused_is_sent_again_and_nothing_stays_undelivered(services: Services):
    """In polling mode nothing asked for the undelivered update ids, so the set only grew and the reply was lost."""
    api = FakeBotApi()
    app = build_application(
        services=services,
        settings=services.settings,
        request=OfflineRequest(api),
        updater_request=OfflineRequest(api),
        retry=RetryPolicy(attempts=1, backoff_seconds=0),
    )
    api.fail_next("sendMessage", NetworkError("Telegram unreachable"), NetworkError("still unreachable"))
    updates, stop = Updates(app), asyncio.Event()
    worker = asyncio.create_task(run_polling_worker(app, services, services.settings, stop=stop))
    try:
        api.deliver(updates.text(ALICE, "/start", update_id=20))
        await until(lambda: len(api.texts()) >= 3, timeout=20)  # the welcome, the apology (both refused), again
        await until(lambda: max(api.offsets) == 21)
    finally:
        stop.set()
        await asyncio.wait_for(worker, 30)
    assert api.texts()[0] == texts.WELCOME_NEW and api.texts()[-1] == texts.WELCOME_NEW
    assert app.bot_data[HANDLERS_KEY].undelivered == set()


async def test_a_running_bot_prunes_old_update_claims_and_buttons_on_its_own(services: Services):
    """`coach db prune` was the only way to forget processed updates and buttons, so both tables grew for ever."""
    old = utc_now() - timedelta(days=40)
    claim = UpdateClaim(channel="telegram", bot_id="7000000001", update_id="1", digest="d", sender="1001", chat="1001")
    with services.uow.begin() as session:
        InteractionRepository().claim_update(session, claim, now=old)
    api = FakeBotApi()
    app = build_application(
        services=services, settings=services.settings, request=OfflineRequest(api), updater_request=OfflineRequest(api)
    )
    stop = asyncio.Event()
    worker = asyncio.create_task(run_polling_worker(app, services, services.settings, stop=stop))

    def remaining() -> int:
        with services.uow.read() as session:
            return session.scalar(select(func.count()).select_from(ProcessedUpdate)) or 0

    try:
        await until(lambda: remaining() == 0, timeout=20)
    finally:
        stop.set()
        await asyncio.wait_for(worker, 30)
