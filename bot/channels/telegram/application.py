"""Builds and runs the Telegram application: token and Bot API server from settings, rate limiting,
timeouts, handlers, the command menu. Polling by default, a webhook when configured."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Protocol
from urllib.parse import urlsplit

from telegram import BotCommand, Update
from telegram.ext import (
    AIORateLimiter,
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    MessageHandler,
    filters,
)
from telegram.request import BaseRequest

from app.settings import WEBHOOK_SECRET_HINT, Settings, webhook_secret_problem
from bot.channels.telegram.handlers import ConversationPort, RetryPolicy, TelegramHandlers
from bot.channels.telegram.outbox_sender import TelegramReplySender
from bot.channels.telegram.polling import AcknowledgingPoller
from bot.channels.telegram.webhook_server import WebhookServer
from bot.channels.worker.http_server import Readiness
from bot.channels.worker.lifecycle import WorkerHooks, run_http_worker, start_background, stop_on_signals
from bot.channels.worker.tasks import SupervisedTasks
from bot.core.uploads import UploadGate
from storage.db import UnitOfWork
from storage.learner_repository import LearnerRepository

log = logging.getLogger(__name__)

BOT_COMMANDS = (
    BotCommand("start", "开始使用 / 登记"),
    BotCommand("help", "查看全部功能"),
    BotCommand("ask", "提问,例如:/ask 投诉处理流程"),
    BotCommand("filter", "只查某一类资料:案例|课程|流程|全部"),
    BotCommand("whoami", "查看我的登记信息"),
)
CONNECT_TIMEOUT = 10.0
READ_TIMEOUT = 30.0
WRITE_TIMEOUT = 30.0
POOL_TIMEOUT = 10.0
FLOOD_RETRIES = 2  # AIORateLimiter retries a request Telegram answered with "retry after"
WEBHOOK_SECRET_ENV = "TELEGRAM_WEBHOOK_SECRET"
HANDLERS_KEY = "pocketcoach.handlers"  # bot_data slot: the TelegramHandlers, for the webhook worker
# Loggers that may print a URL holding the token: PTB logs "Set Bot API URL: …<token>" at DEBUG when the
# bot is built, httpx logs every request URL at INFO. A filter on a logger does not reach its children,
# so each one is named.
TOKEN_BEARING_LOGGERS = (
    "telegram",
    "telegram.Bot",
    "telegram.ext",
    "telegram.ext.ExtBot",
    "telegram.ext.Application",
    "telegram.ext.Updater",
    "telegram.ext.AIORateLimiter",
    "telegram.request.BaseRequest",
    "telegram.request.HTTPXRequest",
    "httpx",
    "httpcore",
)


class Services(Protocol):
    """What the Telegram channel needs from the composition root (`app.composition.Services` is one)."""

    @property
    def uow(self) -> UnitOfWork: ...

    @property
    def conversation(self) -> ConversationPort: ...

    @property
    def worker(self) -> WorkerHooks: ...


class TelegramSetupError(RuntimeError):
    """The Telegram channel cannot start as configured; the message says what to fix."""


class TokenRedactor(logging.Filter):
    """Replaces the bot token's secret half (however a URL encodes the ':') in log records."""

    def __init__(self, token: str) -> None:
        super().__init__()
        self.secret = token.rsplit(":", 1)[-1] or token

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if self.secret in message:
            record.msg, record.args = message.replace(self.secret, "<redacted>"), None
        if record.exc_info:
            trace = logging.Formatter().formatException(record.exc_info)
            if self.secret in trace:
                record.msg = f"{record.msg}\n{trace.replace(self.secret, '<redacted>')}"
                record.exc_info, record.exc_text = None, None
        return True


def keep_token_out_of_logs(token: str) -> None:
    """httpx at WARNING (its INFO lines carry the token in the URL) and a redacting filter on every logger
    that may print the Bot API URL. Idempotent."""
    logging.getLogger("httpx").setLevel(logging.WARNING)
    for name in TOKEN_BEARING_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, TokenRedactor) and f.secret == TokenRedactor(token).secret for f in logger.filters):
            logger.addFilter(TokenRedactor(token))


