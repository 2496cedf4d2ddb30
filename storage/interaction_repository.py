"""Button actions, asked questions, ratings and processed updates. Never commits."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, delete, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from storage.models import AnswerRating, AskedQuestion, ButtonAction, ProcessedUpdate


@dataclass(frozen=True)
class StoredAction:
    token: str
    learner_id: int
    action: str
    payload: dict[str, Any]
    used: bool


@dataclass(frozen=True)
class UnansweredQuestion:
    question: str
    asked_at: datetime


@dataclass(frozen=True)
class UpdateClaim:
    """One channel update as the redelivery guard knows it.

    `bot_id` + `update_id`: the channel's numbering (only unique per bot, and it restarts when the bot, its token
    or a self-hosted Bot API server changes); `digest`: the update's own identity (message id and date, callback
    id), so a reused id with other content is a new update; `sender` and `chat`: who sent it and where its replies
    went, the only place stored replies are sent again.
    """

    channel: str
    bot_id: str
    update_id: str
    digest: str
    sender: str
    chat: str


def _key(claim: UpdateClaim) -> dict[str, str]:
    return {"channel": claim.channel, "bot_id": claim.bot_id, "update_id": claim.update_id, "digest": claim.digest}


def _matches(claim: UpdateClaim) -> list[ColumnElement[bool]]:
    return [getattr(ProcessedUpdate, column) == value for column, value in _key(claim).items()]


class InteractionRepository:
    def add_action(
        self, session: Session, *, token: str, learner_id: int, action: str, payload: dict[str, Any], now: datetime
    ) -> None:
        session.add(
            ButtonAction(
                token=token,
                learner_id=learner_id,
                action=action,
                payload=json.dumps(payload, ensure_ascii=False),
                created_at=now,
            )
        )

    def take_action(self, session: Session, token: str) -> StoredAction | None:
        row = session.scalar(select(ButtonAction).where(ButtonAction.token == token).with_for_update())
        if row is None:
            return None
        return StoredAction(row.token, row.learner_id, row.action, json.loads(row.payload), row.used_at is not None)

    def mark_action_used(self, session: Session, token: str, now: datetime) -> None:
        session.get_one(ButtonAction, token).used_at = now

    def add_question(
        self,
        session: Session,
        *,
        learner_id: int,
        question: str,
        collections: str,
        found: bool,
        chunk_ids: list[str],
        now: datetime,
    ) -> int:
        row = AskedQuestion(
            learner_id=learner_id,
            question=question,
            collections=collections,
            found=found,
            chunk_ids=json.dumps(chunk_ids),
            asked_at=now,
        )
        session.add(row)
        session.flush()
        return row.id

    def set_rating(self, session: Session, *, question_id: int, learner_id: int, rating: int, now: datetime) -> None:
        """This learner's vote on this answer: the first one, or a change of mind (the last vote counts)."""
        row = session.scalar(
            select(AnswerRating)
            .where(AnswerRating.question_id == question_id, AnswerRating.learner_id == learner_id)
            .with_for_update()
        )
        if row is None:
            session.add(AnswerRating(question_id=question_id, learner_id=learner_id, rating=rating, rated_at=now))
        else:
            row.rating, row.rated_at = rating, now

    def recent_unanswered(self, session: Session, *, limit: int = 20) -> list[UnansweredQuestion]:
        rows = session.execute(
            select(AskedQuestion.question, AskedQuestion.asked_at)
            .where(AskedQuestion.found.is_(False))
            .order_by(AskedQuestion.asked_at.desc())
            .limit(limit)
        )
        return [UnansweredQuestion(q, at) for q, at in rows]

    def claim_update(self, session: Session, claim: UpdateClaim, *, now: datetime) -> bool:
        """Record an update as processed; False if this very update was already (a redelivery)."""
        # One round trip, race-free: INSERT … ON CONFLICT DO NOTHING RETURNING (SQLite 3.35+, PostgreSQL 9.5+).
        insert = postgresql_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
        statement = (
            insert(ProcessedUpdate)
            .values(**_key(claim), sender=claim.sender, chat=claim.chat, processed_at=now)
            .on_conflict_do_nothing(index_elements=list(_key(claim)))
            .returning(ProcessedUpdate.update_id)
        )
        return session.execute(statement).first() is not None

    def save_replies(self, session: Session, claim: UpdateClaim, *, replies: str) -> None:
        """Keep what was answered to a claimed update (JSON), for a re-delivery."""
        session.execute(update(ProcessedUpdate).where(*_matches(claim)).values(replies=replies))

    def saved_replies(self, session: Session, claim: UpdateClaim) -> str | None:
        """The replies stored with this update — only for the sender and chat that sent it, never anyone else."""
        return session.scalar(
            select(ProcessedUpdate.replies).where(
                *_matches(claim), ProcessedUpdate.sender == claim.sender, ProcessedUpdate.chat == claim.chat
            )
        )

    def prune(self, session: Session, *, before: datetime) -> tuple[int, int]:
        """Forget processed-update ids and buttons created before `before`: (updates, buttons) deleted.

        Both tables grow with every update. An update id is only needed while Telegram may still re-deliver it
        (it keeps undelivered updates for 24 hours); a pruned button answers like an unknown one.
        """
        updates = session.execute(delete(ProcessedUpdate).where(ProcessedUpdate.processed_at < before))
        buttons = session.execute(delete(ButtonAction).where(ButtonAction.created_at < before))
        return updates.rowcount, buttons.rowcount  # type: ignore[attr-defined]
