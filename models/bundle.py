"""One trained model version in memory, and the user vector folded from live history."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from itertools import repeat
from typing import Any, TypeAlias

import numpy as np
import scipy.sparse as sp

from models.content_text import TextModel
from models.rankers import Ranker
from models.retrieval import Retriever
from models.sequence import SequenceModel
from models.types import UserView
from models.weights import EventWeighting

EaseWeights: TypeAlias = sp.csr_matrix | np.ndarray
"""Item x item EASE weights: a sparse matrix, or a dense one where that is small enough."""


@dataclass
class ModelBundle:
    """ALS factors, retrieval indexes, transitions, content vectors and the ranker of a version.

    Item rows of `item_factors`, `popularity`, `next_items` and `next_scores` follow `item_ids`;
    `next_items` holds row indexes (-1 pads); so do `similar_items` and `similar_scores`
    (EASE weights, optional, strongest first: the positive ones are the item's neighbours, the
    negative ones the items its presence makes less likely). `user_items` (optional) holds the
    item rows each known user had in the training window. Content rows follow `content_ids`
    (every catalog item, cold ones included); `content_model` (optional) vectorises the text of
    items added to the catalog after training; `sequence` (optional) scores the next item from
    the user's ordered recent items. Lookups serving needs per request (ids as Python
    strings, log popularity, rows by popularity, which items are long tail, the EASE weights
    as a sparse matrix) are computed once here, at load, as are the maps between bundle rows
    and content rows.
    """

    version: str
    item_ids: np.ndarray
    user_ids: np.ndarray
    item_factors: np.ndarray
    user_factors: np.ndarray
    regularization: float
    alpha: float
    popularity: np.ndarray
    next_items: np.ndarray
    next_scores: np.ndarray
    content_ids: np.ndarray
    content_vectors: np.ndarray
    als_retriever: Retriever
    content_retriever: Retriever | None
    ranker: Ranker | None = None
    weighting: EventWeighting = field(default_factory=EventWeighting)
    manifest: dict[str, Any] = field(default_factory=dict)
    similar_items: np.ndarray | None = None
    similar_scores: np.ndarray | None = None
    user_items: sp.csr_matrix | None = None
    content_model: TextModel | None = None
    sequence: SequenceModel | None = None
    item_index: dict[str, int] = field(init=False)
    user_index: dict[str, int] = field(init=False)
    content_index: dict[str, int] = field(init=False)
    gram: np.ndarray = field(init=False)
    item_names: list[str] = field(init=False)
    item_name_array: np.ndarray = field(init=False)
    content_names: list[str] = field(init=False)
    content_name_array: np.ndarray = field(init=False)
    item_row_of_content: np.ndarray = field(init=False)
    content_row_of_item: np.ndarray = field(init=False)
    log_popularity: np.ndarray = field(init=False)
    by_popularity: np.ndarray = field(init=False)
    by_rarity: np.ndarray = field(init=False)
    long_tail: np.ndarray = field(init=False)
    ease: EaseWeights | None = field(init=False)

    def __post_init__(self) -> None:
        self.item_names = [str(item) for item in self.item_ids.tolist()]
        self.item_name_array = np.array(self.item_names, dtype=object)
        self.content_names = [str(item) for item in self.content_ids.tolist()]
        self.content_name_array = np.array(self.content_names, dtype=object)
        self.item_index = {item: row for row, item in enumerate(self.item_names)}
        self.user_index = {str(user): row for row, user in enumerate(self.user_ids.tolist())}
        self.content_index = {item: row for row, item in enumerate(self.content_names)}
        self.item_row_of_content, self.content_row_of_item = _cross_rows(
            self.item_index, self.content_names, len(self.item_names)
        )
        factors = self.item_factors.astype(np.float64)
        self.gram = factors.T @ factors
        self.log_popularity = np.log1p(self.popularity)
        self.by_popularity = np.argsort(-self.popularity, kind="stable")
        self.by_rarity = np.argsort(self.popularity, kind="stable")
        self.long_tail = long_tail(self.popularity, self.by_popularity)
        self.ease = ease_matrix(self.similar_items, self.similar_scores, len(self.item_names))

    def names_at(self, rows: np.ndarray) -> list[str]:
        """The item id of each bundle row."""
        names: list[str] = self.item_name_array[rows].tolist()
        return names

    def item_rows(self, item_ids: Iterable[str]) -> np.ndarray:
        """Row indexes of the known items among `item_ids` (unknown ones are skipped)."""
        rows = [self.item_index[i] for i in item_ids if i in self.item_index]
        return np.asarray(rows, dtype=np.int64)


HEAD_SHARE = 0.5
"""The catalogue's head: its most popular items that together hold this share of the weight."""


