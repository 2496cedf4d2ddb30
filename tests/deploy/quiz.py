"""The certification set the deployment tests and the load benchmark publish, and how a simulated learner finds
the right answer (the bot shuffles the options, so by their text)."""

from __future__ import annotations

from tests.e2e.harness import BotMessage

QUIZ_TITLE = "部署验证认证测验"
QUIZ = """\
title: 部署验证认证测验
competency: 销售推动力
sub_competencies: [商务谈判技巧]
instrument: 情境模拟测验
level: 中级
mode: certification
draw: 4
cut_scores: [2, 3, 4]
questions:
  - id: q1
    stem: 客户第一次提出降价,你先做什么?
    options:
      - text: 先了解客户的真实条件
        correct: true
      - text: 当场答应
  - id: q2
    stem: 让步应该怎样安排?
    options:
      - text: 分成几小步,每步换回条件
        correct: true
      - text: 一次让到底
  - id: q3
    stem: 对方强硬施压时?
    options:
      - text: 保持冷静,回到双方利益
        correct: true
      - text: 针锋相对
  - id: q4
    stem: 谈判前最重要的准备是?
    options:
      - text: 写下自己的底线和目标
        correct: true
      - text: 什么都不准备,随机应变
"""
RIGHT_OPTIONS = ("先了解客户的真实条件", "分成几小步", "保持冷静", "写下自己的底线")


def right_and_wrong(question: BotMessage) -> tuple[str, str]:
    """(right letter, wrong letter) of a two-option question of QUIZ."""
    options = [line.strip() for line in (question.text or "").splitlines() if line.strip()[:2] in ("A.", "B.")]
    assert len(options) == 2, question.text
    right = [o[0] for o in options if any(r in o for r in RIGHT_OPTIONS)]
    assert len(right) == 1, options
    return right[0], next(o[0] for o in options if o[0] != right[0])
