"""A deterministic fake embedding model for ingest tests: unit vectors from the text's hash, every text embedded
counted (with the thread that asked), and an optional Ctrl-C when asked for a given text."""

from __future__ import annotations

import hashlib
import threading

import numpy as np
from langchain_core.embeddings import Embeddings


class CountingModel(Embeddings):
    """Counts the texts embedded (`documents`, `few`, `by_thread`); stops (Ctrl-C) when asked for `stop_at`."""

    def __init__(self, stop_at: str | None = None) -> None:
        self.documents: list[str] = []
        self.few: list[str] = []
        self.by_thread: list[tuple[str, str]] = []
        self.queries = 0
        self.stop_at = stop_at
        self._lock = threading.Lock()

    @staticmethod
    def _vector(text: str) -> list[float]:
        seed = int(hashlib.sha256(text.encode()).hexdigest()[:8], 16)
        v = np.random.default_rng(seed).standard_normal(16).astype(np.float32)
        return (v / np.linalg.norm(v)).tolist()

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        if self.stop_at is not None and any(self.stop_at in t for t in texts):
            raise KeyboardInterrupt  # an operator's Ctrl-C mid-document
        with self._lock:
            self.documents.extend(texts)
            self.by_thread.extend((threading.current_thread().name, t) for t in texts)
        return [self._vector(t) for t in texts]

    def embed_few(self, texts: list[str]) -> list[list[float]]:
        with self._lock:
            self.few.extend(texts)
        return [self._vector(t) for t in texts]

    def embed_query(self, text: str) -> list[float]:
        self.queries += 1
        return self._vector("query: " + text)
