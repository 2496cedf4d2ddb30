"""Retrieval and answer metrics, and evidence matching for evaluation. Pure functions."""

from __future__ import annotations

import re
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

from ingest.chinese_text import fold_for_search, strip_pinyin_glosses

_SPACE = re.compile(r"\s+")
_CITATION = re.compile(r"\[\d+(?:[,、]\s*\d+)*\]")  # [1], [2,3], [1、2]; full-width ［1］ folds to [1] first


def evidence_key(text: str) -> str:
    """Fold a string the way cleaning and search do, so evidence matches cleaned passages."""
    return _SPACE.sub("", fold_for_search(strip_pinyin_glosses(text)))


def passage_matches(passage_text: str, passage_source: str, *, evidence: Sequence[str], sources: Sequence[str]) -> bool:
    """A passage is right when it comes from one of the expected files and holds any evidence string."""
    if sources and passage_source not in sources:
        return False
    folded = evidence_key(passage_text)
    return any(evidence_key(e) in folded for e in evidence if e.strip())


def reply_key(text: str) -> str:
    """`evidence_key` for a reply: also drops markdown bold (**) and citation markers ([1]) between the words."""
    folded = fold_for_search(strip_pinyin_glosses(text)).replace("**", "")
    return _SPACE.sub("", _CITATION.sub("", folded))


def reply_carries_evidence(reply: str, *, evidence: Sequence[str]) -> bool:
    """The reply a learner reads holds one of the evidence strings, whatever file it was taken from."""
    key = reply_key(reply)
    return bool(key) and any(reply_key(e) in key for e in evidence if reply_key(e))


@dataclass(frozen=True)
class QuestionOutcome:
    question_id: str
    answerable: bool
    abstained: bool
    first_hit_rank: int | None  # 1-based rank of the first right passage within the top 10


@dataclass(frozen=True)
class RetrievalScores:
    answerable: int
    unanswerable: int
    hit_at_1: float
    hit_at_5: float
    mrr_at_10: float
    abstain_on_unanswerable: float | None
    wrong_abstain_on_answerable: float

    def as_json(self) -> dict[str, object]:
        return {k: (round(v, 4) if isinstance(v, float) else v) for k, v in self.__dict__.items()}


def score_outcomes(outcomes: Sequence[QuestionOutcome]) -> RetrievalScores:
    """hit@1, hit@5 and MRR@10 over answerable questions (an abstention counts as a miss)."""
    answerable = [o for o in outcomes if o.answerable]
    unanswerable = [o for o in outcomes if not o.answerable]
    n = max(len(answerable), 1)

    def hits(k: int) -> float:
        return sum(1 for o in answerable if o.first_hit_rank is not None and o.first_hit_rank <= k) / n

    mrr = sum(1.0 / o.first_hit_rank for o in answerable if o.first_hit_rank) / n
    return RetrievalScores(
        answerable=len(answerable),
        unanswerable=len(unanswerable),
        hit_at_1=hits(1),
        hit_at_5=hits(5),
        mrr_at_10=mrr,
        abstain_on_unanswerable=(sum(o.abstained for o in unanswerable) / len(unanswerable) if unanswerable else None),
        wrong_abstain_on_answerable=sum(o.abstained for o in answerable) / n,
    )


@dataclass(frozen=True)
class ReplyOutcome:
    question_id: str
    answerable: bool
    found: bool
    chars: int  # characters of the reply text (without the source list); 0 when the reply is "not found"
    carries_fact: bool
    first_source_right: bool  # the reply's first source is one of the expected files


@dataclass(frozen=True)
class AnswerScores:
    answerable: int
    unanswerable: int
    carries_fact: float | None  # share of answerable questions whose reply holds the fact (abstaining misses)
    carries_fact_right_source: float | None  # … and whose first source is a right file
    abstain_on_unanswerable: float | None
    wrong_abstain_on_answerable: float | None
    median_chars: float | None  # over the replies given (not the "not found" ones)
    max_chars: int | None

    def as_json(self) -> dict[str, object]:
        return {k: (round(v, 4) if isinstance(v, float) else v) for k, v in self.__dict__.items()}


def score_replies(outcomes: Sequence[ReplyOutcome]) -> AnswerScores:
    """How often the reply carries the fact, how often it rightly says "not found", and how long it is."""
    answerable = [o for o in outcomes if o.answerable]
    unanswerable = [o for o in outcomes if not o.answerable]
    lengths = [o.chars for o in outcomes if o.found]

    def among(group: list[ReplyOutcome], count: int) -> float | None:
        return count / len(group) if group else None

    return AnswerScores(
        answerable=len(answerable),
        unanswerable=len(unanswerable),
        carries_fact=among(answerable, sum(o.carries_fact for o in answerable)),
        carries_fact_right_source=among(answerable, sum(o.carries_fact and o.first_source_right for o in answerable)),
        abstain_on_unanswerable=among(unanswerable, sum(not o.found for o in unanswerable)),
        wrong_abstain_on_answerable=among(answerable, sum(not o.found for o in answerable)),
        median_chars=float(statistics.median(lengths)) if lengths else None,
        max_chars=max(lengths) if lengths else None,
    )
