"""The reminder ticker of one worker, whatever its channel: plan what is due every `plan_every` seconds, drain the
outbox every `tick` seconds (at once again while batches come back full). Runs until cancelled; a failed plan or
drain is logged and tried again on the next tick (the database may be away for a while)."""

from __future__ import annotations

import asyncio
import logging
import time

from bot.core.outbox import OutboxDrainer
from bot.core.reminder_plan import ReminderPlanner
from storage.faults import log_retry

log = logging.getLogger(__name__)


async def run_reminders(*, planner: ReminderPlanner, drainer: OutboxDrainer, tick: float, plan_every: float) -> None:
    """Plan and send reminders until cancelled."""
    next_plan = 0.0
    while True:
        if time.monotonic() >= next_plan:
            next_plan = time.monotonic() + plan_every
            try:
                report = await asyncio.to_thread(planner.plan)
                if report.review or report.daily or report.digest:
                    log.info(
                        "queued %d review reminder(s), %d daily question(s), %d digest(s)",
                        report.review,
                        report.daily,
                        report.digest,
                    )
            except Exception as exc:
                log_retry(log, "planning reminders failed", exc)
        began, pause = time.monotonic(), tick
        try:
            drained = await drainer.drain_once()
            if drained.slow_down:
                pause = drained.slow_down
            elif drained.claimed >= drainer.policy.batch_size:
                pause = 0.0
        except Exception as exc:
            log_retry(log, "sending reminders failed", exc)
        await asyncio.sleep(max(0.0, pause - (time.monotonic() - began)))  # a tick is a period, sending included
