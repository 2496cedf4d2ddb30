"""Hybrid search over the knowledge base: lexical first, dense where it helps, honest abstention."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

from knowledge.abstention import AGREEMENT_TOP, AbstentionPolicy, missing_entities, named_entities
from knowledge.dense import DenseIndex
from knowledge.fusion import fuse_scores
from knowledge.lexical_index import LexicalHit, LexicalIndex
from knowledge.question_types import classify, focus_words
from knowledge.results import MAX_PASSAGE_CHARS, Passage, SearchResult
from knowledge.span_selection import QueryShape, rerank_by_units
from knowledge.tokenizer import Tokenizer
from storage.db import UnitOfWork
from storage.knowledge_repository import KnowledgeRepository

log = logging.getLogger(__name__)
ENTITY_PASSAGES = 3  # a thing the question names must be named by one of the passages a reply is made from
RERANK_POOL = 15  # the best passages of the search that are reordered by how well their best unit answers (10 left
# the answer at search rank 11-15 out of reach: the fact is often in a passage whose words are scattered slide text)


@dataclass(frozen=True)
class SearchOptions:
    candidates: int = 50
    dense_weight: float = 0.0
    synonym_weight: float = 0.5


class KnowledgeSearch:
    """Answers `search(question)` from the lexical index, the optional dense index and the database."""

    def __init__(
        self,
        *,
        tokenizer: Tokenizer,
        lexical: LexicalIndex,
        dense: DenseIndex | None,
        uow: UnitOfWork,
        repository: KnowledgeRepository,
        abstention: AbstentionPolicy,
        options: SearchOptions,
    ) -> None:
        self._tokenizer = tokenizer
        self._lexical = lexical
        self._dense = dense
        self._uow = uow
        self._repository = repository
        self._abstention = abstention
        self._options = options

    def search(self, question: str, *, k: int = 5, collections: Sequence[str] | None = None) -> SearchResult:
        """The best `k` passages for a question, or an abstention when none is reliable."""
        terms = self._tokenizer.query_terms(question)
        asked = focus_words(question, terms.key_words)
        lexical_hits = self._lexical.search(
            words=(*terms.words, *(w for w in asked if w in terms.words)),  # the asked-for word counts twice
            expansions=terms.expansions,
            synonyms_of={w: self._tokenizer.synonyms.get(w, ()) for w in (*terms.words, *terms.key_words)},
            bigrams=terms.bigrams,
            key_words=terms.key_words,
            collections=collections,
            limit=self._options.candidates,
            synonym_weight=self._options.synonym_weight,
        )
        best_coverage = max((h.coverage for h in lexical_hits[:k]), default=None)
        has_terms = bool(terms.words or terms.bigrams)
        dense_on = self._dense is not None and self._options.dense_weight > 0
        dense_scores: dict[str, float] = {}
        agreement = None
        if dense_on and self._abstention.wants_agreement(best_coverage):
            dense_scores = self._dense_scores(question, collections)
            agreement = _agreement(lexical_hits, dense_scores)
        if self._abstention.should_abstain(
            has_terms=has_terms, best_coverage=best_coverage, agreement=agreement, passages=len(self._lexical)
        ):
            return SearchResult(question, True, (), terms.words)
        if dense_on and not dense_scores:
            dense_scores = self._dense_scores(question, collections)
        fused = fuse_scores(
            [(h.chunk_id, h.score) for h in lexical_hits], dense_scores, dense_weight=self._options.dense_weight
        )
        pool = self._load_passages([(h.chunk_id, h.score) for h in fused], max(k, RERANK_POOL))
        words, grams = self._lexical.weights(tuple(dict.fromkeys((*terms.words, *terms.key_words))), terms.bigrams)
        synonyms, _ = self._lexical.weights(terms.expansions, ())
        words |= {w: self._options.synonym_weight * idf for w, idf in synonyms.items() if w not in words}
        focus = [(w, *self._tokenizer.synonyms.get(w, ())) for w in asked]
        focus_terms = tuple(dict.fromkeys(t for group in focus for t in group))
        shape = QueryShape.of(question, terms.words, classify(question), words, grams, focus_terms)
        passages = rerank_by_units(pool, shape)[:k]
        synonyms_of_keys = [s for w in terms.key_words for s in self._tokenizer.synonyms.get(w, ())]
        key_terms = self._lexical.informative([*terms.key_words, *synonyms_of_keys])
        shown = [f"{p.title}\n{p.section}\n{p.text}" for p in passages[:ENTITY_PASSAGES]]
        if not passages or missing_entities(question, self._tokenizer.entities, shown):
            return SearchResult(question, True, (), terms.words, key_terms)
        named = named_entities(question, self._tokenizer.entities)
        return SearchResult(question, False, tuple(passages), terms.words, key_terms, words, grams, focus_terms, named)

    def _dense_scores(self, question: str, collections: Sequence[str] | None) -> dict[str, float]:
        assert self._dense is not None
        return self._dense.search(question, k=self._options.candidates, collections=collections)

    def passage(self, chunk_id: str) -> Passage | None:
        """One passage in full (for "open the source")."""
        with self._uow.read() as session:
            row = self._repository.get_passages(session, [chunk_id]).get(chunk_id)
        return (
            None
            if row is None
            else Passage(row.chunk_id, row.text, row.title, row.section, row.source_name, row.collection, 0.0)
        )

    def _load_passages(self, ranked: list[tuple[str, float]], k: int) -> list[Passage]:
        """Join the best ids with their stored text; ids the database no longer has are dropped."""
        wanted = ranked[: k * 2]
        with self._uow.read() as session:
            stored = self._repository.get_passages(session, [chunk_id for chunk_id, _ in wanted])
        passages: list[Passage] = []
        seen_texts: set[str] = set()
        for chunk_id, score in wanted:
            row = stored.get(chunk_id)
            if row is None or row.text in seen_texts:
                continue
            seen_texts.add(row.text)
            passages.append(
                Passage(
                    chunk_id=chunk_id,
                    text=row.text[:MAX_PASSAGE_CHARS],
                    title=row.title,
                    section=row.section,
                    source=row.source_name,
                    collection=row.collection,
                    score=score,
                )
            )
            if len(passages) == k:
                break
        return passages


def _agreement(lexical_hits: Sequence[LexicalHit], dense_scores: dict[str, float]) -> int:
    """How many passages are among the `AGREEMENT_TOP` best of both sides."""
    dense_best = sorted(dense_scores, key=lambda c: -dense_scores[c])[:AGREEMENT_TOP]
    return len({h.chunk_id for h in lexical_hits[:AGREEMENT_TOP]} & set(dense_best))
