"""The callback URL of a WeCom self-built app (接收消息服务器), on the worker's HTTP server.

- `GET` — URL verification: msg_signature over token, timestamp, nonce and echostr; the decrypted echostr is the
  answer.
- `POST` — an encrypted message or event: the signature, the timestamp (within `max_clock_skew_seconds`), the
  envelope's and the plaintext's corp id and the agent id are checked, then the core handles it in one
  transaction (claimed by MsgId or by the event's sender, time and key) and WeCom gets `success` at once; only
  then are the replies sent through message/send (see `delivery`). A callback WeCom retries, or one replayed by
  someone else, finds its claim and sends nothing again.

A refused callback answers 403 with no detail (the reason is logged, never the query string).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Protocol

import httpx

from bot.channels.wecom.api import WeComApi, WeComApiError
from bot.channels.wecom.crypto import WeComCrypto, WeComCryptoError
from bot.channels.wecom.delivery import WeComDelivery
from bot.channels.wecom.messages import CHANNEL, BadCallback, WeComMessage, parse_xml
from bot.channels.worker.http_server import Readiness, WorkerHandler, WorkerHttpServer
from bot.channels.worker.ordering import UpdateOrder
from bot.core import texts
from bot.core.messages import ChannelUser, Inbound, InboundFile, Outcome, TextReply
from storage.interaction_repository import UpdateClaim

log = logging.getLogger(__name__)
MAX_FILE_MB = 10
SUCCESS = "success"


class ConversationPort(Protocol):
    """The core: one inbound message in, an outcome out (blocking)."""

    def handle(self, inbound: Inbound) -> Outcome: ...


class UploadPort(Protocol):
    """Whether a file from this user is worth downloading (blocking; see bot.core.uploads)."""

    def may_upload(self, user: ChannelUser) -> bool: ...


@dataclass
class WeComApp:
    """Everything a callback needs: the app's identity and crypto, the core, the API and the delivery."""

    corp_id: str
    agent_id: int
    crypto: WeComCrypto
    conversation: ConversationPort
    uploads: UploadPort
    api: WeComApi
    delivery: WeComDelivery
    max_clock_skew_seconds: int = 300
    clock: Callable[[], float] = time.time
    # the last callbacks' time from arrival to `success` (seconds): what WeCom's 5 s limit is measured against
    ack_seconds: deque[float] = field(default_factory=lambda: deque(maxlen=1000))

    @property
    def bot_id(self) -> str:
        return str(self.agent_id)


class CallbackServer(WorkerHttpServer):
    """The callback route beside the health endpoints; one user's callbacks in order."""

    def __init__(self, app: WeComApp, *, path: str, readiness: Callable[[], Awaitable[Readiness]]) -> None:
        self.app = app
        self.order = UpdateOrder()
        self.path = "/" + path.strip("/")
        self.refused = 0
        super().__init__(readiness=readiness, routes=[(self.path, _CallbackHandler, {"server": self})])


class _Refused(Exception):
    pass


