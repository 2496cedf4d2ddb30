"""The supervised task runner every channel's worker runs its background loops under."""

from __future__ import annotations

import asyncio
import logging

import pytest

from bot.channels.worker.tasks import SupervisedTasks


async def test_a_crashing_loop_is_logged_and_started_again_and_close_cancels_everything(caplog):
    runs: list[int] = []
    steady_cancelled = asyncio.Event()

    async def flaky() -> None:
        runs.append(len(runs))
        if len(runs) < 3:
            raise RuntimeError(f"boom {len(runs)}")
        await asyncio.sleep(3600)

    async def steady() -> None:
        try:
            await asyncio.sleep(3600)
        finally:
            steady_cancelled.set()

    tasks = SupervisedTasks(first_backoff=0.01, max_backoff=0.02)
    with caplog.at_level(logging.ERROR, logger="bot.channels.worker.tasks"):
        tasks.start("flaky", flaky)
        tasks.start("steady", steady)
        for _ in range(200):
            if len(runs) >= 3:
                break
            await asyncio.sleep(0.01)
    assert runs == [0, 1, 2] and tasks.crashes == {"flaky": 2}
    crashes = [r for r in caplog.records if "flaky crashed" in r.getMessage()]
    assert len(crashes) == 2 and all(r.exc_info for r in crashes)
    assert tasks.running == ["flaky", "steady"]
    await tasks.close(timeout=5)
    assert steady_cancelled.is_set() and tasks.running == []
    with pytest.raises(RuntimeError):
        tasks.start("late", steady)


async def test_a_loop_that_returns_is_finished_not_restarted_and_names_are_unique():
    calls: list[str] = []

    async def once() -> None:
        calls.append("ran")

    async def forever() -> None:
        await asyncio.sleep(3600)

    tasks = SupervisedTasks()
    tasks.start("once", once)
    tasks.start("forever", forever)
    with pytest.raises(ValueError, match="forever"):
        tasks.start("forever", forever)
    await asyncio.sleep(0.05)
    assert calls == ["ran"] and tasks.running == ["forever"]
    await tasks.close()
