"""What ingest tests check of the reply units' stored vectors (`knowledge.unit_vectors`)."""

from __future__ import annotations

from pathlib import Path

from langchain_core.embeddings import Embeddings
from sqlalchemy import select

from app.composition import Services
from knowledge.unit_vectors import passage_unit_texts, text_key
from storage.models import KnowledgeChunk, KnowledgeDocument, UnitVector
from tests.conftest import make_settings


def unit_texts(services: Services) -> set[str]:
    """The unit texts of every stored passage (every collection)."""
    with services.uow.read() as session:
        rows = session.execute(select(KnowledgeDocument.title, KnowledgeChunk.text).join(KnowledgeDocument)).all()
    return {t for title, text in rows for t in passage_unit_texts(title, text)}


def missing_units(services: Services) -> set[str]:
    """Units of stored passages (every collection) without a stored vector; there must be some units."""
    units = {text_key(t): t for t in unit_texts(services)}
    with services.uow.read() as session:
        stored = set(session.scalars(select(UnitVector.text_hash)))
    assert units
    return {t for k, t in units.items() if k not in stored}


def services_storing_units(data_dir: Path, embeddings: Embeddings, *, batch_passages: int) -> Services:
    """Services on SQLite and embedded Chroma whose ingest stores unit vectors, embedding with `embeddings`
    (set before the dense index and the similarity are built), `batch_passages` passages a step."""
    settings = make_settings(data_dir, refresh_seconds=0.0)
    settings = settings.model_copy(
        update={
            "ingest": settings.ingest.model_copy(update={"batch_passages": batch_passages}),
            "vector_store": settings.vector_store.model_copy(update={"mode": "embedded"}),
        }
    )
    assert settings.answer.semantic_weight > 0  # replies score units by meaning: ingest embeds and stores them
    services = Services(settings)
    services.embeddings = embeddings  # type: ignore[misc]
    return services
