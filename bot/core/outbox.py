"""Draining the outbox through one channel: claim a batch (the shared rate decides how many), send each, mark it.

A batch is claimed in one transaction, then each message is sent and marked in its own short transaction right
after, so a crash loses at most the lease of what was claimed and not yet marked (claimed again after the lease).
The messages of a batch go out side by side (one per chat). Blocked → the row and everything else queued for that
person on that channel is dropped, and the channel is marked blocked for them. RetryLater → the row goes back,
claimable after the wait, and the worker pauses that long. Any other error → back with a growing wait, until
`max_attempts`. A row the channel sends as several messages that fails midway (`PartlySent`) first stores how many
went, and the next try sends only the rest. Nothing goes out at or after a row's `expires_at` (the next quiet
hours), checked again just before sending.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from bot.core.delivery import Blocked, PartlySent, ReplySender, RetryLater
from bot.core.reply_codec import Renderer, decode_replies
from storage.db import UnitOfWork, utc_now
from storage.outbox_repository import ClaimedMessage, OutboxRepository
from storage.reminder_repository import ReminderRepository

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DrainPolicy:
    messages_per_second: float  # all workers of the channel together
    batch_size: int = 20  # most rows one claim takes
    lease: timedelta = timedelta(seconds=60)
    max_attempts: int = 5
    retry_after: timedelta = timedelta(seconds=30)  # the first wait after a passing failure; doubles each time

    @property
    def burst(self) -> float:
        """The bucket holds at most a fifth of a second's worth (at least one message): in any one second at most
        1.2 × the rate goes out, however the workers' claims fall."""
        return max(1.0, self.messages_per_second / 5)


@dataclass
class DrainReport:
    claimed: int = 0
    sent: int = 0
    blocked: int = 0
    retried: int = 0
    expired: int = 0
    failed: int = 0
    slow_down: float = 0.0  # seconds the channel asked us to wait (RetryLater)


@dataclass
class OutboxDrainer:
    uow: UnitOfWork
    sender: ReplySender
    worker: str  # this worker's name in the rows it claims
    policy: DrainPolicy
    outbox: OutboxRepository = field(default_factory=OutboxRepository)
    reminders: ReminderRepository = field(default_factory=ReminderRepository)
    clock: Callable[[], datetime] = utc_now
    renderers: Mapping[str, Renderer] = field(default_factory=dict)

    def claim(self) -> list[ClaimedMessage]:
        """One claiming transaction: tokens from the shared bucket, then at most that many due rows."""
        now, channel, p = self.clock(), self.sender.channel, self.policy
        with self.uow.begin() as session:
            tokens = self.outbox.take_send_tokens(
                session, channel=channel, rate=p.messages_per_second, burst=p.burst, want=p.batch_size, now=now
            )
            claimed = self.outbox.claim(
                session, channel=channel, worker=self.worker, now=now, limit=tokens, lease=p.lease
            )
            self.outbox.return_send_tokens(session, channel=channel, count=tokens - len(claimed))
        return claimed

    async def drain_once(self) -> DrainReport:
        """Claim one batch and try every message in it, side by side (one per chat: the claim sees to that)."""
        report = DrainReport()
        batch = await asyncio.to_thread(self.claim)
        report.claimed = len(batch)
        for outcome, wait in await asyncio.gather(*(self._deliver(message) for message in batch)):
            setattr(report, outcome, getattr(report, outcome) + 1)
            report.slow_down = max(report.slow_down, wait)
        return report

    async def _deliver(self, message: ClaimedMessage) -> tuple[str, float]:
        """Send one claimed message and mark what became of it: (the DrainReport field to count, seconds to wait)."""
        if self.clock() >= message.expires_at:
            await asyncio.to_thread(self._final, message, "expired", "quiet hours began before it was sent")
            return "expired", 0.0
        exc = await self._send(message)
        if exc is None:
            await asyncio.to_thread(self._sent, message)
            return "sent", 0.0
        if isinstance(exc, Blocked):
            await asyncio.to_thread(self._blocked, message)
            return "blocked", 0.0
        if isinstance(exc, RetryLater):
            log.warning("channel %s asks to slow down: %s", self.sender.channel, exc)
            retry_at = self.clock() + timedelta(seconds=exc.retry_after)
            await asyncio.to_thread(self._release, message, retry_at, str(exc))
            return "retried", exc.retry_after
        # a passing failure (network, server): later, a few times
        log.warning("sending outbox message %d failed (%s)", message.message_id, type(exc).__name__)
        if message.attempts >= self.policy.max_attempts:
            await asyncio.to_thread(self._final, message, "failed", type(exc).__name__)
            return "failed", 0.0
        wait = self.policy.retry_after * 2 ** (message.attempts - 1)
        await asyncio.to_thread(self._release, message, self.clock() + wait, type(exc).__name__)
        return "retried", 0.0

    async def _send(self, message: ClaimedMessage) -> Exception | None:
        """Send what earlier tries left of the row; None when all of it went, else what stopped it. Messages the
        channel accepted before it stopped are counted on the row first, so no later try sends them again."""
        replies = decode_replies(message.payload, renderers=self.renderers)
        try:
            await self.sender.send(message.address, replies, skip=message.sent_parts)
        except PartlySent as partly:
            await asyncio.to_thread(self._count_sent, message, partly.sent)
            return partly.cause
        except Exception as exc:
            return exc
        return None

    async def run(self, *, every: float, stop: asyncio.Event | None = None) -> None:
        """Drain until cancelled (or `stop`): a full batch goes straight on; otherwise wait `every` seconds."""
        stop = stop or asyncio.Event()
        while not stop.is_set():
            report = await self.drain_once()
            pause = report.slow_down or (0.0 if report.claimed >= self.policy.batch_size else every)
            if pause:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), timeout=pause)

    # --- marking, each in its own transaction -------------------------------------------------
    def _sent(self, message: ClaimedMessage) -> None:
        with self.uow.begin() as session:
            if not self.outbox.mark_sent(session, message.message_id, worker=self.worker, now=self.clock()):
                log.warning("outbox message %d was sent after its lease ran out", message.message_id)

    def _count_sent(self, message: ClaimedMessage, sent: int) -> None:
        with self.uow.begin() as session:
            self.outbox.count_sent(session, message.message_id, sent_parts=sent)

    def _final(self, message: ClaimedMessage, status: str, error: str) -> None:
        with self.uow.begin() as session:
            self.outbox.mark_final(session, message.message_id, status=status, error=error, now=self.clock())

    def _release(self, message: ClaimedMessage, retry_at: datetime, error: str) -> None:
        with self.uow.begin() as session:
            self.outbox.release(session, message.message_id, retry_at=retry_at, error=error)

    def _blocked(self, message: ClaimedMessage) -> None:
        now = self.clock()
        with self.uow.begin() as session:
            self.outbox.mark_final(session, message.message_id, status="blocked", error="blocked", now=now)
            self.outbox.drop_pending_for(session, learner_id=message.learner_id, channel=message.channel, now=now)
            self.reminders.block(session, learner_id=message.learner_id, channel=message.channel, now=now)
        log.info("learner %d blocked the bot on %s: no more reminders there", message.learner_id, message.channel)
