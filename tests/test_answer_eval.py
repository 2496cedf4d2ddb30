"""The answer figure of `coach eval`: matching a reply against evidence, scoring, and the command end to end."""

from __future__ import annotations

import pytest

from knowledge.metrics import ReplyOutcome, reply_carries_evidence, score_replies

# --- matching a reply against evidence -------------------------------------------------------------


@pytest.mark.parametrize(
    ("reply", "evidence"),
    [
        ("由直接上司和跨级上司分别评估,权重各为50%。[1]", "权重各为50%"),
        ("权重 各为\n50 %", "权重各为50%"),  # whitespace anywhere
        ("權重各為50%", "权重各为50%"),  # Traditional in the reply
        ("权重各为50%", "權重各為50%"),  # Traditional in the evidence
        ("ＫＰＩ权重各为５０％", "kpi权重各为50%"),  # full-width and upper-case ASCII fold
        ("权重**各为50%**", "权重各为50%"),  # markdown bold inside the fact
        ("常规指标占80%。[1]\n其余20%为临时任务。[2]", "常规指标占80%。其余20%为临时任务。"),  # citations between
        ("常规指标占80%。[1][2]其余20%", "80%。其余20%"),
        ("常规指标占80%。[1,2]其余20%", "80%。其余20%"),
        ("常规指标占80%。［1］其余20%", "80%。其余20%"),  # a full-width citation marker
        ("知识测验(80题) [45-55-75] 三档", "知识测验(80题) [45-55-75]"),  # a bracket that is not a citation stays
    ],
)
def test_a_reply_carries_the_fact_whatever_its_spacing_script_and_markers(reply, evidence):
    assert reply_carries_evidence(reply, evidence=[evidence])


@pytest.mark.parametrize(
    ("reply", "evidence"),
    [
        ("员工填写晋级申请表后,由直接上司和跨级上司分别评估,权…[1]", ["权重各为50%"]),  # stops before the fact
        ("权重各为5", ["权重各为50%"]),
        ("知识测验(80题) 45-55-75", ["知识测验(80题) [45-55-75]"]),  # the dataset's brackets are part of the fact
        ("", ["权重各为50%"]),  # "not found" carries nothing
        ("任何回复", ["", "  "]),  # blank evidence matches nothing
    ],
)
def test_a_reply_without_the_whole_fact_misses(reply, evidence):
    assert not reply_carries_evidence(reply, evidence=evidence)


def test_any_one_evidence_string_is_enough():
    assert reply_carries_evidence("比例大概为25%、55%、30%", evidence=["比例大概为 25%、55%、30%", "不在这里"])


# --- scoring -----------------------------------------------------------------------------------------


def test_scores_count_facts_abstentions_and_reply_lengths():
    outcomes = [
        ReplyOutcome("a", True, True, 100, carries_fact=True, first_source_right=True),
        ReplyOutcome("b", True, True, 300, carries_fact=True, first_source_right=False),
        ReplyOutcome("c", True, True, 200, carries_fact=False, first_source_right=True),
        ReplyOutcome("d", True, False, 0, carries_fact=False, first_source_right=False),
        ReplyOutcome("e", False, False, 0, carries_fact=False, first_source_right=False),
        ReplyOutcome("f", False, True, 50, carries_fact=False, first_source_right=False),
    ]
    s = score_replies(outcomes)
    assert (s.answerable, s.unanswerable) == (4, 2)
    assert s.carries_fact == 0.5 and s.carries_fact_right_source == 0.25
    assert s.wrong_abstain_on_answerable == 0.25 and s.abstain_on_unanswerable == 0.5
    assert s.median_chars == 150.0 and s.max_chars == 300  # over the four replies given, not the abstentions


def test_scores_of_a_set_without_answerable_questions_say_none():
    s = score_replies([ReplyOutcome("e", False, False, 0, carries_fact=False, first_source_right=False)])
    assert s.carries_fact is None and s.wrong_abstain_on_answerable is None and s.median_chars is None
    assert s.abstain_on_unanswerable == 1.0
