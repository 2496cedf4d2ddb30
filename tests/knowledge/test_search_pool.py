"""KnowledgeSearch over a real lexical index with an in-memory passage store (no database, no dense side)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager

import pytest

import knowledge.search as search_module
from app.settings import RetrievalSettings
from ingest.chunking import LIST_STRETCH
from knowledge.abstention import AbstentionPolicy
from knowledge.lexical_index import IndexedPassage, LexicalIndex
from knowledge.results import Passage
from knowledge.search import KnowledgeSearch, SearchOptions
from knowledge.tokenizer import Tokenizer
from storage.knowledge_repository import StoredPassage


class _Store:
    def __init__(self, passages: Sequence[StoredPassage]) -> None:
        self._by_id = {p.chunk_id: p for p in passages}

    @contextmanager
    def read(self) -> Iterator[None]:
        yield None

    def get_passages(self, _session: object, chunk_ids: Iterable[str]) -> dict[str, StoredPassage]:
        return {i: self._by_id[i] for i in chunk_ids if i in self._by_id}


class _Dense:
    """Our dense seam: the passages it is told are nearest, best first."""

    def __init__(self, nearest: Sequence[str]) -> None:
        self.nearest = nearest
        self.asked = 0

    def search(self, _question: str, *, k: int, collections: Sequence[str] | None = None) -> dict[str, float]:
        self.asked += 1
        return {chunk_id: 0.9 - 0.01 * i for i, chunk_id in enumerate(self.nearest[:k])}


def _search(
    texts: Sequence[str], *, dense: _Dense | None = None, min_coverage: float = 0.0, dense_weight: float = 0.0
) -> KnowledgeSearch:
    tokenizer = Tokenizer()
    stored = [StoredPassage(f"c{i:02d}", "general", t, "", "资料", "a.txt", "a.txt") for i, t in enumerate(texts)]
    rows = [IndexedPassage(p.chunk_id, p.collection, *tokenizer.document_tokens(p.text)) for p in stored]
    store = _Store(stored)
    return KnowledgeSearch(
        tokenizer=tokenizer,
        lexical=LexicalIndex(rows),
        dense=dense,  # type: ignore[arg-type]
        uow=store,  # type: ignore[arg-type]
        repository=store,  # type: ignore[arg-type]
        abstention=AbstentionPolicy(min_coverage=min_coverage),
        options=SearchOptions(dense_weight=dense_weight),
    )


def test_the_unit_rerank_can_lift_a_passage_from_search_rank_12(monkeypatch: pytest.MonkeyPatch) -> None:
    # Search rank follows how often the passage says 晋级考核 (BM25 saturates, but more is still higher).
    texts = [("晋级考核" * (30 - i)) + f"第{i}条" for i in range(20)]
    search = _search(texts)
    seen: list[int] = []

    def answer_first(pool: Sequence[Passage], _shape: object) -> list[Passage]:
        seen.append(len(pool))
        return sorted(pool, key=lambda p: p.chunk_id != "c11")  # the unit scorer finds the answer in rank 12

    monkeypatch.setattr(search_module, "rerank_by_units", answer_first)
    result = search.search("晋级考核", k=5)
    assert seen == [15]
    assert result.passages[0].chunk_id == "c11"


def test_a_passage_as_long_as_the_chunker_writes_is_shown_whole() -> None:
    # A list stretched past chunk_chars (up to LIST_STRETCH × chunk_chars = 600) kept its last sentence, 「原因在于
    # 总部结款不按时」, behind a 500-character cut: the search found the passage, the reply could not quote it.
    longest = int(LIST_STRETCH * RetrievalSettings().chunk_chars)
    text = "销售助理的工作计划:\n" + "".join(f"{i}、强化销售方面的学问,提高客户服务技巧;\n" for i in range(1, 25))
    text = text[: longest - 30] + "回款率不理想,原因在于总部结款不按时。"
    assert 500 < len(text) <= longest
    result = _search([text, "别的段落讲客户服务。"]).search("回款率不理想原因", k=2)
    assert result.passages[0].text == text


EXPECTATION = [
    "客户期望过高时,先给出两三个可选方案,再说明分阶段实施。",
    "管理客户期望:承诺要留有余地。",
    "晋级需要提交申请表。",
    "投诉处理要在时限内回复。",
    "会议纪要由主持人整理。",
    "培训课程每季度开一次。",
    *(f"第{i}号通知:客户经理到{i}楼领取工牌。" for i in range(60)),  # a library large enough that
]  # two top-5 lists sharing 2 passages is more than chance (`AbstentionPolicy.agreement_needed`)
COLLOQUIAL = "客户胃口太大,期望高得离谱,咋给他降降温?"  # 胃口 太大 离谱 降降温: words no passage holds


def test_a_colloquial_question_below_the_coverage_line_is_answered_when_the_dense_side_agrees() -> None:
    lexical_only = _search(EXPECTATION, min_coverage=0.2)
    assert lexical_only.search(COLLOQUIAL, k=5).abstained  # coverage alone says no
    agreeing = _Dense(["c00", "c01", "c04"])
    result = _search(EXPECTATION, dense=agreeing, min_coverage=0.2, dense_weight=0.2).search(COLLOQUIAL, k=5)
    assert not result.abstained
    assert result.passages[0].chunk_id == "c00"
    assert agreeing.asked == 1  # the dense side is asked once, for agreement and for fusion


def test_in_a_handful_of_passages_agreement_vouches_for_nothing() -> None:
    few = EXPECTATION[:6]
    result = _search(few, dense=_Dense(["c00", "c01", "c02"]), min_coverage=0.2, dense_weight=0.2).search(
        COLLOQUIAL, k=5
    )
    assert result.abstained


def test_the_dense_side_finding_other_passages_does_not_vouch() -> None:
    elsewhere = _Dense(["c02", "c03", "c04", "c05"])
    result = _search(EXPECTATION, dense=elsewhere, min_coverage=0.2, dense_weight=0.2).search(COLLOQUIAL, k=5)
    assert result.abstained
