"""Two collections ingested at once (each run holds only its own collection's lock) and the reply unit vectors
(`unit_vectors`, shared by every collection, keyed by text): one run's cleanup (`sync_unit_vectors`) never deletes
a vector a passage of the other still needs. Forced interleavings, on SQLite and PostgreSQL; real Chroma, a fake
model counting what it embeds."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest

from app.composition import Services
from ingest.document_writer import DocumentWriter
from storage.unit_vector_repository import UnitVectorRepository
from tests.conftest import make_settings
from tests.support.counting_embeddings import CountingModel
from tests.support.generated_documents import write_long_markdown
from tests.support.postgres import lock_waits
from tests.support.unit_vector_checks import missing_units

pytestmark = pytest.mark.slow


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest) -> str:
    return "" if request.param == "sqlite" else request.getfixturevalue("empty_postgres")


def _services(data_dir: Path, database_url: str, model: CountingModel) -> Services:
    settings = make_settings(data_dir, refresh_seconds=0.0)
    settings = settings.model_copy(
        update={
            "storage": settings.storage.model_copy(update={"database_url": database_url}),
            "vector_store": settings.vector_store.model_copy(update={"mode": "embedded"}),
        }
    )
    assert settings.answer.semantic_weight > 0
    services = Services(settings)
    services.embeddings = model  # type: ignore[misc] — before the dense index is built with it
    return services


def _until_blocked_or_done(thread: threading.Thread, database_url: str) -> None:
    """Until `thread` ended or waits on a lock (PostgreSQL: seen in pg_stat_activity; SQLite: after 2 s, on the
    write lock's busy timeout)."""
    deadline = time.monotonic() + (60 if database_url else 2)
    while thread.is_alive() and time.monotonic() < deadline:
        if database_url and lock_waits(database_url) > 0:
            time.sleep(0.3)
            return
        time.sleep(0.1)


def _pause_in(name: str, release: threading.Event, paused: threading.Event) -> Callable[[], None]:
    def pause() -> None:
        if threading.current_thread().name == name and not paused.is_set():
            paused.set()
            assert release.wait(120)

    return pause


@pytest.mark.parametrize("where", ["after_reading_passages", "before_deleting"])
def test_a_cleanup_racing_another_collections_ingest_keeps_its_new_vectors(database_url, tmp_path, monkeypatch, where):
    """Run A (processes) pauses in its cleanup — after reading which units the passages need, or just before
    deleting the others — while run B (cases) ingests a document with units of its own. Before, A deleted B's
    vectors, committed after A read the passages: B's units had no vector (a reply embedded them)."""
    model = CountingModel()
    services = _services(tmp_path / "data", database_url, model)
    a_document = write_long_markdown(tmp_path / "a" / "流程手册.md", sections=4, seed=1, title="流程手册")
    b_document = write_long_markdown(tmp_path / "b" / "案例集.md", sections=4, seed=2, title="案例集")
    release, a_paused = threading.Event(), threading.Event()
    pause = _pause_in("A", release, a_paused)
    if where == "after_reading_passages":
        real_passages = UnitVectorRepository.passages

        def passages(self, session, **kwargs):  # type: ignore[no-untyped-def]
            yield from real_passages(self, session, **kwargs)
            pause()

        monkeypatch.setattr(UnitVectorRepository, "passages", passages)
    else:
        real_prune = UnitVectorRepository.prune

        def prune(self, session, **kwargs):  # type: ignore[no-untyped-def]
            pause()
            return real_prune(self, session, **kwargs)

        monkeypatch.setattr(UnitVectorRepository, "prune", prune)
    errors: dict[str, BaseException] = {}

    def run(document: Path, collection: str) -> None:
        try:
            services.ingest_pipeline().run([document], collection=collection)
        except BaseException as exc:  # the test reports it
            errors[threading.current_thread().name] = exc

    a = threading.Thread(target=run, args=(a_document, "processes"), name="A")
    a.start()
    assert a_paused.wait(120), errors
    b = threading.Thread(target=run, args=(b_document, "cases"), name="B")
    b.start()
    _until_blocked_or_done(b, database_url)
    release.set()
    a.join(120)
    b.join(120)

    assert errors == {}
    assert missing_units(services) == set()  # before: B's units, deleted by A's cleanup
    assert [t for t, n in Counter(model.documents).items() if n > 1] == []


def test_a_vector_a_writer_found_stored_is_stored_again_if_a_cleanup_deleted_it(database_url, tmp_path, monkeypatch):
    """Run B (cases) finds a unit's vector stored — the same title and sentence as a passage of processes — and
    pauses before its commit; run A (processes) meanwhile replaces that passage and its cleanup deletes the vector,
    needed by no committed passage. B then commits: before, its passage had no vector until B's own cleanup
    embedded it again; now B stores it with its passages (the bytes it read), nothing embedded twice."""
    model = CountingModel()
    services = _services(tmp_path / "data", database_url, model)
    shared = "客户经理应在当天回访投诉工单,并把结果上报给团队主管。"
    a_file, b_file = tmp_path / "a" / "手册.md", tmp_path / "b" / "手册.md"
    a_file.parent.mkdir()
    b_file.parent.mkdir()
    a_file.write_text(f"# 投诉手册\n\n## 回访\n\n{shared}\n", encoding="utf-8")
    b_file.write_text(f"# 投诉手册\n\n## 案例\n\n{shared}受理后两小时内登记。\n\n另一段:柜员核对客户档案。\n", "utf-8")
    services.ingest_pipeline().run([a_file], collection="processes")

    release, b_paused = threading.Event(), threading.Event()
    pause = _pause_in("B", release, b_paused)
    real_units = DocumentWriter._unit_vectors

    def unit_vectors(self, passages):  # type: ignore[no-untyped-def]
        found = real_units(self, passages)
        pause()
        return found

    monkeypatch.setattr(DocumentWriter, "_unit_vectors", unit_vectors)
    errors: list[BaseException] = []

    def run_b() -> None:
        try:
            services.ingest_pipeline().run([b_file], collection="cases")
        except BaseException as exc:  # the test reports it
            errors.append(exc)

    b = threading.Thread(target=run_b, name="B")
    b.start()
    assert b_paused.wait(120), errors
    a_file.write_text("# 投诉手册\n\n## 回访\n\n理财顾问应在月底前整理客户档案。\n", encoding="utf-8")
    services.ingest_pipeline().run([a_file], collection="processes")
    release.set()
    b.join(120)

    assert errors == []
    assert missing_units(services) == set()
    assert [t for t, n in Counter(model.documents).items() if n > 1] == []  # before: B's cleanup embedded it again
