"""The mistake-notebook review's buttons never give the answer away (issue 12, trainer tools 16)."""

from __future__ import annotations

from collections import Counter
from itertools import combinations

from bot.core.review import review_choices
from quizzes.model import Option, Question


def _question(n: int, correct: tuple[int, ...]) -> Question:
    options = tuple(Option(f"选项{i}", i in correct) for i in range(n))
    return Question(key="q", kind="multiple_choice", stem="哪些对?", options=options)


def _sizes(choices: list[tuple[int, ...]]) -> Counter[int]:
    return Counter(len(c) for c in choices)


def test_five_options_four_correct_the_right_set_is_not_the_only_button_of_its_size():
    order = (0, 1, 2, 3, 4)
    choices = review_choices(_question(5, (0, 1, 2, 4)), order, seed=7)
    assert (0, 1, 2, 4) in choices
    assert _sizes(choices)[4] > 1  # it was the one four-letter button among 26


def test_the_menu_has_the_same_shape_whatever_the_answer():
    for n in range(2, 9):
        order = tuple(range(n))
        shapes = set()
        for size in range(1, n + 1):
            for correct in list(combinations(range(n), size))[:6]:
                choices = review_choices(_question(n, correct), order, seed=42)
                assert correct in choices and len(set(choices)) == len(choices)
                shapes.add(tuple(sorted(_sizes(choices).items())))
        assert len(shapes) == 1, f"{n} options: the number of buttons per size depends on the answer"
        assert sum(dict(shapes.pop()).values()) <= 64  # within what a chat keyboard can show


def test_the_same_mistake_shows_the_same_buttons_and_the_order_is_respected():
    question = _question(7, (1, 3, 4, 6))
    order = (6, 5, 4, 3, 2, 1, 0)  # shown position i holds original option order[i]
    first = review_choices(question, order, seed=3)
    assert first == review_choices(question, order, seed=3)
    assert (0, 2, 3, 5) in first  # originals 6, 4, 3, 1 at their shown positions
