"""SQLAlchemy 2.0 models. Migrations in storage/migrations must match these (a test checks)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, ForeignKey, Index, Integer, LargeBinary, String, Text
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
    supervisor_id: Mapped[int | None] = mapped_column(ForeignKey("learners.id"), default=None, index=True)
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
    created_at: Mapped[datetime] = mapped_column(index=True)
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
    """Channel updates already handled: a re-delivered update changes nothing; its replies are sent again.

    Keyed on the bot, the update id and the update's digest (its own identity: message id and date, callback id):
    ids are only unique per bot and start again when the bot, its token or a self-hosted Bot API server changes,
    so a reused id with other content is a new update. The sender and chat are kept: stored replies go only there.
    """

    __tablename__ = "processed_updates"

    channel: Mapped[str] = mapped_column(String(16), primary_key=True)
    bot_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    update_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    sender: Mapped[str] = mapped_column(String(64))  # the channel's user id
    chat: Mapped[str] = mapped_column(String(64))  # where the replies went
    processed_at: Mapped[datetime] = mapped_column(index=True)  # `coach db prune` deletes by age
    replies: Mapped[str | None] = mapped_column(Text, default=None)  # sent again if the update is re-delivered
    # Channels that answer the callback first and send the replies through an API afterwards (WeCom): how many
    # of the rendered messages went out, when all of them had, and until when one worker holds the sending.
    sent_parts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    delivered_at: Mapped[datetime | None] = mapped_column(default=None)
    send_lease_until: Mapped[datetime | None] = mapped_column(default=None)


class ChannelAccessToken(Base):
    """An API access token shared by every worker of a channel (WeCom's lasts 7,200 s): fetched by one, read by all."""

    __tablename__ = "channel_access_tokens"

    key: Mapped[str] = mapped_column(String(96), primary_key=True)  # channel:corp:app
    token: Mapped[str] = mapped_column(String(512), default="")
    expires_at: Mapped[datetime | None] = mapped_column(default=None)
    fetched_at: Mapped[datetime | None] = mapped_column(default=None)


class QuizSetRecord(Base):
    """A quiz set across its versions; retiring hides it from learners."""

    __tablename__ = "quiz_sets"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200), unique=True)
    competency: Mapped[str] = mapped_column(String(32))
    instrument: Mapped[str] = mapped_column(String(32))
    level: Mapped[str] = mapped_column(String(8))
    mode: Mapped[str] = mapped_column(String(16))
    retired_at: Mapped[datetime | None] = mapped_column(default=None)


