"""Fuse lexical and dense evidence into one ranking. Pure functions, no I/O.

Lexical-first: BM25 scores are normalised by the best one, the dense cosine similarity is added with a
small weight. With `dense_weight=0` the order is exactly the lexical order, so dense results can only
change the ranking when a deployment has measured that its model helps (`coach eval`).
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


def fuse_scores(
    lexical: Sequence[tuple[str, float]],
    dense: Mapping[str, float],
    *,
    dense_weight: float,
    dense_only_floor: float = 0.75,
) -> list[FusedHit]:
    """Rank the union of lexical and dense candidates, best first.

    `lexical` holds (chunk id, BM25 score) best first; `dense` maps chunk id → cosine similarity.
    A passage that only the dense side found joins the ranking only if its similarity reaches
    `dense_only_floor` (the English model's similarities between unrelated Chinese texts are high).
    """
    if not 0.0 <= dense_weight <= 1.0:
        raise ValueError("dense_weight must be within 0..1")
    best = max((score for _, score in lexical), default=0.0)
    hits: dict[str, FusedHit] = {}
    for chunk_id, score in lexical:
        norm = score / best if best > 0 else 0.0
        similarity = dense.get(chunk_id)
        fused = (1 - dense_weight) * norm + dense_weight * (similarity or 0.0)
        hits[chunk_id] = FusedHit(chunk_id, fused, norm, similarity)
    if dense_weight > 0:
        for chunk_id, similarity in dense.items():
            if chunk_id not in hits and similarity >= dense_only_floor:
                hits[chunk_id] = FusedHit(chunk_id, dense_weight * similarity, 0.0, similarity)
    return sorted(hits.values(), key=lambda h: (-h.score, -h.lexical, h.chunk_id))
