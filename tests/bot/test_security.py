"""Holes a hostile user found (issue 11, items 2, 3, 4, 6), through the core on SQLite and PostgreSQL."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select

from bot.core import texts
from bot.core.conversation import Conversation
from bot.core.messages import ChannelUser, Inbound, InboundFile, Notice, TextReply
from bot.core.roles import Role
from storage.models import AskedQuestion, ChannelIdentity, InviteCode, Learner, QuizVersion, RecordEntryRow
from storage.record_repository import RecordRepository
from tests.bot.test_quiz_chat import QUIZ_YAML

ADMIN = ChannelUser("telegram", "1", "admin")
SUPERVISOR = ChannelUser("telegram", "2", "supervisor")
MEMBER = ChannelUser("telegram", "3", "member")
OUTSIDER = ChannelUser("telegram", "4", "outsider")
STRANGER = ChannelUser("telegram", "66", "stranger")
INVITEE = ChannelUser("telegram", "77", "invitee")
NOW = datetime(2026, 11, 23, 9, 0)


def say(core: Conversation, user: ChannelUser, text: str) -> list:
    return list(core.handle(Inbound.from_text(user, text)).replies)


def text_of(core: Conversation, user: ChannelUser, text: str) -> str:
    return "\n".join(r.text for r in say(core, user, text) if isinstance(r, TextReply | Notice))


def provision(core: Conversation, user: ChannelUser, employee_no: str, role: Role, name: str = "某人"):
    return core.provision(user, name=name, employee_no=employee_no, region="西宁", level="中级", role=role)


@pytest.fixture
def team(wired_core):
    """An admin, a supervisor with one team member, and a learner outside the team."""
    admin = provision(wired_core, ADMIN, "ADM1", Role.ADMIN, "管理员")
    supervisor = provision(wired_core, SUPERVISOR, "SUP1", Role.SUPERVISOR, "张主管")
    member = provision(wired_core, MEMBER, "MEM1", Role.LEARNER, "组员甲")
    provision(wired_core, OUTSIDER, "OUT1", Role.LEARNER, "外人乙")
    with wired_core.uow.begin() as session:
        RecordRepository().set_supervisor(session, learner_id=member.learner_id, supervisor_id=supervisor.learner_id)
    return wired_core, admin


def _ratings(core: Conversation) -> list[tuple[str, int]]:
    with core.uow.read() as session:
        rows = session.execute(
            select(Learner.employee_no, RecordEntryRow.level).join(Learner, Learner.id == RecordEntryRow.learner_id)
        ).all()
    return sorted((number, level) for number, level in rows)


# --- item 2: only the person's supervisor (or an admin) rates, never oneself ---------------------------------
def test_a_supervisor_rates_his_team_member_and_nobody_else(team):
    core, _ = team
    assert text_of(core, SUPERVISOR, "/rate MEM1 销售推动力 结构化访谈 2").startswith("已记录")
    refusals = {
        "self": text_of(core, SUPERVISOR, "/rate SUP1 销售推动力 结构化访谈 3"),
        "outsider": text_of(core, SUPERVISOR, "/rate OUT1 销售推动力 结构化访谈 3"),
        "admin": text_of(core, SUPERVISOR, "/rate ADM1 销售推动力 结构化访谈 1"),
    }
    assert refusals["self"] == texts.RATE_SELF
    assert refusals["outsider"] == texts.RATE_NOT_YOUR_TEAM.format(name="外人乙", employee_no="OUT1")
    assert refusals["admin"] == texts.RATE_NOT_YOUR_TEAM.format(name="管理员", employee_no="ADM1")
    assert _ratings(core) == [("MEM1", 2)]  # nothing but the team member's rating was written


def test_an_admin_rates_anyone_but_himself(team):
    core, _ = team
    assert text_of(core, ADMIN, "/rate OUT1 销售推动力 结构化访谈 1").startswith("已记录")
    assert text_of(core, ADMIN, "/rate adm1 销售推动力 结构化访谈 3") == texts.RATE_SELF
    assert _ratings(core) == [("OUT1", 1)]


# --- item 3: an invite cannot be hijacked; invites are single-use and expire ----------------------------------
def _invite(core: Conversation, employee_no: str = "T0001", role: str = "培训师") -> str:
    created = text_of(core, ADMIN, f"/invite {role} 李老师 {employee_no} 省公司 高级")
    assert created.startswith("邀请码:"), created
    return created.split("\n")[0].split(":")[1]


def _self_register(core: Conversation, user: ChannelUser, employee_no: str) -> str:
    say(core, user, "/start")
    say(core, user, "王五")
    return text_of(core, user, employee_no)


def test_a_stranger_cannot_take_the_employee_number_an_open_invite_reserves(team):
    core, _ = team
    code = _invite(core, "T0001")
    assert _self_register(core, STRANGER, "t0001") == texts.EMPLOYEE_NO_RESERVED
    assert "李老师(培训师)" in text_of(core, INVITEE, code)
    with core.uow.read() as session:
        invitee = session.scalar(select(Learner).where(Learner.employee_no == "T0001"))
        assert (invitee.name, invitee.role) == ("李老师", "trainer")
        owners = session.scalars(select(ChannelIdentity.external_id).where(ChannelIdentity.learner_id == invitee.id))
        assert list(owners) == [INVITEE.external_id]  # the stranger is attached to nobody


def test_an_invite_issued_mid_registration_still_wins_over_the_stranger(team):
    core, _ = team
    assert _self_register(core, STRANGER, "T0002") == texts.ASK_REGION  # no invite yet
    say(core, STRANGER, "西宁")
    code = _invite(core, "T0002")
    assert text_of(core, STRANGER, "中级") == texts.EMPLOYEE_NO_RESERVED  # checked again before the learner is made
    assert "李老师(培训师)" in text_of(core, INVITEE, code)


def test_redeeming_never_attaches_to_a_learner_someone_else_created(team, clock):
    core, _ = team
    code = _invite(core, "T0003")
    clock.now += timedelta(days=20)  # the invite expired, so the number is free again
    assert _self_register(core, STRANGER, "T0003") == texts.ASK_REGION
    say(core, STRANGER, "西宁")
    assert "登记完成" in text_of(core, STRANGER, "中级")
    clock.now -= timedelta(days=19)  # even inside its validity (a clock that went back) the code must not attach
    assert text_of(core, INVITEE, code) == texts.INVITE_NUMBER_TAKEN
    with core.uow.read() as session:
        assert session.scalar(select(ChannelIdentity).where(ChannelIdentity.external_id == INVITEE.external_id)) is None
        assert session.scalar(select(Learner.role).where(Learner.employee_no == "T0003")) == "learner"


def test_an_invite_expires_after_the_configured_days_and_is_single_use(team, clock):
    core, _ = team
    old = _invite(core, "T0004")
    clock.now += timedelta(days=14, minutes=1)
    assert text_of(core, INVITEE, old) == texts.INVITE_EXPIRED
    fresh = _invite(core, "T0004")  # a new code for the same person replaces any earlier one
    assert "李老师" in text_of(core, INVITEE, fresh)
    assert text_of(core, ChannelUser("telegram", "78"), fresh) == texts.BAD_INVITE


def test_the_expiry_is_a_setting(team, clock):
    core, _ = team
    core.invite_valid_for = timedelta(days=2)
    code = _invite(core, "T0005")
    clock.now += timedelta(days=2, minutes=1)
    assert text_of(core, INVITEE, code) == texts.INVITE_EXPIRED


def test_an_invite_for_a_registered_number_or_a_bad_one_is_refused(team):
    core, _ = team
    assert text_of(core, ADMIN, "/invite 培训师 某某 MEM1 省公司 高级") == texts.INVITE_NUMBER_HELD.format(
        employee_no="MEM1"
    )
    assert text_of(core, ADMIN, "/invite 学员 某某 工号! 省公司 初级") == texts.BAD_EMPLOYEE_NO
    assert text_of(core, ADMIN, "/invite 学员 某某 A1234 " + "远" * 70 + " 初级") == texts.BAD_REGION  # varchar(64)
    assert text_of(core, ADMIN, "/invite 学员 😀😀 A1234 省公司 初级") == texts.NAME_NOT_TEXT
    with core.uow.read() as session:
        assert session.scalar(select(func.count()).select_from(InviteCode)) == 0


# --- item 4: rights are checked when a button is pressed ------------------------------------------------------
def test_a_demoted_trainer_cannot_publish_with_the_old_button(team):
    core, _ = team
    trainer = ChannelUser("telegram", "5", "trainer")
    provision(core, trainer, "TRN1", Role.TRAINER, "培训师")
    upload = Inbound(
        trainer, "file", file=InboundFile("谈判小测.yaml", QUIZ_YAML.format(mode="practice", limit="").encode())
    )
    [preview] = core.handle(upload).replies
    token = preview.buttons[0][0].token
    assert "设为学员" in text_of(core, ADMIN, "/grant TRN1 学员")
    pressed = core.handle(Inbound(trainer, "button", button_token=token)).replies
    assert pressed == (Notice(texts.ACTION_NOT_ALLOWED),)
    with core.uow.read() as session:
        assert session.scalar(select(func.count()).select_from(QuizVersion)) == 0
    assert "设为培训师" in text_of(core, ADMIN, "/grant TRN1 培训师")  # promoted again: the button still works
    assert core.handle(Inbound(trainer, "button", button_token=token)).replies[0].text.startswith("已发布")


# --- item 6: control characters never reach storage; bad input is not an outage ------------------------------
def test_a_nul_in_a_name_does_not_lock_the_user_out(wired_core):
    core = wired_core
    say(core, STRANGER, "/start")
    assert text_of(core, STRANGER, "王\x00五") == texts.ASK_EMPLOYEE_NO
    say(core, STRANGER, "B7001")
    say(core, STRANGER, "西宁\x07分公司")
    assert "登记完成,王五(中级)" in text_of(core, STRANGER, "中级")
    assert "姓名:王五" in text_of(core, STRANGER, "/whoami")
    with core.uow.read() as session:
        assert session.scalar(select(Learner.region)) == "西宁分公司"


def test_control_characters_are_stripped_from_questions_and_commands(wired_core):
    core = wired_core
    provision(core, MEMBER, "MEM1", Role.LEARNER)
    assert "不得跨级" in text_of(core, MEMBER, "晋级\x00能跨级吗\x1b[31m")
    assert "不得跨级" in text_of(core, MEMBER, "/ask 晋级\x00能跨级吗")
    assert text_of(core, MEMBER, "/filter 流\x00程").startswith("好的")
    assert core.handle(Inbound(MEMBER, "button", button_token="to\x00ken")).replies == (Notice(texts.BUTTON_EXPIRED),)
    with core.uow.read() as session:
        assert list(session.scalars(select(AskedQuestion.question))) == ["晋级能跨级吗[31m", "晋级能跨级吗"]


@pytest.mark.parametrize("name", ["😀😀", "👍🏻👍🏻👍🏻", "👨‍👩‍👧", "★★"])
def test_an_emoji_only_name_is_refused_with_a_clear_message(wired_core, name):
    say(wired_core, STRANGER, "/start")
    assert text_of(wired_core, STRANGER, name) == texts.NAME_NOT_TEXT
    assert text_of(wired_core, STRANGER, "王五") == texts.ASK_EMPLOYEE_NO


def test_names_with_letters_from_any_script_still_register(wired_core):
    for n, name in enumerate(["欧阳娜娜", "Anna Li", "阿依古丽·买买提"]):
        user = ChannelUser("telegram", str(500 + n))
        say(wired_core, user, "/start")
        assert text_of(wired_core, user, name) == texts.ASK_EMPLOYEE_NO, name


def test_a_quiz_files_control_characters_never_reach_storage(both_engine):
    from pathlib import Path

    from quizzes.loading import load_quiz_file
    from quizzes.publishing import publish_quiz_set
    from storage.db import UnitOfWork
    from storage.models import QuizSetRecord
    from storage.quiz_repository import QuizRepository

    loaded = load_quiz_file(Path("t.yaml"), data=QUIZ_YAML.format(mode="practice", limit="").encode())
    assert loaded.quiz is not None
    first = loaded.quiz.questions[0]
    stem = replace(first, stem="题\x00A", options=(replace(first.options[0], text="了解\x1b对方"), *first.options[1:]))
    hostile = replace(loaded.quiz, title="谈判\x00小测", questions=(stem, *loaded.quiz.questions[1:]))
    uow = UnitOfWork(both_engine)
    with uow.begin() as session:  # PostgreSQL refused the NUL in the title before
        publish_quiz_set(session, QuizRepository(), hostile, source_name="t.gift", by=None, now=NOW)
    with uow.read() as session:
        assert session.scalar(select(QuizSetRecord.title)) == "谈判小测"
        content = session.scalar(select(QuizVersion.content))
    assert "\\u0000" not in content and "\\u001b" not in content and "题A" in content


def test_a_data_error_is_bad_input_not_an_outage(wired_core, monkeypatch):
    from sqlalchemy.exc import DataError

    def refuse(*args, **kwargs):
        raise DataError("INSERT ...", {}, ValueError("PostgreSQL text fields cannot contain NUL (0x00) bytes"))

    monkeypatch.setattr(wired_core.learners, "find_by_identity", refuse)
    assert text_of(wired_core, STRANGER, "你好") == texts.BAD_INPUT
