"""BM25 over two fields — jieba words and character bigrams — as sparse matrices (fast at 100k passages).

Pure in-memory structure: built from (id, collection, words, bigrams) rows, pickled by `LexicalIndexStore`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from scipy import sparse

K1 = 1.2
B = 0.75


@dataclass(frozen=True)
class IndexedPassage:
    """What the index needs of a passage."""

    chunk_id: str
    collection: str
    words: Sequence[str]
    bigrams: Sequence[str]


@dataclass(frozen=True)
class LexicalHit:
    """A passage's BM25 score and how much of the question's informative terms it covers (0..1)."""

    chunk_id: str
    collection: str
    score: float
    coverage: float


class _Field:
    """One BM25 field: a doc×term matrix of saturated, length-normalised term weights plus IDF."""

    def __init__(self, docs: list[Sequence[str]]) -> None:
        self.vocab: dict[str, int] = {}
        rows: list[int] = []
        cols: list[int] = []
        tfs: list[float] = []
        lengths = np.zeros(len(docs), dtype=np.float32)
        for row, tokens in enumerate(docs):
            counts: dict[int, int] = {}
            for token in tokens:
                col = self.vocab.setdefault(token, len(self.vocab))
                counts[col] = counts.get(col, 0) + 1
            lengths[row] = len(tokens)
            rows.extend([row] * len(counts))
            cols.extend(counts.keys())
            tfs.extend(counts.values())
        n_docs = max(len(docs), 1)
        avg_len = float(lengths.mean()) if len(docs) else 1.0
        tf = np.asarray(tfs, dtype=np.float32)
        norm = K1 * (1 - B + B * lengths[np.asarray(rows, dtype=np.int64)] / max(avg_len, 1.0)) if rows else tf
        weights = tf * (K1 + 1) / (tf + norm)
        shape = (len(docs), len(self.vocab))
        self.matrix = sparse.csc_matrix((weights, (rows, cols)), shape=shape, dtype=np.float32)
        df = np.diff(self.matrix.indptr).astype(np.float32)
        self.idf = np.log(1 + (n_docs - df + 0.5) / (df + 0.5)).astype(np.float32)
        self.max_idf = float(math.log(1 + (n_docs + 0.5) / 0.5))

    def idf_of(self, term: str) -> float:
        col = self.vocab.get(term)
        return self.max_idf if col is None else float(self.idf[col])

    def scores(self, terms: Iterable[tuple[str, float]], n_docs: int) -> np.ndarray:
        """BM25 scores of every document for weighted query terms."""
        cols, weights = [], []
        for term, weight in terms:
            col = self.vocab.get(term)
            if col is not None:
                cols.append(col)
                weights.append(weight * self.idf[col])
        if not cols:
            return np.zeros(n_docs, dtype=np.float32)
        sub = self.matrix[:, cols]
        return np.asarray(sub @ np.asarray(weights, dtype=np.float32)).ravel()

    def contains(self, rows: np.ndarray, term: str) -> np.ndarray:
        """Boolean per row: does the document hold the term?"""
        col = self.vocab.get(term)
        if col is None:
            return np.zeros(len(rows), dtype=bool)
        column = self.matrix[:, col]
        return np.asarray(column[rows].toarray()).ravel() > 0


class LexicalIndex:
    """Two-field BM25 with collection filtering and term-coverage for abstention."""

    def __init__(self, passages: Sequence[IndexedPassage], *, bigram_weight: float = 0.5) -> None:
        self.chunk_ids = [p.chunk_id for p in passages]
        self.collections = np.asarray([p.collection for p in passages], dtype=object)
        self.bigram_weight = bigram_weight
        self.words = _Field([p.words for p in passages])
        self.bigrams = _Field([p.bigrams for p in passages])

    def __len__(self) -> int:
        return len(self.chunk_ids)

    def search(
        self,
        *,
        words: Sequence[str],
        expansions: Sequence[str] = (),
        synonyms_of: Mapping[str, Sequence[str]] | None = None,
        bigrams: Sequence[str] = (),
        key_words: Sequence[str] | None = None,
        collections: Sequence[str] | None = None,
        limit: int = 50,
        synonym_weight: float = 0.5,
    ) -> list[LexicalHit]:
        """The best `limit` passages, best first; passages with a zero score are never returned."""
        n = len(self)
        if n == 0:
            return []
        weighted = [(w, 1.0) for w in words] + [(e, synonym_weight) for e in expansions]
        scores = self.words.scores(weighted, n)
        if self.bigram_weight and bigrams:
            scores = scores + self.bigram_weight * self.bigrams.scores(((g, 1.0) for g in bigrams), n)
        if collections:
            scores = np.where(np.isin(self.collections, list(collections)), scores, 0.0)
        limit = min(limit, n)
        top = np.argpartition(-scores, limit - 1)[:limit]
        top = top[np.argsort(-scores[top], kind="stable")]
        top = top[scores[top] > 0]
        coverage = self._coverage(top, key_words if key_words is not None else words, synonyms_of or {})
        return [
            LexicalHit(self.chunk_ids[i], str(self.collections[i]), float(scores[i]), float(c))
            for i, c in zip(top, coverage, strict=True)
        ]

    def _coverage(
        self, rows: np.ndarray, key_words: Sequence[str], synonyms_of: Mapping[str, Sequence[str]]
    ) -> np.ndarray:
        """IDF-weighted share of the question's key words each passage holds.

        A word counts as held when the passage has it, one of its synonyms, or all of its character
        bigrams (jieba may have cut the passage differently).
        """
        if len(rows) == 0 or not key_words:
            return np.zeros(len(rows))
        total = 0.0
        matched = np.zeros(len(rows))
        for word in key_words:
            idf = self.words.idf_of(word)
            total += idf
            present = self.words.contains(rows, word)
            for alternative in synonyms_of.get(word, ()):
                present |= self.words.contains(rows, alternative)
            grams = [word[i : i + 2] for i in range(len(word) - 1)]
            if grams and all("\u3400" <= ch <= "\u9fff" for ch in word):
                all_grams = np.ones(len(rows), dtype=bool)
                for gram in grams:
                    all_grams &= self.bigrams.contains(rows, gram)
                present |= all_grams
            matched += idf * present
        return matched / total if total else np.zeros(len(rows))
