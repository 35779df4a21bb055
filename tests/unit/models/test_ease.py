"""User-level EASE: the whole known history scored against the bundle's sparse weights; and the
bundle rows candidates carry, which features read instead of mapping ids again."""

from __future__ import annotations

import random
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp

import models.fold
from models.bundle import (
    EaseScores,
    ModelBundle,
    ease_matrix,
    ease_scores,
    history_rows,
    summed_rows,
    user_items_of,
)
from models.candidates import CandidateConfig, generate_set
from models.features import COLUMN, build_features, item_columns
from models.ranking import BASELINE, ranker_of
from models.serving import PageQuery, ServingConfig, hydrate, recommend
from models.source_list import SourceList
from models.types import HistoryItem, ItemMeta, ItemSignals, UserView
from offline.registry import save_artifacts
from offline.synthetic import blocks
from offline.train import FittedModel, TrainParams, fit

PARAMS = TrainParams(factors=8, iterations=8, retriever="exact", ranker=False, similar_top=30)


@pytest.fixture(scope="module")
def fitted() -> FittedModel:
    events, items = blocks(groups=3, users_per_group=30, items_per_group=20)
    return fit(events, items, PARAMS, progress=False)


def no_signals(item_id: str) -> None:
    return None


def test_summed_rows_match_the_sparse_sum() -> None:
    matrix = sp.random(40, 30, density=0.2, format="csr", random_state=3)
    rows = np.array([2, 5, 5, 39])
    expected = np.asarray(matrix[rows].sum(axis=0)).ravel()
    assert np.allclose(summed_rows(matrix, rows), expected)
    assert summed_rows(matrix, np.empty(0, dtype=np.int64)).tolist() == [0.0] * 30


def test_dense_and_sparse_weights_sum_to_the_same_bits() -> None:
    rng = np.random.default_rng(5)
    neighbours = np.stack([rng.choice(50, 20, replace=False) for _ in range(50)])
    neighbours[:, -3:] = -1  # padding
    scores = rng.normal(size=neighbours.shape).astype(np.float32)
    dense = ease_matrix(neighbours, scores, 50)
    sparse = ease_matrix(neighbours[:, :2], scores[:, :2], 50)
    assert isinstance(dense, np.ndarray) and isinstance(sparse, sp.csr_matrix)
    as_sparse = sp.csr_matrix(dense)
    for rows in (np.array([0, 3, 7, 49]), np.arange(50), np.empty(0, dtype=np.int64)):
        assert np.array_equal(summed_rows(dense, rows), summed_rows(as_sparse, rows))


def test_a_known_users_history_is_the_training_window_plus_later_live_events(
    fitted: FittedModel,
) -> None:
    bundle = fitted.bundle
    assert bundle.user_items is not None
    row = bundle.user_index["u1-4"]
    trained = set(
        bundle.user_items.indices[
            bundle.user_items.indptr[row] : bundle.user_items.indptr[row + 1]
        ].tolist()
    )
    end = float(bundle.manifest["window"]["end"])
    late = HistoryItem("g2-i7", "purchase", end + 10.0)
    early = HistoryItem("g2-i8", "purchase", end - 10.0)
    found = history_rows(bundle, UserView("u1-4", history=[late, early]), end + 20.0)
    assert set(found.tolist()) == trained | {bundle.item_index["g2-i7"]}


