"""The people in the programme and how they join: learners, the channel identities mapped to them, registrations
under way, invite codes."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base


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
