"""Ranker training: candidates and features as serving makes them, labels from a holdout.

The events are split into history and held-out labels (`holdout`: the last fraction of the
window, or a random fraction of each user's events). Retrieval models, user views and item
signals come only from the history; labels are each label user's held-out interactions,
graded by type.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import polars as pl
from tqdm import tqdm

from models.confidence import SPREAD_KEY, score_spread
from models.context import ServingConfig
from models.pipeline import candidate_features
from models.rankers import CatBoostRanker, train_catboost
from models.types import ItemMeta, UserView
from models.weights import label_grade
from offline.build import Content, EarlierFactors, build_retrieval
from offline.etl import build_interactions
from offline.moments import item_timeline, world_moment
from offline.params import TrainParams
from offline.served import OfflineWorld, context_for, world_at
from offline.timing import StageTimer
from offline.views import assert_no_leakage, before, signals_snapshot, user_views
from streamrec.errors import ModelFitError


@dataclass
class RankerData:
    """Stacked feature rows, graded labels and contiguous group (user) ids."""

    features: np.ndarray
    labels: np.ndarray
    groups: np.ndarray


def label_cut(events: pl.DataFrame, fraction: float) -> float:
    """The time splitting history (before) from labels (the last `fraction` of events)."""
    return float(events["timestamp"].quantile(1.0 - fraction, "lower"))  # type: ignore[arg-type]


@dataclass(frozen=True)
class Holdout:
    """Events the ranker's features may see, the held-out events that grade its candidates,
    the moment after every history event, and each label user's own moment (the time of their
    held-out event) when the split has one."""

    history: pl.DataFrame
    labels: pl.DataFrame
    at: float
    moments: dict[str, float] = field(default_factory=dict)


def holdout(events: pl.DataFrame, split: str, fraction: float, seed: int) -> Holdout:
    """`last`: each user's last event (timestamp, then file order) is the label, the next item
    as serving predicts it; `time`: the last `fraction` of events are labels; `random`: a random
    `fraction` of each user's events (seeded). Views are read just after the newest history
    event (`time`: at the cut); with `last`, each user's moment is their held-out event's time,
    where serving would have ranked for it."""
    if split == "time":
        cut = label_cut(events, fraction)
        late = pl.col("timestamp") >= cut
        return Holdout(events.filter(~late), events.filter(late), cut)
    if split == "last":
        ordered = events.with_row_index("row").sort(["user_id", "timestamp", "row"])
        last = (pl.col("row") == pl.col("row").last().over("user_id")) & (
            pl.len().over("user_id") > 1
        )
        picked = ordered.select(last).to_series()
        history, labels = ordered.filter(~picked).drop("row"), ordered.filter(picked).drop("row")
    elif split == "random":
        picked = pl.Series(np.random.default_rng(seed).random(events.height) < fraction)
        history, labels = events.filter(~picked), events.filter(picked)
    else:
        raise ValueError(f"label split must be last, time or random, got {split!r}")
    at = float(history["timestamp"].max()) + 1.0  # type: ignore[arg-type]
    if split != "last":
        return Holdout(history, labels, at)
    moments = dict(zip(labels["user_id"].to_list(), labels["timestamp"].to_list(), strict=True))
    return Holdout(history, labels, at, moments)


def graded_labels(labels: pl.DataFrame) -> dict[str, dict[str, int]]:
    """Per user, per item: the best grade of their held-out events."""
    grades: dict[str, dict[str, int]] = {}
    for user_id, item_id, kind, value in labels.select(
        "user_id", "item_id", "type", "value"
    ).iter_rows():
        grade = label_grade(kind, value)
        if grade > 0:
            per_user = grades.setdefault(user_id, {})
            per_user[item_id] = max(per_user.get(item_id, 0), grade)
    return grades


def seen_items(events: pl.DataFrame, users: list[str], at: float) -> dict[str, frozenset[str]]:
    """Items each user interacted with before `at`."""
    grouped = (
        before(events, at)
        .filter(pl.col("user_id").is_in(pl.Series(users, dtype=pl.String).implode()))
        .group_by("user_id")
        .agg(pl.col("item_id").unique())
        .collect()
    )
    return {user: frozenset(items) for user, items in grouped.iter_rows()}


def sample_users(
    labels: dict[str, dict[str, int]], known: set[str], count: int, seed: int
) -> list[str]:
    """Up to `count` label users that also have history, sampled reproducibly."""
    eligible = sorted(user for user in labels if user in known)
    if len(eligible) > count:
        picked = np.random.default_rng(seed).choice(len(eligible), size=count, replace=False)
        eligible = [eligible[i] for i in sorted(picked)]
    return eligible


def training_config(params: TrainParams) -> ServingConfig:
    """The serving configuration ranker training and offline evaluation run the pipeline with:
    the ranker's candidate count, no exploration."""
    return ServingConfig(exploration_slots=0, candidate_limit=params.ranker_candidates)