class QuizVersion(Base):
    """One published version of a set: immutable; attempts point to the exact version they used."""

    __tablename__ = "quiz_versions"

    id: Mapped[int] = mapped_column(primary_key=True)
    quiz_set_id: Mapped[int] = mapped_column(ForeignKey("quiz_sets.id"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    content: Mapped[str] = mapped_column(Text)
    source_name: Mapped[str] = mapped_column(String(255))
    published_at: Mapped[datetime]
    published_by: Mapped[int | None] = mapped_column(ForeignKey("learners.id"), default=None)

    __table_args__ = (Index("uq_quiz_version", "quiz_set_id", "version", unique=True),)


class QuizAttempt(Base):
    """One learner's run through a quiz version: the seeded draw, where they are, the result."""

    __tablename__ = "quiz_attempts"

    id: Mapped[int] = mapped_column(primary_key=True)
    learner_id: Mapped[int] = mapped_column(ForeignKey("learners.id"), index=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("quiz_versions.id"), index=True)
    mode: Mapped[str] = mapped_column(String(16))
    seed: Mapped[int] = mapped_column(Integer)
    draw: Mapped[str] = mapped_column(Text)
    position: Mapped[int] = mapped_column(Integer, default=0)
    correct_count: Mapped[int] = mapped_column(Integer, default=0)
    pending: Mapped[str] = mapped_column(String(32), default="")
    status: Mapped[str] = mapped_column(String(16), index=True)
    cycle: Mapped[str] = mapped_column(String(8))
    started_at: Mapped[datetime]
    deadline: Mapped[datetime | None] = mapped_column(default=None)
    finished_at: Mapped[datetime | None] = mapped_column(default=None)
    level: Mapped[int | None] = mapped_column(Integer, default=None)


class AttemptAnswer(Base):
    """Every answer given, once per question of an attempt (the unique index stops double taps)."""

    __tablename__ = "attempt_answers"

    id: Mapped[int] = mapped_column(primary_key=True)
    attempt_id: Mapped[int] = mapped_column(ForeignKey("quiz_attempts.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    question_key: Mapped[str] = mapped_column(String(64))
    chosen: Mapped[str] = mapped_column(String(64))
    correct: Mapped[bool]
    answered_at: Mapped[datetime]

    __table_args__ = (Index("uq_attempt_position", "attempt_id", "position", unique=True),)


class Mistake(Base):
    """The mistake notebook (错题本): a missed question, when to ask it again, the run of right answers."""

    __tablename__ = "mistakes"

    id: Mapped[int] = mapped_column(primary_key=True)
    learner_id: Mapped[int] = mapped_column(ForeignKey("learners.id"), index=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("quiz_versions.id"))
    question_key: Mapped[str] = mapped_column(String(64))
    streak: Mapped[int] = mapped_column(Integer, default=0)
    due_at: Mapped[datetime]
    added_at: Mapped[datetime]
    resolved_at: Mapped[datetime | None] = mapped_column(default=None)

    __table_args__ = (Index("uq_mistake", "learner_id", "version_id", "question_key", unique=True),)


class RetakeGrant(Base):
    """A trainer's permission for one more certification attempt of a set in a cycle."""

    __tablename__ = "retake_grants"

    id: Mapped[int] = mapped_column(primary_key=True)
    learner_id: Mapped[int] = mapped_column(ForeignKey("learners.id"))
    quiz_set_id: Mapped[int] = mapped_column(ForeignKey("quiz_sets.id"))
    cycle: Mapped[str] = mapped_column(String(8))
    granted_by: Mapped[int | None] = mapped_column(ForeignKey("learners.id"), default=None)
    granted_at: Mapped[datetime]
    used_at: Mapped[datetime | None] = mapped_column(default=None)


class QuizUpload(Base):
    """A quiz file a trainer sent in chat, kept until they confirm or drop the preview."""

    __tablename__ = "quiz_uploads"

    id: Mapped[int] = mapped_column(primary_key=True)
    learner_id: Mapped[int] = mapped_column(ForeignKey("learners.id"))
    filename: Mapped[str] = mapped_column(String(255))
    data: Mapped[bytes] = mapped_column(LargeBinary)
    uploaded_at: Mapped[datetime]


class RecordEntryRow(Base):
    """The certification record: append-only. A correction is a new row that supersedes an old one."""

    __tablename__ = "record_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    learner_id: Mapped[int] = mapped_column(ForeignKey("learners.id"), index=True)
    competency: Mapped[str] = mapped_column(String(32))
    instrument: Mapped[str] = mapped_column(String(32))
    raw_score: Mapped[int] = mapped_column(Integer)
    max_score: Mapped[int | None] = mapped_column(Integer, default=None)
    level: Mapped[int] = mapped_column(Integer)
    cycle: Mapped[str] = mapped_column(String(8), index=True)
    recorded_at: Mapped[datetime]
    entered_by: Mapped[int | None] = mapped_column(ForeignKey("learners.id"), default=None)
    attempt_id: Mapped[int | None] = mapped_column(ForeignKey("quiz_attempts.id"), default=None, unique=True)
    supersedes: Mapped[int | None] = mapped_column(ForeignKey("record_entries.id"), default=None, unique=True)
    reason: Mapped[str] = mapped_column(String(255), default="")


class JobLevelChange(Base):
    """Certified job level changes (promotions), one per learner and cycle at most."""

    __tablename__ = "job_level_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    learner_id: Mapped[int] = mapped_column(ForeignKey("learners.id"), index=True)
    from_level: Mapped[str] = mapped_column(String(8))
    to_level: Mapped[str] = mapped_column(String(8))
    cycle: Mapped[str] = mapped_column(String(8))
    changed_at: Mapped[datetime]
    changed_by: Mapped[int | None] = mapped_column(ForeignKey("learners.id"), default=None)

    __table_args__ = (Index("uq_one_promotion_per_cycle", "learner_id", "cycle", unique=True),)


# --- the study habit: reminders, the daily question, the outbox (see bot/core/reminder_plan.py) ------------------
class OutboxMessage(Base):
    """A message due to someone outside any conversation (a review reminder, the daily question, a digest).

    Channel-neutral: `channel` + `address` say where, `payload` holds the replies (bot/core/reply_codec.py). The
    unique `dedupe_key` (learner + kind + day) stops a due item being queued twice; a worker claims a row with a
    lease (`lease_until`), so a worker that dies after claiming leaves it to be claimed again once the lease ran out.
    """

    __tablename__ = "outbox_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    dedupe_key: Mapped[str] = mapped_column(String(128), unique=True)
    learner_id: Mapped[int] = mapped_column(ForeignKey("learners.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    channel: Mapped[str] = mapped_column(String(16))
    address: Mapped[str] = mapped_column(String(64))
    payload: Mapped[str] = mapped_column(Text)
    due_at: Mapped[datetime]
    expires_at: Mapped[datetime]  # never sent at or after this (the next quiet hours begin)
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending, sent, blocked, failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    sent_parts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")  # channel messages accepted
    lease_until: Mapped[datetime | None] = mapped_column(default=None)
    claimed_by: Mapped[str] = mapped_column(String(64), default="")
    claimed_at: Mapped[datetime | None] = mapped_column(default=None)
    sent_at: Mapped[datetime | None] = mapped_column(default=None)
    last_error: Mapped[str] = mapped_column(String(255), default="")
    created_at: Mapped[datetime]

    __table_args__ = (
        Index("ix_outbox_due", "status", "channel", "due_at"),
        Index("ix_outbox_address", "channel", "address", "claimed_at"),
    )


class ReminderPreference(Base):
    """What a learner chose with /remind: the daily question's time ("" = off) and mistake-notebook reminders."""

    __tablename__ = "reminder_preferences"

    learner_id: Mapped[int] = mapped_column(ForeignKey("learners.id", ondelete="CASCADE"), primary_key=True)
    daily_time: Mapped[str] = mapped_column(String(5), default="")  # "HH:MM" in the programme's time zone
    reviews: Mapped[bool] = mapped_column(default=True)
    updated_at: Mapped[datetime]


class ReminderBlock(Base):
    """A channel told us this learner blocked the bot (Telegram 403): no more reminders there until they write."""

    __tablename__ = "reminder_blocks"

    learner_id: Mapped[int] = mapped_column(ForeignKey("learners.id", ondelete="CASCADE"), primary_key=True)
    channel: Mapped[str] = mapped_column(String(16), primary_key=True)
    blocked_at: Mapped[datetime]


class DailyAnswer(Base):
    """An answer to the daily question (a practice answer: it counts for the streak)."""

    __tablename__ = "daily_answers"

    id: Mapped[int] = mapped_column(primary_key=True)
    learner_id: Mapped[int] = mapped_column(ForeignKey("learners.id", ondelete="CASCADE"), index=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("quiz_versions.id"))
    question_key: Mapped[str] = mapped_column(String(64))
    correct: Mapped[bool]
    answered_at: Mapped[datetime]


class SendRate(Base):
    """A token bucket per channel shared by every worker: how many outbox messages may go out now."""

    __tablename__ = "send_rates"

    channel: Mapped[str] = mapped_column(String(16), primary_key=True)
    tokens: Mapped[float] = mapped_column(Float)
    updated_at: Mapped[datetime]
