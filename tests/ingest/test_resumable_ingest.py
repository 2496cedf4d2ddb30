"""Large documents in steps (issue 13, item 4): a `coach ingest` SIGKILLed mid-document keeps the batches it
committed, the re-run embeds only the rest, and search never shows part of a document.

Real processes, real SQLite, real Chroma and the real e5 model; `ingest.batch_passages` is small so it is quick."""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from langchain_core.embeddings import Embeddings
from sqlalchemy import func, select

from app.composition import Services
from ingest.progress import StderrProgress
from storage.db import create_database_engine
from storage.models import EmbeddingVector, KnowledgeChunk, KnowledgeDocument, StagedChunk, StagedDocument
from tests.conftest import make_settings
from tests.support.generated_documents import marker, write_long_markdown

pytestmark = pytest.mark.slow
REPO = Path(__file__).resolve().parents[2]
SECTIONS, BATCH = 48, 8


class CountingEmbeddings(Embeddings):
    """The real model, counting the passages it is asked to embed."""

    def __init__(self, inner: Embeddings) -> None:
        self.inner = inner
        self.passages = 0

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        self.passages += len(texts)
        return self.inner.embed_documents(texts)

    def embed_query(self, text: str) -> list[float]:
        return self.inner.embed_query(text)


def _count(session, model) -> int:  # type: ignore[no-untyped-def]
    return int(session.scalar(select(func.count()).select_from(model)) or 0)


def _services(data_dir: Path, database_url: str = "") -> tuple[Services, CountingEmbeddings]:
    settings = make_settings(data_dir, refresh_seconds=0.0)
    settings = settings.model_copy(
        update={
            "ingest": settings.ingest.model_copy(update={"batch_passages": BATCH}),
            "storage": settings.storage.model_copy(update={"database_url": database_url}),
            # passages only: the units' vectors a reply reads (`knowledge.unit_vectors`) would count here too
            "answer": settings.answer.model_copy(update={"semantic_weight": 0.0}),
        }
    )
    services = Services(settings)
    from knowledge.embeddings import create_embeddings

    counting = CountingEmbeddings(create_embeddings(model=settings.embedding.model))
    services.embeddings = counting  # type: ignore[misc] — before the dense index is built with it
    return services, counting


def test_a_sigkilled_ingest_resumes_embedding_only_the_rest_and_search_never_shows_half(tmp_path):
    data_dir = tmp_path / "data"
    document = write_long_markdown(tmp_path / "docs" / "超长手册.md", sections=SECTIONS)
    env = {**os.environ, "COACH_DATA_DIR": str(data_dir), "COACH_INGEST__BATCH_PASSAGES": str(BATCH)}
    log = tmp_path / "killed.err"
    killed = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "ingest", str(document), "--collection", "general"],
        cwd=REPO,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=log.open("w"),
    )
    database = data_dir / "coach.sqlite3"
    deadline = time.monotonic() + 600
    while not database.exists():
        assert killed.poll() is None and time.monotonic() < deadline, log.read_text("utf-8")
        time.sleep(0.2)
    engine = create_database_engine(f"sqlite:///{database}")
    staged = 0
    try:
        while staged < 2 * BATCH:
            assert killed.poll() is None, log.read_text("utf-8")
            assert time.monotonic() < deadline, log.read_text("utf-8")
            time.sleep(0.1)
            with engine.connect() as connection:
                try:
                    staged = connection.scalar(select(func.count()).select_from(StagedChunk.__table__)) or 0
                    searchable = connection.scalar(select(func.count()).select_from(KnowledgeChunk.__table__))
                except Exception:  # the schema is not there yet
                    continue
            assert searchable == 0  # while it is being written, nothing of the document is searchable
        os.kill(killed.pid, signal.SIGKILL)
        killed.wait(30)
    finally:
        engine.dispose()
    assert f"超长手册.md: 0/{SECTIONS} 段" in log.read_text("utf-8")  # not a terminal: progress as lines on stderr

    services, counting = _services(data_dir)
    with services.uow.read() as session:
        stored = _count(session, StagedChunk)
        assert _count(session, EmbeddingVector) == stored  # each committed batch holds its passages' vectors
        assert _count(session, KnowledgeDocument) == 0 and _count(session, KnowledgeChunk) == 0
        assert _count(session, StagedDocument) == 1
    assert stored % BATCH == 0 and 2 * BATCH <= stored < SECTIONS
    for section in (0, SECTIONS - 1):  # neither a stored nor a missing passage is found
        assert services.search.search(f"本节标记 {marker(section)}", k=3).passages == ()
    assert services.dense is not None and services.dense.all_ids() == set()

    lines = io.StringIO()
    report = services.ingest_pipeline().run([document], collection="general", progress=StderrProgress(lines, tty=False))

    assert report.count("added") == 1
    assert counting.passages == SECTIONS - stored  # the stored batches' vectors were reused, not recomputed
    with services.uow.read() as session:
        ids = services.repository.all_chunk_ids(session)
        assert len(ids) == SECTIONS
        assert _count(session, StagedChunk) == _count(session, StagedDocument) == 0
        assert _count(session, EmbeddingVector) == 0  # cached vectors go once their document is complete
    assert services.dense.all_ids() == ids
    for section in (0, SECTIONS - 1):
        found = services.search.search(f"本节标记 {marker(section)}", k=3)
        assert found.passages and marker(section) in found.passages[0].text
    shown = lines.getvalue().splitlines()
    assert shown[0] == f"超长手册.md: {stored}/{SECTIONS} 段(其中 {stored} 段上次已完成)"
    assert shown[-1].startswith(f"超长手册.md: {SECTIONS}/{SECTIONS} 段(其中 {stored} 段上次已完成),")
    assert "段/秒" in shown[-1]


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest) -> str:
    return "" if request.param == "sqlite" else request.getfixturevalue("empty_postgres")


def test_a_file_changed_after_a_stop_reembeds_only_its_changed_passages(database_url, tmp_path):
    """A run stopped (an operator's Ctrl-C) after three batches; the file is then edited in one section. The
    staged version of the old content is dropped, but vectors are keyed by the text embedded: the re-run embeds
    the edited passage and the passages never embedded, not the unchanged ones. On both databases."""
    services, counting = _services(tmp_path / "data", database_url)
    document = write_long_markdown(tmp_path / "docs" / "手册.md", sections=32)
    real = counting.inner

    class StopsAfterThreeBatches(Embeddings):
        calls = 0

        def embed_documents(self, texts: list[str]) -> list[list[float]]:
            self.calls += 1
            if self.calls > 3:
                raise KeyboardInterrupt  # an operator's Ctrl-C mid-document
            return real.embed_documents(texts)

        def embed_query(self, text: str) -> list[float]:
            return real.embed_query(text)

    counting.inner = StopsAfterThreeBatches()
    with pytest.raises(KeyboardInterrupt):
        services.ingest_pipeline().run([document], collection="general")
    counting.inner = real
    text = document.read_text("utf-8")
    edited = text.replace(f"本节标记 {marker(1)}。", f"本节标记 {marker(1)}。新增一句:受理后必须当天回电。")
    assert edited != text
    document.write_text(edited, encoding="utf-8")
    counting.passages = 0

    services.ingest_pipeline().run([document], collection="general")

    assert counting.passages == 32 - 3 * BATCH + 1
    with services.uow.read() as session:
        assert len(services.repository.all_chunk_ids(session)) == 32
        assert _count(session, EmbeddingVector) == 0
    assert "当天回电" in services.search.search(f"本节标记 {marker(1)}", k=1).passages[0].text
