"""What ingest tests check of the reply units' stored vectors (`knowledge.unit_vectors`)."""

from __future__ import annotations

from sqlalchemy import select

from app.composition import Services
from knowledge.unit_vectors import passage_unit_texts, text_key
from storage.models import KnowledgeChunk, KnowledgeDocument, UnitVector


def missing_units(services: Services) -> set[str]:
    """Units of stored passages (every collection) without a stored vector; there must be some units."""
    with services.uow.read() as session:
        rows = session.execute(select(KnowledgeDocument.title, KnowledgeChunk.text).join(KnowledgeDocument)).all()
        units = {text_key(t): t for title, text in rows for t in passage_unit_texts(title, text)}
        stored = set(session.scalars(select(UnitVector.text_hash)))
    assert units
    return {t for k, t in units.items() if k not in stored}
