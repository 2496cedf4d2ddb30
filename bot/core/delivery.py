"""What a channel implements so the outbox can send through it (Telegram now, WeCom next): "send these replies to
this address". Two outcomes are the channel's to report, as exceptions: the person blocked the bot (`Blocked`:
Telegram's 403 — no more reminders there) and the channel wants us to slow down (`RetryLater`: a 429 with its
retry-after). Anything else raised counts as a passing failure: the message is tried again later, a few times.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from bot.core.messages import Reply


class DeliveryError(Exception):
    """A channel could not deliver a message; the subclasses say what to do about it."""


class Blocked(DeliveryError):
    """The person blocked the bot or left the channel: never send them reminders there again (until they write)."""


class RetryLater(DeliveryError):
    """The channel is rate limiting us: wait `retry_after` seconds before sending anything else."""

    def __init__(self, retry_after: float) -> None:
        super().__init__(f"retry after {retry_after:g} s")
        self.retry_after = retry_after


class ReplySender(Protocol):
    """Capability: deliver channel-neutral replies to one address of one channel (the channel's user or chat id)."""

    channel: str

    async def send(self, address: str, replies: Sequence[Reply]) -> None:
        """Send every reply, in order; raise `Blocked` or `RetryLater` as above."""
        ...
