"""Reply unit vectors on the resumable large-document path (a document over `ingest.batch_passages`, committed a
batch at a time into staging tables and swapped in whole): after a stopped run is resumed, every unit of every
stored passage has its vector stored, and a fresh process replies without embedding anything.

Real SQLite and Chroma; a deterministic fake model counting every text it embeds (the real one is slow and its
vectors do not matter here)."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.composition import Services
from tests.support.counting_embeddings import CountingModel
from tests.support.generated_documents import marker, write_long_markdown
from tests.support.unit_vector_checks import missing_units, services_storing_units

SECTIONS, BATCH = 40, 8


def _services(data_dir: Path, model: CountingModel) -> Services:
    return services_storing_units(data_dir, model, batch_passages=BATCH)


@pytest.mark.parametrize("other_ingest_between", [False, True])
def test_a_resumed_large_document_has_every_unit_vector_and_replies_embed_nothing(tmp_path, other_ingest_between):
    """Stopped when the third batch's passages are embedded (two batches staged, their units stored), resumed; with
    `other_ingest_between`, a small document of another collection is ingested while the large one is half
    staged (its run's cleanup sees the staged passages' units as belonging to no stored passage)."""
    data_dir = tmp_path / "data"
    document = write_long_markdown(tmp_path / "docs" / "超长手册.md", sections=SECTIONS)
    stopping = CountingModel(stop_at=f"本节标记 {marker(2 * BATCH)}。")
    with pytest.raises(KeyboardInterrupt):
        _services(data_dir, stopping).ingest_pipeline().run([document], collection="processes")
    if other_ingest_between:
        small = write_long_markdown(tmp_path / "other" / "短手册.md", sections=2, seed=7, title="短手册")
        _services(data_dir, CountingModel()).ingest_pipeline().run([small], collection="cases")

    resuming = CountingModel()
    services = _services(data_dir, resuming)
    report = services.ingest_pipeline().run([document], collection="processes")

    assert report.count("added") == 1
    with services.uow.read() as session:
        assert len(services.repository.all_chunk_ids(session, collections=["processes"])) == SECTIONS
    assert missing_units(services) == set()
    embedded_twice = set(stopping.documents) & set(resuming.documents)
    assert not {t for t in embedded_twice if "本节标记" in t}  # the staged batches' passages and units: reused

    fresh_model = CountingModel()
    fresh = _services(data_dir, fresh_model)
    for section in (0, SECTIONS - 1):
        reply = fresh.ask(f"本节标记 {marker(section)} 应该怎么处理?")
        assert reply.found, reply
    assert fresh_model.few == [] and fresh_model.documents == []  # every unit's vector was read, none embedded
