"""The knowledge base and its ingest: documents and their passages, the generation counter, the documents an
ingest is writing in batches, stored vectors, and who holds a collection's ingest lock."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from storage.models.base import Base


class KnowledgeDocument(Base):
    """One ingested source file: where it came from and the hash of its bytes (for incremental ingest)."""

    __tablename__ = "knowledge_documents"

    id: Mapped[int] = mapped_column(primary_key=True)
    collection: Mapped[str] = mapped_column(String(32), index=True)
    source_path: Mapped[str] = mapped_column(String(1024))
    source_name: Mapped[str] = mapped_column(String(255))
    content_hash: Mapped[str] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(512))
    chunk_count: Mapped[int] = mapped_column(Integer)
    ingested_at: Mapped[datetime]

    chunks: Mapped[list[KnowledgeChunk]] = relationship(
        back_populates="document", cascade="all, delete-orphan", passive_deletes=True
    )

    __table_args__ = (Index("uq_document_source", "collection", "source_path", unique=True),)


class KnowledgeChunk(Base):
    """A phone-sized passage: readable text, its heading path and position, and its search tokens."""

    __tablename__ = "knowledge_chunks"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("knowledge_documents.id", ondelete="CASCADE"), index=True)
    collection: Mapped[str] = mapped_column(String(32), index=True)
    position: Mapped[int] = mapped_column(Integer)
    section: Mapped[str] = mapped_column(String(512))
    text: Mapped[str] = mapped_column(Text)
    words: Mapped[str] = mapped_column(Text)
    bigrams: Mapped[str] = mapped_column(Text)

    document: Mapped[KnowledgeDocument] = relationship(back_populates="chunks")


class KnowledgeState(Base):
    """A single row: the generation of the knowledge base, bumped by every ingest that changes it."""

    __tablename__ = "knowledge_state"

    id: Mapped[int] = mapped_column(primary_key=True)
    generation: Mapped[int] = mapped_column(Integer, default=0)


class StagedDocument(Base):
    """A document an ingest is writing in batches: not searchable until its last batch is in and it is swapped
    into knowledge_documents in one transaction. A stopped ingest resumes from the batches stored here."""

    __tablename__ = "knowledge_staged_documents"

    id: Mapped[int] = mapped_column(primary_key=True)
    collection: Mapped[str] = mapped_column(String(32))
    source_path: Mapped[str] = mapped_column(String(1024))
    source_name: Mapped[str] = mapped_column(String(255))
    content_hash: Mapped[str] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(512))
    chunk_count: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[datetime]

    __table_args__ = (Index("uq_staged_document_source", "collection", "source_path", unique=True),)


class StagedChunk(Base):
    """A passage of a staged document, as it will be stored, with the key of its vector in embedding_vectors."""

    __tablename__ = "knowledge_staged_chunks"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    staged_document_id: Mapped[int] = mapped_column(
        ForeignKey("knowledge_staged_documents.id", ondelete="CASCADE"), index=True
    )
    collection: Mapped[str] = mapped_column(String(32))
    position: Mapped[int] = mapped_column(Integer)
    section: Mapped[str] = mapped_column(String(512))
    text: Mapped[str] = mapped_column(Text)
    words: Mapped[str] = mapped_column(Text)
    bigrams: Mapped[str] = mapped_column(Text)
    embedding_key: Mapped[str] = mapped_column(String(64), index=True)


class EmbeddingVector(Base):
    """A staged passage's vector under one embedding model, keyed by the hash of the text embedded: a resumed
    ingest reuses it instead of running the model again. Rows no staged passage refers to are deleted."""

    __tablename__ = "embedding_vectors"

    model: Mapped[str] = mapped_column(String(255), primary_key=True)
    text_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    vector: Mapped[bytes] = mapped_column(LargeBinary)  # float32, native order


class UnitVector(Base):
    """A reply unit's vector under one embedding model, keyed by the hash of the text the reply scorer embeds (the
    document's title and the unit: `knowledge.unit_vectors`): written at ingest and by a reply that missed it, read
    by every reply. Rows of no current unit are deleted after an ingest that changed something."""

    __tablename__ = "unit_vectors"

    model: Mapped[str] = mapped_column(String(255), primary_key=True)
    text_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    vector: Mapped[bytes] = mapped_column(LargeBinary)  # float32, native order


class IngestLockHolder(Base):
    """Who holds a collection's ingest lock (the lock itself is a PostgreSQL advisory lock or a file lock):
    written by the holder when it gets the lock, shown to an ingest that has to wait."""

    __tablename__ = "ingest_lock_holders"

    collection: Mapped[str] = mapped_column(String(32), primary_key=True)
    pid: Mapped[int] = mapped_column(Integer)
    host: Mapped[str] = mapped_column(String(255))
    started_at: Mapped[datetime]
