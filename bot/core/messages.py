"""Channel-neutral messages: what a channel hands the core, and the replies it must render.

Text is plain (no markup); each channel escapes and formats it. Replies are split only at line breaks,
so a source reference (one line) is never cut in two.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

InboundKind = Literal["text", "command", "button", "file", "unsupported"]


@dataclass(frozen=True)
class ChannelUser:
    """Who wrote, as the channel knows them: `telegram` + `12345`."""

    channel: str
    external_id: str
    display_name: str = ""

    @property
    def key(self) -> str:
        return f"{self.channel}:{self.external_id}"


@dataclass(frozen=True)
class InboundFile:
    filename: str
    data: bytes
    mime_type: str = ""


@dataclass(frozen=True)
class Inbound:
    """One thing a user did: typed text, a /command, a button press, a file, or something unsupported."""

    user: ChannelUser
    kind: InboundKind
    text: str = ""
    command: str = ""
    args: str = ""
    button_token: str = ""
    file: InboundFile | None = None
    update_id: str = ""  # for deduplicating redelivered updates; empty when the channel has none
    # With update_id, what tells a re-delivery from another update under a reused id (ids are per bot and restart):
    bot_id: str = ""  # the bot the update was sent to
    chat_id: str = ""  # where the replies go (a private chat's id is the user's); stored replies go nowhere else
    digest: str = ""  # the update's own identity (message id and date, callback id)

    @classmethod
    def from_text(cls, user: ChannelUser, text: str, *, update_id: str = "") -> Inbound:
        """Text starting with '/' is a command (`/ask 问题` → command 'ask', args '问题')."""
        stripped = text.strip()
        if stripped.startswith("/") and len(stripped) > 1:
            head, _, rest = stripped[1:].partition(" ")
            command = head.split("@", 1)[0].lower()
            return cls(user, "command", text=stripped, command=command, args=rest.strip(), update_id=update_id)
        return cls(user, "text", text=stripped, update_id=update_id)


@dataclass(frozen=True)
class Button:
    label: str
    token: str


@dataclass(frozen=True)
class TextReply:
    text: str
    buttons: tuple[tuple[Button, ...], ...] = ()
    title: str = ""  # shown emphasised above the text when the channel can
    # A question that stays open while other messages come and go (a quiz question): a channel with one set of
    # button numbers (the console) keeps these buttons' numbers until the question is answered.
    open_question: bool = False


@dataclass(frozen=True)
class DocumentReply:
    filename: str
    data: bytes
    caption: str = ""


@dataclass(frozen=True)
class Redraw:
    """How a picture was drawn: a renderer's name and its arguments (JSON). Stored instead of the image, so a
    re-delivered update draws the same picture again (a radar PNG is ~85 KB, its input a few hundred bytes)."""

    renderer: str
    arguments: str


@dataclass(frozen=True)
class ImageReply:
    data: bytes
    caption: str = ""
    redraw: Redraw | None = None


@dataclass(frozen=True)
class Notice:
    """A short acknowledgement of a button press (a toast), not a new message."""

    text: str


Reply = TextReply | DocumentReply | ImageReply | Notice


@dataclass(frozen=True)
class Outcome:
    """What the core did with one inbound message."""

    replies: tuple[Reply, ...] = ()
    duplicate: bool = False  # already handled (a re-delivery): `replies` are the first answer, to send again
    busy: bool = field(default=False)  # a long operation: the channel may show "typing…"
