"""The Chroma dense index: one Chroma collection per knowledge collection, on an embedded store and a Chroma server.

Vectors come from a fake embedding (fixed directions per text), so what is nearest is known exactly.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import chromadb
import numpy as np
import pytest
from chromadb.api.models.Collection import Collection
from chromadb.errors import ChromaError
from langchain_core.embeddings import Embeddings

from app.composition import Services
from app.settings import COLLECTIONS
from knowledge.vector_store import EF_SEARCH, ChromaDenseIndex, DenseDocument, open_chroma_client
from tests.conftest import make_settings
from tests.support.chroma_server import running_chroma_server


class _DirectionEmbeddings(Embeddings):
    """Each text is its vector: "x y z" → the unit vector of (x, y, z). Counts what it embeds."""

    def __init__(self) -> None:
        self.embedded: list[str] = []

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        self.embedded.extend(texts)
        return [self._vector(t) for t in texts]

    def embed_query(self, text: str) -> list[float]:
        return self._vector(text)

    @staticmethod
    def _vector(text: str) -> list[float]:
        v = np.array([float(x) for x in text.split()])
        return (v / np.linalg.norm(v)).tolist()


@pytest.fixture(scope="module")
def chroma_server_port(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    with running_chroma_server(tmp_path_factory.mktemp("chroma-server")) as port:
        yield port


@pytest.fixture(params=["embedded", pytest.param("server", marks=pytest.mark.slow)])
def client(request: pytest.FixtureRequest, tmp_path: Path) -> chromadb.ClientAPI:
    if request.param == "server":
        port = request.getfixturevalue("chroma_server_port")
        return open_chroma_client(mode="server", path=tmp_path / "unused", host="127.0.0.1", port=port)
    return open_chroma_client(mode="embedded", path=tmp_path / "chroma", host="", port=0)


@pytest.fixture
def name() -> str:
    """A model prefix of its own per test (the server's collections outlive a test)."""
    return f"knowledge-test{uuid.uuid4().hex[:8]}"


def _index(client: chromadb.ClientAPI, name: str, embeddings: Embeddings | None = None) -> ChromaDenseIndex:
    return ChromaDenseIndex(
        client=client, embeddings=embeddings or _DirectionEmbeddings(), name=name, collections=COLLECTIONS
    )


# Passages around the x axis in three knowledge collections; the nearest to "1 0 0" overall is in courses.
PASSAGES = [
    DenseDocument("case-near", "cases", "1 0.3 0"),
    DenseDocument("case-far", "cases", "0 1 0"),
    DenseDocument("course-nearest", "courses", "1 0.1 0"),
    DenseDocument("process-mid", "processes", "1 1 0"),
]


def test_a_search_limited_to_one_collection_finds_only_its_passages(client, name):
    index = _index(client, name)
    index.add(PASSAGES)
    found = index.search("1 0 0", k=5, collections=["cases"])
    assert set(found) == {"case-near", "case-far"}
    assert found["case-near"] > found["case-far"]


def test_an_unlimited_search_keeps_the_k_nearest_of_every_collection(client, name):
    index = _index(client, name)
    index.add(PASSAGES)
    found = index.search("1 0 0", k=2)
    assert list(sorted(found, key=lambda i: -found[i])) == ["course-nearest", "case-near"]
    assert found["course-nearest"] == pytest.approx(1 / np.linalg.norm([1, 0.1, 0]), abs=1e-4)  # cosine
    assert set(index.search("1 0 0", k=10, collections=[])) == {d.chunk_id for d in PASSAGES}


def test_a_search_over_two_collections_merges_them_and_ignores_unknown_names(client, name):
    index = _index(client, name)
    index.add(PASSAGES)
    found = index.search("1 0 0", k=2, collections=["processes", "cases", "nonsense"])
    assert list(sorted(found, key=lambda i: -found[i])) == ["case-near", "process-mid"]
    assert index.search("1 0 0", k=5, collections=["nonsense"]) == {}
    assert index.search("1 0 0", k=5, collections=["general"]) == {}  # a collection with no passages yet


def test_all_ids_and_delete_cover_every_collection(client, name):
    index = _index(client, name)
    index.add(PASSAGES)
    assert index.all_ids() == {d.chunk_id for d in PASSAGES}
    index.delete(["case-far", "course-nearest", "never-stored"])
    assert index.all_ids() == {"case-near", "process-mid"}
    assert "course-nearest" not in index.search("1 0 0", k=5)
    assert index.search("1 0 0", k=5, collections=["courses"]) == {}


def test_a_chunk_stored_again_under_another_collection_moves_there(client, name):
    index = _index(client, name)
    index.add(PASSAGES)
    index.add([DenseDocument("case-near", "general", "1 0.3 0")])
    assert "case-near" not in index.search("1 0 0", k=5, collections=["cases"])
    assert set(index.search("1 0 0", k=5, collections=["general"])) == {"case-near"}
    assert len(index.all_ids()) == len(PASSAGES)


def test_an_unknown_collection_is_refused_when_storing(client, name):
    index = _index(client, name)
    with pytest.raises(ValueError, match="nonsense"):
        index.add([DenseDocument("x", "nonsense", "1 0 0")])


def test_precomputed_vectors_are_stored_per_collection(client, name):
    embeddings = _DirectionEmbeddings()
    index = _index(client, name, embeddings)
    vectors = np.array([[1, 0, 0], [0, 1, 0]], dtype=np.float32)
    index.add_vectors([DenseDocument("a", "cases", ""), DenseDocument("b", "general", "")], vectors)
    assert embeddings.embedded == []
    assert set(index.search_by_vector([1.0, 0.0, 0.0], k=5, collections=["general"])) == {"b"}
    assert index.search_by_vector([1.0, 0.0, 0.0], k=1)["a"] == pytest.approx(1.0, abs=1e-5)


def _write_single_collection_store(client: chromadb.ClientAPI, name: str) -> None:
    """What the index wrote before: one collection called `name`, the knowledge collection in the metadata."""
    single = client.create_collection(name, configuration={"hnsw": {"space": "cosine"}})
    single.add(
        ids=[d.chunk_id for d in PASSAGES] + ["orphan"],
        embeddings=np.array(
            [_DirectionEmbeddings._vector(d.text) for d in PASSAGES] + [[0.0, 0.0, 1.0]], dtype=np.float32
        ),
        documents=[d.text for d in PASSAGES] + ["?"],
        metadatas=[{"collection": d.collection} for d in PASSAGES] + [{"collection": "retired"}],
    )


def test_a_single_collection_store_is_moved_without_embedding_again(client, name):
    _write_single_collection_store(client, name)
    embeddings = _DirectionEmbeddings()
    index = _index(client, name, embeddings)
    assert index.migrate_single_collection() == len(PASSAGES)  # the unknown collection's vector is left out
    assert embeddings.embedded == []
    assert index.all_ids() == {d.chunk_id for d in PASSAGES}
    assert set(index.search("1 0 0", k=5, collections=["cases"])) == {"case-near", "case-far"}
    assert name not in {c.name for c in client.list_collections()}
    assert index.migrate_single_collection() == 0
    assert _index(client, name).all_ids() == {d.chunk_id for d in PASSAGES}  # a second process sees the same


def test_collections_get_the_configured_hnsw_search_breadth(client, name):
    _index(client, name)
    stored = client.get_collection(f"{name}.cases").configuration["hnsw"]
    assert stored["ef_search"] == EF_SEARCH
    assert stored["space"] == "cosine"
    ChromaDenseIndex(client=client, embeddings=_DirectionEmbeddings(), name=name, collections=["cases"], ef_search=321)
    assert client.get_collection(f"{name}.cases").configuration["hnsw"]["ef_search"] == 321


def test_a_store_that_refuses_the_new_search_breadth_still_opens(client, name, monkeypatch, caplog):
    _index(client, name)

    def busy(self, **_: object) -> None:
        raise ChromaError("database is locked")

    monkeypatch.setattr(Collection, "modify", busy)
    index = ChromaDenseIndex(
        client=client, embeddings=_DirectionEmbeddings(), name=name, collections=COLLECTIONS, ef_search=321
    )
    index.add(PASSAGES)
    assert set(index.search("1 0 0", k=1)) == {"course-nearest"}
    assert "ef_search=321" in caplog.text


def test_services_move_an_embedded_single_collection_store_when_they_open_it(tmp_path):
    settings = make_settings(tmp_path / "data")
    name = "knowledge-multilingual-e5-small"
    _write_single_collection_store(open_chroma_client(mode="embedded", path=settings.chroma_dir, host="", port=0), name)
    dense = Services(settings).dense
    assert dense is not None
    assert dense.all_ids() == {d.chunk_id for d in PASSAGES}
