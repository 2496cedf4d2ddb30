"""The console channel drives the same core: questions, numbered buttons, quitting."""

from __future__ import annotations

from sqlalchemy import select

from bot.channels.console.chat import run_console_chat
from bot.core.messages import ChannelUser
from storage.models import AskedQuestion, AttemptAnswer
from tests.bot.test_quiz_chat import publish
from tests.bot.test_quiz_chat import world as world  # a fixture, used by name


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


def _session(core, typed: list[str], **kw) -> str:
    lines = iter([*typed, "/quit"])
    written: list[str] = []
    assert run_console_chat(core, read=lambda _prompt: next(lines), write=written.append, **kw) == 0
    return "\n".join(written)


def test_a_number_that_is_no_button_is_not_searched(core):
    transcript = _session(core, ["9", "晋级要走哪些流程", "9", "0"])
    assert "当前没有可以按的按钮" in transcript
    assert "没有编号为 9 的按钮(可按 1–6)" in transcript and "没有编号为 0 的按钮" in transcript
    assert core.knowledge.collections == [None]  # only the question was searched
    with core.uow.read() as session:
        assert [q.question for q in session.scalars(select(AskedQuestion))] == ["晋级要走哪些流程"]


def test_mid_quiz_a_lookup_keeps_the_quiz_numbers_and_says_so(world):
    core, uow, _clock, tmp_path = world
    publish(uow, tmp_path)
    user = ChannelUser("console", "local")
    transcript = _session(core, ["/quiz", "1", "晋级要走哪些流程", "1"], user=user)
    question, _, rest = transcript.partition("【答案】")
    assert "[1] A" in question
    assert "测验还没结束:[1]–" in rest  # the lookup says the quiz's numbers still answer the quiz
    assert "[1] 📖" not in rest and "📖 原文1" in rest
    after_lookup = rest.rsplit("仍是测验题的按钮", 1)[1]
    assert "原文 [1]" not in after_lookup  # "1" pressed the quiz's A, not the lookup's 📖 原文1
    with uow.read() as session:
        answered = session.scalars(select(AttemptAnswer)).all()
    if "(多选" in question:
        assert "(已选:A)" in after_lookup and not answered
    else:
        assert "第 2/3 题" in after_lookup and [a.position for a in answered] == [0]


def test_images_and_files_are_written_under_the_data_folder(core, tmp_path):
    from bot.channels.console.chat import render_outcome
    from bot.core.messages import DocumentReply, ImageReply, Outcome

    outcome = Outcome((ImageReply(b"\x89PNG fake", "能力雷达"), DocumentReply("团队.xlsx", b"PK fake", "团队概况")))
    text, _buttons = render_outcome(outcome, files_dir=tmp_path / "console")
    saved = sorted((tmp_path / "console").iterdir())
    assert [p.read_bytes() for p in saved] == [b"\x89PNG fake", b"PK fake"] or len(saved) == 2
    assert {p.suffix for p in saved} == {".png", ".xlsx"}
    for path in saved:
        assert str(path) in text
    assert "能力雷达" in text and "团队概况" in text and "[文件: 图片]" not in text
