"""The whole programme through WeCom: staff bound by an admin skip registration; a trainer publishes a
certification set by sending the file; a learner takes it with card buttons, sees /record with its radar
picture — and the same record on Telegram, being one learner on both channels."""

from __future__ import annotations

import re
from pathlib import Path

from openpyxl import Workbook
from sqlalchemy import func, select

from app.composition import Services
from app.user_binding import bind_identity, cmd_users_bind
from bot.core import texts
from bot.core.messages import ChannelUser, Inbound, TextReply
from bot.core.roles import Role
from storage.learner_repository import LearnerRepository
from storage.models import AttemptAnswer, RecordEntryRow
from tests.support.certification_sets import RIGHT_OPTION, certification_set_yaml
from tests.wecom.conftest import WeComWorker

TELEGRAM_ALICE = ChannelUser("telegram", "1001", "王小丽")


def _provision(services: Services, user: ChannelUser, employee_no: str, role: Role, name: str) -> None:
    services.conversation.provision(
        user, name=name, employee_no=employee_no, region="西宁分公司", level="中级", role=role
    )


def _right_letter(question: str) -> str:
    [letter] = [
        m.group(1) for m in re.finditer(r"^([A-H])\. (.+)$", question, re.M) if m.group(2).startswith(RIGHT_OPTION)
    ]
    return letter


async def test_bound_staff_publish_and_take_a_certification_quiz_and_see_one_record(
    wecom: WeComWorker, wecom_services: Services, tmp_path: Path
):
    services = wecom_services
    _provision(services, ChannelUser("telegram", "9001"), "T0001", Role.TRAINER, "培训师")
    _provision(services, TELEGRAM_ALICE, "A1001", Role.LEARNER, "王小丽")
    learners = LearnerRepository()
    assert bind_identity(services.uow, learners, employee_no="T0001", identity="wecom:trainer01").ok
    sheet = tmp_path / "绑定.xlsx"
    book = Workbook()
    book.active.append(["工号", "企业微信账号"])
    book.active.append(["A1001", "wangxl"])
    book.active.append(["A9999", "nobody"])  # no such learner: reported, the rest still bound
    book.save(sheet)
    assert cmd_users_bind(uow=services.uow, employee_no=None, identity=None, sheet=sheet) == 1
    refused = bind_identity(services.uow, learners, employee_no="T0001", identity="wecom:wangxl")
    assert not refused.ok and "A1001" in refused.message  # an account belongs to one learner

    [whoami] = await wecom.say("wangxl", "/whoami")  # no registration: the admin bound her
    assert "A1001" in whoami.text and "王小丽" in whoami.text

    # the trainer sends the file; the preview's card publishes it
    quiz = certification_set_yaml("产品理解力", "情境模拟测验", title="产品理解认证").encode()
    preview = await wecom.send_file("trainer01", "产品理解认证.yaml", quiz)
    assert any("预览:产品理解认证" in s.text for s in preview)
    [confirm] = [s for s in preview if s.msgtype == "template_card"]
    done = await wecom.press("trainer01", confirm.buttons[texts.PUBLISH_CONFIRM])
    assert [s.text for s in done] == [texts.PUBLISH_DONE.format(title="产品理解认证", version=1)]
    learner_upload = await wecom.send_file("wangxl", "偷偷发布.yaml", quiz)  # a learner's file is not even fetched
    assert [s.text for s in learner_upload] == [texts.FILE_NOT_ALLOWED]
    assert wecom.emu.calls.count("media/get") == 1

    # the learner takes the whole certification with card buttons
    listing = await wecom.say("wangxl", "/quiz")
    [sets] = [s for s in listing if s.msgtype == "template_card"]
    key = next(k for label, k in sets.buttons.items() if "产品理解" in label)
    sent = await wecom.press("wangxl", key)
    assert any("开始:产品理解认证" in s.text for s in sent)
    for number in range(1, 11):
        question = next(s for s in sent if s.msgtype == "text" and f"第 {number}/10 题" in s.text)
        [card] = [s for s in sent if s.msgtype == "template_card"]
        letter_key = card.buttons[_right_letter(question.text)]
        sent = await wecom.press("wangxl", letter_key)
        assert texts.QUIZ_RIGHT not in sent[0].text  # certification: no feedback until the end
        again = await wecom.press("wangxl", letter_key)  # an old card's button: a short notice, no new question
        assert again and all("题】" not in s.text and s.msgtype == "text" for s in again)
    assert any("得分 10/10" in s.text for s in sent)
    with services.uow.read() as session:
        assert session.scalar(select(func.count()).select_from(AttemptAnswer)) == 10
        assert session.scalar(select(func.count()).select_from(RecordEntryRow)) == 1

    # /record: the text and the radar as an uploaded image
    record = await wecom.say("wangxl", "/record")
    [image] = [s for s in record if s.msgtype == "image"]
    assert image.media.startswith(b"\x89PNG") and len(image.media) > 20_000
    record_text = next(s.text for s in record if "产品理解力" in s.text)
    # the same learner on Telegram sees the same record
    on_telegram = services.conversation.handle(Inbound.from_text(TELEGRAM_ALICE, "/record")).replies
    telegram_text = next(r.text for r in on_telegram if isinstance(r, TextReply) and "产品理解力" in r.text)
    assert telegram_text.strip() in record_text
