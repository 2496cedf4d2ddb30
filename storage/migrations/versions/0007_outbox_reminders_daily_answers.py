"""The study habit: an outbox of due messages (claimed with a lease, one per due item), reminder preferences,
channels a learner blocked, daily-question answers, and a send-rate bucket per channel shared by all workers

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 11:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "send_rates",
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("tokens", sa.Float(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("channel"),
    )
    op.create_table(
        "outbox_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("dedupe_key", sa.String(length=128), nullable=False),
        sa.Column("learner_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("address", sa.String(length=64), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("due_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("lease_until", sa.DateTime(), nullable=True),
        sa.Column("claimed_by", sa.String(length=64), nullable=False),
        sa.Column("claimed_at", sa.DateTime(), nullable=True),
        sa.Column("sent_at", sa.DateTime(), nullable=True),
        sa.Column("last_error", sa.String(length=255), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["learner_id"], ["learners.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("dedupe_key"),
    )
    op.create_index("ix_outbox_address", "outbox_messages", ["channel", "address", "claimed_at"], unique=False)
    op.create_index("ix_outbox_due", "outbox_messages", ["status", "channel", "due_at"], unique=False)
    op.create_index(op.f("ix_outbox_messages_learner_id"), "outbox_messages", ["learner_id"], unique=False)
    op.create_table(
        "reminder_blocks",
        sa.Column("learner_id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("blocked_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["learner_id"], ["learners.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("learner_id", "channel"),
    )
    op.create_table(
        "reminder_preferences",
        sa.Column("learner_id", sa.Integer(), nullable=False),
        sa.Column("daily_time", sa.String(length=5), nullable=False),
        sa.Column("reviews", sa.Boolean(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["learner_id"], ["learners.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("learner_id"),
    )
    op.create_table(
        "daily_answers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("learner_id", sa.Integer(), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("question_key", sa.String(length=64), nullable=False),
        sa.Column("correct", sa.Boolean(), nullable=False),
        sa.Column("answered_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["learner_id"], ["learners.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["version_id"], ["quiz_versions.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_daily_answers_learner_id"), "daily_answers", ["learner_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_daily_answers_learner_id"), table_name="daily_answers")
    op.drop_table("daily_answers")
    op.drop_table("reminder_preferences")
    op.drop_table("reminder_blocks")
    op.drop_index(op.f("ix_outbox_messages_learner_id"), table_name="outbox_messages")
    op.drop_index("ix_outbox_due", table_name="outbox_messages")
    op.drop_index("ix_outbox_address", table_name="outbox_messages")
    op.drop_table("outbox_messages")
    op.drop_table("send_rates")
