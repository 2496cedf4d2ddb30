"""Issue 11's holes replayed through real python-telegram-bot Updates: stale rights on a button, self-rating,
an invite hijack, a NUL in a name, a learner's command falling through."""

from __future__ import annotations

from sqlalchemy import func, select

from app.composition import Services
from bot.core import texts
from bot.core.messages import ChannelUser
from bot.core.roles import Role
from storage.models import QuizVersion
from tests.bot.test_quiz_chat import QUIZ_YAML
from tests.telegram.conftest import ALICE, BOB, CAROL, ApiCall, Harness, texts_of


def _provision(services: Services, user: dict, employee_no: str, role: Role) -> None:
    services.conversation.provision(
        ChannelUser("telegram", str(user["id"]), user["first_name"]),
        name=f"{user['first_name']}某",
        employee_no=employee_no,
        region="省公司",
        level="高级",
        role=role,
    )


def _toast(calls: list[ApiCall]) -> str:
    assert [c.endpoint for c in calls] == ["answerCallbackQuery"], calls
    return str(calls[0].params.get("text", ""))


async def test_a_demoted_trainers_old_publish_button_is_refused(harness: Harness, services: Services):
    _provision(services, BOB, "T0001", Role.TRAINER)
    _provision(services, CAROL, "ADM001", Role.ADMIN)
    harness.api.files["quiz1"] = QUIZ_YAML.format(mode="practice", limit="").encode()
    document = {"file_id": "quiz1", "file_unique_id": "uq1", "file_name": "谈判小测.yaml", "file_size": 900}
    [preview] = [
        c for c in await harness.feed(harness.updates.message(BOB, document=document)) if c.endpoint == "sendMessage"
    ]
    confirm = next(
        b["callback_data"]
        for row in preview.params["reply_markup"]["inline_keyboard"]
        for b in row
        if b["text"] == texts.PUBLISH_CONFIRM
    )
    assert "设为学员" in texts_of(await harness.say(CAROL, "/grant T0001 学员"))[0]
    assert _toast(await harness.press(BOB, confirm)) == texts.ACTION_NOT_ALLOWED
    with services.uow.read() as session:
        assert session.scalar(select(func.count()).select_from(QuizVersion)) == 0  # nothing was published


async def test_a_supervisor_cannot_rate_himself_over_telegram(harness: Harness, services: Services):
    _provision(services, BOB, "S0001", Role.SUPERVISOR)
    assert texts_of(await harness.say(BOB, "/rate S0001 销售推动力 结构化访谈 3")) == [texts.RATE_SELF]


async def test_a_stranger_cannot_hijack_an_invite_over_telegram(harness: Harness, services: Services):
    _provision(services, CAROL, "ADM001", Role.ADMIN)
    [created] = texts_of(await harness.say(CAROL, "/invite 培训师 李老师 T0009 省公司 高级"))
    code = created.split("\n")[0].split(":")[1]
    for text in ("/start", "王小丽"):
        await harness.say(ALICE, text)
    assert texts_of(await harness.say(ALICE, "T0009")) == [texts.EMPLOYEE_NO_RESERVED]
    assert "李老师(培训师)" in texts_of(await harness.say(BOB, f"/start {code}"))[0]


async def test_a_nul_in_a_name_over_telegram_registers_the_clean_name(harness: Harness):
    for text in ("/start", "王\x00小丽", "A1001", "西宁分公司"):
        await harness.say(ALICE, text)
    await harness.press(ALICE, "t:reg-level-2")
    assert "姓名:王小丽" in texts_of(await harness.say(ALICE, "/whoami"))[0]


async def test_an_emoji_name_over_telegram_is_refused(harness: Harness):
    await harness.say(ALICE, "/start")
    assert texts_of(await harness.say(ALICE, "😀😀😀")) == [texts.NAME_NOT_TEXT]
