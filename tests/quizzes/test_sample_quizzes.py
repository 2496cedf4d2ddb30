"""The sample quiz sets in content/quizzes: every file loads cleanly, and the sets pin the programme's facts.

The certification set uses the real cut scores of 产品理解力's situational test (10 items, 5/7/8); the
negotiation sets cover the three levels of the course; the bank covers more than one competency.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from quizzes.competency import PROGRAMME_INSTRUMENTS
from quizzes.engine import draw_for_seed
from quizzes.loading import load_quiz_file
from quizzes.model import QuizSet

QUIZ_DIR = Path(__file__).resolve().parents[2] / "content" / "quizzes"
QUIZ_FILES = sorted(QUIZ_DIR.glob("*.yaml"))
NEGOTIATION_FILES = {
    "negotiation_junior.yaml": "初级",
    "negotiation_intermediate.yaml": "中级",
    "negotiation_senior.yaml": "高级",
}
CERTIFICATION_FILE = "product_understanding_certification.yaml"
COPY_WINDOW = 12  # a run this long shared with a source page counts as copied text


def _load(name: str) -> QuizSet:
    loaded = load_quiz_file(QUIZ_DIR / name)
    assert loaded.ok, loaded.result.errors
    assert loaded.quiz is not None
    return loaded.quiz


def _all_sets() -> dict[str, QuizSet]:
    return {path.name: _load(path.name) for path in QUIZ_FILES}


def test_the_sample_sets_are_there():
    names = {path.name for path in QUIZ_FILES}
    assert set(NEGOTIATION_FILES) | {CERTIFICATION_FILE} <= names
    assert len(names) >= 6


@pytest.mark.parametrize("path", QUIZ_FILES, ids=lambda p: p.name)
def test_every_sample_set_loads_without_errors(path: Path):
    loaded = load_quiz_file(path)
    assert loaded.result.errors == []
    assert loaded.ok


@pytest.mark.parametrize("path", QUIZ_FILES, ids=lambda p: p.name)
def test_every_question_is_complete(path: Path):
    quiz = _load(path.name)
    assert quiz.description
    assert len(quiz.questions) >= quiz.draw
    kinds = [q.kind for q in quiz.questions]
    assert 1 <= kinds.count("multiple_choice") <= 2
    for question in quiz.questions:
        assert not re.fullmatch(r"q\d+", question.key), "every question has its own id"
        assert 3 <= len(question.options) <= 4, question.key
        assert question.explanation and question.reference, question.key
        assert question.sub_competency in quiz.sub_competencies, question.key
        texts = [option.text for option in question.options]
        assert len(set(texts)) == len(texts), question.key
        if question.kind == "multiple_choice":
            assert len(question.correct_indexes) >= 2 and question.stem.startswith("多选"), question.key
        else:
            assert len(question.correct_indexes) == 1, question.key
        assert all(option.feedback for option in question.options if not option.correct), question.key


def test_the_certification_set_uses_the_programme_cut_scores():
    quiz = _load(CERTIFICATION_FILE)
    programme = next(p for p in PROGRAMME_INSTRUMENTS if (p.competency, p.instrument) == ("产品理解力", "situational"))
    assert quiz.cut_scores == (5, 7, 8) == programme.cuts
    assert quiz.draw == 10 == programme.items
    assert quiz.mode == "certification"
    assert quiz.time_limit_minutes is not None and quiz.time_limit_minutes > 0
    assert (quiz.competency, quiz.instrument, quiz.level) == ("产品理解力", "situational", "中级")
    assert len(quiz.questions) == 14


def test_the_practice_sets_are_practice():
    for name, quiz in _all_sets().items():
        if name != CERTIFICATION_FILE:
            assert quiz.mode == "practice", name
            assert quiz.cut_scores[2] <= quiz.draw, name


def test_the_negotiation_sets_cover_all_three_levels():
    levels = {}
    for name in NEGOTIATION_FILES:
        quiz = _load(name)
        assert (quiz.competency, quiz.sub_competencies) == ("销售推动力", ("商务谈判技巧",))
        assert (quiz.draw, quiz.cut_scores, len(quiz.questions)) == (5, (3, 4, 5), 8)
        levels[name] = quiz.level
    assert levels == NEGOTIATION_FILES
    assert set(levels.values()) == {"初级", "中级", "高级"}


def test_more_competencies_than_sales_drive_are_covered():
    competencies = {quiz.competency for quiz in _all_sets().values()}
    assert "销售推动力" in competencies
    assert len(competencies - {"销售推动力"}) >= 2


def test_customer_insight_draws_two_per_sub_competency():
    quiz = _load("customer_insight_intermediate.yaml")
    quotas = {"信息收集": 2, "分析思维": 2, "挖掘需求与发现商机": 2}
    assert quiz.draw == 6 and quiz.draw_per_sub_competency == quotas
    by_key = {q.key: q.sub_competency for q in quiz.questions}
    assert sorted(by_key.values()).count("信息收集") == 3
    for seed in range(30):
        drawn = [by_key[d.key] for d in draw_for_seed(quiz, seed)]
        assert {sub: drawn.count(sub) for sub in quotas} == quotas


def test_no_sentence_is_copied_from_the_sources(shared_dir: Path):
    """Titles and references may name a course; everything a learner reads as prose is our own wording."""
    corpus = "".join(path.read_text(encoding="utf-8") for path in sorted((shared_dir / "corpus").glob("*.txt")))
    corpus = re.sub(r"\s+", "", corpus)
    copied = []
    for name, quiz in _all_sets().items():
        prose = [quiz.description]
        for question in quiz.questions:
            prose += [question.stem, question.explanation]
            prose += [option.text for option in question.options]
            prose += [option.feedback or "" for option in question.options]
        for text in prose:
            flat = re.sub(r"\s+", "", text)
            copied += [
                (name, flat[i : i + COPY_WINDOW])
                for i in range(len(flat) - COPY_WINDOW + 1)
                if flat[i : i + COPY_WINDOW] in corpus
            ]
    assert copied == []
