"""Keeps the lexical index on disk next to the database generation it was built from.

The database is the source of truth; the file is a cache, rebuilt when it does not fit. It is data only: one
`.npz` archive of numeric arrays (the two fields' sparse matrices) and a JSON member (format version,
generation, bigram weight, chunk ids, collections, vocabularies), read with `allow_pickle=False`, so whoever
can write the data folder can at worst make the worker rebuild — never run code in it. A cache that does not
fit (unreadable, another version, generation or weight, arrays of the wrong shape or out of range) is logged
and rebuilt; the pickle of earlier releases is never opened, only removed.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import numpy as np
from scipy import sparse

from knowledge.lexical_index import LexicalIndex, _Field

log = logging.getLogger(__name__)
IndexRows = Iterable[tuple[str, str, str, str]]
FORMAT_VERSION = 1
CACHE_NAME = "lexical-index.npz"
LEGACY_PICKLE_NAME = "lexical-index.pickle"  # before FORMAT_VERSION 1: executable on load, never read again
_FIELDS = ("words", "bigrams")
_ARRAYS = ("data", "indices", "indptr", "shape")


class CacheMismatch(Exception):
    """The cache file is readable but is not this knowledge base's index (the message says why)."""


class LexicalIndexStore:
    """Loads the cached index for a generation, or builds it from stored rows and caches it."""

    def __init__(self, *, folder: Path, bigram_weight: float) -> None:
        self.folder = folder
        self.bigram_weight = bigram_weight

    @property
    def path(self) -> Path:
        return self.folder / CACHE_NAME

    def load_or_build(self, *, generation: int, rows: Callable[[], IndexRows]) -> LexicalIndex:
        self._remove_legacy_pickle()
        cached, why = self._read(generation)
        if cached is not None:
            return cached
        if why.startswith("damaged"):
            log.warning("lexical index cache %s does not fit (%s); rebuilding", self.path, why)
        else:
            log.info("lexical index cache %s; building it for generation %s", why, generation)
        index = build_lexical_index(rows(), bigram_weight=self.bigram_weight)
        self._save(generation, index)
        return index

    def inspect(self, generation: int) -> tuple[bool, str]:
        """Whether the cache on disk fits `generation`, and what it is (`coach db check`); builds nothing."""
        index, why = self._read(generation)
        return index is not None, why

    def _remove_legacy_pickle(self) -> None:
        legacy = self.folder / LEGACY_PICKLE_NAME
        try:
            if not legacy.exists():
                return
            log.warning("removing %s unread: pickled caches run code when loaded; the index is rebuilt", legacy)
            legacy.unlink()
        except OSError as exc:  # a folder that cannot be read or written: the pickle is never read either way
            log.warning("could not remove %s (it is never read): %s", legacy, exc)

    def _read(self, generation: int) -> tuple[LexicalIndex | None, str]:
        """The cached index when it fits `generation`, else None and why: "missing", "for generation …" (stale)
        or "damaged (…)" — any damage means: rebuild from the database."""
        try:
            if not self.path.is_file():
                return None, "missing"
            with np.load(self.path, allow_pickle=False) as archive:
                arrays = {name: archive[name] for name in archive.files}
            meta = _meta(arrays["meta"]) if "meta" in arrays else {}
            stored_generation, stored_weight = meta.get("generation"), meta.get("bigram_weight")
            if stored_generation != generation or stored_weight != self.bigram_weight:
                return None, f"is for generation {stored_generation}, bigram weight {stored_weight}"
            return index_from_arrays(arrays, meta=meta), f"fits generation {generation}"
        except Exception as exc:
            return None, f"damaged ({type(exc).__name__}: {exc})"

    def _save(self, generation: int, index: LexicalIndex) -> None:
        """Write atomically: a crash never leaves a half-written cache."""
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=self.folder, suffix=".tmp")
        except OSError as exc:  # a read-only folder: searches use the index built in memory, every start rebuilds
            log.warning("could not cache the lexical index in %s (%s); it is rebuilt at each start", self.folder, exc)
            return
        try:
            with os.fdopen(fd, "wb") as fh:
                np.savez(fh, **index_to_arrays(index, generation=generation))  # type: ignore[arg-type]
            os.replace(tmp, self.path)
        except OSError as exc:
            log.warning("could not cache the lexical index in %s (%s); it is rebuilt at each start", self.folder, exc)
            Path(tmp).unlink(missing_ok=True)


def build_lexical_index(rows: IndexRows, *, bigram_weight: float) -> LexicalIndex:
    """An index from (id, collection, space-joined words, space-joined bigrams) rows."""
    return LexicalIndex.from_rows(rows, bigram_weight=bigram_weight)


