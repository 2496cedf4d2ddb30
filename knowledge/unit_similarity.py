"""Semantic unit scoring: how close each candidate unit of a reply is in meaning to the question.

The lexical scorer (`span_selection.score_unit`) counts the question's words; a unit that answers in other
words (「分为五个角色」 for 「有几种身份」) can lose to one that repeats the question. When an embedding model is
configured, the candidate units' cosine similarity to the question, min-max normalised over the candidates,
is added to their lexical score normalised by the best: `score / best + weight × similarity`.

`combine` is pure and takes the similarities as a callable, so `answer.compose_answer` imports no model;
`EmbeddingUnitSimilarity` is that callable over a LangChain `Embeddings` (the e5 model the dense side uses):
the candidates' vectors come from memory, then from those ingest stored (`unit_vectors`), and only the rest are
embedded, in one batch, and stored.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from typing import Protocol

# (question, unit texts) → cosine similarity of each text to the question
UnitSimilarity = Callable[[str, Sequence[str]], Sequence[float]]
log = logging.getLogger(__name__)
SEMANTIC_WEIGHT = 0.5  # weight of the min-max similarity beside the lexical score (0.5–0.6 best when tuned)
SEMANTIC_POOL = 6  # how many of the best lexical units are embedded and rescored (6 to 20 gave the same replies)


def combine(
    question: str,
    scored: Sequence[tuple[float, str]],
    similarity: UnitSimilarity,
    *,
    weight: float = SEMANTIC_WEIGHT,
    pool: int = SEMANTIC_POOL,
) -> list[float]:
    """New scores for `scored` (lexical score, text to embed), best lexical first: the first `pool` get
    `score / best + weight × min-max similarity`, the rest `score / best`. Scores stay on the lexical scale
    (× best / (1 + weight)), so shares of the best score keep their meaning."""
    if not scored:
        return []
    best = max(s for s, _ in scored) or 1.0
    out = [s / best for s, _ in scored]
    head = list(range(min(pool, len(scored))))
    if len(head) > 1 and weight > 0:
        cosines = list(similarity(question, [scored[i][1] for i in head]))
        low, high = min(cosines), max(cosines)
        if high > low:
            for i, c in zip(head, cosines, strict=True):
                out[i] += weight * (c - low) / (high - low)
    return [s * best / (1 + weight) for s in out]


class _Embeddings(Protocol):
    def embed_query(self, text: str) -> list[float]: ...

    def embed_few(self, texts: list[str]) -> list[list[float]]: ...


class UnitVectorStore(Protocol):
    """Unit vectors kept across processes (`unit_vectors.StoredUnitVectors`): those found, by text."""

    def get(self, texts: Sequence[str]) -> dict[str, list[float]]: ...

    def put(self, vectors: dict[str, list[float]]) -> None: ...


class EmbeddingUnitSimilarity:
    """`UnitSimilarity` over an embedding model with normalised vectors (e5: the dot product is the cosine).

    Unit vectors are kept by text (`cache` of them, least recently used dropped): the same popular passages
    answer many questions. `embeddings` is an `embeddings.RememberingEmbeddings`: the question's vector is the
    one the dense search already computed. A unit not in memory is read from `store` (ingest stored every unit's
    vector: `knowledge.unit_vectors`), else embedded by the model's `embed_few` (one thread) and stored."""

    def __init__(self, embeddings: _Embeddings, *, cache: int = 4096, store: UnitVectorStore | None = None) -> None:
        self._embeddings = embeddings
        self._store = store
        self._cache: OrderedDict[str, list[float]] = OrderedDict()
        self._size = cache
        self._lock = threading.Lock()  # the chat answers several learners at once

    def __call__(self, question: str, texts: Sequence[str]) -> list[float]:
        """Cosines; equal ones (which change no score) when the model fails: the reply is then the lexical one."""
        try:
            return self._similarities(question, texts)
        except Exception as exc:  # the model only refines a choice the lexical scorer already made
            log.warning("unit similarity failed, this reply is scored lexically (%s: %s)", type(exc).__name__, exc)
            return [0.0] * len(texts)

    def _similarities(self, question: str, texts: Sequence[str]) -> list[float]:
        query = self._embeddings.embed_query(question)
        with self._lock:
            vectors = {t: self._cache[t] for t in texts if t in self._cache}
        missing = [t for t in dict.fromkeys(texts) if t not in vectors]
        if missing and self._store is not None:
            vectors.update(self._store.get(missing))
            missing = [t for t in missing if t not in vectors]
        if missing:
            embedded = dict(zip(missing, self._embeddings.embed_few(missing), strict=True))
            vectors.update(embedded)
            if self._store is not None:
                self._store.put(embedded)
        with self._lock:
            for text in texts:
                self._cache[text] = vectors[text]
                self._cache.move_to_end(text)
            while len(self._cache) > self._size:
                self._cache.popitem(last=False)
        return [sum(q * v for q, v in zip(query, vectors[t], strict=True)) for t in texts]
