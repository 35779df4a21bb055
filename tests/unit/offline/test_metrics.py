"""Ranking metrics against hand-computed cases."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import sparse

from offline.metrics import (
    PAD,
    catalog_coverage,
    category_diversity,
    hit_matrix,
    map_at_k,
    ndcg_at_k,
    ranking_metrics,
    recall_curve,
    relevant_counts,
)

CATALOG = 10
# User 0 gets [1, 2, 3, 4] and likes {1, 3, 9}; user 1 gets [5, 6] (padded) and likes {6}.
RECOMMENDED = np.array([[1, 2, 3, 4], [5, 6, PAD, PAD]], dtype=np.int64)
CATEGORIES = np.array([0, 0, 1, 1, 2, 2, 0, 1, 2, 0], dtype=np.int64)


def _relevant(rows: list[list[int]]) -> sparse.csr_matrix:
    matrix = sparse.lil_matrix((len(rows), CATALOG), dtype=np.float32)
    for user, items in enumerate(rows):
        for item in items:
            matrix[user, item] = 1.0
    return matrix.tocsr()


RELEVANT = _relevant([[1, 3, 9], [6]])


def test_hits_mark_relevant_items_and_never_padding() -> None:
    hits = hit_matrix(RECOMMENDED, RELEVANT)
    assert hits.tolist() == [[True, False, True, False], [False, True, False, False]]


def test_precision_recall_and_hit_rate_match_hand_computation() -> None:
    metrics = ranking_metrics(RECOMMENDED, RELEVANT, 4)
    assert metrics["precision"] == pytest.approx((2 / 4 + 1 / 4) / 2)
    assert metrics["recall"] == pytest.approx((2 / 3 + 1) / 2)
    assert metrics["hit_rate"] == pytest.approx(1.0)


def test_ndcg_uses_log2_discount_and_ideal_over_min_k_and_relevant() -> None:
    dcg_user0 = 1 + 1 / math.log2(4)
    idcg_user0 = 1 + 1 / math.log2(3) + 1 / math.log2(4)
    ndcg_user1 = (1 / math.log2(3)) / 1
    metrics = ranking_metrics(RECOMMENDED, RELEVANT, 4)
    assert metrics["ndcg"] == pytest.approx((dcg_user0 / idcg_user0 + ndcg_user1) / 2)


def test_map_divides_precision_at_hits_by_min_k_and_relevant() -> None:
    ap_user0 = (1 / 1 + 2 / 3) / 3
    ap_user1 = (1 / 2) / 1
    metrics = ranking_metrics(RECOMMENDED, RELEVANT, 4)
    assert metrics["map"] == pytest.approx((ap_user0 + ap_user1) / 2)


def test_perfect_list_scores_one_when_relevant_items_outnumber_k() -> None:
    hits = np.ones((1, 3), dtype=bool)
    many = np.array([7], dtype=np.int64)
    assert ndcg_at_k(hits, many, 3) == pytest.approx(1.0)
    assert map_at_k(hits, many, 3) == pytest.approx(1.0)


def test_coverage_counts_distinct_recommended_items_over_catalog() -> None:
    assert catalog_coverage(RECOMMENDED, CATALOG, 4) == pytest.approx(6 / 10)
    assert catalog_coverage(RECOMMENDED, CATALOG, 1) == pytest.approx(2 / 10)


def test_diversity_is_distinct_categories_per_list_over_k() -> None:
    # user 0: categories 0, 1, 1, 2 -> 3 distinct; user 1: categories 2, 0 -> 2 distinct
    assert category_diversity(RECOMMENDED, CATEGORIES, 4) == pytest.approx((3 / 4 + 2 / 4) / 2)
    assert math.isnan(ranking_metrics(RECOMMENDED, RELEVANT, 4)["diversity"])
    with_categories = ranking_metrics(RECOMMENDED, RELEVANT, 4, item_categories=CATEGORIES)
    assert with_categories["diversity"] == pytest.approx(0.625)


def test_users_without_relevant_items_are_left_out() -> None:
    with_empty = np.vstack([RECOMMENDED, [[1, 3, 9, 6]]])
    relevant = _relevant([[1, 3, 9], [6], []])
    assert ranking_metrics(with_empty, relevant, 4) == pytest.approx(
        ranking_metrics(RECOMMENDED, RELEVANT, 4), nan_ok=True
    )


def test_recall_curve_grows_with_k_and_ends_at_recall_at_max_k() -> None:
    hits = hit_matrix(RECOMMENDED, RELEVANT)
    curve = recall_curve(hits, relevant_counts(RELEVANT), 4)
    assert curve.tolist() == pytest.approx(
        [(1 / 3) / 2, (1 / 3 + 1) / 2, (2 / 3 + 1) / 2, (2 / 3 + 1) / 2]
    )
    assert ranking_metrics(RECOMMENDED, RELEVANT, 4)["recall"] == pytest.approx(curve[-1])
