"""Ranking metrics against values worked out by hand."""

import math

import pytest

from recommender.evaluation.metrics import (
    catalogue_coverage,
    hit_at_k,
    ndcg_at_k,
    precision_at_k,
    recall_at_k,
    reciprocal_rank,
)

RANKED = ["a", "b", "c", "d"]
RELEVANT = {"b", "d", "e"}


def test_precision_at_k():
    # hits at positions 2 and 4: 2 of 4
    assert precision_at_k(RANKED, RELEVANT, 4) == pytest.approx(0.5)
    # first two positions: b only -> 1/2
    assert precision_at_k(RANKED, RELEVANT, 2) == pytest.approx(0.5)
    # first position: a -> 0
    assert precision_at_k(RANKED, RELEVANT, 1) == 0.0


def test_recall_at_k():
    # b and d found, e missing: 2 of 3
    assert recall_at_k(RANKED, RELEVANT, 4) == pytest.approx(2 / 3)
    # only b in the first three: 1 of 3
    assert recall_at_k(RANKED, RELEVANT, 3) == pytest.approx(1 / 3)


def test_ndcg_at_k():
    # DCG = 1/log2(2+1) + 1/log2(4+1) (hits at ranks 2 and 4)
    # ideal: min(|relevant|=3, k=4) = 3 hits at ranks 1..3 -> 1 + 1/log2(3) + 1/log2(4)
    expected = (1 / math.log2(3) + 1 / math.log2(5)) / (1 + 1 / math.log2(3) + 1 / math.log2(4))
    assert ndcg_at_k(RANKED, RELEVANT, 4) == pytest.approx(expected)
    assert ndcg_at_k(RANKED, RELEVANT, 4) == pytest.approx(0.4982, abs=1e-4)


def test_ndcg_ideal_is_capped_by_k():
    # k=2, relevant {a, x, y}: DCG = 1 (a at rank 1); ideal over min(3, 2) = 2 ranks:
    # 1 + 1/log2(3)
    assert ndcg_at_k(["a", "b"], {"a", "x", "y"}, 2) == pytest.approx(1 / (1 + 1 / math.log2(3)))


def test_perfect_ranking_scores_one():
    assert ndcg_at_k(["b", "d", "e", "a"], RELEVANT, 4) == pytest.approx(1.0)
    assert precision_at_k(["b", "d"], {"b", "d"}, 2) == 1.0
    assert recall_at_k(["b", "d"], {"b", "d"}, 2) == 1.0


def test_reciprocal_rank():
    # first relevant (b) at rank 2
    assert reciprocal_rank(RANKED, RELEVANT) == pytest.approx(0.5)
    assert reciprocal_rank(["d", "a"], RELEVANT) == 1.0
    # none found
    assert reciprocal_rank(["a", "c"], RELEVANT) == 0.0
    # cut-off before the first relevant
    assert reciprocal_rank(RANKED, RELEVANT, k=1) == 0.0


def test_hit_at_k():
    assert hit_at_k(RANKED, RELEVANT, 1) == 0.0
    assert hit_at_k(RANKED, RELEVANT, 2) == 1.0


def test_short_list_counts_missing_positions_as_non_relevant():
    # one hit in a list of 1, k=4: precision divides by k -> 1/4
    assert precision_at_k(["b"], RELEVANT, 4) == pytest.approx(0.25)
    assert recall_at_k(["b"], RELEVANT, 4) == pytest.approx(1 / 3)
    # DCG = 1 (rank 1); ideal over 3 ranks
    assert ndcg_at_k(["b"], RELEVANT, 4) == pytest.approx(
        1 / (1 + 1 / math.log2(3) + 1 / math.log2(4))
    )


def test_empty_ranking_scores_zero():
    for metric in (precision_at_k, recall_at_k, ndcg_at_k, hit_at_k):
        assert metric([], RELEVANT, 4) == 0.0
    assert reciprocal_rank([], RELEVANT) == 0.0


def test_duplicate_suggestion_counts_once():
    # b twice: the second b is not a new hit -> 1/2, not 2/2
    assert precision_at_k(["b", "b"], RELEVANT, 2) == pytest.approx(0.5)
    assert recall_at_k(["b", "b"], RELEVANT, 2) == pytest.approx(1 / 3)


@pytest.mark.parametrize("metric", [precision_at_k, recall_at_k, ndcg_at_k, hit_at_k])
def test_empty_relevant_set_raises(metric):
    with pytest.raises(ValueError, match="empty"):
        metric(RANKED, set(), 4)


def test_reciprocal_rank_empty_relevant_set_raises():
    with pytest.raises(ValueError, match="empty"):
        reciprocal_rank(RANKED, set())


@pytest.mark.parametrize("k", [0, -1, 2.5, True])
def test_bad_k_raises(k):
    with pytest.raises(ValueError, match="k must be"):
        precision_at_k(RANKED, RELEVANT, k)


def test_catalogue_coverage():
    # top-2 of each list: {a, b} and {b, d}: 3 of the 5 catalogue urls
    lists = [["a", "b", "c"], ["b", "d"], []]
    assert catalogue_coverage(lists, ["a", "b", "c", "d", "e"], 2) == pytest.approx(3 / 5)
    assert catalogue_coverage(lists, ["a", "b", "c", "d", "e"], 3) == pytest.approx(4 / 5)
    assert catalogue_coverage([], ["a"], 1) == 0.0
    with pytest.raises(ValueError):
        catalogue_coverage(lists, ["a"], 0)


@pytest.mark.parametrize("seed", range(20))
def test_ndcg_agrees_with_scikit_learn(seed):
    """An independent implementation: sklearn's ndcg_score over the same judgements."""
    import numpy as np
    from sklearn.metrics import ndcg_score

    rng = np.random.default_rng(seed)
    items = [f"u{i}" for i in range(40)]
    k = int(rng.integers(1, 12))
    ranked = list(rng.permutation(items)[: int(rng.integers(k, 30))])  # at least k long
    relevant = set(rng.choice(items, size=int(rng.integers(1, 8)), replace=False))
    # every item judged: the ranked ones by their rank, the others below them all
    scores = {url: len(items) - position for position, url in enumerate(ranked)}
    y_true = np.array([[1.0 if url in relevant else 0.0 for url in items]])
    y_score = np.array([[scores.get(url, -1.0 - i) for i, url in enumerate(items)]])
    assert ndcg_at_k(ranked, relevant, k) == pytest.approx(ndcg_score(y_true, y_score, k=k))
