"""Ingest in batches that survive a stop: staged documents and passages (not searchable until complete), the
vectors of staged passages keyed by model and text hash, and who holds each collection's ingest lock

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01 11:05:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "knowledge_staged_documents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("collection", sa.String(length=32), nullable=False),
        sa.Column("source_path", sa.String(length=1024), nullable=False),
        sa.Column("source_name", sa.String(length=255), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("title", sa.String(length=512), nullable=False),
        sa.Column("chunk_count", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "uq_staged_document_source", "knowledge_staged_documents", ["collection", "source_path"], unique=True
    )
    op.create_table(
        "knowledge_staged_chunks",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("staged_document_id", sa.Integer(), nullable=False),
        sa.Column("collection", sa.String(length=32), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("section", sa.String(length=512), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("words", sa.Text(), nullable=False),
        sa.Column("bigrams", sa.Text(), nullable=False),
        sa.Column("embedding_key", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(["staged_document_id"], ["knowledge_staged_documents.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        op.f("ix_knowledge_staged_chunks_staged_document_id"),
        "knowledge_staged_chunks",
        ["staged_document_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_knowledge_staged_chunks_embedding_key"), "knowledge_staged_chunks", ["embedding_key"], unique=False
    )
    op.create_table(
        "embedding_vectors",
        sa.Column("model", sa.String(length=255), nullable=False),
        sa.Column("text_hash", sa.String(length=64), nullable=False),
        sa.Column("vector", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("model", "text_hash"),
    )
    op.create_table(
        "ingest_lock_holders",
        sa.Column("collection", sa.String(length=32), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("host", sa.String(length=255), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("collection"),
    )


def downgrade() -> None:
    op.drop_table("ingest_lock_holders")
    op.drop_table("embedding_vectors")
    op.drop_index(op.f("ix_knowledge_staged_chunks_embedding_key"), table_name="knowledge_staged_chunks")
    op.drop_index(op.f("ix_knowledge_staged_chunks_staged_document_id"), table_name="knowledge_staged_chunks")
    op.drop_table("knowledge_staged_chunks")
    op.drop_index("uq_staged_document_source", table_name="knowledge_staged_documents")
    op.drop_table("knowledge_staged_documents")