def index_to_arrays(index: LexicalIndex, *, generation: int) -> dict[str, np.ndarray]:
    """The index as numeric arrays plus one JSON member: nothing a loader must execute."""
    meta: dict[str, Any] = {
        "version": FORMAT_VERSION,
        "generation": generation,
        "bigram_weight": index.bigram_weight,
        "chunk_ids": list(index.chunk_ids),
        "collections": [str(c) for c in index.collections],
    }
    arrays: dict[str, np.ndarray] = {}
    for name in _FIELDS:
        field: _Field = getattr(index, name)
        matrix = field.matrix
        meta[f"{name}_vocab"] = sorted(field.vocab, key=field.vocab.__getitem__)  # position = column
        arrays[f"{name}_data"] = np.asarray(matrix.data, dtype=np.float32)
        arrays[f"{name}_indices"] = np.asarray(matrix.indices, dtype=np.int64)
        arrays[f"{name}_indptr"] = np.asarray(matrix.indptr, dtype=np.int64)
        arrays[f"{name}_shape"] = np.asarray(matrix.shape, dtype=np.int64)
    arrays["meta"] = np.frombuffer(json.dumps(meta, ensure_ascii=False).encode("utf-8"), dtype=np.uint8)
    return arrays


def _meta(raw: np.ndarray) -> dict[str, Any]:
    if raw.dtype != np.uint8 or raw.ndim != 1:
        raise CacheMismatch("meta is not a JSON byte string")
    meta = json.loads(raw.tobytes().decode("utf-8"))
    if not isinstance(meta, dict):
        raise CacheMismatch("meta is not a JSON object")
    return meta


def _strings(meta: dict[str, Any], key: str, length: int | None = None) -> list[str]:
    value = meta.get(key)
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise CacheMismatch(f"{key} is not a list of strings")
    if length is not None and len(value) != length:
        raise CacheMismatch(f"{key} holds {len(value)} entries, the matrices {length}")
    return value


def index_from_arrays(arrays: dict[str, np.ndarray], *, meta: dict[str, Any] | None = None) -> LexicalIndex:
    """The index back from `index_to_arrays`' output (`meta`: its JSON member, when already parsed);
    CacheMismatch (or a numpy/scipy error) when anything does not fit: version, types, shapes, vocabulary sizes,
    index ranges."""
    if meta is None:
        if "meta" not in arrays:
            raise CacheMismatch("no meta member")
        meta = _meta(arrays["meta"])
    if meta.get("version") != FORMAT_VERSION:
        raise CacheMismatch(f"format version {meta.get('version')!r}, expected {FORMAT_VERSION}")
    weight = meta.get("bigram_weight")
    if not isinstance(weight, int | float):
        raise CacheMismatch("bigram_weight is not a number")
    chunk_ids = _strings(meta, "chunk_ids")
    collections = _strings(meta, "collections", len(chunk_ids))
    index = LexicalIndex.__new__(LexicalIndex)
    index.chunk_ids = chunk_ids
    index.collections = np.asarray(collections, dtype=object)
    index.bigram_weight = float(weight)
    for name in _FIELDS:
        missing = [f"{name}_{part}" for part in _ARRAYS if f"{name}_{part}" not in arrays]
        if missing:
            raise CacheMismatch(f"missing arrays {missing}")
        data, indices, indptr, shape = (arrays[f"{name}_{part}"] for part in _ARRAYS)
        if data.dtype != np.float32 or indices.dtype != np.int64 or indptr.dtype != np.int64:
            raise CacheMismatch(f"{name}: unexpected array types")
        if shape.dtype != np.int64 or shape.shape != (2,):
            raise CacheMismatch(f"{name}: shape is not two integers")
        n_docs, n_terms = int(shape[0]), int(shape[1])
        vocab = _strings(meta, f"{name}_vocab", n_terms)
        if n_docs != len(chunk_ids):
            raise CacheMismatch(f"{name}: {n_docs} rows for {len(chunk_ids)} passages")
        if indptr.shape != (n_terms + 1,) or data.shape != indices.shape or data.ndim != 1:
            raise CacheMismatch(f"{name}: arrays do not fit the shape {n_docs}×{n_terms}")
        matrix = sparse.csc_matrix((data, indices, indptr), shape=(n_docs, n_terms))
        matrix.check_format(full_check=True)  # monotone indptr, indices within the rows
        columns = dict(zip(vocab, range(n_terms), strict=True))
        if len(columns) != n_terms:
            raise CacheMismatch(f"{name}: repeated vocabulary entries")
        setattr(index, name, _Field(columns, matrix))
    return index
