"""Replies as JSON, so the replies to an update can be stored with it and sent again if Telegram re-delivers it
(a re-delivery means the first answer may never have reached the user)."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable
from typing import Any

from bot.core.messages import Button, DocumentReply, ImageReply, Notice, Reply, TextReply


def _bytes(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _one(reply: Reply) -> dict[str, Any]:
    if isinstance(reply, TextReply):
        rows = [[[b.label, b.token] for b in row] for row in reply.buttons]
        return {"type": "text", "text": reply.text, "title": reply.title, "buttons": rows}
    if isinstance(reply, DocumentReply):
        return {"type": "document", "filename": reply.filename, "data": _bytes(reply.data), "caption": reply.caption}
    if isinstance(reply, ImageReply):
        return {"type": "image", "data": _bytes(reply.data), "caption": reply.caption}
    return {"type": "notice", "text": reply.text}


def encode_replies(replies: Iterable[Reply]) -> str:
    return json.dumps([_one(r) for r in replies], ensure_ascii=False, separators=(",", ":"))


def decode_replies(text: str) -> tuple[Reply, ...]:
    replies: list[Reply] = []
    for item in json.loads(text):
        kind = item["type"]
        if kind == "text":
            buttons = tuple(tuple(Button(label, token) for label, token in row) for row in item["buttons"])
            replies.append(TextReply(item["text"], buttons, item["title"]))
        elif kind == "document":
            replies.append(DocumentReply(item["filename"], base64.b64decode(item["data"]), item["caption"]))
        elif kind == "image":
            replies.append(ImageReply(base64.b64decode(item["data"]), item["caption"]))
        else:
            replies.append(Notice(item["text"]))
    return tuple(replies)
