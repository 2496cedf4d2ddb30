"""The console channel: the same conversation core in a terminal. Buttons are picked by number.

A terminal has one set of numbers for every message's buttons, so two rules keep a number meaning one thing:
an open quiz question keeps its numbers ([1]–[n]) while other messages come and go — their buttons are numbered
after it, and the console says so — and a number that is no button is never sent to the core as a question.
Pictures and files are written under the data folder and their path printed.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from bot.core import texts
from bot.core.conversation import Conversation
from bot.core.messages import (
    Button,
    ChannelUser,
    DocumentReply,
    ImageReply,
    Inbound,
    Notice,
    Outcome,
    Reply,
    TextReply,
)
from bot.core.roles import Role

LOCAL_USER = ChannelUser("console", "local", "控制台用户")
WELCOME = (
    "随身教练 PocketCoach(控制台)。输入问题回车查询;回复里的 [数字] 是按钮,输入数字即可点按;/help 帮助,/quit 退出。"
)
NUMBER = re.compile(r"\d+")
UNSAFE_NAME = re.compile(r"[^\w.\-]+")


@dataclass
class ButtonNumbers:
    """Which number presses which button: the open quiz question's first, then the latest other message's."""

    question: dict[str, str] = field(default_factory=dict)
    others: dict[str, str] = field(default_factory=dict)

    def token(self, number: str) -> str | None:
        return self.question.get(number) or self.others.get(number)

    def describe(self) -> str:
        count = len(self.question) + len(self.others)
        return f"1–{count}" if count > 1 else "1"

    def number(self, outcome: Outcome) -> dict[Button, str]:
        """Numbers for the outcome's buttons; an open question's buttons start again at 1 (answering the last one
        closed the previous question)."""
        asks = any(isinstance(r, TextReply) and r.open_question and r.buttons for r in outcome.replies)
        has_buttons = any(isinstance(r, TextReply) and r.buttons for r in outcome.replies)
        if asks:
            self.question, self.others = {}, {}
        elif has_buttons:
            self.others = {}
        numbers: dict[Button, str] = {}
        for reply in outcome.replies:
            if not isinstance(reply, TextReply):
                continue
            into = self.question if reply.open_question else self.others
            for row in reply.buttons:
                for button in row:
                    number = str(len(self.question) + len(self.others) + 1)
                    into[number] = button.token
                    numbers[button] = number
        return numbers

    def close_question(self) -> None:
        self.question = {}


def render_outcome(
    outcome: Outcome, *, files_dir: Path, numbers: ButtonNumbers | None = None, now: datetime | None = None
) -> tuple[str, dict[str, str]]:
    """Plain text for the terminal and the number → button token map (open question's and the others')."""
    numbers = ButtonNumbers() if numbers is None else numbers
    had_question = bool(numbers.question)
    labels = numbers.number(outcome)
    lines: list[str] = []
    for reply in outcome.replies:
        if isinstance(reply, TextReply):
            if reply.title:
                lines.append(f"【{reply.title}】")
            lines.append(reply.text)
            for row in reply.buttons:
                lines.append("  ".join(f"[{labels[b]}] {b.label}" for b in row))
            if reply.buttons and not reply.open_question and had_question and numbers.question:
                last = len(numbers.question)
                lines.append(texts.CONSOLE_QUIZ_NUMBERS_KEPT.format(last=last, next=last + 1))
        elif isinstance(reply, Notice):
            lines.append(f"({reply.text})")
        else:
            path = save_file(reply, files_dir, now=now or datetime.now())
            kind = texts.CONSOLE_IMAGE_SAVED if isinstance(reply, ImageReply) else texts.CONSOLE_FILE_SAVED
            lines.append(kind.format(path=path) + (f" {reply.caption}" if reply.caption else ""))
    return "\n".join(lines), {**numbers.question, **numbers.others}


def save_file(reply: DocumentReply | ImageReply, folder: Path, *, now: datetime) -> Path:
    """Write a picture or file the core sent under `folder`, never over an earlier one; its path."""
    folder.mkdir(parents=True, exist_ok=True)
    name = reply.filename if isinstance(reply, DocumentReply) else "图片.png"
    stem, suffix = Path(UNSAFE_NAME.sub("_", name)).stem or "文件", Path(name).suffix
    base = f"{now:%Y%m%d-%H%M%S}-{stem}"
    path = folder / f"{base}{suffix}"
    counter = 1
    while path.exists():
        counter += 1
        path = folder / f"{base}-{counter}{suffix}"
    path.write_bytes(reply.data)
    return path.resolve()


def _leaves_question(outcome: Outcome, inbound: Inbound, *, pressed_question: bool) -> bool:
    """Whether the open question's numbers stop counting: an answer to it that asked nothing new (the quiz ended),
    or a command (/stop, /record …) that did not show it again. A question (/ask or typed) leaves it open."""
    asks = any(isinstance(r, TextReply) and r.open_question for r in outcome.replies)
    if asks or not any(isinstance(r, TextReply) for r in outcome.replies):
        return False
    return pressed_question or (inbound.kind == "command" and inbound.command != "ask")


def run_console_chat(
    conversation: Conversation,
    *,
    read: Callable[[str], str] = input,
    write: Callable[[str], None] = print,
    user: ChannelUser = LOCAL_USER,
    files_dir: Path = Path("data") / "console",
    reminders: Callable[[], Sequence[Sequence[Reply]]] | None = None,
) -> int:
    """Chat until /quit or end of input. The local operator is provisioned as an admin. `reminders` gives the
    messages the outbox has for this user now (bot/channels/console/outbox_sender.py); they print before a prompt."""
    conversation.provision(
        user, name="控制台用户", employee_no="LOCAL0001", region="本机", level="中级", role=Role.ADMIN
    )
    write(WELCOME)
    numbers = ButtonNumbers()
    while True:
        for replies in reminders() if reminders is not None else ():
            write(render_outcome(Outcome(tuple(replies)), files_dir=files_dir, numbers=numbers)[0])
        try:
            line = read("> ").strip()
        except (EOFError, KeyboardInterrupt):
            write("")
            return 0
        if line in {"/quit", "/exit", "/q"}:
            return 0
        if not line:
            continue
        token = numbers.token(line)
        if token is None and NUMBER.fullmatch(line):
            if numbers.question or numbers.others:
                write(texts.CONSOLE_NO_SUCH_BUTTON.format(number=line, numbers=numbers.describe()))
            else:
                write(texts.CONSOLE_NO_BUTTONS.format(number=line))
            continue
        inbound = Inbound(user, "button", button_token=token) if token else Inbound.from_text(user, line)
        outcome = conversation.handle(inbound)
        if _leaves_question(
            outcome, inbound, pressed_question=token is not None and token in numbers.question.values()
        ):
            numbers.close_question()
        text, _ = render_outcome(outcome, files_dir=files_dir, numbers=numbers)
        write(text)
