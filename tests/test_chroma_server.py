"""The dense index against a real Chroma server (`chroma run` on loopback), as deployments use it."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from app.composition import Services
from tests.conftest import make_settings

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def chroma_server(tmp_path):
    executable = shutil.which("chroma") or str(Path(sys.executable).parent / "chroma")
    if not Path(executable).exists():
        pytest.skip("the chroma command (from the chromadb package) is not installed")
    port = _free_port()
    process = subprocess.Popen(
        [executable, "run", "--path", str(tmp_path / "server"), "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/api/v2/heartbeat", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        else:
            pytest.fail("chroma server did not start within 30 s")
        yield port
    finally:
        process.terminate()
        process.wait(timeout=10)


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
