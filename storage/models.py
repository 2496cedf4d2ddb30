"""SQLAlchemy 2.0 models. Migrations in storage/migrations must match these (a test checks)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class Base(DeclarativeBase):
    pass


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


class Learner(Base):
    """A person in the programme. Roles: learner, trainer, supervisor, admin (see bot/core/roles.py)."""

    __tablename__ = "learners"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    employee_no: Mapped[str] = mapped_column(String(32), unique=True)
    region: Mapped[str] = mapped_column(String(64))
    level: Mapped[str] = mapped_column(String(8))
    role: Mapped[str] = mapped_column(String(16), default="learner")
    collection_filter: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[datetime]


class ChannelIdentity(Base):
    """Maps a channel's user (telegram:12345, console:local) to a learner."""

    __tablename__ = "channel_identities"

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    external_id: Mapped[str] = mapped_column(String(64))
    learner_id: Mapped[int] = mapped_column(ForeignKey("learners.id", ondelete="CASCADE"), index=True)

    __table_args__ = (Index("uq_channel_identity", "channel", "external_id", unique=True),)


class Registration(Base):
    """A first contact going through registration: which step it is on and what it has given so far."""

    __tablename__ = "registrations"

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    external_id: Mapped[str] = mapped_column(String(64))
    step: Mapped[str] = mapped_column(String(16))
    data: Mapped[str] = mapped_column(Text, default="{}")
    updated_at: Mapped[datetime]

    __table_args__ = (Index("uq_registration_identity", "channel", "external_id", unique=True),)


class InviteCode(Base):
    """A one-time code an admin hands out; it registers its user with the given role and details."""

    __tablename__ = "invite_codes"

    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    role: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(64))
    employee_no: Mapped[str] = mapped_column(String(32))
    region: Mapped[str] = mapped_column(String(64))
    level: Mapped[str] = mapped_column(String(8))
    created_at: Mapped[datetime]
    used_by: Mapped[int | None] = mapped_column(ForeignKey("learners.id"), default=None)


class ButtonAction(Base):
    """What a button does, kept on the server: the channel only carries the random token.

    Tokens belong to one learner (a forged or foreign token does nothing) and are used once.
    """

    __tablename__ = "button_actions"

    token: Mapped[str] = mapped_column(String(24), primary_key=True)
    learner_id: Mapped[int] = mapped_column(ForeignKey("learners.id", ondelete="CASCADE"), index=True)
    action: Mapped[str] = mapped_column(String(32))
    payload: Mapped[str] = mapped_column(Text, default="{}")
    created_at: Mapped[datetime]
    used_at: Mapped[datetime | None] = mapped_column(default=None)


class AskedQuestion(Base):
    """Every quick-lookup question, whether it was answered, and what was shown."""

    __tablename__ = "asked_questions"

    id: Mapped[int] = mapped_column(primary_key=True)
    learner_id: Mapped[int] = mapped_column(ForeignKey("learners.id", ondelete="CASCADE"), index=True)
    question: Mapped[str] = mapped_column(Text)
    collections: Mapped[str] = mapped_column(String(64), default="")
    found: Mapped[bool]
    chunk_ids: Mapped[str] = mapped_column(Text, default="[]")
    asked_at: Mapped[datetime] = mapped_column(index=True)


class AnswerRating(Base):
    """A learner's 👍 (+1) or 👎 (-1) on an answer; one per learner and question."""

    __tablename__ = "answer_ratings"

    id: Mapped[int] = mapped_column(primary_key=True)
    question_id: Mapped[int] = mapped_column(ForeignKey("asked_questions.id", ondelete="CASCADE"))
    learner_id: Mapped[int] = mapped_column(ForeignKey("learners.id", ondelete="CASCADE"))
    rating: Mapped[int] = mapped_column(Integer)
    rated_at: Mapped[datetime]

    __table_args__ = (Index("uq_rating_once", "question_id", "learner_id", unique=True),)


class ProcessedUpdate(Base):
    """Channel updates already handled (a redelivered update is ignored)."""

    __tablename__ = "processed_updates"

    channel: Mapped[str] = mapped_column(String(16), primary_key=True)
    update_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    processed_at: Mapped[datetime]
