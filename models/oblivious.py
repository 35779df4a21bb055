"""A CatBoost ranker's oblivious trees scored with numpy: `predict`'s scores without its Pool.

CatBoost's `predict` has a fixed cost per call (its Pool), so for small matrices serving reads
the model's trees once (JSON export) and scores them directly; past NATIVE_WORK it calls
`predict`, whose compiled loop is faster on large ones. Both give the same scores bit for bit.
Models the numpy path cannot express exactly (categorical or text features, non-symmetric
trees, several outputs) always keep CatBoost's own `predict`.
"""

from __future__ import annotations

import json
import tempfile
import threading
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from models.rankers import CatBoostRanker, Ranker

Scorer = Callable[[np.ndarray], np.ndarray]
NATIVE_WORK = 150_000
"""Rows x trees x depth from which scoring goes to CatBoost's `predict`. Measured on 2 cores,
the two paths break even near 100 rows of 450 depth-4 trees and 50 rows of 600 depth-6 trees
(about 180,000); at 350 rows `predict` takes half the time or less."""
_compiled: weakref.WeakKeyDictionary[CatBoostRanker, ObliviousTrees | None] = (
    weakref.WeakKeyDictionary()
)
_lock = threading.Lock()


@dataclass(frozen=True)
class ObliviousTrees:
    """Symmetric trees as arrays: each distinct split once, then every tree's leaf index."""

    split_features: np.ndarray
    split_borders: np.ndarray
    split_of_level: np.ndarray
    depth: int
    leaves: np.ndarray
    offsets: np.ndarray
    scale: float
    bias: float
    nan_high: np.ndarray
    feature_count: int

    @classmethod
    def from_json(cls, model: dict[str, Any]) -> ObliviousTrees | None:
        """Trees of a CatBoost JSON export, None when the model is not plain float trees."""
        info = model.get("features_info", {})
        trees = model.get("oblivious_trees")
        if set(info) != {"float_features"} or not trees:
            return None
        depth = len(trees[0]["splits"])
        for tree in trees:
            plain = all(split["split_type"] == "FloatFeature" for split in tree["splits"])
            if not plain or len(tree["splits"]) != depth or len(tree["leaf_values"]) != 1 << depth:
                return None
        # Level-major order: entry level * trees + tree holds that tree's split at that level.
        keys = [
            (tree["splits"][level]["float_feature_index"], tree["splits"][level]["border"])
            for level in range(depth)
            for tree in trees
        ]
        distinct = sorted(set(keys))
        position = {key: n for n, key in enumerate(distinct)}
        scale, biases = model.get("scale_and_bias", [1.0, [0.0]])
        features = info["float_features"]
        return cls(
            split_features=np.array([f for f, _ in distinct], dtype=np.intp),
            split_borders=np.array([b for _, b in distinct], dtype=np.float32)[:, None],
            split_of_level=np.array([position[key] for key in keys], dtype=np.intp),
            depth=depth,
            leaves=np.array([v for tree in trees for v in tree["leaf_values"]], dtype=np.float64),
            offsets=(np.arange(len(trees), dtype=np.int32) << depth)[:, None],
            scale=float(scale),
            bias=float(biases[0]) if biases else 0.0,
            nan_high=np.array(
                [f["flat_feature_index"] for f in features if f["nan_value_treatment"] == "Max"],
                dtype=np.intp,
            ),
            feature_count=max((f["flat_feature_index"] for f in features), default=-1) + 1,
        )

    def score(self, features: np.ndarray) -> np.ndarray:
        """One raw score per row, as CatBoost's RawFormulaVal (features compared as float32)."""
        columns = np.ascontiguousarray(features.T, dtype=np.float32)
        if len(self.nan_high):
            high = columns[self.nan_high]
            high[np.isnan(high)] = np.inf
            columns[self.nan_high] = high
        passed = (columns[self.split_features] > self.split_borders).view(np.uint8)
        levels = passed[self.split_of_level].reshape(self.depth, -1, len(features))
        leaf = levels[0].copy()
        for level in range(1, self.depth):
            leaf |= levels[level] << level
        totals = self.leaves[leaf + self.offsets].sum(axis=0)
        return np.asarray(totals * self.scale + self.bias, dtype=np.float64)


def compile_catboost(ranker: CatBoostRanker) -> ObliviousTrees | None:
    """The ranker's trees read from its JSON export (None when they cannot be scored here)."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "model.json"
        ranker.model.save_model(str(path), format="json")
        exported = json.loads(path.read_text())
    return ObliviousTrees.from_json(exported)


def scorer_of(ranker: Ranker) -> Scorer:
    """The fastest exact scorer of `ranker`: its compiled trees, else its own `score`."""
    if not isinstance(ranker, CatBoostRanker):
        return ranker.score
    with _lock:
        known = ranker in _compiled
        trees = _compiled.get(ranker)
    if not known:
        trees = compile_catboost(ranker)
        with _lock:
            _compiled[ranker] = trees
    if trees is None:
        return ranker.score
    compiled = trees

    work = len(compiled.offsets) * compiled.depth

    def score(features: np.ndarray) -> np.ndarray:
        small = len(features) * work < NATIVE_WORK
        if small and len(features) and features.shape[1] >= compiled.feature_count:
            return compiled.score(features)
        return ranker.score(features)

    return score