def long_tail(popularity: np.ndarray, by_popularity: np.ndarray) -> np.ndarray:
    """Per item row, whether it lies outside the head (on MovieLens-1M, 451 of 3,706 items
    hold half the ratings)."""
    total = float(popularity.sum())
    tail = np.ones(len(popularity), dtype=bool)
    if total <= 0:
        return tail
    held = np.cumsum(popularity[by_popularity], dtype=np.float64)
    head = int(np.searchsorted(held, HEAD_SHARE * total)) + 1
    tail[by_popularity[:head]] = False
    return tail


def rows_of(index: dict[str, int], ids: Sequence[str]) -> np.ndarray:
    """Row of each id in `index`, -1 where it has none."""
    return np.fromiter(map(index.get, ids, repeat(-1)), np.int64, len(ids))


def _cross_rows(
    item_index: dict[str, int], content_names: list[str], n_items: int
) -> tuple[np.ndarray, np.ndarray]:
    """Bundle row of each content row and content row of each bundle row (-1: none)."""
    item_rows = rows_of(item_index, content_names)
    content_rows = np.full(n_items, -1, dtype=np.int64)
    known = np.flatnonzero(item_rows >= 0)
    content_rows[item_rows[known]] = known
    return item_rows, content_rows


@dataclass(frozen=True)
class EaseScores:
    """A user's EASE score of every item (x_u B over the whole known history) and that history."""

    scores: np.ndarray
    history: np.ndarray


def ease_matrix(
    rows: np.ndarray | None, scores: np.ndarray | None, n_items: int
) -> EaseWeights | None:
    """The padded neighbour table as an item x item matrix (None without one): dense when that
    takes at most twice the sparse matrix's bytes, since summing dense rows is faster."""
    if rows is None or scores is None:
        return None
    source = np.repeat(np.arange(len(rows), dtype=np.int64), rows.shape[1])
    target, weight = rows.ravel().astype(np.int64), scores.ravel()
    kept = target >= 0
    shape = (n_items, n_items)
    matrix = sp.csr_matrix((weight[kept], (source[kept], target[kept])), shape=shape)
    sparse_bytes = matrix.data.nbytes + matrix.indices.nbytes + matrix.indptr.nbytes
    dense_bytes = n_items * n_items * matrix.dtype.itemsize
    if dense_bytes > 2 * sparse_bytes:
        return matrix
    dense: np.ndarray = matrix.toarray()
    return dense


def summed_rows(matrix: EaseWeights, rows: np.ndarray) -> np.ndarray:
    """The sum of `rows` of the matrix as a dense float64 vector. Both forms add the rows in
    order in the matrix's own precision, so they give the same values bit for bit (a dense
    matrix's rows are added one at a time into one vector: no copy of the rows)."""
    if isinstance(matrix, np.ndarray):
        total = np.zeros(matrix.shape[1], dtype=matrix.dtype)
        for row in rows.tolist():
            total += matrix[row]
        return total.astype(np.float64)
    return np.asarray(matrix[rows].sum(axis=0), dtype=np.float64).ravel()


def user_items_of(arrays: dict[str, np.ndarray], n_items: int) -> sp.csr_matrix | None:
    """Known users' training items from a version's `user_items_indptr/indices` arrays."""
    indptr, indices = arrays.get("user_items_indptr"), arrays.get("user_items_indices")
    if indptr is None or indices is None:
        return None
    ones = np.ones(len(indices), dtype=np.float32)
    return sp.csr_matrix((ones, indices, indptr), shape=(len(indptr) - 1, n_items))


def history_rows(bundle: ModelBundle, user: UserView, now: float) -> np.ndarray:
    """Distinct item rows of the user's whole known history: the training window's (when the
    bundle holds them) plus the live events after it that carry interest."""
    known = bundle.user_index.get(user.user_id)
    held = bundle.user_items
    after = -math.inf
    parts: list[np.ndarray] = []
    if known is not None and held is not None:
        parts.append(held.indices[held.indptr[known] : held.indptr[known + 1]])
        after = trained_until(bundle)
    live = history_confidences(bundle, user, now, after)
    parts.append(np.fromiter(live.keys(), dtype=np.int64, count=len(live)))
    return np.unique(np.concatenate(parts).astype(np.int64))


