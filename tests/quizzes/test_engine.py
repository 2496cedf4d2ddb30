import random

from quizzes.competency import PROGRAMME_INSTRUMENTS, level_for_score
from quizzes.engine import draw_for_seed, draw_questions, grade, is_correct
from quizzes.model import Option, Question, QuizSet


def _quiz(n: int = 10, draw: int = 5, per_sub: dict[str, int] | None = None) -> QuizSet:
    questions = tuple(
        Question(
            f"q{i}",
            "single_choice",
            f"题{i}",
            (Option("甲", True), Option("乙", False), Option("丙", False)),
            sub_competency="商务谈判技巧" if i % 2 else "说服影响力",
        )
        for i in range(n)
    )
    return QuizSet(
        "t",
        "销售推动力",
        "situational",
        "中级",
        "practice",
        draw,
        (2, 3, 4),
        questions,
        draw_per_sub_competency=per_sub or {},
    )


def test_same_seed_same_attempt_and_different_seeds_differ():
    quiz = _quiz()
    assert draw_for_seed(quiz, 42) == draw_for_seed(quiz, 42)
    assert len({draw_for_seed(quiz, s) for s in range(20)}) > 15


def test_draw_respects_size_uniqueness_and_quotas():
    quiz = _quiz(n=10, draw=6, per_sub={"说服影响力": 4})
    for seed in range(50):
        drawn = draw_questions(quiz, rng=random.Random(seed))
        keys = [d.key for d in drawn]
        assert len(keys) == 6 == len(set(keys))
        subs = [next(q for q in quiz.questions if q.key == k).sub_competency for k in keys]
        assert subs.count("说服影响力") >= 4
        assert all(sorted(d.option_order) == [0, 1, 2] for d in drawn)


def test_grading_is_all_or_nothing_and_levels_follow_cuts():
    question = _quiz().questions[0]
    assert is_correct(question, frozenset({0}))
    assert not is_correct(question, frozenset({0, 1}))
    assert not is_correct(question, frozenset())
    quiz = _quiz()
    assert [grade(n, quiz) for n in range(6)] == [0, 0, 1, 2, 3, 3]


def test_programme_cut_scores_from_the_domain():
    table = {(p.competency, p.instrument): (p.items, p.cuts) for p in PROGRAMME_INSTRUMENTS}
    assert table[("产品理解力", "knowledge")] == (80, (45, 55, 75))
    assert table[("客户洞察力", "knowledge")] == (20, (12, 14, 16))
    assert table[("销售推动力", "situational")] == (15, (8, 10, 12))
    assert table[("资源整合力", "situational")] == (10, (5, 7, 8))
    assert [level_for_score(s, (5, 7, 8)) for s in (4, 5, 6, 7, 8, 10)] == [0, 1, 1, 2, 3, 3]
