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


def _search(texts: Sequence[str]) -> KnowledgeSearch:
    tokenizer = Tokenizer()
    stored = [StoredPassage(f"c{i:02d}", "general", t, "", "资料", "a.txt", "a.txt") for i, t in enumerate(texts)]
    rows = [IndexedPassage(p.chunk_id, p.collection, *tokenizer.document_tokens(p.text)) for p in stored]
    store = _Store(stored)
    return KnowledgeSearch(
        tokenizer=tokenizer,
        lexical=LexicalIndex(rows),
        dense=None,
        uow=store,  # type: ignore[arg-type]
        repository=store,  # type: ignore[arg-type]
        abstention=AbstentionPolicy(min_coverage=0.0),
        options=SearchOptions(),
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
