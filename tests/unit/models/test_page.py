"""Pages built on the sweep's item values, checked against the live catalog; compiled trees."""

from __future__ import annotations

import random

import numpy as np
from catboost import CatBoost, Pool

from models.oblivious import NATIVE_WORK, compile_catboost, scorer_of
from models.pools import build_pools
from models.rankers import CatBoostRanker
from models.rules import Filters, allowed_mask
from models.serving import PageQuery, hydrate, recommend
from models.types import Candidate, ItemMeta, ItemSignals, UserView
from tests.unit.models.reference import apply_filters

NOW = 1_700_000_000.0
CATALOG = {
    f"i{n}": ItemMeta(f"i{n}", f"Item {n}", "abcde"[n % 5], in_stock=n % 7 != 3) for n in range(40)
}
SIGNALS = {i: ItemSignals(i, events_all=400 - n * 10) for n, i in enumerate(CATALOG)}


def _page(meta: dict[str, ItemMeta], exclude: frozenset[str] = frozenset()) -> list[str]:
    pools = build_pools(CATALOG.values(), SIGNALS.get, 50)
    ctx = hydrate(
        None,
        UserView("u"),
        SIGNALS.get,
        meta.get,
        now=NOW,
        rng=random.Random(2),
        query=PageQuery(10, exclude),
        pools=pools,
    )
    return [r.item_id for r in recommend(ctx)]


def test_column_filters_keep_what_the_object_filters_keep() -> None:
    ids = [*CATALOG, "gone"]
    consumed = frozenset({"i1", "i8"})  # what the consumption policy rules out, as exclusions
    for filters in (Filters(), Filters(exclude={"i2"}, category="c"), Filters(exclude=consumed)):
        known = np.array([i in CATALOG for i in ids])
        stock = np.array([float(CATALOG[i].in_stock) if i in CATALOG else 1.0 for i in ids])
        categories = [CATALOG[i].category if i in CATALOG else "" for i in ids]
        mask = allowed_mask(ids, known, stock, categories, filters)
        kept = apply_filters([Candidate(i, "als", 1.0) for i in ids], CATALOG.get, filters)
        assert [i for i, keep in zip(ids, mask.tolist(), strict=True) if keep] == [
            c.item_id for c in kept
        ]


def test_an_item_deleted_or_sold_out_since_the_sweep_never_shows() -> None:
    first = _page(CATALOG)
    changed = dict(CATALOG)
    del changed[first[0]]
    changed[first[1]] = ItemMeta(first[1], "Sold out", "a", in_stock=False)
    later = _page(changed)
    assert len(later) == 10
    assert first[0] not in later and first[1] not in later


def test_an_item_added_since_the_sweep_is_judged_on_its_live_row() -> None:
    added = {**CATALOG, "new": ItemMeta("new", "New", "z")}
    page = _page(added, exclude=frozenset({"i0"}))
    assert "i0" not in page and len(page) == 10


def _ranker(nan_mode: str) -> CatBoostRanker:
    rng = np.random.default_rng(4)
    features = rng.normal(size=(400, 6))
    features[rng.random(features.shape) < 0.1] = np.nan
    labels = (np.nan_to_num(features[:, 0]) + features[:, 1] > 0).astype(float)
    params = {"loss_function": "YetiRank", "iterations": 15, "depth": 4, "verbose": False}
    model = CatBoost({**params, "nan_mode": nan_mode, "allow_writing_files": False})
    model.fit(Pool(features, label=labels, group_id=np.repeat(np.arange(40), 10)))
    return CatBoostRanker(model)


def test_compiled_trees_score_exactly_as_catboost_with_missing_values() -> None:
    rows = np.random.default_rng(5).normal(size=(300, 6))
    rows[::7, 2] = np.nan
    for nan_mode in ("Min", "Max"):
        ranker = _ranker(nan_mode)
        assert compile_catboost(ranker) is not None
        assert np.array_equal(scorer_of(ranker)(rows), ranker.score(rows))


def test_large_matrices_are_scored_by_catboost_itself_small_ones_by_the_trees() -> None:
    class Counting(CatBoostRanker):
        calls = 0

        def score(self, features: np.ndarray) -> np.ndarray:
            Counting.calls += 1
            return super().score(features)

    ranker = Counting(_ranker("Min").model)
    scorer = scorer_of(ranker)
    rows_of_work = NATIVE_WORK // (15 * 4)  # 15 trees of depth 4
    small = np.random.default_rng(6).normal(size=(rows_of_work - 1, 6))
    large = np.random.default_rng(7).normal(size=(rows_of_work + 1, 6))
    before = Counting.calls
    small_scores = scorer(small)
    assert Counting.calls == before
    large_scores = scorer(large)
    assert Counting.calls == before + 1
    assert np.array_equal(small_scores, ranker.score(small))
    assert np.array_equal(large_scores, ranker.score(large))


def test_too_few_columns_fall_back_to_catboost_and_its_error() -> None:
    ranker = _ranker("Min")
    narrow = np.zeros((3, 2))
    try:
        scorer_of(ranker)(narrow)
    except Exception as error:  # CatBoost's own complaint about the feature count
        assert "feature" in str(error).lower()
    else:
        raise AssertionError("a matrix narrower than the model must not be scored")
