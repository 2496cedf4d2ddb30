"""Builds and runs one WeCom worker: the callback server on the worker runtime, the API client with the shared
access token, the delivery and its sweeper. Stateless like the Telegram webhook worker: any worker takes any
callback, every state is in the database."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from functools import partial
from typing import Protocol

import httpx

from app.settings import Settings
from bot.channels.wecom.api import SharedAccessToken, WeComApi, fetch_access_token
from bot.channels.wecom.callback_server import CallbackServer, ConversationPort, WeComApp
from bot.channels.wecom.crypto import WeComCrypto, WeComCryptoError, aes_key_from
from bot.channels.wecom.delivery import WeComDelivery
from bot.channels.wecom.messages import CHANNEL
from bot.channels.wecom.outbox_sender import WeComReplySender
from bot.channels.worker.http_server import Readiness
from bot.channels.worker.lifecycle import WorkerHooks, run_http_worker
from bot.core.reply_codec import Renderer
from bot.core.uploads import UploadGate
from storage.db import UnitOfWork, utc_now
from storage.learner_repository import LearnerRepository

log = logging.getLogger(__name__)


class WeComSetupError(RuntimeError):
    """The WeCom channel cannot start as configured; the message says what to fix."""


class Services(Protocol):
    """What the WeCom channel needs from the composition root (`app.composition.Services` is one)."""

    @property
    def uow(self) -> UnitOfWork: ...

    @property
    def conversation(self) -> ConversationPort: ...

    @property
    def worker(self) -> WorkerHooks: ...

    @property
    def reply_renderers(self) -> Mapping[str, Renderer]: ...


def _secret(settings: Settings, name: str, env: str) -> str:
    value = getattr(settings, name)
    text = value.get_secret_value().strip() if value is not None else ""
    if not text:
        raise WeComSetupError(f"{env} is not set: export it in the environment (never in config.toml)")
    return text


def check_configuration(settings: Settings) -> tuple[str, str, str]:
    """(token, EncodingAESKey, secret), or WeComSetupError naming what is missing."""
    w = settings.wecom
    if not w.corp_id or not w.agent_id:
        raise WeComSetupError("[wecom] corp_id and agent_id must be set (企业ID and the app's AgentId)")
    token = _secret(settings, "wecom_token", "WECOM_TOKEN")
    aes_key = _secret(settings, "wecom_encoding_aes_key", "WECOM_ENCODING_AES_KEY")
    try:
        aes_key_from(aes_key)
    except WeComCryptoError as exc:
        raise WeComSetupError(f"WECOM_ENCODING_AES_KEY: {exc.reason}") from None
    return token, aes_key, _secret(settings, "wecom_secret", "WECOM_SECRET")


def build_app(
    services: Services, settings: Settings, *, http: httpx.AsyncClient, clock: Callable[[], float] | None = None
) -> WeComApp:
    """The callback's collaborators; `http` is the API client (its base_url is `[wecom] base_url`)."""
    token, aes_key, secret = check_configuration(settings)
    w = settings.wecom
    shared = SharedAccessToken(
        uow=services.uow,
        key=f"{CHANNEL}:{w.corp_id}:{w.agent_id}",
        fetch=partial(
            fetch_access_token, w.base_url, corp_id=w.corp_id, secret=secret, timeout=w.request_timeout_seconds
        ),
        clock=utc_now,
    )
    api = WeComApi(http=http, tokens=shared)
    delivery = WeComDelivery(
        uow=services.uow,
        api=api,
        agent_id=w.agent_id,
        channel=CHANNEL,
        bot_id=str(w.agent_id),
        renderers=services.reply_renderers,
        markdown=w.markdown,
    )
    extra = {"clock": clock} if clock is not None else {}
    return WeComApp(
        corp_id=w.corp_id,
        agent_id=w.agent_id,
        crypto=WeComCrypto(token, aes_key, w.corp_id),
        conversation=services.conversation,
        uploads=UploadGate(services.uow, LearnerRepository()),
        api=api,
        delivery=delivery,
        max_clock_skew_seconds=w.max_clock_skew_seconds,
        **extra,  # type: ignore[arg-type]
    )


async def run_wecom_worker(
    services: Services,
    settings: Settings,
    *,
    stop: asyncio.Event | None = None,
    on_listening: Callable[[int], None] | None = None,
    on_app: Callable[[WeComApp], None] | None = None,
) -> None:
    """One WeCom worker until SIGTERM/SIGINT (or `stop`)."""
    w = settings.wecom
    logging.getLogger("httpx").setLevel(logging.WARNING)  # its INFO lines carry the access token and secret
    hooks = services.worker
    async with httpx.AsyncClient(base_url=w.base_url.rstrip("/"), timeout=w.request_timeout_seconds) as http:
        app = build_app(services, settings, http=http)
        if on_app is not None:
            on_app(app)

        async def readiness() -> Readiness:
            return await asyncio.to_thread(hooks.readiness)

        async def nothing() -> None:
            return None

        server = CallbackServer(app, path=w.callback_path, readiness=readiness)
        await run_http_worker(
            server,
            hooks=hooks,
            name="WeCom",
            listen=w.listen,
            port=w.port,
            drain_seconds=w.drain_seconds,
            open_channel=nothing,
            close_channel=nothing,
            loops=[
                ("wecom_deliveries", app.delivery.keep_delivering),
                *hooks.outbox_loops(WeComReplySender(app.delivery)),  # reminders to WeCom members
            ],
            stop=stop,
            on_listening=on_listening,
        )


def run_wecom(services: Services, settings: Settings) -> int:
    """`coach run` with the WeCom channel: configuration errors before anything starts."""
    check_configuration(settings)
    log.info(
        "starting WeCom worker on %s:%s%s", settings.wecom.listen, settings.wecom.port, settings.wecom.callback_path
    )
    asyncio.run(run_wecom_worker(services, settings))
    return 0
