"""Every model the evaluator compares, by name: the baselines and the project's own pipeline
(`offline.train.fit`), with and without the ranker, adapted from its string-id interface."""

from __future__ import annotations

import numpy as np
from scipy import sparse

from offline.baselines import BASELINE_NAMES, BASELINES, IntVector, Recommender, TrainingData
from offline.metrics import PAD, IntMatrix
from offline.train import FittedModel, TrainParams, fit

PROJECT_NAMES: tuple[str, ...] = ("als", "als+ranker")
MODEL_NAMES: tuple[str, ...] = (*BASELINE_NAMES, *PROJECT_NAMES)


PROTOCOL_LABEL_SPLITS: dict[str, str] = {"recbole": "random", "temporal": "time"}
"""The ranker label split that asks the question each protocol tests: a random share of each
user's items (RecBole's random split), the latest events (a time cut). The default, each user's
last event, is the next-item question that serving and `bench/offline/quality.py` ask; on the
RecBole ML-1M split a ranker trained for it scores NDCG@10 0.076, against 0.289 when trained on
a random split."""


def params_for(protocol: str) -> TrainParams:
    """Training parameters for evaluating the project's model under `protocol`."""
    split = PROTOCOL_LABEL_SPLITS.get(protocol)
    return TrainParams() if split is None else TrainParams(label_split=split)


class ProjectFit:
    """The project's pipeline trained once per training data, shared by its two modes."""

    def __init__(self, params: TrainParams | None = None) -> None:
        self.params = params or TrainParams()
        self._data: TrainingData | None = None
        self._model: FittedModel | None = None

    def model_for(self, data: TrainingData) -> FittedModel:
        """The model trained on `data` (trained at the first call for it)."""
        if self._model is None or self._data is not data:
            self._model = fit(data.events, data.item_frame, self.params, progress=False)
            self._data = data
        return self._model


class ProjectModel(Recommender):
    """The project's trained model, with or without the ranker."""

    def __init__(self, shared: ProjectFit, ranker: bool, slack: int = 50) -> None:
        self.shared = shared
        self.ranker = ranker
        self.slack = slack
        self.name = "als+ranker" if ranker else "als"

    def fit(self, data: TrainingData) -> None:
        """Train through the project's pipeline (once for both modes, see `ProjectFit`)."""
        self.data = data
        self.model = self.shared.model_for(data)

    def recommend(self, users: IntVector, k: int, exclude: sparse.csr_matrix) -> IntMatrix:
        """Ask for k + slack items, then drop excluded and unknown ones."""
        user_ids = [self.data.users[u] for u in users]
        lists = self.model.recommend(
            user_ids, k + self.slack, ranker=self.ranker, now=self.data.now, exclude_seen=True
        )
        out = np.full((len(users), k), PAD, dtype=np.int64)
        for row, (user, user_id) in enumerate(zip(users, user_ids, strict=True)):
            banned = set(exclude.indices[exclude.indptr[user] : exclude.indptr[user + 1]])
            picked = [
                index
                for item in lists.get(user_id, [])
                if (index := self.data.item_index.get(item, PAD)) != PAD and index not in banned
            ][:k]
            out[row, : len(picked)] = picked
        return out


def make_recommender(name: str, seed: int = 2020, shared: ProjectFit | None = None) -> Recommender:
    """The model registered under `name`; the project's modes train through `shared`."""
    if name in BASELINES:
        return BASELINES[name](seed)
    if name in PROJECT_NAMES:
        return ProjectModel(shared or ProjectFit(), ranker=name == "als+ranker")
    raise ValueError(f"unknown model {name!r}; expected one of {', '.join(MODEL_NAMES)}")
