"""How far the dense index (Chroma) is from the database it speeds up.

The database is the source of truth (docs/architecture.md, Consistency). `coach db check` reports what this module
finds; `coach ingest --repair` fixes it (`app/index_commands.py`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from knowledge.dense import DenseIndex
from storage.db import UnitOfWork
from storage.knowledge_repository import KnowledgeRepository


@dataclass(frozen=True)
class DenseDifferences:
    """Chroma against the database, for some knowledge collections."""

    stored: int  # passages in the database
    indexed: int  # vectors in the dense index
    missing: tuple[str, ...]  # passages without a vector: dense search cannot find them
    orphans: tuple[str, ...]  # vectors of no stored passage (a killed ingest): ignored by search, taking space

    @property
    def consistent(self) -> bool:
        return not self.missing and not self.orphans


def compare_dense_index(
    *, uow: UnitOfWork, repository: KnowledgeRepository, dense: DenseIndex, collections: Sequence[str] | None = None
) -> DenseDifferences:
    with uow.read() as session:
        stored = repository.all_chunk_ids(session, collections=collections)
    indexed = dense.all_ids(collections)
    return DenseDifferences(
        stored=len(stored),
        indexed=len(indexed),
        missing=tuple(sorted(stored - indexed)),
        orphans=tuple(sorted(indexed - stored)),
    )
