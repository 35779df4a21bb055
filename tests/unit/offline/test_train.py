"""Training: determinism, no leakage into ranker features, the ranker learning a planted signal."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from models.features import COLUMN, FEATURE_NAMES, build_features
from models.oblivious import compile_catboost, scorer_of
from models.rankers import CatBoostRanker, train_catboost
from models.rules import category_cap
from models.types import Candidate, ItemMeta
from models.weights import EventWeighting
from offline.als import AlsParams, train_als
from offline.consent import fold
from offline.etl import EtlParams, build_interactions
from offline.synthetic import blocks
from offline.train import TrainParams, fit
from offline.views import signals_snapshot, user_views
from streamrec.errors import ModelFitError


def test_same_seed_gives_the_same_factors() -> None:
    events, _ = blocks(groups=2, users_per_group=20, items_per_group=15)
    data = build_interactions(events.lazy(), EtlParams())
    first = train_als(data.matrix, AlsParams(factors=8, iterations=5, seed=7))
    second = train_als(data.matrix, AlsParams(factors=8, iterations=5, seed=7))
    other = train_als(data.matrix, AlsParams(factors=8, iterations=5, seed=8))
    assert np.array_equal(first[1], second[1]) and np.array_equal(first[0], second[0])
    assert not np.array_equal(first[1], other[1])


def test_etl_drops_duplicates_erased_users_and_bots() -> None:
    events = pl.DataFrame(
        {
            "event_id": ["a", "a", "b", "c"] + [f"bot{i}" for i in range(50)],
            "user_id": ["u1", "u1", "u2", "gone"] + ["bot"] * 50,
            "item_id": ["x", "x", "y", "z"] + ["x"] * 50,
            "type": ["purchase", "purchase", "view", "view"] + ["view"] * 50,
            "timestamp": [0.0, 0.0, 86400.0, 10.0] + [100.0 + i for i in range(50)],
            "value": [None] * 54,
        },
        schema_overrides={"value": pl.Float64},
    )
    erased = fold([("gone", "erase", 10.0)])
    params = EtlParams(EventWeighting(half_life_days=None), max_events_per_day=20)
    data = build_interactions(events.lazy(), params, erased)
    assert sorted(data.user_ids.tolist()) == ["u1", "u2"]
    assert data.matrix[data.user_ids.tolist().index("u1")].sum() == 8.0


def test_features_at_a_cut_ignore_events_at_or_after_it() -> None:
    events, items = blocks(groups=1, users_per_group=5, items_per_group=10)
    cut = float(events["timestamp"].median())  # type: ignore[arg-type]
    user = "u0-0"
    late = pl.DataFrame(
        {
            "event_id": ["late1", "late2"],
            "user_id": [user, "u0-1"],
            "item_id": ["g0-i5", "g0-i5"],
            "type": ["purchase", "purchase"],
            "timestamp": [cut, cut + 5.0],
            "value": [None, None],
        },
        schema_overrides={"value": pl.Float64},
    )
    leaky = pl.concat([events, late])
    meta = {
        r["item_id"]: ItemMeta(r["item_id"], category=r["category"])
        for r in items.iter_rows(named=True)
    }
    weighting = EventWeighting()
    rows = []
    for frame in (events, leaky):
        view = user_views(frame, [user], cut, meta, weighting)[user]
        signals = signals_snapshot(frame, cut)
        candidates = [Candidate("g0-i5", "trending", 1.0, anchor_item_id="g0-i5")]
        x, names = build_features(None, view, candidates, signals.get, meta.get, cut)
        rows.append(x)
    assert names == FEATURE_NAMES
    assert np.array_equal(rows[0], rows[1])


def test_ranker_learns_a_planted_feature() -> None:
    rng = np.random.default_rng(0)
    groups = np.repeat(np.arange(60), 20)
    features = rng.normal(size=(len(groups), len(FEATURE_NAMES)))
    planted = features[:, COLUMN["price"]]
    labels = (planted > 0.8).astype(float) * 2 + (planted > 1.5)
    ranker = train_catboost(features, labels, groups, iterations=60, threads=1)
    fresh = rng.normal(size=(400, len(FEATURE_NAMES)))
    scores = ranker.score(fresh)
    relevant = scores[fresh[:, COLUMN["price"]] > 1.0]
    irrelevant = scores[fresh[:, COLUMN["price"]] < 0.5]
    pairs_in_order = (relevant[:, None] > irrelevant[None, :]).mean()
    assert pairs_in_order > 0.9


def test_ranker_takes_the_given_learning_rate() -> None:
    rng = np.random.default_rng(1)
    groups = np.repeat(np.arange(10), 5)
    features = rng.normal(size=(len(groups), len(FEATURE_NAMES)))
    labels = (features[:, COLUMN["price"]] > 0).astype(float)
    ranker = train_catboost(features, labels, groups, iterations=3, threads=1, learning_rate=0.2)
    assert ranker.model.get_all_params()["learning_rate"] == pytest.approx(0.2)


def test_fit_trains_a_ranker_and_recommends_unseen_items_of_the_users_block() -> None:
    events, items = blocks(groups=2, users_per_group=30, items_per_group=20)
    params = TrainParams(
        factors=8, iterations=8, retriever="exact", ranker_iterations=30, ranker_threads=1
    )
    fitted = fit(events, items, params, progress=False)
    assert fitted.bundle.ranker is not None
    assert fitted.bundle.manifest["metrics"]["ranker"]["positive_rows"] > 0
    assert fitted.bundle.manifest["metrics"]["ranker"]["score_spread"] > 0  # confidence reference
    assert isinstance(fitted.bundle.ranker, CatBoostRanker)
    trees = fitted.bundle.ranker.model.tree_count_
    assert trees == params.ranker_iterations * params.ranker_seeds
    recorded = fitted.bundle.manifest["parameters"]
    assert recorded["ranker_learning_rate"] == pytest.approx(params.ranker_learning_rate)
    policy = fitted.bundle.manifest["policy"]
    assert policy["consumed_types"] == ["purchase", "rating"]
    assert 0.0 <= policy["repeat_rate"] <= 1.0 and isinstance(policy["rebuy"], bool)
    now = float(events["timestamp"].max()) + 1.0  # type: ignore[arg-type]
    # Pages come from the serving pipeline: at most `cap` items of each of the two blocks.
    k = 10
    cap = category_cap(k, 0.5)
    assert cap == 5
    top = fitted.recommend(["u1-4", "newcomer"], k, ranker=True, now=now)
    seen = set(events.filter(pl.col("user_id") == "u1-4")["item_id"].to_list())
    page = top["u1-4"]
    assert not seen & set(page)
    unseen_of_block = {i for i in fitted.meta if i.startswith("g1-")} - seen
    first = min(cap, len(unseen_of_block))
    assert first > 0 and all(item.startswith("g1-") for item in page[:first])  # own block first
    for block in ("g0-", "g1-"):
        assert sum(item.startswith(block) for item in page) <= cap
    assert len(page) == first + cap
    assert len(top["newcomer"]) == 2 * cap


def _planted_rows() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(3)
    groups = np.repeat(np.arange(30), 8)
    features = rng.normal(size=(len(groups), len(FEATURE_NAMES)))
    labels = (features[:, COLUMN["price"]] > 0.3).astype(float)
    return features, labels, groups


def test_averaged_seeds_score_the_mean_of_the_single_fits() -> None:
    features, labels, groups = _planted_rows()
    fit_args = {"iterations": 20, "threads": 1, "seed": 7}
    averaged = train_catboost(features, labels, groups, seeds=3, **fit_args)
    singles = [
        train_catboost(features, labels, groups, iterations=20, threads=1, seed=7 + n)
        for n in range(3)
    ]
    mean = np.mean([single.score(features) for single in singles], axis=0)
    assert np.allclose(averaged.score(features), mean, atol=1e-9)
    assert not np.allclose(singles[0].score(features), singles[1].score(features))
    assert averaged.model.tree_count_ == 60


def test_averaged_ranker_is_scored_exactly_by_its_compiled_trees() -> None:
    features, labels, groups = _planted_rows()
    averaged = train_catboost(features, labels, groups, iterations=10, threads=1, seeds=2)
    compiled = compile_catboost(averaged)
    assert compiled is not None
    assert np.array_equal(compiled.score(features), averaged.score(features))
    assert np.array_equal(scorer_of(averaged)(features), averaged.score(features))


def test_ranker_refuses_fewer_than_one_seed() -> None:
    features, labels, groups = _planted_rows()
    with pytest.raises(ModelFitError, match="seeds"):
        train_catboost(features, labels, groups, iterations=2, threads=1, seeds=0)
