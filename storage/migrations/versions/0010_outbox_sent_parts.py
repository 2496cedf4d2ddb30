"""outbox_messages keep how many of a row's channel messages were accepted (a WeCom text then its card, a long
Telegram text in parts), so a retry after a failure midway sends only the rest

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01 12:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("outbox_messages") as batch:
        batch.add_column(sa.Column("sent_parts", sa.Integer(), server_default="0", nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("outbox_messages") as batch:
        batch.drop_column("sent_parts")
