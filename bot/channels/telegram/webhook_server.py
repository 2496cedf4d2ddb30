"""The webhook worker: an HTTP server that takes Telegram's updates, plus health and readiness endpoints.

Why not PTB's own `run_webhook`: it answers Telegram 200 as soon as an update is queued, so a worker that dies
(or is redeployed) a moment later loses the update, and it has no place for health checks. Here each update is
processed inside its HTTP request and answered only afterwards:

- 200 once the update was handled (its effects committed, the reply sent) — or was a duplicate already handled;
- 5xx when the worker could not take it (draining for shutdown, crashed mid-way): Telegram, or the reverse
  proxy in front of several workers, sends it again, and the database's processed-updates table makes the
  second delivery harmless.

Endpoints: `POST /<webhook path>` (Telegram; checks `X-Telegram-Bot-Api-Secret-Token` when a secret is set),
`GET /healthz` and `GET /readyz` (from `bot.channels.worker.http_server`, as every channel's worker has them).
The worker's life (listen, warm up, background loops, drain) is `bot.channels.worker.lifecycle.run_http_worker`.
"""

from __future__ import annotations

import hmac
import json
import logging
import re
from collections.abc import Awaitable, Callable

from telegram import Update
from telegram.ext import Application

from bot.channels.telegram.polling import ordering_key
from bot.channels.worker.http_server import Readiness, WorkerHandler, WorkerHttpServer
from bot.channels.worker.ordering import UpdateOrder

log = logging.getLogger(__name__)
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


class WebhookServer(WorkerHttpServer):
    """Serves one PTB application's webhook beside the health endpoints."""

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
        super().__init__(readiness=readiness, routes=[(re.escape(self.path), _UpdateHandler, {"server": self})])

    async def handle(self, update: Update) -> bool:
        """Process one update; False when its replies could not be sent (Telegram should re-deliver it)."""
        async with self.tracking(), self.order.turn(ordering_key(update)):  # one user's updates in order
            await self.application.process_update(update)
        return not self.undelivered(update.update_id)


class _UpdateHandler(WorkerHandler):
    server: WebhookServer

    async def post(self) -> None:
        server = self.server
        if server.secret is not None:
            given = self.request.headers.get(SECRET_HEADER, "")
            if not hmac.compare_digest(given.encode(), server.secret.encode()):
                self.reply_json(403, {"ok": False, "description": "wrong secret token"})
                return
        if not server.accepting:
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
