"""The stored vectors of reply units (`unit_vectors`), keyed by embedding model and the hash of the text embedded.

The texts and what they mean are the knowledge side's (`knowledge.unit_vectors`); this reads and writes rows
inside a session it is given and never commits.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping

from sqlalchemy import delete, select, text
from sqlalchemy.orm import Session

from storage.hashed_vectors import PAGE, read_vectors, store_new_vectors
from storage.models import KnowledgeChunk, KnowledgeDocument, StagedChunk, StagedDocument, UnitVector


class UnitVectorRepository:
    def vectors(self, session: Session, *, model: str, keys: Iterable[str]) -> dict[str, bytes]:
        """The stored vectors of these text hashes under the model (those there are)."""
        return read_vectors(session, UnitVector, model=model, keys=keys)

    def store(self, session: Session, *, model: str, vectors: Mapping[str, bytes]) -> None:
        """Store vectors by text hash; a hash already stored (the same text, from another document) is kept."""
        store_new_vectors(session, UnitVector, model=model, vectors=vectors)

    def passages(self, session: Session, *, batch: int = 2000) -> Iterator[tuple[str, str, str]]:
        """(passage id, document title, passage text) of every stored passage, of every collection, and of every
        staged one (a large document's committed batches, swapped in whole later: their units were stored with
        each batch, for the resume). An id names one text: it holds the hash of its file's content."""
        stored = select(KnowledgeChunk.id, KnowledgeDocument.title, KnowledgeChunk.text).join(
            KnowledgeDocument, KnowledgeChunk.document_id == KnowledgeDocument.id
        )
        staged = select(StagedChunk.id, StagedDocument.title, StagedChunk.text).join(
            StagedDocument, StagedChunk.staged_document_id == StagedDocument.id
        )
        for query in (stored, staged):
            for row in session.execute(query.execution_options(yield_per=batch)):
                yield row.id, row.title, row.text

    def lock_out_writers(self, session: Session) -> None:
        """Until the session's transaction ends, no other transaction stores unit vectors, and this one waits for
        those storing some now: what it reads next of the passages is then every passage whose units are stored.
        PostgreSQL: a table lock that conflicts with INSERT's and not with reads; SQLite: a writing transaction
        already holds the database's write lock (`UnitOfWork.begin`: BEGIN IMMEDIATE)."""
        if session.get_bind().dialect.name == "postgresql":
            session.execute(text(f"LOCK TABLE {UnitVector.__tablename__} IN SHARE ROW EXCLUSIVE MODE"))

    def prune(self, session: Session, *, model: str, keep: set[str]) -> int:
        """Delete the vectors of other models and those whose hash is not in `keep`; how many were deleted."""
        result = session.execute(delete(UnitVector).where(UnitVector.model != model))
        deleted = int(getattr(result, "rowcount", 0) or 0)
        hashes = session.scalars(select(UnitVector.text_hash).where(UnitVector.model == model))
        stale = [k for k in hashes if k not in keep]
        for start in range(0, len(stale), PAGE):
            result = session.execute(
                delete(UnitVector).where(
                    UnitVector.model == model, UnitVector.text_hash.in_(stale[start : start + PAGE])
                )
            )
            deleted += int(getattr(result, "rowcount", 0) or 0)
        return deleted
