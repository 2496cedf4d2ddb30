"""The caches never break what they speed up, faults injected for real: a lexical cache file of the wrong shape or
naming a missing module, an unwritable `lexical/` folder (a read-only bind mount as root), a deleted Chroma
folder, orphan vectors a killed ingest left. Search keeps answering, the log says what happened, `coach db check`
reports the differences and `coach ingest --repair` fixes them."""

from __future__ import annotations

import hashlib
import logging
import shutil
from pathlib import Path

import numpy as np
import pytest
from chromadb.api.shared_system_client import SharedSystemClient
from langchain_core.embeddings import Embeddings

from app.cli import main
from app.composition import Services
from app.health import check_vector_store
from app.index_commands import cmd_db_check, cmd_ingest_repair
from knowledge.dense_guard import RETRY_SECONDS, GuardedDenseIndex
from knowledge.lexical_store import LEGACY_PICKLE_NAME
from knowledge.vector_store import DenseDocument
from tests.conftest import make_settings
from tests.support.read_only import read_only_folder

DOCS = {
    "晋级.md": "# 客户经理晋级流程\n\n## 原则\n\n晋级逐级进行,不得跨级,每半年评审一次。\n\n"
    "## 评估\n\n直接上司和跨级上司分别评估,权重各为50%。\n",
    "投诉.md": "# 投诉处理\n\n## 时限\n\n客户经理受理投诉后二十四小时内回访客户,两个工作日内给出处理结果。\n",
    "谈判.md": "# 中级谈判课\n\n## 让步\n\n确需让步时分几次小步让出,让对方觉得每一步都来之不易。\n",
}
QUESTION = "晋级能跨级吗"


class _CharacterEmbeddings(Embeddings):
    """A bag of characters hashed into 64 dimensions: texts sharing characters are near (no model to load)."""

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return [self.embed_query(t) for t in texts]

    def embed_query(self, text: str) -> list[float]:
        v = np.zeros(64)
        for ch in text:
            v[hashlib.blake2b(ch.encode(), digest_size=2).digest()[0] % 64] += 1.0
        return (v / (np.linalg.norm(v) or 1.0)).tolist()


def _services(data: Path) -> Services:
    """Services as a new process would build them (Chroma's per-path client cache cleared)."""
    SharedSystemClient.clear_system_cache()
    services = Services(make_settings(data))
    services.__dict__["embeddings"] = _CharacterEmbeddings()
    return services


@pytest.fixture
def docs(tmp_path: Path) -> Path:
    folder = tmp_path / "docs"
    folder.mkdir()
    for name, text in DOCS.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


@pytest.fixture
def data(tmp_path: Path, docs: Path) -> Path:
    """A data folder with the documents ingested, vectors included."""
    data = tmp_path / "data"
    services = _services(data)
    services.ingest_pipeline().run([docs], collection="processes")
    services.search  # noqa: B018 — writes the lexical cache
    return data


def _generation(data: Path) -> int:
    services = _services(data)
    with services.uow.read() as session:
        return services.repository.generation(session)


def _ranking(services: Services) -> list[tuple[str, float]]:
    return [(p.chunk_id, p.score) for p in services.search.search(QUESTION, k=5).passages]


def test_a_deleted_chroma_folder_is_said_checked_and_repaired(data, capsys, caplog):
    with_vectors = _ranking(_services(data))
    shutil.rmtree(data / "chroma")
    services = _services(data)
    with caplog.at_level(logging.WARNING, logger="knowledge.dense_guard"):
        lexical_only = _ranking(services)
    assert lexical_only and "不得跨级" in services.search.search(QUESTION, k=1).passages[0].text
    passages = services.dense_status.split(" vectors for ")[1]  # "0 vectors for N passages"
    assert services.dense_status.startswith("0 vectors for ")
    assert any("holds 0 vectors for" in r.getMessage() and "--repair" in r.getMessage() for r in caplog.records)
    check = check_vector_store(services)
    assert check.ok and "0 vectors for" in check.detail and "coach ingest --repair" in check.detail

    capsys.readouterr()
    assert cmd_db_check(services) == 1
    out = capsys.readouterr().out
    assert "向量索引: 0 个向量" in out and f"缺少 {passages.split()[0]} 段的向量" in out
    assert "coach ingest --repair" in out

    assert cmd_ingest_repair(services) == 0
    assert f"补上 {passages.split()[0]} 段的向量" in capsys.readouterr().out
    repaired = _services(data)
    assert cmd_db_check(repaired) == 0
    assert "与知识库一致" in capsys.readouterr().out
    assert _ranking(repaired) == with_vectors  # the same ranking as before the folder was lost
    assert repaired.dense_status == ""


def test_orphan_vectors_from_a_killed_ingest_do_not_shift_scores(data, capsys, caplog):
    services = _services(data)
    before = _ranking(services)
    assert services.dense is not None
    # what an ingest killed between adding its vectors and committing leaves: vectors of no stored passage, here
    # as near the question as can be and far from it, so the dense side's min-max normalisation would move
    orphans = [
        DenseDocument("orphan-near", "processes", QUESTION),
        DenseDocument("orphan-far", "processes", "ZZZZ 9999 ####"),
    ]
    services.dense.add(orphans)
    restarted = _services(data)
    with caplog.at_level(logging.WARNING, logger="knowledge.dense_guard"):
        after = _ranking(restarted)
    assert after == before
    assert "2 vectors more than passages" in restarted.dense_status
    assert any("orphan-near" in r.getMessage() or "orphan-far" in r.getMessage() for r in caplog.records)

    capsys.readouterr()
    assert cmd_db_check(restarted) == 1
    assert "多余 2 个向量" in capsys.readouterr().out
    assert cmd_ingest_repair(restarted) == 0
    assert "删除多余向量 2 个" in capsys.readouterr().out
    assert restarted.dense is not None and not {"orphan-near", "orphan-far"} & restarted.dense.all_ids()