def test_ease_scores_favour_the_users_own_block_and_are_kept_per_request(
    fitted: FittedModel, monkeypatch: pytest.MonkeyPatch
) -> None:
    bundle = fitted.bundle
    view = UserView("u2-5")
    scores = ease_scores(bundle, view, 0.0)
    assert scores is not None
    ranked = np.argsort(
        -np.where(np.isin(np.arange(len(scores.scores)), scores.history), -np.inf, scores.scores)
    )
    assert all(bundle.item_names[row].startswith("g2-") for row in ranked[:5])
    again = ease_scores(bundle, view, 0.0)
    assert again is not None
    assert np.array_equal(again.scores, scores.scores)
    assert np.array_equal(again.history, scores.history)
    assert ease_scores(bundle, UserView("nobody"), 0.0) is None
    # A request computes them once, in its context, and every step reads them there.
    calls: list[UserView] = []

    def counted(bundle: ModelBundle, user: UserView, now: float) -> EaseScores | None:
        calls.append(user)
        return ease_scores(bundle, user, now)

    monkeypatch.setattr(models.fold, "ease_scores", counted)
    ctx = hydrate(
        bundle,
        view,
        no_signals,
        fitted.meta.get,
        now=0.0,
        rng=random.Random(0),
        query=PageQuery(count=5),
        config=ServingConfig(exploration_slots=0, max_category_share=1.0),
        catalog=fitted.meta.values,
    )
    assert ctx.fold.ease is not None
    assert np.array_equal(ctx.fold.ease.scores, scores.scores)
    assert len(recommend(ctx)) == 5
    assert calls == [view]


def test_the_ease_source_proposes_unseen_items_of_the_users_block(fitted: FittedModel) -> None:
    bundle = fitted.bundle
    view = UserView("u0-2")
    found = generate_set(
        bundle, view, no_signals, 0.0, 8, config=CandidateConfig(shares={"ease": 1.0})
    )
    seen = set(history_rows(bundle, view, 0.0).tolist())
    unseen = {item for item in bundle.item_names if item.startswith("g0-")} - {
        bundle.item_names[row] for row in seen
    }
    assert set(found.ids) == unseen and set(found.sources) == {"ease"}
    rows, _ = build_features(bundle, view, found, no_signals, lambda item: None, 0.0)
    assert np.all(np.diff(rows[:, COLUMN["ease_score"]]) <= 0)
    assert rows[:, COLUMN["ease_rank"]].tolist() == list(range(len(unseen)))
    assert rows[0, COLUMN["known_items"]] == len(seen)
    assert abs(rows[:, COLUMN["ease_z"]].mean()) < 1e-9


def test_training_items_survive_the_saved_arrays(fitted: FittedModel, tmp_path: Path) -> None:
    save_artifacts(fitted.bundle, tmp_path)
    with np.load(tmp_path / "als.npz") as arrays:
        loaded = user_items_of(dict(arrays), len(fitted.bundle.item_ids))
    assert loaded is not None and fitted.bundle.user_items is not None
    assert (loaded != fitted.bundle.user_items).nnz == 0


def test_a_ranker_trained_on_other_columns_falls_back_to_the_baseline(fitted: FittedModel) -> None:
    class Narrow:
        kind = "catboost"
        feature_count = 3

        def score(self, features: np.ndarray) -> np.ndarray:
            return features[:, 0]

    bundle = fitted.bundle
    bundle.ranker = Narrow()
    try:
        assert ranker_of(bundle) is BASELINE
    finally:
        bundle.ranker = None


def test_recent_view_similarity_equals_the_ease_score_of_a_user_known_only_by_it(
    fitted: FittedModel,
) -> None:
    bundle = fitted.bundle
    history = [HistoryItem(f"g1-i{i}", "purchase", 1.0 + i) for i in range(6)]
    view = UserView("stranger", history=history)
    found = generate_set(bundle, view, no_signals, 10.0, 10)
    rows, _ = build_features(bundle, view, found, no_signals, lambda item: None, 10.0)
    assert np.any(rows[:, COLUMN["ease_score"]] != 0)
    assert np.allclose(rows[:, COLUMN["history_similarity"]], rows[:, COLUMN["ease_score"]])


NOW = 100.0


def _view() -> UserView:
    history = [HistoryItem(f"g1-i{i}", "view", 1.0 + i) for i in range(5)]
    return UserView("stranger", history=history)


def _config() -> CandidateConfig:
    return CandidateConfig(trending_items=("g2-i3", "not-in-the-bundle"), rebuy=False)


