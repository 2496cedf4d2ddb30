"""Keeps the lexical index on disk next to the database generation it was built from.

The database is the source of truth; the pickled index is a cache, rebuilt when the generation changed.
"""

from __future__ import annotations

import logging
import os
import pickle
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path

from knowledge.lexical_index import LexicalIndex

log = logging.getLogger(__name__)
IndexRows = Iterable[tuple[str, str, str, str]]


class LexicalIndexStore:
    """Loads the cached index for a generation, or builds it from stored rows and caches it."""

    def __init__(self, *, folder: Path, bigram_weight: float) -> None:
        self.folder = folder
        self.bigram_weight = bigram_weight

    def _path(self) -> Path:
        return self.folder / "lexical-index.pickle"

    def load_or_build(self, *, generation: int, rows: Callable[[], IndexRows]) -> LexicalIndex:
        cached = self._load(generation)
        if cached is not None:
            return cached
        index = build_lexical_index(rows(), bigram_weight=self.bigram_weight)
        self._save(generation, index)
        return index

    def _load(self, generation: int) -> LexicalIndex | None:
        try:
            with self._path().open("rb") as fh:
                stored_generation, stored_weight, index = pickle.load(fh)
        except (OSError, pickle.UnpicklingError, EOFError, ValueError, AttributeError):
            return None
        if stored_generation != generation or stored_weight != self.bigram_weight:
            return None
        return index  # type: ignore[no-any-return]

    def _save(self, generation: int, index: LexicalIndex) -> None:
        """Write atomically: a crash never leaves a half-written cache."""
        self.folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.folder, suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as fh:
                pickle.dump((generation, self.bigram_weight, index), fh, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(tmp, self._path())
        except OSError:
            log.warning("could not cache the lexical index in %s", self.folder, exc_info=True)
            Path(tmp).unlink(missing_ok=True)


def build_lexical_index(rows: IndexRows, *, bigram_weight: float) -> LexicalIndex:
    """An index from (id, collection, space-joined words, space-joined bigrams) rows."""
    return LexicalIndex.from_rows(rows, bigram_weight=bigram_weight)
