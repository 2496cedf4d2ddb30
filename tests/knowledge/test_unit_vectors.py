"""Reply unit vectors stored at ingest (`knowledge.unit_vectors`): a fresh process answers without embedding a unit,
a miss is embedded once and stored, the vectors of replaced passages go, and with the dense side off nothing is
stored or embedded. Real SQLite and Chroma, a fake model counting its calls."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import delete, func, select

from app.composition import Services
from knowledge.answer import compose_answer
from knowledge.embeddings import RememberingEmbeddings
from knowledge.unit_similarity import EmbeddingUnitSimilarity
from knowledge.unit_vectors import passage_unit_texts
from storage.models import KnowledgeChunk, KnowledgeDocument, UnitVector
from tests.conftest import make_settings
from tests.support.counting_embeddings import CountingModel

DOCUMENT = """# 投诉处理手册

## 处理步骤

投诉处理流程很重要,每位客户经理都要把投诉处理做规范。处理时先倾听客户说完,再道歉并当场给出补救方案。

## 回访

处理完毕后三天内回访客户,确认问题已经解决。回访记录要写进系统。
"""


def _services(data_dir: Path, *, mode: str = "embedded") -> tuple[Services, CountingModel]:
    settings = make_settings(data_dir, refresh_seconds=0.0)
    settings = settings.model_copy(update={"vector_store": settings.vector_store.model_copy(update={"mode": mode})})
    services, model = Services(settings), CountingModel()
    services.embeddings = model  # type: ignore[misc] — before the dense index and the similarity are built
    return services, model


def _ingest(services: Services, folder: Path, text: str = DOCUMENT) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "投诉处理手册.md").write_text(text, encoding="utf-8")
    services.ingest_pipeline().run([folder], collection="processes")


def _stored(services: Services) -> int:
    with services.uow.read() as session:
        return int(session.scalar(select(func.count()).select_from(UnitVector)) or 0)


def _unit_texts(services: Services) -> set[str]:
    with services.uow.read() as session:
        rows = session.execute(select(KnowledgeDocument.title, KnowledgeChunk.text).join(KnowledgeDocument))
        return {t for title, text in rows for t in passage_unit_texts(title, text)}


def test_a_fresh_process_replies_from_the_vectors_stored_at_ingest(tmp_path: Path) -> None:
    first, model = _services(tmp_path / "data")
    _ingest(first, tmp_path / "docs")
    units = _unit_texts(first)
    assert units and _stored(first) == len(units)
    assert units <= set(model.documents)  # embedded at ingest, all cores

    fresh, model = _services(tmp_path / "data")
    reply = fresh.ask("投诉处理怎么做?")
    assert reply.found
    assert model.few == [] and model.documents == []  # no unit embedded: every one was stored
    unstored = EmbeddingUnitSimilarity(RememberingEmbeddings(CountingModel()))  # the reply as computed in memory
    assert compose_answer(fresh.search.search("投诉处理怎么做?", k=5), similarity=unstored) == reply


def test_a_missing_vector_is_embedded_once_and_stored(tmp_path: Path) -> None:
    first, _ = _services(tmp_path / "data")
    _ingest(first, tmp_path / "docs")
    with first.uow.begin() as session:
        session.execute(delete(UnitVector))  # as ingested before unit vectors were stored

    second, model = _services(tmp_path / "data")
    second.ask("投诉处理怎么做?")
    assert model.few and _stored(second) == len(set(model.few))

    third, model = _services(tmp_path / "data")
    third.ask("投诉处理怎么做?")
    assert model.few == []


def test_an_ingest_run_stores_the_missing_and_drops_the_vectors_of_replaced_passages(tmp_path: Path) -> None:
    services, _ = _services(tmp_path / "data")
    _ingest(services, tmp_path / "docs")
    with services.uow.begin() as session:
        session.execute(delete(UnitVector))
    services.ingest_pipeline().run([tmp_path / "docs"], collection="processes")  # nothing changed: filled in
    assert _stored(services) == len(_unit_texts(services))

    _ingest(services, tmp_path / "docs", DOCUMENT.replace("三天内", "两天内"))
    assert _stored(services) == len(_unit_texts(services))  # the old 三天内 units are gone


def test_with_the_dense_side_off_nothing_is_stored_or_embedded(tmp_path: Path) -> None:
    services, model = _services(tmp_path / "data", mode="off")
    _ingest(services, tmp_path / "docs")
    assert services.ask("投诉处理怎么做?").found
    assert _stored(services) == 0 and model.documents == [] and model.few == []