def test_bundle_and_content_rows_map_to_each_other(fitted: FittedModel) -> None:
    bundle = fitted.bundle
    for content_row, item in enumerate(bundle.content_names):
        assert bundle.item_row_of_content[content_row] == bundle.item_index.get(item, -1)
    for item_row, item in enumerate(bundle.item_names):
        assert bundle.content_row_of_item[item_row] == bundle.content_index.get(item, -1)


def test_a_list_without_rows_looks_them_up_and_marks_unknown_items() -> None:
    class Bundle:
        item_index = {"a": 4, "b": 7}

    found = SourceList.of_source("trending", ["b", "zz", "a"], np.ones(3))
    assert found.with_rows(Bundle()).rows.tolist() == [7, -1, 4]  # type: ignore[arg-type, union-attr]


def test_every_candidate_carries_the_bundle_row_of_its_id(fitted: FittedModel) -> None:
    bundle = fitted.bundle
    found = generate_set(bundle, _view(), no_signals, NOW, 40, config=_config())
    assert found.rows is not None and len(found) > 10
    assert found.rows.tolist() == [bundle.item_index.get(item, -1) for item in found.ids]
    assert "not-in-the-bundle" in found.ids
    taken = found.take(np.array([3, 0, 2]))
    assert taken.rows is not None
    assert taken.rows.tolist() == [bundle.item_index.get(item, -1) for item in taken.ids]


def test_features_from_carried_rows_equal_features_from_ids(fitted: FittedModel) -> None:
    bundle, view = fitted.bundle, _view()
    found = generate_set(bundle, view, no_signals, NOW, 40, config=_config())
    meta = fitted.meta.get
    by_rows, _ = build_features(bundle, view, found, no_signals, meta, NOW)
    by_ids, _ = build_features(bundle, view, replace(found, rows=None), no_signals, meta, NOW)
    assert np.array_equal(by_rows, by_ids)


def test_features_from_values_already_read_equal_features_from_lookups(
    fitted: FittedModel,
) -> None:
    bundle, view = fitted.bundle, _view()
    found = generate_set(bundle, view, no_signals, NOW, 40, config=_config())
    signals = {found.ids[0]: ItemSignals(found.ids[0], views_24h=3, last_event_at=NOW - 60)}
    meta: dict[str, ItemMeta] = dict(fitted.meta)
    columns = item_columns(
        found.ids, [meta.get(i) for i in found.ids], list(map(signals.get, found.ids))
    )
    looked_up = (columns.values, columns.categories)
    plain, _ = build_features(bundle, view, found, signals.get, meta.get, NOW)
    given, _ = build_features(bundle, view, found, signals.get, meta.get, NOW, looked_up=looked_up)
    assert np.array_equal(plain, given, equal_nan=True)


SET_RELATIVE = ("ease_rank", "als_rank", "ease_z", "als_z", "ease_als_blend")


def test_candidates_past_the_trained_count_leave_the_best_ones_features_as_in_training(
    fitted: FittedModel,
) -> None:
    trained = {**fitted.bundle.manifest.get("parameters", {}), "ranker_candidates": 10}
    bundle = replace(fitted.bundle, manifest={**fitted.bundle.manifest, "parameters": trained})
    view, meta = _view(), fitted.meta.get
    found = generate_set(bundle, view, no_signals, NOW, 40, config=_config())
    assert len(found) > 20
    whole, _ = build_features(bundle, view, found, no_signals, meta, NOW)
    best, _ = build_features(bundle, view, found.head(10), no_signals, meta, NOW)
    columns = [COLUMN[name] for name in SET_RELATIVE]
    assert np.array_equal(whole[:10][:, columns], best[:, columns])
    later_ranks = whole[10:, COLUMN["ease_rank"]]
    assert later_ranks.min() >= 0 and later_ranks.max() <= 10
    unbounded, _ = build_features(fitted.bundle, view, found, no_signals, meta, NOW)
    assert unbounded[:, COLUMN["ease_rank"]].max() > 10  # 50 trained: ranks run past 10
