"""Integration: real files of every format → real SQLite + real Chroma → search finds them."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.composition import Services
from ingest.pipeline import reconcile_dense_index
from knowledge.vector_store import DenseDocument
from tests.support.documents import write_docx, write_pdf, write_pptx

pytestmark = pytest.mark.slow


def _library(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    write_docx(
        folder / "晋级流程.docx",
        "客户经理晋级流程",
        [
            "晋级每半年评审一次,必须逐级晋级,不得跨级。",
            "直接上司与跨级上司分别评估,权重各占百分之五十。",
        ],
    )
    write_pptx(
        folder / "谈判课.pptx",
        [
            ("初级谈判课", "七种技巧:听、问、答、叙、看、辩、说。不轻易承诺,守住底线。"),
            ("中级谈判课", "博弈论与商务谈判:让步要分成几小步,让对方觉得每一步都来之不易。"),
        ],
    )
    write_pdf(folder / "满意度.pdf", ["客户满意取决于客户期望与感知价值的比较。", "每发生一次投诉,满意度扣两分。"])
    (folder / "案例.md").write_text(
        "# 来电提醒深度运营\n\n## 做法\n\n建立投诉档案,按投诉改进产品,再做精准营销。\n", encoding="utf-8"
    )
    (folder / "规定.html").write_text(
        "<html><head><title>投诉处理</title><script>var x=1;</script></head><body><h1>投诉处理流程</h1>"
        "<p>客户经理受理投诉后二十四小时内回访客户。</p></body></html>",
        encoding="utf-8",
    )
    (folder / "说明.txt").write_text("ARPU 是每用户平均收入,KPI 考核里占一定权重。", encoding="utf-8")
    (folder / "坏文件.docx").write_bytes(b"this is not a zip file at all")
    write_pdf(folder / "加密.pdf", ["机密内容"], password="secret")
    (folder / "空白.md").write_text("   \n\n", encoding="utf-8")
    return folder


def test_every_format_is_indexed_and_bad_files_are_reported(settings, tmp_path):
    services = Services(settings)
    report = services.ingest_pipeline().run([_library(tmp_path / "lib")], collection="processes")

    by_name = {Path(o.path).name: o for o in report.outcomes}
    for name in ("晋级流程.docx", "谈判课.pptx", "满意度.pdf", "案例.md", "规定.html", "说明.txt"):
        assert by_name[name].status == "added", (name, by_name[name])
        assert by_name[name].chunks >= 1
    assert by_name["坏文件.docx"].status == "skipped" and by_name["坏文件.docx"].code == "corrupt"
    assert by_name["加密.pdf"].code == "encrypted"
    assert by_name["空白.md"].code == "empty"
    assert all(o.reason for o in report.outcomes if o.status == "skipped")

    search = services.search
    cases = {
        "隔级领导打分占多少": "晋级流程.docx",
        "初级谈判七种技巧": "谈判课.pptx",
        "投诉一次满意度扣几分": "满意度.pdf",
        "来电提醒投诉档案": "案例.md",
        "投诉后多久回访": "规定.html",
        "ARPU是什么": "说明.txt",
    }
    for question, expected in cases.items():
        result = search.search(question, k=3)
        assert not result.abstained, question
        assert result.passages[0].source == expected, (question, result.passages[0])

    # the dense side holds exactly the stored chunks
    assert services.dense is not None
    with services.uow.read() as session:
        stored = services.repository.all_chunk_ids(session)
    assert services.dense.all_ids() == stored


def test_rerun_is_idempotent_changes_replace_and_prune_removes(settings, tmp_path):
    folder = _library(tmp_path / "lib")
    services = Services(settings)
    pipeline = services.ingest_pipeline()
    pipeline.run([folder], collection="processes")
    with services.uow.read() as session:
        before = services.repository.all_chunk_ids(session)

    again = pipeline.run([folder], collection="processes")
    assert {o.status for o in again.outcomes} <= {"unchanged", "skipped"}
    assert not again.changed

    (folder / "说明.txt").write_text("SLA 是前后端之间的服务等级协议。", encoding="utf-8")
    (folder / "案例.md").unlink()
    changed = pipeline.run([folder], collection="processes", prune=True)
    statuses = {Path(o.path).name: o.status for o in changed.outcomes}
    assert statuses["说明.txt"] == "updated"
    assert statuses["案例.md"] == "removed"

    with services.uow.read() as session:
        after = services.repository.all_chunk_ids(session)
    assert after != before
    assert services.dense is not None and services.dense.all_ids() == after
    assert services.search.search("ARPU是什么", k=3).abstained
    assert services.search.search("SLA服务等级协议", k=3).passages[0].source == "说明.txt"
    assert services.search.search("来电提醒投诉档案", k=3).abstained


def test_a_failed_store_leaves_the_knowledge_base_as_it_was(settings, tmp_path, monkeypatch):
    folder = _library(tmp_path / "lib")
    services = Services(settings)
    services.ingest_pipeline().run([folder / "说明.txt"], collection="general")
    with services.uow.read() as session:
        before = services.repository.all_chunk_ids(session)
        generation = services.repository.generation(session)

    def broken_bump(session):
        raise RuntimeError("disk full")

    monkeypatch.setattr(services.repository, "bump_generation", broken_bump)
    with pytest.raises(RuntimeError):
        services.ingest_pipeline().run([folder], collection="general")
    monkeypatch.undo()

    with services.uow.read() as session:
        assert services.repository.all_chunk_ids(session) == before
        assert services.repository.generation(session) == generation
    assert services.dense is not None
    assert services.dense.all_ids() == before  # vectors added before the failed commit were taken back


def test_reconcile_repairs_a_dense_index_after_a_crash(settings, tmp_path):
    services = Services(settings)
    services.ingest_pipeline().run([_library(tmp_path / "lib") / "说明.txt"], collection="general")
    dense = services.dense
    assert dense is not None
    dense.add([DenseDocument("orphan-1", "general", "崩溃时留下的孤儿向量")])
    with services.uow.read() as session:
        stored = sorted(services.repository.all_chunk_ids(session))
    dense.delete(stored[:1])

    removed, added = reconcile_dense_index(uow=services.uow, repository=services.repository, dense=dense)

    assert (removed, added) == (1, 1)
    assert dense.all_ids() == set(stored)


def test_a_running_worker_picks_up_an_ingest_made_by_another_process(settings, tmp_path):
    """Two Services on one database stand for a bot worker and an ingest job (separate data folders, as in
    docker-compose): the worker answers from its old index until the job's change reaches it, then from the new."""
    database_url = f"sqlite:///{tmp_path / 'shared.sqlite3'}"
    retrieval = settings.retrieval.model_copy(update={"refresh_seconds": 0.0})
    storage = settings.storage.model_copy(update={"database_url": database_url})
    off = settings.vector_store.model_copy(update={"mode": "off"})

    def process(name: str) -> Services:
        return Services(
            settings.model_copy(
                update={"data_dir": tmp_path / name, "storage": storage, "retrieval": retrieval, "vector_store": off}
            )
        )

    worker, job = process("worker"), process("ingest-job")
    folder = tmp_path / "lib"
    folder.mkdir()
    (folder / "说明.txt").write_text("ARPU 是每用户平均收入,KPI 考核里占一定权重。", encoding="utf-8")
    job.ingest_pipeline().run([folder], collection="general")
    assert worker.search.search("ARPU是什么", k=3).passages[0].source == "说明.txt"

    (folder / "说明.txt").write_text("SLA 是前后端之间的服务等级协议。", encoding="utf-8")
    job.ingest_pipeline().run([folder], collection="general")

    stale = worker.search.search("ARPU是什么", k=3)  # the rebuild starts; the old index answers meanwhile
    assert stale.abstained or stale.passages == ()  # its chunk is gone from the database: never shown
    worker.fresh_search.wait_for_rebuild(30)
    assert worker.search.search("SLA服务等级协议", k=3).passages[0].source == "说明.txt"
    assert worker.search.search("ARPU是什么", k=3).abstained