class _CallbackHandler(WorkerHandler):
    server: CallbackServer

    def prepare(self) -> None:
        self._started = time.perf_counter()

    def _success(self) -> None:
        """Answer WeCom, noting how long the answer took (WeCom re-sends after 5 s; see `WeComApp.ack_seconds`)."""
        self.server.app.ack_seconds.append(time.perf_counter() - self._started)
        self.finish(SUCCESS)

    def _params(self, *names: str) -> list[str]:
        values = [self.get_query_argument(name, "") for name in names]
        if not all(values):
            raise _Refused("missing query parameters")
        return values

    def _check_time(self, timestamp: str) -> None:
        app = self.server.app
        if not timestamp.isdigit() or abs(app.clock() - int(timestamp)) > app.max_clock_skew_seconds:
            raise _Refused("stale or bad timestamp")

    def _refuse(self, reason: str) -> None:
        self.server.refused += 1
        log.warning("WeCom callback refused: %s", reason)
        self.set_status(403)
        self.finish("forbidden")

    def get(self) -> None:
        """URL verification: answer the decrypted echostr."""
        try:
            signature, timestamp, nonce, echostr = self._params("msg_signature", "timestamp", "nonce", "echostr")
            self._check_time(timestamp)
            plain = self.server.app.crypto.open(signature, timestamp=timestamp, nonce=nonce, encrypted=echostr)
        except (_Refused, WeComCryptoError) as exc:
            self._refuse(str(exc))
            return
        self.set_header("Content-Type", "text/plain; charset=utf-8")
        self.finish(plain)

    async def post(self) -> None:
        app = self.server.app
        try:
            signature, timestamp, nonce = self._params("msg_signature", "timestamp", "nonce")
            self._check_time(timestamp)
            envelope = parse_xml(self.request.body)
            if envelope.get("ToUserName") != app.corp_id:
                raise _Refused("the envelope is for another corp")
            plain = app.crypto.open(signature, timestamp=timestamp, nonce=nonce, encrypted=envelope.get("Encrypt", ""))
            message = WeComMessage.from_fields(parse_xml(plain))
            if message.corp_id != app.corp_id or (message.agent_id and message.agent_id != app.bot_id):
                raise _Refused("the message is for another corp or app")
        except (_Refused, WeComCryptoError, BadCallback) as exc:
            self._refuse(str(exc))
            return
        if not self.server.accepting:
            self.set_status(503)  # WeCom retries; another worker may take it
            self.finish("not ready")
            return
        if not message.wants_reply:
            self._success()
            return
        async with self.server.tracking(), self.server.order.turn(message.user_id):
            await self._handle(message)

    async def _handle(self, message: WeComMessage) -> None:
        app = self.server.app
        user = ChannelUser(CHANNEL, message.user_id)
        try:
            file = await self._fetch_file(message, user)
        except _TooLarge:
            self._success()
            await self._send_quietly(Outcome((TextReply(texts.FILE_TOO_LARGE.format(limit=MAX_FILE_MB)),)), user)
            return
        inbound = message.to_inbound(bot_id=app.bot_id, file=file)
        try:
            outcome = await asyncio.to_thread(app.conversation.handle, inbound)
        except Exception:
            log.exception("WeCom: callback %s could not be processed", inbound.update_id)
            self.set_status(500)  # nothing was committed: WeCom's retry handles it again
            self.finish("error")
            return
        self._success()  # committed: WeCom must not wait for (or retry because of) the sending
        claim = UpdateClaim(CHANNEL, app.bot_id, inbound.update_id, inbound.digest, user.external_id, user.external_id)
        try:
            state = await app.delivery.deliver(claim)
        except Exception:
            log.exception("WeCom: delivering the replies to callback %s failed; the sweeper retries", claim.update_id)
            return
        if state == "missing":  # nothing stored (the database was down): the outcome is an apology, send it once
            await self._send_quietly(outcome, user)

    async def _fetch_file(self, message: WeComMessage, user: ChannelUser) -> InboundFile | None:
        """A trainer's file, downloaded only after the role check (the core refuses anyone else's by its name)."""
        app = self.server.app
        if message.msg_type != "file" or not message.media_id:
            return None
        if not await asyncio.to_thread(app.uploads.may_upload, user):
            return None
        try:
            name, data = await app.api.download(message.media_id, max_bytes=MAX_FILE_MB * 1024 * 1024)
        except ValueError:
            raise _TooLarge from None
        return InboundFile(message.file_name or name, data)

    async def _send_quietly(self, outcome: Outcome, user: ChannelUser) -> None:
        try:
            await self.server.app.delivery.send_now(outcome.replies, touser=user.external_id)
        except (WeComApiError, httpx.HTTPError) as exc:
            log.warning("WeCom: a reply that was not stored could not be sent (%s)", type(exc).__name__)


class _TooLarge(Exception):
    pass
