"""Quizzes through the conversation core: real SQLite, real published sets, a controllable clock."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.core import texts
from bot.core.conversation import Conversation
from bot.core.messages import ChannelUser, Inbound, InboundFile, Notice, TextReply
from bot.core.quiz_chat import QuizChat
from bot.core.roles import Role
from quizzes.attempts import QuizAttempts
from quizzes.engine import draw_for_seed
from quizzes.loading import load_quiz_file
from quizzes.publishing import publish_quiz_set
from quizzes.serialization import quiz_to_json
from storage.db import UnitOfWork, create_database_engine
from storage.interaction_repository import InteractionRepository
from storage.learner_repository import LearnerRepository
from storage.models import AttemptAnswer, QuizAttempt
from storage.quiz_repository import QuizRepository
from storage.schema import upgrade_to_head
from tests.bot.conftest import FakeKnowledge
from tests.support.certification_sets import certification_set_yaml, right_and_wrong

QUIZ_YAML = """\
title: 谈判小测
competency: 销售推动力
sub_competencies: [商务谈判技巧]
instrument: 情境模拟测验
level: 中级
mode: {mode}
draw: 3
cut_scores: [1, 2, 3]
{limit}
questions:
  - id: a
    stem: 题A:客户要求再降价,你先做什么?
    options:
      - text: 了解对方真实条件
        correct: true
      - text: 马上答应
        feedback: 一次让到底就没有筹码了。
    explanation: 先摸底再让步。
    reference: 中级谈判课 博弈论与商务谈判
  - id: b
    stem: 题B:守住底线的做法(多选)
    options:
      - text: 事先写下底线
        correct: true
      - text: 当场承诺做不到的条件
      - text: 请示后再答复
        correct: true
  - id: c
    stem: 题C:对方强硬施压时?
    options:
      - text: 保持冷静,谈双方利益
        correct: true
      - text: 同样强硬回击
