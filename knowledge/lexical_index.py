"""BM25 over two fields — jieba words and character bigrams — as sparse matrices (fast at 100k passages).

Pure in-memory structure: built from (id, collection, words, bigrams) rows, pickled by `LexicalIndexStore`.
"""

from __future__ import annotations

import math
from array import array
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from scipy import sparse

K1 = 1.2
B = 0.75
SINGLE_CHAR_WEIGHT = 0.3  # a one-character word's share of coverage: jieba leaves colloquial verbs and particles
# (「带」「才」「算」「干」「老」) as single characters, and at full IDF they outweigh the question's subject


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


class _FieldBuilder:
    """Collects one field's tokens as integer ids, one document at a time (no per-token objects kept)."""

    def __init__(self) -> None:
        self.vocab: dict[str, int] = {}
        self.cols = array("i")
        self.lengths = array("i")

    def add(self, tokens: Sequence[str]) -> None:
        vocab = self.vocab
        self.cols.extend([vocab.setdefault(token, len(vocab)) for token in tokens])
        self.lengths.append(len(tokens))

    def build(self) -> _Field:
        """Term frequencies via a sparse matrix, then BM25's saturation and length normalisation in numpy."""
        n_docs = len(self.lengths)
        token_counts = np.frombuffer(self.lengths, dtype=np.int32) if n_docs else np.zeros(0, dtype=np.int32)
        lengths = token_counts.astype(np.float32)
        indptr = np.zeros(n_docs + 1, dtype=np.int64)
        np.cumsum(token_counts, out=indptr[1:])
        cols = np.frombuffer(self.cols, dtype=np.int32) if len(self.cols) else np.zeros(0, dtype=np.int32)
        counts = sparse.csr_matrix(
            (np.ones(len(cols), dtype=np.float32), cols, indptr), shape=(n_docs, len(self.vocab))
        )
        counts.sum_duplicates()
        row_of = np.repeat(np.arange(n_docs), np.diff(counts.indptr))
        avg_len = float(lengths.mean()) if n_docs else 1.0
        norm = K1 * (1 - B + B * lengths[row_of] / max(avg_len, 1.0))
        counts.data = (counts.data * (K1 + 1) / (counts.data + norm)).astype(np.float32)
        return _Field(self.vocab, counts.tocsc())


class _Field:
    """One BM25 field: a doc×term matrix of saturated, length-normalised term weights plus IDF."""

    def __init__(self, vocab: dict[str, int], matrix: sparse.csc_matrix) -> None:
        self.vocab = vocab
        self.matrix = matrix
        n_docs = max(matrix.shape[0], 1)
        df = np.diff(matrix.indptr).astype(np.float32)
        self.idf = np.log(1 + (n_docs - df + 0.5) / (df + 0.5)).astype(np.float32)
        self.max_idf = float(math.log(1 + (n_docs + 0.5) / 0.5))

    @classmethod
    def from_documents(cls, docs: Iterable[Sequence[str]]) -> _Field:
        builder = _FieldBuilder()
        for tokens in docs:
            builder.add(tokens)
        return builder.build()

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
        self.words = _Field.from_documents(p.words for p in passages)
        self.bigrams = _Field.from_documents(p.bigrams for p in passages)

    @classmethod
    def from_rows(cls, rows: Iterable[tuple[str, str, str, str]], *, bigram_weight: float = 0.5) -> LexicalIndex:
        """Build from stored (id, collection, space-joined words, space-joined bigrams) rows in one pass,
        turning tokens into ids as it goes (at 100k passages: ~1 GB less memory than keeping token lists)."""
        index = cls.__new__(cls)
        ids: list[str] = []
        collections: list[str] = []
        words, bigrams = _FieldBuilder(), _FieldBuilder()
        for chunk_id, collection, word_text, bigram_text in rows:
            ids.append(chunk_id)
            collections.append(collection)
            words.add(word_text.split())
            bigrams.add(bigram_text.split())
        index.chunk_ids = ids
        index.collections = np.asarray(collections, dtype=object)
        index.bigram_weight = bigram_weight
        index.words, index.bigrams = words.build(), bigrams.build()
        return index

    def __len__(self) -> int:
        return len(self.chunk_ids)

    def weights(self, words: Sequence[str], bigrams: Sequence[str]) -> tuple[dict[str, float], dict[str, float]]:
        """IDF of each word and each bigram (a term the index lacks gets the highest IDF)."""
        return {w: self.words.idf_of(w) for w in words}, {g: self.bigrams.idf_of(g) for g in bigrams}

    def informative(self, words: Sequence[str]) -> tuple[str, ...]:
        """The words (not single characters) the index holds, rarest (most informative) first."""
        known = [w for w in dict.fromkeys(words) if w in self.words.vocab and (len(w) > 1 or w.isascii())]
        return tuple(sorted(known, key=lambda w: -self.words.idf_of(w)))

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
            if len(word) == 1 and "\u3400" <= word <= "\u9fff":
                idf *= SINGLE_CHAR_WEIGHT
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
