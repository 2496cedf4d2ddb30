"""Channel-neutral replies → Telegram messages: HTML escaping, the 4,096-character limit, keyboards.

Pure: no network. Everything Telegram-specific about *how a reply looks* lives here, not in the handlers.
"""

from __future__ import annotations

import html
from dataclasses import dataclass

from telegram import InlineKeyboardButton, InlineKeyboardMarkup
from telegram.constants import CallbackQueryLimit, InlineKeyboardButtonLimit, MessageLimit

from bot.channels.text_pieces import pack_to_limit
from bot.core.messages import Button, TextReply

MAX_MESSAGE_CHARS = MessageLimit.MAX_TEXT_LENGTH  # 4,096
MAX_CAPTION_CHARS = MessageLimit.CAPTION_LENGTH  # 1,024
MAX_CALLBACK_BYTES = InlineKeyboardButtonLimit.MAX_CALLBACK_DATA  # 64
MAX_BUTTON_LABEL_CHARS = 24
CALLBACK_PREFIX = "t:"


@dataclass(frozen=True)
class RenderedMessage:
    """One Telegram message: HTML text (already escaped) and an optional inline keyboard."""

    text: str
    reply_markup: InlineKeyboardMarkup | None = None


def telegram_length(text: str) -> int:
    """Length as Telegram counts it (UTF-16 code units), never less than `len(text)`."""
    return len(text.encode("utf-16-le")) // 2


def render_text(reply: TextReply, *, limit: int = MAX_MESSAGE_CHARS) -> list[RenderedMessage]:
    """Escape, add the bold title, split at line breaks into parts of at most `limit`; buttons on the last part.

    A reply with no visible text renders to no message at all (Telegram refuses empty messages).
    """
    lines = [f"<b>{html.escape(reply.title)}</b>"] if reply.title.strip() else []
    for raw in reply.text.split("\n"):
        lines.extend(_escaped_pieces(raw, limit))
    parts = [part for part in _pack(lines, limit) if part.strip()]
    if not parts:
        return []
    keyboard = render_keyboard(reply.buttons)
    return [RenderedMessage(part, keyboard if i == len(parts) - 1 else None) for i, part in enumerate(parts)]


def render_keyboard(rows: tuple[tuple[Button, ...], ...]) -> InlineKeyboardMarkup | None:
    """An inline keyboard with `t:<token>` callback data; None when there are no buttons."""
    keyboard = [[_button(b) for b in row] for row in rows if row]
    return InlineKeyboardMarkup(keyboard) if keyboard else None


def render_caption(caption: str) -> str | None:
    """A plain-text caption (sent without parse mode) cut to Telegram's 1,024 characters."""
    caption = caption.strip()
    if not caption:
        return None
    return caption if telegram_length(caption) <= MAX_CAPTION_CHARS else _cut(caption, MAX_CAPTION_CHARS - 1) + "…"


def callback_data_for(token: str) -> str:
    """`t:` + token, refused when over Telegram's 64 bytes (a silent cut would break the button)."""
    data = CALLBACK_PREFIX + token
    if not token or len(data.encode("utf-8")) > MAX_CALLBACK_BYTES:
        raise ValueError(f"button token must be 1–{MAX_CALLBACK_BYTES - len(CALLBACK_PREFIX)} bytes, got {token!r}")
    return data


def parse_callback_data(data: str | None) -> str | None:
    """The token of one of our buttons, or None for anything that is not ours."""
    if not data or not data.startswith(CALLBACK_PREFIX) or len(data.encode("utf-8")) > MAX_CALLBACK_BYTES:
        return None
    token = data.removeprefix(CALLBACK_PREFIX)
    return token if token.strip() == token and token else None


def _button(button: Button) -> InlineKeyboardButton:
    label = button.label.strip() or "…"
    if len(label) > MAX_BUTTON_LABEL_CHARS:
        label = label[: MAX_BUTTON_LABEL_CHARS - 1] + "…"
    return InlineKeyboardButton(label, callback_data=callback_data_for(button.token))


def _escaped_pieces(raw_line: str, limit: int) -> list[str]:
    """One escaped line, or — only when it alone exceeds `limit` — several, cut between characters of
    the *raw* text so an escape like `&amp;` is never cut in two."""
    escaped = html.escape(raw_line)
    if telegram_length(escaped) <= limit:
        return [escaped]
    return pack_to_limit((html.escape(char) for char in raw_line), telegram_length, limit)


def _pack(lines: list[str], limit: int) -> list[str]:
    """Greedily join lines with '\\n' into parts of at most `limit` (every line already fits)."""
    parts: list[str] = []
    current: list[str] = []
    size = 0
    for line in lines:
        width = telegram_length(line)
        extra = width if not current else width + 1
        if current and size + extra > limit:
            parts.append("\n".join(current))
            current, size, extra = [], 0, width
        current.append(line)
        size += extra
    if current:
        parts.append("\n".join(current))
    return parts


def _cut(text: str, limit: int) -> str:
    out: list[str] = []
    size = 0
    for char in text:
        size += telegram_length(char)
        if size > limit:
            break
        out.append(char)
    return "".join(out)


def render_notice(notices: list[str]) -> str | None:
    """The toast answering a button press (plain text, at most 200 characters), or None for a silent answer."""
    text = "\n".join(n.strip() for n in notices if n.strip())
    if not text:
        return None
    limit = CallbackQueryLimit.ANSWER_CALLBACK_QUERY_TEXT_LENGTH
    return text if telegram_length(text) <= limit else _cut(text, limit - 1) + "…"
