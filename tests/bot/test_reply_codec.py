"""Stored replies come back exactly as they were sent (they are sent again when Telegram re-delivers)."""

from __future__ import annotations

from bot.core.messages import Button, DocumentReply, ImageReply, Notice, TextReply
from bot.core.reply_codec import decode_replies, encode_replies


def test_every_kind_of_reply_survives_the_round_trip():
    replies = (
        TextReply(
            '答案 <b>不是标记</b> & 引号"',
            buttons=((Button("📖 原文1", "tok1"), Button("更多结果", "tok2")), (Button("👍 有用", "tok3"),)),
            title="答案",
        ),
        TextReply("没有按钮"),
        DocumentReply("团队概况.xlsx", b"PK\x03\x04\x00\xff binary", caption="团队"),
        ImageReply(b"\x89PNG\r\n\x1a\n\x00\x01", caption="雷达图"),
        Notice("已记录,谢谢"),
    )
    assert decode_replies(encode_replies(replies)) == replies


def test_no_replies_is_an_empty_list():
    assert encode_replies(()) == "[]"
    assert decode_replies("[]") == ()
