"""`unit_vectors` on SQLite and PostgreSQL: stored once per text hash, read back bit for bit, pruned to what is kept."""

from __future__ import annotations

import numpy as np

from storage.db import UnitOfWork, utc_now
from storage.knowledge_repository import ChunkRecord, KnowledgeRepository
from storage.unit_vector_repository import UnitVectorRepository

MODEL = "builtin:multilingual-e5-small"


def _bytes(*values: float) -> bytes:
    return np.asarray(values, dtype=np.float32).tobytes()


def test_vectors_are_stored_once_read_back_and_pruned(uow: UnitOfWork) -> None:
    repository = UnitVectorRepository()
    with uow.begin() as session:
        repository.store(session, model=MODEL, vectors={"a": _bytes(0.1, 0.2), "b": _bytes(0.3, 0.4)})
        repository.store(session, model=MODEL, vectors={"a": _bytes(9.0, 9.0)})  # the same text: kept as it was
        repository.store(session, model="other", vectors={"a": _bytes(1.0, 1.0)})
    with uow.read() as session:
        found = repository.vectors(session, model=MODEL, keys=["a", "b", "c"])
    assert found == {"a": _bytes(0.1, 0.2), "b": _bytes(0.3, 0.4)}
    with uow.begin() as session:
        assert repository.prune(session, model=MODEL, keep={"a"}) == 2  # b, and the other model's a
    with uow.read() as session:
        assert repository.vectors(session, model=MODEL, keys=["a", "b"]) == {"a": _bytes(0.1, 0.2)}
        assert repository.vectors(session, model="other", keys=["a"]) == {}


def test_passages_are_read_with_their_documents_title(uow: UnitOfWork) -> None:
    chunk = ChunkRecord("c1", "general", 0, "节", "正文一句。", ("正文",), ())
    with uow.begin() as session:
        KnowledgeRepository().replace_document(
            session,
            collection="general",
            source_path="/x.md",
            source_name="x.md",
            content_hash="h",
            title="标题",
            chunks=[chunk],
            now=utc_now(),
        )
    with uow.read() as session:
        assert list(UnitVectorRepository().passages(session)) == [("c1", "标题", "正文一句。")]
