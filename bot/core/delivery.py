"""What a channel implements so the outbox can send through it (Telegram now, WeCom next): "send these replies to
this address". Two outcomes are the channel's to report, as exceptions: the person blocked the bot (`Blocked`:
Telegram's 403 — no more reminders there) and the channel wants us to slow down (`RetryLater`: a 429 with its
retry-after). Anything else raised counts as a passing failure: the message is tried again later, a few times.

One outbox row may go out as several channel messages (a text then a card on WeCom, a long text in parts on
Telegram). A channel counts the messages it renders the replies into; `send(..., skip=n)` sends only those after
the first n, and when one fails after at least one of this call's messages was accepted it raises
`PartlySent(sent, cause)`: the outbox stores `sent` on the row, then treats `cause` (`Blocked`, `RetryLater` or a
passing failure) as above, and the next try skips what arrived. A failure before any message of the call was
accepted is raised as itself. (A worker killed between a message and the next is still the one window where a
message can go twice: the count is stored on failure, not after each message.)
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
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


class PartlySent(DeliveryError):
    """The first `sent` messages of the row (those skipped included) were accepted, then `cause` stopped the rest."""

    def __init__(self, sent: int, cause: Exception) -> None:
        super().__init__(f"{sent} message(s) sent, then {type(cause).__name__}: {cause}")
        self.sent = sent
        self.cause = cause


async def send_parts(
    parts: Sequence[Callable[[], Awaitable[object]]], *, skip: int, outcome: Callable[[Exception], Exception]
) -> None:
    """Send `parts[skip:]` in order, one channel message each. A failure is told as the outbox's outcome
    (`outcome` maps the channel's error to `Blocked`, `RetryLater` or itself), wrapped in `PartlySent` when this
    call had already got messages accepted — every channel's `ReplySender.send` in one place."""
    sent = skip
    for part in parts[skip:]:
        try:
            await part()
        except Exception as exc:
            cause = outcome(exc)
            if sent > skip:
                raise PartlySent(sent, cause) from exc
            if cause is exc:
                raise
            raise cause from exc
        sent += 1


class ReplySender(Protocol):
    """Capability: deliver channel-neutral replies to one address of one channel (the channel's user or chat id)."""

    channel: str

    async def send(self, address: str, replies: Sequence[Reply], *, skip: int = 0) -> None:
        """Send the messages the replies render into, in order, all but the first `skip`; raise `Blocked`,
        `RetryLater` or `PartlySent` as above."""
        ...
