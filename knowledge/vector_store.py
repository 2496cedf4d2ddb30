"""The dense side of retrieval: Chroma (embedded or server) through LangChain's `Chroma` adapter.

Chroma and LangChain stay inside this module; the rest of the code sees the `DenseIndex` Protocol.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import chromadb
import numpy as np
from chromadb.config import Settings as ChromaClientSettings
from langchain_chroma import Chroma
from langchain_core.embeddings import Embeddings


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

    def delete(self, chunk_ids: Sequence[str]) -> None: ...

    def all_ids(self) -> set[str]: ...

    def heartbeat(self) -> None:
        """Raises when the store cannot be reached (readiness checks)."""
        ...

    def search(self, question: str, *, k: int, collections: Sequence[str] | None = None) -> dict[str, float]:
        """Cosine similarity (−1..1) of the k nearest passages, by chunk id."""
        ...


def open_chroma_client(*, mode: str, path: Path, host: str, port: int) -> chromadb.ClientAPI:
    """A persistent client on disk, or an HTTP client for a Chroma server; telemetry off."""
    client_settings = ChromaClientSettings(anonymized_telemetry=False)
    if mode == "server":
        return chromadb.HttpClient(host=host, port=port, settings=client_settings)
    path.mkdir(parents=True, exist_ok=True)
    return chromadb.PersistentClient(path=str(path), settings=client_settings)


class ChromaDenseIndex:
    """`DenseIndex` over one Chroma collection per embedding model (dimensions differ between models)."""

    def __init__(self, *, client: chromadb.ClientAPI, embeddings: Embeddings, collection_name: str) -> None:
        self._embeddings = embeddings
        self._client = client
        self._store = Chroma(
            collection_name=collection_name,
            embedding_function=embeddings,
            client=client,
            collection_configuration={"hnsw": {"space": "cosine"}},
        )

    def heartbeat(self) -> None:
        self._client.heartbeat()

    def add(self, documents: Sequence[DenseDocument], *, batch: int = 256) -> None:
        for start in range(0, len(documents), batch):
            part = documents[start : start + batch]
            self._store.add_texts(
                [d.text for d in part],
                metadatas=[{"collection": d.collection} for d in part],
                ids=[d.chunk_id for d in part],
            )

    def add_vectors(self, documents: Sequence[DenseDocument], vectors: Sequence[Sequence[float]]) -> None:
        """Store precomputed vectors (benchmarks; re-indexing with a model already run elsewhere)."""
        collection = self._store._collection
        for start in range(0, len(documents), 2000):
            part = documents[start : start + 2000]
            collection.upsert(
                ids=[d.chunk_id for d in part],
                embeddings=np.asarray(vectors[start : start + 2000], dtype=np.float32),
                documents=[d.text for d in part],
                metadatas=[{"collection": d.collection} for d in part],
            )

    def delete(self, chunk_ids: Sequence[str]) -> None:
        ids = list(chunk_ids)
        for start in range(0, len(ids), 1000):
            self._store.delete(ids=ids[start : start + 1000])

    def all_ids(self) -> set[str]:
        return set(self._store.get(include=[])["ids"])

    def search(self, question: str, *, k: int, collections: Sequence[str] | None = None) -> dict[str, float]:
        where = {"collection": {"$in": list(collections)}} if collections else None
        hits = self._store.similarity_search_with_score(question, k=k, filter=where)  # type: ignore[arg-type]
        return {doc.id: 1.0 - float(distance) for doc, distance in hits if doc.id}
