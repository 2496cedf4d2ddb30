"""What runs when `coach run` starts: the channel (`app.channel`, or chosen from the secrets present) and, for a
worker of any channel, the services behind it — warm-up, readiness, and the background loops every worker runs
(`keep_search_current`, `keep_tables_pruned`) under `bot.channels.worker.tasks.SupervisedTasks`.

Channels never import this module: they are handed a `ServicesWorker` (`Services.worker`) as their `WorkerHooks`.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from collections.abc import Callable, Sequence
from datetime import timedelta
from typing import TYPE_CHECKING

from app.settings import Settings
from storage.db import utc_now
from storage.faults import log_retry
from storage.interaction_repository import InteractionRepository

if TYPE_CHECKING:
    from app.composition import Services
    from app.health import Readiness
    from bot.channels.worker.tasks import LoopFactory
    from bot.core.delivery import ReplySender
    from bot.core.messages import Reply

log = logging.getLogger(__name__)
PRUNE_EVERY_SECONDS = 6 * 3600.0  # workers forget old processed updates and buttons this often
PRUNE_AFTER_DAYS = 30  # as `coach db prune`'s default; channels re-deliver for a day at most


class ServicesWorker:
    """`bot.channels.worker.lifecycle.WorkerHooks` over the services of this process."""

    def __init__(self, services: Services) -> None:
        self.services = services

    def warm_up(self) -> None:
        self.services.warm_up()

    def readiness(self) -> Readiness:
        from app.health import readiness

        return readiness(self.services)

    def background(self) -> Sequence[tuple[str, LoopFactory]]:
        services, every = self.services, refresh_interval(self.services.settings)
        return (
            ("keep_search_current", lambda: keep_search_current(services, every)),
            ("keep_tables_pruned", lambda: keep_tables_pruned(services)),
        )

    def outbox_loops(self, sender: ReplySender) -> Sequence[tuple[str, LoopFactory]]:
        """Plan due reminders and send this channel's share of the outbox (bot/core/reminder_loop.py)."""
        from bot.core.reminder_loop import run_reminders

        r = self.services.settings.reminders
        if not r.enabled:
            return ()
        services = self.services
        drainer = services.outbox_drainer(sender, worker=f"{socket.gethostname()}:{os.getpid()}")
        loop = lambda: run_reminders(  # noqa: E731
            planner=services.reminder_planner, drainer=drainer, tick=r.tick_seconds, plan_every=r.plan_every_seconds
        )
        return ((f"send_reminders_{sender.channel}", loop),)


def refresh_interval(settings: Settings) -> float:
    """How often the background refresher looks for another process's ingest (at least once a second)."""
    return max(1.0, settings.retrieval.refresh_seconds)


async def keep_search_current(services: Services, every: float) -> None:
    """Touch the search every `every` seconds: a changed knowledge base starts its rebuild without a question."""
    while True:
        await asyncio.sleep(every)
        try:
            await asyncio.to_thread(lambda: services.search)
        except Exception as exc:
            log_retry(log, "background knowledge refresh failed", exc)


async def keep_tables_pruned(services: Services, *, every: float = PRUNE_EVERY_SECONDS) -> None:
    """Forget processed updates and buttons older than PRUNE_AFTER_DAYS, at start and then every `every` seconds
    (`coach db prune` does the same by hand). Several workers pruning at once only delete the same rows."""
    repository = InteractionRepository()

    def prune() -> tuple[int, int]:
        with services.uow.begin() as session:
            return repository.prune(session, before=utc_now() - timedelta(days=PRUNE_AFTER_DAYS))

    while True:
        try:
            updates, buttons = await asyncio.to_thread(prune)
            if updates or buttons:
                log.info("pruned %d processed update(s) and %d button(s)", updates, buttons)
        except Exception as exc:
            log_retry(log, "pruning old updates and buttons failed", exc)
        await asyncio.sleep(every)


def choose_channel(settings: Settings) -> str:
    """`app.channel`, or with "auto": Telegram when its token is set, WeCom when its secret is, else the console."""
    chosen = settings.app.channel
    if chosen != "auto":
        return chosen
    if settings.telegram_bot_token is not None:
        return "telegram"
    if settings.wecom_secret is not None:
        return "wecom"
    return "console"


def _run_console(services: Services) -> int:
    from bot.channels.console.chat import LOCAL_USER, run_console_chat

    reminders = (
        console_reminders(services, address=LOCAL_USER.external_id) if services.settings.reminders.enabled else None
    )
    return run_console_chat(
        services.conversation, files_dir=services.settings.data_dir / "console", reminders=reminders
    )


def console_reminders(services: Services, *, address: str) -> Callable[[], list[tuple[Reply, ...]]]:
    """Before each console prompt: plan, drain the console's outbox rows, what arrived for `address`."""
    from bot.channels.console.outbox_sender import ConsoleReplySender, due_reminders

    sender = ConsoleReplySender()
    drainer = services.outbox_drainer(sender, worker=f"console:{os.getpid()}")
    return due_reminders(services.reminder_planner, drainer, sender, address=address)


def _run_telegram(services: Services) -> int:
    from bot.channels.telegram.application import run_telegram

    return run_telegram(services, services.settings)


def _run_wecom(services: Services) -> int:
    from bot.channels.wecom.worker import run_wecom

    return run_wecom(services, services.settings)


RUNNERS: dict[str, Callable[[Services], int]] = {
    "console": _run_console,
    "telegram": _run_telegram,
    "wecom": _run_wecom,
}


def run_chat(services: Services) -> int:
    """`coach run`: the chosen channel until it stops."""
    channel = choose_channel(services.settings)
    log.info("coach run: %s channel", channel)
    return RUNNERS[channel](services)
