"""processed_updates keep their replies (sent again on re-delivery); indexes for pruning by age

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23 13:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("processed_updates", schema=None) as batch_op:
        batch_op.add_column(sa.Column("replies", sa.Text(), nullable=True))
        batch_op.create_index(batch_op.f("ix_processed_updates_processed_at"), ["processed_at"], unique=False)
    with op.batch_alter_table("button_actions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_button_actions_created_at"), ["created_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("button_actions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_button_actions_created_at"))
    with op.batch_alter_table("processed_updates", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_processed_updates_processed_at"))
        batch_op.drop_column("replies")
