"""processed_updates keep the delivery state of replies sent through a channel's API after the callback was
answered (WeCom): messages sent so far, when all were, and a sending lease; channel_access_tokens holds the API
token every worker shares

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01 11:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("processed_updates") as batch:
        batch.add_column(sa.Column("sent_parts", sa.Integer(), server_default="0", nullable=False))
        batch.add_column(sa.Column("delivered_at", sa.DateTime(), nullable=True))
        batch.add_column(sa.Column("send_lease_until", sa.DateTime(), nullable=True))
    op.create_table(
        "channel_access_tokens",
        sa.Column("key", sa.String(length=96), nullable=False),
        sa.Column("token", sa.String(length=512), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=True),
        sa.Column("fetched_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("key"),
    )


def downgrade() -> None:
    op.drop_table("channel_access_tokens")
    with op.batch_alter_table("processed_updates") as batch:
        batch.drop_column("send_lease_until")
        batch.drop_column("delivered_at")
        batch.drop_column("sent_parts")