def file_base_url(base_url: str) -> str:
    """The file-download URL of a Bot API server: `…/bot` → `…/file/bot`."""
    base = base_url.rstrip("/")
    if not base.endswith("/bot"):
        raise TelegramSetupError(
            f"telegram.base_url must end with '/bot' (e.g. https://api.telegram.org/bot), got {base_url!r}"
        )
    return base.removesuffix("/bot") + "/file/bot"


def build_application(
    *,
    services: Services,
    settings: Settings,
    request: BaseRequest | None = None,
    updater_request: BaseRequest | None = None,
    conversation: ConversationPort | None = None,
    retry: RetryPolicy | None = None,
) -> Application:
    """The PTB application wired to the core. `request`/`updater_request` and `conversation` are test seams."""
    token = settings.telegram_bot_token.get_secret_value().strip() if settings.telegram_bot_token else ""
    if not token:
        raise TelegramSetupError("TELEGRAM_BOT_TOKEN is not set: export it in the environment (never in config.toml)")
    keep_token_out_of_logs(token)  # before building: the bot logs its URL when constructed
    base_url = settings.telegram.base_url.rstrip("/")
    builder = (
        ApplicationBuilder()
        .token(token)
        .base_url(base_url)
        .base_file_url(file_base_url(base_url))
        .rate_limiter(
            AIORateLimiter(overall_max_rate=settings.telegram.max_messages_per_second, max_retries=FLOOD_RETRIES)
        )
        .post_init(set_bot_commands)
    )
    # The getUpdates timeouts must be set before a request object: PTB refuses them afterwards.
    if updater_request is None:
        builder = builder.get_updates_connect_timeout(CONNECT_TIMEOUT).get_updates_read_timeout(READ_TIMEOUT)
    else:
        builder = builder.get_updates_request(updater_request)
    if request is None:
        builder = (
            builder.connect_timeout(CONNECT_TIMEOUT)
            .read_timeout(READ_TIMEOUT)
            .write_timeout(WRITE_TIMEOUT)
            .pool_timeout(POOL_TIMEOUT)
        )
    else:
        builder = builder.request(request)
    application = builder.build()
    uploads = UploadGate(services.uow, LearnerRepository())
    handlers = TelegramHandlers(conversation or services.conversation, retry=retry, uploads=uploads)
    register_handlers(application, handlers)
    application.bot_data[HANDLERS_KEY] = handlers
    return application


def reminder_sender(application: Application) -> TelegramReplySender:
    """The outbox's way out through this bot (bot/channels/telegram/outbox_sender.py)."""
    return TelegramReplySender(application.bot, application.bot_data[HANDLERS_KEY])


def register_handlers(application: Application, handlers: TelegramHandlers) -> None:
    """Private-chat messages (not service messages, not edits) and button presses; one error handler."""
    private_messages = filters.ChatType.PRIVATE & filters.UpdateType.MESSAGE & ~filters.StatusUpdate.ALL
    application.add_handler(MessageHandler(private_messages, handlers.on_message))
    application.add_handler(CallbackQueryHandler(handlers.on_callback_query))
    application.add_error_handler(handlers.on_error)


async def set_bot_commands(application: Application) -> None:
    """post_init: the command menu users see next to the text box."""
    await application.bot.set_my_commands(list(BOT_COMMANDS))


def webhook_options(settings: Settings) -> dict[str, object]:
    """The webhook's listener path (the public URL's path) and its secret token: required unless the local-test
    setting allows none."""
    tg = settings.telegram
    if not tg.webhook_url:
        raise TelegramSetupError("telegram.mode = 'webhook' needs telegram.webhook_url (the public https URL)")
    secret = settings.telegram_webhook_secret.get_secret_value() if settings.telegram_webhook_secret else None
    if secret is None and not tg.allow_webhook_without_secret:
        raise TelegramSetupError(
            f"telegram.mode = 'webhook' needs {WEBHOOK_SECRET_ENV} in the environment: without it anyone who can "
            f"reach the worker can post updates as any user ({WEBHOOK_SECRET_HINT}). "
            "telegram.allow_webhook_without_secret = true is only for a local test server."
        )
    if secret is not None and (problem := webhook_secret_problem(secret)):
        raise TelegramSetupError(f"{WEBHOOK_SECRET_ENV} {problem}")
    return {
        "listen": tg.webhook_listen,
        "port": tg.webhook_port,
        "url_path": urlsplit(tg.webhook_url).path.lstrip("/"),
        "webhook_url": tg.webhook_url,
        "secret_token": secret,
        "allowed_updates": Update.ALL_TYPES,
    }


