"""Training entry points: `fit` (in memory, for evaluation) and `train_and_register`."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import polars as pl

from models.bundle import ModelBundle, user_vector
from models.context import CANDIDATE_LIMIT, PageQuery
from models.pipeline import recommend
from models.rankers import CatBoostRanker
from models.types import ItemMeta, ItemSignals, UserView
from offline.baselines import top_k
from offline.build import EarlierFactors, build_content, build_retrieval
from offline.consent import Consents, read_consents
from offline.etl import build_interactions, load_items, scan_events
from offline.params import TrainParams
from offline.policy import recommend_policy
from offline.ranker import seen_items, train_ranker, training_config
from offline.registry import write_version
from offline.served import OfflineWorld, context_for, world_at
from offline.timing import StageTimer
from offline.views import meta_lookup, signals_snapshot, user_views

__all__ = ["FittedModel", "TrainParams", "als_top", "fit", "fit_lazy", "train_and_register"]


@dataclass
class FittedModel:
    """A trained bundle plus the cleaned training events it can build user views from."""

    bundle: ModelBundle
    events: pl.DataFrame
    meta: dict[str, ItemMeta]
    params: TrainParams
    timer: StageTimer
    _signals: dict[float, dict[str, ItemSignals]] = field(default_factory=dict, repr=False)
    _worlds: dict[float, OfflineWorld] = field(default_factory=dict, repr=False)

    def signals_at(self, now: float) -> dict[str, ItemSignals]:
        """Item signals from the training events before `now` (cached per moment)."""
        if now not in self._signals:
            self._signals[now] = signals_snapshot(self.events, now)
        return self._signals[now]

    def views(self, user_ids: Sequence[str], now: float) -> dict[str, UserView]:
        """Each user's view from the training events (last `history_size`), empty if unknown."""
        at = max(now, self.bundle.manifest.get("window", {}).get("end", now) + 1e-3)
        known = user_views(
            self.events, user_ids, at, self.meta, self.params.weighting, self.params.history_size
        )
        return {user: known.get(user, UserView(user)) for user in user_ids}

    def recommend(
        self,
        user_ids: Sequence[str],
        k: int,
        *,
        ranker: bool,
        now: float,
        exclude_seen: bool = True,
    ) -> dict[str, list[str]]:
        """Top-k item ids per user: the ranker's order of the candidates when `ranker`, else
        ALS order alone (exact dot product of the user vector with every item)."""
        users = list(user_ids)
        seen = seen_items(self.events, users, math.inf) if exclude_seen else {}
        views = self.views(users, now)
        if ranker:
            return self._ranked(users, views, seen, k, now)
        return als_top(self.bundle, [views[user] for user in users], seen, k, now)

    def _ranked(
        self,
        users: list[str],
        views: dict[str, UserView],
        seen: dict[str, frozenset[str]],
        k: int,
        now: float,
    ) -> dict[str, list[str]]:
        """Each user's page from the serving pipeline (no exploration) at `now`."""
        world = self.world_at(now)
        config = replace(training_config(self.params), candidate_limit=CANDIDATE_LIMIT)
        result: dict[str, list[str]] = {}
        for user in users:
            query = PageQuery(count=k, exclude=seen.get(user, frozenset()))
            page = recommend(context_for(world, views[user], config, query, self.params.seed))
            result[user] = [item.item_id for item in page]
        return result

    def world_at(self, now: float) -> OfflineWorld:
        """Item signals, catalog and pools from the training events before `now` (cached)."""
        if now not in self._worlds:
            signals = self.signals_at(now)
            self._worlds[now] = world_at(self.bundle, signals, self.meta, now, CANDIDATE_LIMIT)
        return self._worlds[now]


def als_top(
    bundle: ModelBundle,
    views: Sequence[UserView],
    seen: dict[str, frozenset[str]],
    k: int,
    now: float,
) -> dict[str, list[str]]:
    """Top-k items per user by ALS score alone, scored for all users in one matrix product.

    Users without a vector (unknown, no known history) get the most popular items.
    """
    vectors = np.zeros((len(views), bundle.item_factors.shape[1]), dtype=np.float32)
    cold = np.ones(len(views), dtype=bool)
    for row, view in enumerate(views):
        vector = user_vector(bundle, view, now)
        if vector is not None:
            vectors[row], cold[row] = vector, False
    scores = vectors @ bundle.item_factors.T
    scores[cold] = bundle.log_popularity.astype(np.float32)
    rows, cols = [], []
    for row, view in enumerate(views):
        banned = bundle.item_rows(seen.get(view.user_id, frozenset()))
        rows.append(np.full(len(banned), row, dtype=np.int64))
        cols.append(banned)
    if rows:
        scores[np.concatenate(rows), np.concatenate(cols)] = -np.inf
    top = top_k(scores, k)
    names = bundle.item_names
    return {
        view.user_id: [names[item] for item in top[row].tolist() if item >= 0]
        for row, view in enumerate(views)
    }


def fit_lazy(
    events: pl.LazyFrame,
    items: pl.DataFrame | None,
    params: TrainParams,
    *,
    consent: Consents | None = None,
    progress: bool = True,
) -> FittedModel:
    """Train every model from a lazy event scan (collected once by the ETL)."""
    timer = StageTimer(progress)
    with timer.stage("etl"):
        data = build_interactions(events, params.etl, consent)
        meta = meta_lookup(items)
    with timer.stage("content"):
        content = build_content(items, params)
    metrics: dict[str, object] = {}
    ranker: CatBoostRanker | None = None
    earlier: EarlierFactors | None = None
    if params.ranker:
        ranker, metrics["ranker"], earlier = train_ranker(data.events, meta, content, params, timer)
    bundle = build_retrieval(data, content, params, timer, earlier=earlier)
    bundle.ranker = ranker
    with timer.stage("policy"):
        policy = recommend_policy(data.events)
    bundle.manifest = {
        "window": {"start": data.window[0], "end": data.window[1]},
        "parameters": params.to_json(),
        "metrics": metrics,
        "policy": policy,
        "counts": {
            "events": data.events.height,
            "users": len(data.user_ids),
            "items": len(data.item_ids),
            "catalog": len(content.ids),
            "nonzeros": int(data.matrix.nnz),
        },
        "timings": dict(timer.seconds),
        "peak_rss_mib": dict(timer.peak_mib),
    }
    return FittedModel(bundle, data.events, meta, params, timer)


def fit(
    events: pl.DataFrame, items: pl.DataFrame | None, params: TrainParams, *, progress: bool = True
) -> FittedModel:
    """Train ALS, indexes, transitions, content vectors and (if enabled) the ranker."""
    return fit_lazy(events.lazy(), items, params, progress=progress)


def train_and_register(
    events_path: Path,
    registry: Path,
    params: TrainParams,
    *,
    items_path: Path | None = None,
    users_path: Path | None = None,
    progress: bool = True,
) -> tuple[str, FittedModel]:
    """Train from Parquet or a lake and write a new registry version; returns its name."""
    items = load_items(items_path)
    fitted = fit_lazy(
        scan_events(events_path),
        items,
        params,
        consent=read_consents(users_path),
        progress=progress,
    )
    with fitted.timer.stage("registry"):
        version = write_version(registry, fitted.bundle)
    return version, fitted
