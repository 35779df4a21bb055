"""Top-k ranking metrics over whole batches of users, vectorised with numpy.

Recommendations are an int matrix `(n_users, K)` of item indices, best first, padded with -1
when a list is shorter than K. Relevance is binary. Definitions follow RecBole so figures are
comparable with published ones:

- precision@k = hits in the top k / k
- recall@k = hits in the top k / |relevant|
- ndcg@k = DCG / IDCG with gain 1 / log2(rank + 1) and IDCG over min(k, |relevant|) hits
- hit_rate@k = share of users with at least one hit in the top k
- map@k = sum of precision@i at each hit rank i <= k, divided by min(k, |relevant|)
- coverage@k = distinct items recommended in the top k over all users / catalog size
- diversity@k = distinct categories in a user's top k / k, averaged over users
  (1.0 means every item of the list has its own category)
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from scipy import sparse

IntMatrix = npt.NDArray[np.int64]
BoolMatrix = npt.NDArray[np.bool_]
FloatVector = npt.NDArray[np.float64]

PAD = -1
METRIC_NAMES: tuple[str, ...] = (
    "precision",
    "recall",
    "ndcg",
    "hit_rate",
    "map",
    "coverage",
    "diversity",
)


def hit_matrix(recommended: IntMatrix, relevant: sparse.csr_matrix) -> BoolMatrix:
    """Whether each recommended item is relevant to its user (row i of both inputs)."""
    n_users, n_items = relevant.shape
    if recommended.shape[0] != n_users:
        raise ValueError("recommended and relevant must have one row per user")
    coo = relevant.tocoo()
    relevant_keys = np.sort(coo.row.astype(np.int64) * n_items + coo.col.astype(np.int64))
    rows = np.arange(n_users, dtype=np.int64)[:, None]
    keys = rows * n_items + recommended
    found = np.isin(keys, relevant_keys, assume_unique=False)
    return np.asarray(found & (recommended != PAD), dtype=np.bool_)


def relevant_counts(relevant: sparse.csr_matrix) -> npt.NDArray[np.int64]:
    """Number of relevant items per user."""
    return np.asarray(np.diff(relevant.indptr), dtype=np.int64)


def precision_at_k(hits: BoolMatrix, k: int) -> float:
    """Mean over users of hits in the top k divided by k."""
    return float(hits[:, :k].sum(axis=1).mean() / k)


def recall_at_k(hits: BoolMatrix, n_relevant: npt.NDArray[np.int64], k: int) -> float:
    """Mean over users of hits in the top k divided by the number of relevant items."""
    return float((hits[:, :k].sum(axis=1) / n_relevant).mean())


def hit_rate_at_k(hits: BoolMatrix, k: int) -> float:
    """Share of users with at least one relevant item in the top k."""
    return float(hits[:, :k].any(axis=1).mean())


def _discounts(k: int) -> FloatVector:
    return 1.0 / np.log2(np.arange(2, k + 2, dtype=np.float64))


def ndcg_at_k(hits: BoolMatrix, n_relevant: npt.NDArray[np.int64], k: int) -> float:
    """Mean binary NDCG@k with the ideal list holding min(k, |relevant|) hits."""
    discounts = _discounts(k)
    dcg = (hits[:, :k] * discounts[: hits[:, :k].shape[1]]).sum(axis=1)
    ideal_prefix = np.concatenate([[0.0], np.cumsum(discounts)])
    idcg = ideal_prefix[np.minimum(n_relevant, k)]
    return float((dcg / idcg).mean())


def map_at_k(hits: BoolMatrix, n_relevant: npt.NDArray[np.int64], k: int) -> float:
    """Mean average precision@k as RecBole defines it (normalised by min(k, |relevant|))."""
    top = hits[:, :k].astype(np.float64)
    ranks = np.arange(1, top.shape[1] + 1, dtype=np.float64)
    precision_at_hits = np.cumsum(top, axis=1) / ranks * top
    return float((precision_at_hits.sum(axis=1) / np.minimum(n_relevant, k)).mean())


def catalog_coverage(recommended: IntMatrix, catalog_size: int, k: int) -> float:
    """Distinct items recommended in any top-k list divided by the catalog size."""
    top = recommended[:, :k]
    return float(np.unique(top[top != PAD]).size / catalog_size)


def category_diversity(recommended: IntMatrix, item_categories: IntMatrix, k: int) -> float:
    """Mean over users of distinct categories in the top k, divided by k."""
    top = recommended[:, :k]
    categories = np.where(top == PAD, PAD, item_categories[np.maximum(top, 0)])
    ordered = np.sort(categories, axis=1)
    new_value = np.ones_like(ordered, dtype=bool)
    new_value[:, 1:] = ordered[:, 1:] != ordered[:, :-1]
    distinct = (new_value & (ordered != PAD)).sum(axis=1)
    return float(distinct.mean() / k)


def recall_curve(hits: BoolMatrix, n_relevant: npt.NDArray[np.int64], max_k: int) -> FloatVector:
    """Recall@k for every k from 1 to max_k."""
    cumulative = np.cumsum(hits[:, :max_k], axis=1) / n_relevant[:, None]
    return np.asarray(cumulative.mean(axis=0), dtype=np.float64)


def ranking_metrics(
    recommended: IntMatrix,
    relevant: sparse.csr_matrix,
    k: int,
    *,
    item_categories: IntMatrix | None = None,
) -> dict[str, float]:
    """Every metric @k for users that have at least one relevant item (others are dropped)."""
    n_relevant = relevant_counts(relevant)
    keep = n_relevant > 0
    if not keep.any():
        raise ValueError("no user has a relevant item")
    recs = recommended[keep]
    hits = hit_matrix(recs, relevant[keep])
    counts = n_relevant[keep]
    metrics = {
        "precision": precision_at_k(hits, k),
        "recall": recall_at_k(hits, counts, k),
        "ndcg": ndcg_at_k(hits, counts, k),
        "hit_rate": hit_rate_at_k(hits, k),
        "map": map_at_k(hits, counts, k),
        "coverage": catalog_coverage(recs, relevant.shape[1], k),
        "diversity": float("nan"),
    }
    if item_categories is not None:
        metrics["diversity"] = category_diversity(recs, item_categories, k)
    return metrics
