"""Rows of vectors keyed by embedding model and the sha256 of the text embedded (`embedding_vectors` for staged
passages, `unit_vectors` for reply units): read by hash, stored without overwriting. Inside a given session,
never committing; keys go in pages so an IN (…) list stays small on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as postgres_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from storage.models import EmbeddingVector, UnitVector

PAGE = 500  # keys per IN (…) list and rows per INSERT
VectorTable = type[EmbeddingVector] | type[UnitVector]


def read_vectors(session: Session, table: VectorTable, *, model: str, keys: Iterable[str]) -> dict[str, bytes]:
    """The stored vectors of these text hashes under the model (those there are)."""
    wanted = sorted(set(keys))
    found: dict[str, bytes] = {}
    for start in range(0, len(wanted), PAGE):
        rows = session.execute(
            select(table.text_hash, table.vector).where(
                table.model == model, table.text_hash.in_(wanted[start : start + PAGE])
            )
        )
        found.update((row.text_hash, row.vector) for row in rows)
    return found


def store_new_vectors(session: Session, table: VectorTable, *, model: str, vectors: Mapping[str, bytes]) -> None:
    """Store vectors by text hash; a hash already stored (the same text, from another document or ingest) is kept."""
    rows = [{"model": model, "text_hash": key, "vector": value} for key, value in vectors.items()]
    builder = postgres_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    for start in range(0, len(rows), PAGE):
        session.execute(builder(table).values(rows[start : start + PAGE]).on_conflict_do_nothing())
