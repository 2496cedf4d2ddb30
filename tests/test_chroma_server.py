"""The dense index against a real Chroma server (`chroma run` on loopback), as deployments use it."""

from __future__ import annotations

import pytest

from app.composition import Services
from tests.conftest import make_settings
from tests.support.chroma_server import running_chroma_server

pytestmark = pytest.mark.slow


@pytest.fixture
def chroma_server(tmp_path):
    with running_chroma_server(tmp_path / "server") as port:
        yield port


def test_ingest_and_dense_search_through_a_chroma_server(tmp_path, chroma_server):
    settings = make_settings(tmp_path / "data", dense_weight=0.2)
    settings = settings.model_copy(
        update={"vector_store": settings.vector_store.model_copy(update={"mode": "server", "port": chroma_server})}
    )
    doc = tmp_path / "kpi.md"
    doc.write_text("# 客户经理KPI\n\n## 权重\n\n常规KPI指标占80%,临时任务占20%。\n", encoding="utf-8")
    services = Services(settings)
    report = services.ingest_pipeline().run([doc], collection="processes")
    assert report.outcomes[0].status == "added"
    assert not (tmp_path / "data" / "chroma").exists()  # nothing embedded on disk: the server holds it
    assert services.dense is not None
    with services.uow.read() as session:
        assert services.dense.all_ids() == services.repository.all_chunk_ids(session)
    result = services.search.search("KPI权重", k=3)
    assert result.passages[0].source == "kpi.md"
