"""The last ingest stage: prepared documents into the knowledge base, whole, and their vectors into the dense index.

- Documents that fit in one batch (`batch_passages`) are written together: tokenised, embedded, and stored in
  one transaction with one generation bump (a folder of small files costs one commit, not one per file).
- A larger document goes in steps: its passages, tokens and vectors are committed a batch at a time into
  staging tables search never reads (`storage.staged_ingest_repository`); a stopped run resumes after the last
  committed batch, reusing the stored vectors (keyed by model and the hash of the text embedded); when all are
  in, one transaction swaps the document in for its old version.

When replies score their units by meaning (`unit_vectors`), every unit of every passage is embedded too (those not
stored yet) and its vector stored in the same transaction as the passages (a large document's: with each batch).

Either way the vectors go to the dense index just before the transaction that makes the passages searchable. If
that transaction fails, only the ids this run added are deleted again: an id the index held before (another
run's) stays. The old version's vectors are deleted after the commit.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from langchain_core.embeddings import Embeddings
from sqlalchemy.orm import Session

from ingest.progress import PassageProgress
from knowledge.dense import DenseDocument, DenseIndex, dense_text
from knowledge.tokenizer import Tokenizer
from knowledge.unit_vectors import passage_unit_texts, text_key, vector_bytes
from storage.db import UnitOfWork, utc_now
from storage.knowledge_repository import ChunkRecord, KnowledgeRepository
from storage.staged_ingest_repository import StagedIngestRepository, StagedPassage
from storage.unit_vector_repository import UnitVectorRepository


@dataclass(frozen=True)
class PreparedPassage:
    """A passage of a changed file before tokenising: where it sits and what it says."""

    chunk_id: str
    position: int
    section: str
    text: str


@dataclass(frozen=True)
class PreparedDocument:
    """A changed file, extracted and chunked, ready to write."""

    source_path: str
    source_name: str
    content_hash: str
    title: str
    passages: tuple[PreparedPassage, ...]
    replaces: tuple[str, ...]  # the chunk ids of the version it replaces

    def embedded_text(self, passage: PreparedPassage | ChunkRecord) -> str:
        return dense_text(title=self.title, section=passage.section, text=passage.text)


_Text = PreparedPassage | ChunkRecord  # a passage with its text


def embedding_key(text: str) -> str:
    """What a cached vector is keyed by (with the model): the hash of the exact text embedded."""
    return hashlib.sha256(text.encode()).hexdigest()


class DocumentWriter:
    """Writes prepared documents of one collection; the caller holds the collection's ingest lock."""

    def __init__(
        self,
        *,
        uow: UnitOfWork,
        repository: KnowledgeRepository,
        tokenizer: Tokenizer,
        dense: DenseIndex | None,
        embeddings: Embeddings | None,
        embedding_model: str,
        batch_passages: int,
        unit_vectors: bool = False,
    ) -> None:
        if dense is not None and (embeddings is None or not embedding_model):
            raise ValueError("a dense index needs the embeddings (and their model name) to embed passages with")
        self._uow = uow
        self._repository = repository
        self._staged = StagedIngestRepository()
        self._tokenizer = tokenizer
        self._dense = dense
        self._embeddings = embeddings
        self._model = embedding_model
        self.batch = batch_passages
        self._units = unit_vectors and dense is not None  # the reply's unit similarity is on
        self._unit_repository = UnitVectorRepository()

    def write_together(self, collection: str, documents: Sequence[PreparedDocument]) -> None:
        """Small documents (a batch in all): one embedding call, one transaction."""
        chunks = {d.source_path: [self._chunk(collection, d, p) for p in d.passages] for d in documents}
        vectors = None
        if self._embeddings is not None and self._dense is not None:
            texts = [d.embedded_text(p) for d in documents for p in d.passages]
            vectors = np.asarray(self._embeddings.embed_documents(texts), dtype=np.float32)
        units = self._unit_vectors([(d.title, d.passages) for d in documents])
        now = utc_now()

        def write(session: Session) -> None:
            self._unit_repository.store(session, model=self._model, vectors=units)
            for d in documents:
                self._staged.discard(session, collection=collection, source_path=d.source_path)
                self._repository.replace_document(
                    session,
                    collection=collection,
                    source_path=d.source_path,
                    source_name=d.source_name,
                    content_hash=d.content_hash,
                    title=d.title,
                    chunks=chunks[d.source_path],
                    now=now,
                )

        self._publish(collection, documents, vectors, write)

    def write_in_steps(self, collection: str, document: PreparedDocument, progress: PassageProgress) -> None:
        """A large document: committed a batch at a time (resuming a stopped run), then swapped in whole."""
        with self._uow.begin() as session:
            staged = self._staged.start(
                session,
                collection=collection,
                source_path=document.source_path,
                source_name=document.source_name,
                content_hash=document.content_hash,
                title=document.title,
                chunk_count=len(document.passages),
                now=utc_now(),
            )
        todo = [p for p in document.passages if p.chunk_id not in staged.stored_ids]
        progress.start(document.source_name, total=len(document.passages), done=len(document.passages) - len(todo))
        try:
            for start in range(0, len(todo), self.batch):
                batch = [self._staged_passage(collection, document, p) for p in todo[start : start + self.batch]]
                vectors = self._embed_uncached({p.embedding_key: document.embedded_text(p.chunk) for p in batch})
                units = self._unit_vectors([(document.title, [p.chunk for p in batch])])
                with self._uow.begin() as session:
                    self._unit_repository.store(session, model=self._model, vectors=units)
                    self._staged.add_passages(session, staged_id=staged.staged_id, passages=batch)
                    self._staged.store_vectors(session, model=self._model, vectors=vectors)
                progress.advance(len(batch))
        finally:
            progress.finish()
        vectors_now = None
        if self._dense is not None:
            keys = [embedding_key(document.embedded_text(p)) for p in document.passages]
            with self._uow.read() as session:
                cached = self._staged.vectors(session, model=self._model, keys=keys)
            # a vector missing now was dropped by another collection's ingest sharing its text, or the model changed
            cached |= self._embed_uncached(
                {k: document.embedded_text(p) for k, p in zip(keys, document.passages, strict=True) if k not in cached}
            )
            vectors_now = np.stack([np.frombuffer(cached[k], dtype=np.float32) for k in keys])

        def write(session: Session) -> None:
            self._staged.complete(session, staged_id=staged.staged_id, now=utc_now())

        self._publish(collection, [document], vectors_now, write)

    def _chunk(self, collection: str, document: PreparedDocument, passage: PreparedPassage) -> ChunkRecord:
        # The title and heading are indexed with the text (a question names the topic: 「晋升流程」).
        words, bigrams = self._tokenizer.document_tokens(
            "\n".join(p for p in (document.title, passage.section, passage.text) if p)
        )
        return ChunkRecord(
            chunk_id=passage.chunk_id,
            collection=collection,
            position=passage.position,
            section=passage.section,
            text=passage.text,
            words=tuple(words),
            bigrams=tuple(bigrams),
        )

    def _staged_passage(self, collection: str, document: PreparedDocument, passage: PreparedPassage) -> StagedPassage:
        chunk = self._chunk(collection, document, passage)
        return StagedPassage(chunk, embedding_key(document.embedded_text(chunk)))

    def _embed_uncached(self, texts: dict[str, str]) -> dict[str, bytes]:
        """Vectors (float32 bytes) for the keys not cached yet, a batch per model call; {} without a dense side."""
        if self._dense is None or self._embeddings is None or not texts:
            return {}
        with self._uow.read() as session:
            cached = self._staged.vectors(session, model=self._model, keys=texts)
        return self._embed_in_batches([(k, t) for k, t in texts.items() if k not in cached])

    def _unit_vectors(self, passages: Sequence[tuple[str, Sequence[_Text]]]) -> dict[str, bytes]:
        """Vectors (float32 bytes) of every unit of these (title, passages), by text hash: those stored already
        read back, the others embedded; {} when replies do not score units by meaning. All are stored again with
        the passages (kept where present): another collection's ingest may have deleted one since it was read
        (`knowledge.unit_vectors.sync_unit_vectors`), and the insert waits for such a cleanup to end."""
        if not self._units or self._embeddings is None:
            return {}
        texts = {text_key(t): t for title, ps in passages for p in ps for t in passage_unit_texts(title, p.text)}
        with self._uow.read() as session:
            stored = self._unit_repository.vectors(session, model=self._model, keys=texts)
        return stored | self._embed_in_batches([(k, t) for k, t in texts.items() if k not in stored])

    def _embed_in_batches(self, wanted: Sequence[tuple[str, str]]) -> dict[str, bytes]:
        """(key, text) pairs embedded a batch per model call, as float32 bytes by key."""
        assert self._embeddings is not None
        found: dict[str, bytes] = {}
        for start in range(0, len(wanted), self.batch):
            part = wanted[start : start + self.batch]
            vectors = self._embeddings.embed_documents([t for _, t in part])
            found.update((k, vector_bytes(v)) for (k, _), v in zip(part, vectors, strict=True))
        return found

    def _publish(
        self,
        collection: str,
        documents: Sequence[PreparedDocument],
        vectors: np.ndarray | None,
        write: Callable[[Session], None],
    ) -> None:
        """Vectors into the dense index, then `write` and a generation bump in one transaction."""
        ids = [p.chunk_id for d in documents for p in d.passages]
        added: set[str] = set()
        if self._dense is not None and vectors is not None:
            dense_documents = [
                DenseDocument(p.chunk_id, collection, d.embedded_text(p)) for d in documents for p in d.passages
            ]
            already = self._dense.present(ids)
            self._dense.add_vectors(dense_documents, vectors)
            added = set(ids) - already
        try:
            with self._uow.begin() as session:
                write(session)
                self._repository.bump_generation(session)
        except BaseException:
            if self._dense is not None and added:  # only what this run put there: another run's vectors stay
                self._dense.delete(sorted(added))
            raise
        stale = {i for d in documents for i in d.replaces} - set(ids)
        if self._dense is not None and stale:
            self._dense.delete(sorted(stale))
