"""A worker's HTTP server, whatever the channel: the channel's own routes plus `GET /healthz` (the process
answers) and `GET /readyz` (it can do its work now: see `app.health`; 503 while starting or draining).

It counts the requests in flight, so a shutdown can stop listening, report not-ready and wait for them (`drain`).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import Any, Protocol

import tornado.httpserver
import tornado.netutil
import tornado.web

log = logging.getLogger(__name__)
MAX_BODY_BYTES = 1024 * 1024  # channel callbacks are small; file contents are fetched separately
Route = tuple[str, type[tornado.web.RequestHandler], dict[str, Any]]


class Readiness(Protocol):
    """What `GET /readyz` reports (see app.health)."""

    @property
    def ready(self) -> bool: ...

    def as_json(self) -> dict[str, object]: ...


class WorkerHttpServer:
    """Serves a channel's routes with the health endpoints; tracks work in flight so shutdown can wait for it."""

    def __init__(self, *, readiness: Callable[[], Awaitable[Readiness]], routes: Sequence[Route] = ()) -> None:
        self.readiness = readiness
        self.routes = list(routes)
        self.started = False  # warm-up done: the worker may be sent work
        self.draining = False
        self.in_flight = 0
        self.handled = 0
        self._idle = asyncio.Event()
        self._idle.set()
        self._http: tornado.httpserver.HTTPServer | None = None

    @property
    def accepting(self) -> bool:
        return self.started and not self.draining

    def make_app(self) -> tornado.web.Application:
        return tornado.web.Application(
            [
                (r"/healthz", HealthHandler, {"server": self}),
                (r"/readyz", ReadyHandler, {"server": self}),
                *self.routes,
            ],
            log_function=_quiet_access_log,
        )

    def listen(self, *, host: str, port: int) -> int:
        """Start listening; returns the bound port (useful with port 0)."""
        self._http = tornado.httpserver.HTTPServer(self.make_app(), xheaders=True, max_body_size=MAX_BODY_BYTES)
        sockets = tornado.netutil.bind_sockets(port, address=host)
        self._http.add_sockets(sockets)
        return int(sockets[0].getsockname()[1])

    @contextlib.asynccontextmanager
    async def tracking(self) -> AsyncIterator[None]:
        """Count one piece of work as in flight while the block runs (and as handled when it ends normally)."""
        self.in_flight += 1
        self._idle.clear()
        try:
            yield
            self.handled += 1
        finally:
            self.in_flight -= 1
            if self.in_flight == 0:
                self._idle.set()

    async def drain(self, timeout: float) -> bool:
        """Stop taking work and wait for what is in flight; True when nothing was cut off."""
        self.draining = True
        if self._http is not None:
            self._http.stop()  # no new connections; requests already read keep running
        try:
            await asyncio.wait_for(self._idle.wait(), timeout)
        except TimeoutError:
            log.warning("drain: %s request(s) still in progress after %.0f s", self.in_flight, timeout)
            return False
        finally:
            if self._http is not None:
                await self._http.close_all_connections()
        return True


def _quiet_access_log(handler: tornado.web.RequestHandler) -> None:
    """Access lines at DEBUG (probes arrive every few seconds); errors at WARNING. The query string (it may
    carry signatures) is never logged."""
    status = handler.get_status()
    level = logging.WARNING if status >= 500 else logging.DEBUG
    log.log(
        level,
        "%s %s %s %.1f ms",
        status,
        handler.request.method,
        handler.request.path,
        1000.0 * handler.request.request_time(),
    )


class WorkerHandler(tornado.web.RequestHandler):
    """Base of every route: knows its server; JSON answers."""

    def initialize(self, server: WorkerHttpServer, **_: Any) -> None:  # type: ignore[override]
        self.server = server

    def reply_json(self, status: int, payload: dict[str, Any]) -> None:
        self.set_status(status)
        self.set_header("Content-Type", "application/json; charset=utf-8")
        self.finish(json.dumps(payload, ensure_ascii=False))


class HealthHandler(WorkerHandler):
    def get(self) -> None:
        self.reply_json(200, {"status": "ok", "in_flight": self.server.in_flight, "handled": self.server.handled})


class ReadyHandler(WorkerHandler):
    async def get(self) -> None:
        if self.server.draining:
            self.reply_json(503, {"ready": False, "reason": "draining"})
            return
        if not self.server.started:
            self.reply_json(503, {"ready": False, "reason": "starting"})
            return
        readiness = await self.server.readiness()
        self.reply_json(200 if readiness.ready else 503, readiness.as_json())
