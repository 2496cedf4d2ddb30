"""Sending a claimed update's stored replies through a channel's API, once (WeCom answers callbacks first and
sends afterwards). Works on the `processed_updates` row the core's claim made — the same key, sender and chat —
never on another. Never commits.

A worker takes the row's sending lease, sends the messages from `sent_parts` on, counting each one as it goes,
and marks the row delivered; a worker that dies mid-way leaves the lease to run out and the rest to be sent by
whoever takes it next. Replies are never sent to anyone but the row's sender and chat.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sqlalchemy import ColumnElement, and_, or_, select, update
from sqlalchemy.orm import Session

from storage.interaction_repository import UpdateClaim
from storage.models import ProcessedUpdate

LeaseResult = Literal["taken", "delivered", "busy", "missing"]


@dataclass(frozen=True)
class PendingDelivery:
    """What the lease holder sends: the stored replies (JSON) from message number `sent_parts` on."""

    replies: str
    sent_parts: int


def _row(claim: UpdateClaim) -> list[ColumnElement[bool]]:
    return [
        ProcessedUpdate.channel == claim.channel,
        ProcessedUpdate.bot_id == claim.bot_id,
        ProcessedUpdate.update_id == claim.update_id,
        ProcessedUpdate.digest == claim.digest,
        ProcessedUpdate.sender == claim.sender,
        ProcessedUpdate.chat == claim.chat,
    ]


class DeliveryRepository:
    def take_lease(
        self, session: Session, claim: UpdateClaim, *, now: datetime, until: datetime
    ) -> tuple[LeaseResult, PendingDelivery | None]:
        """Take the sending lease of this claim's replies (one atomic UPDATE: two workers never both get it)."""
        taken = session.execute(
            update(ProcessedUpdate)
            .where(
                *_row(claim),
                ProcessedUpdate.delivered_at.is_(None),
                ProcessedUpdate.replies.is_not(None),
                or_(ProcessedUpdate.send_lease_until.is_(None), ProcessedUpdate.send_lease_until < now),
            )
            .values(send_lease_until=until)
        )
        row = session.execute(
            select(ProcessedUpdate.replies, ProcessedUpdate.sent_parts, ProcessedUpdate.delivered_at).where(
                *_row(claim)
            )
        ).first()
        if row is None or row.replies is None:
            return "missing", None
        if taken.rowcount != 1:  # type: ignore[attr-defined]
            return ("delivered" if row.delivered_at is not None else "busy"), None
        return "taken", PendingDelivery(row.replies, row.sent_parts)

    def count_sent(self, session: Session, claim: UpdateClaim, *, sent_parts: int) -> None:
        session.execute(update(ProcessedUpdate).where(*_row(claim)).values(sent_parts=sent_parts))

    def mark_delivered(self, session: Session, claim: UpdateClaim, *, now: datetime) -> None:
        session.execute(update(ProcessedUpdate).where(*_row(claim)).values(delivered_at=now, send_lease_until=None))

    def release(self, session: Session, claim: UpdateClaim) -> None:
        """Give the lease back after a failed send, so the next sweep retries at once."""
        session.execute(update(ProcessedUpdate).where(*_row(claim)).values(send_lease_until=None))

    def undelivered(
        self,
        session: Session,
        *,
        channel: str,
        bot_id: str,
        older_than: datetime,
        newer_than: datetime,
        now: datetime,
        limit: int = 50,
    ) -> list[UpdateClaim]:
        """Claims of this channel whose replies are not all sent and whose lease (if any) ran out, oldest first."""
        rows = session.execute(
            select(
                ProcessedUpdate.channel,
                ProcessedUpdate.bot_id,
                ProcessedUpdate.update_id,
                ProcessedUpdate.digest,
                ProcessedUpdate.sender,
                ProcessedUpdate.chat,
            )
            .where(
                ProcessedUpdate.channel == channel,
                ProcessedUpdate.bot_id == bot_id,
                ProcessedUpdate.delivered_at.is_(None),
                ProcessedUpdate.replies.is_not(None),
                and_(ProcessedUpdate.processed_at < older_than, ProcessedUpdate.processed_at > newer_than),
                or_(ProcessedUpdate.send_lease_until.is_(None), ProcessedUpdate.send_lease_until < now),
            )
            .order_by(ProcessedUpdate.processed_at)
            .limit(limit)
        )
        return [UpdateClaim(*row) for row in rows]
