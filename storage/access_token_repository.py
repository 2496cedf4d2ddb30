"""API access tokens shared by every worker of a channel (`channel_access_tokens`). Never commits.

The holder of the row lock (`lock`, FOR UPDATE on PostgreSQL; SQLite's writer lock) is the one worker that
fetches a new token; the others wait for it and read what it stored."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from storage.models import ChannelAccessToken


@dataclass(frozen=True)
class StoredToken:
    token: str
    expires_at: datetime | None


class AccessTokenRepository:
    def read(self, session: Session, key: str) -> StoredToken | None:
        row = session.get(ChannelAccessToken, key)
        return None if row is None or not row.token else StoredToken(row.token, row.expires_at)

    def lock(self, session: Session, key: str) -> StoredToken:
        """The row for `key`, made if missing, locked until the transaction ends."""
        insert = postgresql_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
        session.execute(
            insert(ChannelAccessToken).values(key=key, token="").on_conflict_do_nothing(index_elements=["key"])
        )
        row = session.scalar(select(ChannelAccessToken).where(ChannelAccessToken.key == key).with_for_update())
        assert row is not None
        return StoredToken(row.token, row.expires_at)

    def store(self, session: Session, key: str, *, token: str, expires_at: datetime, now: datetime) -> None:
        row = session.get_one(ChannelAccessToken, key)
        row.token, row.expires_at, row.fetched_at = token, expires_at, now
