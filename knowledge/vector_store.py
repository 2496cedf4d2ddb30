"""The dense side of retrieval: Chroma (embedded or server), one Chroma collection per knowledge collection.

Chroma stays inside this module; the rest of the code sees the `DenseIndex` Protocol (`knowledge.dense`). A
question limited to some knowledge collections queries only theirs, so Chroma never evaluates a metadata filter: at
100,000 passages a `where` filter made a Chroma query ~60× slower than the same query unfiltered (148 vs 2.3 ms
p50; bench/README.md).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import chromadb
import numpy as np
from chromadb.api.models.Collection import Collection
from chromadb.config import Settings as ChromaClientSettings
from chromadb.errors import ChromaError, NotFoundError
from langchain_core.embeddings import Embeddings

from knowledge.dense import DenseDocument as DenseDocument  # the plain types, re-exported for older imports
from knowledge.dense import DenseIndex as DenseIndex
from knowledge.dense import dense_text as dense_text

log = logging.getLogger(__name__)

# HNSW breadth at query time (Chroma's default). At 100k passages (25k per knowledge collection) it finds 83 % of
# the exact 50 nearest on filtered questions (one collection with a `where` filter found 81 %) and all of them on
# unfiltered ones; 200 found 90 % and 400 96 %, each costing more per collection queried (bench/README.md). The gap
# is on questions whose nearest passages sit in another collection, where every candidate is a weak match anyway.
EF_SEARCH = 100
PAGE = 1000  # ids per Chroma call when deleting or moving vectors


def open_chroma_client(*, mode: str, path: Path, host: str, port: int) -> chromadb.ClientAPI:
    """A persistent client on disk, or an HTTP client for a Chroma server; telemetry off."""
    client_settings = ChromaClientSettings(anonymized_telemetry=False)
    if mode == "server":
        return chromadb.HttpClient(host=host, port=port, settings=client_settings)
    path.mkdir(parents=True, exist_ok=True)
    return chromadb.PersistentClient(path=str(path), settings=client_settings)


def chroma_collection_name(name: str, collection: str) -> str:
    """`knowledge-<model>.<collection>`: one Chroma collection per embedding model (dimensions differ between
    models) and knowledge collection; never the name of the single collection stores were written to before."""
    return f"{name}.{collection}"


class ChromaDenseIndex:
    """`DenseIndex` over one Chroma collection per knowledge collection, for one embedding model.

    `name` is the model's prefix (`knowledge-<model>`); `collections` are every knowledge collection a passage
    can belong to. A search over several knowledge collections queries each and keeps the k nearest of all.
    """

    def __init__(
        self,
        *,
        client: chromadb.ClientAPI,
        embeddings: Embeddings,
        name: str,
        collections: Sequence[str],
        ef_search: int = EF_SEARCH,
    ) -> None:
        if not collections:
            raise ValueError("ChromaDenseIndex needs the knowledge collections passages belong to")
        self._client = client
        self._embeddings = embeddings
        self._name = name
        self._collections = {
            c: _open_collection(client, chroma_collection_name(name, c), ef_search=ef_search) for c in collections
        }

    def heartbeat(self) -> None:
        self._client.heartbeat()

    def add(self, documents: Sequence[DenseDocument], *, batch: int = 256) -> None:
        """Embed and store passages (a stored chunk id is replaced, in whichever knowledge collection it was)."""
        for start in range(0, len(documents), batch):
            part = documents[start : start + batch]
            self._store(part, self._embeddings.embed_documents([d.text for d in part]))

    def add_vectors(self, documents: Sequence[DenseDocument], vectors: np.ndarray | Sequence[Sequence[float]]) -> None:
        """Store precomputed vectors (benchmarks; re-indexing with a model already run elsewhere)."""
        for start in range(0, len(documents), 2000):
            self._store(documents[start : start + 2000], vectors[start : start + 2000])

    def _store(self, documents: Sequence[DenseDocument], vectors: np.ndarray | Sequence[Sequence[float]]) -> None:
        array = np.asarray(vectors, dtype=np.float32)
        by_collection: dict[str, list[int]] = {}
        for i, d in enumerate(documents):
            if d.collection not in self._collections:
                known = ", ".join(self._collections)
                raise ValueError(f"unknown knowledge collection {d.collection!r} (known: {known})")
            by_collection.setdefault(d.collection, []).append(i)
        for collection, rows in by_collection.items():
            ids = [documents[i].chunk_id for i in rows]
            self._collections[collection].upsert(
                ids=ids, embeddings=array[rows], metadatas=[{"collection": collection}] * len(rows)
            )
            for other, chroma in self._collections.items():  # an id lives in one knowledge collection only
                if other != collection and (elsewhere := chroma.get(ids=ids, include=[])["ids"]):
                    chroma.delete(ids=elsewhere)

    def delete(self, chunk_ids: Sequence[str]) -> None:
        ids = list(chunk_ids)
        for start in range(0, len(ids), PAGE):
            for chroma in self._collections.values():
                chroma.delete(ids=ids[start : start + PAGE])

    def present(self, chunk_ids: Sequence[str]) -> set[str]:
        ids = list(chunk_ids)
        found: set[str] = set()
        for start in range(0, len(ids), PAGE):
            for chroma in self._collections.values():
                found.update(chroma.get(ids=ids[start : start + PAGE], include=[])["ids"])
        return found

    def all_ids(self, collections: Sequence[str] | None = None) -> set[str]:
        return {i for chroma in self._targets(collections) for i in chroma.get(include=[])["ids"]}

    def count(self) -> int:
        return sum(chroma.count() for chroma in self._collections.values())

    def search(self, question: str, *, k: int, collections: Sequence[str] | None = None) -> dict[str, float]:
        targets = self._targets(collections)
        if not targets:
            return {}
        return self._nearest(self._embeddings.embed_query(question), k=k, targets=targets)

    def search_by_vector(
        self, vector: Sequence[float] | np.ndarray, *, k: int, collections: Sequence[str] | None = None
    ) -> dict[str, float]:
        """`search` for a question already embedded (benchmarks)."""
        return self._nearest(vector, k=k, targets=self._targets(collections))

    def _targets(self, collections: Sequence[str] | None) -> list[Collection]:
        """The Chroma collections a search looks in: all of them, or those named (unknown names find nothing)."""
        if not collections:
            return list(self._collections.values())
        return [self._collections[c] for c in dict.fromkeys(collections) if c in self._collections]

    @staticmethod
    def _nearest(vector: Sequence[float] | np.ndarray, *, k: int, targets: Iterable[Collection]) -> dict[str, float]:
        query = np.asarray(vector, dtype=np.float32)[np.newaxis, :]
        hits: list[tuple[float, str]] = []
        for chroma in targets:
            found = chroma.query(query_embeddings=query, n_results=k, include=["distances"])  # type: ignore[arg-type]
            distances = found["distances"] or [[]]
            hits.extend(zip(distances[0], found["ids"][0], strict=True))
        hits.sort()
        return {chunk_id: 1.0 - float(distance) for distance, chunk_id in hits[:k]}

    def migrate_single_collection(self) -> int:
        """Move a store written before the per-collection layout (one Chroma collection called `name`, each
        vector's knowledge collection in its metadata) into this layout, then drop the old collection.

        The stored vectors are copied, nothing is embedded again. Safe to run from several processes at once:
        copies are upserts, and one that finds the old collection gone stops (another process finished it).
        Vectors of an unknown knowledge collection are left out; the next ingest's reconcile re-adds what the
        database holds. Returns how many vectors were moved."""
        try:
            single = self._client.get_collection(self._name)
        except NotFoundError:
            return 0
        moved = skipped = 0
        try:
            log.info("moving the dense index %s to one Chroma collection per knowledge collection", self._name)
            for ids, vectors, collections in _pages(single):
                kept = [i for i, c in enumerate(collections) if c in self._collections]
                skipped += len(ids) - len(kept)
                if kept:
                    self._store([DenseDocument(ids[i], collections[i], "") for i in kept], np.asarray(vectors)[kept])
                moved += len(kept)
            self._client.delete_collection(self._name)
        except NotFoundError:
            log.info("the single-collection dense index %s was moved by another process", self._name)
        log.info("moved %d vectors of %s (%d of unknown knowledge collections left out)", moved, self._name, skipped)
        return moved


def _open_collection(client: chromadb.ClientAPI, name: str, *, ef_search: int) -> Collection:
    """Get or create a cosine collection; a stored ef_search that differs is updated (Chroma applies it when
    the collection is next loaded: on the next start of an embedded store)."""
    collection = client.get_or_create_collection(
        name, configuration={"hnsw": {"space": "cosine", "ef_search": ef_search}}
    )
    hnsw = (collection.configuration or {}).get("hnsw") or {}
    if hnsw.get("ef_search", ef_search) != ef_search:
        try:
            collection.modify(configuration={"hnsw": {"ef_search": ef_search}})
        except ChromaError as exc:  # a tuning knob: searching with the stored value beats not starting
            log.warning("could not set ef_search=%d on %s (searching with %s): %s", ef_search, name, hnsw, exc)
    return collection


def _pages(collection: Collection) -> Iterable[tuple[list[str], Any, list[str]]]:
    """(ids, vectors, knowledge collections) of a single-collection store, PAGE at a time."""
    offset = 0
    while True:
        page = collection.get(include=["embeddings", "metadatas"], limit=PAGE, offset=offset)  # type: ignore[list-item]
        ids = page["ids"]
        if not ids:
            return
        metadatas = page["metadatas"] or [{} for _ in ids]
        yield ids, page["embeddings"], [str((m or {}).get("collection", "")) for m in metadatas]
        offset += len(ids)
