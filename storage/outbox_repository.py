"""The outbox: messages due to people outside any conversation, claimed by workers with a lease. Never commits.

Each due item is one row (its `dedupe_key` is unique, so planning it twice — two workers, a restart — queues it
once). A worker claims rows in one short transaction: on PostgreSQL `FOR UPDATE SKIP LOCKED` lets workers claim at
the same time without waiting for or taking each other's rows; on SQLite the claiming transaction holds the write
lock (BEGIN IMMEDIATE, storage/db.py), so claims take turns. A claimed row carries a lease: the worker marks it sent
(or blocked, or back to pending with a later time) right after trying; if it dies first, the row is claimable again
once the lease ran out. A row the channel sends as several messages keeps how many were accepted (`sent_parts`), so
a retry after a failure midway sends only the rest. The send rate all workers share is a token bucket row per
channel, taken in the claiming transaction, so N workers together claim at most the configured rate.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from storage.models import OutboxMessage, SendRate

PER_CHAT_GAP = timedelta(seconds=1)  # Telegram: at most one message per second to one chat
KEY_CHUNK = 500  # keys per IN (…) query


@dataclass(frozen=True)
class OutboxItem:
    """One due item to queue: who, where, what (replies as reply_codec JSON) and when it may go out."""

    dedupe_key: str
    learner_id: int
    kind: str
    channel: str
    address: str
    payload: str
    due_at: datetime
    expires_at: datetime


@dataclass(frozen=True)
class ClaimedMessage:
    message_id: int
    learner_id: int
    kind: str
    channel: str
    address: str
    payload: str
    expires_at: datetime
    attempts: int  # including this claim
    sent_parts: int = 0  # channel messages of this row accepted by earlier tries (not to be sent again)


def _insert(session: Session):  # type: ignore[no-untyped-def]
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    return dialect.insert


class OutboxRepository:
    def existing_keys(self, session: Session, keys: Iterable[str]) -> set[str]:
        """Which of these dedupe keys are queued already (whatever became of them)."""
        keys = list(keys)
        found: set[str] = set()
        for start in range(0, len(keys), KEY_CHUNK):
            chunk = keys[start : start + KEY_CHUNK]
            found.update(session.scalars(select(OutboxMessage.dedupe_key).where(OutboxMessage.dedupe_key.in_(chunk))))
        return found

    def enqueue(self, session: Session, items: Sequence[OutboxItem], *, now: datetime) -> int:
        """Queue the items whose key is new; an existing key (queued by anyone, any time) is left alone."""
        if not items:
            return 0
        rows = [
            {
                "dedupe_key": i.dedupe_key,
                "learner_id": i.learner_id,
                "kind": i.kind,
                "channel": i.channel,
                "address": i.address,
                "payload": i.payload,
                "due_at": i.due_at,
                "expires_at": i.expires_at,
                "status": "pending",
                "attempts": 0,
                "claimed_by": "",
                "last_error": "",
                "created_at": now,
            }
            for i in items
        ]
        statement = _insert(session)(OutboxMessage).on_conflict_do_nothing(index_elements=["dedupe_key"])
        result = session.execute(statement.returning(OutboxMessage.id), rows)
        return len(result.all())

    def take_send_tokens(
        self, session: Session, *, channel: str, rate: float, burst: float, want: int, now: datetime
    ) -> int:
        """Up to `want` sends the channel's shared bucket allows now (refilled at `rate` per second up to `burst`);
        the caller gives back what it did not use (`return_send_tokens`) in the same transaction."""
        session.execute(
            _insert(session)(SendRate)
            .values(channel=channel, tokens=burst, updated_at=now)
            .on_conflict_do_nothing(index_elements=["channel"])
        )
        bucket = session.scalars(select(SendRate).where(SendRate.channel == channel).with_for_update()).one()
        elapsed = max(0.0, (now - bucket.updated_at).total_seconds())
        tokens = min(burst, bucket.tokens + elapsed * rate)
        granted = max(0, min(want, int(tokens)))
        bucket.tokens, bucket.updated_at = tokens - granted, max(now, bucket.updated_at)
        return granted

    def return_send_tokens(self, session: Session, *, channel: str, count: int) -> None:
        if count > 0:
            session.execute(update(SendRate).where(SendRate.channel == channel).values(tokens=SendRate.tokens + count))

    def claim(
        self, session: Session, *, channel: str, worker: str, now: datetime, limit: int, lease: timedelta
    ) -> list[ClaimedMessage]:
        """Up to `limit` due rows of `channel` for `worker`, at most one per address, none to an address claimed in
        the last second; each leased until `now + lease`. Rows another worker holds locked are skipped."""
        if limit <= 0:
            return []
        o = OutboxMessage
        query = (
            select(o)
            .where(
                o.status == "pending",
                o.channel == channel,
                o.due_at <= now,
                o.expires_at > now,
                (o.lease_until.is_(None)) | (o.lease_until <= now),
            )
            .order_by(o.due_at, o.id)
            .limit(limit)  # every row selected stays locked until commit: take no more than can be used
            .with_for_update(skip_locked=True, of=o)
        )
        rows = list(session.scalars(query))
        if not rows:
            return []
        # one message per chat at a time: none to a chat that had one claimed in the last second (another batch)
        busy = set(
            session.scalars(
                select(o.address).where(
                    o.channel == channel,
                    o.address.in_({row.address for row in rows}),
                    o.id.not_in([row.id for row in rows]),
                    o.claimed_at > now - PER_CHAT_GAP,
                )
            )
        )
        claimed: list[ClaimedMessage] = []
        for row in rows:
            if row.address in busy:
                continue
            busy.add(row.address)  # and one per chat in this batch
            row.attempts += 1
            row.lease_until, row.claimed_by, row.claimed_at = now + lease, worker, now
            claimed.append(
                ClaimedMessage(
                    row.id,
                    row.learner_id,
                    row.kind,
                    row.channel,
                    row.address,
                    row.payload,
                    row.expires_at,
                    row.attempts,
                    row.sent_parts,
                )
            )
        return claimed

    def count_sent(self, session: Session, message_id: int, *, sent_parts: int) -> None:
        """The first `sent_parts` channel messages of the row were accepted: a later try sends only the rest."""
        o = OutboxMessage
        session.execute(update(o).where(o.id == message_id, o.sent_parts < sent_parts).values(sent_parts=sent_parts))

    def mark_sent(self, session: Session, message_id: int, *, worker: str, now: datetime) -> bool:
        """Sent. False when the lease had run out and another worker holds the row now (it may send it again).
        One statement: this runs once per message sent."""
        o = OutboxMessage
        holder = session.execute(
            update(o)
            .where(o.id == message_id)
            .values(status="sent", sent_at=now, lease_until=None)
            .returning(o.claimed_by)
        ).scalar_one()
        return holder == worker

    def mark_final(self, session: Session, message_id: int, *, status: str, error: str, now: datetime) -> None:
        """Never to be sent: `blocked` (the person blocked us), `failed` (tried too often) or `expired` (too late)."""
        o = OutboxMessage
        session.execute(
            update(o).where(o.id == message_id).values(status=status, lease_until=None, last_error=error[:255])
        )

    def release(self, session: Session, message_id: int, *, retry_at: datetime, error: str) -> None:
        """Back to pending, claimable again from `retry_at` (a 429's retry-after, a network error's backoff)."""
        o = OutboxMessage
        session.execute(
            update(o)
            .where(o.id == message_id, o.status == "pending")
            .values(lease_until=retry_at, last_error=error[:255])
        )

    def drop_pending_for(self, session: Session, *, learner_id: int, channel: str, now: datetime) -> int:
        """The person blocked us on `channel`: nothing else queued there for them goes out."""
        result = session.execute(
            update(OutboxMessage)
            .where(
                and_(OutboxMessage.learner_id == learner_id, OutboxMessage.channel == channel),
                OutboxMessage.status == "pending",
            )
            .values(status="blocked", lease_until=None, last_error="blocked")
        )
        return int(result.rowcount or 0)  # type: ignore[attr-defined]

    def counts(self, session: Session) -> dict[str, int]:
        """Rows by status (for the bench and operators)."""
        rows = session.execute(select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)).tuples()
        return dict(rows.all())
