"""Training entry points: `fit` (in memory, for evaluation) and `train_and_register`."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import polars as pl

from models.bundle import ModelBundle
from models.candidates import CandidateConfig, generate
from models.ranking import rank
from models.types import ItemMeta, ItemSignals, UserView
from offline.build import build_content, build_retrieval
from offline.etl import build_interactions, erased_users, load_items, scan_events
from offline.params import TrainParams
from offline.ranker import seen_items, train_ranker
from offline.registry import write_version
from offline.timing import StageTimer
from offline.views import meta_lookup, signals_snapshot, trending_items, user_views

__all__ = ["FittedModel", "TrainParams", "fit", "fit_lazy", "train_and_register"]


@dataclass
class FittedModel:
    """A trained bundle plus the cleaned training events it can build user views from."""

    bundle: ModelBundle
    events: pl.DataFrame
    meta: dict[str, ItemMeta]
    params: TrainParams
    timer: StageTimer
    _signals: dict[float, dict[str, ItemSignals]] = field(default_factory=dict, repr=False)

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
        """Top-k item ids per user: generate, then rank when `ranker`, else retrieval order."""
        signals = self.signals_at(now)
        config = CandidateConfig(trending_items=trending_items(signals))
        seen = seen_items(self.events, list(user_ids), math.inf) if exclude_seen else {}
        result: dict[str, list[str]] = {}
        for user_id, view in self.views(user_ids, now).items():
            user_config = replace(config, exclude=seen.get(user_id, frozenset()))
            candidates = generate(
                self.bundle, view, signals.get, self.meta.get, now, config=user_config
            )
            if ranker:
                ranked = rank(self.bundle, view, candidates, signals.get, self.meta.get, now)
                candidates = [candidate for candidate, _ in ranked]
            result[user_id] = [candidate.item_id for candidate in candidates[:k]]
        return result


def fit_lazy(
    events: pl.LazyFrame,
    items: pl.DataFrame | None,
    params: TrainParams,
    *,
    erased: pl.LazyFrame | None = None,
    progress: bool = True,
) -> FittedModel:
    """Train every model from a lazy event scan (collected once by the ETL)."""
    timer = StageTimer(progress)
    with timer.stage("etl"):
        data = build_interactions(events, params.etl, erased)
        meta = meta_lookup(items)
    with timer.stage("content"):
        content = build_content(items, params)
    bundle = build_retrieval(data, content, params, timer)
    metrics: dict[str, object] = {}
    if params.ranker:
        ranker, stats = train_ranker(data.events, meta, content, params, timer)
        bundle.ranker = ranker
        metrics["ranker"] = stats
    bundle.manifest = {
        "window": {"start": data.window[0], "end": data.window[1]},
        "parameters": params.to_json(),
        "metrics": metrics,
        "counts": {
            "events": data.events.height,
            "users": len(data.user_ids),
            "items": len(data.item_ids),
            "catalog": len(content.ids),
            "nonzeros": int(data.matrix.nnz),
        },
        "timings": dict(timer.seconds),
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
        scan_events(events_path), items, params, erased=erased_users(users_path), progress=progress
    )
    with fitted.timer.stage("registry"):
        version = write_version(registry, fitted.bundle)
    return version, fitted
