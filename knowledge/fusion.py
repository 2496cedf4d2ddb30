"""Fuse lexical and dense evidence into one ranking. Pure functions, no I/O.

Lexical-first: BM25 scores are normalised by the best one; the dense cosine similarities are min-max
normalised over the dense candidates (best → 1, the k-th nearest → 0) and added with a small weight.
Raw cosine similarities are no common scale: multilingual-e5 puts every Chinese passage between 0.8 and
0.9 for any question, so a weighted raw similarity barely moves the order whatever it says.
With `dense_weight=0` the order is exactly the lexical order, so dense results can only change the ranking
when a deployment has measured that its model helps (`coach eval`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class FusedHit:
    chunk_id: str
    score: float
    lexical: float
    dense: float | None


def normalise_similarities(dense: Mapping[str, float]) -> dict[str, float]:
    """Min-max over the candidates: the nearest passage 1.0, the farthest 0.0 (all 1.0 when they tie)."""
    if not dense:
        return {}
    lo, hi = min(dense.values()), max(dense.values())
    if hi - lo < 1e-9:
        return dict.fromkeys(dense, 1.0)
    return {chunk_id: (sim - lo) / (hi - lo) for chunk_id, sim in dense.items()}


def fuse_scores(
    lexical: Sequence[tuple[str, float]],
    dense: Mapping[str, float],
    *,
    dense_weight: float,
    dense_only_floor: float = 0.75,
) -> list[FusedHit]:
    """Rank the union of lexical and dense candidates, best first.

    `lexical` holds (chunk id, BM25 score) best first; `dense` maps chunk id → cosine similarity of the
    dense side's k nearest passages. A passage that only the dense side found joins the ranking only if its
    raw similarity reaches `dense_only_floor` (the English model's similarities between unrelated Chinese
    texts are high).
    """
    if not 0.0 <= dense_weight <= 1.0:
        raise ValueError("dense_weight must be within 0..1")
    best = max((score for _, score in lexical), default=0.0)
    relative = normalise_similarities(dense)
    hits: dict[str, FusedHit] = {}
    for chunk_id, score in lexical:
        norm = score / best if best > 0 else 0.0
        fused = (1 - dense_weight) * norm + dense_weight * relative.get(chunk_id, 0.0)
        hits[chunk_id] = FusedHit(chunk_id, fused, norm, dense.get(chunk_id))
    if dense_weight > 0:
        for chunk_id, similarity in dense.items():
            if chunk_id not in hits and similarity >= dense_only_floor:
                hits[chunk_id] = FusedHit(chunk_id, dense_weight * relative[chunk_id], 0.0, similarity)
    return sorted(hits.values(), key=lambda h: (-h.score, -h.lexical, h.chunk_id))
