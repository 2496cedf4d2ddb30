"""Channel-neutral replies → WeCom app messages (message/send): text within 2,048 bytes, an optional markdown
title, template cards with buttons (their clicks come back as events), images and files (uploaded first).

Pure: no network. The sender turns each `OutboundMessage` into a request body with `as_payload`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from bot.channels.text_pieces import pack_to_limit
from bot.core.messages import Button, DocumentReply, ImageReply, Notice, Reply, TextReply

MAX_TEXT_BYTES = 2048  # message/send text.content and markdown.content, UTF-8
MAX_CARD_BUTTONS = 6  # template_card button_interaction: button_list holds at most 6
MAX_BUTTON_TEXT_CHARS = 20  # WeCom advises 10; a quiz title needs a little more
MAX_CARD_TITLE_CHARS = 26
MAX_CARD_SUBTITLE_CHARS = 112
BUTTON_KEY_PREFIX = "t:"  # the card event's EventKey is "t:<token>"
CHOOSE_PROMPT = "请选择"


@dataclass(frozen=True)
class TextMessage:
    content: str
    markdown: bool = False


@dataclass(frozen=True)
class CardMessage:
    """A template card of type button_interaction."""

    title: str
    subtitle: str
    buttons: tuple[Button, ...]
    task_id: str


@dataclass(frozen=True)
class MediaMessage:
    """An image or a file: uploaded (media/upload) just before it is sent."""

    kind: Literal["image", "file"]
    filename: str
    data: bytes


OutboundMessage = TextMessage | CardMessage | MediaMessage


def utf8_length(text: str) -> int:
    return len(text.encode("utf-8"))


def split_text(text: str, *, limit: int = MAX_TEXT_BYTES) -> list[str]:
    """Parts of at most `limit` UTF-8 bytes, cut at line breaks (a line longer than that between characters)."""
    parts: list[str] = []
    current = ""
    for line in text.split("\n"):
        for piece in _cut_line(line, limit):
            candidate = piece if not current else current + "\n" + piece
            if utf8_length(candidate) <= limit:
                current = candidate
            else:
                if current:
                    parts.append(current)
                current = piece
    if current:
        parts.append(current)
    return [part for part in parts if part.strip()]


def _cut_line(line: str, limit: int) -> list[str]:
    if utf8_length(line) <= limit:
        return [line]
    return pack_to_limit(line, utf8_length, limit)


def _shorten(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def button_key(token: str) -> str:
    return BUTTON_KEY_PREFIX + token


def token_from_key(key: str) -> str:
    """The button token behind a card event's EventKey; "" for anything that is not one of ours."""
    if not key.startswith(BUTTON_KEY_PREFIX):
        return ""
    token = key.removeprefix(BUTTON_KEY_PREFIX)
    return token if token and token.strip() == token and len(token) <= 64 else ""


def _task_id(buttons: Sequence[Button]) -> str:
    """A card's task_id (unique per card, ≤ 128 bytes of [A-Za-z0-9_-@]): from its buttons' tokens, so the same
    stored reply sent again makes the same card."""
    return "pc-" + hashlib.sha256("|".join(b.token for b in buttons).encode()).hexdigest()[:40]


def render_text_reply(reply: TextReply, *, markdown: bool = False) -> list[OutboundMessage]:
    """The text (its title bold in markdown, or in 【】), then the buttons as cards of up to six."""
    messages: list[OutboundMessage] = []
    title = reply.title.strip()
    if markdown:
        head = f"**{title}**\n" if title else ""
        messages += [TextMessage(part, markdown=True) for part in split_text(head + reply.text)]
    else:
        head = f"【{title}】\n" if title else ""
        messages += [TextMessage(part) for part in split_text(head + reply.text)]
    buttons = [button for row in reply.buttons for button in row]
    card_title = _shorten(title or CHOOSE_PROMPT, MAX_CARD_TITLE_CHARS)
    for start in range(0, len(buttons), MAX_CARD_BUTTONS):
        chunk = tuple(buttons[start : start + MAX_CARD_BUTTONS])
        subtitle = "" if start == 0 else f"(续 {start // MAX_CARD_BUTTONS + 1})"
        messages.append(CardMessage(card_title, subtitle, chunk, _task_id(chunk)))
    return messages


def render_replies(replies: Iterable[Reply], *, markdown: bool = False) -> list[OutboundMessage]:
    """Every reply as WeCom messages, in order. A Notice (a toast elsewhere) is a short text here."""
    messages: list[OutboundMessage] = []
    for reply in replies:
        if isinstance(reply, Notice):
            messages += [TextMessage(part) for part in split_text(reply.text)]
        elif isinstance(reply, TextReply):
            messages += render_text_reply(reply, markdown=markdown)
        elif isinstance(reply, ImageReply):
            messages.append(MediaMessage("image", "radar.png", reply.data))
            messages += [TextMessage(part) for part in split_text(reply.caption)]
        elif isinstance(reply, DocumentReply):
            messages.append(MediaMessage("file", reply.filename, reply.data))
            messages += [TextMessage(part) for part in split_text(reply.caption)]
    return messages


def as_payload(message: OutboundMessage, *, touser: str, agent_id: int, media_id: str = "") -> dict[str, Any]:
    """The message/send request body (a MediaMessage needs the media_id its upload returned)."""
    base: dict[str, Any] = {"touser": touser, "agentid": agent_id}
    if isinstance(message, TextMessage):
        kind = "markdown" if message.markdown else "text"
        return {**base, "msgtype": kind, kind: {"content": message.content}}
    if isinstance(message, MediaMessage):
        if not media_id:
            raise ValueError("an image or file message needs the media_id of its upload")
        return {**base, "msgtype": message.kind, message.kind: {"media_id": media_id}}
    card: dict[str, Any] = {
        "card_type": "button_interaction",
        "main_title": {"title": message.title},
        "task_id": message.task_id,
        "button_list": [
            {"text": _shorten(b.label.strip() or "…", MAX_BUTTON_TEXT_CHARS), "style": 1, "key": button_key(b.token)}
            for b in message.buttons
        ],
    }
    if message.subtitle:
        card["sub_title_text"] = _shorten(message.subtitle, MAX_CARD_SUBTITLE_CHARS)
    return {**base, "msgtype": "template_card", "template_card": card}
