"""The certification set the deployment tests and the load benchmark publish, and how a simulated learner finds
the right answer (the bot shuffles the options, so by their text).

It is the programme's 销售推动力 情境模拟测验: 15 questions drawn, cut scores 8/10/12
(tests/support/certification_sets.py)."""

from __future__ import annotations

from tests.e2e.harness import BotMessage
from tests.support import certification_sets

QUIZ_TITLE = "部署验证认证测验"
QUIZ = certification_sets.certification_set_yaml(
    "销售推动力", "情境模拟测验", title=QUIZ_TITLE, level="中级", sub_competencies=["商务谈判技巧"]
)
QUIZ_QUESTIONS = 15  # what one attempt asks: the programme's item count


def right_and_wrong(question: BotMessage) -> tuple[str, str]:
    """(right letter, wrong letter) of a two-option question of QUIZ."""
    return certification_sets.right_and_wrong(question.text or "")
