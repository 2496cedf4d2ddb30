"""The certification record through the core: certification attempts recorded once, /record, /rate, /team."""

from __future__ import annotations

import io
from datetime import datetime

import pytest
from openpyxl import load_workbook
from PIL import Image
from sqlalchemy import func, select

from bot.core import texts
from bot.core.conversation import Conversation
from bot.core.messages import ChannelUser, ImageReply, Inbound
from bot.core.quiz_chat import QuizChat
from bot.core.record_chat import RecordChat
from bot.core.roles import Role
from certification.radar import render_radar_png
from quizzes.attempts import QuizAttempts
from quizzes.loading import load_quiz_file
from quizzes.publishing import publish_quiz_set
from storage.db import UnitOfWork, create_database_engine
from storage.interaction_repository import InteractionRepository
from storage.learner_repository import LearnerRepository
from storage.models import RecordEntryRow
from storage.quiz_repository import QuizRepository
from storage.record_repository import RecordRepository
from storage.schema import upgrade_to_head
from tests.bot.conftest import FakeKnowledge
from tests.support.certification_sets import certification_set_yaml, right_and_wrong

NOW = datetime(2026, 11, 23, 9, 0)
SUPERVISOR = ChannelUser("telegram", "3000", "主管")


@pytest.fixture
def world(tmp_path):
    engine = create_database_engine(f"sqlite:///{tmp_path / 'record.sqlite3'}")
    upgrade_to_head(engine)
    uow = UnitOfWork(engine)
    quizzes = QuizRepository()
    core = Conversation(
        uow=uow,
        knowledge=FakeKnowledge(),
        learners=LearnerRepository(),
        interactions=InteractionRepository(),
        quizzes=QuizChat(QuizAttempts(quizzes, RecordRepository()), quizzes),
        records=RecordChat(RecordRepository(), LearnerRepository(), render_radar=render_radar_png),
        clock=lambda: NOW,
    )
    path = tmp_path / "cert.yaml"
    # the programme's 产品理解力 情境模拟测验: 10 questions, cut scores 5/7/8
    path.write_text(certification_set_yaml("产品理解力", "情境模拟测验", title="产品理解认证"), encoding="utf-8")
    loaded = load_quiz_file(path)
    assert loaded.ok, loaded.result.errors
    with uow.begin() as session:
        publish_quiz_set(session, quizzes, loaded.quiz, source_name="cert.yaml", by=None, now=NOW)
    supervisor = core.provision(
        SUPERVISOR, name="张主管", employee_no="S3000", region="西宁", level="高级", role=Role.SUPERVISOR
    )
    return core, uow, supervisor


def _learner(core, uow, number: int, supervisor_id: int) -> ChannelUser:
    user = ChannelUser("telegram", str(4000 + number), f"学员{number}")
    learner = core.provision(
        user, name=f"学员{number}", employee_no=f"L{4000 + number}", region="西宁", level="初级", role=Role.LEARNER
    )
    with uow.begin() as session:
        RecordRepository().set_supervisor(session, learner_id=learner.learner_id, supervisor_id=supervisor_id)
    return user


def _take_certification(core, user, *, right: int) -> str:
    """All 10 questions: the first `right` of them answered right, the rest wrong; the result's text."""
    listing = core.handle(Inbound.from_text(user, "/quiz 全部")).replies[0]
    replies = core.handle(Inbound(user, "button", button_token=listing.buttons[0][0].token)).replies
    for position in range(10):
        question = replies[-1]
        assert question.title == f"第 {position + 1}/10 题", question.title
        good, bad = right_and_wrong(question.text)
        choice = good if position < right else bad
        token = next(b.token for b in question.buttons[0] if b.label == choice)
        replies = core.handle(Inbound(user, "button", button_token=token)).replies
    return replies[-1].text


def test_a_certification_attempt_becomes_one_record_entry_and_record_shows_it(world):
    core, uow, supervisor = world
    alice = _learner(core, uow, 1, supervisor.learner_id)
    result = _take_certification(core, alice, right=2)
    assert "测验结束" in result and "得分 2/10" in result
    with uow.read() as session:
        rows = session.scalars(select(RecordEntryRow)).all()
    assert [(r.competency, r.instrument, r.max_score, r.cycle) for r in rows] == [
        ("产品理解力", "situational", 10, "2026H2")
    ]
    replies = core.handle(Inbound.from_text(alice, "/record")).replies
    text = replies[0].text
    assert "学员1 的认证记录(2026H2,当前职级:初级)" in text
    assert "情境模拟测验" in text and "产品理解力" in text
    assert "晋级:暂不符合" in text and "还缺" in text
    image = replies[1]
    assert isinstance(image, ImageReply)
    with Image.open(__import__("io").BytesIO(image.data)) as png:
        assert png.format == "PNG"


def test_percentiles_appear_only_for_cohorts_of_five(world):
    core, uow, supervisor = world
    users = [_learner(core, uow, n, supervisor.learner_id) for n in range(1, 6)]
    for n, user in enumerate(users[:4]):
        _take_certification(core, user, right=n % 3)
    assert "%" not in core.handle(Inbound.from_text(users[0], "/record")).replies[0].text
    _take_certification(core, users[4], right=2)
    assert "%" in core.handle(Inbound.from_text(users[4], "/record")).replies[0].text


def test_assessors_rate_and_supervisors_see_their_team(world):
    core, uow, supervisor = world
    alice = _learner(core, uow, 1, supervisor.learner_id)
    _learner(core, uow, 2, supervisor.learner_id)
    assert core.handle(Inbound.from_text(alice, "/rate L4001 销售推动力 结构化访谈 2")).replies[
        0
    ].text == texts.NOT_ALLOWED.format(command="rate")
    done = core.handle(Inbound.from_text(SUPERVISOR, "/rate L4001 销售推动力 结构化访谈 2")).replies[0].text
    assert done == "已记录:学员1 销售推动力 结构化访谈 等级2(2026H2)。"
    wrong = core.handle(Inbound.from_text(SUPERVISOR, "/rate L4001 销售推动力 知识测验 2")).replies[0].text
    assert "不是「销售推动力」由评估人评分的工具" in wrong
    overview, workbook = core.handle(Inbound.from_text(SUPERVISOR, "/team")).replies
    assert "L4001 学员1(初级)" in overview.text and "L4002 学员2(初级)" in overview.text and "未开始" in overview.text
    sheet = load_workbook(io.BytesIO(workbook.data)).active
    assert [row[0] for row in sheet.iter_rows(min_row=2, values_only=True)] == ["L4001", "L4002"]
    with uow.read() as session:
        assert session.scalar(select(func.count()).select_from(RecordEntryRow)) == 1
