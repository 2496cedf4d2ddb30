"""When to say "资料库里没有找到可靠的答案" instead of showing noise. Pure functions."""

from __future__ import annotations

from dataclasses import dataclass

NOT_FOUND_TEXT = "资料库里没有找到可靠的答案。"


@dataclass(frozen=True)
class AbstentionPolicy:
    """Abstain unless the best passage covers enough of the question's informative terms.

    Coverage is IDF-weighted: rare words (来电提醒, ARPU) count far more than common ones (客户).
    """

    min_coverage: float = 0.5

    def should_abstain(self, *, has_terms: bool, best_coverage: float | None) -> bool:
        if not has_terms or best_coverage is None:
            return True
        return best_coverage < self.min_coverage
