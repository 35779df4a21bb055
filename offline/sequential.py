"""Fit the sequential next-item model: ridge transitions from the position-weighted recent past
to the next item (SLIT, Choi et al. 2021) plus an EASE item-item term (SLIS)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl
import scipy.sparse as sp

from models.sequence import Matrix, SequenceModel
from offline.ease import ease, inverse, strongest
from offline.timing import StageTimer


@dataclass(frozen=True)
class SequentialParams:
    """Hyper-parameters of `fit_sequential`; defaults measured on MovieLens-1M chronological
    leave-last-out (bench/offline/sequential_study.py).

    steps: earlier items each target learns from (and each score reads); decay: weight of the
    item j positions back is decay^(j-1); l2: ridge of the transition solve; compress: square
    roots of the co-occurrence sums before the solve; item_weight, item_window, item_l2: scale,
    window (newest items) and ridge of the EASE item-item term, 0 weight for none; min_rating:
    ratings below it are left out of the sequences (None keeps every event); max_items: most
    frequent items that take part in the solves (cubic in them); dense_items: largest catalogue
    stored as dense float32, larger ones keep each row's `top_n` weights by magnitude.
    """

    steps: int = 10
    decay: float = 0.7
    l2: float = 300.0
    compress: bool = True
    item_weight: float = 0.02
    item_window: int = 50
    item_l2: float = 400.0
    min_rating: float | None = None
    max_items: int = 8000
    dense_items: int = 8000
    top_n: int = 400

    def __post_init__(self) -> None:
        if self.steps < 1 or not 0.0 < self.decay <= 1.0 or self.l2 <= 0 or self.item_l2 <= 0:
            raise ValueError("need steps >= 1, 0 < decay <= 1 and positive ridges")
        if self.max_items < 1 or self.top_n < 1 or self.item_window < 0:
            raise ValueError("need max_items >= 1, top_n >= 1 and item_window >= 0")

    def position_weights(self) -> np.ndarray:
        """Weight of the item j positions back from the target, j = 1..steps."""
        return (self.decay ** np.arange(self.steps)).astype(np.float32)


@dataclass(frozen=True)
class Sequences:
    """Per event, in user-then-time order: the user's run code and the solve column of its
    item (-1 when the item takes no part in the solve)."""

    users: np.ndarray
    columns: np.ndarray
    kept: np.ndarray


def sequences(events: pl.DataFrame, item_ids: np.ndarray, params: SequentialParams) -> Sequences:
    """Events as user runs of solve columns, in time order (ties in the given order); an event
    on the same item as the user's previous one is dropped; the `max_items` most frequent items
    are kept."""
    events = events.sort(["user_id", "timestamp"], maintain_order=True)
    if params.min_rating is not None:
        low = (pl.col("type") == "rating") & (pl.col("value") < params.min_rating)
        events = events.filter(~low.fill_null(False))
    repeated = (pl.col("item_id") == pl.col("item_id").shift(1)) & (
        pl.col("user_id") == pl.col("user_id").shift(1)
    )
    events = events.filter(~repeated.fill_null(False))
    rows = _item_rows(events["item_id"], item_ids)
    users = events["user_id"].rle_id().to_numpy().astype(np.int64)
    counts = np.bincount(rows[rows >= 0], minlength=len(item_ids))
    kept = np.sort(np.argsort(-counts, kind="stable")[: params.max_items])
    kept = kept[counts[kept] > 0]
    column_of = np.full(len(item_ids) + 1, -1, dtype=np.int64)
    column_of[kept] = np.arange(len(kept))
    return Sequences(users, column_of[rows], kept)


def _item_rows(ids: pl.Series, item_ids: np.ndarray) -> np.ndarray:
    """Row of each id in `item_ids`, -1 when absent."""
    index = {item: row for row, item in enumerate(item_ids.tolist())}
    rows = ids.replace_strict(index, default=-1, return_dtype=pl.Int64)
    return rows.to_numpy().astype(np.int64)


def _followers(seq: Sequences, steps: int) -> np.ndarray:
    """(steps, events) mask: event p + j is a kept event of p's user, for j = 1..steps."""
    n = len(seq.columns)
    follows = np.zeros((steps, n), dtype=bool)
    for lag in range(1, min(steps, n - 1) + 1):
        later = np.arange(lag, n)
        follows[lag - 1, : n - lag] = (seq.users[later] == seq.users[later - lag]) & (
            seq.columns[later] >= 0
        )
    return follows


def _lag_products(weights: np.ndarray) -> np.ndarray:
    """[j, d] = w(j) · w(j + d), zero past the last step (j, d from 0)."""
    steps = len(weights)
    products = np.zeros((steps, steps))
    for d in range(steps):
        products[: steps - d, d] = weights[: steps - d] * weights[d:]
    return products


def _binned(cells: np.ndarray, weights: np.ndarray, k: int) -> np.ndarray:
    """Flat k x k sums of `weights` at the flat `cells` (row · k + column)."""
    summed: np.ndarray = np.bincount(cells, weights, minlength=k * k).astype(np.float64, copy=False)
    return summed


