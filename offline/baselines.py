"""Recommenders compared offline behind one interface: `fit(data)`, `recommend(users, k, exclude)`.

Users and items are integer indices into `TrainingData.users` and `TrainingData.items`;
`recommend` returns an `(n_users, k)` matrix of item indices, best first, padded with -1.
Scoring models (popularity, item-kNN, implicit ALS, EASE) share batched numpy top-k; the
project's own models are adapted in `offline.recommenders`.
"""

from __future__ import annotations

import warnings
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
import polars as pl
from implicit.utils import ParameterWarning
from scipy import sparse
from threadpoolctl import threadpool_limits

from offline.metrics import PAD, IntMatrix

IntVector = npt.NDArray[np.int64]
FloatMatrix = npt.NDArray[np.float32]
SCORE_CELLS_PER_BATCH = 1 << 23


@dataclass(frozen=True)
class TrainingData:
    """Training interactions indexed for scoring, plus the raw events for the project models."""

    users: list[str]
    items: list[str]
    matrix: sparse.csr_matrix
    events: pl.DataFrame
    item_frame: pl.DataFrame | None = None
    now: float = 0.0
    user_index: dict[str, int] = field(default_factory=dict)
    item_index: dict[str, int] = field(default_factory=dict)


def training_data(
    train: pl.DataFrame,
    users: list[str],
    items: list[str],
    item_frame: pl.DataFrame | None = None,
) -> TrainingData:
    """Index the training events over the given users and items (binary user-item matrix)."""
    user_index = {user: i for i, user in enumerate(users)}
    item_index = {item: i for i, item in enumerate(items)}
    pairs = train.select("user_id", "item_id").unique()
    rows = pairs["user_id"].replace_strict(user_index, return_dtype=pl.Int64).to_numpy()
    cols = pairs["item_id"].replace_strict(item_index, return_dtype=pl.Int64).to_numpy()
    matrix = sparse.csr_matrix(
        (np.ones(len(rows), dtype=np.float32), (rows, cols)), shape=(len(users), len(items))
    )
    now = float(train["timestamp"].max() or 0.0)  # type: ignore[arg-type]
    return TrainingData(users, items, matrix, train, item_frame, now, user_index, item_index)


class Recommender(ABC):
    """A model that learns from training data and returns top-k item indices per user."""

    name: str = "recommender"

    @abstractmethod
    def fit(self, data: TrainingData) -> None:
        """Learn from the training interactions."""

    @abstractmethod
    def recommend(self, users: IntVector, k: int, exclude: sparse.csr_matrix) -> IntMatrix:
        """Top-k item indices per user, never an item of the user's `exclude` row."""


def top_k(scores: FloatMatrix, k: int) -> IntMatrix:
    """Indices of the k highest scores per row, best first; -inf scores become -1."""
    k = min(k, scores.shape[1])
    part = np.argpartition(-scores, k - 1, axis=1)[:, :k]
    part_scores = np.take_along_axis(scores, part, axis=1)
    order = np.argsort(-part_scores, axis=1, kind="stable")
    top = np.take_along_axis(part, order, axis=1).astype(np.int64)
    top[np.take_along_axis(part_scores, order, axis=1) == -np.inf] = PAD
    return top


