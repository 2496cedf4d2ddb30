"""What a new user tripped over in chat (issue 12): buttons that wore out, lists that clashed, answers that
could not be told apart. Through the core, real SQLite, published quiz sets."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from bot.core import texts
from bot.core.messages import Notice, TextReply
from bot.core.roles import Role
from quizzes.loading import load_quiz_file
from quizzes.publishing import publish_quiz_set
from storage.models import AnswerRating, AttemptAnswer
from storage.quiz_repository import QuizRepository
from tests.bot.conftest import PASSAGES, FakeKnowledge
from tests.bot.test_quiz_chat import ALICE, QUIZ_YAML, say, tap
from tests.bot.test_quiz_chat import publish as publish_quiz
from tests.bot.test_quiz_chat import world as world  # a fixture, used by name
from tests.support.certification_sets import certification_set_yaml

NOW = datetime(2026, 11, 1)


def _labels(reply: TextReply) -> dict[str, object]:
    return {b.label: b for row in reply.buttons for b in row}


def _multi_select_question(core) -> TextReply:
    """Answer questions until the multiple-choice 题B is shown (the draw order is random)."""
    listing = say(core, ALICE, "/quiz")[0]
    question = tap(core, ALICE, listing.buttons[0][0])[-1]
    while "题B" not in question.text:
        question = tap(core, ALICE, question.buttons[0][0])[-1]
    return question


def _publish_text(uow, path, text: str) -> None:
    path.write_text(text, encoding="utf-8")
    loaded = load_quiz_file(path)
    assert loaded.quiz is not None, loaded.result.errors
    with uow.begin() as session:
        publish_quiz_set(session, QuizRepository(), loaded.quiz, source_name=path.name, by=None, now=NOW)


def _shown_letter(question: TextReply, option: str) -> str:
    return next(line[0] for line in question.text.splitlines() if line[3:] == option)


# --- 1. multi-select: 提交 before choosing does not use the button up ------------------------------------------
def test_submit_with_nothing_selected_keeps_the_question_submittable(world):
    core, uow, _clock, tmp_path = world
    publish_quiz(uow, tmp_path)
    question = _multi_select_question(core)
    buttons = _labels(question)
    assert tap(core, ALICE, buttons[texts.QUIZ_SUBMIT]) == [Notice(texts.QUIZ_SELECT_FIRST)]
    tap(core, ALICE, buttons[_shown_letter(question, "事先写下底线")])
    tap(core, ALICE, buttons[_shown_letter(question, "请示后再答复")])
    submitted = tap(core, ALICE, buttons[texts.QUIZ_SUBMIT])
    assert submitted[0].text.startswith(texts.QUIZ_RIGHT), submitted
    again = tap(core, ALICE, buttons[texts.QUIZ_SUBMIT])  # answered once only (the last question ends the quiz)
    assert again in ([Notice(texts.QUIZ_ALREADY_ANSWERED)], [Notice(texts.QUIZ_NOT_ACTIVE)])
    with uow.read() as session:
        assert len([a for a in session.scalars(select(AttemptAnswer)) if a.question_key == "b"]) == 1


# --- 2. reading buttons stay usable; the last vote counts ----------------------------------------------------
def test_reading_buttons_work_again_and_a_vote_can_be_changed(core):
    core.provision(ALICE, name="Alice", employee_no="A2001", region="西宁", level="中级", role=Role.LEARNER)
    answer = say(core, ALICE, "晋级流程")[0]
    buttons = _labels(answer)
    for _ in range(2):
        opened = tap(core, ALICE, buttons["📖 原文2"])[0]
        assert isinstance(opened, TextReply) and "各评估50%" in opened.text
        more = tap(core, ALICE, buttons["更多结果"])[0]
        assert isinstance(more, TextReply) and "人力资源部" in more.text
    assert tap(core, ALICE, buttons["👍 有用"]) == [Notice(texts.THANKS_UP)]
    assert tap(core, ALICE, buttons["👎 没用"]) == [Notice(texts.THANKS_DOWN)]
    with core.uow.read() as session:
        assert [r.rating for r in session.scalars(select(AnswerRating))] == [-1]  # one rating, the last one
    assert tap(core, ALICE, buttons["👍 有用"]) == [Notice(texts.THANKS_UP)]
    with core.uow.read() as session:
        assert [r.rating for r in session.scalars(select(AnswerRating))] == [1]


# --- 5. 更多结果: no [n] numbers, within 1,500 characters, each result with its 📖 -------------------------------
class ManyLongPassages(FakeKnowledge):
    def search(self, question, *, k, collections=None):
        from knowledge.results import Passage, SearchResult

        title = "很长的标题" * 30
        text = "谈判要点。" * 200
        long = [Passage(f"x{i}", text, f"长文{i}{title}", "要点", "x.md", "courses", 1.0) for i in range(8)]
        return SearchResult(question, False, (*PASSAGES.values(), *long)[:k], ("晋级",))

    def passage(self, chunk_id):
        return super().passage(chunk_id) or self.search("晋级", k=12).passages[3 + int(chunk_id[1:])]


def test_more_results_are_short_numbered_apart_from_buttons_and_openable(core):
    core.knowledge = ManyLongPassages()
    core.lookup.knowledge = core.knowledge
    core.provision(ALICE, name="Alice", employee_no="A2001", region="西宁", level="中级", role=Role.LEARNER)
    answer = say(core, ALICE, "晋级流程")[0]
    more = tap(core, ALICE, _labels(answer)["更多结果"])[0]
    assert isinstance(more, TextReply)
    assert len(more.title) + len(more.text) <= 1500, len(more.text)
    assert "[4]" not in more.text and "4. 客户经理晋级流程 › 审批" in more.text
    labels = [b.label for row in more.buttons for b in row]
    assert labels == [f"📖 原文{n}" for n in range(4, 9)]
    opened = tap(core, ALICE, more.buttons[0][0])[0]
    assert opened.title == "原文 [4] 客户经理晋级流程" and "人力资源部" in opened.text


# --- 6. feedback names the correct answers by the letters shown, with their texts ----------------------------
ORDERED_QUIZ = (
    QUIZ_YAML.replace("draw: 3", "draw: 1").split("  - id: a")[0]
    + """\
  - id: m
    stem: 题M:哪些做法对(多选)
    options:
      - text: 先报价、后让步
        correct: true
      - text: 一次让到底
      - text: 记录、复盘
        correct: true
      - text: 请示后答复
        correct: true
