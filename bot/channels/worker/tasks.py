"""A small supervised task runner for a worker's background loops (never a bare `asyncio.create_task`).

A loop that raises is logged with its traceback and started again after a pause that grows with each crash in a
row (up to `max_backoff`); a loop that returns is finished. `close()` cancels every loop and waits for them, so a
shutdown leaves nothing running.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

log = logging.getLogger(__name__)
LoopFactory = Callable[[], Awaitable[None]]


class SupervisedTasks:
    """Runs named background loops, restarts the ones that crash, cancels them all on `close()`."""

    def __init__(self, *, first_backoff: float = 1.0, max_backoff: float = 60.0) -> None:
        self.first_backoff = first_backoff
        self.max_backoff = max_backoff
        self.crashes: dict[str, int] = {}  # name → crashes so far (for logs and tests)
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._closing = False

    def start(self, name: str, loop: LoopFactory) -> None:
        """Run `loop()` under supervision; the name must be unique among the running loops."""
        if self._closing:
            raise RuntimeError("the task runner is closed")
        if name in self._tasks and not self._tasks[name].done():
            raise ValueError(f"a background loop named {name!r} is already running")
        self._tasks[name] = asyncio.get_running_loop().create_task(self._supervise(name, loop), name=name)

    @property
    def running(self) -> list[str]:
        return sorted(name for name, task in self._tasks.items() if not task.done())

    async def _supervise(self, name: str, loop: LoopFactory) -> None:
        in_a_row = 0
        while True:
            try:
                await loop()
            except asyncio.CancelledError:
                raise
            except Exception:
                in_a_row += 1
                self.crashes[name] = self.crashes.get(name, 0) + 1
                pause = min(self.max_backoff, self.first_backoff * 2 ** (in_a_row - 1))
                log.error(
                    "background loop %s crashed (%d in a row); restarting in %.1f s",
                    name,
                    in_a_row,
                    pause,
                    exc_info=True,
                )
                await asyncio.sleep(pause)
                continue
            log.info("background loop %s finished", name)
            return

    async def close(self, timeout: float = 10.0) -> None:
        """Cancel every loop and wait (at most `timeout`) until they have stopped."""
        self._closing = True
        tasks = [task for task in self._tasks.values() if not task.done()]
        for task in tasks:
            task.cancel()
        if tasks:
            _done, pending = await asyncio.wait(tasks, timeout=timeout)
            for task in pending:
                log.warning("background loop %s did not stop within %.0f s", task.get_name(), timeout)
        self._tasks.clear()
