"""The webhook worker: an HTTP server that takes Telegram's updates, plus health and readiness endpoints.

Why not PTB's own `run_webhook`: it answers Telegram 200 as soon as an update is queued, so a worker that dies
(or is redeployed) a moment later loses the update, and it has no place for health checks. Here each update is
processed inside its HTTP request and answered only afterwards:

- 200 once the update was handled (its effects committed, the reply sent) — or was a duplicate already handled;
- 5xx when the worker could not take it (draining for shutdown, crashed mid-way): Telegram, or the reverse
  proxy in front of several workers, sends it again, and the database's processed-updates table makes the
  second delivery harmless.

Endpoints: `POST /<webhook path>` (Telegram; checks `X-Telegram-Bot-Api-Secret-Token` when a secret is set),
`GET /healthz` (the process answers), `GET /readyz` (database, schema, knowledge index, Chroma — see
`app.health`; 503 while starting or draining).
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import logging
import re
import signal
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

import tornado.httpserver
import tornado.netutil
import tornado.web
from telegram import Update
from telegram.ext import Application

from bot.channels.telegram.polling import UpdateOrder, ordering_key

log = logging.getLogger(__name__)
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
MAX_BODY_BYTES = 1024 * 1024  # Telegram updates are small; file contents are fetched separately


class Readiness(Protocol):
    """What `GET /readyz` reports (see app.health)."""

    @property
    def ready(self) -> bool: ...

    def as_json(self) -> dict[str, object]: ...


class WebhookServer:
    """Serves one PTB application over HTTP; tracks updates in flight so shutdown can wait for them."""

    def __init__(
        self,
        application: Application,
        *,
        path: str,
        secret: str | None,
        readiness: Callable[[], Awaitable[Readiness]],
        undelivered: Callable[[int], bool] = lambda update_id: False,
        order: UpdateOrder | None = None,
    ) -> None:
        self.application = application
        self.order = order or UpdateOrder()
        self.undelivered = undelivered
        self.path = "/" + path.strip("/")
        self.secret = secret
        self.readiness = readiness
        self.started = False  # warm-up done: the worker may be sent updates
        self.draining = False
        self.in_flight = 0
        self.handled = 0
        self._idle = asyncio.Event()
        self._idle.set()
        self._http: tornado.httpserver.HTTPServer | None = None

    def make_app(self) -> tornado.web.Application:
        return tornado.web.Application(
            [
                (r"/healthz", _HealthHandler, {"server": self}),
                (r"/readyz", _ReadyHandler, {"server": self}),
                (re.escape(self.path), _UpdateHandler, {"server": self}),
            ],
            log_function=_quiet_access_log,
        )

    def listen(self, *, host: str, port: int) -> int:
        """Start listening; returns the bound port (useful with port 0)."""
        self._http = tornado.httpserver.HTTPServer(self.make_app(), xheaders=True, max_body_size=MAX_BODY_BYTES)
        sockets = tornado.netutil.bind_sockets(port, address=host)
        self._http.add_sockets(sockets)
        return int(sockets[0].getsockname()[1])

    async def handle(self, update: Update) -> bool:
        """Process one update; False when its replies could not be sent (Telegram should re-deliver it)."""
        self.in_flight += 1
        self._idle.clear()
        try:
            async with self.order.turn(ordering_key(update)):  # one user's updates in order, users side by side
                await self.application.process_update(update)
            self.handled += 1
            return not self.undelivered(update.update_id)
        finally:
            self.in_flight -= 1
            if self.in_flight == 0:
                self._idle.set()

    async def drain(self, timeout: float) -> bool:
        """Stop taking updates and wait for those in flight; True when none was cut off."""
        self.draining = True
        if self._http is not None:
            self._http.stop()  # no new connections; requests already read keep running
        try:
            await asyncio.wait_for(self._idle.wait(), timeout)
        except TimeoutError:
            log.warning("drain: %s update(s) still in progress after %.0f s", self.in_flight, timeout)
            return False
        finally:
            if self._http is not None:
                await self._http.close_all_connections()
        return True


def _quiet_access_log(handler: tornado.web.RequestHandler) -> None:
    """Access lines at DEBUG (probes arrive every few seconds); errors at WARNING."""
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


class _Base(tornado.web.RequestHandler):
    def initialize(self, server: WebhookServer) -> None:  # type: ignore[override]
        self.server = server

    def reply_json(self, status: int, payload: dict[str, Any]) -> None:
        self.set_status(status)
        self.set_header("Content-Type", "application/json; charset=utf-8")
        self.finish(json.dumps(payload, ensure_ascii=False))


class _HealthHandler(_Base):
    def get(self) -> None:
        self.reply_json(200, {"status": "ok", "in_flight": self.server.in_flight, "handled": self.server.handled})


class _ReadyHandler(_Base):
    async def get(self) -> None:
        if self.server.draining:
            self.reply_json(503, {"ready": False, "reason": "draining"})
            return
        if not self.server.started:
            self.reply_json(503, {"ready": False, "reason": "starting"})
            return
        readiness = await self.server.readiness()
        self.reply_json(200 if readiness.ready else 503, readiness.as_json())


class _UpdateHandler(_Base):
    async def post(self) -> None:
        server = self.server
        if server.secret is not None:
            given = self.request.headers.get(SECRET_HEADER, "")
            if not hmac.compare_digest(given.encode(), server.secret.encode()):
                self.reply_json(403, {"ok": False, "description": "wrong secret token"})
                return
        if server.draining or not server.started:
            self.reply_json(503, {"ok": False, "description": "worker not ready; retry"})
            return
        update = _parse_update(self.request.body, server.application)
        if update is None:
            self.reply_json(400, {"ok": False, "description": "bad update"})
            return
        try:
            delivered = await server.handle(update)
        except Exception:
            log.exception("webhook: update %s could not be processed", update.update_id)
            self.reply_json(500, {"ok": False, "description": "processing failed; retry"})
            return
        if not delivered:  # handled and stored, but the reply did not reach Telegram: a re-delivery repeats it
            log.warning("webhook: replies to update %s not sent; asking for a re-delivery", update.update_id)
            self.reply_json(502, {"ok": False, "description": "reply not sent; retry"})
            return
        self.reply_json(200, {"ok": True})


def _parse_update(body: bytes, application: Application) -> Update | None:
    """The update in a request body, or None when the body is not one (logged; the sender gets a 400)."""
    try:
        data = json.loads(body)
        if not isinstance(data, dict) or not isinstance(data.get("update_id"), int):
            raise ValueError("no integer update_id")
        return Update.de_json(data, application.bot)
    except Exception as exc:  # PTB's parsers raise whatever malformed fields make them raise
        log.warning("webhook: not a Telegram update (%s: %s)", type(exc).__name__, exc)
        return None


async def serve_webhook(
    application: Application,
    *,
    listen: str,
    port: int,
    path: str,
    secret: str | None,
    readiness: Callable[[], Awaitable[Readiness]],
    undelivered: Callable[[int], bool],
    order: UpdateOrder | None = None,
    warm_up: Callable[[], Awaitable[None]],
    register: Callable[[], Awaitable[None]] | None,
    drain_seconds: float,
    stop: asyncio.Event | None = None,
    on_listening: Callable[[int], None] | None = None,
) -> None:
    """Run until SIGTERM/SIGINT (or `stop` is set): listen, warm up, register, serve, then drain and shut down."""
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError, RuntimeError):  # not the main thread (tests), or no signals
            loop.add_signal_handler(sig, stop.set)
    server = WebhookServer(
        application, path=path, secret=secret, readiness=readiness, undelivered=undelivered, order=order
    )
    await application.initialize()
    try:
        if application.post_init is not None:
            await application.post_init(application)
        await application.start()
        bound = server.listen(host=listen, port=port)
        log.info("webhook worker listening on %s:%s (path %s)", listen, bound, server.path)
        if on_listening is not None:
            on_listening(bound)
        await warm_up()
        server.started = True
        if register is not None:
            await register()
        log.info("webhook worker ready")
        await stop.wait()
        log.info("webhook worker stopping: draining %s update(s) in progress", server.in_flight)
        await server.drain(drain_seconds)
        await application.stop()
    finally:
        await application.shutdown()
    log.info("webhook worker stopped after %s update(s)", server.handled)