"""
# The certification set: the programme's 销售推动力 情境模拟测验 (15 questions, cut scores 8/10/12), time-limited.
CERTIFICATION_YAML = certification_set_yaml(
    "销售推动力", "情境模拟测验", title="谈判认证", sub_competencies=["商务谈判技巧"], time_limit_minutes=5
)


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 11, 23, 9, 0)

    def __call__(self) -> datetime:
        return self.now


ALICE = ChannelUser("telegram", "2001", "Alice")
TRAINER = ChannelUser("telegram", "2002", "Trainer")


def _conversation(uow: UnitOfWork, clock: Clock) -> Conversation:
    repository = QuizRepository()
    return Conversation(
        uow=uow,
        knowledge=FakeKnowledge(),
        learners=LearnerRepository(),
        interactions=InteractionRepository(),
        quizzes=QuizChat(QuizAttempts(repository), repository),
        clock=clock,
    )


@pytest.fixture
def world(tmp_path):
    engine = create_database_engine(f"sqlite:///{tmp_path / 'quiz.sqlite3'}")
    upgrade_to_head(engine)
    uow, clock = UnitOfWork(engine), Clock()
    core = _conversation(uow, clock)
    core.provision(ALICE, name="Alice", employee_no="A2001", region="西宁", level="中级", role=Role.LEARNER)
    core.provision(TRAINER, name="培训师", employee_no="T2002", region="省公司", level="高级", role=Role.TRAINER)
    return core, uow, clock, tmp_path


def publish(uow: UnitOfWork, tmp_path: Path) -> int:
    """The practice set QUIZ_YAML."""
    return publish_text(uow, tmp_path / "quiz-practice.yaml", QUIZ_YAML.format(mode="practice", limit=""))


def publish_text(uow: UnitOfWork, path: Path, text: str) -> int:
    path.write_text(text, encoding="utf-8")
    loaded = load_quiz_file(path)
    assert loaded.ok, loaded.result.errors
    with uow.begin() as session:
        published = publish_quiz_set(
            session,
            QuizRepository(),
            loaded.quiz,
            source_name=path.name,
            by=None,
            now=datetime(2026, 11, 1),
        )
    return published.set_id


def say(core, user, text):
    return list(core.handle(Inbound.from_text(user, text)).replies)


def tap(core, user, button):
    return list(core.handle(Inbound(user, "button", button_token=button.token)).replies)


def start_quiz(core) -> list:
    listing = say(core, ALICE, "/quiz")[0]
    return tap(core, ALICE, listing.buttons[0][0])


def answer_current(core, question: TextReply, *, right: bool) -> list:
    """Pick the right (or a wrong) answer of the shown question by reading its text."""
    stem = question.text
    if "题B" in stem:
        wanted = ["事先写下底线", "请示后再答复"] if right else ["当场承诺做不到的条件"]
        letters = {line[0]: line[3:] for line in stem.splitlines() if line[:2] in {"A.", "B.", "C."}}
        for letter, option in letters.items():
            if option in wanted:
                tap(core, ALICE, next(b for b in question.buttons[0] if b.label == letter))
        return tap(core, ALICE, question.buttons[1][0])
    good = {"题A": "了解对方真实条件", "题C": "保持冷静,谈双方利益"}[stem[:2]]
    lines = {line[3:]: line[0] for line in stem.splitlines() if line[:2] in {"A.", "B."}}
    letter = lines[good] if right else next(v for k, v in lines.items() if k != good)
    return tap(core, ALICE, next(b for b in question.buttons[0] if b.label == letter))


def test_practice_quiz_with_feedback_then_result_and_notebook(world):
    core, uow, clock, tmp_path = world
    publish(uow, tmp_path)
    replies = start_quiz(core)
    assert replies[0].text.startswith("开始:谈判小测(练习,共 3 题")
    question = replies[1]
    assert question.title == "第 1/3 题"
    for position in range(3):
        replies = answer_current(core, question, right=position != 0)
        feedback = replies[0].text
        assert feedback.startswith(texts.QUIZ_WRONG.split("{")[0] if position == 0 else texts.QUIZ_RIGHT)
        if position == 0:
            assert "建议阅读" in feedback or "题A" not in question.text
        question = replies[-1]
    result = question.text
    assert "得分 2/3,达到 等级2(分数线 1/2/3)" in result
    assert "答错的题目" in result
    assert say(core, ALICE, "/review")[0].text.startswith("错题本里今天没有需要复习的题目")
    clock.now += timedelta(days=1, minutes=1)
    review = say(core, ALICE, "/review")[0]
    assert review.title == texts.REVIEW_TITLE


def test_double_taps_and_old_buttons_change_nothing(world):
    core, uow, _clock, tmp_path = world
    publish(uow, tmp_path)
    question = start_quiz(core)[1]
    first = answer_current(core, question, right=True)
    again = answer_current(core, question, right=True)
    assert all(isinstance(r, Notice) for r in again)
    with uow.read() as session:
        assert len(session.scalars(select(AttemptAnswer)).all()) == 1
    assert first[-1].title == "第 2/3 题"


def test_restart_resumes_at_the_same_question_and_the_draw_replays_from_the_seed(world):
    core, uow, clock, tmp_path = world
    publish(uow, tmp_path)
    question = start_quiz(core)[1]
    second = answer_current(core, question, right=True)[-1]
    restarted = _conversation(uow, clock)  # a new process, or another worker
    resumed = say(restarted, ALICE, "/quiz")
    assert resumed[0].text == texts.QUIZ_RESUME and resumed[1].text == second.text
    with uow.read() as session:
        attempt = session.scalar(select(QuizAttempt))
        quiz = QuizAttempts(QuizRepository()).quiz_of(
            session, QuizRepository().active_attempt(session, attempt.learner_id)
        )
    assert [[d.key, list(d.option_order)] for d in draw_for_seed(quiz, attempt.seed)] == __import__("json").loads(
        attempt.draw
    )


def test_certification_hides_feedback_enforces_time_and_one_attempt_per_cycle(world):
    core, uow, clock, tmp_path = world
    set_id = publish_text(uow, tmp_path / "quiz-certification.yaml", CERTIFICATION_YAML)
    replies = start_quiz(core)
    assert "认证" in replies[0].text and "限时 5 分钟" in replies[0].text
    first = replies[1]
    assert first.title == "第 1/15 题"
    right, _wrong = right_and_wrong(first.text)
    after_first = tap(core, ALICE, next(b for b in first.buttons[0] if b.label == right))
    assert len(after_first) == 1 and after_first[0].title == "第 2/15 题"  # no feedback in certification
    clock.now += timedelta(minutes=6)
    expired = tap(core, ALICE, after_first[0].buttons[0][0])[-1].text  # any tap after the deadline
    assert texts.QUIZ_EXPIRED in expired and "得分 1/15" in expired
    again = start_quiz(core)
    assert again[0].text.startswith("本周期(2026H2)的认证测验您已经参加过了")
    with uow.begin() as session:
        QuizRepository().grant_retake(session, learner_id=1, set_id=set_id, cycle="2026H2", by=None, now=clock.now)
    assert start_quiz(core)[0].text.startswith("开始:")


def test_stop_abandons(world):
    core, uow, _clock, tmp_path = world
    publish(uow, tmp_path)
    start_quiz(core)
    assert say(core, ALICE, "/stop")[0].text == texts.QUIZ_STOPPED
    assert say(core, ALICE, "/stop")[0].text == texts.QUIZ_NOTHING_TO_STOP


def test_trainer_uploads_preview_then_confirm_publishes_learners_cannot_upload(world):
    core, _uow, _clock, _tmp_path = world
    good = QUIZ_YAML.format(mode="practice", limit="").encode()
    upload = InboundFile("谈判小测.yaml", good)
    assert core.handle(Inbound(ALICE, "file", file=upload)).replies == (TextReply(texts.FILE_NOT_ALLOWED),)
    broken = InboundFile("坏.yaml", good.replace(b"cut_scores: [1, 2, 3]", b"cut_scores: [3, 2, 1]"))
    error = core.handle(Inbound(TRAINER, "file", file=broken)).replies[0].text
    assert "没有发布" in error and "坏.yaml:8 cut_scores" in error and "逐级升高" in error
    assert say(core, ALICE, "/quiz")[0].text == texts.QUIZ_NONE
    preview = core.handle(Inbound(TRAINER, "file", file=upload)).replies[0]
    assert "预览:谈判小测" in preview.text and "题库 3 题" in preview.text
    done = tap(core, TRAINER, preview.buttons[0][0])[0].text
    assert done == texts.PUBLISH_DONE.format(title="谈判小测", version=1)
    assert "谈判小测" in say(core, ALICE, "/quiz")[0].buttons[0][0].label


def test_republishing_makes_a_new_version_only_when_content_changed(world):
    _core, uow, _clock, tmp_path = world
    publish(uow, tmp_path)
    publish(uow, tmp_path)
    with uow.read() as session:
        assert [s.version for s in QuizRepository().latest_versions(session)] == [1]
    (tmp_path / "quiz-practice.yaml").write_text(
        QUIZ_YAML.format(mode="practice", limit="").replace("题A:", "题A(修订):"), encoding="utf-8"
    )
    loaded = load_quiz_file(tmp_path / "quiz-practice.yaml")
    with uow.begin() as session:
        published = publish_quiz_set(
            session,
            QuizRepository(),
            loaded.quiz,
            source_name="x",
            by=None,
            now=datetime(2026, 11, 2),
        )
    assert published.version == 2


def test_review_buttons_of_a_multiple_choice_question_do_not_reveal_the_answer(world):
    core, uow, clock, tmp_path = world
    publish(uow, tmp_path)
    question = start_quiz(core)[1]
    for _ in range(3):  # answer everything wrong, so 题B lands in the notebook
        replies = answer_current(core, question, right=False)
        question = replies[-1]
    clock.now += timedelta(days=1, minutes=1)
    seen = set()
    for _ in range(3):
        review = say(core, ALICE, "/review")[0]
        labels = [b.label for row in review.buttons for b in row]
        if "题B" in review.text:
            assert labels == ["A", "B", "C", "AB", "AC", "BC", "ABC"]  # every combination, answer not singled out
            right = "".join(
                line[0]
                for line in review.text.splitlines()
                if line[3:] in {"事先写下底线", "请示后再答复"} and line[1:3] == ". "
            )
            replies = tap(core, ALICE, next(b for row in review.buttons for b in row if b.label == right))
            assert replies[0].text.startswith(texts.QUIZ_RIGHT)
            seen.add("B")
            break
        tap(core, ALICE, review.buttons[0][0])
    assert seen == {"B"}


def test_an_old_certification_set_off_the_programme_is_listed_but_cannot_be_started(world):
    """A version stored before the programme rule (3 questions cut at 1/2/3, written straight to the repository
    as releases then did) would record 等级3 for 3 right answers: starting it is refused, saying why."""
    core, uow, _clock, _tmp_path = world
    loaded = load_quiz_file(Path("old.yaml"), data=CERTIFICATION_YAML.encode())
    assert loaded.ok and loaded.quiz is not None
    old = replace(loaded.quiz, draw=3, cut_scores=(1, 2, 3), questions=loaded.quiz.questions[:3])
    with uow.begin() as session:
        QuizRepository().publish(
            session, title=old.title, competency=old.competency, instrument=old.instrument, level=old.level,
            mode=old.mode, content=quiz_to_json(old), source_name="old.yaml", by=None, now=datetime(2026, 1, 5),
        )  # fmt: skip
    assert start_quiz(core) == [TextReply(texts.QUIZ_NOT_CONFORMANT)]
    with uow.read() as session:
        assert session.scalars(select(QuizAttempt)).all() == []


def test_a_certification_file_whose_title_is_only_control_characters_is_refused_at_confirm(world):
    """The loader sees a title ("\\a\\x01"); publishing drops control characters and finds none: refused with the
    loader's words, nothing published, and the trainer is told (not an apology for an error)."""
    core, uow, _clock, _tmp_path = world
    text = CERTIFICATION_YAML.replace("title: 谈判认证", 'title: "\\a\\x01"')
    preview = core.handle(Inbound(TRAINER, "file", file=InboundFile("控制字符.yaml", text.encode()))).replies[0]
    assert preview.buttons, preview.text  # the loader let it through
    done = tap(core, TRAINER, preview.buttons[0][0])[0].text
    assert done.startswith("文件有 1 处问题,没有发布") and "控制字符.yaml:缺少测验名称(title)" in done
    with uow.read() as session:
        assert QuizRepository().latest_versions(session, include_retired=True) == []