def training_rows(
    world: WorldOf,
    views: dict[str, UserView],
    labels: dict[str, dict[str, int]],
    params: TrainParams,
    progress: bool,
) -> RankerData:
    """Each view's candidates and features from the serving steps in its user's world (what
    the user consumed is filtered as serving filters it), labelled by the held-out items."""
    blocks: list[np.ndarray] = []
    grades: list[np.ndarray] = []
    groups: list[np.ndarray] = []
    config = training_config(params)
    for group, (user_id, view) in enumerate(
        tqdm(views.items(), desc="ranker set", disable=None if progress else True)
    ):
        ctx = context_for(world(user_id), view, config, seed=params.seed)
        candidates, x = candidate_features(ctx)
        wanted = labels.get(user_id, {})
        y = np.array([wanted.get(item, 0) for item in candidates.ids], dtype=np.float64)
        if not y.any():
            continue
        blocks.append(x)
        grades.append(y)
        groups.append(np.full(len(y), group, dtype=np.int64))
    if not blocks:
        raise ModelFitError("ranker: no label user has a relevant item among its candidates")
    return RankerData(np.vstack(blocks), np.concatenate(grades), np.concatenate(groups))


SPREAD_USERS = 300
"""Label users whose served candidates measure the ranker's typical score spread."""
WorldOf = Callable[[str], OfflineWorld]
"""The world a user's list is ranked in."""


def worlds_of(
    world: OfflineWorld, past: pl.DataFrame, moments: dict[str, float], params: TrainParams
) -> WorldOf:
    """Each user's world: at their own moment when the split gives one and
    `params.ranker_moments`, else `world` for everyone."""
    if not moments or not params.ranker_moments or world.pools.items is None:
        return lambda user_id: world
    timeline = item_timeline(past, world.pools.items.index)

    def of(user_id: str) -> OfflineWorld:
        at = moments.get(user_id)
        return world if at is None else world_moment(world, timeline, at)

    return of


def serving_spread(
    world: WorldOf, views: dict[str, UserView], ranker: CatBoostRanker, params: TrainParams
) -> float | None:
    """Median spread of the ranker's scores over served candidate sets of up to SPREAD_USERS
    label users (`models.confidence`: the reference a page's confidence is measured against)."""
    spreads: list[float] = []
    for user_id, view in list(views.items())[:SPREAD_USERS]:
        ctx = context_for(world(user_id), view, ServingConfig(exploration_slots=0), seed=0)
        candidates, x = candidate_features(ctx)
        spread = score_spread(ranker.score(x), ctx.bundle) if len(candidates) else None
        if spread:
            spreads.append(spread)
    return float(np.median(spreads)) if spreads else None


def ranker_bundle_params(params: TrainParams) -> TrainParams:
    """The parameters of the ranker's retrieval bundle: no ranker, and exact ALS retrieval. The
    bundle is neither saved nor served, and at most `ranker_users` lists ask it, so an index over
    the catalogue would cost more than it saves (911k items: about 60 s and 1.1 GiB of peak RSS);
    below `models.retrieval.EXACT_BELOW` items the index answers exactly anyway."""
    return replace(params, ranker=False, retriever="exact")


def train_ranker(
    events: pl.DataFrame,
    meta: dict[str, ItemMeta],
    content: Content,
    params: TrainParams,
    timer: StageTimer,
) -> tuple[CatBoostRanker, dict[str, Any], EarlierFactors]:
    """Fit CatBoost YetiRank on a holdout (`params.label_split`) of cleaned `events`.

    Returns the ranker, its stats and the ALS factors of the retrieval bundle fitted on the
    events before the cut (where the final ALS fit starts from); the rest of that bundle is
    released on return, before the final one is built.
    """
    split = holdout(events, params.label_split, params.label_fraction, params.seed)
    cut, past = split.at, split.history
    with timer.stage("ranker etl"):
        history = build_interactions(past.lazy(), replace(params.etl, until=cut))
        labels = graded_labels(split.labels)
        users = sample_users(
            labels, set(history.user_ids.tolist()), params.ranker_users, params.seed
        )
        views = user_views(past, users, cut, meta, params.weighting, params.history_size)
        signals = signals_snapshot(past, cut)
        assert_no_leakage(views, signals, cut)
    bundle = build_retrieval(history, content, ranker_bundle_params(params), timer)
    bundle.manifest["parameters"] = params.to_json()
    with timer.stage("ranker features"):
        world = world_at(bundle, signals, meta, cut, params.ranker_candidates)
        worlds = worlds_of(world, past, split.moments, params)
        data = training_rows(worlds, views, labels, params, timer.verbose)
    with timer.stage("ranker fit"):
        ranker = train_catboost(
            data.features,
            data.labels,
            data.groups,
            iterations=params.ranker_iterations,
            threads=params.ranker_threads,
            seed=params.seed,
            depth=params.ranker_depth,
            learning_rate=params.ranker_learning_rate,
            seeds=params.ranker_seeds,
        )
    stats: dict[str, Any] = {
        "cut": cut,
        "label_users": len(users),
        "groups": len(np.unique(data.groups)),
        "rows": len(data.labels),
        "positive_rows": int((data.labels > 0).sum()),
    }
    with timer.stage("ranker spread"):
        stats[SPREAD_KEY] = serving_spread(worlds, views, ranker, params)

    return ranker, stats, EarlierFactors.of(bundle)
