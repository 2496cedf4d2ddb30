"""Pure quiz mechanics: draw questions, shuffle options, grade, place on the cut scores.

Randomness is an argument (a seeded `random.Random`), so an attempt replays exactly from its seed.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from quizzes.competency import level_for_score
from quizzes.model import Question, QuizSet


@dataclass(frozen=True)
class DrawnQuestion:
    """A question as one attempt shows it: which bank question, and the order its options appear in."""

    key: str
    option_order: tuple[int, ...]  # shown position → original option index


def draw_questions(quiz: QuizSet, *, rng: random.Random) -> tuple[DrawnQuestion, ...]:
    """`quiz.draw` questions (honouring per-sub-competency quotas), options shuffled, all from `rng`."""
    chosen: list[Question] = []
    remaining = list(quiz.questions)
    for sub, count in sorted(quiz.draw_per_sub_competency.items()):
        pool = [q for q in remaining if q.sub_competency == sub]
        picked = rng.sample(pool, count)
        chosen += picked
        remaining = [q for q in remaining if q not in picked]
    chosen += rng.sample(remaining, quiz.draw - len(chosen))
    rng.shuffle(chosen)
    drawn = []
    for question in chosen:
        order = list(range(len(question.options)))
        if question.kind != "true_false":
            rng.shuffle(order)
        drawn.append(DrawnQuestion(question.key, tuple(order)))
    return tuple(drawn)


def draw_for_seed(quiz: QuizSet, seed: int) -> tuple[DrawnQuestion, ...]:
    """The same draw every time for the same seed (audits replay attempts with it)."""
    return draw_questions(quiz, rng=random.Random(seed))


def is_correct(question: Question, chosen_original: frozenset[int]) -> bool:
    """All-or-nothing: exactly the correct options, no more, no fewer."""
    return chosen_original == question.correct_indexes


def grade(correct_count: int, quiz: QuizSet) -> int:
    """The 等级 (0–3) an attempt's number of right answers reaches."""
    return level_for_score(correct_count, quiz.cut_scores)
