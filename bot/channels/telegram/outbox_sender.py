"""The outbox's way out through Telegram: a `bot.core.delivery.ReplySender` over PTB's bot.

Replies are rendered and sent exactly as answers in a chat are (`TelegramHandlers._send`: HTML, the 4,096 limit,
keyboards, network retries); the bot's AIORateLimiter still applies. Telegram's answers map onto the outbox's
outcomes: 403 (the user blocked the bot, or deleted the account) → `Blocked`; 429 that the rate limiter's own
retries did not absorb → `RetryLater` with Telegram's retry-after.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from datetime import timedelta

from telegram import Bot
from telegram.error import Forbidden, RetryAfter

from bot.channels.telegram.handlers import CHANNEL, TelegramHandlers
from bot.core.delivery import Blocked, RetryLater
from bot.core.messages import Reply


class TelegramReplySender:
    """Sends outbox replies to a Telegram chat id (a private chat's id is the user's id)."""

    channel = CHANNEL

    def __init__(self, bot: Bot, handlers: TelegramHandlers) -> None:
        self.bot = bot
        self.handlers = handlers

    async def send(self, address: str, replies: Sequence[Reply]) -> None:
        try:
            await self.handlers._send(self.bot, int(address), replies)  # the one renderer of replies for Telegram
        except Forbidden as exc:
            raise Blocked(str(exc)) from exc
        except RetryAfter as exc:
            with warnings.catch_warnings():  # PTB 22.2+ warns that retry_after becomes a timedelta; either is fine
                warnings.simplefilter("ignore")
                wait = exc.retry_after
            raise RetryLater(wait.total_seconds() if isinstance(wait, timedelta) else float(wait)) from exc
