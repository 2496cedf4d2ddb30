"""A certification quiz set the programme accepts, for tests and benchmarks that publish one.

A certification set must be its competency's instrument as the programme defines it (quizzes/validation.py):
draw its number of items and grade by its cut scores, e.g. 产品理解力 情境模拟测验 = 10 items, cuts 5/7/8;
销售推动力 情境模拟测验 = 15 items, cuts 8/10/12. The numbers are read from quizzes.competency, so the set
follows the programme; the tests that take it pin the scores they expect.

Every question is single choice with two options; the right one starts with RIGHT_OPTION, the wrong one with
WRONG_OPTION, so a simulated learner finds the right letter by the text whatever order the bot shows them in.
"""

from __future__ import annotations

from collections.abc import Sequence

import yaml

from quizzes.competency import INSTRUMENTS, instrument_code, programme_instrument

RIGHT_OPTION = "先了解对方的真实条件"
WRONG_OPTION = "马上答应对方"
LETTERS = "ABCDEFGH"


def certification_set_yaml(
    competency: str,
    instrument: str = "situational",
    *,
    title: str,
    level: str = "中级",
    sub_competencies: Sequence[str] = (),
    time_limit_minutes: int | None = None,
    questions: int | None = None,
) -> str:
    """YAML text of a certification set of `competency`'s `instrument` ('situational' or '情境模拟测验'): the
    programme's draw and cut scores, and `questions` single-choice questions (the programme's item count unless
    given; more makes a bank to draw from)."""
    code = instrument_code(instrument)
    programme = programme_instrument(competency, code or instrument)
    if code is None or programme is None or programme.items is None:
        raise ValueError(f"the programme has no chat-taken {instrument} for {competency}")
    bank = programme.items if questions is None else questions
    if bank < programme.items:
        raise ValueError(f"{competency} {instrument} draws {programme.items} questions; {bank} are too few")
    document = {
        "title": title,
        "competency": competency,
        "sub_competencies": list(sub_competencies),
        "instrument": INSTRUMENTS[code],
        "level": level,
        "mode": "certification",
        "draw": programme.items,
        "cut_scores": list(programme.cuts),
        **({"time_limit_minutes": time_limit_minutes} if time_limit_minutes is not None else {}),
        "questions": [
            {
                "id": f"q{n:02d}",
                "stem": f"情境{n}:客户提出新的要求,你先做什么?",
                "options": [
                    {"text": f"{RIGHT_OPTION}({n})", "correct": True},
                    {"text": f"{WRONG_OPTION}({n})"},
                ],
            }
            for n in range(1, bank + 1)
        ],
    }
    return yaml.safe_dump(document, allow_unicode=True, sort_keys=False)


def shown_options(question_text: str) -> dict[str, str]:
    """Letter → option text, from the lines "A. …" of a question as the bot shows it."""
    options = {}
    for line in question_text.splitlines():
        line = line.strip()
        if len(line) > 3 and line[0] in LETTERS and line[1:3] == ". ":
            options[line[0]] = line[3:]
    return options


def right_and_wrong(question_text: str) -> tuple[str, str]:
    """(right letter, wrong letter) of a shown question of a set from certification_set_yaml."""
    options = shown_options(question_text)
    assert len(options) == 2, question_text
    right = [letter for letter, text in options.items() if text.startswith(RIGHT_OPTION)]
    wrong = [letter for letter, text in options.items() if text.startswith(WRONG_OPTION)]
    assert len(right) == 1 and len(wrong) == 1, options
    return right[0], wrong[0]
