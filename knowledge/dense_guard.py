"""The dense index as search sees it: a speed-up that never breaks, nor silently bends, the search it serves.

- A store that cannot be opened (a read-only data folder, a Chroma server away) or fails on a question: the search
  answers lexically and says so in the log, one line; opening is tried again every `RETRY_SECONDS`, so a Chroma
  server that comes back is used again without waiting for the next ingest.
- A store holding fewer vectors than the knowledge base has passages (a deleted Chroma folder, a run with the
  dense side off): said when it is opened, with what to run (`coach ingest --repair`), and kept in `status`
  (`/readyz`).
- Vectors of passages the knowledge base does not hold (left by a killed ingest): dropped before fusion, so they
  neither take a candidate's place in the min-max normalisation nor shift the other passages' scores.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Collection, Sequence
from typing import Any

from knowledge.dense import DenseIndex

log = logging.getLogger(__name__)
REPAIR_HINT = _HINT = "run `coach ingest --repair`"
RETRY_SECONDS = 30.0
CANNOT_OPEN = "cannot be opened"


def _one_line(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {(str(exc).strip().splitlines() or [''])[0][:200]}"


class GuardedDenseIndex:
    """`DenseIndex` whose `search` keeps only ids in `known` and turns a failing store into no dense hits.

    `open_dense` gives the store (it may raise). Every other method is the store's own (an ingest or a repair goes
    straight to it)."""

    def __init__(
        self,
        open_dense: Callable[[], DenseIndex],
        *,
        known: Collection[str],
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._open_dense = open_dense
        self._known = known if isinstance(known, set | frozenset) else set(known)
        self._clock = clock
        self._dense: DenseIndex | None = None
        self._next_try = 0.0
        self.status = ""  # what is wrong with the store for this search ("" when it fits the passages)
        self.orphans_seen: set[str] = set()
        self._store()

    def _store(self) -> DenseIndex | None:
        if self._dense is None and self._clock() >= self._next_try:
            try:
                dense = self._open_dense()
                held = dense.count()
            except Exception as exc:
                self._next_try = self._clock() + RETRY_SECONDS
                self.status = CANNOT_OPEN
                log.warning("dense index cannot be opened, searching lexically only (%s)", _one_line(exc))
                return None
            self._dense, self.status = dense, self._fit(held)
        return self._dense

    def _fit(self, held: int) -> str:
        passages = len(self._known)
        if held < passages:
            log.warning(
                "dense index holds %d vectors for %d passages: the others are ranked lexically only; %s",
                held,
                passages,
                REPAIR_HINT,
            )
            return f"{held} vectors for {passages} passages"
        if held > passages:
            log.warning("dense index holds %d vectors for %d passages (orphans ignored); %s", held, passages, _HINT)
            return f"{held - passages} vectors more than passages"
        return ""

    def search(self, question: str, *, k: int, collections: Sequence[str] | None = None) -> dict[str, float]:
        dense = self._store()
        if dense is None:
            return {}
        try:
            found = dense.search(question, k=k, collections=collections)
        except Exception as exc:  # the dense side only refines a ranking the lexical side already has
            log.warning("dense search failed, this question is ranked lexically only (%s)", _one_line(exc))
            return {}
        kept = {chunk_id: score for chunk_id, score in found.items() if chunk_id in self._known}
        orphans = found.keys() - kept.keys()
        if orphans - self.orphans_seen:
            self.orphans_seen |= orphans
            log.warning(
                "dense index holds %d vector(s) of passages the knowledge base does not (%s...); ignored; %s",
                len(self.orphans_seen),
                sorted(orphans)[0],
                REPAIR_HINT,
            )
        return kept

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self._store(), name)