def _shared(follows: np.ndarray, products: np.ndarray, positions: np.ndarray, d: int) -> np.ndarray:
    """Per position p: the sum over lags j of follows[j, p] · products[j, d]."""
    total = np.zeros(len(positions))
    for lag in np.flatnonzero(products[:, d]):
        total += follows[lag, positions] * products[lag, d]
    return total


def transition_gram(seq: Sequences, params: SequentialParams) -> tuple[np.ndarray, np.ndarray]:
    """(XᵀX, XᵀY) with X the position-weighted past of each kept target event, Y the target.

    Two sources d events apart share the targets after the newer one that are at most `steps`
    after the older one, so XᵀX sums, per pair, w(j)·w(j + d) over those targets' lags j.
    Sums are added one distance at a time, so memory grows with the events only linearly."""
    k, n, columns = len(seq.kept), len(seq.columns), seq.columns
    weights = params.position_weights().astype(np.float64)
    follows = _followers(seq, params.steps)
    products = _lag_products(weights)
    kept = np.flatnonzero(columns >= 0)
    flat_gram, flat_cross = np.zeros(k * k), np.zeros(k * k)
    for d in range(1, min(params.steps, n - 1) + 1):
        older = np.flatnonzero(follows[d - 1, : n - d] & (columns[: n - d] >= 0))
        cells = columns[older] * k + columns[older + d]
        flat_cross += _binned(cells, np.full(len(older), weights[d - 1]), k)
        if d < params.steps:
            flat_gram += _binned(cells, _shared(follows, products, older + d, d), k)
    gram = flat_gram.reshape(k, k)
    gram += gram.T + _binned(
        columns[kept] * (k + 1), _shared(follows, products, kept, 0), k
    ).reshape(k, k)
    cross = flat_cross.reshape(k, k)
    if params.compress:
        return np.sqrt(gram, out=gram), np.sqrt(cross, out=cross)
    return gram, cross


def ridge(gram: np.ndarray, cross: np.ndarray, l2: float) -> np.ndarray:
    """(gram + l2·I)⁻¹ cross in `gram`'s precision, overwriting `gram`."""
    solved: np.ndarray = inverse(gram, l2) @ cross.astype(gram.dtype, copy=False)
    return solved


def item_weights(seq: Sequences, l2: float) -> np.ndarray:
    """EASE weights over the binary user x kept item matrix, zero diagonal."""
    known = seq.columns >= 0
    users, columns = seq.users[known], seq.columns[known]
    binary = sp.csr_matrix(
        (np.ones(len(users), dtype=np.float32), (users, columns)),
        shape=(int(seq.users.max()) + 1, len(seq.kept)),
    )
    binary.data[:] = 1.0
    return ease(binary, l2)


def stored(block: np.ndarray, kept: np.ndarray, n_items: int, params: SequentialParams) -> Matrix:
    """The kept x kept `block` laid out over every item: dense float32 for small catalogues,
    else CSR with each row's `top_n` weights by magnitude."""
    if n_items <= params.dense_items:
        full = np.zeros((n_items, n_items), dtype=np.float32)
        full[np.ix_(kept, kept)] = block
        return full
    width = min(params.top_n, block.shape[1])
    if width == 0:
        return sp.csr_matrix((n_items, n_items), dtype=np.float32)
    best, values = strongest(block, width)
    rows = np.repeat(kept, width)
    matrix = sp.csr_matrix(
        (values.astype(np.float32).ravel(), (rows, kept[best].ravel())), shape=(n_items, n_items)
    )
    matrix.eliminate_zeros()
    matrix.sort_indices()
    return matrix


def fit_sequential(
    events: pl.DataFrame,
    item_ids: np.ndarray,
    params: SequentialParams = SequentialParams(),
    progress: bool = False,
    timer: StageTimer | None = None,
) -> SequenceModel:
    """The sequential model of `events` (every type counts as a step; ordered by user, then
    time), rows and columns following `item_ids`; items it never saw score nothing."""
    timer = timer or StageTimer(progress)
    n_items = len(item_ids)
    with timer.stage("sequences"):
        seq = sequences(events, item_ids, params)
    weights = params.position_weights()
    if not len(seq.kept):
        return SequenceModel(stored(np.zeros((0, 0)), seq.kept, n_items, params), weights)
    with timer.stage("transition gram"):
        gram, cross = (matrix.astype(np.float32) for matrix in transition_gram(seq, params))
    with timer.stage("transition solve"):
        transition = stored(ridge(gram, cross, params.l2), seq.kept, n_items, params)
        del gram, cross
    if params.item_weight == 0.0 or params.item_window == 0:
        return SequenceModel(transition, weights)
    with timer.stage("item-item solve"):
        item_item = stored(item_weights(seq, params.item_l2), seq.kept, n_items, params)
    return SequenceModel(transition, weights, item_item, params.item_weight, params.item_window)