"""
)


def test_wrong_answer_feedback_lists_the_shown_letters_with_their_texts(world):
    core, uow, _clock, tmp_path = world
    _publish_text(uow, tmp_path / "m.yaml", ORDERED_QUIZ.format(mode="practice", limit=""))
    listing = say(core, ALICE, "/quiz")[0]
    question = tap(core, ALICE, listing.buttons[0][0])[-1]
    buttons = _labels(question)
    tap(core, ALICE, buttons[_shown_letter(question, "一次让到底")])
    feedback = tap(core, ALICE, buttons[texts.QUIZ_SUBMIT])[0].text
    shown = {line[0]: line[3:] for line in question.text.splitlines() if line[1:3] == ". "}
    right = sorted(letter for letter, text in shown.items() if text != "一次让到底")
    assert feedback.splitlines()[0] == texts.QUIZ_WRONG.format(letters="、".join(right))
    assert feedback.splitlines()[1:4] == [f"{letter}. {shown[letter]}" for letter in right]


# --- 7. the quiz list does not repeat the competency or the mode ------------------------------------------------
def test_quiz_list_labels_do_not_repeat_what_the_title_says(world):
    core, uow, _clock, tmp_path = world
    publish_quiz(uow, tmp_path)
    cert = certification_set_yaml("销售推动力", title="销售推动力谈判测验(认证)")  # the programme's 15 items, 8/10/12
    _publish_text(uow, tmp_path / "cert.yaml", cert)
    listing = say(core, ALICE, "/quiz")[0]
    labels = sorted(b.label for row in listing.buttons for b in row)
    assert labels == sorted(["销售推动力·谈判小测(练习)", "销售推动力谈判测验(认证)", texts.QUIZ_OTHER_LEVELS])
