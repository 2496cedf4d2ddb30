"""The console channel: the same conversation core in a terminal. Buttons are picked by number."""

from __future__ import annotations

from collections.abc import Callable

from bot.core.conversation import Conversation
from bot.core.messages import Button, ChannelUser, DocumentReply, ImageReply, Inbound, Notice, Outcome, TextReply
from bot.core.roles import Role

LOCAL_USER = ChannelUser("console", "local", "控制台用户")
WELCOME = (
    "随身教练 PocketCoach(控制台)。输入问题回车查询;回复里的 [数字] 是按钮,输入数字即可点按;/help 帮助,/quit 退出。"
)


def render_outcome(outcome: Outcome) -> tuple[str, dict[str, str]]:
    """Plain text for the terminal and the number → button token map of this reply."""
    lines: list[str] = []
    buttons: dict[str, str] = {}
    for reply in outcome.replies:
        if isinstance(reply, TextReply):
            if reply.title:
                lines.append(f"【{reply.title}】")
            lines.append(reply.text)
            for row in reply.buttons:
                lines.append("  ".join(_button(b, buttons) for b in row))
        elif isinstance(reply, Notice):
            lines.append(f"({reply.text})")
        elif isinstance(reply, DocumentReply | ImageReply):
            name = reply.filename if isinstance(reply, DocumentReply) else "图片"
            lines.append(f"[文件: {name}] {reply.caption}")
    return "\n".join(lines), buttons


def _button(button: Button, buttons: dict[str, str]) -> str:
    number = str(len(buttons) + 1)
    buttons[number] = button.token
    return f"[{number}] {button.label}"


def run_console_chat(
    conversation: Conversation,
    *,
    read: Callable[[str], str] = input,
    write: Callable[[str], None] = print,
    user: ChannelUser = LOCAL_USER,
) -> int:
    """Chat until /quit or end of input. The local operator is provisioned as an admin."""
    conversation.provision(
        user, name="控制台用户", employee_no="LOCAL0001", region="本机", level="中级", role=Role.ADMIN
    )
    write(WELCOME)
    buttons: dict[str, str] = {}
    while True:
        try:
            line = read("> ").strip()
        except (EOFError, KeyboardInterrupt):
            write("")
            return 0
        if line in {"/quit", "/exit", "/q"}:
            return 0
        if not line:
            continue
        if line in buttons:
            inbound = Inbound(user, "button", button_token=buttons[line])
        else:
            inbound = Inbound.from_text(user, line)
        text, new_buttons = render_outcome(conversation.handle(inbound))
        if new_buttons:
            buttons = new_buttons
        write(text)
