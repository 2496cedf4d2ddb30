"""Reply unit vectors kept in the database, so a reply scores its units by meaning without running the model.

A reply embeds, for each of its best units, the document's title and the unit (`unit_text`); those texts are known
when a passage is stored, so ingest embeds every unit of every passage (`passage_unit_texts`: the units of the text
a search shows) and stores the vectors keyed by model and the sha256 of the text (`storage.unit_vector_repository`).
`StoredUnitVectors` is what `unit_similarity.EmbeddingUnitSimilarity` reads first, and where it stores the vectors
it had to embed. Keyed by text, a vector is shared by every passage holding the unit; after an ingest that changed
something, the missing ones are embedded and the rows of no current unit deleted (`sync_unit_vectors`).

e5's vectors do not depend on the batch or the thread count (checked bit for bit): a stored vector is the one the
reply would have computed, so the units chosen are the same.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Mapping, Sequence

import numpy as np

from knowledge.answer_units import passage_units, unit_text
from knowledge.results import MAX_PASSAGE_CHARS
from storage.db import UnitOfWork
from storage.unit_vector_repository import UnitVectorRepository

log = logging.getLogger(__name__)
TITLE_CHARS = 512  # a document's title as stored (`knowledge_documents.title`)


def passage_unit_texts(title: str, text: str) -> list[str]:
    """The texts a reply may embed for a stored passage (`answer._rescored`): every unit of the text a search shows."""
    return list(dict.fromkeys(unit_text(title[:TITLE_CHARS], u) for u in passage_units(text[:MAX_PASSAGE_CHARS], 0)))


def text_key(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def vector_bytes(vector: Sequence[float]) -> bytes:
    return np.asarray(vector, dtype=np.float32).tobytes()


class StoredUnitVectors:
    """The stored unit vectors of one model. A failing database (read-only, unreachable) only costs the model's
    time: reads then find nothing and writes are skipped, said in the log."""

    def __init__(self, uow: UnitOfWork, model: str, repository: UnitVectorRepository | None = None) -> None:
        self._uow = uow
        self.model = model
        self._repository = repository or UnitVectorRepository()

    def get(self, texts: Sequence[str]) -> dict[str, list[float]]:
        keys = {text_key(t): t for t in texts}
        try:
            with self._uow.read() as session:
                rows = self._repository.vectors(session, model=self.model, keys=keys)
        except Exception as exc:  # the model can still embed them
            log.warning("stored unit vectors unreadable, embedding them (%s: %s)", type(exc).__name__, exc)
            return {}
        return {keys[k]: np.frombuffer(v, dtype=np.float32).tolist() for k, v in rows.items()}

    def put(self, vectors: Mapping[str, Sequence[float]]) -> None:
        rows = {text_key(t): vector_bytes(v) for t, v in vectors.items()}
        if not rows:
            return
        try:
            with self._uow.begin() as session:
                self._repository.store(session, model=self.model, vectors=rows)
        except Exception as exc:  # a read-only data folder still answers
            log.warning("unit vectors not stored (%s: %s)", type(exc).__name__, exc)


def sync_unit_vectors(
    uow: UnitOfWork, model: str, embed: Callable[[list[str]], list[list[float]]], *, batch: int = 200
) -> tuple[int, int]:
    """Make the stored vectors those of the stored and staged passages' units, of every collection: embed the
    missing ones (passages stored before unit vectors were, or by a run that stopped) and delete those of no unit
    (replaced or removed documents, another model). A staged passage's units count: a large document's resume
    reuses them. (embedded, deleted).

    Another collection's ingest may be writing meanwhile (it holds only its own collection's lock). So the delete
    reads the passages again inside its own transaction, after locking writers of `unit_vectors` out
    (`lock_out_writers`): a passage committed before is read and its units kept; a writer committing after
    stores every vector its passages need, those it found stored included (`DocumentWriter._unit_vectors`), so
    one deleted here meanwhile is stored again. Only passages not read the first time are split into units."""
    repository = UnitVectorRepository()
    seen: set[str] = set()
    texts: dict[str, str] = {}
    with uow.read() as session:
        for passage_id, title, text in repository.passages(session):
            seen.add(passage_id)
            texts.update((text_key(t), t) for t in passage_unit_texts(title, text))
        stored = set(repository.vectors(session, model=model, keys=texts))
    wanted = [(k, t) for k, t in texts.items() if k not in stored]
    for start in range(0, len(wanted), batch):
        part = wanted[start : start + batch]
        rows = {k: vector_bytes(v) for (k, _), v in zip(part, embed([t for _, t in part]), strict=True)}
        with uow.begin() as session:
            repository.store(session, model=model, vectors=rows)
    with uow.begin() as session:
        repository.lock_out_writers(session)
        keep = set(texts)  # a passage read before and gone now only keeps its units until the next run
        for passage_id, title, text in repository.passages(session):
            if passage_id not in seen:
                keep.update(text_key(t) for t in passage_unit_texts(title, text))
        deleted = repository.prune(session, model=model, keep=keep)
    return len(wanted), deleted
