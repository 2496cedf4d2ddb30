"""indexes for pruning: processed_updates.processed_at, button_actions.created_at

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23 13:40:00
"""

from __future__ import annotations

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("processed_updates", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_processed_updates_processed_at"), ["processed_at"], unique=False)
    with op.batch_alter_table("button_actions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_button_actions_created_at"), ["created_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("button_actions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_button_actions_created_at"))
    with op.batch_alter_table("processed_updates", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_processed_updates_processed_at"))
