"""Replies as JSON, so the replies to an update can be stored with it and sent again if Telegram re-delivers it
(a re-delivery means the first answer may never have reached the user).

A picture that says how it was drawn (`ImageReply.redraw`) is stored as that recipe, not as its bytes, and drawn
again on decoding by the renderer of that name; only a picture without one is stored as base64.
"""

from __future__ import annotations

import base64
import json
import logging
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from bot.core.messages import Button, DocumentReply, ImageReply, Notice, Redraw, Reply, TextReply

log = logging.getLogger(__name__)
Renderer = Callable[..., bytes]


def _bytes(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _one(reply: Reply) -> dict[str, Any]:
    if isinstance(reply, TextReply):
        rows = [[[b.label, b.token] for b in row] for row in reply.buttons]
        return {"type": "text", "text": reply.text, "title": reply.title, "buttons": rows}
    if isinstance(reply, DocumentReply):
        return {"type": "document", "filename": reply.filename, "data": _bytes(reply.data), "caption": reply.caption}
    if isinstance(reply, ImageReply):
        if reply.redraw is not None:
            recipe = {"renderer": reply.redraw.renderer, "arguments": reply.redraw.arguments}
            return {"type": "image", "redraw": recipe, "caption": reply.caption}
        return {"type": "image", "data": _bytes(reply.data), "caption": reply.caption}
    return {"type": "notice", "text": reply.text}


def encode_replies(replies: Iterable[Reply]) -> str:
    return json.dumps([_one(r) for r in replies], ensure_ascii=False, separators=(",", ":"))


def decode_replies(text: str, *, renderers: Mapping[str, Renderer] | None = None) -> tuple[Reply, ...]:
    """The stored replies; a picture stored as its recipe is drawn again (left out when no renderer draws it)."""
    replies: list[Reply] = []
    for item in json.loads(text):
        kind = item["type"]
        if kind == "text":
            buttons = tuple(tuple(Button(label, token) for label, token in row) for row in item["buttons"])
            replies.append(TextReply(item["text"], buttons, item["title"]))
        elif kind == "document":
            replies.append(DocumentReply(item["filename"], base64.b64decode(item["data"]), item["caption"]))
        elif kind == "image" and "redraw" in item:
            redraw = Redraw(item["redraw"]["renderer"], item["redraw"]["arguments"])
            render = (renderers or {}).get(redraw.renderer)
            if render is None:
                log.warning("a stored picture cannot be drawn again: no renderer %r", redraw.renderer)
                continue
            replies.append(ImageReply(render(**json.loads(redraw.arguments)), item["caption"], redraw))
        elif kind == "image":
            replies.append(ImageReply(base64.b64decode(item["data"]), item["caption"]))
        else:
            replies.append(Notice(item["text"]))
    return tuple(replies)
