"""The composition root: the only place that names concrete classes and wires them from `Settings`."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import time, timedelta
from functools import cached_property
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from app.settings import COLLECTIONS, WEEKDAYS, Settings

if TYPE_CHECKING:
    from langchain_core.embeddings import Embeddings
    from sqlalchemy import Engine

    from app.worker_runtime import ServicesWorker
    from bot.core.conversation import Conversation
    from bot.core.delivery import ReplySender
    from bot.core.outbox import OutboxDrainer
    from bot.core.reminder_chat import ReminderChat
    from bot.core.reminder_plan import ReminderPlanner, ReminderSchedule
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

# Each service imports its classes when it is first built, not when this module is imported: `coach quiz list`
# needs one Core query only (not even the ORM or the mapped models: `engine_at_head`), and torch, Chroma,
# LangChain, jieba and matplotlib cost seconds to import (bench/startup_bench.py measures the commands).


def _render_radar_png(**drawing: Any) -> bytes:
    """The radar chart, importing matplotlib (~0.4 s) at the first /record instead of when the chat starts."""
    from certification.radar import render_radar_png

    return render_radar_png(**drawing)


class _ServicesKnowledge:
    """`KnowledgeLookup` over the services, always using the current index (it is rebuilt after ingest)."""

    def __init__(self, services: Services) -> None:
        self._services = services

    def search(self, question: str, *, k: int, collections: Sequence[str] | None = None) -> SearchResult:
        return self._services.search.search(question, k=k, collections=collections)

    def answer(self, result: SearchResult) -> MobileAnswer:
        return self._services.answerer.answer(result)

    def passage(self, chunk_id: str) -> Passage | None:
        return self._services.search.passage(chunk_id)


@dataclass
class Services:
    """Lazily built services for one process. Heavy parts (model, Chroma, index) load on first use."""

    settings: Settings
    _dense_guard: GuardedDenseIndex | None = field(default=None, init=False)  # the current search's dense side

    @cached_property
    def repository(self) -> KnowledgeRepository:
        from storage.knowledge_repository import KnowledgeRepository

        return KnowledgeRepository()

    @cached_property
    def engine(self) -> Engine:
        from storage.db import create_database_engine

        return create_database_engine(self.settings.database_url)

    @cached_property
    def engine_at_head(self) -> Engine:
        """The engine once the schema is at head (upgraded first when it is not): for a Core-only reader, which
        need not import the ORM (`coach quiz list`); `uow` is built on it."""
        from storage.schema import upgrade_to_head

        upgrade_to_head(self.engine)
        return self.engine

    @cached_property
    def uow(self) -> UnitOfWork:
        from storage.db import UnitOfWork

        return UnitOfWork(self.engine_at_head)

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

    def warm_up(self) -> None:
        """Everything the first question would otherwise wait for: the schema check, the knowledge index and,
        when dense retrieval is on, the embedding model."""
        self.uow  # noqa: B018
        self.search  # noqa: B018
        if (self.settings.retrieval.dense_weight > 0 and self.dense is not None) or self.unit_similarity is not None:
            self.embeddings.embed_query("预热")

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
    def conversation(self) -> Conversation:
        """The channel-neutral conversation core every channel talks to."""
        from bot.core.conversation import Conversation
        from bot.core.quiz_chat import QuizChat
        from bot.core.record_chat import RecordChat
        from quizzes.attempts import QuizAttempts
        from storage.interaction_repository import InteractionRepository
        from storage.learner_repository import LearnerRepository
        from storage.quiz_repository import QuizRepository
        from storage.record_repository import RecordRepository

        return Conversation(
            uow=self.uow,
            knowledge=_ServicesKnowledge(self),
            learners=LearnerRepository(),
            interactions=InteractionRepository(),
            quizzes=QuizChat(QuizAttempts(QuizRepository(), RecordRepository()), QuizRepository()),
            records=RecordChat(
                RecordRepository(),
                LearnerRepository(),
                render_radar=_render_radar_png,
                streak_line=self.reminder_chat.streak_line,
            ),
            reminders=self.reminder_chat,
            invite_valid_for=self.invite_valid_for,
            time_zone=ZoneInfo(self.settings.app.time_zone),
        )

    @cached_property
    def worker(self) -> ServicesWorker:
        """What a channel's worker process runs on: warm-up, readiness, the background loops."""
        from app.worker_runtime import ServicesWorker

        return ServicesWorker(self)

    @cached_property
    def reminder_schedule(self) -> ReminderSchedule:
        from bot.core.quiet_hours import QuietHours, parse_clock
        from bot.core.reminder_plan import ReminderSchedule

        r = self.settings.reminders

        def clock(text: str) -> time:
            parsed = parse_clock(text)
            assert parsed is not None  # the settings validated it
            return parsed

        return ReminderSchedule(
            time_zone=ZoneInfo(self.settings.app.time_zone),
            quiet=QuietHours(clock(r.quiet_start), clock(r.quiet_end)),
            review_time=clock(r.review_time),
            digest_weekday=WEEKDAYS.index(r.digest_weekday),
            digest_time=clock(r.digest_time),
            channels=r.channels,
        )

    @cached_property
    def reminder_chat(self) -> ReminderChat:
        """/remind, the daily question's buttons, the streak line."""
        from bot.core.reminder_chat import ReminderChat
        from bot.core.streaks import Streaks
        from storage.quiz_repository import QuizRepository
        from storage.reminder_repository import ReminderRepository

        schedule = self.reminder_schedule
        streaks = Streaks(ReminderRepository(), schedule.time_zone)
        return ReminderChat(ReminderRepository(), QuizRepository(), streaks, schedule.quiet)

    @cached_property
    def reminder_planner(self) -> ReminderPlanner:
        """Queues what is due (review reminders, daily questions, digests) into the outbox."""
        import secrets

        from bot.core.reminder_plan import ReminderPlanner

        return ReminderPlanner(self.uow, self.reminder_schedule, new_token=lambda: secrets.token_urlsafe(12))

    def outbox_drainer(self, sender: ReplySender, *, worker: str) -> OutboxDrainer:
        """Sends due outbox rows of `sender`'s channel through it, at the rate all workers share."""
        from bot.core.outbox import DrainPolicy, OutboxDrainer

        r = self.settings.reminders
        policy = DrainPolicy(
            messages_per_second=r.messages_per_second,
            batch_size=r.batch_size,
            lease=timedelta(seconds=r.lease_seconds),
            max_attempts=r.max_attempts,
        )
        renderers = self.conversation.records.renderers if self.conversation.records is not None else {}
        return OutboxDrainer(self.uow, sender, worker, policy, renderers=renderers)

    @property
    def reply_renderers(self) -> Mapping[str, Callable[..., bytes]]:
        """How stored pictures are drawn again (the radar), for channels that send stored replies themselves."""
        records = self.conversation.records
        return records.renderers if records is not None else {}

    @property
    def invite_valid_for(self) -> timedelta:
        """How long an admin's invite code works (`registration.invite_valid_days`)."""
        return timedelta(days=self.settings.registration.invite_valid_days)

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
