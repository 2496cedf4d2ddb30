"""The daily practice question: from a practice set of the learner's level, in their weakest competency.

Weakest: the lowest 等级 among a competency's results this half-year (its weakest evidence so far, as the record's
competency level is the lowest of its instruments; a competency with no result at all counts lowest), ties in
programme order; the first of those with a practice set at the learner's level gives the question. Only questions
one button can answer (single choice, true/false). The pick and the option order are seeded with the learner and the
day, so the same day's message is the same whoever plans it.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from bot.core import texts
from bot.core.buttons import ButtonMaker
from bot.core.messages import TextReply
from certification.model import RecordEntry
from certification.rules import JOB_COMPETENCIES, current_entries
from quizzes.model import Question, QuizSet
from quizzes.serialization import quiz_from_json
from storage.quiz_repository import PublishedSet

LETTERS = "ABCDEFGH"
ONE_BUTTON_KINDS = ("single_choice", "true_false")


@dataclass(frozen=True)
class PracticeSet:
    version_id: int
    quiz: QuizSet


@dataclass(frozen=True)
class DailyPick:
    version_id: int
    quiz: QuizSet
    question: Question
    order: tuple[int, ...]  # original option indexes in the order shown


def practice_sets(published: Sequence[PublishedSet]) -> list[PracticeSet]:
    """The published practice sets, parsed once per plan."""
    return [PracticeSet(p.version_id, quiz_from_json(p.content)) for p in published if p.mode == "practice"]


def weakest_first(entries: Sequence[RecordEntry], *, cycle: str) -> list[str]:
    """The job competencies from the weakest (lowest 等级 of its results this cycle; none yet counts lowest) to the
    strongest."""
    lowest: dict[str, int] = {}
    for entry in current_entries(entries):
        if entry.cycle == cycle:
            lowest[entry.competency] = min(entry.level, lowest.get(entry.competency, entry.level))
    rank = {c: i for i, c in enumerate(JOB_COMPETENCIES)}
    return sorted(JOB_COMPETENCIES, key=lambda c: (lowest.get(c, -1), rank[c]))


def pick_daily_question(
    sets: Sequence[PracticeSet], *, level: str, competencies: Sequence[str], learner_id: int, day: date
) -> DailyPick | None:
    """The day's question for this learner, or None when no practice set of their level has a question for it."""
    rng = random.Random(f"{learner_id}:{day.isoformat()}")
    for competency in competencies:
        pool = [
            (s, q)
            for s in sets
            if s.quiz.level == level and s.quiz.competency == competency
            for q in s.quiz.questions
            if q.kind in ONE_BUTTON_KINDS
        ]
        if pool:
            chosen, question = rng.choice(pool)
            order = list(range(len(question.options)))
            if question.kind != "true_false":
                rng.shuffle(order)
            return DailyPick(chosen.version_id, chosen.quiz, question, tuple(order))
    return None


def daily_message(pick: DailyPick, *, streak: int, button: ButtonMaker) -> TextReply:
    """The question with one button per option, and the streak."""
    lines = [pick.question.stem, ""]
    lines += [f"{LETTERS[i]}. {pick.question.options[original].text}" for i, original in enumerate(pick.order)]
    lines += ["", texts.STREAK.format(days=streak) if streak else texts.STREAK_NONE]
    payload = {"version_id": pick.version_id, "key": pick.question.key, "order": list(pick.order)}
    row = tuple(button(LETTERS[i], "daily_answer", {**payload, "shown": i}) for i in range(len(pick.order)))
    title = texts.DAILY_TITLE.format(competency=pick.quiz.competency, level=pick.quiz.level)
    return TextReply("\n".join(lines), buttons=(row,), title=title)
