"""Thin Telegram handlers: translate an `Update` → `Inbound`, call the core off the event loop, render.

Nothing here decides what to answer (the core does) or how it looks (`rendering` does).
"""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import logging
import secrets
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from functools import partial
from typing import Protocol, TypedDict, TypeVar

from telegram import Bot, CallbackQuery, Message, Update
from telegram.constants import ChatAction, ParseMode
from telegram.error import BadRequest, NetworkError, TelegramError
from telegram.ext import ContextTypes

from bot.channels.telegram.rendering import (
    parse_callback_data,
    render_caption,
    render_notice,
    render_text,
)
from bot.channels.worker.ordering import UpdateOrder
from bot.core import texts
from bot.core.messages import (
    ChannelUser,
    DocumentReply,
    ImageReply,
    Inbound,
    InboundFile,
    Notice,
    Outcome,
    Reply,
    TextReply,
)

log = logging.getLogger(__name__)
CHANNEL = "telegram"
MAX_FILE_MB = 10
MAX_FILE_BYTES = MAX_FILE_MB * 1024 * 1024
T = TypeVar("T")


class ConversationPort(Protocol):
    """What the channel needs from the core: one inbound message in, an outcome out (blocking)."""

    def handle(self, inbound: Inbound) -> Outcome: ...


class UploadPort(Protocol):
    """Whether a file from this user is worth downloading (blocking; see bot.core.uploads)."""

    def may_upload(self, user: ChannelUser) -> bool: ...


@dataclass(frozen=True)
class RetryPolicy:
    """Transient network failures when sending are retried `attempts - 1` times, waiting a bit longer each time."""

    attempts: int = 3
    backoff_seconds: float = 0.5


async def send_with_retries(send: Callable[[], Awaitable[T]], policy: RetryPolicy) -> T:
    """Call `send`, retrying `NetworkError`/`TimedOut`; a `BadRequest` (our fault) or `Forbidden` is not retried."""
    for attempt in range(1, policy.attempts + 1):
        try:
            return await send()
        except BadRequest:
            raise
        except NetworkError as exc:
            if attempt >= policy.attempts:
                raise
            log.warning("sending to Telegram failed (%s), retry %d", type(exc).__name__, attempt)
            await asyncio.sleep(policy.backoff_seconds * attempt)
    raise AssertionError("unreachable")  # pragma: no cover


def channel_user(update: Update) -> ChannelUser | None:
    user = update.effective_user
    return None if user is None else ChannelUser(CHANNEL, str(user.id), user.full_name)


def update_digest(update: Update) -> str:
    """The update's own identity: the same for a re-delivery, another for a new update under a reused update id
    (ids are per bot and start again when the bot, its token or a self-hosted Bot API server changes)."""
    user = update.effective_user
    parts: list[object] = [user.id if user is not None else ""]
    if update.callback_query is not None:
        parts += ["callback", update.callback_query.id]
    elif update.effective_message is not None:
        message = update.effective_message
        parts += ["message", message.chat_id, message.message_id, int(message.date.timestamp())]
    return hashlib.sha256("|".join(map(str, parts)).encode()).hexdigest()[:32]


class _Delivery(TypedDict):
    """The Inbound fields that identify one update (see `bot.core.messages.Inbound`)."""

    update_id: str
    bot_id: str
    chat_id: str
    digest: str


def _delivery(update: Update, bot_id: int | str) -> _Delivery:
    chat_id = _chat_id(update)
    return {
        "update_id": str(update.update_id),
        "bot_id": str(bot_id),
        "chat_id": "" if chat_id is None else str(chat_id),
        "digest": update_digest(update),
    }


class FileTooLarge(Exception):
    """The document is over what we read (MAX_FILE_BYTES) or what the Bot API serves (20 MB)."""


async def inbound_from_message(update: Update, bot_id: int | str, *, fetch_files: bool = True) -> Inbound | None:
    """A message → text/command, a file, or 'unsupported' for everything else.

    A file is downloaded (at most 10 MB; larger raises FileTooLarge) only with `fetch_files`; without it the core
    gets the file's name and no bytes, enough to refuse it.
    """
    user, message = channel_user(update), update.effective_message
    if user is None or message is None:
        return None
    delivery = _delivery(update, bot_id)
    if message.text is not None:
        return dataclasses.replace(Inbound.from_text(user, message.text), **delivery)
    if message.document is not None:
        document = message.document
        if not fetch_files:
            named = InboundFile(document.file_name or "file", b"", document.mime_type or "")
            return Inbound(user, "file", file=named, **delivery)
        return Inbound(user, "file", file=await _download_document(message), **delivery)
    return Inbound(user, "unsupported", **delivery)


def inbound_from_callback(update: Update, bot_id: int | str) -> Inbound | None:
    """A button press → kind 'button'; data that is not ours becomes an empty token (the core refuses it)."""
    user, query = channel_user(update), update.callback_query
    if user is None or query is None:
        return None
    token = parse_callback_data(query.data) or ""
    return Inbound(user, "button", button_token=token, **_delivery(update, bot_id))


async def _download_document(message: Message) -> InboundFile:
    document = message.document
    assert document is not None
    if document.file_size is not None and document.file_size > MAX_FILE_BYTES:
        raise FileTooLarge
    try:
        telegram_file = await document.get_file()
    except BadRequest as exc:  # "file is too big": over the Bot API's 20 MB, when the update carried no size
        log.info("getFile refused a document (%s)", exc.message)
        raise FileTooLarge from exc
    if telegram_file.file_size is not None and telegram_file.file_size > MAX_FILE_BYTES:
        raise FileTooLarge
    data = bytes(await telegram_file.download_as_bytearray())
    if len(data) > MAX_FILE_BYTES:
        raise FileTooLarge
    return InboundFile(document.file_name or "file", data, document.mime_type or "")


