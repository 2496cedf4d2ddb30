"""The dense index as search sees it: a speed-up that never breaks, nor silently bends, the search it serves.

- A store that cannot be opened (a read-only data folder, a Chroma server away) or fails on a question: the search
  answers lexically and says so in the log, one line.
- A store holding fewer vectors than the knowledge base has passages (a deleted Chroma folder, a run with the
  dense side off): said once when the search is built, with what to run (`coach ingest --repair`).
- Vectors of passages the knowledge base does not hold (left by a killed ingest): dropped before fusion, so they
  neither take a candidate's place in the min-max normalisation nor shift the other passages' scores.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Sequence
from typing import Any

from knowledge.vector_store import DenseIndex

log = logging.getLogger(__name__)
REPAIR_HINT = "run `coach ingest --repair`"


def _one_line(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {(str(exc).strip().splitlines() or [''])[0][:200]}"


class GuardedDenseIndex:
    """`DenseIndex` whose `search` keeps only ids in `known` and turns a failing store into no dense hits.

    Every other method is the wrapped index's own (an ingest or a repair goes straight to the store)."""

    def __init__(self, dense: DenseIndex, *, known: Collection[str], status: str = "") -> None:
        self._dense = dense
        self._known = known if isinstance(known, set | frozenset) else set(known)
        self.status = status  # what the build found (readiness, logs); "" when the store fits the passages
        self.orphans_seen: set[str] = set()

    def search(self, question: str, *, k: int, collections: Sequence[str] | None = None) -> dict[str, float]:
        try:
            found = self._dense.search(question, k=k, collections=collections)
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
        return getattr(self._dense, name)


def guard_dense_index(open_dense: Callable[[], DenseIndex | None], *, known: Sequence[str]) -> GuardedDenseIndex | None:
    """The dense index for a search over the `known` passages (the lexical index's ids), or None when it cannot
    be opened. Compares the store's size with the passages once, and logs a store that cannot serve them all."""
    try:
        dense = open_dense()
        if dense is None:
            return None
        held = dense.count()
    except Exception as exc:
        log.warning("dense index cannot be opened, searching lexically only (%s)", _one_line(exc))
        return None
    status = ""
    if held < len(known):
        status = f"{held} vectors for {len(known)} passages"
        log.warning(
            "dense index holds %d vectors for %d passages: the others are ranked lexically only; %s",
            held,
            len(known),
            REPAIR_HINT,
        )
    elif held > len(known):
        status = f"{held - len(known)} vectors more than passages"
        log.warning("dense index holds %d vectors for %d passages (orphans ignored); %s", held, len(known), REPAIR_HINT)
    return GuardedDenseIndex(dense, known=known, status=status)
