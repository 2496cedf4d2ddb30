"""Button actions, asked questions, ratings and processed updates. Never commits."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select, update
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

    def add_rating(self, session: Session, *, question_id: int, learner_id: int, rating: int, now: datetime) -> bool:
        """Store a rating; False when this learner already rated this answer."""
        exists = session.scalar(
            select(AnswerRating.id).where(
                AnswerRating.question_id == question_id, AnswerRating.learner_id == learner_id
            )
        )
        if exists is not None:
            return False
        session.add(AnswerRating(question_id=question_id, learner_id=learner_id, rating=rating, rated_at=now))
        return True

    def recent_unanswered(self, session: Session, *, limit: int = 20) -> list[UnansweredQuestion]:
        rows = session.execute(
            select(AskedQuestion.question, AskedQuestion.asked_at)
            .where(AskedQuestion.found.is_(False))
            .order_by(AskedQuestion.asked_at.desc())
            .limit(limit)
        )
        return [UnansweredQuestion(q, at) for q, at in rows]

    def claim_update(self, session: Session, *, channel: str, update_id: str, now: datetime) -> bool:
        """Record an update as processed; False if it was already (a redelivery)."""
        # One round trip, race-free: INSERT … ON CONFLICT DO NOTHING RETURNING (SQLite 3.35+, PostgreSQL 9.5+).
        insert = postgresql_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
        statement = (
            insert(ProcessedUpdate)
            .values(channel=channel, update_id=update_id, processed_at=now)
            .on_conflict_do_nothing(index_elements=["channel", "update_id"])
            .returning(ProcessedUpdate.update_id)
        )
        return session.execute(statement).first() is not None

    def save_replies(self, session: Session, *, channel: str, update_id: str, replies: str) -> None:
        """Keep what was answered to a claimed update (JSON), for a re-delivery."""
        session.execute(
            update(ProcessedUpdate)
            .where(ProcessedUpdate.channel == channel, ProcessedUpdate.update_id == update_id)
            .values(replies=replies)
        )

    def saved_replies(self, session: Session, *, channel: str, update_id: str) -> str | None:
        return session.scalar(
            select(ProcessedUpdate.replies).where(
                ProcessedUpdate.channel == channel, ProcessedUpdate.update_id == update_id
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
