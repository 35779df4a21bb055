"""Implicit ALS factors, EASE item neighbours and the "what comes next" transition table."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl
import scipy.sparse as sp
from implicit.cpu.als import AlternatingLeastSquares
from threadpoolctl import threadpool_limits

from offline.ease import ease, strongest


@dataclass(frozen=True)
class AlsParams:
    """ALS hyper-parameters. Results are deterministic for a seed: `random_state` fixes the
    initial factors and each CPU solve is per row, so `num_threads` changes speed only
    (implicit's thread nondeterminism concerns its sampling models, BPR/LMF)."""

    factors: int = 64
    regularization: float = 0.05
    iterations: int = 15
    alpha: float = 2.0
    seed: int = 0
    num_threads: int = 2


Factors = tuple[np.ndarray, np.ndarray]


def train_als(
    matrix: sp.csr_matrix,
    params: AlsParams,
    *,
    progress: bool = False,
    start: Factors | None = None,
) -> Factors:
    """(user_factors, item_factors) as float32 arrays, rows following the matrix.

    With `start` (factors shaped like the result) the fit continues from them instead of
    from random factors, so a few iterations suffice (see `warm_start`).
    """
    # BLAS threads would fight implicit's own threads (implicit warns about it).
    with threadpool_limits(1, "blas"):
        model = AlternatingLeastSquares(
            factors=params.factors,
            regularization=params.regularization,
            alpha=params.alpha,
            iterations=params.iterations,
            num_threads=params.num_threads,
            random_state=params.seed,
        )
        if start is not None:
            model.user_factors = np.array(start[0], dtype=np.float32)
            model.item_factors = np.array(start[1], dtype=np.float32)
        model.fit(matrix.astype(np.float32), show_progress=progress)
    return np.asarray(model.user_factors, np.float32), np.asarray(model.item_factors, np.float32)


def _aligned(
    old_ids: np.ndarray, old_factors: np.ndarray, new_ids: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """Rows of `old_factors` re-ordered to `new_ids`; ids new to it start small and random."""
    factors = (rng.random((len(new_ids), old_factors.shape[1])) * 0.01).astype(np.float32)
    position = {item: row for row, item in enumerate(old_ids.tolist())}
    pairs = [(row, position[i]) for row, i in enumerate(new_ids.tolist()) if i in position]
    if pairs:
        new_rows, old_rows = (np.array(side, dtype=np.int64) for side in zip(*pairs, strict=True))
        factors[new_rows] = old_factors[old_rows]
    return factors


def warm_start(
    old_users: np.ndarray,
    old_items: np.ndarray,
    old: Factors,
    new_users: np.ndarray,
    new_items: np.ndarray,
    seed: int = 0,
) -> Factors:
    """Factors of an earlier fit laid out for a new matrix's users and items."""
    rng = np.random.default_rng(seed)
    return (
        _aligned(old_users, old[0], new_users, rng),
        _aligned(old_items, old[1], new_items, rng),
    )


NEIGHBOUR_CELLS = 40_000_000
"""Most cells (items x neighbours) of the neighbour table: 1M items keep 40 each (320 MB)."""


def neighbour_width(n_items: int, top: int, cells: int = NEIGHBOUR_CELLS) -> int:
    """Neighbours kept per item: `top`, fewer when the catalog would make the table too big."""
    return max(min(top, cells // max(n_items, 1)), 1)


def similar_items(
    matrix: sp.csr_matrix, top: int = 50, l2: float = 400.0, max_items: int = 8000
) -> tuple[np.ndarray, np.ndarray]:
    """For each item, its `top` strongest EASE weights (Steck 2019, on the binarised matrix)
    by magnitude, highest first, as (row indexes padded with -1, weights).

    A user's EASE score for item j is the sum of the weights from the items they have to j, so
    summing these truncated rows approximates EASE; the negative weights are kept because they
    matter (ML-1M RecBole split, NDCG@10: positive top 200 0.264, strongest 200 0.279, full
    0.285). Only the `max_items` most popular items take part (the solve is cubic in them);
    the others get no neighbours. Large catalogs keep fewer (`neighbour_width`).
    """
    n_items = matrix.shape[1]
    top = neighbour_width(n_items, top)
    binary = (matrix > 0).astype(np.float32)
    counts = np.asarray(binary.sum(axis=0)).ravel()
    kept = np.sort(np.argsort(-counts, kind="stable")[:max_items])
    width = min(top, len(kept) - 1)
    rows = np.full((n_items, top), -1, dtype=np.int32)
    scores = np.zeros((n_items, top), dtype=np.float32)
    if width < 1:
        return rows, scores
    best, best_weights = strongest(ease(binary.tocsc()[:, kept], l2), width)
    order = np.argsort(-best_weights, axis=1, kind="stable")
    best = np.take_along_axis(best, order, axis=1)
    best_weights = np.take_along_axis(best_weights, order, axis=1)
    nonzero = best_weights != 0
    rows[kept, :width] = np.where(nonzero, kept[best], -1)
    scores[kept, :width] = np.where(nonzero, best_weights, 0.0)
    return rows, scores


def popularity(matrix: sp.csr_matrix) -> np.ndarray:
    """Summed interaction weight per item (matrix column sums)."""
    return np.asarray(matrix.sum(axis=0), dtype=np.float32).ravel()


def transitions(
    events: pl.DataFrame, item_ids: np.ndarray, top: int = 20
) -> tuple[np.ndarray, np.ndarray]:
    """For each item, the `top` items that most often came right after it in a user's ordered
    events, as (row indexes padded with -1, share of the item's followers)."""
    index = pl.DataFrame({"item_id": item_ids.tolist(), "row": np.arange(len(item_ids))})
    pairs = (
        events.lazy()
        .select("user_id", "item_id", nxt=pl.col("item_id").shift(-1).over("user_id"))
        .filter(pl.col("nxt").is_not_null() & (pl.col("nxt") != pl.col("item_id")))
        .group_by(["item_id", "nxt"])
        .agg(count=pl.len())
        .join(index.lazy(), on="item_id")
        .join(index.lazy().rename({"item_id": "nxt", "row": "nxt_row"}), on="nxt")
        .with_columns(share=pl.col("count") / pl.col("count").sum().over("item_id"))
        .sort(["row", "count", "nxt_row"], descending=[False, True, False])
        .with_columns(rank=pl.int_range(pl.len()).over("row"))
        .filter(pl.col("rank") < top)
        .collect()
    )
    next_rows = np.full((len(item_ids), top), -1, dtype=np.int32)
    next_scores = np.zeros((len(item_ids), top), dtype=np.float32)
    rows, ranks = pairs["row"].to_numpy(), pairs["rank"].to_numpy()
    next_rows[rows, ranks] = pairs["nxt_row"].to_numpy()
    next_scores[rows, ranks] = pairs["share"].to_numpy()
    return next_rows, next_scores
