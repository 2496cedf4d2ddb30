"""The outbox's way out through WeCom (reminders, the daily question, the weekly digest): a
`bot.core.delivery.ReplySender` over the app's message API, rendered as every WeCom reply is.

WeCom's answers map onto the outbox's outcomes: a recipient outside the app (invaliduser) or one the app may not
reach (60011, 81013) → `Blocked`; 45009 after the client's own back-off → `RetryLater`. Anything else is a passing
failure the outbox retries.
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.channels.wecom.api import INVALID_USER, RateLimited, WeComApiError
from bot.channels.wecom.delivery import WeComDelivery
from bot.channels.wecom.messages import CHANNEL
from bot.core.delivery import Blocked, RetryLater
from bot.core.messages import Reply

NO_PRIVILEGE = 60011  # the member is outside the app's 可见范围
RATE_LIMIT_PAUSE_SECONDS = 60.0  # WeCom counts its call limits per minute


class WeComReplySender:
    """Sends outbox replies to a WeCom member (the address is their userid)."""

    channel = CHANNEL

    def __init__(self, delivery: WeComDelivery) -> None:
        self.delivery = delivery

    async def send(self, address: str, replies: Sequence[Reply]) -> None:
        try:
            await self.delivery.send_now(tuple(replies), touser=address)
        except RateLimited as exc:
            raise RetryLater(RATE_LIMIT_PAUSE_SECONDS) from exc
        except WeComApiError as exc:
            if exc.errcode in {INVALID_USER, NO_PRIVILEGE}:
                raise Blocked(str(exc)) from exc
            raise
