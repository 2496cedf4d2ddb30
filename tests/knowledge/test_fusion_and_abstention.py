import pytest

from knowledge.abstention import AbstentionPolicy
from knowledge.fusion import fuse_scores, normalise_similarities


def test_zero_dense_weight_keeps_the_lexical_order_exactly():
    lexical = [("a", 9.0), ("b", 5.0), ("c", 1.0)]
    dense = {"c": 0.99, "b": 0.1, "z": 0.99}
    fused = fuse_scores(lexical, dense, dense_weight=0.0)
    assert [h.chunk_id for h in fused] == ["a", "b", "c"]


def test_dense_similarity_reorders_close_lexical_candidates():
    lexical = [("a", 10.0), ("b", 9.8)]
    fused = fuse_scores(lexical, {"a": 0.1, "b": 0.9}, dense_weight=0.3)
    assert [h.chunk_id for h in fused] == ["b", "a"]


def test_dense_only_passage_needs_a_high_similarity_and_ranks_below_strong_lexical_hits():
    lexical = [("a", 10.0)]
    fused = fuse_scores(lexical, {"weak": 0.5, "strong": 0.9}, dense_weight=0.2)
    ids = [h.chunk_id for h in fused]
    assert "weak" not in ids
    assert ids == ["a", "strong"]


def test_fusion_rejects_a_weight_outside_0_1():
    with pytest.raises(ValueError):
        fuse_scores([], {}, dense_weight=1.5)


@pytest.mark.parametrize(
    ("has_terms", "coverage", "expected"),
    [(False, 1.0, True), (True, None, True), (True, 0.2, True), (True, 0.5, False), (True, 0.9, False)],
)
def test_abstention_policy(has_terms, coverage, expected):
    assert AbstentionPolicy(min_coverage=0.5).should_abstain(has_terms=has_terms, best_coverage=coverage) is expected


@pytest.mark.parametrize(
    ("coverage", "agreement", "expected"),
    [(0.1, 2, False), (0.1, 5, False), (0.1, 1, True), (0.1, None, True), (0.005, 5, True), (0.6, None, False)],
)
def test_below_the_coverage_line_two_retrievers_agreeing_vouch_for_the_question(coverage, agreement, expected):
    policy = AbstentionPolicy(min_coverage=0.2)
    assert policy.should_abstain(has_terms=True, best_coverage=coverage, agreement=agreement, passages=338) is expected
    assert policy.wants_agreement(coverage) is (0.01 <= coverage < 0.2)


@pytest.mark.parametrize(("passages", "needed"), [(338, 2), (60, 2), (20, 3), (10, 5), (8, None), (0, None)])
def test_agreement_must_beat_chance_in_a_small_library(passages, needed):
    # in a library of 8 passages any two top-5 lists share at least 2: agreement says nothing there
    policy = AbstentionPolicy(min_coverage=0.2)
    assert policy.agreement_needed(passages) == needed
    vouched = not policy.should_abstain(has_terms=True, best_coverage=0.1, agreement=5, passages=passages)
    assert vouched is (needed is not None)


def test_similarities_are_normalised_over_the_dense_candidates():
    assert normalise_similarities({"a": 0.84, "b": 0.88, "c": 0.80}) == pytest.approx({"a": 0.5, "b": 1.0, "c": 0.0})
    assert normalise_similarities({"a": 0.8, "b": 0.8}) == {"a": 1.0, "b": 1.0}
    assert normalise_similarities({}) == {}


def test_a_compressed_similarity_scale_still_reorders_close_lexical_candidates():
    # multilingual-e5 gives every passage 0.8-0.9: only the relative position within the candidates says anything
    lexical = [("a", 10.0), ("b", 9.5), ("c", 2.0)]
    dense = {"a": 0.82, "b": 0.89, "c": 0.80}
    fused = fuse_scores(lexical, dense, dense_weight=0.2)
    assert [h.chunk_id for h in fused] == ["b", "a", "c"]
    assert fused[0].dense == pytest.approx(0.89)  # the raw similarity is kept for display and debugging
