"""The outbox's way out through Telegram: a `bot.core.delivery.ReplySender` over PTB's bot.

Replies are rendered and sent exactly as answers in a chat are (`TelegramHandlers.message_sends`: HTML, the 4,096
limit, keyboards; network retries); the bot's AIORateLimiter still applies. Telegram's answers map onto the
outbox's outcomes: 403 (the user blocked the bot, or deleted the account) → `Blocked`; 429 that the rate limiter's
own retries did not absorb → `RetryLater` with Telegram's retry-after. A long text is several messages: one that
fails after another went is `PartlySent`, and the retry starts at the one that failed.
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Sequence
from datetime import timedelta

from telegram import Bot
from telegram.error import Forbidden, RetryAfter

from bot.channels.telegram.handlers import CHANNEL, TelegramHandlers, send_with_retries
from bot.core.delivery import Blocked, RetryLater, send_parts
from bot.core.messages import Reply


class TelegramReplySender:
    """Sends outbox replies to a Telegram chat id (a private chat's id is the user's id)."""

    channel = CHANNEL

    def __init__(self, bot: Bot, handlers: TelegramHandlers) -> None:
        self.bot = bot
        self.handlers = handlers

    async def send(self, address: str, replies: Sequence[Reply], *, skip: int = 0) -> None:
        sends = self.handlers.message_sends(self.bot, int(address), replies)
        parts = [functools.partial(send_with_retries, send, self.handlers.retry) for send in sends]
        await send_parts(parts, skip=skip, outcome=_outcome)


def _outcome(exc: Exception) -> Exception:
    """Telegram's answer as the outbox's outcome: `Blocked`, `RetryLater`, or the error itself (a passing failure)."""
    if isinstance(exc, Forbidden):
        return Blocked(str(exc))
    if isinstance(exc, RetryAfter):
        with warnings.catch_warnings():  # PTB 22.2+ warns that retry_after becomes a timedelta; either is fine
            warnings.simplefilter("ignore")
            wait = exc.retry_after
        return RetryLater(wait.total_seconds() if isinstance(wait, timedelta) else float(wait))
    return exc
