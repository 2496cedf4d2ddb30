"""Long polling that acknowledges an update only after it was handled, and handles users side by side.

PTB's own `Updater` confirms an update (the next getUpdates' offset passes it) as soon as it is queued, so a
process that dies while handling it loses it. Here the offset never passes an update still in progress: a process
killed mid-update gets it again when it restarts, and the processed-updates claim makes that second delivery
change nothing (it only repeats the stored replies if the first ones were never sent).

Different users' updates run concurrently (a heavy /record does not hold up everyone else); one user's updates
run one at a time, in the order they arrived (`UpdateOrder`, shared with the webhook worker).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Hashable
from typing import Any

from telegram import Update
from telegram.error import Conflict, InvalidToken, NetworkError, TelegramError
from telegram.ext import Application

from bot.channels.worker.ordering import UpdateOrder

log = logging.getLogger(__name__)
POLL_SECONDS = 25  # getUpdates long-poll timeout
MAX_IN_FLIGHT = 64  # updates fetched and not yet finished before polling pauses
IDLE_REPOLL_SECONDS = 0.25  # while updates are in progress, how soon to look for new ones
REDELIVERY_TRIES = 3  # a reply that could not be sent is sent again (from the stored replies) this often


def ordering_key(update: Update) -> Hashable:
    """Whose turn an update waits for: its user (else its chat; else it waits for nobody)."""
    if update.effective_user is not None:
        return ("user", update.effective_user.id)
    if update.effective_chat is not None:
        return ("chat", update.effective_chat.id)
    return ("update", update.update_id)


class AcknowledgingPoller:
    """getUpdates with an offset that stays at the oldest update still in progress.

    `process(update)` handles one update and returns False when its replies could not be sent; it is then run
    again (the core repeats the stored replies) a few times before the update is let go.
    """

    def __init__(
        self,
        application: Application,  # type: ignore[type-arg]
        *,
        process: Callable[[Update], Awaitable[bool]],
        order: UpdateOrder | None = None,
        poll_seconds: int = POLL_SECONDS,
        max_in_flight: int = MAX_IN_FLIGHT,
        retry_backoff: float = 1.0,
        idle_repoll_seconds: float = IDLE_REPOLL_SECONDS,
    ) -> None:
        self.application = application
        self.process = process
        self.order = order or UpdateOrder()
        self.poll_seconds = poll_seconds
        self.max_in_flight = max_in_flight
        self.retry_backoff = retry_backoff
        self.idle_repoll_seconds = idle_repoll_seconds
        self.in_progress: set[int] = set()
        self.highest: int | None = None  # the highest update id fetched
        self.confirmed: int | None = None  # the offset of the last getUpdates that succeeded
        self._progress = asyncio.Event()

    @property
    def offset(self) -> int | None:
        """What getUpdates confirms: everything below the oldest update in progress (or all fetched).

        None once everything fetched is done and confirmed: Telegram then returns only new updates, whatever their
        ids — which start again (or, after a week without updates, at random) when the bot, its token or a
        self-hosted Bot API server changes; an offset above a new sequence would confirm its updates unseen.
        """
        if self.in_progress:
            return min(self.in_progress)
        if self.highest is None or self.confirmed == self.highest + 1:
            return None
        return self.highest + 1

    async def run(self, stop: asyncio.Event) -> None:
        """Poll until `stop` is set; then let the updates in progress finish and confirm them."""
        stopping = asyncio.ensure_future(stop.wait())
        failures = 0
        try:
            while not stop.is_set():
                if len(self.in_progress) >= self.max_in_flight:
                    await self._wait_for(stopping, self._progress_or_never())
                    continue
                offset = self.offset
                fetch = asyncio.ensure_future(self._fetch(offset))
                while True:  # until updates come, we stop, or one finished and the offset moved (confirm it)
                    self._progress.clear()
                    progressed = asyncio.ensure_future(self._progress.wait())
                    done, _ = await asyncio.wait({fetch, progressed, stopping}, return_when=asyncio.FIRST_COMPLETED)
                    progressed.cancel()
                    if fetch in done or stopping in done or self.offset != offset:
                        break
                if fetch not in done:
                    fetch.cancel()
                    with contextlib.suppress(asyncio.CancelledError, TelegramError):
                        await fetch
                    continue
                try:
                    updates = fetch.result()
                except InvalidToken:
                    raise
                except (NetworkError, Conflict) as exc:  # Telegram unreachable, or another poller for a moment
                    failures += 1
                    log.warning("getUpdates failed (%s), retry %d", type(exc).__name__, failures)
                    await self._wait_for(stopping, asyncio.sleep(min(30.0, self.retry_backoff * failures)))
                    continue
                failures = 0
                if offset is not None:
                    self.confirmed = offset
                else:  # all fetched before is confirmed: these are new, whatever their ids (a restarted sequence)
                    self.highest = None
                fresh = [update for update in updates if self._is_new(update.update_id, offset)]
                for update in fresh:
                    self._dispatch(update)
                if updates and not fresh:
                    # Only updates still in progress came back (unconfirmed ones are returned at once): wait a
                    # moment, or until one finishes, instead of asking again in a tight loop.
                    await self._wait_for(stopping, self._progress_or_timeout(self.idle_repoll_seconds))
        finally:
            stopping.cancel()

    async def drain(self, timeout: float) -> bool:
        """Wait for the updates in progress, then confirm what finished; True when none was cut off."""
        deadline = asyncio.get_running_loop().time() + timeout
        while self.in_progress:
            remaining = deadline - asyncio.get_running_loop().time()
            if remaining <= 0:
                log.warning("polling: %d update(s) still in progress at shutdown", len(self.in_progress))
                break
            self._progress.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._progress.wait(), remaining)
        if self.offset is not None:
            with contextlib.suppress(TelegramError):  # confirm the finished ones, or they come back after a restart
                await self.application.bot.get_updates(offset=self.offset, limit=1, timeout=0)
        return not self.in_progress

    async def _fetch(self, offset: int | None) -> tuple[Update, ...]:
        return await self.application.bot.get_updates(
            offset=offset,
            timeout=self.poll_seconds,
            allowed_updates=Update.ALL_TYPES,
            read_timeout=self.poll_seconds + 10,
        )

    def _is_new(self, update_id: int, asked_from: int | None) -> bool:
        """False for an update fetched before (in progress or done, but not confirmed yet, so sent again)."""
        if self.highest is None or asked_from is None:
            return True
        if asked_from <= update_id <= self.highest:
            return False
        if update_id < asked_from:  # the sequence started again (another bot or Bot API server): follow it
            log.warning("polling: update ids went back from %s to %s", asked_from, update_id)
            self.highest = None
        return True

    def _dispatch(self, update: Update) -> None:
        update_id = update.update_id
        self.highest = update_id if self.highest is None else max(self.highest, update_id)
        self.in_progress.add(update_id)
        self.application.create_task(self._handle(update), update=update)

    async def _handle(self, update: Update) -> None:
        try:
            async with self.order.turn(ordering_key(update)):
                for attempt in range(1, REDELIVERY_TRIES + 1):
                    if await self.process(update):
                        break
                    if attempt == REDELIVERY_TRIES:
                        log.warning("polling: replies to update %s not sent after %d tries", update.update_id, attempt)
                        break
                    await asyncio.sleep(self.retry_backoff * attempt)
        except Exception:
            log.exception("polling: update %s could not be processed", update.update_id)
        finally:
            self.in_progress.discard(update.update_id)
            self._progress.set()

    async def _progress_or_timeout(self, seconds: float) -> None:
        self._progress.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._progress.wait(), seconds)

    async def _progress_or_never(self) -> None:
        self._progress.clear()
        await self._progress.wait()

    @staticmethod
    async def _wait_for(stopping: asyncio.Future[Any], awaitable: Awaitable[object]) -> None:
        task = asyncio.ensure_future(awaitable)
        await asyncio.wait({task, stopping}, return_when=asyncio.FIRST_COMPLETED)
        task.cancel()
