"""Channel-neutral replies → WeCom messages, within WeCom's limits."""

from __future__ import annotations

from bot.channels.wecom.rendering import (
    MAX_CARD_BUTTONS,
    MAX_TEXT_BYTES,
    CardMessage,
    MediaMessage,
    TextMessage,
    as_payload,
    render_replies,
    split_text,
    token_from_key,
    utf8_length,
)
from bot.core.messages import Button, DocumentReply, ImageReply, Notice, TextReply


def test_long_text_splits_within_2048_utf8_bytes_at_line_breaks_and_loses_nothing():
    lines = [f"第{i}段:" + "谈判技巧与客户期望" * 12 for i in range(40)]  # ~330 bytes a line, Chinese = 3 bytes
    parts = split_text("\n".join(lines))
    assert len(parts) > 1 and all(utf8_length(p) <= MAX_TEXT_BYTES for p in parts)
    assert "\n".join(parts) == "\n".join(lines)
    assert all(p.split("\n")[0].startswith("第") for p in parts)  # every part starts at a line
    one_long_line = "长" * 1500  # 4,500 bytes with no line break: cut between characters
    cut = split_text(one_long_line)
    assert [utf8_length(p) for p in cut] == [2046, 2046, 408] and "".join(cut) == one_long_line
    assert split_text("") == [] and split_text("\n\n") == []


def test_buttons_become_cards_of_at_most_six_whose_keys_carry_the_token():
    buttons = tuple((Button(f"选项{i}", f"tok{i}"),) for i in range(8))
    messages = render_replies([TextReply("第 1/3 题\n题干", buttons=buttons, title="谈判小测")])
    text, first, second = messages
    assert isinstance(text, TextMessage) and text.content == "【谈判小测】\n第 1/3 题\n题干"
    assert isinstance(first, CardMessage) and isinstance(second, CardMessage)
    assert [len(first.buttons), len(second.buttons)] == [MAX_CARD_BUTTONS, 2]
    payload = as_payload(first, touser="wangxl", agent_id=1000002)
    card = payload["template_card"]
    assert payload["msgtype"] == "template_card" and card["card_type"] == "button_interaction"
    assert card["main_title"]["title"] == "谈判小测"
    assert [b["key"] for b in card["button_list"]] == [f"t:tok{i}" for i in range(6)]
    assert first.task_id != second.task_id and len(first.task_id.encode()) <= 128
    assert render_replies([TextReply("x", buttons=buttons)])[1] == first.__class__(
        "请选择", "", first.buttons, first.task_id
    )  # the same buttons make the same card (a resend is recognisable)
    assert token_from_key("t:tok3") == "tok3"
    assert [token_from_key(k) for k in ["tok3", "t:", "t: x", "t:" + "x" * 65]] == ["", "", "", ""]


def test_markdown_titles_images_files_and_notices():
    [md] = render_replies([TextReply("正文", title="标题")], markdown=True)
    assert isinstance(md, TextMessage) and md.markdown and md.content == "**标题**\n正文"
    assert as_payload(md, touser="u", agent_id=1)["markdown"] == {"content": "**标题**\n正文"}
    image, caption, document, notice = render_replies(
        [ImageReply(b"\x89PNG", "雷达图"), DocumentReply("团队.xlsx", b"PK", ""), Notice("已记录")]
    )
    assert image == MediaMessage("image", "radar.png", b"\x89PNG") and caption == TextMessage("雷达图")
    assert document == MediaMessage("file", "团队.xlsx", b"PK") and notice == TextMessage("已记录")
    assert as_payload(document, touser="u", agent_id=1, media_id="m1") == {
        "touser": "u",
        "agentid": 1,
        "msgtype": "file",
        "file": {"media_id": "m1"},
    }
