"""The knowledge base's wiring, part of the composition root: the tokenizer, the embedding model, the dense and the
lexical store, ingest, the search kept current and the answerer, each built from `Settings` when first used."""

from __future__ import annotations

from collections.abc import Sequence
from functools import cached_property
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from app.settings import COLLECTIONS, Settings

if TYPE_CHECKING:
    from langchain_core.embeddings import Embeddings

    from ingest.pipeline import IngestPipeline
    from knowledge.answer import ExtractiveAnswerer, MobileAnswer
    from knowledge.dense import DenseIndex
    from knowledge.dense_guard import GuardedDenseIndex
    from knowledge.embeddings import RememberingEmbeddings
    from knowledge.fresh_search import FreshSearch
    from knowledge.lexical_store import LexicalIndexStore
    from knowledge.results import Passage, SearchResult
    from knowledge.search import KnowledgeSearch
    from knowledge.synthesis import GroundedSynthesizer
    from knowledge.tokenizer import Tokenizer
    from knowledge.unit_similarity import UnitSimilarity
    from storage.db import UnitOfWork
    from storage.knowledge_repository import KnowledgeRepository

# As in app/composition.py: each service imports its classes when it is first built, never at import time.


class KnowledgeServices:
    """The knowledge side of `app.composition.Services` (its base class): it is handed the settings, the unit of
    work and the `_dense_guard` field by `Services`. The parts are cached properties on the instance, so a test
    that sets `services.embeddings` before the dense index is built has the index use it."""

    settings: Settings
    _dense_guard: GuardedDenseIndex | None  # the current search's dense side (a field of `Services`)

    if TYPE_CHECKING:

        @property
        def uow(self) -> UnitOfWork: ...  # built by `Services` (the storage side)

    @cached_property
    def repository(self) -> KnowledgeRepository:
        from storage.knowledge_repository import KnowledgeRepository

        return KnowledgeRepository()

    @cached_property
    def tokenizer(self) -> Tokenizer:
        from knowledge.tokenizer import Tokenizer

        return Tokenizer(dictionary_folder=self.settings.data_dir / "lexical")  # jieba's dictionary, memory-mapped

    @cached_property
    def embeddings(self) -> Embeddings:
        from knowledge.embeddings import create_embeddings

        e = self.settings.embedding
        return create_embeddings(model=e.model, device=e.device, batch_size=e.batch_size)

    @cached_property
    def query_embeddings(self) -> RememberingEmbeddings:
        """The embedding model remembering the last questions' vectors: the dense search and the reply's unit
        scorer (`knowledge.unit_similarity`) embed a question once."""
        from knowledge.embeddings import RememberingEmbeddings

        return RememberingEmbeddings(self.embeddings)

    @cached_property
    def dense(self) -> DenseIndex | None:
        from knowledge.embeddings import model_slug
        from knowledge.vector_store import ChromaDenseIndex, open_chroma_client

        vs = self.settings.vector_store
        if vs.mode == "off":
            return None
        client = open_chroma_client(mode=vs.mode, path=self.settings.chroma_dir, host=vs.host, port=vs.port)
        name = f"knowledge-{model_slug(self.settings.embedding.model)}"
        index = ChromaDenseIndex(client=client, embeddings=self.query_embeddings, name=name, collections=COLLECTIONS)
        index.migrate_single_collection()  # a store written before the per-collection layout: moved, not re-embedded
        return index

    @cached_property
    def lexical_store(self) -> LexicalIndexStore:
        from knowledge.lexical_store import LexicalIndexStore

        return LexicalIndexStore(
            folder=self.settings.data_dir / "lexical", bigram_weight=self.settings.retrieval.bigram_weight
        )

    def ingest_pipeline(self) -> IngestPipeline:
        from ingest.pipeline import IngestPipeline

        return IngestPipeline(
            uow=self.uow,
            repository=self.repository,
            tokenizer=self.tokenizer,
            dense=self.dense,
            chunk_chars=self.settings.retrieval.chunk_chars,
            max_bytes=self.settings.ingest.max_file_mb * 1024 * 1024,
            embeddings=self.embeddings if self.dense is not None else None,
            embedding_model=self.settings.embedding.model,
            batch_passages=self.settings.ingest.batch_passages,
            time_zone=ZoneInfo(self.settings.app.time_zone),
            on_changed=self._forget_search,
            unit_vectors=self.settings.answer.semantic_weight > 0,  # with the dense side on (`unit_similarity`)
        )

    def _forget_search(self) -> None:
        self.fresh_search.invalidate()

    @cached_property
    def unit_similarity(self) -> UnitSimilarity | None:
        """The embedding model's similarity of a reply's candidate units to the question, when the dense side is
        configured (`vector_store.mode` not off) and `answer.semantic_weight` > 0; None keeps replies lexical."""
        if self.settings.vector_store.mode == "off" or self.settings.answer.semantic_weight <= 0:
            return None
        from knowledge.unit_similarity import EmbeddingUnitSimilarity
        from knowledge.unit_vectors import StoredUnitVectors

        store = StoredUnitVectors(self.uow, self.settings.embedding.model)  # written at ingest
        return EmbeddingUnitSimilarity(self.query_embeddings, store=store)

    @cached_property
    def answerer(self) -> ExtractiveAnswerer | GroundedSynthesizer:
        """Extractive by default; an LLM grounded in the passages when configured (with fallback)."""
        from knowledge.answer import ExtractiveAnswerer
        from knowledge.synthesis import GroundedSynthesizer, build_openai_chat_model

        a = self.settings.answer
        similarity, weight = self.unit_similarity, a.semantic_weight
        if not (a.llm_enabled and a.llm_base_url and a.llm_model):
            return ExtractiveAnswerer(max_chars=a.max_chars, similarity=similarity, semantic_weight=weight)
        api_key = self.settings.llm_api_key.get_secret_value() if self.settings.llm_api_key else "not-needed"
        model = build_openai_chat_model(
            base_url=a.llm_base_url, model=a.llm_model, api_key=api_key, timeout_seconds=a.llm_timeout_seconds
        )
        return GroundedSynthesizer(
            model=model,
            timeout_seconds=a.llm_timeout_seconds,
            max_chars=a.max_chars,
            similarity=similarity,
            semantic_weight=weight,
        )

    def ask(self, question: str, *, collections: list[str] | None = None) -> MobileAnswer:
        """Search, then answer for a phone screen."""
        return self.answerer.answer(self.search.search(question, k=5, collections=collections))

    @cached_property
    def fresh_search(self) -> FreshSearch[KnowledgeSearch]:
        """The search, kept current when another process (an ingest job) changes the knowledge base."""
        from knowledge.fresh_search import FreshSearch

        uow = self.uow

        def generation() -> int:
            with uow.read() as session:
                return self.repository.generation(session)

        return FreshSearch(
            build=self._build_search, generation=generation, check_every=self.settings.retrieval.refresh_seconds
        )

    @property
    def search(self) -> KnowledgeSearch:
        return self.fresh_search.current()

    @property
    def dense_status(self) -> str:
        """What the current search found wrong with the dense index ("" when nothing; `/readyz`)."""
        return self._dense_guard.status if self._dense_guard is not None else ""

    def _dense_for_search(self, known: Sequence[str]) -> DenseIndex | None:
        """The dense index for searching the `known` passages: their ids only, lexical while the store fails, and a
        store that misses passages said in the log (`knowledge/dense_guard.py`)."""
        from knowledge.dense_guard import GuardedDenseIndex

        if self.settings.vector_store.mode == "off":
            return None

        def open_dense() -> DenseIndex:
            dense = self.dense
            assert dense is not None  # vector_store.mode is not off
            return dense

        self._dense_guard = GuardedDenseIndex(open_dense, known=known)
        return self._dense_guard

    def _build_search(self, generation: int) -> KnowledgeSearch:
        from knowledge.abstention import AbstentionPolicy
        from knowledge.search import KnowledgeSearch, SearchOptions

        uow = self.uow

        def rows():  # type: ignore[no-untyped-def]
            with uow.read() as s:
                yield from self.repository.iter_index_rows(s)

        lexical = self.lexical_store.load_or_build(generation=generation, rows=rows)
        r = self.settings.retrieval
        return KnowledgeSearch(
            tokenizer=self.tokenizer,
            lexical=lexical,
            dense=self._dense_for_search(lexical.chunk_ids) if r.dense_weight > 0 else None,
            uow=uow,
            repository=self.repository,
            abstention=AbstentionPolicy(min_coverage=r.min_coverage),
            options=SearchOptions(candidates=r.candidates, dense_weight=r.dense_weight),
        )


class ServicesKnowledge:
    """`KnowledgeLookup` over the services, always using the current index (it is rebuilt after ingest)."""

    def __init__(self, services: KnowledgeServices) -> None:
        self._services = services

    def search(self, question: str, *, k: int, collections: Sequence[str] | None = None) -> SearchResult:
        return self._services.search.search(question, k=k, collections=collections)

    def answer(self, result: SearchResult) -> MobileAnswer:
        return self._services.answerer.answer(result)

    def passage(self, chunk_id: str) -> Passage | None:
        return self._services.search.passage(chunk_id)