def _batches(users: IntVector, n_items: int) -> Iterator[IntVector]:
    size = max(1, SCORE_CELLS_PER_BATCH // max(n_items, 1))
    for start in range(0, len(users), size):
        yield users[start : start + size]


class ScoringRecommender(Recommender):
    """A recommender that scores every item for a batch of users (full ranking)."""

    @abstractmethod
    def scores(self, users: IntVector) -> FloatMatrix:
        """Dense scores `(len(users), n_items)`; higher is better."""

    def recommend(self, users: IntVector, k: int, exclude: sparse.csr_matrix) -> IntMatrix:
        """Top-k of the full ranking after masking each user's excluded items."""
        parts: list[IntMatrix] = []
        for batch in _batches(users, exclude.shape[1]):
            scores = np.array(self.scores(batch), dtype=np.float32)
            mask = exclude[batch]
            scores[mask.nonzero()] = -np.inf
            parts.append(top_k(scores, k))
        return np.vstack(parts) if parts else np.empty((0, k), dtype=np.int64)


class Popularity(ScoringRecommender):
    """Most-interacted items first, the same list for everyone."""

    name = "pop"

    def fit(self, data: TrainingData) -> None:
        """Count distinct users per item."""
        self.counts = np.asarray(data.matrix.sum(axis=0), dtype=np.float32).ravel()

    def scores(self, users: IntVector) -> FloatMatrix:
        """Item popularity broadcast to every user."""
        return np.broadcast_to(self.counts, (len(users), self.counts.size))


class ItemKNN(ScoringRecommender):
    """Item-based kNN: a target item scores by its K nearest cosine neighbours the user has."""

    name = "itemknn"

    def __init__(self, neighbours: int = 100) -> None:
        self.neighbours = neighbours

    def fit(self, data: TrainingData) -> None:
        """Compute the item-item similarity matrix."""
        from implicit.nearest_neighbours import CosineRecommender

        model = CosineRecommender(K=self.neighbours, num_threads=0)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", category=ParameterWarning)
            model.fit(data.matrix, show_progress=False)
        # Row i of implicit's matrix holds i's neighbours; scoring sums over the target's own.
        self.neighbours_of = model.similarity.T.tocsr()
        self.matrix = data.matrix

    def scores(self, users: IntVector) -> FloatMatrix:
        """Sum of the target item's similarities to the user's training items."""
        return np.asarray((self.matrix[users] @ self.neighbours_of).toarray(), dtype=np.float32)


class ImplicitALS(ScoringRecommender):
    """Matrix factorisation by implicit's ALS on binary confidence (no project features)."""

    name = "implicit-als"

    def __init__(
        self,
        factors: int = 32,
        regularization: float = 0.05,
        alpha: float = 2.0,
        iterations: int = 15,
        seed: int = 2020,
    ) -> None:
        self.params = {"factors": factors, "regularization": regularization, "alpha": alpha}
        self.iterations = iterations
        self.seed = seed

    def fit(self, data: TrainingData) -> None:
        """Factorise the user-item matrix."""
        from implicit.cpu.als import AlternatingLeastSquares

        with threadpool_limits(1, "blas"):
            model = AlternatingLeastSquares(
                iterations=self.iterations, random_state=self.seed, **self.params
            )
            model.fit(data.matrix, show_progress=False)
        self.user_factors = np.asarray(model.user_factors, dtype=np.float32)
        self.item_factors = np.asarray(model.item_factors, dtype=np.float32)

    def scores(self, users: IntVector) -> FloatMatrix:
        """Dot products of user and item factors."""
        return self.user_factors[users] @ self.item_factors.T


class EASE(ScoringRecommender):
    """Embarrassingly shallow autoencoder (Steck 2019): closed-form item-item weights."""

    name = "ease"

    def __init__(self, l2: float = 400.0) -> None:
        self.l2 = l2

    def fit(self, data: TrainingData) -> None:
        """Solve B = I - P diagMat(1 / diag(P)) with P = (X'X + l2 I)^-1, zero diagonal."""
        gram = (data.matrix.T @ data.matrix).toarray().astype(np.float64)
        gram[np.diag_indices_from(gram)] += self.l2
        inverse = np.linalg.inv(gram)
        weights = -inverse / np.diag(inverse)
        weights[np.diag_indices_from(weights)] = 0.0
        self.weights = weights.astype(np.float32)
        self.matrix = data.matrix

    def scores(self, users: IntVector) -> FloatMatrix:
        """The user's training row times the item weights."""
        return np.asarray(self.matrix[users] @ self.weights, dtype=np.float32)


BASELINES: dict[str, Callable[[int], Recommender]] = {
    "pop": lambda seed: Popularity(),
    "itemknn": lambda seed: ItemKNN(),
    "implicit-als": lambda seed: ImplicitALS(seed=seed),
    "ease": lambda seed: EASE(),
}
BASELINE_NAMES: tuple[str, ...] = tuple(BASELINES)