def _chat_id(update: Update) -> int | None:
    if update.effective_chat is not None:
        return update.effective_chat.id
    return update.effective_user.id if update.effective_user is not None else None


class TelegramHandlers:
    """The callbacks the application registers; they share the core and the retry policy."""

    def __init__(
        self, conversation: ConversationPort, *, retry: RetryPolicy | None = None, uploads: UploadPort | None = None
    ) -> None:
        self.conversation = conversation
        self.uploads = uploads  # None: every file is fetched (a core without roles)
        self.retry = retry or RetryPolicy()
        self.undelivered: set[int] = set()  # update ids whose replies could not be sent (see on_error)
        self.order = UpdateOrder()  # one user's updates one at a time; the poller and the webhook worker use it

    def take_undelivered(self, update_id: int) -> bool:
        """True (once) when the replies to this update could not be sent."""
        if update_id in self.undelivered:
            self.undelivered.discard(update_id)
            return True
        return False

    async def on_message(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Any message in a private chat: typing…, the core, the replies."""
        chat_id = _chat_id(update)
        if chat_id is None:
            return
        try:
            inbound = await inbound_from_message(update, context.bot.id, fetch_files=await self._may_fetch(update))
        except FileTooLarge:  # nothing happened yet, so nothing to claim: a re-delivery says the same
            await self._send(context.bot, chat_id, [TextReply(texts.FILE_TOO_LARGE.format(limit=MAX_FILE_MB))])
            return
        if inbound is None:
            return
        if inbound.kind in {"text", "command"}:
            await self._typing(context.bot, chat_id)
        outcome = await asyncio.to_thread(self.conversation.handle, inbound)
        await self._send(context.bot, chat_id, outcome.replies)  # a re-delivery repeats the first answer

    async def _may_fetch(self, update: Update) -> bool:
        """Registration and role first: only a file the sender may upload is downloaded."""
        user, message = channel_user(update), update.effective_message
        if self.uploads is None or user is None or message is None or message.document is None:
            return True
        return await asyncio.to_thread(self.uploads.may_upload, user)

    async def on_callback_query(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """A button press: the core, then exactly one answer to the query (the toast), then any messages."""
        query, inbound, chat_id = update.callback_query, inbound_from_callback(update, context.bot.id), _chat_id(update)
        if query is None or inbound is None or chat_id is None:
            return
        try:
            outcome = await asyncio.to_thread(self.conversation.handle, inbound)
        except Exception:
            await self._answer(query, None)  # stop the spinner; the error handler apologises
            raise
        await self._answer(query, render_notice([r.text for r in outcome.replies if isinstance(r, Notice)]))
        await self._send(context.bot, chat_id, [r for r in outcome.replies if not isinstance(r, Notice)])

    async def on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Last resort: log with an incident id; the user sees only the apology and that id.

        When Telegram itself could not be reached (the retries ran out), the update is remembered as undelivered:
        the webhook worker then answers 5xx, Telegram re-delivers, and the stored replies go out again.
        """
        incident = secrets.token_hex(4)
        update_id = update.update_id if isinstance(update, Update) else None
        if (
            update_id is not None
            and isinstance(context.error, NetworkError)
            and not isinstance(context.error, BadRequest)
        ):
            self.undelivered.add(update_id)
        log.error("unhandled error, incident %s (update %s)", incident, update_id, exc_info=context.error)
        chat_id = _chat_id(update) if isinstance(update, Update) else None
        if chat_id is None:
            return
        try:
            await self._send(context.bot, chat_id, [TextReply(texts.INTERNAL_ERROR.format(incident=incident))])
        except TelegramError as exc:
            log.warning("could not tell the user about incident %s (%s)", incident, type(exc).__name__)

    async def _send(self, bot: Bot, chat_id: int, replies: Iterable[Reply]) -> None:
        for send in self.message_sends(bot, chat_id, replies):
            await send_with_retries(send, self.retry)

    @staticmethod
    def message_sends(bot: Bot, chat_id: int, replies: Iterable[Reply]) -> list[Callable[[], Awaitable[Message]]]:
        """The replies rendered: one Bot API call per Telegram message, in order (a long text is several)."""
        sends: list[Callable[[], Awaitable[Message]]] = []
        for reply in replies:
            if isinstance(reply, Notice):  # a toast outside a button press: a plain message instead
                reply = TextReply(reply.text)
            if isinstance(reply, TextReply):
                for part in render_text(reply):
                    markup = part.reply_markup
                    sends.append(
                        partial(bot.send_message, chat_id, part.text, parse_mode=ParseMode.HTML, reply_markup=markup)
                    )
            elif isinstance(reply, DocumentReply):
                caption = render_caption(reply.caption)
                sends.append(partial(bot.send_document, chat_id, reply.data, filename=reply.filename, caption=caption))
            elif isinstance(reply, ImageReply):
                sends.append(partial(bot.send_photo, chat_id, reply.data, caption=render_caption(reply.caption)))
        return sends

    async def _answer(self, query: CallbackQuery, text: str | None) -> None:
        try:
            await send_with_retries(partial(query.answer, text), self.retry)
        except BadRequest as exc:  # too old or already answered: the replies still go out
            log.info("could not answer a callback query (%s)", type(exc).__name__)

    @staticmethod
    async def _typing(bot: Bot, chat_id: int) -> None:
        try:
            await bot.send_chat_action(chat_id, ChatAction.TYPING)
        except TelegramError as exc:  # cosmetic: never stop the answer for it
            log.debug("typing action failed (%s)", type(exc).__name__)
