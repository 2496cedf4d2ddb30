"""The outbox's way out through WeCom (reminders, the daily question, the weekly digest): a
`bot.core.delivery.ReplySender` over the app's message API, rendered as every WeCom reply is.

WeCom's answers map onto the outbox's outcomes: a recipient outside the app (invaliduser) or one the app may not
reach (60011, 81013) → `Blocked`; 45009 after the client's own back-off → `RetryLater`. Anything else is a passing
failure the outbox retries. A failure after one of the row's messages went (the card after its text) is
`PartlySent`: the retry starts at the message that failed.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

from bot.channels.wecom.api import INVALID_USER, RateLimited, WeComApiError
from bot.channels.wecom.delivery import WeComDelivery
from bot.channels.wecom.messages import CHANNEL
from bot.channels.wecom.rendering import render_replies
from bot.core.delivery import Blocked, RetryLater, send_parts
from bot.core.messages import Reply

NO_PRIVILEGE = 60011  # the member is outside the app's 可见范围
RATE_LIMIT_PAUSE_SECONDS = 60.0  # WeCom counts its call limits per minute


class WeComReplySender:
    """Sends outbox replies to a WeCom member (the address is their userid), rendered as every WeCom reply is: a text
    with buttons is a text then a template card, each its own message/send (counted for `skip` and `PartlySent`)."""

    channel = CHANNEL

    def __init__(self, delivery: WeComDelivery) -> None:
        self.delivery = delivery

    async def send(self, address: str, replies: Sequence[Reply], *, skip: int = 0) -> None:
        messages = render_replies(tuple(replies), markdown=self.delivery.markdown)
        parts = [functools.partial(self.delivery.send_one, message, touser=address) for message in messages]
        await send_parts(parts, skip=skip, outcome=_outcome)


def _outcome(exc: Exception) -> Exception:
    """WeCom's answer as the outbox's outcome: `RetryLater`, `Blocked`, or the error itself (a passing failure)."""
    if isinstance(exc, RateLimited):
        return RetryLater(RATE_LIMIT_PAUSE_SECONDS)
    if isinstance(exc, WeComApiError) and exc.errcode in {INVALID_USER, NO_PRIVILEGE}:
        return Blocked(str(exc))
    return exc
