"""A worker's life, whatever the channel: listen, warm up, start the background loops, serve until SIGTERM/SIGINT
(or `stop`), then stop listening, drain the work in flight, cancel the loops and close the channel."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Awaitable, Callable, Sequence
from typing import Protocol

from bot.channels.worker.http_server import Readiness, WorkerHttpServer
from bot.channels.worker.tasks import LoopFactory, SupervisedTasks
from bot.core.delivery import ReplySender

log = logging.getLogger(__name__)


class WorkerHooks(Protocol):
    """What a worker needs from the services behind it (built by app/worker_runtime.py). Blocking calls."""

    def warm_up(self) -> None:
        """Schema check or upgrade, the knowledge index: everything the first message would otherwise wait for."""

    def readiness(self) -> Readiness:
        """Every readiness check, run now."""
        ...

    def background(self) -> Sequence[tuple[str, LoopFactory]]:
        """The loops every worker runs (keep the index current, prune old claims), by name."""
        ...

    def outbox_loops(self, sender: ReplySender) -> Sequence[tuple[str, LoopFactory]]:
        """The reminder ticker sending due outbox rows through this channel's `sender` (none when turned off)."""
        ...


def stop_on_signals(stop: asyncio.Event) -> None:
    """SIGTERM and SIGINT set `stop` (where the loop can take signals: not in a test's thread)."""
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)


def start_background(tasks: SupervisedTasks, hooks: WorkerHooks, extra: Sequence[tuple[str, LoopFactory]] = ()) -> None:
    for name, loop in (*hooks.background(), *extra):
        tasks.start(name, loop)


async def run_http_worker(
    server: WorkerHttpServer,
    *,
    hooks: WorkerHooks,
    name: str,
    listen: str,
    port: int,
    drain_seconds: float,
    open_channel: Callable[[], Awaitable[None]],
    close_channel: Callable[[], Awaitable[None]],
    register: Callable[[], Awaitable[None]] | None = None,
    loops: Sequence[tuple[str, LoopFactory]] = (),
    stop: asyncio.Event | None = None,
    on_listening: Callable[[int], None] | None = None,
) -> None:
    """Run one HTTP worker until stopped. `open_channel`/`close_channel` start and end the channel's own client;
    `register` tells the channel where to reach the worker (after warm-up); `loops` are the channel's own."""
    stop = stop or asyncio.Event()
    stop_on_signals(stop)
    tasks = SupervisedTasks()
    await open_channel()
    try:
        bound = server.listen(host=listen, port=port)
        log.info("%s worker listening on %s:%s", name, listen, bound)
        if on_listening is not None:
            on_listening(bound)
        await asyncio.to_thread(hooks.warm_up)
        start_background(tasks, hooks, loops)
        server.started = True
        if register is not None:
            await register()
        log.info("%s worker ready", name)
        await stop.wait()
        log.info("%s worker stopping: draining %s request(s) in progress", name, server.in_flight)
        await server.drain(drain_seconds)
    finally:
        await tasks.close()
        await close_channel()
    log.info("%s worker stopped after %s request(s)", name, server.handled)