def _lexical_only(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COACH_VECTOR_STORE__MODE", "off")


def _search_cli(data: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    """`coach search` in this process: exit code, output and the log (main() sends the log to stderr)."""
    capsys.readouterr()
    code = main(["--data-dir", str(data), "search", QUESTION])
    out, err = capsys.readouterr()
    return code, out, err


def _wrong_shape(path: Path) -> None:
    with np.load(path, allow_pickle=False) as archive:
        arrays = {name: archive[name] for name in archive.files}
    arrays["words_shape"] = np.asarray([1, 2, 3], dtype=np.int64)
    arrays["bigrams_indptr"] = arrays["bigrams_indptr"][:-5]
    with path.open("wb") as fh:
        np.savez(fh, **arrays)


def _pickle_naming_a_missing_module(path: Path) -> None:
    # protocol 2: GLOBAL "module_gone_since_1_0 LexicalIndex", an empty tuple, REDUCE, STOP
    path.write_bytes(b"\x80\x02cmodule_gone_since_1_0\nLexicalIndex\n)R.")


@pytest.mark.parametrize("damage", [_wrong_shape, _pickle_naming_a_missing_module], ids=["wrong-shape", "pickle"])
def test_a_cache_that_does_not_fit_is_rebuilt_by_coach_search_and_logged(data, damage, capsys, monkeypatch):
    _lexical_only(monkeypatch)
    cache = data / "lexical" / "lexical-index.npz"
    damage(cache)
    damaged = cache.read_bytes()
    code, out, log = _search_cli(data, capsys)
    assert code == 0 and "不得跨级" in out
    assert "does not fit" in log and "rebuilding" in log
    assert cache.read_bytes() != damaged  # written back: the next start loads it
    fits, why = _services(data).lexical_store.inspect(_generation(data))
    assert fits, why
    code, _, log = _search_cli(data, capsys)
    assert code == 0 and "lexical_store" not in log  # the second search found the rebuilt cache fitting


def test_an_unwritable_lexical_folder_does_not_stop_search(data, capsys, monkeypatch):
    _lexical_only(monkeypatch)
    folder = data / "lexical"
    (folder / "lexical-index.npz").unlink()  # nothing cached: search must build and fail to write
    (folder / LEGACY_PICKLE_NAME).write_bytes(b"old")  # and cannot remove the old pickle either
    with read_only_folder(folder):
        code, out, log = _search_cli(data, capsys)
        assert code == 0 and "不得跨级" in out
        assert "could not cache the lexical index" in log and "could not remove" in log
        assert "Traceback" not in log
        assert not list(folder.glob("*.tmp")) and not (folder / "lexical-index.npz").exists()  # nothing half-made
        assert main(["--data-dir", str(data), "db", "check"]) == 0
        assert "关键词索引缓存: 缺失" in capsys.readouterr().out
    capsys.readouterr()
    assert main(["--data-dir", str(data), "ingest", "--repair"]) == 0  # writable again: the repair writes it
    assert "关键词索引缓存: 已重建" in capsys.readouterr().out
    assert _services(data).lexical_store.inspect(_generation(data))[0]


def test_a_read_only_data_folder_searches_lexically_when_chroma_cannot_open(data, caplog, capsys):
    expected = [chunk_id for chunk_id, _ in _ranking(_services(data))][:1]
    with read_only_folder(data):
        services = _services(data)
        with caplog.at_level(logging.WARNING, logger="knowledge.dense_guard"):
            found = [chunk_id for chunk_id, _ in _ranking(services)]
        assert found[:1] == expected  # the lexical side alone still puts the answer first
        assert services.dense_status == "cannot be opened"  # Chroma writes its SQLite even to read
        assert any("cannot be opened, searching lexically only" in r.getMessage() for r in caplog.records)
        assert not any("Traceback" in r.getMessage() for r in caplog.records)
        capsys.readouterr()
        assert cmd_db_check(services) == 1  # the check says so instead of crashing on Chroma's error
        assert f"向量索引: 无法打开 {data / 'chroma'}" in capsys.readouterr().out


def test_a_dense_index_that_could_not_be_opened_is_tried_again_and_used(data, caplog):
    services = _services(data)
    store = services.dense
    assert store is not None
    with services.uow.read() as session:
        known = services.repository.all_chunk_ids(session)
    opened: list[int] = []

    def chroma_server_back_after_a_while():  # type: ignore[no-untyped-def]
        opened.append(1)
        if len(opened) == 1:
            raise ConnectionError("Could not connect to a Chroma server. Are you sure it is running?")
        return store

    now = [0.0]
    guard = GuardedDenseIndex(chroma_server_back_after_a_while, known=known, clock=lambda: now[0])
    with caplog.at_level(logging.WARNING, logger="knowledge.dense_guard"):
        assert guard.search(QUESTION, k=5) == {} and guard.status == "cannot be opened"
    assert any("cannot be opened, searching lexically only (ConnectionError" in r.getMessage() for r in caplog.records)
    now[0] = RETRY_SECONDS / 2
    assert guard.search(QUESTION, k=5) == {} and len(opened) == 1  # not knocking on every question
    now[0] = RETRY_SECONDS
    hits = guard.search(QUESTION, k=5)
    assert hits and set(hits) <= known and guard.status == "" and len(opened) == 2
