"""The console channel drives the same core: questions, numbered buttons, quitting."""

from __future__ import annotations

from bot.channels.console.chat import run_console_chat


def test_console_session_answers_and_presses_buttons_by_number(core):
    typed = iter(["晋级要走哪些流程", "1", "1", "", "/whoami", "/quit"])
    written: list[str] = []
    assert run_console_chat(core, read=lambda _prompt: next(typed), write=written.append) == 0
    transcript = "\n".join(written)
    assert "【答案】" in transcript and "[1] 📖 原文1" in transcript
    assert "原文 [1] 客户经理晋级流程" in transcript  # "1" pressed the first button
    assert transcript.count("原文 [1] 客户经理晋级流程") == 2  # a reading button can be pressed again
    assert "角色:管理员" in transcript  # the local operator is provisioned as an admin


def test_console_ends_quietly_at_end_of_input(core):
    def closed(_prompt: str) -> str:
        raise EOFError

    assert run_console_chat(core, read=closed, write=lambda _text: None) == 0
