"""What happens in a conversation and the channel plumbing under it: button tokens, quick-lookup questions and their
ratings, channel updates already handled, the channels' shared API access tokens."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base


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