def ease_scores(bundle: ModelBundle, user: UserView, now: float) -> EaseScores | None:
    """The user's EASE scores (None without EASE weights or history)."""
    if bundle.ease is None:
        return None
    rows = history_rows(bundle, user, now)
    if not len(rows):
        return None
    summed = summed_rows(bundle.ease, rows)
    summed.flags.writeable = False
    return EaseScores(summed, rows)


FOLD_PRIOR = 1.0
"""How strongly the long-term factors anchor the fold; history confidences are alpha * weight."""


def trained_until(bundle: ModelBundle) -> float:
    """Time of the newest event the factors were trained on (-inf when not recorded)."""
    end = bundle.manifest.get("window", {}).get("end")
    return -math.inf if end is None else float(end)


def history_confidences(
    bundle: ModelBundle,
    user: UserView,
    now: float,
    after: float = -math.inf,
    *,
    dislikes: bool = False,
) -> dict[int, float]:
    """Confidence per known item row from the user's weighted, decayed history after `after`
    (with `dislikes`, the confidence that the user does not want the item instead)."""
    weighting = bundle.weighting
    weigh = weighting.dislike_weight if dislikes else weighting.type_weight
    weights: dict[int, float] = {}
    for event in user.history:
        row = bundle.item_index.get(event.item_id)
        if row is None or event.timestamp <= after:
            continue
        weight = weigh(event.type, event.value) * weighting.decay(now - event.timestamp)
        weights[row] = weights.get(row, 0.0) + weight
    return {row: bundle.alpha * w for row, w in weights.items() if w > 0}


def user_vector(bundle: ModelBundle, user: UserView, now: float) -> np.ndarray | None:
    """Long-term factors folded with live history; history alone for unknown users.

    Solves x = (YtY + sum (c-1) y yT + (lambda + beta) I)^-1 (sum c y + beta x0), implicit's
    confidence convention with the trained vector x0 as a prior of strength beta (0 when the
    user is unknown). No history gives x0; neither gives None. Items the user disliked
    (`EventWeighting.dislike_weight`) enter with preference 0, which pulls the vector away
    from them.
    """
    vector = _fold(bundle, user, now)
    if vector is not None:
        vector.flags.writeable = False
    return vector


def _fold(bundle: ModelBundle, user: UserView, now: float) -> np.ndarray | None:
    known = bundle.user_index.get(user.user_id)
    prior = None if known is None else bundle.user_factors[known].astype(np.float64)
    # A known user's factors already hold every event up to the end of the training window.
    after = -math.inf if known is None else trained_until(bundle)
    confidences = history_confidences(bundle, user, now, after)
    if not confidences:
        return None if prior is None else prior.astype(np.float32)
    rows = np.fromiter(confidences.keys(), dtype=np.int64)
    conf = np.fromiter(confidences.values(), dtype=np.float64)
    factors = bundle.item_factors[rows].astype(np.float64)
    beta = 0.0 if prior is None else FOLD_PRIOR
    lhs = bundle.gram + (factors.T * (conf - 1.0)) @ factors
    lhs += _dislike_term(bundle, user, now, after)
    lhs += (bundle.regularization + beta) * np.eye(len(lhs))
    rhs = factors.T @ conf
    if prior is not None:
        rhs += beta * prior
    return np.linalg.solve(lhs, rhs).astype(np.float32)


def _dislike_term(bundle: ModelBundle, user: UserView, now: float, after: float) -> np.ndarray:
    """sum c y yT over disliked items: preference 0 with confidence c pulls x.y towards 0."""
    disliked = history_confidences(bundle, user, now, after, dislikes=True)
    if not disliked:
        return np.zeros_like(bundle.gram)
    rows = np.fromiter(disliked.keys(), dtype=np.int64)
    conf = np.fromiter(disliked.values(), dtype=np.float64)
    factors = bundle.item_factors[rows].astype(np.float64)
    term: np.ndarray = (factors.T * conf) @ factors
    return term
