"""Rankers behind one protocol: CatBoost (YetiRank) and a retrieval-score baseline."""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

import numpy as np
from catboost import CatBoost, Pool, sum_models

from streamrec.errors import ModelFitError, RegistryError


class Ranker(Protocol):
    """Scores feature rows (columns in FEATURE_NAMES order); higher ranks first."""

    kind: str

    def score(self, features: np.ndarray) -> np.ndarray:
        """One score per row."""
        ...


class BaselineRanker:
    """Best retrieval score plus a small popularity term; needs no training."""

    kind = "baseline"

    def __init__(self, feature_names: tuple[str, ...]) -> None:
        self.score_columns = [i for i, n in enumerate(feature_names) if n.startswith("score_")]
        self.popularity_column = feature_names.index("popularity")

    def score(self, features: np.ndarray) -> np.ndarray:
        """Max over sources of the retrieval score, ties broken by popularity."""
        if len(features) == 0:
            return np.empty(0, dtype=np.float64)
        best = features[:, self.score_columns].max(axis=1)
        return np.asarray(best + 1e-3 * features[:, self.popularity_column], dtype=np.float64)


class CatBoostRanker:
    """A CatBoost model trained with YetiRank on groups of one user's candidates."""

    kind = "catboost"

    def __init__(self, model: CatBoost) -> None:
        self.model = model
        self._feature_count: int | None = None

    @property
    def feature_count(self) -> int:
        """Columns the model was trained on (read once: CatBoost builds the list per call)."""
        if self._feature_count is None:
            self._feature_count = len(self.model.feature_names_)
        return self._feature_count

    def score(self, features: np.ndarray) -> np.ndarray:
        """The model's raw relevance score per row (one thread: a request is one small matrix).
        CatBoost reads float32 features column by column, so they are handed over that way
        (the same scores; its Pool is built in half the time)."""
        if len(features) == 0:
            return np.empty(0, dtype=np.float64)
        columns = np.asfortranarray(features, dtype=np.float32)
        return np.asarray(self.model.predict(columns, thread_count=1), dtype=np.float64)

    def save(self, path: Path) -> None:
        """Write the model in CatBoost's binary format."""
        self.model.save_model(str(path))

    @classmethod
    def load(cls, path: Path) -> CatBoostRanker:
        """Read a model written by `save`."""
        model = CatBoost()
        try:
            model.load_model(str(path))
        except Exception as error:  # CatBoostError carries the reason
            raise RegistryError(f"{path.name}: cannot load ranker ({error})") from None
        return cls(model)


def train_catboost(
    features: np.ndarray,
    labels: np.ndarray,
    groups: np.ndarray,
    *,
    iterations: int = 200,
    threads: int = 2,
    seed: int = 0,
    depth: int = 4,
    learning_rate: float = 0.05,
    seeds: int = 1,
) -> CatBoostRanker:
    """Fit YetiRank; rows of one group (user) must be contiguous. With `seeds` > 1, that many
    fits (seeds `seed`, `seed` + 1, ...) are averaged into one model, which lowers the variance
    of the scores at the cost of `seeds` times the trees."""
    if len(features) == 0 or not np.any(labels > 0):
        raise ModelFitError("ranker: no candidate with a positive label to learn from")
    if seeds < 1:
        raise ModelFitError(f"ranker: seeds must be at least 1, got {seeds}")
    pool = Pool(features, label=labels, group_id=groups)
    fits = []
    for offset in range(seeds):
        model = CatBoost(
            {
                "loss_function": "YetiRank:permutations=1",
                "iterations": iterations,
                "depth": depth,
                "learning_rate": learning_rate,
                "thread_count": threads,
                "random_seed": seed + offset,
                "border_count": 64,
                "verbose": False,
                "allow_writing_files": False,
            }
        )
        fits.append(model.fit(pool))
    if seeds == 1:
        return CatBoostRanker(fits[0])
    return CatBoostRanker(sum_models(fits, weights=[1.0 / seeds] * seeds))
