"""Repository for the knowledge base tables. It never commits: the caller's unit of work does."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from storage.models import KnowledgeChunk, KnowledgeDocument, KnowledgeState


@dataclass(frozen=True)
class ChunkRecord:
    """A passage as stored: display text, where it comes from, and its search tokens."""

    chunk_id: str
    collection: str
    position: int
    section: str
    text: str
    words: tuple[str, ...]
    bigrams: tuple[str, ...]


@dataclass(frozen=True)
class StoredPassage:
    """A passage joined with its document, for showing results."""

    chunk_id: str
    collection: str
    text: str
    section: str
    title: str
    source_name: str
    source_path: str


@dataclass(frozen=True)
class DocumentSummary:
    collection: str
    source_path: str
    content_hash: str
    chunk_ids: tuple[str, ...]


class KnowledgeRepository:
    """Reads and writes documents and chunks inside a session it is given."""

    def find_document(self, session: Session, *, collection: str, source_path: str) -> DocumentSummary | None:
        doc = session.scalar(
            select(KnowledgeDocument).where(
                KnowledgeDocument.collection == collection, KnowledgeDocument.source_path == source_path
            )
        )
        return None if doc is None else _summary(session, doc)

    def list_documents(self, session: Session, *, collection: str | None = None) -> list[DocumentSummary]:
        query = select(KnowledgeDocument).order_by(KnowledgeDocument.id)
        if collection:
            query = query.where(KnowledgeDocument.collection == collection)
        return [_summary(session, doc) for doc in session.scalars(query)]

    def replace_document(
        self,
        session: Session,
        *,
        collection: str,
        source_path: str,
        source_name: str,
        content_hash: str,
        title: str,
        chunks: Sequence[ChunkRecord],
        now: datetime,
    ) -> None:
        """Insert the document, or replace an older version of it with all its chunks."""
        self.delete_document(session, collection=collection, source_path=source_path)
        doc = KnowledgeDocument(
            collection=collection,
            source_path=source_path,
            source_name=source_name,
            content_hash=content_hash,
            title=title[:512],
            chunk_count=len(chunks),
            ingested_at=now,
        )
        session.add(doc)
        session.flush()
        session.add_all(
            KnowledgeChunk(
                id=c.chunk_id,
                document_id=doc.id,
                collection=c.collection,
                position=c.position,
                section=c.section[:512],
                text=c.text,
                words=" ".join(c.words),
                bigrams=" ".join(c.bigrams),
            )
            for c in chunks
        )

    def delete_document(self, session: Session, *, collection: str, source_path: str) -> None:
        doc_ids = select(KnowledgeDocument.id).where(
            KnowledgeDocument.collection == collection, KnowledgeDocument.source_path == source_path
        )
        session.execute(delete(KnowledgeChunk).where(KnowledgeChunk.document_id.in_(doc_ids)))
        session.execute(
            delete(KnowledgeDocument).where(
                KnowledgeDocument.collection == collection, KnowledgeDocument.source_path == source_path
            )
        )

    def bump_generation(self, session: Session) -> int:
        state = session.get(KnowledgeState, 1)
        if state is None:
            state = KnowledgeState(id=1, generation=0)
            session.add(state)
        state.generation += 1
        return state.generation

    def generation(self, session: Session) -> int:
        state = session.get(KnowledgeState, 1)
        return 0 if state is None else state.generation

    def iter_index_rows(self, session: Session, *, batch: int = 5000) -> Iterator[tuple[str, str, str, str]]:
        """(id, collection, words, bigrams) of every chunk, streamed."""
        query = select(
            KnowledgeChunk.id, KnowledgeChunk.collection, KnowledgeChunk.words, KnowledgeChunk.bigrams
        ).order_by(KnowledgeChunk.id)
        for row in session.execute(query.execution_options(yield_per=batch)):
            yield row.id, row.collection, row.words, row.bigrams

    def all_chunk_ids(self, session: Session, *, collections: Sequence[str] | None = None) -> set[str]:
        """Every stored chunk id, or those of the given collections."""
        query = select(KnowledgeChunk.id)
        if collections is not None:
            query = query.where(KnowledgeChunk.collection.in_(list(collections)))
        return set(session.scalars(query))

    def get_passages(self, session: Session, chunk_ids: Iterable[str]) -> dict[str, StoredPassage]:
        ids = list(chunk_ids)
        if not ids:
            return {}
        rows = session.execute(
            select(KnowledgeChunk, KnowledgeDocument)
            .join(KnowledgeDocument, KnowledgeChunk.document_id == KnowledgeDocument.id)
            .where(KnowledgeChunk.id.in_(ids))
        )
        return {
            chunk.id: StoredPassage(
                chunk_id=chunk.id,
                collection=chunk.collection,
                text=chunk.text,
                section=chunk.section,
                title=doc.title,
                source_name=doc.source_name,
                source_path=doc.source_path,
            )
            for chunk, doc in rows.tuples()
        }


def _summary(session: Session, doc: KnowledgeDocument) -> DocumentSummary:
    ids = tuple(session.scalars(select(KnowledgeChunk.id).where(KnowledgeChunk.document_id == doc.id)))
    return DocumentSummary(doc.collection, doc.source_path, doc.content_hash, ids)
