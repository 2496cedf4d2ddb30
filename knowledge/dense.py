"""The dense side as the rest of the code sees it: plain types and the `DenseIndex` capability, importing nothing
heavy. Chroma and LangChain stay in `knowledge.vector_store`, imported only where a dense index is opened: a
lexical-only search (`retrieval.dense_weight = 0`, `vector_store.mode = "off"`) or an ingest module's import never
loads them (~0.6 s; bench/startup_bench.py)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    import numpy as np


@dataclass(frozen=True)
class DenseDocument:
    """What the dense index stores of a passage."""

    chunk_id: str
    collection: str
    text: str


def dense_text(*, title: str, section: str, text: str) -> str:
    """What gets embedded for a passage: its document title and heading on a first line, then the text.

    A passage often leaves its subject to the heading it sits under; the embedding sees it.
    """
    head = " ".join(part for part in (title.strip(), section.strip()) if part)
    return f"{head}\n{text}" if head else text


class DenseIndex(Protocol):
    """Capability: store passages as vectors and find the nearest to a question."""

    def add(self, documents: Sequence[DenseDocument]) -> None: ...

    def add_vectors(self, documents: Sequence[DenseDocument], vectors: np.ndarray | Sequence[Sequence[float]]) -> None:
        """Store vectors embedded earlier (an ingest's staged batches), one per document."""
        ...

    def delete(self, chunk_ids: Sequence[str]) -> None: ...

    def present(self, chunk_ids: Sequence[str]) -> set[str]:
        """Which of these ids the index holds."""
        ...

    def all_ids(self, collections: Sequence[str] | None = None) -> set[str]:
        """Every id held, or those of the given knowledge collections."""
        ...

    def count(self) -> int:
        """How many vectors are held (cheap: no ids are read)."""
        ...

    def heartbeat(self) -> None:
        """Raises when the store cannot be reached (readiness checks)."""
        ...

    def search(self, question: str, *, k: int, collections: Sequence[str] | None = None) -> dict[str, float]:
        """Cosine similarity (−1..1) of the k nearest passages, by chunk id."""
        ...
