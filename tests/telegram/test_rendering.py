"""The renderer alone: escaping, titles, splitting under 4,096 at line breaks, keyboards, callback data."""

from __future__ import annotations

import pytest

from bot.channels.telegram.rendering import (
    MAX_CALLBACK_BYTES,
    MAX_MESSAGE_CHARS,
    callback_data_for,
    parse_callback_data,
    render_caption,
    render_notice,
    render_text,
    telegram_length,
)
from bot.core.messages import Button, TextReply

BUTTONS = ((Button("📖 原文1", "tokA"), Button("📖 原文2", "tokB")), (Button("👍 有用", "tokC"),))


def test_content_is_escaped_and_the_title_is_bold():
    [message] = render_text(TextReply("备注 <script>alert(1)</script> & 符号", title="答案 <i>"))
    assert message.text == "<b>答案 &lt;i&gt;</b>\n备注 &lt;script&gt;alert(1)&lt;/script&gt; &amp; 符号"
    assert message.reply_markup is None


def test_buttons_become_an_inline_keyboard_with_t_prefixed_callback_data():
    [message] = render_text(TextReply("答案", buttons=BUTTONS))
    rows = message.reply_markup.inline_keyboard
    assert [[b.text for b in row] for row in rows] == [["📖 原文1", "📖 原文2"], ["👍 有用"]]
    assert [[b.callback_data for b in row] for row in rows] == [["t:tokA", "t:tokB"], ["t:tokC"]]


def test_a_long_reply_is_split_at_line_breaks_with_buttons_on_the_last_part_only():
    lines = [f"第{i:03d}行:" + "投诉处理流程<&>" * 12 for i in range(200)]
    reply = TextReply("\n".join(lines), buttons=BUTTONS, title="答案")
    assert len(reply.text) > 9_000
    parts = render_text(reply)
    assert len(parts) >= 3
    assert all(telegram_length(p.text) <= MAX_MESSAGE_CHARS for p in parts)
    assert [p.reply_markup is not None for p in parts] == [False] * (len(parts) - 1) + [True]
    rendered_lines = [line for p in parts for line in p.text.split("\n")]
    assert rendered_lines[0] == "<b>答案</b>"
    assert rendered_lines[1:] == [
        line.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;") for line in lines
    ]


def test_a_single_line_longer_than_the_limit_is_cut_between_characters_never_inside_an_escape():
    raw = "&" * 5_000  # escapes to 25,000 characters
    parts = render_text(TextReply(raw))
    assert all(telegram_length(p.text) <= MAX_MESSAGE_CHARS for p in parts)
    assert "".join(p.text for p in parts) == "&amp;" * 5_000


def test_emoji_count_double_as_telegram_counts_them():
    parts = render_text(TextReply("👍" * 3_000))  # 3,000 characters, 6,000 UTF-16 code units
    assert len(parts) == 2 and all(telegram_length(p.text) <= MAX_MESSAGE_CHARS for p in parts)


def test_nothing_visible_renders_to_no_message():
    assert render_text(TextReply("")) == []
    assert render_text(TextReply("\n \n")) == []


def test_callback_data_is_at_most_64_bytes_and_round_trips():
    token = "a" * (MAX_CALLBACK_BYTES - 2)
    assert parse_callback_data(callback_data_for(token)) == token
    with pytest.raises(ValueError):
        callback_data_for(token + "a")
    with pytest.raises(ValueError):
        callback_data_for("")
    with pytest.raises(ValueError):
        callback_data_for("中" * 21)  # 63 bytes + "t:" = 65


@pytest.mark.parametrize("data", [None, "", "t:", "x" * 64, "reg-level-1", "t:" + "a" * 63, "t: padded "])
def test_data_that_is_not_ours_parses_to_none(data):
    assert parse_callback_data(data) is None


def test_long_button_labels_are_shortened():
    [message] = render_text(TextReply("x", buttons=((Button("很长的按钮" * 10, "tok"),),)))
    label = message.reply_markup.inline_keyboard[0][0].text
    assert len(label) <= 24 and label.endswith("…")


def test_captions_and_notices_respect_telegram_limits():
    assert render_caption("") is None
    assert len(render_caption("说明" * 1_000)) <= 1_024
    assert render_notice([]) is None and render_notice(["  "]) is None
    assert render_notice(["谢谢反馈!"]) == "谢谢反馈!"
    assert len(render_notice(["长" * 500])) <= 200
