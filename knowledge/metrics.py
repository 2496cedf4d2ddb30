"""Retrieval metrics and evidence matching for evaluation. Pure functions."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from ingest.cleaning import fold_for_search, strip_pinyin_glosses

_SPACE = re.compile(r"\s+")


def evidence_key(text: str) -> str:
    """Fold a string the way cleaning and search do, so evidence matches cleaned passages."""
    return _SPACE.sub("", fold_for_search(strip_pinyin_glosses(text)))


def passage_matches(passage_text: str, passage_source: str, *, evidence: Sequence[str], sources: Sequence[str]) -> bool:
    """A passage is right when it comes from one of the expected files and holds any evidence string."""
    if sources and passage_source not in sources:
        return False
    folded = evidence_key(passage_text)
    return any(evidence_key(e) in folded for e in evidence if e.strip())


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
