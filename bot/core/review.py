"""Which answer buttons a mistake-notebook review offers (one button per answer; the review has no toggles).

The buttons must not give the answer away. They did: a multiple-choice question with more than four options got
every combination of one to three letters, plus the right set when it was larger — so with five options and four
correct, the one four-letter button among 26 was the answer. Now the menu's shape never depends on the answer:
every size from one letter to all of them is offered, each size in full while it is small (at most
`FULL_SIZE_UP_TO` combinations) and otherwise as `SAMPLED_PER_SIZE` combinations — the right one, when it has that
size, among distractors of the same size, drawn by a generator seeded with the mistake (the same review shows the
same buttons each time, so seeing it twice reveals nothing new).
"""

from __future__ import annotations

import random
from itertools import combinations
from math import comb

from quizzes.model import Question

FULL_SIZE_UP_TO = 10  # a size with at most this many combinations is offered in full
SAMPLED_PER_SIZE = 5  # otherwise this many, the right one (if it has this size) among them


def review_choices(question: Question, order: tuple[int, ...], *, seed: int) -> list[tuple[int, ...]]:
    """Shown positions each review button answers with, smallest first."""
    n = len(order)
    if question.kind != "multiple_choice":
        return [(i,) for i in range(n)]
    correct = tuple(sorted(i for i in range(n) if order[i] in question.correct_indexes))
    rng = random.Random(seed)
    choices: list[tuple[int, ...]] = []
    for size in range(1, n + 1):
        if comb(n, size) <= FULL_SIZE_UP_TO:
            choices += combinations(range(n), size)
            continue
        picked = {correct} if len(correct) == size else set()
        while len(picked) < SAMPLED_PER_SIZE:
            picked.add(tuple(sorted(rng.sample(range(n), size))))
        choices += sorted(picked)
    return choices
