"""The outbox's way out through the console: reminders for the local operator wait here until the next prompt.

The console has no background: before each prompt it plans what is due, drains the console's share of the outbox
into this sender and prints what arrived for the person at the keyboard (see run_console_chat's `reminders`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence

from bot.core.messages import Reply
from bot.core.outbox import OutboxDrainer
from bot.core.reminder_plan import ReminderPlanner

CHANNEL = "console"


class ConsoleReplySender:
    """Keeps what the outbox sent per address until the console picks it up."""

    channel = CHANNEL

    def __init__(self) -> None:
        self.waiting: list[tuple[str, tuple[Reply, ...]]] = []

    async def send(self, address: str, replies: Sequence[Reply], *, skip: int = 0) -> None:
        """Each reply is one console message; it never fails, so `skip` is always 0 from the outbox."""
        self.waiting.append((address, tuple(replies)[skip:]))

    def take(self, address: str) -> list[tuple[Reply, ...]]:
        mine = [replies for to, replies in self.waiting if to == address]
        self.waiting = [(to, replies) for to, replies in self.waiting if to != address]
        return mine


def due_reminders(
    planner: ReminderPlanner, drainer: OutboxDrainer, sender: ConsoleReplySender, *, address: str
) -> Callable[[], list[tuple[Reply, ...]]]:
    """What the console calls before each prompt: plan, drain until nothing is claimed, the messages for `address`."""

    def deliver() -> list[tuple[Reply, ...]]:
        planner.plan()

        async def drain() -> None:
            while (await drainer.drain_once()).claimed:
                pass

        asyncio.run(drain())
        return sender.take(address)

    return deliver