async def run_webhook_worker(
    application: Application,
    services: Services,
    settings: Settings,
    *,
    stop: asyncio.Event | None = None,
    on_listening: Callable[[int], None] | None = None,
) -> None:
    """One stateless webhook worker (see webhook_server): every state it needs is in the database."""
    options = webhook_options(settings)
    tg = settings.telegram
    hooks = services.worker

    async def readiness() -> Readiness:
        return await asyncio.to_thread(hooks.readiness)

    async def open_channel() -> None:
        await application.initialize()
        if application.post_init is not None:
            await application.post_init(application)
        await application.start()

    async def close_channel() -> None:
        try:
            if application.running:
                await application.stop()
        finally:
            await application.shutdown()

    async def register() -> None:
        await application.bot.set_webhook(
            url=str(options["webhook_url"]),
            secret_token=options["secret_token"],  # type: ignore[arg-type]
            allowed_updates=Update.ALL_TYPES,
            max_connections=tg.webhook_max_connections,
        )

    handlers: TelegramHandlers = application.bot_data[HANDLERS_KEY]
    server = WebhookServer(
        application,
        path=str(options["url_path"]),
        secret=options["secret_token"],  # type: ignore[arg-type]
        readiness=readiness,
        undelivered=handlers.take_undelivered,
        order=handlers.order,
    )
    await run_http_worker(
        server,
        hooks=hooks,
        name="Telegram webhook",
        listen=tg.webhook_listen,
        port=tg.webhook_port,
        drain_seconds=tg.drain_seconds,
        open_channel=open_channel,
        close_channel=close_channel,
        register=register if tg.webhook_register else None,
        loops=hooks.outbox_loops(reminder_sender(application)),
        stop=stop,
        on_listening=on_listening,
    )


def run_telegram(services: Services, settings: Settings) -> int:
    """Run the bot until stopped (Ctrl-C / SIGTERM): long polling, or a webhook worker when configured."""
    application = build_application(services=services, settings=settings)
    if settings.telegram.mode == "webhook":
        webhook_options(settings)  # configuration errors before anything starts
        tg = settings.telegram
        log.info("starting Telegram webhook worker on %s:%s", tg.webhook_listen, tg.webhook_port)
        asyncio.run(run_webhook_worker(application, services, settings))
    else:
        log.info("starting Telegram long polling")
        asyncio.run(run_polling_worker(application, services, settings))
    return 0


async def run_polling_worker(
    application: Application,
    services: Services,
    settings: Settings,
    *,
    stop: asyncio.Event | None = None,
) -> None:
    """Long polling (the default) until SIGTERM/SIGINT or `stop`: an update is confirmed to Telegram only after it
    was handled (see polling.AcknowledgingPoller); on stop, the updates in progress finish first."""
    stop = stop or asyncio.Event()
    stop_on_signals(stop)
    handlers: TelegramHandlers = application.bot_data[HANDLERS_KEY]

    async def process(update: Update) -> bool:
        await application.process_update(update)
        return not handlers.take_undelivered(update.update_id)

    poller = AcknowledgingPoller(application, process=process, order=handlers.order)
    await application.initialize()
    background = SupervisedTasks()
    try:
        if application.post_init is not None:
            await application.post_init(application)
        await application.bot.delete_webhook(drop_pending_updates=False)  # getUpdates is refused while one is set
        await application.start()
        start_background(background, services.worker, services.worker.outbox_loops(reminder_sender(application)))
        log.info("polling for updates")
        await poller.run(stop)
        log.info("polling stopped: finishing %d update(s) in progress", len(poller.in_progress))
        await poller.drain(settings.telegram.drain_seconds)
        await application.stop()
    finally:
        await background.close()
        await application.shutdown()
