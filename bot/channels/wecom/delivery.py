"""Sending a handled callback's replies through message/send, exactly once per message.

The core stored the replies with the claim (`processed_updates`); here a worker takes the claim's sending lease,
renders the stored replies, and sends them from the first one not yet sent, counting each. A send that fails
(network, 45009 after back-off, WeCom down) gives the lease back: the sweeper (`keep_delivering`) tries again
from where it stopped, on any worker. Replies only ever go to the claim's own sender.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import httpx

from bot.channels.wecom.api import RATE_LIMITED, TOKEN_REFUSED, WeComApi, WeComApiError
from bot.channels.wecom.rendering import MediaMessage, OutboundMessage, as_payload, render_replies
from bot.core.messages import Reply
from bot.core.reply_codec import Renderer, decode_replies
from storage.db import UnitOfWork, utc_now
from storage.delivery_repository import DeliveryRepository, LeaseResult, PendingDelivery
from storage.faults import log_retry
from storage.interaction_repository import UpdateClaim

log = logging.getLogger(__name__)
LEASE = timedelta(seconds=60)  # a worker that died mid-send leaves the rest to others after this
SWEEP_EVERY_SECONDS = 5.0
SWEEP_GRACE = timedelta(seconds=5)  # a claim this young is still being sent by the worker that handled it
SWEEP_HORIZON = timedelta(days=1)  # older replies are not worth sending any more
SYSTEM_BUSY = -1  # WeCom's "系统繁忙", and our own code for an answer that was not JSON
UNTRUSTED_IP = 60020  # the worker's address is not among the app's 企业可信IP: pending until an admin adds it
RETRYABLE = {SYSTEM_BUSY, RATE_LIMITED, UNTRUSTED_IP, *TOKEN_REFUSED}  # anything else refuses the message itself


@dataclass
class WeComDelivery:
    uow: UnitOfWork
    api: WeComApi
    agent_id: int
    channel: str
    bot_id: str
    renderers: Mapping[str, Renderer]
    markdown: bool = False
    clock: Callable[[], datetime] = utc_now
    repository: DeliveryRepository = field(default_factory=DeliveryRepository)
    sweep_grace: timedelta = SWEEP_GRACE

    def _take(self, claim: UpdateClaim) -> tuple[LeaseResult, PendingDelivery | None]:
        now = self.clock()
        with self.uow.begin() as session:
            return self.repository.take_lease(session, claim, now=now, until=now + LEASE)

    def _count(self, claim: UpdateClaim, sent: int) -> None:
        with self.uow.begin() as session:
            self.repository.count_sent(session, claim, sent_parts=sent)

    def _done(self, claim: UpdateClaim) -> None:
        with self.uow.begin() as session:
            self.repository.mark_delivered(session, claim, now=self.clock())

    def _release(self, claim: UpdateClaim) -> None:
        with self.uow.begin() as session:
            self.repository.release(session, claim)

    async def deliver(self, claim: UpdateClaim) -> str:
        """Send what is still unsent of this claim's replies. Returns "delivered" (now or before), "busy" (another
        worker is sending them), "missing" (nothing stored: the caller sends its own replies), "failed" (left
        pending for the sweeper) or "refused" (WeCom refused a message itself: the rest is given up)."""
        state, pending = await asyncio.to_thread(self._take, claim)
        if state != "taken":
            return "delivered" if state == "delivered" else state
        assert pending is not None
        replies = await asyncio.to_thread(decode_replies, pending.replies, renderers=self.renderers)
        messages = render_replies(replies, markdown=self.markdown)
        sent = pending.sent_parts
        try:
            for message in messages[sent:]:
                await self.send_one(message, touser=claim.chat)
                sent += 1
                await asyncio.to_thread(self._count, claim, sent)
        except WeComApiError as exc:
            if exc.errcode in RETRYABLE:
                return await self._pending_again(claim, exc, sent, len(messages))
            # WeCom refuses the message itself (not a member of the app, too long, bad card): sending it again
            # would be refused again, so the rest is given up, logged with WeCom's errcode
            log.warning(
                "WeCom refused message %d/%d of update %s (errcode %d); giving up the rest",
                sent + 1,
                len(messages),
                claim.update_id,
                exc.errcode,
            )
            await asyncio.to_thread(self._done, claim)
            return "refused"
        except httpx.HTTPError as exc:
            return await self._pending_again(claim, exc, sent, len(messages))
        await asyncio.to_thread(self._done, claim)
        return "delivered"

    async def _pending_again(self, claim: UpdateClaim, exc: Exception, sent: int, total: int) -> str:
        """A passing failure (network, WeCom busy, 45009 after back-off): the lease is given back for the sweeper."""
        log.warning(
            "WeCom delivery of update %s stopped at message %d/%d (%s); will retry",
            claim.update_id,
            sent + 1,
            total,
            type(exc).__name__,
        )
        await asyncio.to_thread(self._release, claim)
        return "failed"

    async def send_one(self, message: OutboundMessage, *, touser: str) -> None:
        media_id = ""
        if isinstance(message, MediaMessage):
            media_id = await self.api.upload(message.kind, message.filename, message.data)
        await self.api.send(as_payload(message, touser=touser, agent_id=self.agent_id, media_id=media_id))

    async def send_now(self, replies: tuple[Reply, ...], *, touser: str) -> None:
        """Replies nothing was stored for (the database was down): sent once, best effort."""
        for message in render_replies(replies, markdown=self.markdown):
            await self.send_one(message, touser=touser)

    def _pending(self) -> list[UpdateClaim]:
        now = self.clock()
        with self.uow.read() as session:
            return self.repository.undelivered(
                session,
                channel=self.channel,
                bot_id=self.bot_id,
                older_than=now - self.sweep_grace,
                newer_than=now - SWEEP_HORIZON,
                now=now,
            )

    async def sweep(self) -> int:
        """Retry every pending delivery once; how many were completed."""
        completed = 0
        for claim in await asyncio.to_thread(self._pending):
            if await self.deliver(claim) == "delivered":
                completed += 1
        return completed

    async def keep_delivering(self, every: float = SWEEP_EVERY_SECONDS) -> None:
        """The sweeper: a background loop of every WeCom worker."""
        while True:
            await asyncio.sleep(every)
            try:
                if done := await self.sweep():
                    log.info("WeCom: %d pending delivery(ies) completed", done)
            except Exception as exc:
                log_retry(log, "WeCom delivery sweep failed", exc)
