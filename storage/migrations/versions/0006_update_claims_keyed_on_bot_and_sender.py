"""processed_updates keyed on (channel, bot, update id, digest) with the sender and chat: a reused update id from
someone else is a new update, and stored replies go only to their own sender

The old rows carry no sender, so their replies cannot be handed back safely: they are dropped (the table only
holds what Telegram may still re-deliver, a day or two).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 08:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_table("processed_updates")
    op.create_table(
        "processed_updates",
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("bot_id", sa.String(length=32), nullable=False),
        sa.Column("update_id", sa.String(length=64), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("sender", sa.String(length=64), nullable=False),
        sa.Column("chat", sa.String(length=64), nullable=False),
        sa.Column("processed_at", sa.DateTime(), nullable=False),
        sa.Column("replies", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("channel", "bot_id", "update_id", "digest"),
    )
    op.create_index(op.f("ix_processed_updates_processed_at"), "processed_updates", ["processed_at"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_processed_updates_processed_at"), table_name="processed_updates")
    op.drop_table("processed_updates")
    op.create_table(
        "processed_updates",
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("update_id", sa.String(length=64), nullable=False),
        sa.Column("processed_at", sa.DateTime(), nullable=False),
        sa.Column("replies", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("channel", "update_id"),
    )
    op.create_index(op.f("ix_processed_updates_processed_at"), "processed_updates", ["processed_at"], unique=False)
