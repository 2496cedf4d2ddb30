"""Documents an ingest writes in batches, and the vectors of their passages, until they are complete.

Staged rows live in tables of their own, so nothing that serves learners (the lexical index, the passages a search
shows, the dense side's reconcile) ever reads them: a document enters `knowledge_documents`/`knowledge_chunks`
in the one transaction that completes it. The repository never commits: the caller's unit of work does.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, insert, literal, select
from sqlalchemy.orm import Session

from storage.hashed_vectors import read_vectors, store_new_vectors
from storage.knowledge_repository import ChunkRecord, KnowledgeRepository
from storage.models import EmbeddingVector, KnowledgeChunk, KnowledgeDocument, StagedChunk, StagedDocument


@dataclass(frozen=True)
class StagedPassage:
    """A passage as a batch stores it: the chunk and the key of its vector."""

    chunk: ChunkRecord
    embedding_key: str


@dataclass(frozen=True)
class StagedState:
    """A staged document: which version of the file it is, and which of its passages are stored."""

    staged_id: int
    content_hash: str
    stored_ids: frozenset[str]


class StagedIngestRepository:
    """Reads and writes staged documents, their passages and cached vectors inside a session it is given."""

    def find(self, session: Session, *, collection: str, source_path: str) -> StagedState | None:
        doc = session.scalar(
            select(StagedDocument).where(
                StagedDocument.collection == collection, StagedDocument.source_path == source_path
            )
        )
        if doc is None:
            return None
        ids = frozenset(session.scalars(select(StagedChunk.id).where(StagedChunk.staged_document_id == doc.id)))
        return StagedState(doc.id, doc.content_hash, ids)

    def start(
        self,
        session: Session,
        *,
        collection: str,
        source_path: str,
        source_name: str,
        content_hash: str,
        title: str,
        chunk_count: int,
        now: datetime,
    ) -> StagedState:
        """The staged version of this file with this content: the one stored (resumed), or a new one (a staged
        version of other content is dropped first)."""
        found = self.find(session, collection=collection, source_path=source_path)
        if found is not None and found.content_hash == content_hash:
            return found
        self.discard(session, collection=collection, source_path=source_path)
        doc = StagedDocument(
            collection=collection,
            source_path=source_path,
            source_name=source_name,
            content_hash=content_hash,
            title=title[:512],
            chunk_count=chunk_count,
            started_at=now,
        )
        session.add(doc)
        session.flush()
        return StagedState(doc.id, content_hash, frozenset())

    def discard(self, session: Session, *, collection: str, source_path: str) -> bool:
        """Drop a staged version of the file (if any); True when there was one."""
        ids = select(StagedDocument.id).where(
            StagedDocument.collection == collection, StagedDocument.source_path == source_path
        )
        session.execute(delete(StagedChunk).where(StagedChunk.staged_document_id.in_(ids)))
        result = session.execute(
            delete(StagedDocument).where(
                StagedDocument.collection == collection, StagedDocument.source_path == source_path
            )
        )
        return bool(getattr(result, "rowcount", 0))

    def staged_paths(self, session: Session, *, collection: str) -> list[str]:
        return list(session.scalars(select(StagedDocument.source_path).where(StagedDocument.collection == collection)))

    def add_passages(self, session: Session, *, staged_id: int, passages: Sequence[StagedPassage]) -> None:
        session.add_all(
            StagedChunk(
                id=p.chunk.chunk_id,
                staged_document_id=staged_id,
                collection=p.chunk.collection,
                position=p.chunk.position,
                section=p.chunk.section[:512],
                text=p.chunk.text,
                words=" ".join(p.chunk.words),
                bigrams=" ".join(p.chunk.bigrams),
                embedding_key=p.embedding_key,
            )
            for p in passages
        )

    def vectors(self, session: Session, *, model: str, keys: Iterable[str]) -> dict[str, bytes]:
        """The cached vectors of these text hashes under the model (those there are)."""
        return read_vectors(session, EmbeddingVector, model=model, keys=keys)

    def store_vectors(self, session: Session, *, model: str, vectors: Mapping[str, bytes]) -> None:
        """Cache vectors by text hash; a hash already cached (the same text, staged by another ingest) is kept."""
        store_new_vectors(session, EmbeddingVector, model=model, vectors=vectors)

    def complete(self, session: Session, *, staged_id: int, now: datetime) -> None:
        """Swap the staged document in for the file's current version (if any): its passages become searchable,
        the old version's are gone, and the staged rows are dropped — all in the caller's transaction."""
        staged = session.get_one(StagedDocument, staged_id)
        KnowledgeRepository().delete_document(session, collection=staged.collection, source_path=staged.source_path)
        doc = KnowledgeDocument(
            collection=staged.collection,
            source_path=staged.source_path,
            source_name=staged.source_name,
            content_hash=staged.content_hash,
            title=staged.title,
            chunk_count=staged.chunk_count,
            ingested_at=now,
        )
        session.add(doc)
        session.flush()
        columns = ("id", "collection", "position", "section", "text", "words", "bigrams")
        rows = select(
            StagedChunk.id,
            StagedChunk.collection,
            StagedChunk.position,
            StagedChunk.section,
            StagedChunk.text,
            StagedChunk.words,
            StagedChunk.bigrams,
            literal(doc.id),
        ).where(StagedChunk.staged_document_id == staged_id)
        session.execute(insert(KnowledgeChunk).from_select([*columns, "document_id"], rows))
        session.execute(delete(StagedChunk).where(StagedChunk.staged_document_id == staged_id))
        session.execute(delete(StagedDocument).where(StagedDocument.id == staged_id))

    def prune_vectors(self, session: Session) -> int:
        """Forget cached vectors no staged passage refers to (their documents completed or were dropped)."""
        result = session.execute(
            delete(EmbeddingVector).where(EmbeddingVector.text_hash.not_in(select(StagedChunk.embedding_key)))
        )
        return int(getattr(result, "rowcount", 0) or 0)
