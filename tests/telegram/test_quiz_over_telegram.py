"""A whole quiz through the Telegram adapter, and a trainer publishing a quiz file by sending it."""

from __future__ import annotations

import re

from app.composition import Services
from bot.core import texts
from bot.core.messages import ChannelUser
from bot.core.roles import Role
from tests.bot.test_quiz_chat import QUIZ_YAML
from tests.telegram.conftest import ALICE, BOB, ApiCall, Harness, MakeHarness, texts_of


def _messages(calls: list[ApiCall]) -> list[ApiCall]:
    return [c for c in calls if c.endpoint == "sendMessage"]


def _buttons(call: ApiCall) -> dict[str, str]:
    return {b["text"]: b["callback_data"] for row in call.params["reply_markup"]["inline_keyboard"] for b in row}


def _right_letters(question_html: str) -> list[str]:
    right = {"了解对方真实条件", "事先写下底线", "请示后再答复", "保持冷静,谈双方利益"}
    return [m.group(1) for m in re.finditer(r"^([A-H])\. (.+)$", question_html, re.M) if m.group(2) in right]


async def _publish_by_upload(h: Harness, trainer: dict) -> None:
    h.api.files["quiz1"] = QUIZ_YAML.format(mode="practice", limit="").encode()
    document = {"file_id": "quiz1", "file_unique_id": "uq1", "file_name": "谈判小测.yaml", "file_size": 900}
    [preview] = _messages(await h.feed(h.updates.message(trainer, document=document)))
    assert "预览:谈判小测" in preview.params["text"]
    confirm = await h.press(trainer, _buttons(preview)[texts.PUBLISH_CONFIRM])
    assert texts.PUBLISH_DONE.format(title="谈判小测", version=1) in texts_of(confirm)


async def test_a_trainer_publishes_by_sending_a_file_and_a_learner_takes_the_whole_quiz(
    harness: Harness, services: Services
):
    services.conversation.provision(
        ChannelUser("telegram", str(BOB["id"]), BOB["first_name"]),
        name="培训师",
        employee_no="T0001",
        region="省公司",
        level="高级",
        role=Role.TRAINER,
    )
    await _publish_by_upload(harness, BOB)
    await harness.register(ALICE, "A1001")

    [listing] = _messages(await harness.say(ALICE, "/quiz"))
    set_button = next(data for label, data in _buttons(listing).items() if "谈判小测" in label)
    calls = await harness.press(ALICE, set_button)
    assert calls[0].endpoint == "answerCallbackQuery"
    intro, question = _messages(calls)
    assert "开始:谈判小测" in intro.params["text"]
    for number in range(1, 4):
        html = question.params["text"]
        assert html.startswith(f"<b>第 {number}/3 题</b>")
        buttons = _buttons(question)
        letters = _right_letters(html)
        if texts.QUIZ_SUBMIT in buttons:  # multiple choice: pick, then submit
            for letter in letters:
                assert _messages(await harness.press(ALICE, buttons[letter])) == []  # a toast, no message
            calls = await harness.press(ALICE, buttons[texts.QUIZ_SUBMIT])
        else:
            calls = await harness.press(ALICE, buttons[letters[0]])
        sent = _messages(calls)
        assert sent[0].params["text"].startswith(texts.QUIZ_RIGHT)
        question = sent[-1]
        again = await harness.press(
            ALICE, buttons[texts.QUIZ_SUBMIT] if texts.QUIZ_SUBMIT in buttons else buttons[letters[0]]
        )
        assert _messages(again) == []  # an old button changes nothing
    assert "得分 3/3,达到 等级3" in question.params["text"]


async def test_a_learner_cannot_publish_by_sending_a_file(make_harness: MakeHarness):
    h = await make_harness()
    await h.register(ALICE, "A1001")
    h.api.files["quiz2"] = QUIZ_YAML.format(mode="practice", limit="").encode()
    document = {"file_id": "quiz2", "file_unique_id": "uq2", "file_name": "谈判小测.yaml", "file_size": 900}
    assert texts_of(await h.feed(h.updates.message(ALICE, document=document))) == [texts.FILE_NOT_ALLOWED]
